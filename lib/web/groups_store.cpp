#include "web/groups_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "store/lists_store.hpp"
#include "util/text.hpp"
#include "web/pam_login.hpp"

namespace pmx::web {

using store::Database;

namespace {

bool domain_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

// Collects every row of a one-column text query.
Result<std::vector<std::string>> texts(store::Statement& stmt) {
    std::vector<std::string> out;
    for (;;) {
        auto row = stmt.step();
        if (!row) return row.error();
        if (!*row) return out;
        out.push_back(stmt.text(0));
    }
}

}  // namespace

Result<std::string> normalize_address(std::string_view address) {
    auto a = store::normalize_owner(address);
    if (!a) return a.error();
    const auto at = a->rfind('@');
    bool bad = a->empty() || a->size() > 254 || at == 0 || at == std::string::npos ||
               a->find_first_of(",;\"\\()[]:") != std::string::npos;
    if (!bad)
        for (char c : a->substr(at + 1))
            if (!domain_char(c)) bad = true;
    if (bad) return Error{fmt::format("\"{}\" is not a mail address (user@domain)", address)};
    return *a;
}

Result<std::string> normalize_pattern(std::string_view pattern) {
    auto p = trim(pattern);
    if (!p.empty() && p.front() == '@') {
        std::string domain = ascii_lower(p.substr(1));
        bool bad = domain.empty() || domain.size() > 253 || domain.front() == '.' || domain.back() == '.';
        for (char c : domain)
            if (!domain_char(c)) bad = true;
        if (bad) return Error{fmt::format("\"{}\" is not a pattern (user@domain or @domain)", pattern)};
        return "@" + domain;
    }
    auto a = normalize_address(p);
    if (!a) return Error{fmt::format("\"{}\" is not a pattern (user@domain or @domain)", pattern)};
    return *a;
}

Result<std::string> normalize_member(std::string_view member) {
    auto m = trim(member);
    if (m.find('@') != std::string_view::npos) return normalize_address(m);
    if (!plausible_account_name(m))
        return Error{fmt::format("\"{}\" is neither a system account name nor a mail address", member)};
    return std::string(m);
}

Result<std::string> check_group_name(std::string_view name) {
    bool bad = name.empty() || name.size() > 64 || name.front() == ' ' || name.back() == ' ';
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-' || c == ' ';
        if (!ok) bad = true;
    }
    if (bad) return Error{fmt::format("\"{}\" is not a group name (1-64 letters, digits, '.', '_', '-', blanks)", name)};
    return std::string(name);
}

// ---- groups --------------------------------------------------------------------------------

namespace {

Result<void> load_group_parts(Database& db, Group& g) {
    auto m = db.prepare("SELECT member FROM web_group_members WHERE group_name = ? ORDER BY member");
    if (!m) return m.error();
    m->bind(1, g.name);
    auto members = texts(*m);
    if (!members) return members.error();
    g.members = std::move(*members);
    auto i = db.prepare("SELECT pattern, rights FROM web_group_items WHERE group_name = ? ORDER BY pattern");
    if (!i) return i.error();
    i->bind(1, g.name);
    for (;;) {
        auto row = i->step();
        if (!row) return row.error();
        if (!*row) break;
        g.items.push_back({i->text(0), static_cast<Rights>(i->int64(1)) & kAllRights});
    }
    return {};
}

}  // namespace

Result<std::vector<Group>> list_groups(Database& db) {
    auto s = db.prepare("SELECT name FROM web_groups ORDER BY name");
    if (!s) return s.error();
    auto names = texts(*s);
    if (!names) return names.error();
    std::vector<Group> out;
    for (auto& n : *names) {
        Group g;
        g.name = std::move(n);
        if (auto ok = load_group_parts(db, g); !ok) return ok.error();
        out.push_back(std::move(g));
    }
    return out;
}

Result<std::optional<Group>> find_group(Database& db, std::string_view name) {
    auto s = db.prepare("SELECT name FROM web_groups WHERE name = ?");
    if (!s) return s.error();
    s->bind(1, name);
    auto row = s->step();
    if (!row) return row.error();
    if (!*row) return std::optional<Group>();
    Group g;
    g.name = s->text(0);
    if (auto ok = load_group_parts(db, g); !ok) return ok.error();
    return std::optional<Group>(std::move(g));
}

