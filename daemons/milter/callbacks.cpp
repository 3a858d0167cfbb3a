#include "callbacks.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "apply.hpp"
#include "contexts.hpp"
#include "daemon/log.hpp"
#include "ipblock_check.hpp"
#include "milter_service.hpp"
#include "util/text.hpp"

namespace pmx::milter {

namespace {

// A header value without its folding (line breaks) and surrounding blanks: how pmx-queued
// reads the Message-ID it binds the re-injection stamp to.
std::string unfolded(std::string_view value) {
    std::string out;
    for (char ch : value)
        if (ch != '\r' && ch != '\n') out += ch;
    return std::string(trim(out));
}

ConnectionContext* connection(SMFICTX* ctx) { return static_cast<ConnectionContext*>(smfi_getpriv(ctx)); }

std::string strip_angles(const char* a) {
    std::string s = a ? a : "";
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    return s;
}

// The client's IP from the connect step's socket address; "" for local submissions.
std::string address_text(const _SOCK_ADDR* addr) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (!addr) return {};
    if (addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, buf, sizeof buf);
    else if (addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr, buf, sizeof buf);
    return buf;
}

// Every shim: exceptions never cross into C; an internal failure becomes the configured verdict.
template <class F>
sfsistat guarded(SMFICTX* ctx, const char* step, F&& f) noexcept {
    try {
        return f();
    } catch (const std::exception& e) {
        log::error("Failed in milter step {}: {}", step, e.what());
        MilterService::instance().counters().add("internal_errors");
        return internal_error_verdict(ctx, MilterService::instance().runtime()->config);
    } catch (...) {
        MilterService::instance().counters().add("internal_errors");
        return SMFIS_TEMPFAIL;
    }
}

sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                      unsigned long* pf0, unsigned long* pf1, unsigned long* pf2, unsigned long* pf3) noexcept {
    const unsigned long actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_SETSYMLIST;
    if ((f0 & actions) != actions) {
        log::error("The MTA does not offer the milter actions pmx needs (offered {:#x}, need {:#x})", f0, actions);
        return SMFIS_REJECT;  // libmilter: refuse the negotiation; the MTA applies milter_default_action
    }
    // SMFIF_CHGBODY when offered (Postfix and sendmail do): the policy's remove_infected.
    *pf0 = actions | (f0 & SMFIF_CHGBODY);
    // Ask only for the steps the policy needs, and no replies where we never answer early:
    // each round trip saved is throughput (see bench/).
    // RCPT too: the recipient cap is enforced at end of message, so the MTA never waits on us
    // before DATA (measured: one round trip per recipient is ~0.1 of Postfix's throughput).
    // The connect step answers only when the IP Blocker is asked there (sendmail sites).
    const bool check_at_connect = MilterService::instance().runtime()->config->boolean("milter.ipblock_at_connect");
    const unsigned long wanted = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA | (check_at_connect ? 0 : SMFIP_NR_CONN) |
                                 SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY |
                                 SMFIP_HDR_LEADSPC;
    *pf1 = f1 & wanted;
    auto c = std::make_unique<ConnectionContext>();
    c->check_at_connect = check_at_connect || !(*pf1 & SMFIP_NR_CONN);
    smfi_setpriv(ctx, c.release());
    *pf2 = 0;
    *pf3 = 0;
    smfi_setsymlist(ctx, SMFIM_ENVFROM, const_cast<char*>("{auth_authen}"));
    smfi_setsymlist(ctx, SMFIM_EOM, const_cast<char*>("i"));
    return SMFIS_CONTINUE;
}

sfsistat on_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* addr) noexcept {
    return guarded(ctx, "connect", [&] {
        auto* c = connection(ctx);
        if (!c) {  // no negotiation step (an old MTA): a context of our own, no reply expected
            c = new ConnectionContext();
            smfi_setpriv(ctx, c);
        }
        if (hostname) c->client_hostname = hostname;
        c->client_ip = address_text(addr);
        if (c->client_hostname.size() > 2 && c->client_hostname.front() == '[') c->client_hostname.clear();
        MilterService::instance().counters().add("connections");
        if (!c->check_at_connect) return SMFIS_NOREPLY;
        auto rt = MilterService::instance().runtime();
        if (!rt->config->boolean("milter.ipblock_at_connect") || rt->site.internal_client(c->client_ip, ""))
            return SMFIS_CONTINUE;
        auto d = ask_ipblockd(*rt->config, c->client_ip);
        if (d.kind == ConnectDecision::Kind::Pass) return SMFIS_CONTINUE;
        MilterService::instance().counters().add(d.kind == ConnectDecision::Kind::Reject ? "ipblock_rejects" : "ipblock_tempfails");
        smfi_setreply(ctx, d.code.data(), d.xcode.data(), d.text.data());
        return d.kind == ConnectDecision::Kind::Reject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    });
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) noexcept {
    return guarded(ctx, "MAIL FROM", [&] {
        auto* c = connection(ctx);
        if (!c) return SMFIS_TEMPFAIL;
        auto m = std::make_unique<MessageContext>(MilterService::instance().runtime());
        m->envelope.sender = strip_angles(argv ? argv[0] : nullptr);
        m->envelope.client_ip = c->client_ip;
        m->envelope.client_hostname = c->client_hostname;
        m->envelope.helo = c->helo;
        if (const char* auth = smfi_getsymval(ctx, const_cast<char*>("{auth_authen}"))) m->envelope.auth_user = auth;
        c->message = std::move(m);
        return SMFIS_NOREPLY;
    });
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv) noexcept {
    return guarded(ctx, "RCPT TO", [&] {
        auto* c = connection(ctx);
        if (!c || !c->message) return SMFIS_NOREPLY;
        auto& m = *c->message;
        auto max = static_cast<std::size_t>(m.runtime->config->integer("milter.max_recipients"));
        if (m.envelope.recipients.size() >= max) ++m.recipients_refused;  // answered at end of message
        else m.envelope.recipients.push_back(strip_angles(argv ? argv[0] : nullptr));
        return SMFIS_NOREPLY;
    });
}

