#include "web_server.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>

#include "daemon/log.hpp"
#include "util/text.hpp"
#include "web/security_headers.hpp"

namespace pmx::httpd {

namespace {

// TLS 1.2 and 1.3 only, GnuTLS's normal cipher choice otherwise.
constexpr const char* kTlsPriorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

// What one request collects between libmicrohttpd's calls.
struct Pending {
    std::string body;
    std::size_t cap = 0;
    std::size_t received = 0;
    bool too_large = false;
};

web::Response error_response(int status, std::string_view message) {
    web::Response r = web::Response::json(status, fmt::format("{{\"error\":\"{}\"}}", message));
    web::add_security_headers(r);
    return r;
}

std::string client_address(MHD_Connection* c) {
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr) return "";
    char text[INET6_ADDRSTRLEN] = {};
    const sockaddr* sa = info->client_addr;
    if (sa->sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text, sizeof text);
    } else if (sa->sa_family == AF_INET6) {
        const auto* a6 = reinterpret_cast<const sockaddr_in6*>(sa);
        if (IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))  // a dual-stack socket: show IPv4 clients as IPv4
            ::inet_ntop(AF_INET, &a6->sin6_addr.s6_addr[12], text, sizeof text);
        else
            ::inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof text);
    }
    return text;
}

MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) noexcept {
    try {
        auto& headers = *static_cast<std::map<std::string, std::string>*>(cls);
        std::string name = ascii_lower(key ? key : "");
        auto [it, fresh] = headers.try_emplace(name, value ? value : "");
        // A repeated header: one value, as RFC 9110 5.3 allows (cookies join with "; ").
        if (!fresh) it->second += (name == "cookie" ? "; " : ", ") + std::string(value ? value : "");
        return MHD_YES;
    } catch (...) {
        return MHD_NO;
    }
}

MHD_Result collect_argument(void* cls, MHD_ValueKind, const char* key, const char* value) noexcept {
    try {
        auto& query = *static_cast<std::map<std::string, std::string>*>(cls);
        if (key) query.try_emplace(key, value ? value : "");  // the first of repeated arguments counts
        return MHD_YES;
    } catch (...) {
        return MHD_NO;
    }
}

}  // namespace

