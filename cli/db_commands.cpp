// pmx db check|maintain: the store's health and upkeep (the database-maintenance jobs run these).
//   check     PRAGMA integrity_check: exit 1 when SQLite finds damage
//   maintain  WAL checkpoint (TRUNCATE), incremental vacuum when the file allows it, PRAGMA optimize
#include <sys/stat.h>

#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "output.hpp"
#include "store/database.hpp"
#include "store/store_config.hpp"

namespace pmx::cli {

namespace {

constexpr int kMaxIntegrityLines = 100;  // SQLite stops after this many problems

store::Database open_db(store::StorePaths& paths) {
    auto db = store::open_configured_database(&paths);
    if (!db) throw CommandError(db.error().message);
    return std::move(db).value();
}

std::int64_t pragma_int(store::Database& db, const std::string& sql) {
    auto st = db.prepare(sql);
    if (!st) throw CommandError(st.error().message);
    auto row = st->step();
    if (!row) throw CommandError(row.error().message);
    return *row ? st->int64(0) : 0;
}

std::uint64_t bytes_on_disk(const std::filesystem::path& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

void check(Context& ctx) {
    store::StorePaths paths;
    auto db = open_db(paths);
    auto st = db.prepare(fmt::format("PRAGMA integrity_check({})", kMaxIntegrityLines));
    if (!st) throw CommandError(st.error().message);
    std::vector<std::string> lines;
    for (;;) {
        auto row = st->step();
        if (!row) throw CommandError(row.error().message);
        if (!*row) break;
        lines.push_back(st->text(0));
    }
    const bool ok = lines.size() == 1 && lines.front() == "ok";
    if (ctx.json) {
        std::string problems;
        if (!ok)
            for (const auto& l : lines) problems += (problems.empty() ? "" : ", ") + json_quote(l);
        fmt::print("{{\"database\": {}, \"ok\": {}, \"problems\": [{}]}}\n", json_quote(paths.database.string()),
                   ok ? "true" : "false", problems);
    } else if (ok) {
        if (!ctx.quiet) fmt::print("{}: integrity ok\n", paths.database.string());
    } else {
        fmt::print(stderr, "{}: integrity check failed:\n", paths.database.string());
        for (const auto& l : lines) fmt::print(stderr, "  {}\n", l);
    }
    if (!ok) ctx.exit_code = 1;
}

void maintain(Context& ctx) {
    store::StorePaths paths;
    auto db = open_db(paths);
    const auto wal = std::filesystem::path(paths.database.string() + "-wal");
    const auto size_before = bytes_on_disk(paths.database) + bytes_on_disk(wal);

    // Checkpoint: copy the WAL into the database and truncate it. Busy (a reader still needs
    // old pages) is not a failure: the next run catches up.
    auto cp = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
    if (!cp) throw CommandError(cp.error().message);
    auto row = cp->step();
    if (!row) throw CommandError(row.error().message);
    const std::int64_t busy = *row ? cp->int64(0) : 0;
    const std::int64_t log_pages = *row ? cp->int64(1) : 0;
    const std::int64_t checkpointed = *row ? cp->int64(2) : 0;
    cp->reset();

    // Incremental vacuum frees pages without rewriting the file (and without locking out the
    // milter for long); it needs auto_vacuum=INCREMENTAL, set when the file was made.
    const auto mode = pragma_int(db, "PRAGMA auto_vacuum");
    const auto free_before = pragma_int(db, "PRAGMA freelist_count");
    std::int64_t freed = 0;
    if (mode == 2 && free_before > 0) {
        if (auto r = db.exec("PRAGMA incremental_vacuum"); !r) throw CommandError(r.error().message);
        freed = free_before - pragma_int(db, "PRAGMA freelist_count");
    }
    if (auto r = db.exec("PRAGMA optimize"); !r) throw CommandError(r.error().message);
    const auto size_after = bytes_on_disk(paths.database) + bytes_on_disk(wal);
    const char* mode_name = mode == 2 ? "incremental" : mode == 1 ? "full" : "none";

    if (ctx.json) {
        fmt::print(
            "{{\"database\": {}, \"wal_checkpoint\": {{\"busy\": {}, \"log_pages\": {}, \"checkpointed_pages\": {}}}, "
            "\"auto_vacuum\": {}, \"free_pages_before\": {}, \"freed_pages\": {}, \"optimized\": true, "
            "\"size_before\": {}, \"size_after\": {}}}\n",
            json_quote(paths.database.string()), busy != 0 ? "true" : "false", log_pages, checkpointed,
            json_quote(mode_name), free_before, freed, size_before, size_after);
        return;
    }
    if (ctx.quiet) return;
    fmt::print("{}\n", paths.database.string());
    if (busy)
        fmt::print("  WAL checkpoint: busy (a reader holds old pages), {} of {} pages copied; the next run catches up\n",
                   checkpointed, log_pages);
    else
        fmt::print("  WAL checkpoint: {} pages copied, WAL truncated\n", checkpointed);
    if (mode == 2)
        fmt::print("  incremental vacuum: {} free pages released\n", freed);
    else
        fmt::print("  vacuum: {} free pages; auto_vacuum is {}, so pages are reused, not released\n", free_before,
                   mode_name);
    fmt::print("  optimize: done\n");
    fmt::print("  size (database + WAL): {} -> {}\n", format_bytes(size_before), format_bytes(size_after));
}

}  // namespace

void add_db_commands(CLI::App& app, Context& ctx) {
    auto* db = app.add_subcommand("db", "Check and maintain pmx's database (the store)");
    db->require_subcommand(1);
    auto* check_cmd = db->add_subcommand("check", "Run SQLite's integrity check on the database (exit 1: damaged)");
    check_cmd->add_flag("--json", ctx.json, "Print JSON");
    check_cmd->callback([&ctx] { check(ctx); });
    auto* maintain_cmd = db->add_subcommand(
        "maintain", "Checkpoint and truncate the WAL, release free pages (incremental vacuum), optimize");
    maintain_cmd->add_flag("--json", ctx.json, "Print JSON");
    maintain_cmd->callback([&ctx] { maintain(ctx); });
}

}  // namespace pmx::cli
