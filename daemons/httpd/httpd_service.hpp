// pmx-httpd: the admin (Manager, Groups) and end-user web interfaces and the JSON RPC API, on two
// HTTPS ports. The application itself is lib/web (web::handle); this is the daemon around it:
// TLS files, the two servers, and an Environment per request from the current config snapshot.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "daemon/daemon.hpp"
#include "web/environment.hpp"
#include "web/rate_limit.hpp"
#include "web_server.hpp"

namespace pmx::httpd {

class HttpdService final : public daemon::Service {
public:
    explicit HttpdService(bool user_bus);
    ~HttpdService() override;

    Result<void> start(daemon::Daemon& daemon) override;
    Result<void> prepare_reload(const config::Snapshot& next) override;
    std::string status_text() const override;
    std::string listen() const override;

private:
    web::Response handle(const web::Request& request);
    web::Environment environment();
    void reload_keyring(const config::Snapshot& snapshot);
    void reload_limiter(const config::Snapshot& snapshot);

    daemon::Daemon* daemon_ = nullptr;
    bool user_bus_ = false;
    config::Layout layout_;
    std::filesystem::path pmx_cli_;
    std::string host_name_;
    int user_port_ = 0;

    mutable std::mutex mutex_;  // guards the two below (swapped on reload, read per request)
    std::shared_ptr<const secret::Keyring> keyring_;
    std::shared_ptr<web::RateLimiter> limiter_;
    std::int64_t limiter_max_ = 0, limiter_window_ = 0;
    std::string keyring_problem_;

    std::unique_ptr<WebServer> admin_;
    std::unique_ptr<WebServer> user_;
    std::string tls_note_;
};

}  // namespace pmx::httpd