Result<void> save_group(Database& db, const Group& group) {
    auto name = check_group_name(group.name);
    if (!name) return name.error();
    if (group.members.size() > kMaxGroupEntries || group.items.size() > kMaxGroupEntries)
        return Error{fmt::format("Group {} is too large: at most {} members and {} items", *name, kMaxGroupEntries,
                                 kMaxGroupEntries)};
    std::set<std::string> members;
    for (const auto& m : group.members) {
        auto n = normalize_member(m);
        if (!n) return n.error();
        members.insert(*n);
    }
    std::map<std::string, Rights> items;
    for (const auto& it : group.items) {
        auto p = normalize_pattern(it.pattern);
        if (!p) return p.error();
        if ((it.rights & kAllRights) == 0 || (it.rights & ~kAllRights) != 0)
            return Error{fmt::format("Item {} of group {} needs one or more rights (quarantine, lists, reports, policy)",
                                     *p, *name)};
        items[*p] |= it.rights;
    }
    const auto now = store::now_us();
    auto tx = db.transaction();
    if (!tx) return tx.error();
    auto up = db.prepare(
        "INSERT INTO web_groups (name, created_us, updated_us) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET updated_us = excluded.updated_us");
    if (!up) return up.error();
    if (auto r = up->bind(1, *name).bind(2, now).bind(3, now).run(); !r) return r.error();
    for (const char* sql : {"DELETE FROM web_group_members WHERE group_name = ?",
                            "DELETE FROM web_group_items WHERE group_name = ?"}) {
        auto d = db.prepare(sql);
        if (!d) return d.error();
        if (auto r = d->bind(1, *name).run(); !r) return r.error();
    }
    auto im = db.prepare("INSERT INTO web_group_members (group_name, member) VALUES (?, ?)");
    if (!im) return im.error();
    for (const auto& m : members) {
        im->reset();
        if (auto r = im->bind(1, *name).bind(2, m).run(); !r) return r.error();
    }
    auto ii = db.prepare("INSERT INTO web_group_items (group_name, pattern, rights) VALUES (?, ?, ?)");
    if (!ii) return ii.error();
    for (const auto& [p, r] : items) {
        ii->reset();
        if (auto ok = ii->bind(1, *name).bind(2, p).bind(3, static_cast<std::int64_t>(r)).run(); !ok) return ok.error();
    }
    return tx->commit();
}

Result<bool> delete_group(Database& db, std::string_view name) {
    auto tx = db.transaction();
    if (!tx) return tx.error();
    // Members and items go by ON DELETE CASCADE; said again for a backend without foreign keys.
    for (const char* sql : {"DELETE FROM web_group_members WHERE group_name = ?",
                            "DELETE FROM web_group_items WHERE group_name = ?"}) {
        auto d = db.prepare(sql);
        if (!d) return d.error();
        if (auto r = d->bind(1, name).run(); !r) return r.error();
    }
    auto d = db.prepare("DELETE FROM web_groups WHERE name = ?");
    if (!d) return d.error();
    if (auto r = d->bind(1, name).run(); !r) return r.error();
    const bool deleted = db.changes() > 0;
    if (auto c = tx->commit(); !c) return c.error();
    return deleted;
}

Result<bool> is_group_member(Database& db, std::string_view member) {
    auto s = db.prepare("SELECT 1 FROM web_group_members WHERE member = ? LIMIT 1");
    if (!s) return s.error();
    s->bind(1, member);
    auto row = s->step();
    if (!row) return row.error();
    return *row;
}

Result<std::vector<ScopeItem>> member_scope(Database& db, std::string_view member) {
    auto s = db.prepare(
        "SELECT i.pattern, i.rights FROM web_group_items i "
        "JOIN web_group_members m ON m.group_name = i.group_name WHERE m.member = ? ORDER BY i.pattern");
    if (!s) return s.error();
    s->bind(1, member);
    std::vector<ScopeItem> out;
    for (;;) {
        auto row = s->step();
        if (!row) return row.error();
        if (!*row) break;
        std::string p = s->text(0);
        Rights r = static_cast<Rights>(s->int64(1)) & kAllRights;
        if (!out.empty() && out.back().pattern == p)
            out.back().rights |= r;
        else
            out.push_back({std::move(p), r});
    }
    return out;
}

