#include "digest/builder.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <ctime>

#include "config/loader.hpp"
#include "digest/compose.hpp"
#include "digest/link_token.hpp"
#include "secret/crypto.hpp"

namespace pmx::digest {

namespace {

constexpr std::int64_t day_us = 86400LL * 1000000;

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
    std::string h = buf;
    for (char c : h)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) return "localhost";
    return h;
}

std::string utc_minutes(std::int64_t time_us) {
    std::time_t t = static_cast<std::time_t>(time_us / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min);
}

// The digest's subject: {count} and {recipient} replaced, one clean line.
std::string subject_line(std::string_view tmpl, std::int64_t count, std::string_view recipient) {
    Values v{{"count", std::to_string(count)}, {"recipient", std::string(recipient)}};
    return display_line(render_template(tmpl, v), 200);
}

std::string crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
        out += text[i];
    }
    return out;
}

}  // namespace

Settings settings_from(const config::Snapshot& s) {
    Settings o;
    o.host = host_name();
    o.from = s.string("digest.from");
    if (o.from.empty()) o.from = "postmaster@" + o.host;
    o.reply_to = s.string("digest.reply_to");
    o.link_base_url = s.string("digest.link_base_url");
    o.link_valid_us = s.integer("digest.link_valid_days") * day_us;
    o.subject = s.string("digest.subject");
    o.max_entries = static_cast<int>(s.integer("digest.max_entries"));
    o.max_age_us = s.integer("digest.max_age_days") * day_us;
    o.max_reply_bytes = static_cast<std::size_t>(s.integer("digest.max_reply_bytes"));
    return o;
}

Result<Built> build(const Settings& settings, const Templates& templates, const secret::Keyring& keyring,
                    const Input& in) {
    if (!header_safe_address(in.recipient))
        return Error{fmt::format("Failed to build a digest for \"{}\": not an address a header can carry",
                                 display_line(in.recipient, 100))};
    if (!header_safe_address(settings.from))
        return Error{fmt::format("Invalid digest.from \"{}\": not a plain address", display_line(settings.from, 100))};
    if (!settings.reply_to.empty() && !header_safe_address(settings.reply_to))
        return Error{fmt::format("Invalid digest.reply_to \"{}\": not a plain address",
                                 display_line(settings.reply_to, 100))};
    std::string unique = in.unique;
    if (unique.empty()) {
        auto r = secret::random_bytes(12);
        if (!r) return r.error();
        unique = secret::base64url(*r);
    }

    Built out;
    const auto expires = in.now_us + settings.link_valid_us;
    const auto omitted = in.total_new - static_cast<std::int64_t>(in.entries.size());
    std::string text_entries, html_entries;
    for (const auto& e : in.entries) {
        auto token = make_link_token(keyring, e.id, in.recipient, expires);
        const std::string link = settings.link_base_url.empty() ? "" : settings.link_base_url + token;
        const std::string code = settings.link_base_url.empty() ? token : "";
        const std::string sender = e.sender.empty() ? "<>" : display_line(e.sender, 120);
        const std::string subject = e.subject.empty() ? "(no subject)" : display_line(e.subject, 160);
        const std::string score = e.score ? fmt::format("{:.1f}", *e.score) : "-";
        Values t{{"id", std::to_string(e.id)}, {"time", utc_minutes(e.time_us)}, {"sender", sender},
                 {"subject", subject}, {"reason", display_line(e.reason, 80)}, {"score", score},
                 {"link", link}, {"code", code}};
        Values h;
        for (const auto& [k, v] : t) h.emplace(k, html_escape(v));
        text_entries += render_template(templates.text_entry, t);
        html_entries += render_template(templates.html_entry, h);
        out.tokens.push_back(std::move(token));
    }
    Values page{{"recipient", in.recipient}, {"count", std::to_string(in.total_new)},
                {"listed", std::to_string(in.entries.size())}, {"omitted", omitted > 0 ? std::to_string(omitted) : ""},
                {"reply_to", settings.reply_to}, {"valid_days", std::to_string(settings.link_valid_us / day_us)},
                {"date", utc_minutes(in.now_us)}};
    Values page_html;
    for (const auto& [k, v] : page) page_html.emplace(k, html_escape(v));
    page.emplace("entries", text_entries);
    page_html.emplace("entries", html_entries);
    const std::string text = render_template(templates.text, page);
    const std::string html = render_template(templates.html, page_html);

    out.subject = subject_line(settings.subject, in.total_new, in.recipient);
    out.message_id = fmt::format("<digest.{}.{}@{}>", in.now_us / 1000000, unique, settings.host);
    const std::string boundary = "=_pmx-digest-" + unique;  // "=_" never occurs in quoted-printable text

    std::string m;
    m += "Date: " + rfc5322_date(in.now_us) + "\r\n";
    m += "From: " + settings.from + "\r\n";
    m += "To: " + in.recipient + "\r\n";
    if (!settings.reply_to.empty()) m += "Reply-To: " + settings.reply_to + "\r\n";
    m += "Subject: " + encode_header_text(out.subject) + "\r\n";
    m += "Message-ID: " + out.message_id + "\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Auto-Submitted: auto-generated\r\n";
    m += "X-Auto-Response-Suppress: All\r\n";
    m += "X-PMX-Digest: " + std::to_string(in.entries.size()) + "\r\n";
    m += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
    m += "\r\n";
    m += "This is a MIME message: a digest of quarantined mail in text and HTML.\r\n";
    m += "\r\n--" + boundary + "\r\n";
    m += "Content-Type: text/plain; charset=utf-8\r\n";
    m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    m += quoted_printable(crlf(text));
    m += "\r\n--" + boundary + "\r\n";
    m += "Content-Type: text/html; charset=utf-8\r\n";
    m += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    m += quoted_printable(crlf(html));
    m += "\r\n--" + boundary + "--\r\n";
    out.message = std::move(m);
    return out;
}

}  // namespace pmx::digest
