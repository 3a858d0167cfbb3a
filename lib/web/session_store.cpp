// Sessions in the database: the cookie value is a random 256-bit id, of which only the SHA-256
// is stored; each row is bound to its realm and ends after an idle time or an absolute one.
#include "web/session_store.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>

#include "secret/crypto.hpp"
#include "web/environment.hpp"

namespace pmx::web {

using store::Database;

namespace {

std::optional<Realm> parse_realm(std::string_view r) {
    if (r == "admin") return Realm::Admin;
    if (r == "user") return Realm::User;
    return std::nullopt;
}

// Cookie values we hand out are exactly 43 base64url characters: anything else is not ours,
// and is refused before it reaches the database.
bool plausible_id(std::string_view v) {
    if (v.size() != 43) return false;
    for (char c : v) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) return false;
    }
    return true;
}

Result<void> run(Database& db, std::string_view sql, auto&&... binds) {
    auto s = db.prepare(sql);
    if (!s) return s.error();
    int i = 1;
    (s->bind(i++, binds), ...);
    return s->run();
}

}  // namespace

std::string client_limit_key(std::string_view prefix, std::string_view client_ip) {
    std::string key(prefix);
    key += ':';
    in6_addr a6{};
    const std::string ip(client_ip.substr(0, 64));
    if (ip.find(':') != std::string::npos && inet_pton(AF_INET6, ip.c_str(), &a6) == 1 &&
        !IN6_IS_ADDR_V4MAPPED(&a6)) {
        std::memset(a6.s6_addr + 8, 0, 8);
        char buf[INET6_ADDRSTRLEN] = {};
        inet_ntop(AF_INET6, &a6, buf, sizeof buf);
        return key + buf + "/64";
    }
    return key + ip;
}

SessionSettings session_settings(const config::Snapshot& snapshot) {
    SessionSettings s;
    s.idle_us = snapshot.integer("httpd.session_idle_seconds") * 1000000;
    s.max_us = snapshot.integer("httpd.session_max_seconds") * 1000000;
    s.admin_group = snapshot.string("httpd.admin_group");
    return s;
}

