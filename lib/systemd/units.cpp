#include "systemd/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace pmx::systemd {

namespace {
// From <sys/wait.h>'s siginfo codes; spelled out so this file needs no system header.
constexpr std::int32_t kCldExited = 1;
constexpr std::int32_t kCldKilled = 2;
constexpr std::int32_t kCldDumped = 3;

std::string signal_name(int sig) {
    const char* abbrev = sig > 0 ? sigabbrev_np(sig) : nullptr;
    return abbrev ? abbrev : std::to_string(sig);
}
}  // namespace

std::string active_column(const UnitProperties& p) {
    if (p.load_state == "not-found") return "not-found";
    if (p.active_state.empty()) return "-";
    if (p.sub_state.empty() || p.sub_state == p.active_state) return p.active_state;
    return fmt::format("{} ({})", p.active_state, p.sub_state);
}

bool is_active(std::string_view active_state) {
    return active_state == "active" || active_state == "reloading";
}

std::uint64_t since_usec(const UnitProperties& p) {
    const auto& s = p.active_state;
    if (s == "active" || s == "reloading") return p.active_enter_usec;
    if (s == "inactive" || s == "failed") return p.inactive_enter_usec;
    if (s == "activating") return p.inactive_exit_usec;
    if (s == "deactivating") return p.active_exit_usec;
    return 0;
}

std::string exec_status(const UnitProperties& p) {
    switch (p.exec_main_code) {
        case kCldExited: return fmt::format("status={}", p.exec_main_status);
        case kCldKilled: return "signal=" + signal_name(p.exec_main_status);
        case kCldDumped: return "signal=" + signal_name(p.exec_main_status) + " (core dumped)";
        default: return "";
    }
}

std::string failure_summary(const UnitProperties& p) {
    if (p.load_state == "not-found") {
        if (p.load_error.empty()) return "not-found";
        return fmt::format("not-found ({})", p.load_error);
    }
    std::string out = active_column(p);
    if (!p.result.empty() && p.result != "success") {
        out += fmt::format(" (Result: {}", p.result);
        if (auto st = exec_status(p); !st.empty()) out += ", " + st;
        out += ')';
    }
    return out;
}

int status_exit_code(std::span<const UnitProperties> units) {
    int code = 0;
    for (const auto& u : units) {
        if (u.load_state == "not-found") return kExitNoSuchUnit;
        if (!is_active(u.active_state)) code = kExitNotActive;
    }
    return code;
}

std::string format_counters(std::span<const std::pair<std::string, std::uint64_t>> counters) {
    std::string out;
    for (const auto& [name, value] : counters) {
        if (!out.empty()) out += ' ';
        out += fmt::format("{}={}", name, value);
    }
    return out;
}

std::string format_unit_file_change(const UnitFileChange& c) {
    if (c.type == "symlink") return fmt::format("Created symlink {} \u2192 {}.", c.path, c.destination);
    if (c.type == "unlink") return fmt::format("Removed {}.", c.path);
    if (c.destination.empty()) return fmt::format("{}: {}", c.type, c.path);
    return fmt::format("{}: {} \u2192 {}", c.type, c.path, c.destination);
}

Result<Selection> select_services(std::span<const std::string> args) {
    Selection sel;
    if (args.empty()) {
        sel.whole_gateway = true;
        for (const auto& s : all_services()) sel.services.push_back(&s);
        return sel;
    }
    for (const auto& a : args) {
        const ServiceInfo* s = find_service(a);
        if (!s)
            return Error{fmt::format("Unknown service \"{}\"; valid names are: {} (also as pmx-NAME or pmx-NAME.service)",
                                     a, service_names_list())};
        if (std::find(sel.services.begin(), sel.services.end(), s) == sel.services.end())
            sel.services.push_back(s);
    }
    return sel;
}

std::vector<std::string> job_units(const Selection& s) {
    if (s.whole_gateway) return {std::string(kTargetUnit)};
    std::vector<std::string> out;
    for (const auto* svc : s.services) out.emplace_back(svc->unit);
    return out;
}

std::vector<std::string> unit_files(const Selection& s) {
    std::vector<std::string> out;
    if (s.whole_gateway) out.emplace_back(kTargetUnit);
    for (const auto* svc : s.services) out.emplace_back(svc->unit);
    return out;
}

std::vector<const UnitProperties*> missing_after_target_start(
    std::span<const UnitProperties> services, const UnitProperties& target) {
    std::vector<const UnitProperties*> out;
    for (const auto& u : services) {
        bool wanted = std::find(target.wants.begin(), target.wants.end(), u.unit) != target.wants.end();
        bool enabled = u.unit_file_state == "enabled" || u.unit_file_state == "enabled-runtime";
        if ((wanted || enabled) && !is_active(u.active_state)) out.push_back(&u);
    }
    return out;
}

}  // namespace pmx::systemd
