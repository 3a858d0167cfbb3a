#include "systemd/manager.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "bus/properties.hpp"

namespace pmx::systemd {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerIface = "org.freedesktop.systemd1.Manager";
constexpr const char* kUnitIface = "org.freedesktop.systemd1.Unit";
constexpr const char* kServiceIface = "org.freedesktop.systemd1.Service";
constexpr const char* kPropertiesIface = "org.freedesktop.DBus.Properties";
// How often the wait for other units' jobs looks at ListJobs again, in case a signal was missed.
constexpr auto kSettlePoll = std::chrono::milliseconds(250);
// Manager calls other than the waited jobs (Reload can take a while on a busy system).
constexpr std::uint64_t kCallTimeoutUsec = 90'000'000;

std::string join(std::span<const std::string> names) {
    std::string out;
    for (const auto& n : names) {
        if (!out.empty()) out += ", ";
        out += n;
    }
    return out;
}

std::string format_duration(microseconds d) {
    auto ms = duration_cast<std::chrono::milliseconds>(d).count();
    if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
    return fmt::format("{}ms", ms);
}

// The C side of the JobRemoved match: records results for the jobs we queued.
struct JobWait {
    std::map<std::string, std::size_t, std::less<>> pending;  // job object path → index into outcomes
    std::vector<JobOutcome>* outcomes = nullptr;
    unsigned removed = 0;  // every JobRemoved seen, ours or not
};

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error* /*ret_error*/) noexcept {
    auto* w = static_cast<JobWait*>(userdata);
    std::uint32_t id = 0;
    const char* path = nullptr;
    const char* unit = nullptr;
    const char* result = nullptr;
    if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0) return 0;
    ++w->removed;
    auto it = w->pending.find(std::string_view(path));
    if (it == w->pending.end()) return 0;
    try {
        (*w->outcomes)[it->second].result = result;
    } catch (...) {
        // Out of memory copying a short string: leave the result empty, it reads as not done.
    }
    w->pending.erase(it);
    return 0;
}

// Dispatches bus messages until done() holds or the deadline passes.
// true: done; false: the deadline passed first.
template <class Pred>
Result<bool> pump(sd_bus* bus, Clock::time_point deadline, Pred done) {
    for (;;) {
        if (done()) return true;
        int r = sd_bus_process(bus, nullptr);
        if (r < 0) return Error{fmt::format("Failed to process bus messages: {}", std::strerror(-r))};
        if (r > 0) continue;
        auto now = Clock::now();
        if (now >= deadline) return false;
        auto left = duration_cast<microseconds>(deadline - now).count();
        r = sd_bus_wait(bus, static_cast<std::uint64_t>(left));
        if (r < 0 && r != -EINTR) return Error{fmt::format("Failed to wait for the bus: {}", std::strerror(-r))};
    }
}

// LoadError is a (ss): the error name and its message; we keep the message.
int read_load_error(sd_bus_message* m, std::string& out) {
    const char* contents = nullptr;
    int r = sd_bus_message_peek_type(m, nullptr, &contents);
    if (r < 0) return r;
    if (!contents || std::strcmp(contents, "(ss)") != 0) return 0;
    if ((r = sd_bus_message_enter_container(m, 'v', "(ss)")) < 0) return r;
    const char* name = nullptr;
    const char* message = nullptr;
    if ((r = sd_bus_message_read(m, "(ss)", &name, &message)) < 0) return r;
    if (name && *name && message) out = message;
    return sd_bus_message_exit_container(m);
}

// NULL-terminated char* array over strings that outlive it, for sd_bus_message_append_strv.
std::vector<char*> make_strv(std::span<const std::string> v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

Result<std::vector<UnitFileChange>> read_changes(sd_bus_message* m) {
    std::vector<UnitFileChange> out;
    int r = sd_bus_message_enter_container(m, 'a', "(sss)");
    const char* type = nullptr;
    const char* path = nullptr;
    const char* dest = nullptr;
    while (r >= 0 && (r = sd_bus_message_read(m, "(sss)", &type, &path, &dest)) > 0)
        out.push_back(UnitFileChange{type, path, dest});
    if (r >= 0) r = sd_bus_message_exit_container(m);
    if (r < 0) return Error{fmt::format("Failed to parse the unit file changes: {}", std::strerror(-r))};
    return out;
}

}  // namespace

