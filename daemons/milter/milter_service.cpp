#include "milter_service.hpp"

#include <libmilter/mfapi.h>
#include <sys/stat.h>

#include <fmt/format.h>

#include "callbacks.hpp"
#include "daemon/log.hpp"

namespace pmx::milter {

namespace {
MilterService* g_instance = nullptr;
}

MilterService& MilterService::instance() { return *g_instance; }

std::string milter_connection_spec(const std::string& configured) {
    if (configured.starts_with("inet:") || configured.starts_with("inet6:") || configured.starts_with("unix:"))
        return configured;
    return "unix:" + daemon::Daemon::runtime_path(configured).string();
}

Result<std::shared_ptr<const Runtime>> MilterService::build_runtime(config::SnapshotPtr config) {
    auto rt = std::make_shared<Runtime>();
    rt->config = std::move(config);
    return std::shared_ptr<const Runtime>(std::move(rt));
}

std::shared_ptr<const Runtime> MilterService::runtime() const {
    std::lock_guard lock(mutex_);
    return runtime_;
}

Result<void> MilterService::start(daemon::Daemon& daemon) {
    daemon_ = &daemon;
    g_instance = this;
    auto rt = build_runtime(daemon.config());
    if (!rt) return rt.error();
    runtime_ = std::move(*rt);

    listen_ = milter_connection_spec(daemon.config()->string("milter.socket"));
    if (smfi_register(milter_description()) == MI_FAILURE) return Error{"Failed to register with libmilter"};
    if (smfi_setconn(const_cast<char*>(listen_.c_str())) == MI_FAILURE)
        return Error{fmt::format("Failed to set milter socket {}", listen_)};
    smfi_setbacklog(256);
    // Open now (removing a stale unix socket), so READY=1 means "listening".
    if (smfi_opensocket(true) == MI_FAILURE) return Error{fmt::format("Failed to open milter socket {}", listen_)};
    if (listen_.starts_with("unix:")) ::chmod(listen_.c_str() + 5, 0660);  // the MTA reaches it through group pmx
    return {};
}

Result<void> MilterService::prepare_reload(const config::Snapshot& next) {
    auto rt = build_runtime(std::make_shared<const config::Snapshot>(next));
    if (!rt) return rt.error();
    std::lock_guard lock(mutex_);
    runtime_ = std::move(*rt);
    return {};
}

std::string MilterService::status_text() const {
    return fmt::format("Judging mail on {}", listen_);
}

int MilterService::run_main(daemon::Daemon&) {
    // Returns on SIGTERM/SIGINT/SIGHUP (libmilter's own signal thread), after live sessions end.
    int r = smfi_main();
    return r == MI_SUCCESS ? 0 : 1;
}

}  // namespace pmx::milter
