#include "daemon/daemon.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "bus/bus.hpp"
#include "daemon/log.hpp"
#include "pmx-build-config.h"
#include "services/registry.hpp"

namespace pmx::daemon {

namespace {

std::uint64_t now_usec(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

struct UniqueEventFd {
    int fd;
    ~UniqueEventFd() { if (fd >= 0) ::close(fd); }
};

std::string node_name_of(const config::Snapshot& s) {
    std::string n = s.string("general.node_name");
    if (!n.empty()) return n;
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return host;
}

}  // namespace

void Counters::add(const std::string& name, std::uint64_t n) {
    std::lock_guard lock(mutex_);
    values_[name] += n;
}

std::map<std::string, std::uint64_t> Counters::values() const {
    std::lock_guard lock(mutex_);
    return values_;
}

struct Daemon::BusState {
    bus::BusPtr bus;
    bus::SlotPtr object;
    std::string bus_name;
};

// The C side of the bus object: thin noexcept shims into Daemon.
struct BusGlue {
    static Daemon& d(void* userdata) { return *static_cast<Daemon*>(userdata); }

    static int reload(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
        try {
            auto r = d(userdata).reload();
            if (!r) return sd_bus_error_set(error, "org.pmx.Error.Config", r.error().message.c_str());
            return sd_bus_reply_method_return(m, "");
        } catch (const std::exception& e) {
            return sd_bus_error_set(error, "org.pmx.Error.Internal", e.what());
        }
    }

    static int get_version(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*,
                           sd_bus_error*) noexcept {
        return sd_bus_message_append(reply, "s", PMX_VERSION);
    }
    static int get_generation(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                              sd_bus_error*) noexcept {
        return sd_bus_message_append(reply, "t", static_cast<uint64_t>(d(userdata).config_generation()));
    }
    static int get_loaded(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                          sd_bus_error*) noexcept {
        return sd_bus_message_append(reply, "t", static_cast<uint64_t>(d(userdata).config_loaded_usec()));
    }
    static int get_status(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                          sd_bus_error* error) noexcept {
        try {
            return sd_bus_message_append(reply, "s", d(userdata).service_->status_text().c_str());
        } catch (const std::exception& e) {
            return sd_bus_error_set(error, "org.pmx.Error.Internal", e.what());
        }
    }
    static int get_listen(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                          sd_bus_error* error) noexcept {
        try {
            return sd_bus_message_append(reply, "s", d(userdata).service_->listen().c_str());
        } catch (const std::exception& e) {
            return sd_bus_error_set(error, "org.pmx.Error.Internal", e.what());
        }
    }
    static int get_counters(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* userdata,
                            sd_bus_error* error) noexcept {
        try {
            int r = sd_bus_message_open_container(reply, 'a', "{st}");
            if (r < 0) return r;
            for (const auto& [name, value] : d(userdata).counters().values()) {
                r = sd_bus_message_append(reply, "{st}", name.c_str(), static_cast<uint64_t>(value));
                if (r < 0) return r;
            }
            return sd_bus_message_close_container(reply);
        } catch (const std::exception& e) {
            return sd_bus_error_set(error, "org.pmx.Error.Internal", e.what());
        }
    }

