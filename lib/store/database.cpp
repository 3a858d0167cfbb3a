#include "store/database.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "store/schema.hpp"

namespace pmx::store {

namespace {

std::string db_file_of(sqlite3* db) {
    const char* f = db ? sqlite3_db_filename(db, "main") : nullptr;
    return f ? f : "";
}

std::string snippet(std::string_view sql) {
    std::string out;
    for (char c : sql) {
        if (out.size() >= 60) {
            out += "...";
            break;
        }
        bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : c;
    }
    return out;
}

}  // namespace

// ---- Statement ----

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(std::move(other.bind_error_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        if (stmt_) sqlite3_finalize(stmt_);
        stmt_ = std::exchange(other.stmt_, nullptr);
        bind_error_ = std::move(other.bind_error_);
    }
    return *this;
}

Statement::~Statement() {
    if (stmt_) sqlite3_finalize(stmt_);
}

void Statement::note_bind(int rc, int index) {
    if (rc == SQLITE_OK || !bind_error_.empty()) return;
    sqlite3* db = sqlite3_db_handle(stmt_);
    bind_error_ = fmt::format("Failed to bind parameter {} of SQL \"{}\" in database {}: {}", index, snippet(sql()),
                              db_file_of(db), index == 0 ? "no such parameter" : sqlite3_errstr(rc));
}

Statement& Statement::bind(int index, std::int64_t value) {
    note_bind(sqlite3_bind_int64(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    note_bind(sqlite3_bind_double(stmt_, index, value), index);
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    // SQLITE_TRANSIENT: SQLite copies, so a temporary string may be bound.
    note_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
    return *this;
}

Statement& Statement::bind_null(int index) {
    note_bind(sqlite3_bind_null(stmt_, index), index);
    return *this;
}

int Statement::parameter_index(std::string_view name) {
    std::string n(name);
    int index = sqlite3_bind_parameter_index(stmt_, n.c_str());
    if (index == 0 && bind_error_.empty())
        bind_error_ = fmt::format("Failed to bind parameter {} of SQL \"{}\": no such parameter", n, snippet(sql()));
    return index;
}

Result<bool> Statement::step() {
    if (!bind_error_.empty()) return Error{bind_error_};
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
        sqlite3_reset(stmt_);  // ends the statement's read snapshot now, not at the next use
        return false;
    }
    sqlite3* db = sqlite3_db_handle(stmt_);
    std::string message = sqlite3_errmsg(db);
    sqlite3_reset(stmt_);
    return Error{fmt::format("Failed to {} database {}: {}", sqlite3_stmt_readonly(stmt_) ? "read from" : "write to",
                             db_file_of(db), message)};
}

Result<void> Statement::run() {
    for (;;) {
        auto r = step();
        if (!r) return r.error();
        if (!*r) return {};
    }
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    bind_error_.clear();
}

bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (!p) return {};
    return std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::int64_t> Statement::optional_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
}

std::optional<double> Statement::optional_real(int column) const {
    if (is_null(column)) return std::nullopt;
    return real(column);
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

std::string_view Statement::sql() const {
    const char* s = stmt_ ? sqlite3_sql(stmt_) : nullptr;
    return s ? s : "";
}

// ---- Database ----

Database::Database(Database&& other) noexcept
    : path_(std::move(other.path_)),
      db_(std::exchange(other.db_, nullptr)),
      savepoint_depth_(other.savepoint_depth_),
      cache_(std::move(other.cache_)) {}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        cache_.clear();
        if (db_) sqlite3_close_v2(db_);
        path_ = std::move(other.path_);
        db_ = std::exchange(other.db_, nullptr);
        savepoint_depth_ = other.savepoint_depth_;
        cache_ = std::move(other.cache_);
    }
    return *this;
}

Database::~Database() {
    cache_.clear();  // statements first; close_v2 would wait for them anyway
    if (db_) sqlite3_close_v2(db_);
}

Error Database::error(std::string_view what) const {
    return Error{fmt::format("Failed to {} in database {}: {}", what, path_.string(),
                             db_ ? sqlite3_errmsg(db_) : "not open")};
}

