#include "secret/token.hpp"

#include <fmt/format.h>

#include <charconv>
#include <vector>

#include "secret/crypto.hpp"

namespace pmx::secret {

namespace {

constexpr std::size_t max_token_bytes = 4096;  // tokens arrive in URLs and mail: a cap before any work

std::string mac_for(const Key& key, std::string_view purpose, std::string_view signed_part) {
    return base64url(hmac_sha256(Keyring::derive(key, purpose), signed_part));
}

}  // namespace

std::string sign_token(const Keyring& keyring, std::string_view purpose, std::string_view payload,
                       std::int64_t expires_us) {
    const Key& key = keyring.signing_key();
    auto signed_part = fmt::format("{}.{}.{}", key.id, expires_us / 1000000, base64url(payload));
    return signed_part + "." + mac_for(key, purpose, signed_part);
}

Result<VerifiedToken> verify_token(const Keyring& keyring, std::string_view purpose, std::string_view token,
                                   std::int64_t now_us, TokenProblem* problem) {
    auto report = [&](TokenProblem p, std::string_view why) {
        if (problem) *problem = p;
        return Error{std::string(why)};
    };
    if (problem) *problem = TokenProblem::None;
    auto malformed = [&] { return report(TokenProblem::Malformed, "The token is malformed"); };
    if (token.size() > max_token_bytes) return malformed();
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        auto dot = token.find('.', start);
        parts.push_back(token.substr(start, dot == std::string_view::npos ? dot : dot - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    if (parts.size() != 4) return malformed();
    std::int64_t expires_s = 0;
    auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), expires_s);
    if (ec != std::errc() || end != parts[1].data() + parts[1].size()) return malformed();
    auto payload = base64url_decode(parts[2]);
    if (!payload) return malformed();

    // The MAC is checked before anything the token says is believed (expiry included).
    const Key* key = keyring.find(parts[0]);
    auto signed_part = token.substr(0, static_cast<std::size_t>(parts[3].data() - token.data()) - 1);
    if (!key || !constant_time_equal(mac_for(*key, purpose, signed_part), parts[3]))
        return report(TokenProblem::NotOurs, "The token is not signed by this site (or its key was retired)");
    std::int64_t expires_us = expires_s * 1000000;
    if (now_us >= expires_us) return report(TokenProblem::Expired, "The token has expired");
    return VerifiedToken{std::move(*payload), expires_us};
}

}  // namespace pmx::secret