    static int on_signal(sd_event_source* s, const signalfd_siginfo* si, void* userdata) noexcept {
        auto& daemon = d(userdata);
        if (si->ssi_signo == SIGHUP) {
            // Never a reload trigger: libmilter treats SIGHUP as stop, so pmx reloads over D-Bus only.
            log::notice("Received SIGHUP; pmx reloads over D-Bus (pmx reload {}), ignoring", daemon.service_id());
            return 0;
        }
        log::info("Received {}, stopping", strsignal(static_cast<int>(si->ssi_signo)));
        sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
        return sd_event_exit(sd_event_source_get_event(s), 0);
    }
};

namespace {

const sd_bus_vtable kDaemonVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Reload", "", "", BusGlue::reload, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("Version", "s", BusGlue::get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ConfigGeneration", "t", BusGlue::get_generation, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ConfigLoadedUSec", "t", BusGlue::get_loaded, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("StatusText", "s", BusGlue::get_status, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("Listen", "s", BusGlue::get_listen, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("Counters", "a{st}", BusGlue::get_counters, 0, 0),
    SD_BUS_VTABLE_END,
};

}  // namespace

Daemon::Daemon(std::string service_id, config::Layout layout)
    : service_id_(std::move(service_id)), layout_(std::move(layout)) {}

Daemon::~Daemon() {
    bus_.reset();
    service_.reset();
    if (event_) sd_event_unref(event_);
}

config::SnapshotPtr Daemon::config() const {
    std::lock_guard lock(config_mutex_);
    return config_;
}

std::filesystem::path Daemon::runtime_path(const std::string& configured) {
    std::filesystem::path p{configured};
    if (p.is_absolute()) return p;
    std::string base = "/run/pmx";
    if (const char* rd = std::getenv("RUNTIME_DIRECTORY"); rd && *rd) {
        base = rd;
        base = base.substr(0, base.find(':'));
    }
    return std::filesystem::path(base) / p;
}

sd_bus* Daemon::bus() const { return bus_ ? bus_->bus.get() : nullptr; }

void Daemon::notify_status() const {
    if (!service_) return;
    sd_notifyf(0, "STATUS=%s", service_->status_text().c_str());
}

void Daemon::apply_logging(const config::Snapshot& s) const {
    log::set_identity(service_id_, node_name_of(s));
    log::set_level(log::parse_level(s.string("general.log_level")));
}

Result<void> Daemon::load_initial_config() {
    auto loaded = config::load(layout_);
    if (!loaded) return loaded.error();
    apply_logging(*loaded);
    std::lock_guard lock(config_mutex_);
    config_ = std::make_shared<const config::Snapshot>(std::move(*loaded));
    generation_ = 1;
    loaded_usec_ = now_usec(CLOCK_REALTIME);
    return {};
}

Result<void> Daemon::reload() {
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading configuration",
               static_cast<unsigned long long>(now_usec(CLOCK_MONOTONIC)));
    auto finish = [&](const std::string& status) { sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str()); };

    auto loaded = config::load(layout_);
    if (!loaded) {
        log::error("Failed to reload configuration, keeping generation {}: {}", generation_.load(), loaded.error().message);
        finish(fmt::format("Reload failed, still on config generation {}", generation_.load()));
        return Error{fmt::format("Failed to reload configuration: {}", loaded.error().message)};
    }
    if (auto r = service_->prepare_reload(*loaded); !r) {
        log::error("Failed to apply configuration, keeping generation {}: {}", generation_.load(), r.error().message);
        finish(fmt::format("Reload failed, still on config generation {}", generation_.load()));
        return r;
    }
    apply_logging(*loaded);
    {
        std::lock_guard lock(config_mutex_);
        config_ = std::make_shared<const config::Snapshot>(std::move(*loaded));
        ++generation_;
        loaded_usec_ = now_usec(CLOCK_REALTIME);
    }
    counters_.add("reloads");
    if (bus_)
        sd_bus_emit_properties_changed(bus_->bus.get(), std::string(kDaemonObjectPath).c_str(),
                                       std::string(kDaemonInterface).c_str(), "ConfigGeneration", "ConfigLoadedUSec",
                                       nullptr);
    log::info("Configuration reloaded, generation {}", generation_.load());
    finish(service_->status_text());
    return {};
}

Result<void> Daemon::setup_event_loop(bool handle_signals) {
    // sd_event_new, not sd_event_default: the loop may run on a thread other than main.
    int r = sd_event_new(&event_);
    if (r < 0) return Error{fmt::format("Failed to allocate event loop: {}", std::strerror(-r))};
    // Blocked before any thread exists, so every thread inherits the mask; then either
    // our signalfd or libmilter's signal thread (sigwait) receives them.
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, sig);
    if (pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0)
        return Error{fmt::format("Failed to block signals: {}", std::strerror(errno))};
    if (!handle_signals) {
        r = sd_event_set_watchdog(event_, true);
        if (r < 0) return Error{fmt::format("Failed to enable watchdog: {}", std::strerror(-r))};
        return {};
    }
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
        r = sd_event_add_signal(event_, nullptr, sig, BusGlue::on_signal, this);
        if (r < 0) return Error{fmt::format("Failed to watch signal {}: {}", sig, std::strerror(-r))};
    }
    // Pings the watchdog at half of WatchdogSec= when the unit sets one.
    r = sd_event_set_watchdog(event_, true);
    if (r < 0) return Error{fmt::format("Failed to enable watchdog: {}", std::strerror(-r))};
    return {};
}

