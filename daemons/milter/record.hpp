// What the milter writes down: quarantine copies and the message log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "contexts.hpp"
#include "judge.hpp"
#include "util/result.hpp"

namespace pmx::milter {

// Stores the whole message once, for every recipient with a quarantine reason
// (file fsync'd, then the index row in one transaction). Returns the quarantine id.
Result<std::int64_t> quarantine_message(const Runtime& rt, MessageContext& m, const Judgement& j);

// One message-log row; a failure is logged and never changes the verdict.
void record_message(const Runtime& rt, const MessageContext& m, const Judgement& j,
                    std::optional<std::int64_t> quarantine_id);

}  // namespace pmx::milter