struct WebServer::Glue {
    static MHD_Result send(MHD_Connection* c, const web::Response& response) {
        MHD_Response* r = MHD_create_response_from_buffer(response.body.size(), const_cast<char*>(response.body.data()),
                                                          MHD_RESPMEM_MUST_COPY);
        if (!r) return MHD_NO;
        bool headers_ok = true;
        for (const auto& [name, value] : response.headers)
            if (MHD_add_response_header(r, name.c_str(), value.c_str()) != MHD_YES) headers_ok = false;
        if (!headers_ok) {
            // A header libmicrohttpd refuses (a line break in it): never send the response half-made.
            MHD_destroy_response(r);
            log::error("Refused to send a response with an invalid header");
            return send(c, error_response(500, "Internal error"));
        }
        MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(response.status), r);
        MHD_destroy_response(r);
        return ok;
    }

    static MHD_Result on_access(void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                                const char* upload_data, size_t* upload_data_size, void** con_cls) noexcept {
        auto* self = static_cast<WebServer*>(cls);
        const std::string prefix(web::realm_name(self->options_.realm));
        try {
            auto* p = static_cast<Pending*>(*con_cls);
            if (!p) {
                p = new Pending;
                *con_cls = p;
                p->cap = self->hooks_.max_body();
                // A body announced too large is refused before it is read.
                if (const char* cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
                    errno = 0;
                    char* end = nullptr;
                    unsigned long long n = std::strtoull(cl, &end, 10);
                    if (errno == ERANGE || n > p->cap) {
                        p->too_large = true;
                        self->hooks_.count(prefix + ".413");
                        return send(c, error_response(413, "Request body too large"));
                    }
                }
                return MHD_YES;
            }
            if (*upload_data_size) {
                std::size_t n = *upload_data_size;
                *upload_data_size = 0;
                p->received += n;
                if (!p->too_large && p->body.size() + n <= p->cap) {
                    p->body.append(upload_data, n);
                } else {
                    p->too_large = true;
                    std::string().swap(p->body);
                    // A chunked body that goes on and on: read up to twice the cap, then hang up.
                    if (p->received > 2 * p->cap) return MHD_NO;
                }
                return MHD_YES;
            }
            if (p->too_large) {
                self->hooks_.count(prefix + ".413");
                return send(c, error_response(413, "Request body too large"));
            }

            web::Request request;
            request.realm = self->options_.realm;
            request.method = method ? method : "";
            request.path = url ? url : "";
            request.body = std::move(p->body);
            request.client_ip = client_address(c);
            MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &request.headers);
            MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_argument, &request.query);

            self->hooks_.count(prefix + ".requests");
            web::Response response;
            try {
                response = self->hooks_.handle(request);
            } catch (const std::exception& e) {
                log::error("{} {} on the {} interface failed: {}", request.method, request.path, prefix, e.what());
                response = error_response(500, "Internal error");
            } catch (...) {
                log::error("{} {} on the {} interface failed: unknown exception", request.method, request.path, prefix);
                response = error_response(500, "Internal error");
            }
            if (response.status >= 500) self->hooks_.count(prefix + ".5xx");
            return send(c, response);
        } catch (const std::exception& e) {
            log::error("Request on the {} interface failed: {}", prefix, e.what());
            return MHD_NO;  // out of memory and the like: drop the connection
        } catch (...) {
            return MHD_NO;
        }
    }

    static void on_completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) noexcept {
        delete static_cast<Pending*>(*con_cls);
        *con_cls = nullptr;
    }

    static void on_log(void* cls, const char* format, va_list ap) noexcept {
        auto* self = static_cast<WebServer*>(cls);
        char buf[512];
        std::vsnprintf(buf, sizeof buf, format, ap);
        std::string_view line = trim(buf);
        try {
            if (self->starting_) {
                if (!self->start_log_.empty()) self->start_log_ += "; ";
                self->start_log_ += line;
            } else {
                // Failed handshakes, clients that vanish: routine on a public port.
                log::debug("{} interface: {}", web::realm_name(self->options_.realm), line);
            }
        } catch (...) {
        }
    }
};

Result<std::unique_ptr<WebServer>> WebServer::start(ListenSocket socket, const TlsPair& tls, const ServerOptions& options,
                                                     ServerHooks hooks) {
    std::unique_ptr<WebServer> s(new WebServer);
    s->options_ = options;
    s->hooks_ = std::move(hooks);
    s->url_ = socket.url();
    s->cert_pem_ = tls.certificate_pem;
    s->key_pem_ = tls.key_pem;
    s->starting_ = true;
    // libmicrohttpd closes the socket when it stops (and on a failed start: it is its own from here).
    int fd = socket.release();
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS | MHD_USE_ERROR_LOG;
    s->daemon_ = MHD_start_daemon(
        flags, 0, nullptr, nullptr, &Glue::on_access, s.get(),
        MHD_OPTION_LISTEN_SOCKET, static_cast<MHD_socket>(fd),
        MHD_OPTION_THREAD_POOL_SIZE, static_cast<unsigned>(options.threads),
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(options.max_connections),
        MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(options.timeout_seconds),
        MHD_OPTION_NOTIFY_COMPLETED, &Glue::on_completed, s.get(),
        MHD_OPTION_EXTERNAL_LOGGER, &Glue::on_log, s.get(),
        MHD_OPTION_HTTPS_MEM_CERT, s->cert_pem_.c_str(),
        MHD_OPTION_HTTPS_MEM_KEY, s->key_pem_.c_str(),
        MHD_OPTION_HTTPS_PRIORITIES, kTlsPriorities,
        MHD_OPTION_END);
    s->starting_ = false;
    if (!s->daemon_)
        return Error{fmt::format("Failed to start the {} interface on {}: {}", web::realm_name(options.realm), s->url_,
                                 s->start_log_.empty() ? "libmicrohttpd refused to start" : s->start_log_)};
    return s;
}

WebServer::~WebServer() {
    // Waits for the requests under way on the server's threads.
    if (daemon_) MHD_stop_daemon(daemon_);
}

}  // namespace pmx::httpd