std::string secret_hash(std::string_view secret) {
    auto d = secret::sha256(secret);
    return secret::hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

Result<std::string> random_secret() {
    auto bytes = secret::random_bytes(32);
    if (!bytes) return bytes.error();
    return secret::base64url(*bytes);
}

Result<void> purge_expired(Database& db, const SessionSettings& settings, std::int64_t now_us) {
    if (auto r = run(db, "DELETE FROM web_sessions WHERE expires_us <= ? OR last_used_us <= ?", now_us,
                     now_us - settings.idle_us);
        !r)
        return r.error();
    // Used tokens stay until they expire: a second use must find them (and be refused).
    return run(db, "DELETE FROM web_login_tokens WHERE expires_us <= ?", now_us);
}

Result<Session> create_session(Database& db, const SessionSettings& settings, Realm realm, Principal who,
                               std::string_view client_ip, std::int64_t now_us) {
    auto id = random_secret();
    if (!id) return id.error();
    auto csrf = random_secret();
    if (!csrf) return csrf.error();
    const std::int64_t absolute = now_us + settings.max_us;
    auto tx = db.transaction();
    if (!tx) return tx.error();
    if (auto p = purge_expired(db, settings, now_us); !p) return p.error();
    if (auto r = run(db,
                     "INSERT INTO web_sessions (id_hash, csrf, realm, principal, kind, client_ip, created_us, "
                     "last_used_us, expires_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     secret_hash(*id), *csrf, realm_name(realm), who.name, kind_name(who.kind),
                     client_ip.substr(0, 64), now_us, now_us, absolute);
        !r)
        return r.error();
    // A principal signing in over and over (a script) keeps its newest sessions only.
    if (auto r = run(db,
                     "DELETE FROM web_sessions WHERE principal = ? AND realm = ? AND id_hash NOT IN "
                     "(SELECT id_hash FROM web_sessions WHERE principal = ? AND realm = ? "
                     "ORDER BY last_used_us DESC, created_us DESC LIMIT ?)",
                     who.name, realm_name(realm), who.name, realm_name(realm), kMaxSessionsPerPrincipal);
        !r)
        return r.error();
    if (auto c = tx->commit(); !c) return c.error();
    Session s;
    s.id = std::move(*id);
    s.csrf = std::move(*csrf);
    s.realm = realm;
    s.who = std::move(who);
    s.expires_us = std::min(absolute, now_us + settings.idle_us);
    return s;
}

Result<std::optional<Session>> find_session_in(Database& db, const SessionSettings& settings, Realm realm,
                                               std::string_view cookie_value, std::int64_t now_us) {
    if (!plausible_id(cookie_value)) return std::optional<Session>();
    const std::string hash = secret_hash(cookie_value);
    auto s = db.prepare("SELECT csrf, realm, principal, last_used_us, expires_us FROM web_sessions WHERE id_hash = ?");
    if (!s) return s.error();
    s->bind(1, hash);
    auto row = s->step();
    if (!row) return row.error();
    if (!*row) return std::optional<Session>();
    Session out;
    out.id = std::string(cookie_value);
    out.csrf = s->text(0);
    const auto stored_realm = parse_realm(s->text(1));
    const std::string principal = s->text(2);
    const std::int64_t last_used = s->int64(3), absolute = s->int64(4);
    s->reset();
    // A session is valid in its own realm only: a user cookie never opens the admin interface.
    if (!stored_realm || *stored_realm != realm) return std::optional<Session>();
    if (now_us >= absolute || now_us >= last_used + settings.idle_us) {
        if (auto d = run(db, "DELETE FROM web_sessions WHERE id_hash = ?", hash); !d) return d.error();
        return std::optional<Session>();
    }
    auto who = resolve_principal(db, realm, principal, settings.admin_group);
    if (!who) return who.error();
    if (!*who) {  // no longer allowed here (left the admin group, removed from every group)
        if (auto d = run(db, "DELETE FROM web_sessions WHERE id_hash = ?", hash); !d) return d.error();
        return std::optional<Session>();
    }
    // Restart the idle time; a write per request is not needed, one every few seconds is enough.
    if (now_us - last_used >= 5 * 1000000LL)
        if (auto u = run(db, "UPDATE web_sessions SET last_used_us = ? WHERE id_hash = ?", now_us, hash); !u)
            return u.error();
    out.realm = realm;
    out.who = std::move(**who);
    out.expires_us = std::min(absolute, std::max(now_us, last_used) + settings.idle_us);
    return std::optional<Session>(std::move(out));
}

Result<bool> end_session_in(Database& db, std::string_view cookie_value) {
    if (!plausible_id(cookie_value)) return false;
    if (auto r = run(db, "DELETE FROM web_sessions WHERE id_hash = ?", secret_hash(cookie_value)); !r) return r.error();
    return db.changes() > 0;
}

Result<std::vector<SessionInfo>> list_sessions(Database& db, const SessionSettings& settings, std::int64_t now_us) {
    auto s = db.prepare(
        "SELECT id_hash, realm, principal, kind, client_ip, created_us, last_used_us, expires_us FROM web_sessions "
        "WHERE expires_us > ? AND last_used_us > ? ORDER BY last_used_us DESC, principal");
    if (!s) return s.error();
    s->bind(1, now_us).bind(2, now_us - settings.idle_us);
    std::vector<SessionInfo> out;
    for (;;) {
        auto row = s->step();
        if (!row) return row.error();
        if (!*row) break;
        SessionInfo i;
        i.handle = s->text(0).substr(0, 16);
        i.realm = parse_realm(s->text(1)).value_or(Realm::User);
        i.principal = s->text(2);
        i.kind = s->text(3);
        i.client_ip = s->text(4);
        i.created_us = s->int64(5);
        i.last_used_us = s->int64(6);
        i.expires_us = std::min(s->int64(7), i.last_used_us + settings.idle_us);
        out.push_back(std::move(i));
    }
    return out;
}

Result<std::int64_t> revoke_session(Database& db, std::string_view handle_prefix) {
    if (handle_prefix.size() < 8 || handle_prefix.size() > 64 ||
        handle_prefix.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        return Error{fmt::format("\"{}\" is not a session id (8 to 64 lower-case hex digits, from pmx web session list)",
                                 handle_prefix)};
    // Prefix match without LIKE: the range [prefix, prefix + "g") holds exactly the hex strings starting with it.
    if (auto r = run(db, "DELETE FROM web_sessions WHERE id_hash >= ? AND id_hash < ?", handle_prefix,
                     std::string(handle_prefix) + "g");
        !r)
        return r.error();
    return db.changes();
}

Result<std::int64_t> revoke_sessions_of(Database& db, std::string_view principal) {
    if (auto r = run(db, "DELETE FROM web_sessions WHERE principal = ?", principal); !r) return r.error();
    return db.changes();
}

Result<std::int64_t> revoke_all_sessions(Database& db) {
    if (auto r = db.exec("DELETE FROM web_sessions"); !r) return r.error();
    return db.changes();
}

// ---- the functions of web/session.hpp that only need the table -------------------------------

Result<std::optional<Session>> find_session(const Environment& env, Realm realm, std::string_view cookie_value) {
    if (!plausible_id(cookie_value)) return std::optional<Session>();
    auto db = env.open_database();
    if (!db) return db.error();
    return find_session_in(*db, session_settings(*env.config), realm, cookie_value, store::now_us());
}

Result<void> end_session(const Environment& env, std::string_view cookie_value) {
    if (!plausible_id(cookie_value)) return {};
    auto db = env.open_database();
    if (!db) return db.error();
    auto r = end_session_in(*db, cookie_value);
    if (!r) return r.error();
    return {};
}

}  // namespace pmx::web
