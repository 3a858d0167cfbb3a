// One delivery of one entry, run on a worker thread: read the message, stamp it, hand it to
// the relay (smtp::deliver), record the result per recipient and write the entry into its next
// state (sent, deferred or failed). The entry stays locked from claim to the end.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/loader.hpp"
#include "queue/retry.hpp"
#include "queue/spool.hpp"
#include "secret/keyring.hpp"
#include "util/result.hpp"

namespace pmx::queued {

struct JobSettings {
    std::string relay;
    std::string helo_name;
    std::int64_t connect_timeout_ms = 30000;
    std::int64_t command_timeout_ms = 300000;
    std::int64_t stamp_validity_us = 3600'000'000;
    std::int64_t sent_keep_us = 86400'000'000;
    queue::RetryPolicy policy{};
};

JobSettings job_settings(const config::Snapshot& snapshot);

struct JobResult {
    std::string id;
    std::string kind;
    std::string reference;
    queue::State next = queue::State::Deferred;  // where the entry is now
    std::int64_t next_attempt_us = 0;            // Deferred: when
    queue::Outcome outcome{};
    std::int64_t attempts = 0;
    std::size_t recipients = 0;
    std::string detail;   // last error, or the relay's final reply
    std::string problem;  // an error of pmx-queued itself (I/O, damaged entry); empty when none
};

JobResult run_delivery(const queue::Spool& spool, queue::EntryFile file, const JobSettings& settings,
                       std::shared_ptr<const secret::Keyring> keyring, const std::string& keyring_problem);

}  // namespace pmx::queued
