// How pmx-milter uses pmx-avd (the av.enabled, av.socket, av.timeout_ms and av.on_failure keys).
#pragma once

#include <filesystem>

#include "av/client.hpp"
#include "config/loader.hpp"

namespace pmx::av {

enum class OnFailure { Tempfail, Accept, Reject };

struct MilterSettings {
    bool enabled = false;
    std::filesystem::path socket;  // resolved like the daemon resolves it (relative: under /run/pmx)
    Timeout timeout{60000};
    OnFailure on_failure = OnFailure::Tempfail;
};

MilterSettings milter_settings(const config::Snapshot& s);

}  // namespace pmx::av
