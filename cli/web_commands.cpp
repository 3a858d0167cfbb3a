// pmx web user|group|delegate|session: the accounts of pmx-httpd's web interfaces, from a shell.
// End users' own passwords (web_users), the Groups interface (groups of system accounts or
// addresses, each item a pattern with rights), delegations, and the live sessions. The same
// tables and rules as the RPC methods groups.* / web_users.* / delegations.* (lib/web).
#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "config/loader.hpp"
#include "output.hpp"
#include "store/store_config.hpp"
#include "web/groups_store.hpp"
#include "web/password.hpp"
#include "web/session_store.hpp"

namespace pmx::cli {

namespace {

using Json = nlohmann::json;

store::Database open_db() {
    auto db = store::open_configured_database();
    if (!db) throw CommandError(db.error().message);
    return std::move(*db);
}

void print_json(const Json& j) { fmt::print("{}\n", j.dump(1, ' ', false, Json::error_handler_t::replace)); }

std::string date(std::int64_t us) { return format_timestamp_usec(static_cast<unsigned long long>(us)); }

std::string address_arg(const std::string& text) {
    auto a = web::normalize_address(text);
    if (!a) throw CommandError(a.error().message, 2);
    return *a;
}

// ---- passwords -------------------------------------------------------------------------------

// One line from fd, without its line end; capped (a password is at most 1024 bytes).
std::optional<std::string> read_line(int fd) {
    std::string line;
    char c;
    for (;;) {
        ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return line.empty() ? std::nullopt : std::optional<std::string>(line);
        if (c == '\n') break;
        if (line.size() > web::kMaxPasswordLength) continue;  // too long: reported by the rules
        line.push_back(c);
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

std::string prompt_password(const std::string& prompt) {
    FILE* tty = std::fopen("/dev/tty", "r+");
    if (!tty || !isatty(fileno(tty))) {
        if (tty) std::fclose(tty);
        throw CommandError("No terminal to ask for the password: give it with --password-stdin", 2);
    }
    const int fd = fileno(tty);
    termios old{};
    tcgetattr(fd, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    std::fputs(prompt.c_str(), tty);
    std::fflush(tty);
    tcsetattr(fd, TCSAFLUSH, &quiet);
    auto line = read_line(fd);
    tcsetattr(fd, TCSAFLUSH, &old);
    std::fclose(tty);
    if (!line) throw CommandError("No password given");
    return *line;
}

std::string new_password(bool from_stdin, const std::string& address) {
    std::string pw;
    if (from_stdin) {
        auto line = read_line(STDIN_FILENO);
        if (!line) throw CommandError("--password-stdin: nothing on stdin", 2);
        pw = *line;
    } else {
        pw = prompt_password(fmt::format("New password for {}: ", address));
        if (auto ok = web::check_password_rules(pw); !ok) throw CommandError(ok.error().message, 2);
        if (prompt_password("Again: ") != pw) throw CommandError("The passwords differ; nothing changed", 2);
    }
    if (auto ok = web::check_password_rules(pw); !ok) throw CommandError(ok.error().message, 2);
    return pw;
}

// ---- pmx web user ----------------------------------------------------------------------------

void user_list(Context& ctx) {
    auto db = open_db();
    auto users = web::list_web_users(db);
    if (!users) throw CommandError(users.error().message);
    if (ctx.json) {
        Json out = Json::array();
        for (const auto& u : *users)
            out.push_back({{"address", u.address}, {"has_password", u.has_password}, {"created_us", u.created_us},
                           {"created", date(u.created_us)}, {"updated_us", u.updated_us}});
        print_json(out);
        return;
    }
    if (users->empty()) {
        if (!ctx.quiet) fmt::print("No web users. Add one with: pmx web user add ADDRESS\n");
        return;
    }
    Table t({"ADDRESS", "PASSWORD", "CREATED", "CHANGED"});
    for (const auto& u : *users)
        t.add({printable(u.address), u.has_password ? "yes" : "no (link only)", date(u.created_us), date(u.updated_us)});
    fmt::print("{}", t.render());
}

void user_set(Context& ctx, const std::string& address_text, bool from_stdin, bool no_password, bool must_be_new) {
    const auto address = address_arg(address_text);
    auto db = open_db();
    auto existing = web::web_user_hash(db, address);
    if (!existing) throw CommandError(existing.error().message);
    if (must_be_new && existing->has_value())
        throw CommandError(fmt::format("{} has a web account already (pmx web user passwd {} changes its password)",
                                       address, address));
    std::string hash;
    if (!no_password) {
        auto h = web::hash_password(new_password(from_stdin, address));
        if (!h) throw CommandError(h.error().message);
        hash = std::move(*h);
    }
    auto created = web::set_web_user(db, address, hash);
    if (!created) throw CommandError(created.error().message);
    if (ctx.json)
        print_json({{"address", address}, {"created", *created}, {"has_password", !hash.empty()}});
    else if (!ctx.quiet)
        fmt::print("{} {}{}.\n", *created ? "Created the web account of" : "Changed the password of", address,
                   hash.empty() ? " (no password: signs in by mailed link)" : "");
}

void user_delete(Context& ctx, const std::string& address_text) {
    const auto address = address_arg(address_text);
    auto db = open_db();
    auto r = web::delete_web_user(db, address);
    if (!r) throw CommandError(r.error().message);
    if (!*r) throw CommandError(fmt::format("No web account of {}", address));
    if (ctx.json) print_json({{"address", address}, {"deleted", true}});
    else if (!ctx.quiet) fmt::print("Deleted the web account of {} and ended its sessions.\n", address);
}

// ---- pmx web group ---------------------------------------------------------------------------

Json group_json(const web::Group& g) {
    Json items = Json::array();
    for (const auto& i : g.items) items.push_back({{"pattern", i.pattern}, {"rights", web::rights_names(i.rights)}});
    return {{"name", g.name}, {"members", g.members}, {"items", std::move(items)}};
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
    return out;
}

void group_list(Context& ctx) {
    auto db = open_db();
    auto groups = web::list_groups(db);
    if (!groups) throw CommandError(groups.error().message);
    if (ctx.json) {
        Json out = Json::array();
        for (const auto& g : *groups) out.push_back(group_json(g));
        print_json(out);
        return;
    }
    if (groups->empty()) {
        if (!ctx.quiet) fmt::print("No groups. Make one with: pmx web group save NAME --member M --item @DOMAIN=quarantine\n");
        return;
    }
    Table t({"GROUP", "MEMBERS", "ITEMS"});
    for (const auto& g : *groups) {
        std::vector<std::string> items;
        for (const auto& i : g.items) items.push_back(i.pattern + "=" + join(web::rights_names(i.rights), ","));
        t.add({printable(g.name), printable(join(g.members, " ")), printable(join(items, " "))});
    }
    fmt::print("{}", t.render());
}

// "@example.org=quarantine,lists"
web::ScopeItem item_arg(const std::string& text) {
    auto eq = text.find('=');
    if (eq == std::string::npos)
        throw CommandError(fmt::format("--item \"{}\": write PATTERN=RIGHT[,RIGHT...], e.g. @example.org=quarantine,lists",
                                       text), 2);
    auto pattern = web::normalize_pattern(text.substr(0, eq));
    if (!pattern) throw CommandError(fmt::format("--item: {}", pattern.error().message), 2);
    std::vector<std::string> names;
    std::string_view rest = std::string_view(text).substr(eq + 1);
    while (!rest.empty()) {
        auto comma = rest.find(',');
        names.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    auto rights = web::parse_rights(names);
    if (!rights || *rights == 0)
        throw CommandError(fmt::format("--item \"{}\": rights are one or more of quarantine, lists, reports, policy", text), 2);
    return {*pattern, *rights};
}

void group_save(Context& ctx, const std::string& name, const std::vector<std::string>& members,
                const std::vector<std::string>& items) {
    if (auto n = web::check_group_name(name); !n) throw CommandError(n.error().message, 2);
    web::Group g;
    g.name = name;
    for (const auto& m : members) {
        auto n = web::normalize_member(m);
        if (!n) throw CommandError(fmt::format("--member: {}", n.error().message), 2);
        g.members.push_back(*n);
    }
    for (const auto& i : items) g.items.push_back(item_arg(i));
    auto db = open_db();
    auto existed = web::find_group(db, name);
    if (!existed) throw CommandError(existed.error().message);
    if (auto r = web::save_group(db, g); !r) throw CommandError(r.error().message);
    auto saved = web::find_group(db, name);
    if (!saved || !saved->has_value()) throw CommandError(fmt::format("Failed to read group {} back", name));
    if (ctx.json) print_json(group_json(**saved));
    else if (!ctx.quiet)
        fmt::print("{} group {}: {} member{}, {} item{}.\n", existed->has_value() ? "Replaced" : "Created", name,
                   (*saved)->members.size(), (*saved)->members.size() == 1 ? "" : "s", (*saved)->items.size(),
                   (*saved)->items.size() == 1 ? "" : "s");
}

void group_delete(Context& ctx, const std::string& name) {
    auto db = open_db();
    auto r = web::delete_group(db, name);
    if (!r) throw CommandError(r.error().message);
    if (!*r) throw CommandError(fmt::format("No group named \"{}\"", name));
    if (ctx.json) print_json({{"name", name}, {"deleted", true}});
    else if (!ctx.quiet) fmt::print("Deleted group {}.\n", name);
}

// ---- pmx web delegate ------------------------------------------------------------------------

void delegate_list(Context& ctx, const std::string& address_text) {
    std::optional<std::string> filter;
    if (!address_text.empty()) filter = address_arg(address_text);
    auto db = open_db();
    auto list = web::list_delegations(db, filter ? std::optional<std::string_view>(*filter) : std::nullopt);
    if (!list) throw CommandError(list.error().message);
    if (ctx.json) {
        Json out = Json::array();
        for (const auto& d : *list)
            out.push_back({{"owner", d.owner}, {"delegate", d.delegate}, {"created_us", d.created_us}});
        print_json(out);
        return;
    }
    if (list->empty()) {
        if (!ctx.quiet) fmt::print("No delegations.\n");
        return;
    }
    Table t({"OWNER", "DELEGATE", "SINCE"});
    for (const auto& d : *list) t.add({printable(d.owner), printable(d.delegate), date(d.created_us)});
    fmt::print("{}", t.render());
}

void delegate_change(Context& ctx, const std::string& owner_text, const std::string& delegate_text, bool add) {
    const auto owner = address_arg(owner_text), delegate = address_arg(delegate_text);
    if (owner == delegate) throw CommandError(fmt::format("{} cannot be delegated to itself", owner), 2);
    auto db = open_db();
    auto r = add ? web::add_delegation(db, owner, delegate) : web::remove_delegation(db, owner, delegate);
    if (!r) throw CommandError(r.error().message);
    if (!add && !*r) throw CommandError(fmt::format("{} is not delegated to {}", owner, delegate));
    if (ctx.json) print_json({{"owner", owner}, {"delegate", delegate}, {add ? "added" : "removed", *r}});
    else if (!ctx.quiet) {
        if (add && *r) fmt::print("{} now sees the quarantine and lists of {}.\n", delegate, owner);
        else if (add) fmt::print("{} already sees the mail of {}.\n", delegate, owner);
        else fmt::print("{} no longer sees the mail of {}.\n", delegate, owner);
    }
}

// ---- pmx web session -------------------------------------------------------------------------

web::SessionSettings configured_session_settings() {
    auto snapshot = config::load(config::Layout::from_environment());
    if (!snapshot) throw CommandError(fmt::format("Configuration is invalid:\n{}", snapshot.error().message));
    return web::session_settings(*snapshot);
}

void session_list(Context& ctx) {
    const auto settings = configured_session_settings();
    auto db = open_db();
    auto list = web::list_sessions(db, settings, store::now_us());
    if (!list) throw CommandError(list.error().message);
    if (ctx.json) {
        Json out = Json::array();
        for (const auto& s : *list)
            out.push_back({{"id", s.handle}, {"realm", web::realm_name(s.realm)}, {"name", s.principal},
                           {"kind", s.kind}, {"client_ip", s.client_ip}, {"created_us", s.created_us},
                           {"last_used_us", s.last_used_us}, {"expires_us", s.expires_us}});
        print_json(out);
        return;
    }
    if (list->empty()) {
        if (!ctx.quiet) fmt::print("No live sessions.\n");
        return;
    }
    Table t({"ID", "REALM", "NAME", "KIND", "CLIENT", "SIGNED IN", "LAST USED", "ENDS"});
    for (const auto& s : *list)
        t.add({s.handle, std::string(web::realm_name(s.realm)), printable(s.principal), s.kind, printable(s.client_ip),
               date(s.created_us), date(s.last_used_us), date(s.expires_us)});
    fmt::print("{}", t.render());
}

void session_revoke(Context& ctx, const std::string& id, const std::string& name, bool all) {
    const int given = !id.empty() + !name.empty() + all;
    if (given != 1) throw CommandError("Name what to end: a session ID (from pmx web session list), --name NAME or --all", 2);
    auto db = open_db();
    Result<std::int64_t> n = std::int64_t{0};
    if (!id.empty()) {
        n = web::revoke_session(db, id);
        if (!n && n.error().message.find("is not a session id") != std::string::npos)
            throw CommandError(n.error().message, 2);
    } else if (!name.empty()) {
        const bool address = name.find('@') != std::string::npos;
        n = web::revoke_sessions_of(db, address ? address_arg(name) : name);
    } else {
        n = web::revoke_all_sessions(db);
    }
    if (!n) throw CommandError(n.error().message);
    if (ctx.json) print_json({{"ended", *n}});
    else if (!ctx.quiet) fmt::print("Ended {} session{}.\n", *n, *n == 1 ? "" : "s");
    if (*n == 0 && !id.empty()) ctx.exit_code = 1;
}

}  // namespace

void add_web_commands(CLI::App& app, Context& ctx) {
    auto* web = app.add_subcommand("web", "Accounts of the web interfaces: end users, groups, delegations, sessions");
    web->require_subcommand(1);

    // pmx web user
    auto* user = web->add_subcommand("user", "End users' web accounts (own password; else they sign in by mailed link)");
    user->require_subcommand(1);
    auto* ulist = user->add_subcommand("list", "List end users with a web account");
    ulist->add_flag("--json", ctx.json, "Print JSON");
    ulist->callback([&ctx] { user_list(ctx); });

    static std::string u_address;
    static bool u_stdin = false, u_nopass = false;
    auto* uadd = user->add_subcommand("add", "Create an end user's web account with a password");
    uadd->add_option("address", u_address, "Mail address")->required();
    uadd->add_flag("--password-stdin", u_stdin, "Read the password from the first line of stdin (else: prompt)");
    uadd->add_flag("--no-password", u_nopass, "No password: the user signs in by mailed link only");
    uadd->add_flag("--json", ctx.json, "Print JSON");
    uadd->callback([&ctx] {
        if (u_stdin && u_nopass) throw CommandError("--password-stdin and --no-password exclude each other", 2);
        user_set(ctx, u_address, u_stdin, u_nopass, true);
    });
    auto* upass = user->add_subcommand("passwd", "Set an end user's password (creating the account when missing)");
    upass->add_option("address", u_address, "Mail address")->required();
    upass->add_flag("--password-stdin", u_stdin, "Read the password from the first line of stdin (else: prompt)");
    upass->add_flag("--json", ctx.json, "Print JSON");
    upass->callback([&ctx] { user_set(ctx, u_address, u_stdin, false, false); });
    auto* udel = user->add_subcommand("delete", "Delete an end user's web account and end its sessions");
    udel->add_option("address", u_address, "Mail address")->required();
    udel->add_flag("--json", ctx.json, "Print JSON");
    udel->callback([&ctx] { user_delete(ctx, u_address); });

    // pmx web group
    auto* group = web->add_subcommand("group", "Groups of the Groups interface: who manages which domains or addresses");
    group->require_subcommand(1);
    auto* glist = group->add_subcommand("list", "List groups with their members and items");
    glist->add_flag("--json", ctx.json, "Print JSON");
    glist->callback([&ctx] { group_list(ctx); });
    static std::string g_name;
    static std::vector<std::string> g_members, g_items;
    auto* gsave = group->add_subcommand("save", "Create or replace a group");
    gsave->add_option("name", g_name, "Group name")->required();
    gsave->add_option("--member", g_members, "A member: system account name or mail address (repeatable)");
    gsave->add_option("--item", g_items,
                      "PATTERN=RIGHT[,RIGHT...]: user@domain or @domain with quarantine, lists, reports, policy (repeatable)");
    gsave->add_flag("--json", ctx.json, "Print JSON");
    gsave->callback([&ctx] { group_save(ctx, g_name, g_members, g_items); });
    auto* gdel = group->add_subcommand("delete", "Delete a group");
    gdel->add_option("name", g_name, "Group name")->required();
    gdel->add_flag("--json", ctx.json, "Print JSON");
    gdel->callback([&ctx] { group_delete(ctx, g_name); });

    // pmx web delegate
    auto* del = web->add_subcommand("delegate", "Delegations: one user sees and manages another's quarantine and lists");
    del->require_subcommand(1);
    static std::string d_owner, d_delegate, d_filter;
    auto* dlist = del->add_subcommand("list", "List delegations (all, or where ADDRESS is owner or delegate)");
    dlist->add_option("address", d_filter, "Only delegations of this address");
    dlist->add_flag("--json", ctx.json, "Print JSON");
    dlist->callback([&ctx] { delegate_list(ctx, d_filter); });
    auto* dadd = del->add_subcommand("add", "Let DELEGATE see and manage OWNER's quarantine and lists");
    dadd->add_option("owner", d_owner, "Whose mail")->required();
    dadd->add_option("delegate", d_delegate, "Who may see it")->required();
    dadd->add_flag("--json", ctx.json, "Print JSON");
    dadd->callback([&ctx] { delegate_change(ctx, d_owner, d_delegate, true); });
    auto* drem = del->add_subcommand("remove", "Remove a delegation");
    drem->add_option("owner", d_owner, "Whose mail")->required();
    drem->add_option("delegate", d_delegate, "Who saw it")->required();
    drem->add_flag("--json", ctx.json, "Print JSON");
    drem->callback([&ctx] { delegate_change(ctx, d_owner, d_delegate, false); });

    // pmx web session
    auto* session = web->add_subcommand("session", "Live sessions of the web interfaces");
    session->require_subcommand(1);
    auto* slist = session->add_subcommand("list", "List live sessions (ids are the first digits of the stored hash)");
    slist->add_flag("--json", ctx.json, "Print JSON");
    slist->callback([&ctx] { session_list(ctx); });
    static std::string s_id, s_name;
    static bool s_all = false;
    auto* srev = session->add_subcommand("revoke", "End a session, all of one account's, or all");
    srev->add_option("id", s_id, "Session id from pmx web session list (8 or more hex digits)");
    srev->add_option("--name", s_name, "End every session of this account name or address");
    srev->add_flag("--all", s_all, "End every session");
    srev->add_flag("--json", ctx.json, "Print JSON");
    srev->callback([&ctx] { session_revoke(ctx, s_id, s_name, s_all); });
}

}  // namespace pmx::cli