const char* action_method(UnitAction a) {
    switch (a) {
        case UnitAction::Start: return "StartUnit";
        case UnitAction::Stop: return "StopUnit";
        case UnitAction::Restart: return "RestartUnit";
        case UnitAction::Reload: return "ReloadUnit";
    }
    return "?";
}

const char* action_verb(UnitAction a) {
    switch (a) {
        case UnitAction::Start: return "start";
        case UnitAction::Stop: return "stop";
        case UnitAction::Restart: return "restart";
        case UnitAction::Reload: return "reload";
    }
    return "?";
}

const char* action_done(UnitAction a) {
    switch (a) {
        case UnitAction::Start: return "Started";
        case UnitAction::Stop: return "Stopped";
        case UnitAction::Restart: return "Restarted";
        case UnitAction::Reload: return "Reloaded";
    }
    return "?";
}

bool JobOutcome::ok() const { return error.empty() && (result == "done" || result == "skipped"); }

std::string JobOutcome::describe(UnitAction a) const {
    if (!error.empty()) return error;
    if (ok()) return "";
    const auto& u = unit;
    if (result == "canceled") return fmt::format("Job for {} canceled.", u);
    if (result == "timeout") return fmt::format("Job for {} timed out.", u);
    if (result == "dependency") return fmt::format("A dependency job for {} failed.", u);
    if (result == "invalid") return fmt::format("{} is not active, cannot {}.", u, action_verb(a));
    if (result == "assert") return fmt::format("Assertion failed on job for {}.", u);
    if (result == "unsupported") return fmt::format("Operation on or unit type of {} not supported on this system.", u);
    if (result == "collected") return fmt::format("Queued job for {} was garbage collected.", u);
    if (result == "once") return fmt::format("Unit {} was started already once and can't be started again.", u);
    if (result == "failed") return fmt::format("Job for {} failed.", u);
    return fmt::format("Job for {} failed (result: {}).", u, result.empty() ? "unknown" : result);
}

Result<Manager> Manager::connect(bus::Scope scope) {
    auto b = bus::open(scope);
    if (!b) return b.error();
    return Manager(std::move(b).value());
}

Result<void> Manager::subscribe() {
    if (subscribed_) return {};
    bus::BusError err;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_call_method(bus(), kService, kPath, kManagerIface, "Subscribe", err.get(), &raw, "");
    bus::MessagePtr reply{raw};
    if (r < 0 && !err.has_name("org.freedesktop.systemd1.AlreadySubscribed"))
        return Error{fmt::format("Failed to subscribe to systemd job signals: {}", err.describe(r))};
    subscribed_ = true;
    return {};
}

Result<std::vector<JobOutcome>> Manager::run_jobs(UnitAction action, std::span<const std::string> units,
                                                  std::span<const std::string> settle_units,
                                                  microseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::vector<JobOutcome> outcomes(units.size());
    JobWait wait;
    wait.outcomes = &outcomes;

    // Subscribe and match JobRemoved before queueing anything, so no job can finish unseen.
    if (auto s = subscribe(); !s) return s.error();
    sd_bus_slot* raw_slot = nullptr;
    int r = sd_bus_match_signal(bus(), &raw_slot, kService, kPath, kManagerIface, "JobRemoved", on_job_removed,
                                &wait);
    if (r < 0) return Error{fmt::format("Failed to watch for finished systemd jobs: {}", std::strerror(-r))};
    bus::SlotPtr slot{raw_slot};  // declared after wait: unhooked before wait goes away

    for (std::size_t i = 0; i < units.size(); ++i) {
        auto& out = outcomes[i];
        out.unit = units[i];
        bus::BusError err;
        sd_bus_message* raw = nullptr;
        r = sd_bus_call_method(bus(), kService, kPath, kManagerIface, action_method(action), err.get(), &raw, "ss",
                               out.unit.c_str(), "replace");
        bus::MessagePtr reply{raw};
        if (r < 0) {
            out.error = fmt::format("Failed to {} {}: {}", action_verb(action), out.unit, err.describe(r));
            continue;
        }
        const char* job = nullptr;
        if ((r = sd_bus_message_read(reply.get(), "o", &job)) < 0) {
            out.error = fmt::format("Failed to {} {}: unexpected reply from systemd: {}", action_verb(action),
                                    out.unit, std::strerror(-r));
            continue;
        }
        wait.pending.emplace(job, i);
    }

    auto done = pump(bus(), deadline, [&] { return wait.pending.empty(); });
    if (!done) return done.error();
    if (!*done) {
        std::vector<std::string> left;
        for (const auto& [path, i] : wait.pending) left.push_back(outcomes[i].unit);
        std::sort(left.begin(), left.end());
        return Error{fmt::format("Failed to {} {}: timed out after {} waiting for the job to finish",
                                 action_verb(action), join(left), format_duration(timeout))};
    }

    // The job of a target can finish while the jobs it pulled in for other units still run.
    if (!settle_units.empty()) {
        for (;;) {
            auto busy = units_with_jobs();
            if (!busy) return busy.error();
            std::vector<std::string> waiting;
            for (const auto& u : *busy)
                if (std::find(settle_units.begin(), settle_units.end(), u) != settle_units.end())
                    waiting.push_back(u);
            if (waiting.empty()) break;
            if (Clock::now() >= deadline)
                return Error{fmt::format("Failed to {} {}: timed out after {} waiting for the jobs of {} to finish",
                                         action_verb(action), join(units), format_duration(timeout),
                                         join(waiting))};
            const unsigned seen = wait.removed;
            auto step = std::min(deadline, Clock::now() + kSettlePoll);
            auto r2 = pump(bus(), step, [&] { return wait.removed != seen; });
            if (!r2) return r2.error();
        }
    }
    return outcomes;
}

