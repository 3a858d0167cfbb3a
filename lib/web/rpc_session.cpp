// session.whoami and rpc.methods: who the caller is, and what they may call. Any session,
// both interfaces.
#include "web/rpc.hpp"
#include "web/rpc_access.hpp"

namespace pmx::web {

namespace {

RpcResult whoami(const Call& c) {
    const auto& who = c.who();
    Rights rights = who.is_admin() ? kAllRights : 0;
    Json scope = Json::array();
    for (const auto& item : who.scope) {
        rights |= item.rights;
        scope.push_back({{"pattern", item.pattern}, {"rights", rights_names(item.rights)}});
    }
    return Json{{"name", who.name},
                {"kind", kind_name(who.kind)},
                {"realm", realm_name(c.session.realm)},
                {"csrf", c.session.csrf},
                {"rights", rights_names(rights)},
                {"scope", who.is_admin() ? Json::array() : scope}};
}

// Exactly what the dispatcher would let this caller through to.
RpcResult list_methods(const Call& c) {
    Json out = Json::array();
    for (const auto& m : methods())
        if (callable_in_realm(m, c.session.realm) && !access_error(m, c.who()))
            out.push_back({{"name", m.name}, {"summary", m.summary}});
    return out;
}

}  // namespace

void add_session_methods(MethodTable& t) {
    const Access any{.admin_realm = true, .user_realm = true, .admin_only = false, .right = std::nullopt};
    t.push_back({"session.whoami", "Who is signed in: name, kind, interface, rights and scope", any, whoami});
    t.push_back({"rpc.methods", "The methods this session may call, with a summary of each", any, list_methods});
}

}  // namespace pmx::web