Result<Database> Database::open(const std::filesystem::path& path, const OpenOptions& options) {
    auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    struct stat dir_st {};
    if (::stat(dir.c_str(), &dir_st) < 0)
        return Error{fmt::format("Failed to open database {}: directory {}: {}", path.string(), dir.string(),
                                 std::strerror(errno))};
    if (!S_ISDIR(dir_st.st_mode))
        return Error{fmt::format("Failed to open database {}: {} is not a directory", path.string(), dir.string())};

    // Create the file ourselves for its mode (SQLite would use 0644) and owner; the
    // -wal and -shm files SQLite makes later copy both from it.
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd >= 0) {
        if (options.chown_new_file_to_directory_owner && ::geteuid() == 0 &&
            (dir_st.st_uid != 0 || dir_st.st_gid != 0) && ::fchown(fd, dir_st.st_uid, dir_st.st_gid) < 0) {
            int err = errno;
            ::close(fd);
            ::unlink(path.c_str());
            return Error{fmt::format("Failed to create database {}: changing its owner: {}", path.string(),
                                     std::strerror(err))};
        }
        ::close(fd);
    } else if (errno != EEXIST) {
        return Error{fmt::format("Failed to create database {}: {}", path.string(), std::strerror(errno))};
    }

    Database db;
    db.path_ = path;
    int rc = sqlite3_open_v2(path.c_str(), &db.db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        auto message = db.db_ ? std::string(sqlite3_errmsg(db.db_)) : std::string(sqlite3_errstr(rc));
        return Error{fmt::format("Failed to open database {}: {}", path.string(), message)};
    }
    sqlite3_extended_result_codes(db.db_, 1);
    sqlite3_busy_timeout(db.db_, options.busy_timeout_ms);

    auto mode = db.journal_mode_set_wal();
    if (!mode) return mode.error();
    if (*mode != "wal")
        return Error{fmt::format("Failed to open database {}: WAL mode refused (journal mode is \"{}\"; is it on a "
                                 "network file system?)",
                                 path.string(), *mode)};
    auto pragmas = db.exec(options.synchronous_full ? "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
                                                    : "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    if (!pragmas) return pragmas.error();
    if (options.migrate) {
        if (auto m = db.migrate(); !m) return m.error();
    }
    return db;
}

Result<std::string> Database::journal_mode_set_wal() {
    auto stmt = prepare("PRAGMA journal_mode = WAL");
    if (!stmt) return stmt.error();
    auto row = stmt->step();
    if (!row) return Error{fmt::format("Failed to open database {}: setting WAL mode: {}", path_.string(),
                                       sqlite3_errmsg(db_))};
    return *row ? stmt->text(0) : std::string();
}

Result<std::string> Database::journal_mode() {
    auto stmt = prepare("PRAGMA journal_mode");
    if (!stmt) return stmt.error();
    auto row = stmt->step();
    if (!row) return row.error();
    return *row ? stmt->text(0) : std::string();
}

Result<Statement> Database::prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt, nullptr);
    if (rc != SQLITE_OK)
        return Error{fmt::format("Failed to prepare SQL \"{}\" in database {}: {}", snippet(sql), path_.string(),
                                 sqlite3_errmsg(db_))};
    return Statement(stmt);
}

Result<CachedStatement> Database::cached(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it == cache_.end()) {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                    nullptr);
        if (rc != SQLITE_OK)
            return Error{fmt::format("Failed to prepare SQL \"{}\" in database {}: {}", snippet(sql), path_.string(),
                                     sqlite3_errmsg(db_))};
        it = cache_.emplace(std::string(sql), std::unique_ptr<Statement>(new Statement(stmt))).first;
    }
    it->second->reset();
    return CachedStatement(it->second.get());
}

Result<void> Database::exec(std::string_view sql) {
    std::string text(sql);
    char* message = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
        std::string m = message ? message : sqlite3_errstr(rc);
        sqlite3_free(message);
        return Error{fmt::format("Failed to run \"{}\" in database {}: {}", snippet(sql), path_.string(), m)};
    }
    return {};
}