Result<std::string> Manager::run_job(UnitAction action, std::string_view unit, microseconds timeout) {
    std::string u(unit);
    auto r = run_jobs(action, std::span<const std::string>(&u, 1), {}, timeout);
    if (!r) return r.error();
    const auto& o = r->front();
    if (!o.error.empty()) return Error{o.error};
    return o.result;
}

Result<std::vector<std::string>> Manager::units_with_jobs() {
    bus::BusError err;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_call_method(bus(), kService, kPath, kManagerIface, "ListJobs", err.get(), &raw, "");
    bus::MessagePtr reply{raw};
    if (r < 0) return Error{fmt::format("Failed to list systemd jobs: {}", err.describe(r))};
    std::vector<std::string> out;
    r = sd_bus_message_enter_container(reply.get(), 'a', "(usssoo)");
    std::uint32_t id = 0;
    const char *unit = nullptr, *type = nullptr, *state = nullptr, *job_path = nullptr, *unit_path = nullptr;
    while (r >= 0 &&
           (r = sd_bus_message_read(reply.get(), "(usssoo)", &id, &unit, &type, &state, &job_path, &unit_path)) > 0)
        out.emplace_back(unit);
    if (r >= 0) r = sd_bus_message_exit_container(reply.get());
    if (r < 0) return Error{fmt::format("Failed to parse the systemd job list: {}", std::strerror(-r))};
    return out;
}

Result<UnitProperties> Manager::unit_properties(std::string_view unit) {
    UnitProperties p;
    p.unit = std::string(unit);

    bus::BusError err;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_call_method(bus(), kService, kPath, kManagerIface, "LoadUnit", err.get(), &raw, "s",
                               p.unit.c_str());
    bus::MessagePtr loaded{raw};
    if (r < 0) return Error{fmt::format("Failed to load unit {}: {}", p.unit, err.describe(r))};
    const char* path_c = nullptr;
    if ((r = sd_bus_message_read(loaded.get(), "o", &path_c)) < 0)
        return Error{fmt::format("Failed to load unit {}: unexpected reply: {}", p.unit, std::strerror(-r))};
    const std::string path = path_c;

    auto get_all = [&](const char* iface, auto&& reader) -> Result<void> {
        bus::BusError e;
        sd_bus_message* rm = nullptr;
        int rr = sd_bus_call_method(bus(), kService, path.c_str(), kPropertiesIface, "GetAll", e.get(), &rm, "s", iface);
        bus::MessagePtr reply{rm};
        if (rr < 0) return Error{fmt::format("Failed to read the properties of {}: {}", p.unit, e.describe(rr))};
        rr = bus::detail::for_each_property(reply.get(), [&](std::string_view name) { return reader(reply.get(), name); });
        if (rr < 0)
            return Error{fmt::format("Failed to parse the properties of {}: {}", p.unit, std::strerror(-rr))};
        return {};
    };

    using bus::detail::read_variant;
    auto unit_props = get_all(kUnitIface, [&](sd_bus_message* m, std::string_view n) -> int {
        if (n == "LoadState") return read_variant(m, p.load_state);
        if (n == "LoadError") return read_load_error(m, p.load_error);
        if (n == "ActiveState") return read_variant(m, p.active_state);
        if (n == "SubState") return read_variant(m, p.sub_state);
        if (n == "UnitFileState") return read_variant(m, p.unit_file_state);
        if (n == "Wants") return read_variant(m, p.wants);
        if (n == "ActiveEnterTimestamp") return read_variant(m, p.active_enter_usec);
        if (n == "ActiveExitTimestamp") return read_variant(m, p.active_exit_usec);
        if (n == "InactiveEnterTimestamp") return read_variant(m, p.inactive_enter_usec);
        if (n == "InactiveExitTimestamp") return read_variant(m, p.inactive_exit_usec);
        return 0;
    });
    if (!unit_props) return unit_props.error();

    if (p.unit.ends_with(".service")) {
        std::uint64_t memory = UINT64_MAX;
        auto svc_props = get_all(kServiceIface, [&](sd_bus_message* m, std::string_view n) -> int {
            if (n == "Result") return read_variant(m, p.result);
            if (n == "ExecMainCode") return read_variant(m, p.exec_main_code);
            if (n == "ExecMainStatus") return read_variant(m, p.exec_main_status);
            if (n == "MainPID") return read_variant(m, p.main_pid);
            if (n == "MemoryCurrent") return read_variant(m, memory);
            if (n == "StatusText") return read_variant(m, p.status_text);
            return 0;
        });
        if (!svc_props) return svc_props.error();
        if (memory != UINT64_MAX) p.memory_bytes = memory;
    }
    return p;
}

