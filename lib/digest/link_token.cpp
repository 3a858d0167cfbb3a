#include "digest/link_token.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "secret/token.hpp"
#include "util/text.hpp"

namespace pmx::digest {

namespace {

bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
}

bool all_of(std::string_view s, bool (*pred)(char)) { return !s.empty() && std::all_of(s.begin(), s.end(), pred); }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_b64url(char c) { return is_token_char(c) && c != '.'; }

// <8 hex>.<1-12 digits>.<base64url>.<43 base64url (an HMAC-SHA256)>
bool token_shaped(std::string_view run) {
    std::string_view part[4];
    for (int i = 0; i < 4; ++i) {
        auto dot = run.find('.');
        if ((i < 3) == (dot == std::string_view::npos)) return false;
        part[i] = run.substr(0, dot);
        run = i < 3 ? run.substr(dot + 1) : std::string_view();
    }
    return part[0].size() == 8 && all_of(part[0], is_hex) && part[1].size() <= 12 && all_of(part[1], is_digit) &&
           all_of(part[2], is_b64url) && part[3].size() == 43 && all_of(part[3], is_b64url);
}

}  // namespace

std::string make_link_token(const secret::Keyring& keyring, std::int64_t quarantine_id, std::string_view recipient,
                            std::int64_t expires_us) {
    return secret::sign_token(keyring, link_token_purpose,
                              fmt::format("r1 {} {}", quarantine_id, ascii_lower(recipient)), expires_us);
}

Result<LinkClaim> check_link_token(const secret::Keyring& keyring, std::string_view token, std::int64_t now_us) {
    auto v = secret::verify_token(keyring, link_token_purpose, token, now_us);
    if (!v) return v.error();
    // Signed by us, so well formed unless a future format: still checked, never trusted blindly.
    std::string_view p = v->payload;
    const auto bad = Error{"Invalid release token: malformed"};
    if (p.substr(0, 3) != "r1 ") return bad;
    p.remove_prefix(3);
    auto sp = p.find(' ');
    if (sp == std::string_view::npos) return bad;
    LinkClaim c;
    auto idtext = p.substr(0, sp);
    auto [end, ec] = std::from_chars(idtext.data(), idtext.data() + idtext.size(), c.quarantine_id);
    if (ec != std::errc() || end != idtext.data() + idtext.size() || c.quarantine_id <= 0) return bad;
    c.recipient = std::string(p.substr(sp + 1));
    if (c.recipient.empty() || c.recipient.find('@') == std::string::npos) return bad;
    c.expires_us = v->expires_us;
    return c;
}

std::vector<std::string> find_link_tokens(std::string_view text, std::size_t max) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size() && out.size() < max) {
        while (i < text.size() && !is_token_char(text[i])) ++i;
        auto start = i;
        while (i < text.size() && is_token_char(text[i])) ++i;
        auto run = text.substr(start, i - start);
        while (!run.empty() && run.back() == '.') run.remove_suffix(1);  // end of a sentence
        while (!run.empty() && run.front() == '.') run.remove_prefix(1);
        if (run.size() < 56 || run.size() > 1024 || !token_shaped(run)) continue;
        if (std::find(out.begin(), out.end(), run) == out.end()) out.emplace_back(run);
    }
    return out;
}

}  // namespace pmx::digest
