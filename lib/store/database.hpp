// The store's connection to its database: SQLite now (WAL mode), PostgreSQL later.
//
// Everything else in lib/store talks to the database only through Database, Statement
// and Transaction, with SQL kept to what SQLite (>= 3.35) and PostgreSQL both accept:
// `?` placeholders (a libpq backend numbers them $1, $2...), INSERT ... RETURNING,
// ON CONFLICT DO NOTHING, lower(x) LIKE ... ESCAPE '\', LIMIT/OFFSET, SAVEPOINT,
// times as 64-bit integers (microseconds since the epoch, UTC). What is SQLite-only
// (PRAGMAs, BEGIN IMMEDIATE, the DDL of the migrations) stays in database.cpp and
// schema.cpp, which is what a second backend replaces.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "util/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace pmx::store {

class Database;

// A prepared statement. Binds are chainable; a failed bind (a programming error such as
// an index out of range) is remembered and returned by the next step().
// Parameter indexes start at 1, column indexes at 0 (as in SQLite).
class Statement {
public:
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bind_null(int index);
    template <class T>
    Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }
    // Named parameters, as written in the SQL: ":name" (also "@name", "$name").
    template <class T>
    Statement& bind(std::string_view name, const T& value) { return bind(parameter_index(name), value); }
    Statement& bind_null(std::string_view name) { return bind_null(parameter_index(name)); }

    // true: a row is ready for the column getters; false: the statement is done.
    Result<bool> step();
    // Steps to the end (INSERT, UPDATE, DELETE, DDL); rows, if any, are ignored.
    Result<void> run();
    // Ready to run again: clears the bindings and any remembered bind error.
    void reset();

    bool is_null(int column) const;
    std::int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    std::optional<std::int64_t> optional_int64(int column) const;
    std::optional<double> optional_real(int column) const;
    int column_count() const;

    std::string_view sql() const;

private:
    friend class Database;
    explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
    int parameter_index(std::string_view name);
    void note_bind(int rc, int index);

    sqlite3_stmt* stmt_ = nullptr;
    std::string bind_error_{};
};

class Transaction;

// A statement from Database::cached(): reset (bindings cleared, read snapshot ended) when it
// goes out of scope, so a half-read SELECT never pins the WAL.
class CachedStatement {
public:
    explicit CachedStatement(Statement* s) : s_(s) {}
    CachedStatement(CachedStatement&& other) noexcept : s_(std::exchange(other.s_, nullptr)) {}
    CachedStatement& operator=(CachedStatement&&) = delete;
    CachedStatement(const CachedStatement&) = delete;
    ~CachedStatement() { if (s_) s_->reset(); }
    Statement* operator->() const { return s_; }
    Statement& operator*() const { return *s_; }

private:
    Statement* s_;
};

struct OpenOptions {
    int busy_timeout_ms = 5000;  // how long a writer waits for another one (milter vs CLI)
    // FULL: every commit is on disk when it returns (the quarantine index must never lose mail).
    // false: synchronous=NORMAL, which in WAL mode may lose the last commits on power loss.
    bool synchronous_full = true;
    bool migrate = true;        // create or upgrade the tables to the latest schema version
    // When the file is created by root, hand it to the owner of its directory (/var/lib/pmx is
    // the pmx user's), so a first `pmx` command as root does not lock the daemons out.
    bool chown_new_file_to_directory_owner = true;
};

// One connection. Use it from one thread at a time (the milter gives each worker its own,
// or serializes, as DatabaseLists does); any number of connections and processes may share
// the file: readers never wait in WAL mode, writers wait up to busy_timeout for each other.
class Database {
public:
    // Opens (creating the file when missing, mode 0640) with WAL, busy_timeout,
    // foreign_keys and the requested synchronous level, then migrates.
    // The directory must exist; errors name the path.
    static Result<Database> open(const std::filesystem::path& path, const OpenOptions& options = {});

    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    Result<Statement> prepare(std::string_view sql);
    // A statement prepared once per connection and kept (hot paths: one per message).
    // Not reentrant: do not use the same SQL again while iterating its rows.
    Result<CachedStatement> cached(std::string_view sql);
    // Runs SQL without parameters (may hold several statements).
    Result<void> exec(std::string_view sql);

    // BEGIN IMMEDIATE (writers queue up front, waiting up to busy_timeout), or a SAVEPOINT
    // when a transaction is already open, so store functions compose: each opens its own,
    // and inside a caller's transaction it becomes a nested one.
    Result<Transaction> transaction();
    bool in_transaction() const;

    std::int64_t changes() const;  // rows changed by the last INSERT/UPDATE/DELETE

    // The schema version the tables are at (0: none yet), and the latest this code knows.
    Result<int> schema_version();
    static int latest_schema_version();
    Result<void> migrate();

    Result<std::string> journal_mode();  // "wal" once open

    const std::filesystem::path& path() const { return path_; }

    // "Failed to <what> in database <path>: <sqlite message>"
    Error error(std::string_view what) const;

private:
    friend class Statement;
    friend class Transaction;
    Database() = default;
    Result<std::string> journal_mode_set_wal();

    std::filesystem::path path_{};
    sqlite3* db_ = nullptr;
    int savepoint_depth_ = 0;
    std::unordered_map<std::string, std::unique_ptr<Statement>> cache_{};
};

// Rolls back on destruction unless commit() succeeded.
class Transaction {
public:
    Transaction(Transaction&& other) noexcept;
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    ~Transaction();

    Result<void> commit();
    void rollback();

private:
    friend class Database;
    Transaction(Database* db, int depth) : db_(db), depth_(depth) {}
    Database* db_ = nullptr;
    int depth_ = 0;  // 0: the outer BEGIN; n > 0: SAVEPOINT pmx_n
};

// Current time in microseconds since the epoch (CLOCK_REALTIME).
std::int64_t now_us();

// "%" and "_" and "\" escaped for LIKE ... ESCAPE '\', lowercased, wrapped in "%...%".
std::string like_substring(std::string_view needle);

}  // namespace pmx::store
