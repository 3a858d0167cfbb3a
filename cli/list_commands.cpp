// pmx list show|add|remove|import|export: the allow/block lists in the database, global or
// per user (--user ADDR). A running milter applies changes from its next message: no reload.
#include <fmt/format.h>

#include <cstdio>
#include <optional>
#include <string>

#include "commands.hpp"
#include "output.hpp"
#include "store/lists_store.hpp"
#include "store/store_config.hpp"
#include "util/atomic_file.hpp"

namespace pmx::cli {

namespace {

using store::EntryType;
using store::ListKind;

store::Database open_db() {
    auto db = store::open_configured_database();
    if (!db) throw CommandError(db.error().message);
    return std::move(*db);
}

ListKind kind_arg(const std::string& text) {
    auto k = store::parse_kind(text);
    if (!k) throw CommandError(fmt::format("Unknown list \"{}\": allow or block", text), 2);
    return *k;
}

std::string owner_arg(const std::string& text) {
    auto o = store::normalize_owner(text);
    if (!o) throw CommandError(o.error().message, 2);
    return *o;
}

std::string list_name(ListKind kind, const std::string& owner) {
    return owner.empty() ? fmt::format("the global {} list", store::kind_name(kind))
                         : fmt::format("the {} list of {}", store::kind_name(kind), owner);
}

std::optional<EntryType> type_flags(bool sender, bool host) {
    if (sender) return EntryType::Sender;
    if (host) return EntryType::Host;
    return std::nullopt;
}

std::string added_date(std::int64_t us) {
    auto t = format_timestamp_usec(static_cast<unsigned long long>(us));
    return t.size() > 10 ? t.substr(0, 10) : t;
}

struct ShowArgs {
    std::string user, kind, type;
    bool global = false;
};

void show(Context& ctx, const ShowArgs& a) {
    store::ListFilter f;
    if (!a.kind.empty()) f.kind = kind_arg(a.kind);
    if (!a.type.empty()) {
        f.type = store::parse_type(a.type);
        if (!f.type) throw CommandError(fmt::format("Unknown entry type \"{}\": sender or host", a.type), 2);
    }
    if (a.global) f.owner = "";
    if (!a.user.empty()) f.owner = owner_arg(a.user);
    auto db = open_db();
    auto entries = store::list_entries(db, f);
    if (!entries) throw CommandError(entries.error().message);

    if (ctx.json) {
        std::string out = "[";
        for (const auto& e : *entries) {
            out += fmt::format("{}{{\"id\":{},\"kind\":{},\"owner\":{},\"type\":{},\"pattern\":{},\"meaning\":{},"
                               "\"comment\":{},\"added_us\":{}}}",
                               out.size() > 1 ? ",\n " : "", e.id, json_quote(store::kind_name(e.kind)),
                               json_quote(e.owner), json_quote(store::type_name(e.type)), json_quote(e.pattern),
                               json_quote(store::describe_pattern(e.type, e.pattern)), json_quote(e.comment),
                               e.added_us);
        }
        fmt::print("{}]\n", out);
        return;
    }
    if (entries->empty()) {
        if (!ctx.quiet) fmt::print("No list entries{}.\n", f.owner && !f.owner->empty() ? " for " + *f.owner : "");
        return;
    }
    Table t({"OWNER", "LIST", "TYPE", "PATTERN", "MEANING", "ADDED", "COMMENT"});
    for (const auto& e : *entries)
        t.add({e.owner.empty() ? "(global)" : e.owner, std::string(store::kind_name(e.kind)),
               std::string(store::type_name(e.type)), e.pattern, std::string(store::describe_pattern(e.type, e.pattern)),
               added_date(e.added_us), printable(e.comment)});
    fmt::print("{}", t.render());
}

struct ChangeArgs {
    std::string kind, pattern, user, comment;
    bool sender = false, host = false;
};

void add(Context& ctx, const ChangeArgs& a) {
    auto kind = kind_arg(a.kind);
    auto owner = owner_arg(a.user);
    auto explicit_type = type_flags(a.sender, a.host);
    auto inferred = store::infer_type(a.pattern);
    auto type = explicit_type.value_or(inferred.type);
    auto pattern = store::normalize_pattern(type, a.pattern);
    if (!pattern) throw CommandError(pattern.error().message, 2);

    auto db = open_db();
    auto added = store::add_list_entry(db, {.kind = kind, .owner = owner, .type = type, .pattern = *pattern,
                                            .comment = a.comment});
    if (!added) throw CommandError(added.error().message);
    if (ctx.quiet) return;
    auto what = fmt::format("{} {} ({})", store::type_name(type), *pattern, store::describe_pattern(type, *pattern));
    if (!added->has_value()) {
        fmt::print("Already on {}: {}\n", list_name(kind, owner), what);
        return;
    }
    fmt::print("Added to {}: {}\n", list_name(kind, owner), what);
    if (!explicit_type && !inferred.certain)
        fmt::print("Taken as a sender domain; for a client host name, remove it and add it with --host.\n");
}

void remove(Context& ctx, const ChangeArgs& a) {
    auto kind = kind_arg(a.kind);
    auto owner = owner_arg(a.user);
    auto db = open_db();
    auto removed = store::remove_list_entry(db, kind, owner, a.pattern, type_flags(a.sender, a.host));
    if (!removed) {
        auto msg = removed.error().message;
        throw CommandError(msg.find("both a sender and a host") != std::string::npos ? msg + " (--sender or --host)" : msg,
                           msg.find("both a sender and a host") != std::string::npos ? 2 : 1);
    }
    if (!removed->has_value()) throw CommandError(fmt::format("Not on {}: {}", list_name(kind, owner), a.pattern));
    const auto& e = **removed;
    if (!ctx.quiet) fmt::print("Removed from {}: {} {}\n", list_name(kind, owner), store::type_name(e.type), e.pattern);
}

struct ImportArgs {
    std::string file, kind, user;
    bool dry_run = false;
};

std::string read_input(const std::string& file) {
    if (file != "-") {
        auto text = read_file(file);
        if (!text) throw CommandError(text.error().message);
        return std::move(*text);
    }
    std::string out;
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, stdin)) > 0;) out.append(buf, n);
    if (std::ferror(stdin)) throw CommandError("Failed to read the standard input");
    return out;
}

