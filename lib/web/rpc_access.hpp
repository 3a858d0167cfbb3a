// Inside lib/web: whether a session may call a method at all (realm, admin only, right),
// shared by the dispatcher (web/rpc.cpp) and rpc.methods (web/rpc_session.cpp), so the list a
// caller sees is exactly what the dispatcher lets through.
#pragma once

#include <optional>

#include "web/rpc.hpp"

namespace pmx::web {

// Whether the method exists on the session's interface at all (else: unknown method).
bool callable_in_realm(const Method& method, Realm realm);
// nullopt: the caller may call it; else the kForbidden error to answer.
std::optional<RpcError> access_error(const Method& method, const Principal& who);

}  // namespace pmx::web
