// The admin RPC methods: services, config, jobs, queue, ipblock, log, reports, policy, dashboard.
// Each runs the `pmx` CLI (web/cli_runner.hpp) with --json and returns its parsed output, so the
// Manager and the CLI can never disagree. This file: registration, parameter checks, running pmx.
#include "web/rpc_admin.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/log.hpp"
#include "store/time_filter.hpp"

namespace pmx::web {

namespace admin {

RpcError invalid(std::string message) { return RpcError{rpc_code::kInvalidParams, std::move(message)}; }

std::optional<RpcError> only_params(const Call& c, std::initializer_list<std::string_view> names) {
    if (c.params.is_null()) return std::nullopt;  // the dispatcher gives {} for absent params; null is as good
    if (!c.params.is_object()) return invalid("params must be an object");
    for (const auto& [key, value] : c.params.items())
        if (std::find(names.begin(), names.end(), key) == names.end())
            return invalid(fmt::format("Unknown parameter \"{}\"", key.size() > 64 ? key.substr(0, 64) + "..." : key));
    return std::nullopt;
}

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char ch) {
        auto u = static_cast<unsigned char>(ch);
        return u < 0x20 || u == 0x7f;
    });
}

namespace {

Checked<std::string> check_string(const Json& v, const char* name, std::size_t max_bytes) {
    if (!v.is_string()) return invalid(fmt::format("{}: expected a string", name));
    auto s = v.get<std::string>();
    if (s.size() > max_bytes) return invalid(fmt::format("{}: longer than {} bytes", name, max_bytes));
    if (has_control(s)) return invalid(fmt::format("{}: holds a control character", name));
    return s;
}

}  // namespace

Checked<std::optional<std::string>> opt_string(const Call& c, const char* name, std::size_t max_bytes) {
    auto it = c.params.find(name);
    if (it == c.params.end() || it->is_null()) return std::optional<std::string>{};
    auto s = check_string(*it, name, max_bytes);
    if (auto* e = std::get_if<RpcError>(&s)) return *e;
    // An empty field of a form means "not given".
    if (std::get<std::string>(s).empty()) return std::optional<std::string>{};
    return std::optional<std::string>(std::get<std::string>(std::move(s)));
}

Checked<std::string> req_string(const Call& c, const char* name, std::size_t max_bytes) {
    auto s = opt_string(c, name, max_bytes);
    if (auto* e = std::get_if<RpcError>(&s)) return *e;
    auto& v = std::get<std::optional<std::string>>(s);
    if (!v || v->empty()) return invalid(fmt::format("{}: required", name));
    return std::move(*v);
}

Checked<std::optional<bool>> opt_bool(const Call& c, const char* name) {
    auto it = c.params.find(name);
    if (it == c.params.end() || it->is_null()) return std::optional<bool>{};
    if (!it->is_boolean()) return invalid(fmt::format("{}: expected true or false", name));
    return std::optional<bool>(it->get<bool>());
}

Checked<std::optional<std::int64_t>> opt_int(const Call& c, const char* name, std::int64_t min, std::int64_t max) {
    auto it = c.params.find(name);
    if (it == c.params.end() || it->is_null()) return std::optional<std::int64_t>{};
    if (!it->is_number_integer()) return invalid(fmt::format("{}: expected an integer", name));
    auto v = it->get<std::int64_t>();
    if (v < min || v > max) return invalid(fmt::format("{}: must be from {} to {}", name, min, max));
    return std::optional<std::int64_t>(v);
}

Checked<std::vector<std::string>> string_list(const Call& c, const char* name, bool required, std::size_t max_items,
                                              std::size_t max_bytes) {
    std::vector<std::string> out;
    auto it = c.params.find(name);
    if (it == c.params.end() || it->is_null()) {
        if (required) return invalid(fmt::format("{}: required", name));
        return out;
    }
    if (it->is_string()) {
        auto s = check_string(*it, name, max_bytes);
        if (auto* e = std::get_if<RpcError>(&s)) return *e;
        out.push_back(std::get<std::string>(std::move(s)));
    } else if (it->is_array()) {
        if (it->size() > max_items) return invalid(fmt::format("{}: more than {} items", name, max_items));
        for (const auto& item : *it) {
            auto s = check_string(item, name, max_bytes);
            if (auto* e = std::get_if<RpcError>(&s)) return *e;
            out.push_back(std::get<std::string>(std::move(s)));
        }
    } else {
        return invalid(fmt::format("{}: expected a string or an array of strings", name));
    }
    if (required && out.empty()) return invalid(fmt::format("{}: required", name));
    for (const auto& s : out)
        if (s.empty()) return invalid(fmt::format("{}: an empty item", name));
    return out;
}

