// pmx-queued's service: watches the spool, claims entries that are due (incoming at once,
// deferred when their next attempt comes), runs at most queue.max_parallel deliveries on worker
// threads, and serves Flush() on org.pmx.QueueRunner1. All bookkeeping runs on the event loop's
// thread; workers only deliver and write the entry they hold.
#pragma once

#include <systemd/sd-event.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bus/bus.hpp"
#include "daemon/daemon.hpp"
#include "delivery_job.hpp"
#include "queue/spool.hpp"
#include "worker_pool.hpp"

namespace pmx::queued {

class QueueRunner : public daemon::Service {
public:
    QueueRunner() = default;
    ~QueueRunner() override;

    Result<void> start(daemon::Daemon& daemon) override;
    Result<void> prepare_reload(const config::Snapshot& next) override;
    std::string status_text() const override;
    std::string listen() const override;

    // Makes every deferred entry due now; returns how many (the bus method Flush()).
    std::uint32_t flush();

private:
    struct Known {
        queue::State state;
        std::int64_t due_us;
    };

    void scan();
    void dispatch();
    void arm_timer();
    void set_due(const std::string& id, queue::State state, std::int64_t due_us);
    void forget(const std::string& id);
    void finished(JobResult r);
    void reload_keyring(const config::Snapshot& snapshot);

    static int on_inotify(sd_event_source*, const struct inotify_event* ev, void* userdata) noexcept;
    static int on_timer(sd_event_source*, std::uint64_t, void* userdata) noexcept;
    static int on_done(sd_event_source*, int fd, std::uint32_t, void* userdata) noexcept;

    daemon::Daemon* daemon_ = nullptr;
    std::optional<queue::Spool> spool_;
    std::map<std::string, Known> known_;                  // waiting entries (incoming, deferred)
    std::set<std::pair<std::int64_t, std::string>> due_;  // (due_us, id) of known_
    std::set<std::string> in_flight_;
    std::int64_t next_scan_us_ = 0;
    std::size_t failed_count_ = 0;
    std::uint64_t sent_since_start_ = 0;

    std::shared_ptr<const secret::Keyring> keyring_;
    std::string keyring_problem_;

    sd_event_source* inotify_source_ = nullptr;
    sd_event_source* timer_source_ = nullptr;
    sd_event_source* done_source_ = nullptr;
    int done_fd_ = -1;
    bus::SlotPtr bus_slot_;

    std::mutex done_mutex_;
    std::vector<JobResult> done_;

    // Last: destroyed first, so no worker outlives what it reports into.
    std::unique_ptr<WorkerPool> pool_;
};

}  // namespace pmx::queued
