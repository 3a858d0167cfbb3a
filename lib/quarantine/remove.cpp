#include "quarantine/remove.hpp"

#include <fmt/format.h>

#include "store/audit.hpp"
#include "store/quarantine_store.hpp"

namespace pmx::quarantine {

namespace {

std::string describe(const store::QuarantinedMessage& m) {
    std::string rcpts;
    for (const auto& r : m.meta.recipients) rcpts += (rcpts.empty() ? "" : ", ") + r;
    return fmt::format("from {} to {}, {}: \"{}\"", m.meta.sender.empty() ? "<>" : m.meta.sender, rcpts,
                       m.meta.reason, m.meta.subject);
}

}  // namespace

Result<bool> remove(store::Database& db, const std::filesystem::path& dir, std::int64_t id, const std::string& actor) {
    if (actor.empty()) return Error{fmt::format("Failed to delete quarantined message {}: no actor given", id)};
    auto found = store::find_quarantined(db, dir, id);
    if (!found) return found.error();
    if (!found->has_value()) return false;
    std::string file;
    {
        auto txn = db.transaction();
        if (!txn) return txn.error();
        auto rows = store::delete_quarantine_rows(db, id);
        if (!rows) return rows.error();
        if (!*rows) return false;  // deleted meanwhile
        file = **rows;
        auto audit = store::record_audit(db, {.actor = actor, .action = "delete", .message_id = id,
                                              .detail = describe(**found)});
        if (!audit) return audit.error();
        if (auto c = txn->commit(); !c) return c.error();
    }
    if (auto r = store::remove_quarantine_file(dir, file); !r) return r.error();
    return true;
}

Result<ExpireResult> expire(store::Database& db, const std::filesystem::path& dir, const ExpireOptions& o) {
    if (o.actor.empty()) return Error{"Failed to expire quarantined messages: no actor given"};
    ExpireResult result;
    store::QuarantineFilter f;
    f.until_us = o.before_us;
    f.limit = 500;
    for (;;) {
        auto batch = store::search_quarantine(db, dir, f);
        if (!batch) return batch.error();
        if (batch->empty()) break;
        if (o.dry_run) {
            for (const auto& m : *batch) {
                ++result.messages;
                result.bytes += m.size;
            }
            f.offset += f.limit;  // nothing was removed: page on
            continue;
        }
        // One transaction per batch for the rows and their audit entries, then the files.
        std::vector<std::string> files;
        {
            auto txn = db.transaction();
            if (!txn) return txn.error();
            for (const auto& m : *batch) {
                auto rows = store::delete_quarantine_rows(db, m.id);
                if (!rows) return rows.error();
                if (!*rows) continue;
                files.push_back(**rows);
                auto audit = store::record_audit(
                    db, {.actor = o.actor, .action = "expire", .message_id = m.id,
                         .detail = fmt::format("older than {}: {}", o.age.empty() ? "the cutoff" : o.age, describe(m))});
                if (!audit) return audit.error();
                ++result.messages;
                result.bytes += m.size;
            }
            if (auto c = txn->commit(); !c) return c.error();
        }
        for (const auto& file : files)
            if (auto r = store::remove_quarantine_file(dir, file); !r) return r.error();
    }

    auto swept = store::sweep_stray_files(db, dir, {.before_us = o.before_us, .grace_us = o.stray_grace_us,
                                                    .dry_run = o.dry_run});
    if (!swept) return swept.error();
    result.strays = std::move(*swept);
    if (!o.dry_run && (result.strays.files || result.strays.temporary)) {
        auto audit = store::record_audit(
            db, {.actor = o.actor, .action = "sweep",
                 .detail = fmt::format("{} stray message file{} and {} unfinished temporary file{} ({} bytes) older than {}",
                                       result.strays.files, result.strays.files == 1 ? "" : "s", result.strays.temporary,
                                       result.strays.temporary == 1 ? "" : "s", result.strays.bytes,
                                       o.age.empty() ? "the cutoff" : o.age)});
        if (!audit) return audit.error();
    }
    return result;
}

}  // namespace pmx::quarantine