void import(Context& ctx, const ImportArgs& a) {
    store::ImportOptions options;
    if (!a.kind.empty()) options.kind = kind_arg(a.kind);
    options.owner = owner_arg(a.user);
    options.dry_run = a.dry_run;
    auto text = read_input(a.file);
    auto db = open_db();
    auto summary = store::import_list(db, text, options);
    if (!summary) throw CommandError(summary.error().message);
    std::string name = a.file == "-" ? "<stdin>" : a.file;
    for (const auto& e : summary->errors) fmt::print(stderr, "{}:{}: {}\n", name, e.line, e.message);
    if (!ctx.quiet || !summary->errors.empty())
        fmt::print("{}: {} {}, {} duplicate{} skipped, {} error{}{}\n", name, summary->added,
                   a.dry_run ? "would be added" : "added", summary->duplicates, summary->duplicates == 1 ? "" : "s",
                   summary->errors.size(), summary->errors.size() == 1 ? "" : "s",
                   summary->errors.empty() ? "" : " (lines with errors were left out)");
    if (!summary->errors.empty()) ctx.exit_code = 1;
}

struct ExportArgs {
    std::string kind, user, type;
};

void export_entries(const ExportArgs& a) {
    store::ListFilter f;
    if (!a.kind.empty()) f.kind = kind_arg(a.kind);
    if (!a.type.empty()) {
        f.type = store::parse_type(a.type);
        if (!f.type) throw CommandError(fmt::format("Unknown entry type \"{}\": sender or host", a.type), 2);
    }
    f.owner = owner_arg(a.user);
    auto db = open_db();
    auto entries = store::list_entries(db, f);
    if (!entries) throw CommandError(entries.error().message);
    auto header = fmt::format("pmx list export: {}{}\nFormat: KIND TYPE PATTERN [# comment]; see pmx(1)",
                              f.owner->empty() ? "global lists" : "lists of " + *f.owner,
                              f.kind ? fmt::format(" ({} only)", store::kind_name(*f.kind)) : "");
    fmt::print("{}", store::export_list(*entries, header));
}

}  // namespace

