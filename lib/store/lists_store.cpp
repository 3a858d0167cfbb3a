#include "util/text.hpp"
#include "store/lists_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

namespace pmx::store {

namespace {

constexpr std::size_t max_comment = 500;

Result<std::string> clean_comment(std::string_view comment) {
    std::string out;
    for (char c : trim(comment)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    if (out.size() > max_comment) return Error{fmt::format("Comment is too long ({} bytes, at most {})", out.size(), max_comment)};
    return out;
}

ListEntry read_entry(const Statement& s) {
    ListEntry e;
    e.id = s.int64(0);
    e.kind = s.text(1) == "block" ? ListKind::Block : ListKind::Allow;
    e.owner = s.text(2);
    e.type = s.text(3) == "host" ? EntryType::Host : EntryType::Sender;
    e.pattern = s.text(4);
    e.comment = s.text(5);
    e.added_us = s.int64(6);
    return e;
}

constexpr std::string_view entry_columns = "id, kind, owner, type, pattern, comment, added_us";

std::string list_key(ListKind kind, std::string_view owner) {
    std::string key = kind == ListKind::Allow ? "a:" : "b:";
    key += owner;
    return key;
}

// Inserts an already normalized entry. nullopt: it was there.
Result<std::optional<ListEntry>> insert_normalized(Database& db, ListEntry e) {
    if (e.added_us == 0) e.added_us = now_us();
    auto stmt = db.cached(
        "INSERT INTO list_entry (kind, owner, type, pattern, comment, added_us) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (kind, owner, type, pattern) DO NOTHING RETURNING id");
    if (!stmt) return stmt.error();
    (*stmt)->bind(1, kind_name(e.kind)).bind(2, e.owner).bind(3, type_name(e.type)).bind(4, e.pattern);
    (*stmt)->bind(5, e.comment).bind(6, e.added_us);
    auto row = (*stmt)->step();
    if (!row) return row.error();
    if (!*row) return std::optional<ListEntry>();
    e.id = (*stmt)->int64(0);
    if (auto done = (*stmt)->run(); !done) return done.error();
    return std::optional<ListEntry>(std::move(e));
}

}  // namespace

std::string_view kind_name(ListKind kind) { return kind == ListKind::Allow ? "allow" : "block"; }

std::optional<ListKind> parse_kind(std::string_view text) {
    if (text == "allow") return ListKind::Allow;
    if (text == "block") return ListKind::Block;
    return std::nullopt;
}

Result<std::string> normalize_owner(std::string_view owner) {
    auto o = trim(owner);
    if (o.empty()) return std::string();
    if (o.size() > 2 && o.front() == '<' && o.back() == '>') o = o.substr(1, o.size() - 2);
    auto at = o.rfind('@');
    // "@example.org": the list of every recipient at that domain (checked after their own).
    const bool domain = at == 0 && o.size() > 1;
    bool bad = at == std::string_view::npos || (at == 0 && !domain) || at + 1 == o.size() || o.size() > 320 ||
               std::any_of(o.begin(), o.end(), [](char c) {
                   return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '*' || c == '?' || c == '<' || c == '>';
               });
    if (bad) return Error{fmt::format("\"{}\" is not a user address (user@domain) or a domain (@domain)", owner)};
    return ascii_lower(o);
}

Result<std::vector<ListEntry>> list_entries(Database& db, const ListFilter& filter) {
    std::string sql = fmt::format("SELECT {} FROM list_entry WHERE 1 = 1", entry_columns);
    if (filter.kind) sql += " AND kind = ?";
    if (filter.owner) sql += " AND owner = ?";
    if (filter.type) sql += " AND type = ?";
    sql += " ORDER BY owner, kind, type, pattern";
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    int i = 1;
    if (filter.kind) stmt->bind(i++, kind_name(*filter.kind));
    if (filter.owner) {
        auto o = normalize_owner(*filter.owner);
        if (!o) return o.error();
        stmt->bind(i++, *o);
    }
    if (filter.type) stmt->bind(i++, type_name(*filter.type));
    std::vector<ListEntry> out;
    for (;;) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back(read_entry(*stmt));
    }
    return out;
}

Result<std::optional<ListEntry>> add_list_entry(Database& db, ListEntry entry) {
    auto owner = normalize_owner(entry.owner);
    if (!owner) return owner.error();
    auto pattern = normalize_pattern(entry.type, entry.pattern);
    if (!pattern) return pattern.error();
    auto comment = clean_comment(entry.comment);
    if (!comment) return comment.error();
    entry.owner = std::move(*owner);
    entry.pattern = std::move(*pattern);
    entry.comment = std::move(*comment);
    return insert_normalized(db, std::move(entry));
}

Result<std::optional<ListEntry>> remove_list_entry(Database& db, ListKind kind, std::string_view owner_text,
                                                   std::string_view pattern, std::optional<EntryType> type) {
    auto owner = normalize_owner(owner_text);
    if (!owner) return owner.error();
    // The pattern's canonical form depends on its type: try each type it could have.
    std::vector<std::pair<EntryType, std::string>> candidates;
    std::string first_error;
    for (auto t : {EntryType::Sender, EntryType::Host}) {
        if (type && *type != t) continue;
        auto n = normalize_pattern(t, pattern);
        if (n) candidates.emplace_back(t, std::move(*n));
        else if (first_error.empty()) first_error = n.error().message;
    }
    if (candidates.empty()) return Error{first_error};

    auto txn = db.transaction();
    if (!txn) return txn.error();
    std::vector<ListEntry> found;
    for (const auto& [t, p] : candidates) {
        auto stmt = db.prepare(fmt::format(
            "SELECT {} FROM list_entry WHERE kind = ? AND owner = ? AND type = ? AND pattern = ?", entry_columns));
        if (!stmt) return stmt.error();
        stmt->bind(1, kind_name(kind)).bind(2, *owner).bind(3, type_name(t)).bind(4, p);
        auto row = stmt->step();
        if (!row) return row.error();
        if (*row) found.push_back(read_entry(*stmt));
    }
    if (found.empty()) return std::optional<ListEntry>();
    if (found.size() > 1)
        return Error{fmt::format("\"{}\" is both a sender and a host pattern on this list: say which one to remove",
                                 pattern)};
    auto del = db.prepare("DELETE FROM list_entry WHERE id = ?");
    if (!del) return del.error();
    del->bind(1, found.front().id);
    if (auto r = del->run(); !r) return r.error();
    if (auto r = txn->commit(); !r) return r.error();
    return std::optional<ListEntry>(std::move(found.front()));
}

Result<std::int64_t> list_version(Database& db) {
    auto stmt = db.cached("SELECT version FROM list_version WHERE id = 1");
    if (!stmt) return stmt.error();
    auto row = (*stmt)->step();
    if (!row) return row.error();
    if (!*row) return Error{fmt::format("Failed to read list version in database {}: the row is missing", db.path().string())};
    return (*stmt)->int64(0);
}

// ---- list files ----

ParsedListFile parse_list_file(std::string_view text) {
    ParsedListFile out;
    int number = 0;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto raw = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        ++number;
        auto line = trim(raw);
        if (line.empty() || line.front() == '#') continue;

        ListLine entry;
        entry.line = number;
        // A comment starts at a "#" that follows white space.
        for (size_t i = 1; i < line.size(); ++i) {
            if (line[i] == '#' && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
                entry.comment = std::string(trim(line.substr(i + 1)));
                line = trim(line.substr(0, i));
                break;
            }
        }
        std::vector<std::string_view> words;
        for (size_t i = 0; i < line.size();) {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
            size_t start = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
            if (i > start) words.push_back(line.substr(start, i - start));
        }
        size_t w = 0;
        if (w < words.size() && words.size() > 1) {
            if (auto k = parse_kind(ascii_lower(words[w]))) {
                entry.kind = k;
                ++w;
            }
        }
        if (w < words.size() && words.size() - w > 1) {
            if (auto t = parse_type(ascii_lower(words[w]))) {
                entry.type = t;
                ++w;
            }
        }
        if (words.size() - w != 1) {
            out.errors.push_back({number, words.size() - w == 0
                                              ? "no pattern"
                                              : fmt::format("expected [allow|block] [sender|host] PATTERN [# comment], "
                                                            "got {} words",
                                                            words.size())});
            continue;
        }
        auto word = ascii_lower(words[w]);
        if (parse_kind(word) || parse_type(word)) {  // "allow" alone: a keyword, not a domain named allow
            out.errors.push_back({number, fmt::format("no pattern after \"{}\"", words[w])});
            continue;
        }
        entry.pattern = std::string(words[w]);
        out.entries.push_back(std::move(entry));
    }
    return out;
}

