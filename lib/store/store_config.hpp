// Where the store lives, from the configuration: database.path and quarantine.dir.
#pragma once

#include <filesystem>

#include "config/loader.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::store {

struct StorePaths {
    std::filesystem::path database;        // database.path
    std::filesystem::path quarantine_dir;  // quarantine.dir
};

StorePaths store_paths(const config::Snapshot& snapshot);

// Loads the configuration of this environment (config::Layout::from_environment()) and
// opens its database, creating or migrating the tables: what each `pmx` store command does.
// paths, when given, receives the places read from the configuration.
Result<Database> open_configured_database(StorePaths* paths = nullptr, const OpenOptions& options = {});

}  // namespace pmx::store
