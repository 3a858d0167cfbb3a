#include "av_service.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <future>

#include "connection.hpp"
#include "daemon/log.hpp"

namespace pmx::avd {

namespace {

std::string utc_text(std::uint64_t usec) {
    if (usec == 0) return "-";
    std::time_t t = static_cast<std::time_t>(usec / 1000000u);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace

AvService::~AvService() {
    if (stop_fd_) {
        std::uint64_t one = 1;
        if (::write(stop_fd_.get(), &one, sizeof one) < 0) log::warning("Failed to wake the scan workers: {}", std::strerror(errno));
    }
    for (auto& t : workers_) t.join();  // scans in progress finish (each bounded by av.max_scan_ms)
    if (!socket_path_.empty() && listen_fd_) ::unlink(socket_path_.c_str());
}

std::shared_ptr<const Engine> AvService::engine() const {
    std::lock_guard lock(mutex_);
    return engine_;
}

Result<std::shared_ptr<const Engine>> AvService::build_engine(const config::Snapshot& s) const {
    std::filesystem::path dir = s.string("av.database_dir");
    EngineLimits limits = EngineLimits::from_config(s);
    auto pending = std::async(std::launch::async, [dir, limits] { return Engine::load(dir, limits); });
    // Loading a full signature set takes longer than WatchdogSec=; we are alive meanwhile.
    while (pending.wait_for(std::chrono::seconds(2)) != std::future_status::ready) sd_notify(0, "WATCHDOG=1");
    return pending.get();
}

Result<void> AvService::open_socket() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path_.native().size() >= sizeof addr.sun_path)
        return Error{fmt::format("Failed to listen on {}: path longer than {} bytes", socket_path_.string(), sizeof addr.sun_path - 1)};
    std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.native().size());
    struct stat st {};
    if (::lstat(socket_path_.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return Error{fmt::format("Failed to listen on {}: a file that is not a socket is in the way", socket_path_.string())};
        ::unlink(socket_path_.c_str());  // left over from an earlier run
    }
    daemon::UniqueFd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (!fd) return Error{fmt::format("Failed to create socket: {}", std::strerror(errno))};
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return Error{fmt::format("Failed to bind {}: {}", socket_path_.string(), std::strerror(errno))};
    ::chmod(socket_path_.c_str(), 0660);  // the milter reaches it through group pmx
    if (::listen(fd.get(), SOMAXCONN) < 0)
        return Error{fmt::format("Failed to listen on {}: {}", socket_path_.string(), std::strerror(errno))};
    listen_fd_ = std::move(fd);
    stop_fd_ = daemon::UniqueFd{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    if (!stop_fd_) return Error{fmt::format("Failed to create an eventfd: {}", std::strerror(errno))};
    return {};
}

Result<void> AvService::start(daemon::Daemon& daemon) {
    daemon_ = &daemon;
    auto config = daemon.config();
    database_dir_ = config->string("av.database_dir");
    auto e = build_engine(*config);
    if (e) {
        engine_ = std::move(*e);
        log::info("Loaded {} signatures from {} in {} ms (libclamav {})", engine_->signatures(), database_dir_.string(),
                  engine_->load_ms(), Engine::libclamav_version());
    } else {
        // Not fatal: the daemon answers ERROR (the milter applies av.on_failure) until a
        // reload finds signatures, and says why in its status.
        last_error_ = e.error().message;
        log::warning("{}; every scan request is answered with an error until a reload loads signatures", last_error_);
    }
    socket_path_ = daemon::Daemon::runtime_path(config->string("av.socket"));
    if (auto r = open_socket(); !r) return r;
    auto n = static_cast<std::size_t>(config->integer("av.max_scans"));
    for (std::size_t i = 0; i < n; ++i) workers_.emplace_back([this] { worker(); });
    return {};
}

Result<void> AvService::prepare_reload(const config::Snapshot& next) {
    std::filesystem::path dir = next.string("av.database_dir");
    auto e = build_engine(next);
    if (!e) {
        std::lock_guard lock(mutex_);
        last_error_ = e.error().message;
        // With no engine before either (a gateway without signatures yet, as at start) there is
        // nothing to keep: the rest of the configuration applies and the status still says why
        // scans fail. Only a reload that would lose working signatures is refused.
        if (!engine_) {
            database_dir_ = dir;
            log::warning("{}; every scan request is answered with an error until a reload loads signatures",
                         e.error().message);
            return {};
        }
        return Error{fmt::format("{} (still scanning with the signatures loaded before)", e.error().message)};
    }
    {
        std::lock_guard lock(mutex_);
        engine_ = std::move(*e);  // scans in flight hold the old engine until they finish
        last_error_.clear();
        database_dir_ = dir;
    }
    auto now = engine();
    daemon_->counters().add("engine_reloads");
    log::info("Reloaded signatures: {} from {} in {} ms", now->signatures(), dir.string(), now->load_ms());
    return {};
}

av::Verdict AvService::scan(const std::function<av::Verdict(const Engine&)>& run) {
    auto e = engine();  // this scan's engine, whatever a reload does meanwhile
    auto& counters = daemon_->counters();
    counters.add("scans");
    if (!e) {
        counters.add("errors");
        std::lock_guard lock(mutex_);
        return av::Verdict::error(fmt::format("no signatures loaded: {}", last_error_));
    }
    ++in_flight_;
    av::Verdict v = run(*e);
    --in_flight_;
    switch (v.kind) {
        case av::VerdictKind::Clean: counters.add("clean"); break;
        case av::VerdictKind::Infected:
            counters.add("infected");
            log::notice("Found {}", fmt::join(v.names, ", "));
            break;
        case av::VerdictKind::Unscannable: counters.add("unscannable"); break;
        case av::VerdictKind::Error:
            counters.add("errors");
            log::warning("Failed to scan: {}", v.reason);
            break;
    }
    return v;
}

void AvService::worker() {
    Handlers h{
        .scan_fd = [this](int fd) { return scan([fd](const Engine& e) { return e.scan_fd(fd); }); },
        .scan_bytes = [this](std::string_view b) { return scan([b](const Engine& e) { return e.scan_memory(b); }); },
        .status = [this] { return status_fields(); },
    };
    for (;;) {
        pollfd p[2] = {{listen_fd_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
        int r = ::poll(p, 2, -1);
        if (r < 0) {
            if (errno == EINTR) continue;
            log::error("Failed to wait for scan clients: {}", std::strerror(errno));
            return;
        }
        if (p[1].revents) return;
        if (!(p[0].revents & POLLIN)) continue;
        int c = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);  // blocking I/O with timeouts
        if (c < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log::warning("Failed to accept a scan client: {}, ignoring", std::strerror(errno));
            continue;  // another worker took it
        }
        daemon::UniqueFd conn{c};
        serve_connection(conn.get(), h);
    }
}

av::StatusFields AvService::status_fields() const {
    auto e = engine();
    std::string err;
    std::filesystem::path dir;
    {
        std::lock_guard lock(mutex_);
        err = last_error_;
        dir = database_dir_;
    }
    av::StatusFields f;
    f.emplace_back("state", e ? "ready" : "no-signatures");
    f.emplace_back("database_dir", e ? e->dir().string() : dir.string());
    f.emplace_back("signatures", std::to_string(e ? e->signatures() : 0));
    f.emplace_back("db_version", std::to_string(e ? e->db_version() : 0));
    f.emplace_back("db_time", e && e->db_time() ? utc_text(static_cast<std::uint64_t>(e->db_time()) * 1000000u) : "-");
    f.emplace_back("loaded", e ? utc_text(e->loaded_usec()) : "-");
    f.emplace_back("loaded_usec", std::to_string(e ? e->loaded_usec() : 0));
    f.emplace_back("load_ms", std::to_string(e ? e->load_ms() : 0));
    f.emplace_back("last_error", err.empty() ? "-" : err);
    f.emplace_back("libclamav", Engine::libclamav_version());
    f.emplace_back("workers", std::to_string(workers_.size()));
    f.emplace_back("in_flight", std::to_string(in_flight_.load()));
    auto counters = daemon_->counters().values();
    for (const char* name : {"scans", "clean", "infected", "unscannable", "errors", "engine_reloads"}) {
        auto it = counters.find(name);
        f.emplace_back(name, std::to_string(it == counters.end() ? 0 : it->second));
    }
    if (e) {
        const auto& l = e->limits();
        f.emplace_back("max_scan_bytes", std::to_string(l.max_scan_bytes));
        f.emplace_back("max_file_bytes", std::to_string(l.max_file_bytes));
        f.emplace_back("max_recursion", std::to_string(l.max_recursion));
        f.emplace_back("max_files", std::to_string(l.max_files));
        f.emplace_back("max_scan_ms", std::to_string(l.max_scan_ms));
    }
    return f;
}

std::string AvService::status_text() const {
    auto e = engine();
    std::string err;
    {
        std::lock_guard lock(mutex_);
        err = last_error_;
    }
    if (!e) return fmt::format("Listening on {}; no signatures loaded ({}): scans answer with an error", listen(), err);
    std::string s = fmt::format("Scanning on {} with {} signatures (database version {}, loaded {} from {})", listen(),
                                e->signatures(), e->db_version() ? std::to_string(e->db_version()) : "local",
                                utc_text(e->loaded_usec()), e->dir().string());
    if (!err.empty()) s += fmt::format("; last reload failed: {}", err);
    return s;
}

}  // namespace pmx::avd