std::optional<RpcError> check_time(const char* name, const std::string& text) {
    if (text.size() > 64 || has_control(text)) return invalid(fmt::format("{}: not a time", name));
    auto t = store::parse_time(text, store::now_us());
    if (!t) return invalid(fmt::format("{}: {}", name, t.error().message));
    return std::nullopt;
}

namespace {

// The first lines of what pmx said on stderr, without its "pmx: " prefixes.
std::string cli_message(const CliRun& r) {
    std::string out;
    std::size_t lines = 0, pos = 0;
    while (pos < r.err.size() && lines < 6) {
        auto nl = r.err.find('\n', pos);
        std::string line = r.err.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? r.err.size() : nl + 1;
        if (line.starts_with("pmx: ")) line.erase(0, 5);
        if (line.empty()) continue;
        out += (out.empty() ? "" : "\n") + line;
        ++lines;
    }
    if (out.size() > 2000) out = out.substr(0, 2000) + "...";
    if (out.empty()) out = fmt::format("pmx exited with status {}", r.exit_code);
    return out;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size() && out.size() < 200) {
        auto nl = text.find('\n', pos);
        auto line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        if (line.starts_with("pmx: ")) line.erase(0, 5);
        if (!line.empty()) out.push_back(std::move(line));
    }
    return out;
}

}  // namespace

RpcError cli_failure(const CliRun& r) {
    auto message = cli_message(r);
    if (r.exit_code == 2) return RpcError{rpc_code::kInvalidParams, message};
    for (std::string_view gone : {"No job named", "No queue entry", "is not blocked in the database", ": no such entry"})
        if (message.find(gone) != std::string::npos) return RpcError{rpc_code::kNotFound, message};
    return RpcError{rpc_code::kFailed, message};
}

RpcResult run_cli(const Call& c, const Run& run) {
    std::vector<std::string> args;
    if (run.json) args.emplace_back("--json");
    args.insert(args.end(), run.args.begin(), run.args.end());
    std::string line;
    if (run.changes) {
        // The CLI cannot tell who asked: the journal of pmx-httpd does.
        for (const auto& a : run.args) line += (line.empty() ? "" : " ") + a;
        if (line.size() > 300) line = line.substr(0, 300) + "...";
        log::info("{} ({}) runs: pmx {}", c.who().name, kind_name(c.who().kind), line);
    }
    auto r = run_pmx(c.env, args, run.deadline);
    if (!r) {
        if (run.changes) log::warning("pmx {}: {}", line, r.error().message);
        return RpcError{rpc_code::kFailed, r.error().message};
    }
    if (run.changes && r->exit_code != 0) log::warning("pmx {}: exit status {}", line, r->exit_code);
    const bool answer = std::find(run.json_exit_codes.begin(), run.json_exit_codes.end(), r->exit_code) !=
                        run.json_exit_codes.end();
    if (!answer) return cli_failure(*r);
    if (!run.json) {
        Json out = Json::object();
        out["output"] = r->out;
        out["messages"] = lines_of(r->err);
        return out;
    }
    auto parsed = Json::parse(r->out, nullptr, false);
    if (parsed.is_discarded()) {
        if (r->exit_code != 0) return cli_failure(*r);
        return RpcError{rpc_code::kInternal, "pmx printed no JSON"};
    }
    return parsed;
}

namespace {

bool realm_ok(const Call& c) { return c.session.realm == Realm::Admin; }

}  // namespace

void add_admin(MethodTable& t, std::string name, std::string summary, std::function<RpcResult(const Call&)> h) {
    Access a;
    a.admin_realm = true;
    a.admin_only = true;
    t.push_back(Method{std::move(name), std::move(summary), a, [h = std::move(h)](const Call& c) -> RpcResult {
                           // The dispatcher checked this already; the admin methods change the whole gateway.
                           if (!realm_ok(c)) return RpcError{rpc_code::kMethodNotFound, "Method not found"};
                           if (!c.who().is_admin()) return RpcError{rpc_code::kForbidden, "Not allowed for this account"};
                           return h(c);
                       }});
}

void add_with_right(MethodTable& t, std::string name, std::string summary, Right right,
                    std::function<RpcResult(const Call&)> h) {
    Access a;
    a.admin_realm = true;
    a.right = right;
    t.push_back(Method{std::move(name), std::move(summary), a, [h = std::move(h), right](const Call& c) -> RpcResult {
                           if (!realm_ok(c)) return RpcError{rpc_code::kMethodNotFound, "Method not found"};
                           if (!c.who().may_any(right)) return RpcError{rpc_code::kForbidden, "Not allowed for this account"};
                           return h(c);
                       }});
}

}  // namespace admin

void add_admin_methods(MethodTable& table) {
    admin::add_dashboard_method(table);
    admin::add_system_methods(table);
    admin::add_mail_methods(table);
}

}  // namespace pmx::web