Result<ImportSummary> import_list(Database& db, std::string_view text, const ImportOptions& options) {
    auto owner = normalize_owner(options.owner);
    if (!owner) return owner.error();
    auto parsed = parse_list_file(text);
    ImportSummary summary;
    summary.errors = std::move(parsed.errors);

    auto txn = db.transaction();
    if (!txn) return txn.error();
    std::set<std::tuple<ListKind, EntryType, std::string>> seen;
    for (auto& line : parsed.entries) {
        if (line.kind && options.kind && *line.kind != *options.kind) {
            summary.errors.push_back({line.line, fmt::format("the line says {} but the import is for the {} list",
                                                             kind_name(*line.kind), kind_name(*options.kind))});
            continue;
        }
        auto kind = line.kind ? line.kind : options.kind;
        if (!kind) {
            summary.errors.push_back({line.line, "no kind: start the line with allow or block, or import with --kind"});
            continue;
        }
        auto type = line.type ? *line.type : infer_type(line.pattern).type;
        auto pattern = normalize_pattern(type, line.pattern);
        if (!pattern) {
            summary.errors.push_back({line.line, pattern.error().message});
            continue;
        }
        auto comment = clean_comment(line.comment);
        if (!comment) {
            summary.errors.push_back({line.line, comment.error().message});
            continue;
        }
        if (!seen.emplace(*kind, type, *pattern).second) {
            ++summary.duplicates;
            continue;
        }
        if (options.dry_run) {
            auto stmt = db.cached("SELECT 1 FROM list_entry WHERE kind = ? AND owner = ? AND type = ? AND pattern = ?");
            if (!stmt) return stmt.error();
            (*stmt)->bind(1, kind_name(*kind)).bind(2, *owner).bind(3, type_name(type)).bind(4, *pattern);
            auto row = (*stmt)->step();
            if (!row) return row.error();
            ++(*row ? summary.duplicates : summary.added);
            continue;
        }
        ListEntry e{0, *kind, *owner, type, std::move(*pattern), std::move(*comment), 0};
        auto added = insert_normalized(db, std::move(e));
        if (!added) return added.error();
        ++(*added ? summary.added : summary.duplicates);
    }
    if (options.dry_run) return summary;  // the transaction rolls back (it changed nothing anyway)
    if (auto r = txn->commit(); !r) return r.error();
    return summary;
}

