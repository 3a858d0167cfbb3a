// The shared daemon skeleton: flags, config snapshot, sd-event loop, sd_notify,
// the org.pmx.Daemon1 bus object, signals, watchdog and journal logging.
// A daemon's main() is a few lines: run_daemon(<service id>, argc, argv, <factory>).
#pragma once

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "config/loader.hpp"
#include "util/result.hpp"

namespace pmx::daemon {

class Daemon;

// What a daemon plugs into the skeleton.
class Service {
public:
    virtual ~Service() = default;
    // Binds sockets and adds event sources. Called once, after the first config load,
    // before READY=1. An error stops the daemon with the message in the journal.
    virtual Result<void> start(Daemon& daemon) = 0;
    // Called on Reload() with the validated new snapshot before it goes live.
    // Return an error to refuse it (the old snapshot stays).
    virtual Result<void> prepare_reload(const config::Snapshot& next) { (void)next; return {}; }
    // One human line for status: what it does right now, or what it does not do yet.
    virtual std::string status_text() const = 0;
    // Where it listens ("/run/pmx/milter.sock").
    virtual std::string listen() const = 0;

    // A service built on a library that must own the main thread (libmilter's smfi_main)
    // returns true: the skeleton then runs the event loop and the bus on a thread of
    // their own, leaves SIGTERM/SIGINT/SIGHUP to that library, and calls run_main().
    virtual bool owns_main_thread() const { return false; }
    // Runs until the service stops (a signal, or stop()). Returns the exit code.
    virtual int run_main(Daemon& daemon) { (void)daemon; return 0; }
};

// Named counters exported on the bus; safe to bump from any thread.
class Counters {
public:
    void add(const std::string& name, std::uint64_t n = 1);
    std::map<std::string, std::uint64_t> values() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::uint64_t> values_;
};

class Daemon {
public:
    Daemon(std::string service_id, config::Layout layout);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    const std::string& service_id() const { return service_id_; }
    sd_event* event() const { return event_; }
    Counters& counters() { return counters_; }

    // The current snapshot; a caller keeps the one it got for the whole unit of work
    // (a connection, a request), so a reload never changes settings under it.
    config::SnapshotPtr config() const;
    std::uint64_t config_generation() const { return generation_; }
    std::uint64_t config_loaded_usec() const { return loaded_usec_; }

    // Resolves a socket or file name from config: absolute paths stay, relative ones go
    // under the runtime directory systemd made for us ($RUNTIME_DIRECTORY, else /run/pmx).
    static std::filesystem::path runtime_path(const std::string& configured);

    // Refreshes STATUS= for systemctl status; call when the service's state changes.
    void notify_status() const;

    // The bus connection that owns the daemon's name, for a service that adds an interface of
    // its own to /org/pmx/Daemon1 (pmx-queued's org.pmx.QueueRunner1). Valid from start() on.
    sd_bus* bus() const;

private:
    friend int run_daemon(std::string_view, int, char**, std::function<std::unique_ptr<Service>()>);
    friend struct BusGlue;

    Result<void> load_initial_config();
    Result<void> reload();            // the body of the Reload() bus method
    Result<void> setup_event_loop(bool handle_signals);
    int run_with_own_main(const std::string& name);
    Result<void> setup_bus(bool user_bus);
    int loop();
    void apply_logging(const config::Snapshot& s) const;

    std::string service_id_;
    config::Layout layout_;
    std::unique_ptr<Service> service_;
    sd_event* event_ = nullptr;
    struct BusState;
    std::unique_ptr<BusState> bus_;

    mutable std::mutex config_mutex_;
    config::SnapshotPtr config_;
    std::atomic<std::uint64_t> generation_{0};
    std::atomic<std::uint64_t> loaded_usec_{0};
    Counters counters_;
};

// Parses flags (--bus=system|user, --check-config, --version), loads config, runs the loop.
// Returns the process exit code: 0 on clean stop, 78 (EX_CONFIG) on config errors.
int run_daemon(std::string_view service_id, int argc, char** argv, std::function<std::unique_ptr<Service>()> make_service);

inline constexpr int kExitConfig = 78;

}  // namespace pmx::daemon
