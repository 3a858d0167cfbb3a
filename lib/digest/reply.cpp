#include "digest/reply.hpp"

#include <algorithm>

#include "digest/link_token.hpp"
#include "mail/mime.hpp"
#include "util/text.hpp"

namespace pmx::digest {

std::string header_address(std::string_view value) {
    auto v = trim(value);
    if (auto lt = v.rfind('<'); lt != std::string_view::npos) {
        auto gt = v.find('>', lt);
        if (gt == std::string_view::npos) return "";
        return ascii_lower(trim(v.substr(lt + 1, gt - lt - 1)));
    }
    // a@b (Name), or a bare address, or the first of a list
    auto end = v.find_first_of(" \t(,");
    auto a = trim(v.substr(0, end));
    if (a.find('@') == std::string_view::npos) return "";
    return ascii_lower(a);
}

ReplyScan scan_reply(std::string_view raw, const std::string* envelope_sender, std::size_t max_tokens) {
    ReplyScan r;
    mail::ParseLimits limits;
    limits.max_parts = 100;
    limits.max_depth = 10;
    limits.max_text_bytes = 1 << 20;
    const auto msg = mail::parse_message(raw, limits);
    if (const auto* h = msg.header("From")) r.from = header_address(h->value);
    if (const auto* h = msg.header("Message-ID")) r.message_id = std::string(trim(h->raw));
    r.subject = msg.subject;

    if (envelope_sender && (envelope_sender->empty() || *envelope_sender == "<>" ||
                            ascii_lower(*envelope_sender) == "mailer-daemon")) {  // Postfix pipe's ${sender} for <>
        r.ignored = "null sender (a bounce or delivery report)";
    } else if (const auto* h = msg.header("Auto-Submitted"); h && ascii_lower(trim(h->value)) != "no") {
        r.ignored = "Auto-Submitted: " + std::string(trim(h->value)) + " (an automatic reply)";
    } else if (const auto* ct = msg.header("Content-Type");
               ct && ascii_lower(ct->value).find("multipart/report") != std::string::npos) {
        r.ignored = "a delivery or disposition report";
    } else if (const auto* p = msg.header("Precedence");
               p && (ascii_lower(trim(p->value)) == "bulk" || ascii_lower(trim(p->value)) == "junk" ||
                     ascii_lower(trim(p->value)) == "auto_reply")) {
        r.ignored = "Precedence: " + std::string(trim(p->value)) + " (an automatic reply)";
    }
    if (!r.ignored.empty()) return r;

    auto add = [&](std::string_view text) {
        if (r.tokens.size() >= max_tokens) return;
        for (auto& t : find_link_tokens(text, max_tokens - r.tokens.size()))
            if (std::find(r.tokens.begin(), r.tokens.end(), t) == r.tokens.end()) r.tokens.push_back(std::move(t));
    };
    for (const auto* h : msg.headers_named("X-PMX-Release")) add(h->value);
    add(msg.subject);
    add(msg.text);
    add(msg.html);
    if (r.tokens.empty()) r.ignored = "no release codes or links in it";
    return r;
}

}  // namespace pmx::digest
