// Keys of the httpd section: pmx-httpd, the Manager (admin) and end-user web interfaces and
// the JSON RPC API behind them (lib/web, daemons/httpd).
#include "config/keys.hpp"

namespace pmx::config {

void add_httpd_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "httpd.admin_listen", .type = Type::String, .default_value = std::string("127.0.0.1:8443"),
         .services = {"httpd"}, .apply = Apply::Restart,
         .doc = "Address and port of the admin interface (Manager, Groups, RPC); port 0 picks a free one"},
        {.name = "httpd.user_listen", .type = Type::String, .default_value = std::string("127.0.0.1:8444"),
         .services = {"httpd"}, .apply = Apply::Restart,
         .doc = "Address and port of the end-user interface (own quarantine, lists, RPC); port 0 picks a free one"},
        {.name = "httpd.tls_certificate", .type = Type::String, .default_value = std::string("httpd-cert.pem"),
         .services = {"httpd"}, .apply = Apply::Restart,
         .doc = "PEM certificate (chain) of both interfaces; relative to the state directory. "
                "Missing at start: a self-signed one is made with its key"},
        {.name = "httpd.tls_key", .type = Type::String, .default_value = std::string("httpd-key.pem"),
         .services = {"httpd"}, .apply = Apply::Restart,
         .doc = "PEM private key of httpd.tls_certificate; relative to the state directory"},
        {.name = "httpd.user_url", .type = Type::String, .default_value = std::string(""), .services = {"httpd"},
         .doc = "Public address of the end-user interface, used in sign-in links "
                "(https://mail.example.org:8444); empty: https://HOSTNAME:PORT of httpd.user_listen"},
        {.name = "httpd.threads", .type = Type::Integer, .default_value = std::int64_t{4}, .min = 1, .max = 64,
         .services = {"httpd"}, .apply = Apply::Restart,
         .doc = "Threads serving requests, per interface"},
        {.name = "httpd.max_connections", .type = Type::Integer, .default_value = std::int64_t{256}, .min = 4,
         .max = 65536, .services = {"httpd"}, .apply = Apply::Restart,
         .doc = "Most open connections per interface; more are refused"},
        {.name = "httpd.max_request_bytes", .type = Type::Integer, .default_value = std::int64_t{1 * MiB},
         .min = 4 * KiB, .max = 64 * MiB, .services = {"httpd"},
         .doc = "Largest request body accepted; larger ones get 413"},
        {.name = "httpd.request_timeout_seconds", .type = Type::Integer, .default_value = std::int64_t{30},
         .min = 1, .max = 3600, .services = {"httpd"}, .apply = Apply::Restart,
         .doc = "An idle connection is closed after this many seconds"},
        {.name = "httpd.assets", .type = Type::String, .default_value = std::string("web"), .services = {"httpd"},
         .doc = "Directory of the pages and assets; relative: under /etc/pmx first, then /usr/share/pmx"},
        {.name = "httpd.pam_service", .type = Type::String, .default_value = std::string("pmx-httpd"),
         .services = {"httpd"}, .doc = "PAM service that checks system accounts signing in to the admin interface"},
        {.name = "httpd.admin_group", .type = Type::String, .default_value = std::string("pmx-admin"),
         .services = {"httpd"}, .doc = "System group whose members sign in to the admin interface as administrators"},
        {.name = "httpd.session_idle_seconds", .type = Type::Integer, .default_value = std::int64_t{1800},
         .min = 60, .max = 30 * 86400, .services = {"httpd"},
         .doc = "A session unused this long ends"},
        {.name = "httpd.session_max_seconds", .type = Type::Integer, .default_value = std::int64_t{12 * 3600},
         .min = 300, .max = 90 * 86400, .services = {"httpd"},
         .doc = "A session ends this long after sign-in, used or not"},
        {.name = "httpd.login_max_failures", .type = Type::Integer, .default_value = std::int64_t{5}, .min = 1,
         .max = 1000, .services = {"httpd"},
         .doc = "Failed sign-ins (or link requests) per client address and per account within "
                "httpd.login_window_seconds before further attempts are refused with 429"},
        {.name = "httpd.login_window_seconds", .type = Type::Integer, .default_value = std::int64_t{300}, .min = 1,
         .max = 86400, .services = {"httpd"}, .doc = "Window of httpd.login_max_failures"},
        {.name = "httpd.login_link_seconds", .type = Type::Integer, .default_value = std::int64_t{900}, .min = 60,
         .max = 7 * 86400, .services = {"httpd"},
         .doc = "How long a mailed one-time sign-in link stays valid"},
        {.name = "httpd.login_link_from", .type = Type::String, .default_value = std::string(""),
         .services = {"httpd"}, .doc = "From address of sign-in link mail; empty: digest.from, else postmaster@HOSTNAME"},
    });
}

}  // namespace pmx::config