Result<void> Daemon::setup_bus(bool user_bus) {
    const ServiceInfo* info = find_service(service_id_);
    if (!info) return Error{fmt::format("Failed to find service {} in the registry", service_id_)};
    auto opened = bus::open(user_bus ? bus::Scope::User : bus::Scope::System);
    if (!opened) return opened.error();

    bus_ = std::make_unique<BusState>();
    bus_->bus = std::move(*opened);
    bus_->bus_name = std::string(info->bus_name);
    sd_bus* b = bus_->bus.get();

    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_vtable(b, &slot, std::string(kDaemonObjectPath).c_str(),
                                     std::string(kDaemonInterface).c_str(), kDaemonVtable, this);
    if (r < 0) return Error{fmt::format("Failed to add D-Bus object: {}", std::strerror(-r))};
    bus_->object.reset(slot);

    r = sd_bus_request_name(b, bus_->bus_name.c_str(), 0);
    if (r < 0) return Error{fmt::format("Failed to acquire bus name {}: {}", bus_->bus_name, std::strerror(-r))};
    r = sd_bus_attach_event(b, event_, SD_EVENT_PRIORITY_NORMAL);
    if (r < 0) return Error{fmt::format("Failed to attach bus to event loop: {}", std::strerror(-r))};
    // Losing the bus means losing our control plane: exit and let systemd restart us.
    sd_bus_set_exit_on_disconnect(b, 1);
    return {};
}

int Daemon::loop() {
    int r = sd_event_loop(event_);
    if (r < 0) {
        log::error("Event loop failed: {}", std::strerror(-r));
        return 1;
    }
    return r;
}

int run_daemon(std::string_view service_id, int argc, char** argv, std::function<std::unique_ptr<Service>()> make_service) {
    const ServiceInfo* info = find_service(service_id);
    std::string name = fmt::format("pmx-{}", service_id);
    CLI::App app{info ? fmt::format("{}: {}", name, info->description) : name, name};
    app.set_version_flag("--version", fmt::format("{} {}", name, PMX_VERSION));
    std::string bus_choice = "system";
    bool check_only = false;
    app.add_option("--bus", bus_choice, "Bus to serve org.pmx.Daemon1 on: system (default) or user")
        ->check(CLI::IsMember({"system", "user"}));
    app.add_flag("--check-config", check_only, "Validate the configuration and exit (78 when invalid)");
    app.footer("Normally started by systemd; see pmx(1) and pmx.toml(5).");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    log::set_identity(service_id, "");
    Daemon daemon{std::string(service_id), config::Layout::from_environment()};
    if (auto r = daemon.load_initial_config(); !r) {
        // One journal entry per problem, so `pmx start` can show them as the reason.
        std::string_view all = r.error().message;
        for (size_t start = 0; start < all.size();) {
            size_t end = all.find('\n', start);
            if (end == std::string_view::npos) end = all.size();
            log::error("Failed to load configuration: {}", all.substr(start, end - start));
            start = end + 1;
        }
        sd_notifyf(0, "STATUS=Configuration invalid: %s", std::string(all.substr(0, all.find('\n'))).c_str());
        return kExitConfig;
    }
    if (check_only) {
        fmt::print("Configuration OK ({} files)\n", daemon.config()->files().size());
        return 0;
    }

    daemon.service_ = make_service();
    const bool own_main = daemon.service_->owns_main_thread();
    if (auto r = daemon.setup_event_loop(!own_main); !r) {
        log::error("{}", r.error().message);
        return 1;
    }
    if (auto r = daemon.setup_bus(bus_choice == "user"); !r) {
        log::error("{}", r.error().message);
        return 1;
    }
    if (auto r = daemon.service_->start(daemon); !r) {
        log::error("{}", r.error().message);
        sd_notifyf(0, "STATUS=%s", r.error().message.c_str());
        return 1;
    }
    sd_notifyf(0, "READY=1\nSTATUS=%s", daemon.service_->status_text().c_str());
    log::info("Started {} {} (config generation 1, listening on {})", name, PMX_VERSION, daemon.service_->listen());
    int rc = own_main ? daemon.run_with_own_main(name) : daemon.loop();
    log::info("Stopped");
    return rc;
}

namespace {
int on_stop_request(sd_event_source* s, int, uint32_t, void*) noexcept {
    return sd_event_exit(sd_event_source_get_event(s), 0);
}
}  // namespace

int Daemon::run_with_own_main(const std::string& name) {
    // The only cross-thread request to the loop: "stop", through an eventfd it watches.
    UniqueEventFd stop{eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
    sd_event_source* stop_source = nullptr;
    if (stop.fd < 0 || sd_event_add_io(event_, &stop_source, stop.fd, EPOLLIN, on_stop_request, nullptr) < 0) {
        log::error("Failed to set up the stop channel of {}", name);
        return 1;
    }
    std::thread loop_thread([this] { loop(); });
    int rc = service_->run_main(*this);
    sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
    std::uint64_t one = 1;
    if (::write(stop.fd, &one, sizeof one) < 0) log::warning("Failed to signal the event loop: {}", std::strerror(errno));
    loop_thread.join();
    sd_event_source_disable_unref(stop_source);
    return rc;
}

}  // namespace pmx::daemon