std::string export_list(const std::vector<ListEntry>& entries, std::string_view header_comment) {
    std::string out;
    if (!header_comment.empty()) {
        for (size_t pos = 0; pos <= header_comment.size();) {
            auto nl = header_comment.find('\n', pos);
            auto line = header_comment.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
            out += line.empty() ? "#\n" : fmt::format("# {}\n", line);
            if (nl == std::string_view::npos) break;
            pos = nl + 1;
        }
    }
    size_t width = 0;
    for (const auto& e : entries) width = std::max(width, e.pattern.size());
    for (const auto& e : entries) {
        if (e.comment.empty()) out += fmt::format("{} {:<6} {}\n", kind_name(e.kind), type_name(e.type), e.pattern);
        else out += fmt::format("{} {:<6} {:<{}}  # {}\n", kind_name(e.kind), type_name(e.type), e.pattern, width, e.comment);
    }
    return out;
}

// ---- DatabaseLists ----

Result<std::unique_ptr<DatabaseLists>> DatabaseLists::open(const std::filesystem::path& path, const Options& options) {
    auto db = Database::open(path, options.open);
    if (!db) return db.error();
    return std::make_unique<DatabaseLists>(std::move(*db), options);
}

DatabaseLists::DatabaseLists(Database db, const Options& options) : options_(options), db_(std::move(db)) {}

