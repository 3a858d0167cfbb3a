// The JSON RPC API (JSON-RPC 2.0 over POST /rpc), used by the web pages and by scripts.
// Every method names the access it needs; the dispatcher checks the session's realm and
// Principal before the handler runs, and handlers check each item (message, address) against
// the Principal's scope. Documented in man/pmx-rpc.7.scd and share/web/rpc.md; a unit test keeps
// the method table and the man page in step.
//
// Request:  {"jsonrpc":"2.0","id":1,"method":"quarantine.search","params":{...}}
// Reply:    {"jsonrpc":"2.0","id":1,"result":...} or {"jsonrpc":"2.0","id":1,"error":{"code":..,"message":..}}
// Transport failures are HTTP statuses: 401 no session, 403 missing or wrong CSRF token,
// 400 not JSON, 413 too large. Everything else is HTTP 200 with a JSON-RPC error.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "web/environment.hpp"
#include "web/http.hpp"
#include "web/principal.hpp"
#include "web/session.hpp"

namespace pmx::web {

using Json = nlohmann::json;

namespace rpc_code {
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternal = -32603;
inline constexpr int kFailed = -32000;     // the operation ran and failed (message says why)
inline constexpr int kForbidden = -32001;  // not for this caller (realm, rights, scope)
inline constexpr int kNotFound = -32002;   // no such message/entry/job... (also for out-of-scope ids)
}  // namespace rpc_code

struct RpcError {
    int code = rpc_code::kFailed;
    std::string message;
};

using RpcResult = std::variant<Json, RpcError>;

// Who may call a method at all (per-item scope is the handler's check).
struct Access {
    bool admin_realm = false;        // callable on the admin interface
    bool user_realm = false;         // callable on the end-user interface
    bool admin_only = false;         // Principal must be Admin
    std::optional<Right> right;      // else Principal must carry this right somewhere (may_any)
};

struct Call {
    const Environment& env;
    const Session& session;
    const Json& params;  // always an object ({} when absent)
    const Principal& who() const { return session.who; }
};

struct Method {
    std::string name;     // "quarantine.search"
    std::string summary;  // one line, for rpc.methods and the man page
    Access access;
    std::function<RpcResult(const Call&)> handler;
};

using MethodTable = std::vector<Method>;

// Each group of methods registers itself (one file each).
void add_session_methods(MethodTable& table);     // web/rpc_session.cpp: session.whoami, rpc.methods
void add_quarantine_methods(MethodTable& table);  // web/rpc_quarantine.cpp
void add_lists_methods(MethodTable& table);       // web/rpc_lists.cpp
void add_user_methods(MethodTable& table);        // web/rpc_user.cpp: the end user's own settings
void add_admin_methods(MethodTable& table);       // web/rpc_admin.cpp: services, config, jobs, queue, ipblock, log, reports, policy, dashboard
void add_group_methods(MethodTable& table);       // web/rpc_groups.cpp: groups, web users, delegations

// All methods, built once.
const MethodTable& methods();
const Method* find_method(std::string_view name);

// POST /rpc: parses the body, checks realm, access and CSRF, runs the method, builds the reply.
Response handle_rpc(const Environment& env, const Request& request, const std::optional<Session>& session);

// Helpers for handlers: typed params with a clear kInvalidParams message.
std::variant<std::string, RpcError> string_param(const Call& c, const char* name, bool required = true);
std::variant<std::int64_t, RpcError> int_param(const Call& c, const char* name, std::optional<std::int64_t> fallback = std::nullopt);
RpcError forbidden(std::string message = "Not allowed for this account");
RpcError not_found(std::string message);
RpcError failed(std::string message);

}  // namespace pmx::web
