// One recipient's digest: a MIME multipart/alternative message (text and HTML, UTF-8,
// quoted-printable) listing each newly held message with its release link or code.
//
// Data from quarantined mail (sender, subject, reason) is made one clean line and, in the
// HTML part, HTML-escaped; the subject line of the digest itself is RFC 2047 encoded when
// not plain ASCII. The message is marked Auto-Submitted (RFC 3834) so that vacation
// responders do not answer it, and its Reply-To is the address `pmx quarantine
// digest-reply` reads: replying with the listing quoted releases what the reply still holds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "digest/templates.hpp"
#include "secret/keyring.hpp"
#include "store/digest_store.hpp"
#include "util/result.hpp"

namespace pmx::config { class Snapshot; }

namespace pmx::digest {

struct Settings {
    std::string from;           // digest.from (never empty: a default is filled in)
    std::string reply_to;       // "" : release by reply is off
    std::string link_base_url;  // "" : release codes only
    std::int64_t link_valid_us = 14LL * 86400 * 1000000;
    std::string subject = "Quarantine digest: {count} new held message(s)";
    int max_entries = 100;
    std::int64_t max_age_us = 7LL * 86400 * 1000000;
    std::size_t max_reply_bytes = 1 << 20;
    std::string host = "localhost";  // right side of Message-IDs
};

// From the digest.* keys (and the host name for the defaults).
Settings settings_from(const config::Snapshot& snapshot);

struct Input {
    std::string recipient;                   // lowercased address
    std::vector<store::DigestEntry> entries; // what to list (newest first), at most max_entries
    std::int64_t total_new = 0;              // pending in all; > entries.size(): the rest is counted only
    std::int64_t now_us = 0;
    std::string unique{};                    // for Message-ID and boundary; "" = random
};

struct Built {
    std::string message;  // CRLF line ends
    std::string message_id;  // with <>
    std::string subject;     // decoded
    std::vector<std::string> tokens;  // one per listed entry, in order
};

// Errors: the recipient is no address that can stand in a header, no random bytes.
Result<Built> build(const Settings& settings, const Templates& templates, const secret::Keyring& keyring,
                    const Input& input);

}  // namespace pmx::digest
