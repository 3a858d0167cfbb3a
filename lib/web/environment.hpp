// What a request handler may reach besides the request itself: the config snapshot the request
// started with, the store, the keyring, and how to run the `pmx` CLI for admin operations.
// pmx-httpd builds one per request (cheap: shared pointers and paths).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "config/loader.hpp"
#include "secret/keyring.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::web {

class RateLimiter;  // web/rate_limit.hpp

struct Environment {
    config::SnapshotPtr config;      // never null while a request runs
    config::Layout layout;           // where the config files are (for `pmx config set` and friends)
    bool user_bus = false;           // the user manager and bus (tests; `pmx --user`), else the system ones
    std::filesystem::path pmx_cli;   // the `pmx` binary admin operations run (see web/cli_runner.hpp)
    std::shared_ptr<const secret::Keyring> keyring;  // signs session-less tokens (login links); may be null
    std::shared_ptr<RateLimiter> limiter;            // login attempts per client and per account

    // A connection to the configured database for this request (SQLite in WAL mode lets
    // requests on the server's threads run side by side). Migrates like every pmx store user.
    Result<store::Database> open_database() const;
    // quarantine.dir of the snapshot.
    std::filesystem::path quarantine_dir() const;
};

}  // namespace pmx::web
