// The ordered schema migrations of the store. Version N's SQL turns a database at
// version N-1 into version N; each runs in the one transaction that records it in
// schema_migrations. Never edit a released migration: append a new one.
#pragma once

#include <span>
#include <string_view>

namespace pmx::store {

struct Migration {
    int version;
    std::string_view description;
    std::string_view sql;  // SQLite dialect; a PostgreSQL backend keeps its own list with the same versions
};

// Versions 1, 2, 3... in order, without gaps.
std::span<const Migration> migrations();

}  // namespace pmx::store
