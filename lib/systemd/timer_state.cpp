#include "systemd/timer_state.hpp"

#include <fmt/format.h>

#include <cstring>

#include "bus/properties.hpp"

namespace pmx::systemd {

namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kPath = "/org/freedesktop/systemd1";
constexpr const char* kManagerIface = "org.freedesktop.systemd1.Manager";

Result<std::string> load_unit_path(sd_bus* bus, const std::string& unit) {
    bus::BusError err;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_call_method(bus, kService, kPath, kManagerIface, "LoadUnit", err.get(), &raw, "s", unit.c_str());
    bus::MessagePtr reply{raw};
    if (r < 0) return Error{fmt::format("Failed to load unit {}: {}", unit, err.describe(r))};
    const char* path = nullptr;
    if ((r = sd_bus_message_read(reply.get(), "o", &path)) < 0)
        return Error{fmt::format("Failed to load unit {}: unexpected reply: {}", unit, std::strerror(-r))};
    return std::string(path);
}

template <class Reader>
Result<void> get_all(sd_bus* bus, const std::string& unit, const std::string& path, const char* iface, Reader&& reader) {
    bus::BusError e;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_call_method(bus, kService, path.c_str(), "org.freedesktop.DBus.Properties", "GetAll", e.get(), &raw,
                               "s", iface);
    bus::MessagePtr reply{raw};
    if (r < 0) return Error{fmt::format("Failed to read the properties of {}: {}", unit, e.describe(r))};
    r = bus::detail::for_each_property(reply.get(), [&](std::string_view name) { return reader(reply.get(), name); });
    if (r < 0) return Error{fmt::format("Failed to parse the properties of {}: {}", unit, std::strerror(-r))};
    return {};
}

// InvocationID is an ay of 16 bytes: as the 32 hex digits the journal uses.
int read_invocation_id(sd_bus_message* m, std::string& out) {
    int r = sd_bus_message_enter_container(m, 'v', "ay");
    if (r < 0) return r;
    const void* data = nullptr;
    size_t size = 0;
    if ((r = sd_bus_message_read_array(m, 'y', &data, &size)) < 0) return r;
    out.clear();
    bool all_zero = true;
    for (size_t i = 0; i < size; ++i) {
        auto b = static_cast<const unsigned char*>(data)[i];
        all_zero = all_zero && b == 0;
        out += fmt::format("{:02x}", b);
    }
    if (all_zero) out.clear();
    r = sd_bus_message_exit_container(m);
    return r < 0 ? r : 1;
}

// Unit-level properties both kinds share.
template <class State>
int read_unit_property(sd_bus_message* m, std::string_view n, State& s) {
    using bus::detail::read_variant;
    if (n == "LoadState") return read_variant(m, s.load_state);
    if (n == "ActiveState") return read_variant(m, s.active_state);
    return 0;
}

}  // namespace

Result<TimerState> timer_state(Manager& m, std::string_view unit) {
    TimerState s;
    s.unit = std::string(unit);
    auto path = load_unit_path(m.bus(), s.unit);
    if (!path) return path.error();
    auto u = get_all(m.bus(), s.unit, *path, "org.freedesktop.systemd1.Unit",
                     [&](sd_bus_message* msg, std::string_view n) { return read_unit_property(msg, n, s); });
    if (!u) return u.error();
    if (s.load_state != "loaded" || !s.unit.ends_with(".timer")) return s;
    using bus::detail::read_variant;
    auto t = get_all(m.bus(), s.unit, *path, "org.freedesktop.systemd1.Timer", [&](sd_bus_message* msg, std::string_view n) -> int {
        if (n == "NextElapseUSecRealtime") return read_variant(msg, s.next_elapse_usec);
        if (n == "LastTriggerUSec") return read_variant(msg, s.last_trigger_usec);
        return 0;
    });
    if (!t) return t.error();
    // USEC_INFINITY: no next elapse computed (the job runs now, or no expression matches again).
    if (s.next_elapse_usec == UINT64_MAX) s.next_elapse_usec = 0;
    if (s.last_trigger_usec == UINT64_MAX) s.last_trigger_usec = 0;
    return s;
}

