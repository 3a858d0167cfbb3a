// Shared pieces of the admin RPC methods (rpc_admin*.cpp): strict parameter checks and running
// `pmx --json ...` through the CLI runner. Every method validates all of its parameters before
// anything runs; values reach the CLI only as whole argv words after validation, as "--opt=VALUE"
// or after "--", so none is ever taken as an option.
#pragma once

#include <chrono>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "web/cli_runner.hpp"
#include "web/rpc.hpp"

// Inside a handler: `PMX_TRY(x, checked_expr);` declares x or returns the RpcError;
// `PMX_CHECK(optional_error_expr);` returns the error when there is one.
#define PMX_TRY(var, expr)                                          \
    auto var##_checked = (expr);                                    \
    if (auto* var##_e = std::get_if<RpcError>(&var##_checked)) return *var##_e; \
    auto var = std::move(std::get<0>(var##_checked))

#define PMX_CHECK(expr) \
    if (auto pmx_check_error = (expr)) return *pmx_check_error

namespace pmx::web::admin {

template <class T>
using Checked = std::variant<T, RpcError>;

RpcError invalid(std::string message);  // kInvalidParams

// Refuses parameters the method does not know (a typo must not silently do something else).
std::optional<RpcError> only_params(const Call& c, std::initializer_list<std::string_view> names);

// Typed parameters. Absent, null or "" → nullopt (or the error when required). Strings: at most
// max_bytes, no control characters, valid as given (no trimming).
Checked<std::optional<std::string>> opt_string(const Call& c, const char* name, std::size_t max_bytes = 1024);
Checked<std::string> req_string(const Call& c, const char* name, std::size_t max_bytes = 1024);
Checked<std::optional<bool>> opt_bool(const Call& c, const char* name);
Checked<std::optional<std::int64_t>> opt_int(const Call& c, const char* name, std::int64_t min, std::int64_t max);
// A string or an array of strings (1..max_items), each as opt_string.
Checked<std::vector<std::string>> string_list(const Call& c, const char* name, bool required, std::size_t max_items,
                                              std::size_t max_bytes = 1024);

bool has_control(std::string_view s);
// A time as the store's searches take it ("2026-11-25", "-2h", "today"): validated with store::parse_time.
std::optional<RpcError> check_time(const char* name, const std::string& text);

struct Run {
    Run(std::vector<std::string> a, std::chrono::milliseconds d = std::chrono::seconds(30), std::vector<int> codes = {0},
        bool j = true, bool c = false)
        : args(std::move(a)), deadline(d), json_exit_codes(std::move(codes)), json(j), changes(c || !j) {}
    std::vector<std::string> args;           // after `pmx [--user] --json`
    std::chrono::milliseconds deadline;      // then it is killed
    std::vector<int> json_exit_codes;        // exit codes whose stdout is still the answer
    bool json;                               // false: a command without --json (text output)
    bool changes;                            // it changes the gateway: logged with who asked (every text command does)
};

// Runs pmx; on success the parsed JSON (json) or {"output": stdout, "messages": [stderr lines]}.
// Failure: -32602 for a usage error (exit 2), -32002 when the CLI says the thing does not exist,
// else -32000 with the first lines of the CLI's stderr.
RpcResult run_cli(const Call& c, const Run& run);

// The failure of a finished run as an RpcError (see run_cli).
RpcError cli_failure(const CliRun& r);

// Registration: admin-only methods (admin realm, Admin principal), or methods for Admins and
// group admins holding right. The handler is wrapped to check the realm and access once more.
void add_admin(MethodTable& t, std::string name, std::string summary, std::function<RpcResult(const Call&)> h);
void add_with_right(MethodTable& t, std::string name, std::string summary, Right right,
                    std::function<RpcResult(const Call&)> h);

void add_system_methods(MethodTable& t);     // rpc_admin_system.cpp: services, config, jobs, scheduler
void add_mail_methods(MethodTable& t);       // rpc_admin_mail.cpp: queue, ipblock, log, reports, policy
void add_dashboard_method(MethodTable& t);   // rpc_admin_dashboard.cpp

}  // namespace pmx::web::admin
