#include "web/environment.hpp"

#include "store/store_config.hpp"

namespace pmx::web {

Result<store::Database> Environment::open_database() const {
    // Same paths and the same migration as every `pmx` store command (open_configured_database),
    // but from the snapshot this request started with, not a fresh load.
    return store::Database::open(store::store_paths(*config).database);
}

std::filesystem::path Environment::quarantine_dir() const { return store::store_paths(*config).quarantine_dir; }

}  // namespace pmx::web
