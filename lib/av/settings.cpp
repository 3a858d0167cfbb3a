#include "av/settings.hpp"

#include "daemon/daemon.hpp"

namespace pmx::av {

MilterSettings milter_settings(const config::Snapshot& s) {
    MilterSettings m;
    m.enabled = s.boolean("av.enabled");
    m.socket = daemon::Daemon::runtime_path(s.string("av.socket"));
    m.timeout = Timeout{s.integer("av.timeout_ms")};
    const std::string& f = s.string("av.on_failure");
    m.on_failure = f == "accept" ? OnFailure::Accept : f == "reject" ? OnFailure::Reject : OnFailure::Tempfail;
    return m;
}

}  // namespace pmx::av
