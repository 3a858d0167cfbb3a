// Digest state in the database (migration 5): which held entries each recipient's digests
// listed already, when the last digest went out, and who opted out.
//
// A recipient's pending entries are the quarantine entries still held for them (not
// released), quarantined at or after a cutoff (digest.max_age_days: the first digest after
// install, or after opting back in, does not list months of old mail), and not listed in an
// earlier digest. mark_listed() records them in the same transaction that updates the
// recipient's last digest time, after the digest was handed to the queue: a crash in between
// sends the same entries twice, never skips one.
//
// Addresses are compared lowercased; the quarantine keeps them as the MTA gave them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::store {

struct DigestEntry {
    std::int64_t id = 0;           // quarantine id
    std::string recipient{};       // as stored in quarantine_recipient
    std::int64_t time_us = 0;
    std::string sender{};
    std::string subject{};
    std::string reason{};
    std::optional<double> score{};
};

struct PendingRecipient {
    std::string address;  // lowercased
    std::int64_t entries = 0;
};

// Recipients with pending entries, opted-out ones left out, in address order. only: just this
// address (lowercased here). Entries quarantined before since_us are not pending.
Result<std::vector<PendingRecipient>> digest_pending_recipients(Database& db, std::int64_t since_us,
                                                                std::optional<std::string_view> only = {});

// One recipient's pending entries, newest first, at most limit of them.
Result<std::vector<DigestEntry>> digest_pending_entries(Database& db, std::string_view address,
                                                        std::int64_t since_us, int limit);

// Records that a digest sent at digest_us listed these entries (and, for a digest that had to
// leave some out, the rest: pass them too, so they are not carried into every later digest),
// and the recipient's last digest time and count. One transaction.
Result<void> digest_mark_listed(Database& db, std::string_view address, std::span<const DigestEntry> entries,
                                std::int64_t listed_count, std::int64_t digest_us);

struct DigestRecipientState {
    std::string address{};
    std::int64_t last_digest_us = 0;  // 0: never
    std::int64_t last_entries = 0;
    bool opted_out = false;
    std::int64_t changed_us = 0;
};

// nullopt: nothing recorded for the address (never sent a digest, never opted out).
Result<std::optional<DigestRecipientState>> digest_recipient_state(Database& db, std::string_view address);

// Sets or clears the opt-out. false: it already was so (nothing changed).
Result<bool> digest_set_opt_out(Database& db, std::string_view address, bool opted_out, std::int64_t now_us);

// Every opted-out address, in address order.
Result<std::vector<DigestRecipientState>> digest_opt_outs(Database& db);

}  // namespace pmx::store