bool Database::in_transaction() const { return db_ && !sqlite3_get_autocommit(db_); }

std::int64_t Database::changes() const { return sqlite3_changes64(db_); }

Result<Transaction> Database::transaction() {
    if (!in_transaction()) {
        // IMMEDIATE: take the write lock now, waiting up to busy_timeout, rather than fail
        // with SQLITE_BUSY halfway when a read turns into a write.
        if (auto r = exec("BEGIN IMMEDIATE"); !r) return error("begin a transaction");
        savepoint_depth_ = 0;
        return Transaction(this, 0);
    }
    int depth = savepoint_depth_ + 1;
    if (auto r = exec(fmt::format("SAVEPOINT pmx_{}", depth)); !r) return r.error();
    savepoint_depth_ = depth;
    return Transaction(this, depth);
}

Result<int> Database::schema_version() {
    auto exists = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
    if (!exists) return exists.error();
    auto row = exists->step();
    if (!row) return row.error();
    if (!*row) return 0;
    exists->reset();
    auto stmt = prepare("SELECT coalesce(max(version), 0) FROM schema_migrations");
    if (!stmt) return stmt.error();
    auto r = stmt->step();
    if (!r) return r.error();
    return static_cast<int>(stmt->int64(0));
}

int Database::latest_schema_version() { return migrations().empty() ? 0 : migrations().back().version; }

Result<void> Database::migrate() {
    auto current = schema_version();
    if (!current) return current.error();
    const int latest = latest_schema_version();
    auto too_new = [&](int v) {
        return Error{fmt::format("Failed to open database {}: its schema version {} is newer than this pmx knows ({}); "
                                 "upgrade pmx",
                                 path_.string(), v, latest)};
    };
    if (*current > latest) return too_new(*current);
    if (*current == latest) return {};

    // Whoever opens first migrates; a second opener waits on the write lock, then finds it done.
    auto txn = transaction();
    if (!txn) return txn.error();
    if (auto r = exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version INTEGER PRIMARY KEY, applied_us BIGINT NOT NULL, description TEXT NOT NULL)");
        !r)
        return r.error();
    current = schema_version();
    if (!current) return current.error();
    if (*current > latest) return too_new(*current);
    for (const auto& m : migrations()) {
        if (m.version <= *current) continue;
        if (auto r = exec(m.sql); !r)
            return Error{fmt::format("Failed to migrate database {} to schema version {} ({}): {}", path_.string(),
                                     m.version, m.description, r.error().message)};
        auto rec = prepare("INSERT INTO schema_migrations (version, applied_us, description) VALUES (?, ?, ?)");
        if (!rec) return rec.error();
        rec->bind(1, m.version).bind(2, now_us()).bind(3, m.description);
        if (auto r = rec->run(); !r) return r.error();
    }
    return txn->commit();
}

// ---- Transaction ----

Transaction::Transaction(Transaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), depth_(other.depth_) {}

Transaction::~Transaction() { rollback(); }

Result<void> Transaction::commit() {
    if (!db_) return Error{"Failed to commit: the transaction is already finished"};
    if (depth_ == 0) {
        if (auto r = db_->exec("COMMIT"); !r) return db_->error("commit");  // still open: the destructor rolls back
    } else {
        if (auto r = db_->exec(fmt::format("RELEASE pmx_{}", depth_)); !r) return r.error();
        db_->savepoint_depth_ = depth_ - 1;
    }
    db_ = nullptr;
    return {};
}

void Transaction::rollback() {
    if (!db_) return;
    if (depth_ == 0) {
        if (db_->in_transaction()) (void)db_->exec("ROLLBACK");
    } else {
        (void)db_->exec(fmt::format("ROLLBACK TO pmx_{0}; RELEASE pmx_{0}", depth_));
        db_->savepoint_depth_ = depth_ - 1;
    }
    db_ = nullptr;
}

// ---- helpers ----

std::int64_t now_us() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string like_substring(std::string_view needle) {
    std::string out = "%";
    for (char c : needle) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    out += '%';
    return out;
}

}  // namespace pmx::store
