// The database side of pmx-ipblockd, on a thread of its own so SQLite never delays a policy
// answer: every second it
//  - reloads the manual and dynamic blocks when ipblock_version changed or one expired,
//  - reads the message log rows written since the last look (by id; readers never wait
//    for the milter in WAL mode) and feeds dynamic blocking,
//  - blocks IPs that qualify, with a TTL doubling per repeat offense.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "blocklist_state.hpp"
#include "daemon/daemon.hpp"
#include "ipblock/block_store.hpp"
#include "ipblock/tracker.hpp"
#include "store/database.hpp"

namespace pmx::ipblockd {

class BlockPoller {
public:
    BlockPoller(daemon::Daemon& daemon, BlocklistState& state);
    ~BlockPoller();  // stops the thread
    void start();
    // Asks for a look right away (after a reload).
    void wake();

    std::size_t tracked() const;

private:
    void run();
    void tick();
    bool open_database();
    void refresh_blocks(std::int64_t now);
    void follow_log(const config::Snapshot& cfg, std::int64_t now);
    void block(const config::Snapshot& cfg, const ipblock::Address& a, const ipblock::WindowCount& c, std::int64_t now);

    daemon::Daemon& daemon_;
    BlocklistState& state_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool woken_ = false;

    // Owned by the thread.
    std::optional<store::Database> db_;
    std::int64_t next_open_attempt_ = 0;
    std::int64_t version_ = -1;
    std::optional<std::int64_t> next_expiry_;
    std::optional<std::int64_t> last_log_id_;
    std::int64_t next_forget_ = 0;
    std::set<std::pair<std::int64_t, std::string>> dynamic_expiries_;  // journal "expired" lines
    std::map<std::string, std::int64_t> paid_until_;  // after a restart: network → its last block's start
    ipblock::Tracker tracker_;
    std::size_t tracked_ = 0;
};

}  // namespace pmx::ipblockd