// ---- web users -----------------------------------------------------------------------------

Result<std::vector<WebUser>> list_web_users(Database& db) {
    auto s = db.prepare("SELECT address, password_hash <> '', created_us, updated_us FROM web_users ORDER BY address");
    if (!s) return s.error();
    std::vector<WebUser> out;
    for (;;) {
        auto row = s->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({s->text(0), s->int64(1) != 0, s->int64(2), s->int64(3)});
    }
    return out;
}

Result<std::optional<std::string>> web_user_hash(Database& db, std::string_view address) {
    auto s = db.prepare("SELECT password_hash FROM web_users WHERE address = ?");
    if (!s) return s.error();
    s->bind(1, address);
    auto row = s->step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(s->text(0));
}

Result<bool> set_web_user(Database& db, std::string_view address, std::string_view password_hash) {
    auto a = normalize_address(address);
    if (!a) return a.error();
    const auto now = store::now_us();
    auto tx = db.transaction();
    if (!tx) return tx.error();
    auto existing = web_user_hash(db, *a);
    if (!existing) return existing.error();
    auto s = db.prepare(
        "INSERT INTO web_users (address, password_hash, created_us, updated_us) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (address) DO UPDATE SET password_hash = excluded.password_hash, updated_us = excluded.updated_us");
    if (!s) return s.error();
    if (auto r = s->bind(1, *a).bind(2, password_hash).bind(3, now).bind(4, now).run(); !r) return r.error();
    if (auto c = tx->commit(); !c) return c.error();
    return !existing->has_value();
}

Result<bool> delete_web_user(Database& db, std::string_view address) {
    auto tx = db.transaction();
    if (!tx) return tx.error();
    auto d = db.prepare("DELETE FROM web_users WHERE address = ?");
    if (!d) return d.error();
    if (auto r = d->bind(1, address).run(); !r) return r.error();
    const bool deleted = db.changes() > 0;
    for (const char* sql : {"DELETE FROM web_sessions WHERE principal = ?",
                            "DELETE FROM web_login_tokens WHERE address = ?"}) {
        auto s = db.prepare(sql);
        if (!s) return s.error();
        if (auto r = s->bind(1, address).run(); !r) return r.error();
    }
    if (auto c = tx->commit(); !c) return c.error();
    return deleted;
}

// ---- delegations ---------------------------------------------------------------------------

Result<std::vector<Delegation>> list_delegations(Database& db, std::optional<std::string_view> address) {
    std::string sql = "SELECT owner, delegate, created_us FROM web_delegations";
    if (address) sql += " WHERE owner = ? OR delegate = ?";
    sql += " ORDER BY owner, delegate";
    auto s = db.prepare(sql);
    if (!s) return s.error();
    if (address) s->bind(1, *address).bind(2, *address);
    std::vector<Delegation> out;
    for (;;) {
        auto row = s->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({s->text(0), s->text(1), s->int64(2)});
    }
    return out;
}

Result<bool> add_delegation(Database& db, std::string_view owner, std::string_view delegate) {
    auto o = normalize_address(owner);
    if (!o) return o.error();
    auto d = normalize_address(delegate);
    if (!d) return d.error();
    if (*o == *d) return Error{fmt::format("{} cannot be delegated to itself", *o)};
    auto s = db.prepare("INSERT INTO web_delegations (owner, delegate, created_us) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
    if (!s) return s.error();
    if (auto r = s->bind(1, *o).bind(2, *d).bind(3, store::now_us()).run(); !r) return r.error();
    return db.changes() > 0;
}

Result<bool> remove_delegation(Database& db, std::string_view owner, std::string_view delegate) {
    auto s = db.prepare("DELETE FROM web_delegations WHERE owner = ? AND delegate = ?");
    if (!s) return s.error();
    if (auto r = s->bind(1, ascii_lower(trim(owner))).bind(2, ascii_lower(trim(delegate))).run(); !r) return r.error();
    return db.changes() > 0;
}

Result<std::vector<std::string>> delegated_to(Database& db, std::string_view delegate) {
    auto s = db.prepare("SELECT owner FROM web_delegations WHERE delegate = ? ORDER BY owner");
    if (!s) return s.error();
    s->bind(1, delegate);
    return texts(*s);
}

}  // namespace pmx::web
