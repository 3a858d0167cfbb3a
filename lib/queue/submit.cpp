#include "queue/submit.hpp"

#include "config/loader.hpp"
#include "queue/spool.hpp"
#include "util/paths.hpp"

namespace pmx::queue {

namespace {
constexpr std::string_view kSystemSpool = "/var/spool/pmx";
}

std::filesystem::path spool_directory(const config::Snapshot& snapshot) {
    const std::string& configured = snapshot.string("queue.spool_dir");
    // A user manager (pmx --user, the tests, the demo) cannot write /var/spool: there the
    // default means a spool beside the rest of the state.
    if (configured == kSystemSpool && state_directory() != "/var/lib/pmx") return state_directory() / "spool";
    return state_path(configured);
}

Result<std::string> submit(const std::filesystem::path& spool_dir, const Envelope& envelope, std::string_view message) {
    return Spool(spool_dir).add(envelope, message, {}, now_realtime_us());
}

Result<std::string> submit_file(const std::filesystem::path& spool_dir, const Envelope& envelope,
                                const std::filesystem::path& message_file) {
    return Spool(spool_dir).add(envelope, std::nullopt, message_file, now_realtime_us());
}

}  // namespace pmx::queue
