// The JSON RPC dispatcher: transport checks (session, CSRF, JSON), the method table, access
// (realm, admin only, right), params, and turning whatever a handler does into one reply.
#include "web/rpc.hpp"

#include <fmt/format.h>

#include <exception>

#include "daemon/log.hpp"
#include "web/rpc_access.hpp"

namespace pmx::web {

namespace {

// Deeper nesting than any request of this API needs; checked before parsing, so no request
// can make the parser (or anything walking the result) recurse far.
constexpr int max_depth = 32;

bool too_deep(std::string_view body) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : body) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > max_depth) return true;
        } else if (c == ']' || c == '}') --depth;
    }
    return false;
}

// Equal without an early exit, so the time taken says nothing about how much of a guess was right.
bool same_token(std::string_view a, std::string_view b) {
    if (a.size() != b.size() || a.empty()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

// Text that came from mail (subjects, headers) need not be valid UTF-8: replaced, never thrown on.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json error_object(int code, std::string_view message) { return Json{{"code", code}, {"message", message}}; }

// A transport refusal: the HTTP status says it; the body is a JSON-RPC error for scripts.
Response refuse(int status, int code, std::string_view message) {
    return Response::json(status, dump(Json{{"jsonrpc", "2.0"}, {"id", nullptr}, {"error", error_object(code, message)}}));
}

Response reply(const Json& id, const RpcResult& r) {
    Json out{{"jsonrpc", "2.0"}, {"id", id}};
    if (const auto* e = std::get_if<RpcError>(&r)) out["error"] = error_object(e->code, e->message);
    else out["result"] = std::get<Json>(r);
    return Response::json(200, dump(out));
}

const char* json_type(const Json& j) { return j.type_name(); }

}  // namespace

bool callable_in_realm(const Method& m, Realm realm) {
    return realm == Realm::Admin ? m.access.admin_realm : m.access.user_realm;
}

std::optional<RpcError> access_error(const Method& m, const Principal& who) {
    if (m.access.admin_only && !who.is_admin())
        return forbidden(fmt::format("{} is for administrators only", m.name));
    if (m.access.right && !who.may_any(*m.access.right))
        return forbidden(fmt::format("{} needs the right \"{}\", which this account does not have", m.name,
                                     right_name(*m.access.right)));
    return std::nullopt;
}

const MethodTable& methods() {
    static const MethodTable table = [] {
        MethodTable t;
        add_session_methods(t);
        add_quarantine_methods(t);
        add_lists_methods(t);
        add_user_methods(t);
        add_admin_methods(t);
        add_group_methods(t);
        return t;
    }();
    return table;
}

const Method* find_method(std::string_view name) {
    for (const auto& m : methods())
        if (m.name == name) return &m;
    return nullptr;
}

Response handle_rpc(const Environment& env, const Request& request, const std::optional<Session>& session) {
    using namespace rpc_code;
    if (request.method != "POST")
        return refuse(405, kInvalidRequest, "Use POST for /rpc").with_header("Allow", "POST");
    if (!session || session->realm != request.realm)
        return refuse(401, kForbidden, "Not signed in, or the session has expired: sign in again");
    if (!same_token(request.header(kCsrfHeader), session->csrf))
        return refuse(403, kForbidden, "Missing or wrong X-PMX-CSRF header (the csrf value of the sign-in reply)");

    if (too_deep(request.body))
        return refuse(400, kParseError, fmt::format("The request nests deeper than {} levels", max_depth));
    Json body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return refuse(400, kParseError, "The request body is not JSON");
    if (body.is_array()) return refuse(400, kInvalidRequest, "Batch requests are not supported: send one call per request");
    if (!body.is_object()) return refuse(400, kInvalidRequest, "The request must be a JSON object");

    Json id = nullptr;
    if (auto it = body.find("id"); it != body.end()) {
        if (!it->is_null() && !it->is_string() && !it->is_number())
            return reply(nullptr, RpcError{kInvalidRequest, "\"id\" must be a number or a string"});
        id = *it;
    }
    if (auto v = body.find("jsonrpc"); v == body.end() || !v->is_string() || *v != "2.0")
        return reply(id, RpcError{kInvalidRequest, "\"jsonrpc\" must be \"2.0\""});
    auto name = body.find("method");
    if (name == body.end() || !name->is_string())
        return reply(id, RpcError{kInvalidRequest, "\"method\" must be a string"});
    const auto& method_name = name->get_ref<const std::string&>();

    const Method* method = find_method(method_name);
    if (!method || !callable_in_realm(*method, request.realm)) {
        std::string shown = method_name.size() > 100 ? method_name.substr(0, 100) + "..." : method_name;
        return reply(id, RpcError{kMethodNotFound, fmt::format("Unknown method \"{}\" (rpc.methods lists them)", shown)});
    }
    if (auto denied = access_error(*method, session->who)) return reply(id, *denied);

    static const Json no_params = Json::object();
    const Json* params = &no_params;
    if (auto p = body.find("params"); p != body.end() && !p->is_null()) {
        if (!p->is_object())
            return reply(id, RpcError{kInvalidParams, fmt::format("\"params\" must be an object, not {}", json_type(*p))});
        params = &*p;
    }

    try {
        return reply(id, method->handler(Call{env, *session, *params}));
    } catch (const std::exception& e) {
        log::error("RPC {} by {} failed: {}", method->name, session->who.name, e.what());
    } catch (...) {
        log::error("RPC {} by {} failed with an unknown exception", method->name, session->who.name);
    }
    return reply(id, RpcError{kInternal, "Internal error (the server's log has the details)"});
}

std::variant<std::string, RpcError> string_param(const Call& c, const char* name, bool required) {
    auto it = c.params.find(name);
    if (it == c.params.end() || it->is_null()) {
        if (required) return RpcError{rpc_code::kInvalidParams, fmt::format("Missing parameter \"{}\"", name)};
        return std::string();
    }
    if (!it->is_string())
        return RpcError{rpc_code::kInvalidParams, fmt::format("Parameter \"{}\" must be a string, not {}", name, json_type(*it))};
    return it->get<std::string>();
}

std::variant<std::int64_t, RpcError> int_param(const Call& c, const char* name, std::optional<std::int64_t> fallback) {
    auto it = c.params.find(name);
    if (it == c.params.end() || it->is_null()) {
        if (fallback) return *fallback;
        return RpcError{rpc_code::kInvalidParams, fmt::format("Missing parameter \"{}\"", name)};
    }
    if (it->is_number_unsigned()) {
        auto v = it->get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(INT64_MAX))
            return RpcError{rpc_code::kInvalidParams, fmt::format("Parameter \"{}\" is too large", name)};
        return static_cast<std::int64_t>(v);
    }
    if (it->is_number_integer()) return it->get<std::int64_t>();
    return RpcError{rpc_code::kInvalidParams, fmt::format("Parameter \"{}\" must be an integer, not {}", name,
                                                          it->is_number_float() ? "a fraction" : json_type(*it))};
}

RpcError forbidden(std::string message) { return RpcError{rpc_code::kForbidden, std::move(message)}; }
RpcError not_found(std::string message) { return RpcError{rpc_code::kNotFound, std::move(message)}; }
RpcError failed(std::string message) { return RpcError{rpc_code::kFailed, std::move(message)}; }

}  // namespace pmx::web