namespace {

// EnableUnitFiles/DisableUnitFiles: files, then the booleans (runtime[, force]); the reply.
Result<bus::MessagePtr> call_unit_files(sd_bus* bus, const char* method, const char* verb,
                                        std::span<const std::string> files, bool with_force) {
    const auto fail = [&](const std::string& why) {
        return Error{fmt::format("Failed to {} {}: {}", verb, join(files), why)};
    };
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, kService, kPath, kManagerIface, method);
    bus::MessagePtr call{raw};
    if (r < 0) return fail(std::strerror(-r));
    auto strv = make_strv(files);
    r = sd_bus_message_append_strv(call.get(), strv.data());
    if (r >= 0) r = with_force ? sd_bus_message_append(call.get(), "bb", 0 /* runtime */, 1 /* force */)
                               : sd_bus_message_append(call.get(), "b", 0 /* runtime */);
    if (r < 0) return fail(std::strerror(-r));

    bus::BusError err;
    raw = nullptr;
    r = sd_bus_call(bus, call.get(), kCallTimeoutUsec, err.get(), &raw);
    bus::MessagePtr reply{raw};
    if (r < 0) return fail(err.describe(r));
    return reply;
}

}  // namespace

Result<EnableResult> Manager::enable_unit_files(std::span<const std::string> files) {
    auto reply = call_unit_files(bus(), "EnableUnitFiles", "enable", files, true);
    if (!reply) return reply.error();
    EnableResult out;
    int carries = 0;
    if (int r = sd_bus_message_read(reply->get(), "b", &carries); r < 0)
        return Error{fmt::format("Failed to enable {}: unexpected reply: {}", join(files), std::strerror(-r))};
    out.carries_install_info = carries != 0;
    auto changes = read_changes(reply->get());
    if (!changes) return changes.error();
    out.changes = std::move(changes).value();
    if (auto rl = reload(); !rl) return rl.error();
    return out;
}

Result<EnableResult> Manager::disable_unit_files(std::span<const std::string> files) {
    auto reply = call_unit_files(bus(), "DisableUnitFiles", "disable", files, false);
    if (!reply) return reply.error();
    EnableResult out;
    auto changes = read_changes(reply->get());
    if (!changes) return changes.error();
    out.changes = std::move(changes).value();
    if (auto rl = reload(); !rl) return rl.error();
    return out;
}

Result<void> Manager::reload() {
    bus::MessagePtr call;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus(), &raw, kService, kPath, kManagerIface, "Reload");
    call.reset(raw);
    if (r < 0) return Error{fmt::format("Failed to reload the systemd manager: {}", std::strerror(-r))};
    bus::BusError err;
    raw = nullptr;
    r = sd_bus_call(bus(), call.get(), kCallTimeoutUsec, err.get(), &raw);
    bus::MessagePtr reply{raw};
    if (r < 0) return Error{fmt::format("Failed to reload the systemd manager: {}", err.describe(r))};
    return {};
}

}  // namespace pmx::systemd
