// Reading a reply to a digest: who sent it and which release tokens it carries.
//
// Tokens are looked for in the reply's text (quoted lines included: replying with the digest
// quoted, and deleting the entries one wants to keep held, is how release by reply works), in
// its HTML (links keep the token in their href), in its Subject and in X-PMX-Release headers
// (for scripts). Mail that only looks like a reply is not acted on: bounces and delivery
// reports (null sender, multipart/report), and anything Auto-Submitted (vacation notices
// quote the digest too).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pmx::digest {

struct ReplyScan {
    std::string from;                  // the From header's address, lowercased; "" when none
    std::string subject;               // decoded, for the log
    std::string message_id;
    std::vector<std::string> tokens;   // distinct, in order found, at most max_tokens
    std::string ignored;               // not "": why this message must not release anything
};

// envelope_sender: as the MTA gave it ("" = the null sender); nullptr when not known.
ReplyScan scan_reply(std::string_view raw, const std::string* envelope_sender, std::size_t max_tokens);

// The address in a From-style header value: "Name <a@b>" or "a@b (Name)" or "a@b", lowercased;
// "" when there is none. For one address; the first of a list.
std::string header_address(std::string_view value);

}  // namespace pmx::digest
