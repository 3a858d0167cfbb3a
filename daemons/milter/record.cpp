#include "record.hpp"

#include "daemon/log.hpp"

namespace pmx::milter {

Result<void> quarantine_message(const Runtime&, MessageContext&, const policy::Decision&) {
    return Error{"the quarantine store is not connected yet"};
}

void record_message(const Runtime&, const MessageContext& m, const policy::Decision& d, const std::string& overall) {
    log::info("Message {} from <{}> to {} recipient(s): {}", m.envelope.queue_id, m.envelope.sender,
              d.recipients.size(), overall.empty() ? "judged" : overall);
}

}  // namespace pmx::milter