Result<JobServiceState> job_service_state(Manager& m, std::string_view unit) {
    JobServiceState s;
    s.unit = std::string(unit);
    auto path = load_unit_path(m.bus(), s.unit);
    if (!path) return path.error();
    using bus::detail::read_variant;
    auto u = get_all(m.bus(), s.unit, *path, "org.freedesktop.systemd1.Unit", [&](sd_bus_message* msg, std::string_view n) -> int {
        if (n == "SubState") return read_variant(msg, s.sub_state);
        if (n == "InvocationID") return read_invocation_id(msg, s.invocation_id);
        return read_unit_property(msg, n, s);
    });
    if (!u) return u.error();
    if (s.load_state != "loaded") return s;
    auto sv = get_all(m.bus(), s.unit, *path, "org.freedesktop.systemd1.Service", [&](sd_bus_message* msg, std::string_view n) -> int {
        if (n == "Result") return read_variant(msg, s.result);
        if (n == "ExecMainStartTimestamp") return read_variant(msg, s.exec_main_start_usec);
        if (n == "ExecMainExitTimestamp") return read_variant(msg, s.exec_main_exit_usec);
        if (n == "ExecMainCode") return read_variant(msg, s.exec_main_code);
        if (n == "ExecMainStatus") return read_variant(msg, s.exec_main_status);
        return 0;
    });
    if (!sv) return sv.error();
    return s;
}

std::string job_result_text(const JobServiceState& s) {
    if (s.load_state != "loaded") return s.load_state == "not-found" ? "not generated" : s.load_state;
    if (s.active_state == "activating" || s.active_state == "active") return "running";
    if (s.exec_main_start_usec == 0 && s.result == "success") return "never run";
    if (s.result == "success" && s.active_state != "failed") return "success";
    std::string status;
    if (s.exec_main_code == 1) status = fmt::format(", status={}", s.exec_main_status);
    else if (s.exec_main_code == 2 || s.exec_main_code == 3) status = fmt::format(", signal={}", s.exec_main_status);
    return fmt::format("failed ({}{})", s.result.empty() ? "unknown" : s.result, status);
}

Result<std::vector<ListedUnit>> list_units(Manager& m, std::span<const std::string> states,
                                           std::span<const std::string> patterns) {
    auto strv = [](std::span<const std::string> v) {
        std::vector<char*> out;
        for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
        out.push_back(nullptr);
        return out;
    };
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(m.bus(), &raw, kService, kPath, kManagerIface, "ListUnitsByPatterns");
    bus::MessagePtr call{raw};
    auto st = strv(states);
    auto pt = strv(patterns);
    if (r >= 0) r = sd_bus_message_append_strv(call.get(), st.data());
    if (r >= 0) r = sd_bus_message_append_strv(call.get(), pt.data());
    if (r < 0) return Error{fmt::format("Failed to list units: {}", std::strerror(-r))};
    bus::BusError err;
    raw = nullptr;
    r = sd_bus_call(m.bus(), call.get(), 0, err.get(), &raw);
    bus::MessagePtr reply{raw};
    if (r < 0) return Error{fmt::format("Failed to list units: {}", err.describe(r))};
    std::vector<ListedUnit> out;
    r = sd_bus_message_enter_container(reply.get(), 'a', "(ssssssouso)");
    const char *name, *desc, *load, *active, *sub, *following, *job_type, *job_path;
    const char* unit_path;
    std::uint32_t job_id;
    while (r >= 0 && (r = sd_bus_message_read(reply.get(), "(ssssssouso)", &name, &desc, &load, &active, &sub,
                                               &following, &unit_path, &job_id, &job_type, &job_path)) > 0)
        out.push_back(ListedUnit{name, load, active, sub});
    if (r >= 0) r = sd_bus_message_exit_container(reply.get());
    if (r < 0) return Error{fmt::format("Failed to parse the unit list: {}", std::strerror(-r))};
    return out;
}

}  // namespace pmx::systemd
