// The milter's immutable per-generation state: the config snapshot and everything built
// from it (policy, lists, store handles). A reload builds a new Runtime; messages in
// flight keep the one they started with.
#pragma once

#include <memory>

#include "config/loader.hpp"

namespace pmx::milter {

struct Runtime {
    config::SnapshotPtr config;
};

}  // namespace pmx::milter
