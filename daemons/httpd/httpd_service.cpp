#include "httpd_service.hpp"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

#include "daemon/log.hpp"
#include "pmx-build-config.h"
#include "secret/keyring.hpp"
#include "util/paths.hpp"
#include "web/app.hpp"
#include "web/static_files.hpp"

namespace pmx::httpd {

namespace {

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
    return buf;
}

// A certificate or key that is broken, or a listen address that is no address, is a configuration
// problem: exit 78 (EX_CONFIG) like a config error, so systemd does not restart in vain
// (RestartPreventExitStatus=78) and `pmx start` shows this line as the reason. Nothing runs yet
// that needs stopping (the servers start after these checks).
[[noreturn]] void config_error(const std::string& message) {
    log::error("{}", message);
    sd_notifyf(0, "STATUS=%s", message.c_str());
    std::exit(daemon::kExitConfig);
}

}  // namespace

HttpdService::HttpdService(bool user_bus) : user_bus_(user_bus), layout_(config::Layout::from_environment()) {
    // The CLI admin operations run; PMX_CLI points tests at a build's own binary.
    const char* cli = std::getenv("PMX_CLI");
    pmx_cli_ = cli && *cli ? std::filesystem::path(cli) : std::filesystem::path(PMX_BINDIR) / "pmx";
    host_name_ = host_name();
}

HttpdService::~HttpdService() {
    // Stop serving (waiting for requests under way) before anything they use goes away.
    user_.reset();
    admin_.reset();
}

Result<void> HttpdService::start(daemon::Daemon& daemon) {
    daemon_ = &daemon;
    auto snapshot = daemon.config();

    auto cert_file = state_path(snapshot->string("httpd.tls_certificate"));
    auto key_file = state_path(snapshot->string("httpd.tls_key"));
    std::error_code ec;
    const bool creating = !std::filesystem::exists(cert_file, ec) && !std::filesystem::exists(key_file, ec);
    auto tls = load_or_create_tls(cert_file, key_file);
    if (!tls) {
        if (creating) return tls.error();  // could not write them (a full disk?): a later start may
        config_error(tls.error().message);  // files that are there and wrong: only the admin can help
    }
    if (tls->created)
        log::notice("Made a self-signed TLS certificate {} (key {}), SHA-256 fingerprint {}, valid until {}",
                    cert_file.string(), key_file.string(), tls->fingerprint, tls->not_after);
    tls_note_ = fmt::format("certificate valid until {}", tls->not_after);

    // Both sockets first: a port in use stops the start before anything serves.
    for (const char* key : {"httpd.admin_listen", "httpd.user_listen"})
        if (auto hp = parse_host_port(key, snapshot->string(key)); !hp) config_error(hp.error().message);
    auto admin_socket = ListenSocket::open("httpd.admin_listen", snapshot->string("httpd.admin_listen"));
    if (!admin_socket) return admin_socket.error();
    auto user_socket = ListenSocket::open("httpd.user_listen", snapshot->string("httpd.user_listen"));
    if (!user_socket) return user_socket.error();
    user_port_ = user_socket->port();

    reload_keyring(*snapshot);
    reload_limiter(*snapshot);

    ServerOptions options;
    options.threads = static_cast<int>(snapshot->integer("httpd.threads"));
    options.max_connections = static_cast<int>(snapshot->integer("httpd.max_connections"));
    options.timeout_seconds = static_cast<int>(snapshot->integer("httpd.request_timeout_seconds"));
    auto hooks = [this] {
        ServerHooks h;
        h.handle = [this](const web::Request& r) { return handle(r); };
        h.max_body = [this] { return static_cast<std::size_t>(daemon_->config()->integer("httpd.max_request_bytes")); };
        h.count = [this](const std::string& name) { daemon_->counters().add(name); };
        return h;
    };

    options.realm = web::Realm::Admin;
    auto admin = WebServer::start(std::move(*admin_socket), *tls, options, hooks());
    if (!admin) return admin.error();
    admin_ = std::move(*admin);
    options.realm = web::Realm::User;
    auto user = WebServer::start(std::move(*user_socket), *tls, options, hooks());
    if (!user) return user.error();
    user_ = std::move(*user);

    auto assets = web::resolve_assets_dir(layout_, snapshot->string("httpd.assets"));
    if (!std::filesystem::is_directory(assets, ec))
        log::warning("The pages directory {} (httpd.assets) does not exist: every page answers 404 until it does",
                     assets.string());
    return {};
}

Result<void> HttpdService::prepare_reload(const config::Snapshot& next) {
    // Everything else is read per request from the snapshot; listen addresses, TLS files and
    // threads need a restart (their keys say so).
    reload_keyring(next);
    reload_limiter(next);
    return {};
}

void HttpdService::reload_keyring(const config::Snapshot& snapshot) {
    auto k = secret::load_or_create_keyring(secret::keyring_path(snapshot));
    std::lock_guard lock(mutex_);
    if (!k) {
        if (keyring_problem_ != k.error().message)
            log::error("{}; sign-in links do not work until a key can be read", k.error().message);
        keyring_problem_ = k.error().message;
        keyring_.reset();
        return;
    }
    keyring_problem_.clear();
    keyring_ = std::make_shared<const secret::Keyring>(std::move(*k));
}

void HttpdService::reload_limiter(const config::Snapshot& snapshot) {
    auto max = snapshot.integer("httpd.login_max_failures");
    auto window = snapshot.integer("httpd.login_window_seconds");
    std::lock_guard lock(mutex_);
    // Same limits: keep the failures counted so far (a reload must not reset a brute force's count).
    if (limiter_ && max == limiter_max_ && window == limiter_window_) return;
    limiter_ = std::make_shared<web::RateLimiter>(static_cast<int>(max), std::chrono::seconds(window));
    limiter_max_ = max;
    limiter_window_ = window;
}

web::Environment HttpdService::environment() {
    web::Environment env;
    env.config = daemon_->config();
    env.layout = layout_;
    env.user_bus = user_bus_;
    env.pmx_cli = pmx_cli_;
    std::lock_guard lock(mutex_);
    env.keyring = keyring_;
    env.limiter = limiter_;
    return env;
}

web::Response HttpdService::handle(const web::Request& request) {
    web::Environment env = environment();
    web::AppSettings settings;
    settings.assets_dir = web::resolve_assets_dir(layout_, env.config->string("httpd.assets"));
    const std::string& url = env.config->string("httpd.user_url");
    settings.user_base_url = url.empty() ? fmt::format("https://{}:{}", host_name_, user_port_) : url;
    return web::handle(env, settings, request);
}

std::string HttpdService::status_text() const {
    if (!admin_ || !user_) return "Starting";
    std::uint64_t requests = 0;
    if (daemon_)
        for (const auto& [name, n] : daemon_->counters().values())
            if (name.ends_with(".requests")) requests += n;
    return fmt::format("Serving the admin and end-user interfaces; {}; {} requests since start", tls_note_, requests);
}

std::string HttpdService::listen() const {
    if (!admin_ || !user_) return "-";
    return fmt::format("{} (admin), {} (user)", admin_->url(), user_->url());
}

}  // namespace pmx::httpd
