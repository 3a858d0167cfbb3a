// pmx-avd's service: the engine (loaded once, swapped whole on Reload), the scan socket,
// and a fixed pool of av.max_scans worker threads that accept and serve connections.
// The workers block in poll/accept/scan, never on the event loop, so a reload that takes
// tens of seconds (a full signature set) delays no scan: they keep the old engine until
// the new one is compiled and swapped in.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/daemon.hpp"
#include "daemon/unix_listener.hpp"
#include "engine.hpp"

namespace pmx::avd {

class AvService : public daemon::Service {
public:
    AvService() = default;
    ~AvService() override;

    Result<void> start(daemon::Daemon& daemon) override;
    Result<void> prepare_reload(const config::Snapshot& next) override;
    std::string status_text() const override;
    std::string listen() const override { return socket_path_.string(); }

private:
    std::shared_ptr<const Engine> engine() const;
    // Builds an engine on a helper thread, keeping the watchdog fed while it loads.
    Result<std::shared_ptr<const Engine>> build_engine(const config::Snapshot& s) const;
    Result<void> open_socket();
    void worker();
    av::Verdict scan(const std::function<av::Verdict(const Engine&)>& run);
    av::StatusFields status_fields() const;

    daemon::Daemon* daemon_ = nullptr;
    std::filesystem::path socket_path_;
    daemon::UniqueFd listen_fd_;
    daemon::UniqueFd stop_fd_;  // eventfd: wakes every worker on shutdown
    std::vector<std::thread> workers_;

    mutable std::mutex mutex_;
    std::shared_ptr<const Engine> engine_;  // null until signatures load
    std::string last_error_;                // the last load failure, "" after a success
    std::filesystem::path database_dir_;
    std::atomic<int> in_flight_{0};
};

}  // namespace pmx::avd
