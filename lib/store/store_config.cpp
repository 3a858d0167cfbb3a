#include "store/store_config.hpp"

#include <fmt/format.h>

#include "util/paths.hpp"

namespace pmx::store {

StorePaths store_paths(const config::Snapshot& snapshot) {
    return {state_path(snapshot.string("database.path")), state_path(snapshot.string("quarantine.dir"))};
}

Result<Database> open_configured_database(StorePaths* paths, const OpenOptions& options) {
    auto snapshot = config::load(config::Layout::from_environment());
    if (!snapshot) return Error{fmt::format("Configuration is invalid:\n{}", snapshot.error().message)};
    auto p = store_paths(*snapshot);
    if (paths) *paths = p;
    return Database::open(p.database, options);
}

}  // namespace pmx::store
