// Admin RPC: services (pmx status/start/stop/restart), config (pmx config show/set/unset),
// jobs (pmx jobs ...) and the Scheduler (pmx scheduler ...).
// Commands without --json (start/stop, config set, jobs enable, scheduler start) answer with their
// text output plus the state afterwards, read with the matching --json command.
#include <fmt/format.h>

#include "config/schema.hpp"
#include "jobs/jobs.hpp"
#include "services/registry.hpp"
#include "web/rpc_admin.hpp"

namespace pmx::web::admin {

namespace {

using namespace std::chrono_literals;

// This web interface runs in pmx-httpd: stopping it from a request would cut the request off
// (and kill the pmx process waiting for the job, which lives in httpd's cgroup).
constexpr std::string_view kSelf = "httpd";

// A service named in params, as its registry id; nullopt when absent.
Checked<std::optional<std::string>> service_param(const Call& c) {
    // "" is no way to say "every service" (stop would stop them all): only leaving it out is.
    if (auto it = c.params.find("service");
        it != c.params.end() && it->is_string() && it->get_ref<const std::string&>().empty())
        return invalid("service: empty (leave it out for the whole gateway)");
    PMX_TRY(name, opt_string(c, "service", 64));
    if (!name) return std::optional<std::string>{};
    const auto* s = find_service(*name);
    if (!s) return invalid(fmt::format("service: unknown service \"{}\" (one of: {})", *name, service_names_list()));
    return std::optional<std::string>(std::string(s->id));
}

// The text answer of a command, then (only after it ran) the state it left, read with --json.
RpcResult with(RpcResult first, const char* key, const std::function<RpcResult()>& then) {
    if (auto* e = std::get_if<RpcError>(&first)) return *e;
    Json out = std::get<Json>(std::move(first));
    auto second = then();
    if (auto* e = std::get_if<RpcError>(&second)) {
        out[key] = nullptr;
        out["messages"].push_back(fmt::format("Failed to read the state afterwards: {}", e->message));
    } else {
        out[key] = std::get<Json>(std::move(second));
    }
    return out;
}

RpcResult status_of(const Call& c, const std::vector<std::string>& ids) {
    Run r{{"status"}, 20s, {0, 3, 4}};
    if (!ids.empty()) {
        r.args.emplace_back("--");
        r.args.insert(r.args.end(), ids.begin(), ids.end());
    }
    return run_cli(c, r);
}

RpcResult services_status(const Call& c) {
    PMX_CHECK(only_params(c, {"service"}));
    PMX_TRY(service, service_param(c));
    std::vector<std::string> ids;
    if (service) ids.push_back(*service);
    return status_of(c, ids);
}

RpcResult service_action(const Call& c, const char* verb) {
    PMX_CHECK(only_params(c, {"service"}));
    PMX_TRY(service, service_param(c));
    const bool start = std::string_view(verb) == "start";
    std::vector<std::string> ids;
    if (service) {
        if (*service == kSelf && !start)
            return invalid(fmt::format("pmx-httpd cannot {} itself from the web interface: run `pmx {} httpd`", verb, verb));
        ids.push_back(*service);
    } else if (!start) {
        // The whole gateway but this interface.
        for (const auto& s : all_services())
            if (s.id != kSelf) ids.emplace_back(s.id);
    }
    Run r{{verb, "--timeout=90"}, 120s, {0}, false};
    if (!ids.empty()) {
        r.args.emplace_back("--");
        r.args.insert(r.args.end(), ids.begin(), ids.end());
    }
    return with(run_cli(c, r), "services", [&] { return status_of(c, ids); });
}

// ---- config ----------------------------------------------------------------------------------

Checked<const config::KeySpec*> key_param(const Call& c, const char* name) {
    PMX_TRY(key, req_string(c, name, 128));
    const auto* spec = config::find_key(key);
    if (!spec) return invalid(fmt::format("{}: unknown config key \"{}\"", name, key));
    return spec;
}

RpcResult setting_of(const Call& c, const config::KeySpec& spec) {
    auto got = run_cli(c, Run{{"config", "show", "--", std::string(spec.name)}});
    if (auto* j = std::get_if<Json>(&got); j && j->is_array() && j->size() == 1) return (*j)[0];
    return got;
}

RpcResult config_show(const Call& c) {
    PMX_CHECK(only_params(c, {"changed", "defaults", "keys"}));
    PMX_TRY(changed, opt_bool(c, "changed"));
    PMX_TRY(defaults, opt_bool(c, "defaults"));
    PMX_TRY(keys, string_list(c, "keys", false, 2000, 128));
    if (changed.value_or(false) && defaults.value_or(false)) return invalid("changed and defaults exclude each other");
    for (const auto& k : keys)
        if (!config::find_key(k)) return invalid(fmt::format("keys: unknown config key \"{}\"", k));
    Run r{{"config", "show"}};
    if (changed.value_or(false)) r.args.emplace_back("--changed");
    if (defaults.value_or(false)) r.args.emplace_back("--defaults");
    if (!keys.empty()) {
        r.args.emplace_back("--");
        r.args.insert(r.args.end(), keys.begin(), keys.end());
    }
    return run_cli(c, r);
}

// The value as `pmx config set` takes it: text; a list as "a, b" (items may not hold a comma).
Checked<std::string> value_text(const Call& c, const config::KeySpec& spec) {
    auto it = c.params.find("value");
    if (it == c.params.end() || it->is_null()) return invalid("value: required");
    std::string text;
    if (it->is_string()) {
        text = it->get<std::string>();
    } else if (it->is_boolean()) {
        text = it->get<bool>() ? "true" : "false";
    } else if (it->is_number_integer()) {
        text = std::to_string(it->get<std::int64_t>());
    } else if (it->is_array()) {
        if (spec.type != config::Type::StringList) return invalid(fmt::format("value: {} takes one value", spec.name));
        for (const auto& item : *it) {
            if (!item.is_string()) return invalid("value: expected an array of strings");
            auto s = item.get<std::string>();
            if (s.find(',') != std::string::npos) return invalid("value: a list item may not hold a comma");
            text += (text.empty() ? "" : ", ") + s;
        }
    } else {
        return invalid("value: expected a string, a number, true/false or an array of strings");
    }
    if (text.size() > 64 * 1024) return invalid("value: longer than 65536 bytes");
    if (has_control(text)) return invalid("value: holds a control character");
    // The CLI checks it again with the whole configuration; refuse what cannot be right here.
    auto parsed = config::parse_text_value(spec, text);
    if (!parsed.ok) return invalid(parsed.error);
    return text;
}

RpcResult config_set(const Call& c) {
    PMX_CHECK(only_params(c, {"key", "value"}));
    PMX_TRY(spec, key_param(c, "key"));
    PMX_TRY(text, value_text(c, *spec));
    Run r{{"config", "set", "--", std::string(spec->name), text}, 60s, {0}, false};
    return with(run_cli(c, r), "setting", [&] { return setting_of(c, *spec); });
}

RpcResult config_unset(const Call& c) {
    PMX_CHECK(only_params(c, {"key"}));
    PMX_TRY(spec, key_param(c, "key"));
    Run r{{"config", "unset", "--", std::string(spec->name)}, 60s, {0}, false};
    return with(run_cli(c, r), "setting", [&] { return setting_of(c, *spec); });
}

// ---- jobs and the Scheduler ------------------------------------------------------------------

Checked<std::string> job_param(const Call& c) {
    PMX_TRY(name, req_string(c, "name", 128));
    if (auto why = jobs::check_name(name); !why.empty()) return invalid(fmt::format("name: {}", why));
    return name;
}

RpcResult job_state(const Call& c, const std::string& name) {
    return run_cli(c, Run{{"jobs", "show", "--lines=0", "--", name}});
}

RpcResult jobs_list(const Call& c) {
    PMX_CHECK(only_params(c, {}));
    return run_cli(c, Run{{"jobs", "list"}});
}

RpcResult jobs_enable(const Call& c, bool on) {
    PMX_CHECK(only_params(c, {"name"}));
    PMX_TRY(name, job_param(c));
    Run r{{"jobs", on ? "enable" : "disable", "--", name}, 60s, {0}, false};
    return with(run_cli(c, r), "job", [&] { return job_state(c, name); });
}

RpcResult jobs_run(const Call& c) {
    PMX_CHECK(only_params(c, {"name"}));
    PMX_TRY(name, job_param(c));
    // A failed run (exit 1) still prints its JSON: {"ok": false, ...} is the answer then.
    return run_cli(c, Run{{"jobs", "run", "--timeout=600", "--", name}, 630s, {0, 1}, true, true});
}

RpcResult jobs_set_schedule(const Call& c) {
    PMX_CHECK(only_params(c, {"name", "schedule"}));
    PMX_TRY(name, job_param(c));
    PMX_TRY(schedule, string_list(c, "schedule", true, 16, 256));
    Run r{{"jobs", "set"}, 60s, {0}, false};
    for (const auto& e : schedule) {
        if (auto why = jobs::check_calendar_syntax(e); !why.empty())
            return invalid(fmt::format("schedule: \"{}\": {}", e, why));
        r.args.push_back("--at=" + e);
    }
    r.args.emplace_back("--");
    r.args.push_back(name);
    return with(run_cli(c, r), "job", [&] { return job_state(c, name); });
}

RpcResult scheduler_status(const Call& c) {
    PMX_CHECK(only_params(c, {}));
    return run_cli(c, Run{{"scheduler", "status"}, 30s, {0, 3, 4}});
}

RpcResult scheduler_action(const Call& c, const char* verb) {
    PMX_CHECK(only_params(c, {}));
    Run r{{"scheduler", verb, "--timeout=90"}, 120s, {0}, false};
    return with(run_cli(c, r), "scheduler", [&] { return run_cli(c, Run{{"scheduler", "status"}, 30s, {0, 3, 4}}); });
}

}  // namespace

void add_system_methods(MethodTable& t) {
    add_admin(t, "services.status", "Each service's state and what its daemon reports (pmx status)", services_status);
    add_admin(t, "services.start", "Start a service, or the whole gateway (pmx start)",
              [](const Call& c) { return service_action(c, "start"); });
    add_admin(t, "services.stop", "Stop a service, or every service but pmx-httpd (pmx stop)",
              [](const Call& c) { return service_action(c, "stop"); });
    add_admin(t, "services.restart", "Restart a service, or every service but pmx-httpd (pmx restart)",
              [](const Call& c) { return service_action(c, "restart"); });
    add_admin(t, "config.show", "The effective settings, changed ones or defaults (pmx config show)", config_show);
    add_admin(t, "config.set", "Validate and save a setting, reload the services using it (pmx config set)", config_set);
    add_admin(t, "config.unset", "Remove a setting from pmx's own drop-in (pmx config unset)", config_unset);
    add_admin(t, "jobs.list", "Every scheduled job: schedule, next and last run, result (pmx jobs list)", jobs_list);
    add_admin(t, "jobs.enable", "Schedule a job again (pmx jobs enable)", [](const Call& c) { return jobs_enable(c, true); });
    add_admin(t, "jobs.disable", "Stop scheduling a job (pmx jobs disable)",
              [](const Call& c) { return jobs_enable(c, false); });
    add_admin(t, "jobs.run", "Run a job now and wait for its result (pmx jobs run)", jobs_run);
    add_admin(t, "jobs.set_schedule", "Replace a job's calendar expressions (pmx jobs set --at)", jobs_set_schedule);
    add_admin(t, "scheduler.start", "Start the Scheduler: every enabled job's timer (pmx scheduler start)",
              [](const Call& c) { return scheduler_action(c, "start"); });
    add_admin(t, "scheduler.stop", "Stop the Scheduler: no job runs on schedule (pmx scheduler stop)",
              [](const Call& c) { return scheduler_action(c, "stop"); });
    add_admin(t, "scheduler.status", "Whether the Scheduler runs; jobs, timers, failures (pmx scheduler status)",
              scheduler_status);
}

}  // namespace pmx::web::admin
