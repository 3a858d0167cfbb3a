// Seam: the allow/block lists `pmx policy test` evaluates with. Implemented in
// cli/policy_commands.cpp over store::DatabaseLists (lib/store/lists_store.hpp) on database.path;
// nullptr when there is no database or it cannot be opened (the command then says so and
// evaluates with empty lists).
#pragma once

#include <memory>

#include "config/loader.hpp"
#include "policy/lists.hpp"

namespace pmx::policy {

std::unique_ptr<ListLookup> open_lists_for_cli(const config::Snapshot& snapshot);

}  // namespace pmx::policy
