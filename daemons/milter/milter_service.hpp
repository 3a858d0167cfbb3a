// pmx-milter's Service: libmilter owns the main thread; the skeleton's bus runs beside it.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "daemon/daemon.hpp"
#include "runtime.hpp"

namespace pmx::milter {

class MilterService : public daemon::Service {
public:
    Result<void> start(daemon::Daemon& daemon) override;
    Result<void> prepare_reload(const config::Snapshot& next) override;
    std::string status_text() const override;
    std::string listen() const override { return listen_; }
    bool owns_main_thread() const override { return true; }
    int run_main(daemon::Daemon& daemon) override;

    // Used by the libmilter callbacks (one service per process).
    static MilterService& instance();
    std::shared_ptr<const Runtime> runtime() const;
    daemon::Counters& counters() { return daemon_->counters(); }

private:
    static Result<std::shared_ptr<const Runtime>> build_runtime(config::SnapshotPtr config, std::shared_ptr<Store> store,
                                                                const Runtime* previous = nullptr);
    static Result<std::shared_ptr<Store>> open_store(const config::Snapshot& config);

    daemon::Daemon* daemon_ = nullptr;
    std::string listen_;
    mutable std::mutex mutex_;
    std::shared_ptr<const Runtime> runtime_;
};

// libmilter's socket spec for a configured value: "inet:PORT@HOST" stays, a path becomes "unix:PATH".
std::string milter_connection_spec(const std::string& configured);

}  // namespace pmx::milter
