// What one delivery attempt means for an entry: per recipient delivered, failed for good (5xx)
// or still pending (4xx, no connection, timeout); then sent, failed, or deferred with a backoff
// that doubles from queue.retry_min_seconds up to queue.retry_max_seconds, until
// queue.max_attempts or queue.max_age_seconds give up. Pure logic, no I/O: unit-tested.
#pragma once

#include <cstdint>
#include <string>

#include "queue/spool.hpp"
#include "smtp/client.hpp"

namespace pmx::config { class Snapshot; }

namespace pmx::queue {

struct RetryPolicy {
    std::int64_t min_us = 300'000'000;
    std::int64_t max_us = 4 * 3600 * 1'000'000LL;
    std::int64_t max_attempts = 30;
    std::int64_t max_age_us = 5 * 86400 * 1'000'000LL;
};

RetryPolicy retry_policy(const config::Snapshot& snapshot);

// The wait after the n-th failed attempt (n >= 1): min * 2^(n-1), at most max.
std::int64_t backoff_us(const RetryPolicy& p, std::int64_t failed_attempts);

struct Outcome {
    State next = State::Deferred;       // Sent, Failed or Deferred
    std::int64_t next_attempt_us = 0;   // Deferred: when to try again
    std::size_t delivered = 0;          // recipients delivered by this attempt
    std::size_t failed = 0;             // recipients failed for good by this attempt (incl. given up)
    std::size_t deferred = 0;           // recipients left pending
    bool gave_up = false;               // attempts or age exhausted
};

// Applies the result of delivering to attempted (the entry's pending recipients, in the order
// they were sent) and decides where the entry goes. Updates attempts, times, per-recipient
// replies and last_error.
Outcome apply_result(Entry& e, const std::vector<std::string>& attempted, const smtp::Result& result,
                     const RetryPolicy& policy, std::int64_t now_us);

// A reply as one line for the log and the spool ("451 4.3.0 try later"; code 0: the text).
std::string describe(const smtp::Reply& r);

}  // namespace pmx::queue
