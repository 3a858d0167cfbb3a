// Sign-in by link (PureMessage's default end-user login): a one-time token mailed on request
// (only its hash is stored; used once; expires after httpd.login_link_seconds), or the signed
// token of a digest's release link, which names its recipient.
#include <fmt/format.h>
#include <unistd.h>

#include <climits>

#include "digest/compose.hpp"
#include "digest/link_token.hpp"
#include "queue/submit.hpp"
#include "secret/crypto.hpp"
#include "store/database.hpp"
#include "util/text.hpp"
#include "web/groups_store.hpp"
#include "web/rate_limit.hpp"
#include "web/session.hpp"
#include "web/session_store.hpp"

namespace pmx::web {

namespace {

constexpr const char* kBadLink = "This sign-in link is not valid: it was used already or has expired";
constexpr const char* kTooMany = "Too many attempts: try again in a few minutes";
constexpr std::size_t kMaxTokenLength = 512;
constexpr int kMaxOpenLinksPerAddress = 5;  // unused links kept per address; older ones stop working

LoginOutcome outcome(int status, std::string message) {
    LoginOutcome o;
    o.http_status = status;
    o.message = std::move(message);
    return o;
}

std::string host_name() {
    char buf[HOST_NAME_MAX + 1] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
    return buf;
}

std::string link_sender(const config::Snapshot& cfg) {
    if (const auto& f = cfg.string("httpd.login_link_from"); !f.empty()) return f;
    if (const auto& f = cfg.string("digest.from"); !f.empty()) return f;
    return "postmaster@" + host_name();
}

// Whether pmx knows the address: it has a web account, or mail in the quarantine.
Result<bool> known_address(store::Database& db, std::string_view address) {
    auto user = web_user_hash(db, address);
    if (!user) return user.error();
    if (user->has_value()) return true;
    // The quarantine keeps recipients as the MTA gave them: compare lower case.
    auto s = db.prepare("SELECT 1 FROM quarantine_recipient WHERE recipient = ? OR lower(recipient) = ? LIMIT 1");
    if (!s) return s.error();
    s->bind(1, address).bind(2, address);
    auto row = s->step();
    if (!row) return row.error();
    return *row;
}

Result<LoginOutcome> session_for(const Environment& env, store::Database& db, std::string_view address,
                                 std::string_view client_ip) {
    auto who = user_principal_in(db, address);
    if (!who) return who.error();
    auto session =
        create_session(db, session_settings(*env.config), Realm::User, std::move(*who), client_ip, store::now_us());
    if (!session) return session.error();
    LoginOutcome o;
    o.session = std::move(*session);
    o.message = "Signed in";
    return o;
}

std::string link_message(std::string_view from, std::string_view to, std::string_view url, std::int64_t minutes,
                         std::int64_t now) {
    auto unique = secret::random_bytes(12);
    const std::string id = unique ? secret::hex(*unique) : std::to_string(now);
    return fmt::format(
        "From: {from}\r\n"
        "To: {to}\r\n"
        "Subject: Your sign-in link\r\n"
        "Date: {date}\r\n"
        "Message-ID: <pmx-login.{id}@{host}>\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n"
        "Someone (you, we hope) asked to sign in to the mail quarantine as {to}.\r\n"
        "Open this link within {minutes} minutes to sign in:\r\n"
        "\r\n"
        "{url}\r\n"
        "\r\n"
        "The link works once. If you did not ask for it, ignore this message.\r\n",
        fmt::arg("from", from), fmt::arg("to", to), fmt::arg("date", digest::rfc5322_date(now)),
        fmt::arg("id", id), fmt::arg("host", host_name()), fmt::arg("minutes", minutes), fmt::arg("url", url));
}

}  // namespace

LoginOutcome login_with_token(const Environment& env, std::string_view token, std::string_view client_ip) {
    const std::string ip_key = client_limit_key("ip", client_ip);
    auto* limiter = env.limiter.get();
    if (limiter && !limiter->allowed(ip_key)) return outcome(429, kTooMany);
    auto refuse = [&] {
        if (limiter) limiter->failed(ip_key);
        return outcome(401, kBadLink);
    };
    token = trim(token);
    if (token.empty() || token.size() > kMaxTokenLength) return refuse();
    auto db = env.open_database();
    if (!db) return outcome(500, fmt::format("Sign-in is not available: {}", db.error().message));
    const auto now = store::now_us();

    if (token.find('.') != std::string_view::npos) {
        // A digest link: signed, names its recipient; valid until it expires (it releases one
        // message to that recipient, and signs them in to see the rest).
        if (!env.keyring || env.keyring->empty()) return refuse();
        auto claim = digest::check_link_token(*env.keyring, token, now);
        if (!claim) return refuse();
        auto address = normalize_address(claim->recipient);
        if (!address) return refuse();
        auto o = session_for(env, *db, *address, client_ip);
        if (!o) return outcome(500, fmt::format("Sign-in is not available: {}", o.error().message));
        return std::move(*o);
    }

    // A one-time link: marked used in the same statement that finds it, so two requests with
    // the same token cannot both win.
    auto s = db->prepare(
        "UPDATE web_login_tokens SET used_us = ? WHERE token_hash = ? AND used_us IS NULL AND expires_us > ? "
        "RETURNING address");
    if (!s) return outcome(500, fmt::format("Sign-in is not available: {}", s.error().message));
    s->bind(1, now).bind(2, secret_hash(token)).bind(3, now);
    auto row = s->step();
    if (!row) return outcome(500, fmt::format("Sign-in is not available: {}", row.error().message));
    if (!*row) return refuse();
    const std::string address = s->text(0);
    if (auto done = s->run(); !done) return outcome(500, fmt::format("Sign-in is not available: {}", done.error().message));
    auto o = session_for(env, *db, address, client_ip);
    if (!o) return outcome(500, fmt::format("Sign-in is not available: {}", o.error().message));
    return std::move(*o);
}

LoginOutcome request_login_link(const Environment& env, std::string_view address, std::string_view base_url,
                                std::string_view client_ip) {
    auto a = normalize_address(address);
    if (!a || !digest::header_safe_address(*a)) return outcome(400, "Please enter a mail address (user@example.org)");
    // Every request counts (the mail goes out whether the link is used or not): at most
    // httpd.login_max_failures links per address and per client in the window.
    // Keys of their own: asking for links must not lock a client out of signing in with one.
    const std::string ip_key = client_limit_key("link-ip", client_ip);
    const std::string link_key = "link:" + *a;
    if (auto* limiter = env.limiter.get()) {
        if (!limiter->allowed(ip_key) || !limiter->allowed(link_key)) return outcome(429, kTooMany);
        limiter->failed(ip_key);
        limiter->failed(link_key);
    }
    const auto& cfg = *env.config;
    const std::int64_t valid_s = cfg.integer("httpd.login_link_seconds");
    LoginOutcome sent = outcome(200, fmt::format("If {} receives mail here, a sign-in link is on its way to it. "
                                                 "The link works once, within {} minutes.",
                                                 *a, valid_s / 60));
    auto db = env.open_database();
    if (!db) return outcome(500, fmt::format("Failed to send a sign-in link: {}", db.error().message));
    auto known = known_address(*db, *a);
    if (!known) return outcome(500, fmt::format("Failed to send a sign-in link: {}", known.error().message));
    if (!*known) return sent;  // the same reply: nobody learns which addresses pmx knows

    auto token = random_secret();
    if (!token) return outcome(500, fmt::format("Failed to send a sign-in link: {}", token.error().message));
    const auto now = store::now_us();
    {
        auto tx = db->transaction();
        if (!tx) return outcome(500, fmt::format("Failed to send a sign-in link: {}", tx.error().message));
        auto purge = purge_expired(*db, session_settings(cfg), now);
        auto ins = db->prepare(
            "INSERT INTO web_login_tokens (token_hash, address, created_us, expires_us) VALUES (?, ?, ?, ?)");
        auto trim_old = db->prepare(
            "DELETE FROM web_login_tokens WHERE address = ? AND used_us IS NULL AND token_hash NOT IN "
            "(SELECT token_hash FROM web_login_tokens WHERE address = ? AND used_us IS NULL "
            "ORDER BY created_us DESC LIMIT ?)");
        Result<void> ok = purge;
        if (ok && !ins) ok = ins.error();
        if (ok && !trim_old) ok = trim_old.error();
        if (ok) ok = ins->bind(1, secret_hash(*token)).bind(2, *a).bind(3, now).bind(4, now + valid_s * 1000000).run();
        if (ok) ok = trim_old->bind(1, *a).bind(2, *a).bind(3, kMaxOpenLinksPerAddress).run();
        if (ok) ok = tx->commit();
        if (!ok) return outcome(500, fmt::format("Failed to send a sign-in link: {}", ok.error().message));
    }
    std::string base(base_url);
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string url = base + "/login?token=" + *token;
    const std::string from = link_sender(cfg);
    queue::Envelope envelope{from, {*a}, "notification", fmt::format("sign-in link for {}", *a)};
    auto id = queue::submit(queue::spool_directory(cfg), envelope, link_message(from, *a, url, valid_s / 60, now));
    if (!id) return outcome(500, fmt::format("Failed to send a sign-in link: {}", id.error().message));
    return sent;
}

}  // namespace pmx::web
