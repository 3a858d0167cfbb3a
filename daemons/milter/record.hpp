// What the milter writes down: quarantine copies and the message log.
#pragma once

#include <string>

#include "contexts.hpp"
#include "policy/decision.hpp"
#include "util/result.hpp"

namespace pmx::milter {

// Stores the whole message once for every recipient with a quarantine reason
// (file fsync'd, then the index row in one transaction).
Result<void> quarantine_message(const Runtime& rt, MessageContext& m, const policy::Decision& d);

// One message-log row; failures are logged, never change the verdict.
void record_message(const Runtime& rt, const MessageContext& m, const policy::Decision& d, const std::string& overall);

}  // namespace pmx::milter