void add_list_commands(CLI::App& app, Context& ctx) {
    auto* list = app.add_subcommand("list", "Allow and block lists of senders and client hosts, global or per user");
    list->require_subcommand(1);
    list->footer("Sender patterns: user@example.com, example.com, .example.com (and subdomains), *@spam.example,\n"
                 "postmaster@, <> (the null sender). Host patterns: 192.0.2.7, 192.0.2.0/24, 2001:db8::/32,\n"
                 "mx.example.com, .example.com, *.example.com, unknown. A running milter applies changes from\n"
                 "its next message on; nothing needs a reload.");

    static ShowArgs show_args;
    auto* show_cmd = list->add_subcommand("show", "Print list entries (every list unless narrowed)");
    auto* show_user = show_cmd->add_option("--user", show_args.user, "Only the lists of this recipient address (or @domain)");
    show_cmd->add_flag("--global", show_args.global, "Only the global lists")->excludes(show_user);
    show_cmd->add_option("--kind", show_args.kind, "Only allow or block entries")->check(CLI::IsMember({"allow", "block"}));
    show_cmd->add_option("--type", show_args.type, "Only sender or host entries")->check(CLI::IsMember({"sender", "host"}));
    show_cmd->add_flag("--json", ctx.json, "Print JSON");
    show_cmd->callback([&ctx] { show(ctx, show_args); });

    static ChangeArgs add_args;
    auto* add_cmd = list->add_subcommand("add", "Add a sender or host pattern to a list");
    add_cmd->add_option("LIST", add_args.kind, "allow or block")->required()->check(CLI::IsMember({"allow", "block"}));
    add_cmd->add_option("PATTERN", add_args.pattern, "Sender or host pattern")->required();
    add_cmd->add_option("--user", add_args.user, "The list of this recipient address, or of a whole domain (@example.org); default: the global list");
    add_cmd->add_option("--comment", add_args.comment, "Why it is there (kept with the entry)");
    auto* add_sender = add_cmd->add_flag("--sender", add_args.sender, "PATTERN is a sender pattern");
    add_cmd->add_flag("--host", add_args.host,
                      "PATTERN is a client host pattern (an IP or network is one anyway; a bare domain is taken as a "
                      "sender domain without this)")
        ->excludes(add_sender);
    add_cmd->callback([&ctx] { add(ctx, add_args); });

    static ChangeArgs remove_args;
    auto* remove_cmd = list->add_subcommand("remove", "Remove a pattern from a list");
    remove_cmd->add_option("LIST", remove_args.kind, "allow or block")->required()->check(CLI::IsMember({"allow", "block"}));
    remove_cmd->add_option("PATTERN", remove_args.pattern, "The pattern, as shown by pmx list show")->required();
    remove_cmd->add_option("--user", remove_args.user, "The list of this recipient address, or of a whole domain (@example.org); default: the global list");
    auto* remove_sender = remove_cmd->add_flag("--sender", remove_args.sender, "Only a sender entry");
    remove_cmd->add_flag("--host", remove_args.host, "Only a host entry")->excludes(remove_sender);
    remove_cmd->callback([&ctx] { remove(ctx, remove_args); });

    static ImportArgs import_args;
    auto* import_cmd = list->add_subcommand(
        "import", "Add the entries of a list file (one \"[KIND] [TYPE] PATTERN [# comment]\" per line); - reads stdin");
    import_cmd->add_option("FILE", import_args.file, "List file, or - for the standard input")->required();
    import_cmd->add_option("--kind", import_args.kind, "The list for lines that do not name one")
        ->check(CLI::IsMember({"allow", "block"}));
    import_cmd->add_option("--user", import_args.user, "Into the lists of this recipient address (default: global)");
    import_cmd->add_flag("--dry-run", import_args.dry_run, "Check the file and count, change nothing");
    import_cmd->callback([&ctx] { import(ctx, import_args); });

    static ExportArgs export_args;
    auto* export_cmd = list->add_subcommand("export", "Print a list file that pmx list import reads back");
    export_cmd->add_option("--kind", export_args.kind, "Only the allow or the block list")
        ->check(CLI::IsMember({"allow", "block"}));
    export_cmd->add_option("--user", export_args.user, "The lists of this recipient address (default: global)");
    export_cmd->add_option("--type", export_args.type, "Only sender or host entries")
        ->check(CLI::IsMember({"sender", "host"}));
    export_cmd->callback([] { export_entries(export_args); });
}

}  // namespace pmx::cli
