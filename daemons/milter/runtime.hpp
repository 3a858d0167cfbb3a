// The milter's immutable per-generation state: the config snapshot and everything built
// from it (policy, site, paths). A reload builds a new Runtime; messages in flight keep
// the one they started with. The store (database connection, lists) outlives generations:
// it is opened once at start (database.path needs a restart) and shared.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "config/loader.hpp"
#include "mail/message.hpp"
#include "policy/engine.hpp"
#include "store/database.hpp"
#include "store/lists_store.hpp"

namespace pmx::milter {

// One database connection for the milter's writes (quarantine index, message log), used by
// many libmilter threads one at a time; list lookups have their own (DatabaseLists).
// The quarantine index is written with synchronous=FULL (a held message must survive a
// power cut before the MTA lets go of it); the message log with NORMAL on its own
// connection, so logging does not cost an fsync per message.
struct Store {
    std::mutex mutex;
    store::Database db;
    std::mutex log_mutex;
    store::Database log_db;
    std::unique_ptr<store::DatabaseLists> lists;
    Store(store::Database d, store::Database l) : db(std::move(d)), log_db(std::move(l)) {}
};

struct Runtime {
    config::SnapshotPtr config;
    std::shared_ptr<const policy::Policy> policy;
    policy::Site site;
    mail::ParseLimits limits;
    std::filesystem::path quarantine_dir;
    std::string node_name;
    std::shared_ptr<Store> store;
};

}  // namespace pmx::milter