sfsistat on_header(SMFICTX* ctx, char* name, char* value) noexcept {
    return guarded(ctx, "header", [&] {
        auto* c = connection(ctx);
        if (!c || !c->message) return SMFIS_NOREPLY;
        auto& m = *c->message;
        ++m.header_count;
        std::string lname = ascii_lower(name ? name : "");
        ++m.header_occurrences[lname];
        if (lname == "subject" && !m.subject_raw) m.subject_raw = value ? value : "";
        if (lname == "message-id" && m.message_id.empty()) m.message_id = unfolded(value ? value : "");
        if (lname == "x-pmx-reinjected" && !m.reinjection_stamp) m.reinjection_stamp = value ? value : "";
        // Rebuild the header as sent: with SMFIP_HDR_LEADSPC the value keeps its leading space;
        // folded lines come with bare LF, which we store as CRLF like the rest of the message.
        std::string line = name ? name : "";
        line += ':';
        for (const char* p = value ? value : ""; *p; ++p) {
            if (*p == '\n' && (p == value || p[-1] != '\r')) line += '\r';
            line += *p;
        }
        line += "\r\n";
        if (auto r = m.buffer.append(line); !r && !m.internal_error) m.internal_error = r.error().message;
        return SMFIS_NOREPLY;
    });
}

sfsistat on_eoh(SMFICTX* ctx) noexcept {
    return guarded(ctx, "end of headers", [&] {
        auto* c = connection(ctx);
        if (!c || !c->message) return SMFIS_NOREPLY;
        if (auto r = c->message->buffer.append("\r\n"); !r && !c->message->internal_error)
            c->message->internal_error = r.error().message;
        return SMFIS_NOREPLY;
    });
}

sfsistat on_body(SMFICTX* ctx, unsigned char* chunk, size_t size) noexcept {
    return guarded(ctx, "body", [&] {
        auto* c = connection(ctx);
        if (!c || !c->message) return SMFIS_NOREPLY;
        auto& m = *c->message;
        if (auto r = m.buffer.append({reinterpret_cast<const char*>(chunk), size}); !r && !m.internal_error)
            m.internal_error = r.error().message;
        return SMFIS_NOREPLY;
    });
}

sfsistat on_eom(SMFICTX* ctx) noexcept {
    return guarded(ctx, "end of message", [&] {
        auto* c = connection(ctx);
        if (!c || !c->message) return SMFIS_TEMPFAIL;
        auto message = std::move(c->message);
        return finish_message(ctx, *message);
    });
}

sfsistat on_abort(SMFICTX* ctx) noexcept {
    if (auto* c = connection(ctx)) c->message.reset();
    return SMFIS_CONTINUE;
}

sfsistat on_close(SMFICTX* ctx) noexcept {
    delete connection(ctx);
    smfi_setpriv(ctx, nullptr);
    return SMFIS_CONTINUE;
}

}  // namespace

smfiDesc milter_description() {
    smfiDesc d{};
    d.xxfi_name = const_cast<char*>("pmx-milter");
    d.xxfi_version = SMFI_VERSION;
    d.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_SETSYMLIST | SMFIF_CHGBODY;
    d.xxfi_connect = on_connect;
    d.xxfi_envfrom = on_envfrom;
    d.xxfi_envrcpt = on_envrcpt;
    d.xxfi_header = on_header;
    d.xxfi_eoh = on_eoh;
    d.xxfi_body = on_body;
    d.xxfi_eom = on_eom;
    d.xxfi_abort = on_abort;
    d.xxfi_close = on_close;
    d.xxfi_negotiate = on_negotiate;
    return d;
}

}  // namespace pmx::milter
