// One HTTPS interface (admin or end user) on libmicrohttpd: TLS, connection limits, request
// bodies collected up to a cap (413 beyond), then a web::Request handed to the handler on one of
// the server's threads. The handler's exceptions become a 500, never a crash.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "listen_socket.hpp"
#include "tls_files.hpp"
#include "util/result.hpp"
#include "web/http.hpp"

struct MHD_Daemon;

namespace pmx::httpd {

struct ServerOptions {
    web::Realm realm = web::Realm::User;
    int threads = 4;
    int max_connections = 256;
    int timeout_seconds = 30;
};

struct ServerHooks {
    // Runs on the server's threads; may throw.
    std::function<web::Response(const web::Request&)> handle;
    // httpd.max_request_bytes of the current config (reloadable).
    std::function<std::size_t()> max_body;
    // Counts requests, responses by class and failures ("admin.requests", "admin.5xx", ...).
    std::function<void(const std::string&)> count;
};

class WebServer {
public:
    static Result<std::unique_ptr<WebServer>> start(ListenSocket socket, const TlsPair& tls, const ServerOptions& options,
                                                    ServerHooks hooks);
    ~WebServer();
    WebServer(const WebServer&) = delete;
    WebServer& operator=(const WebServer&) = delete;

    std::string url() const { return url_; }
    web::Realm realm() const { return options_.realm; }

    // Called from the libmicrohttpd callbacks (public only for them).
    struct Glue;

private:
    WebServer() = default;
    MHD_Daemon* daemon_ = nullptr;
    ServerOptions options_;
    ServerHooks hooks_;
    std::string url_;
    std::string cert_pem_, key_pem_;  // kept while the server runs
    std::string start_log_;           // libmicrohttpd's messages while starting (for the error)
    bool starting_ = false;
};

}  // namespace pmx::httpd