Result<void> DatabaseLists::check_locked(bool force) const {
    auto now = std::chrono::steady_clock::now();
    // After a failure too, the next try waits for the interval: a broken database is not hammered.
    if (!force && last_check_ != std::chrono::steady_clock::time_point{} && now - last_check_ < options_.check_interval)
        return {};
    last_check_ = now;
    auto version = list_version(db_);
    if (!version) {
        last_error_ = version.error().message;
        return version.error();
    }
    if (loaded_ && *version == version_) {
        last_error_.clear();
        return {};
    }
    // Something changed: forget every list and learn which lists have entries at all,
    // so recipients without a list of their own cost no query.
    auto stmt = db_.prepare("SELECT DISTINCT kind, owner FROM list_entry");
    if (!stmt) {
        last_error_ = stmt.error().message;
        return stmt.error();
    }
    std::unordered_set<std::string> owners;
    for (;;) {
        auto row = stmt->step();
        if (!row) {
            last_error_ = row.error().message;
            return row.error();
        }
        if (!*row) break;
        owners.insert(list_key(stmt->text(0) == "block" ? ListKind::Block : ListKind::Allow, stmt->text(1)));
    }
    owners_ = std::move(owners);
    cache_.clear();
    version_ = *version;
    loaded_ = true;
    last_error_.clear();
    return {};
}

DatabaseLists::Compiled DatabaseLists::get(ListKind kind, std::string_view owner_raw) const {
    std::string owner;
    auto o = trim(owner_raw);
    if (o.size() >= 2 && o.front() == '<' && o.back() == '>') o = o.substr(1, o.size() - 2);
    owner = ascii_lower(o);
    auto key = list_key(kind, owner);

    std::lock_guard lock(mu_);
    (void)check_locked(false);  // on failure: go on with what is loaded; last_error() says why
    if (!owners_.count(key)) return nullptr;
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;

    auto stmt = db_.cached("SELECT type, pattern FROM list_entry WHERE kind = ? AND owner = ?");
    if (!stmt) {
        last_error_ = stmt.error().message;
        return nullptr;
    }
    (*stmt)->bind(1, kind_name(kind)).bind(2, owner);
    auto list = std::make_shared<CompiledList>();
    for (;;) {
        auto row = (*stmt)->step();
        if (!row) {
            last_error_ = row.error().message;
            return nullptr;
        }
        if (!*row) break;
        list->add((*stmt)->text(0) == "host" ? EntryType::Host : EntryType::Sender, (*stmt)->text(1));
    }
    Compiled compiled = std::move(list);
    cache_.emplace(std::move(key), compiled);
    return compiled;
}

bool DatabaseLists::sender_listed(ListKind kind, std::string_view owner, std::string_view sender) const {
    auto list = get(kind, owner);
    return list && list->sender_matches(sender);
}

bool DatabaseLists::host_listed(ListKind kind, std::string_view owner, std::string_view ip,
                                std::string_view hostname) const {
    auto list = get(kind, owner);
    return list && list->host_matches(ip, hostname);
}

std::optional<std::string> DatabaseLists::sender_entry(ListKind kind, std::string_view owner,
                                                       std::string_view sender) const {
    auto list = get(kind, owner);
    const std::string* e = list ? list->sender_entry(sender) : nullptr;
    return e ? std::optional<std::string>(*e) : std::nullopt;
}

std::optional<std::string> DatabaseLists::host_entry(ListKind kind, std::string_view owner, std::string_view ip,
                                                     std::string_view hostname) const {
    auto list = get(kind, owner);
    const std::string* e = list ? list->host_entry(ip, hostname) : nullptr;
    return e ? std::optional<std::string>(*e) : std::nullopt;
}

Result<void> DatabaseLists::refresh() const {
    std::lock_guard lock(mu_);
    return check_locked(true);
}

std::int64_t DatabaseLists::version() const {
    std::lock_guard lock(mu_);
    return version_;
}

std::string DatabaseLists::last_error() const {
    std::lock_guard lock(mu_);
    return last_error_;
}

}  // namespace pmx::store
