// The milter's immutable per-generation state: the config snapshot and everything built
// from it (policy, site, paths). A reload builds a new Runtime; messages in flight keep
// the one they started with. The store (database connection, lists) outlives generations:
// it is opened once at start (database.path needs a restart) and shared.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "av/settings.hpp"
#include "config/loader.hpp"
#include "mail/message.hpp"
#include "policy/engine.hpp"
#include "secret/keyring.hpp"
#include "spam/scanner.hpp"
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
    // Bayes: the global tokens in memory for every message (refreshed when something was
    // learned), and one connection for per-user counts and auto-learn writes
    // (synchronous=NORMAL: a lost auto-learn costs nothing).
    spam::bayes::SnapshotCache bayes_cache{std::chrono::seconds(5)};
    std::mutex bayes_mutex;
    std::optional<store::Database> bayes_db;
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
    std::shared_ptr<const spam::Scanner> spam;  // rules, Bayes and blocklists (spam_scan.hpp)
    av::MilterSettings av;  // whether and how pmx-avd scans each message (av_scan.hpp)
    // Checks the stamp on mail pmx-queued re-injects (reinjected.hpp); null: none can pass.
    std::shared_ptr<const secret::Keyring> keyring;
};

}  // namespace pmx::milter
