// Sending a copy of a quarantined message to another address (an admin looking at it, a
// postmaster), through pmx-queued. Unlike release it changes nothing about the message: it
// stays held for its recipients. The copy is in the spool first, then the action is recorded.
#pragma once

#include <cstdint>
#include <string>

#include "quarantine/release.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::quarantine {

struct ForwardRequest {
    std::int64_t id = 0;
    std::string to{};     // one address
    std::string actor{};  // for the audit log
};

// The spool entry id. Errors: no such message, a bad address, the spool or the database failing.
Result<std::string> forward(store::Database& db, const Places& places, const ForwardRequest& request);

}  // namespace pmx::quarantine
