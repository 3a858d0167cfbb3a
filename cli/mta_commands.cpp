// pmx mta postfix|sendmail: the exact MTA settings that put pmx-milter in the mail path.
#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "config/loader.hpp"
#include "daemon/daemon.hpp"

namespace pmx::cli {

namespace {

// milter.socket in Postfix's notation: "unix:/run/pmx/milter.sock" or "inet:127.0.0.1:7357".
std::string postfix_milter_address(const std::string& configured) {
    if (configured.starts_with("inet:") || configured.starts_with("inet6:")) {
        // libmilter writes inet:PORT@HOST; Postfix wants inet:HOST:PORT.
        auto colon = configured.find(':');
        auto at = configured.find('@');
        std::string port = configured.substr(colon + 1, at == std::string::npos ? std::string::npos : at - colon - 1);
        std::string host = at == std::string::npos ? "127.0.0.1" : configured.substr(at + 1);
        return fmt::format("inet:{}:{}", host, port);
    }
    std::string path = configured.starts_with("unix:") ? configured.substr(5) : configured;
    return "unix:" + daemon::Daemon::runtime_path(path).string();
}

// pmx-ipblockd's policy socket for check_policy_service: the loopback TCP one when
// configured (reachable from anywhere on the host), else "unix:/run/pmx/ipblock.sock".
std::string postfix_policy_address(const config::Snapshot& cfg) {
    const auto& tcp = cfg.string("ipblock.tcp_listen");
    if (!tcp.empty()) return "inet:" + tcp;
    return "unix:" + daemon::Daemon::runtime_path(cfg.string("ipblock.socket")).string();
}

std::vector<std::pair<std::string, std::string>> postfix_settings(const config::Snapshot& cfg, bool ipblock) {
    std::string milter = postfix_milter_address(cfg.string("milter.socket"));
    std::vector<std::pair<std::string, std::string>> policy;
    if (ipblock) {
        // The IP Blocker answers per client before any content check; with smtpd_delay_reject
        // (the default) Postfix asks at RCPT and rejects there, before DATA.
        policy.push_back({"smtpd_client_restrictions", "check_policy_service " + postfix_policy_address(cfg)});
        // When pmx-ipblockd is unreachable: ipblock.on_failure decides (pass, or tempfail).
        policy.push_back({"smtpd_policy_service_default_action",
                          cfg.string("ipblock.on_failure") == "tempfail" ? "451 4.3.5 IP blocker unavailable"
                                                                         : "DUNNO"});
    }
    std::vector<std::pair<std::string, std::string>> all = {
        {"smtpd_milters", milter},
        {"non_smtpd_milters", milter},
        // Never lose mail: if pmx-milter is down or slow, the sender is told to retry.
        {"milter_default_action", "tempfail"},
        {"milter_protocol", "6"},
        {"milter_connect_timeout", "30s"},
        {"milter_command_timeout", "30s"},
        {"milter_content_timeout", "300s"},
        // The queue id at end of message and the SASL login at MAIL FROM.
        {"milter_end_of_data_macros", "i"},
        {"milter_mail_macros", "i {auth_type} {auth_authen} {auth_author} {mail_addr}"},
    };
    all.insert(all.end(), policy.begin(), policy.end());
    return all;
}

config::Snapshot load_config() {
    auto loaded = config::load(config::Layout::from_environment());
    if (!loaded) throw CommandError(fmt::format("Configuration is invalid:\n{}", loaded.error().message));
    return std::move(*loaded);
}

int run_postconf(const std::string& config_dir, const std::vector<std::string>& assignments) {
    std::vector<std::string> args = {"postconf"};
    if (!config_dir.empty()) { args.push_back("-c"); args.push_back(config_dir); }
    args.push_back("-e");
    args.insert(args.end(), assignments.begin(), assignments.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0) throw CommandError("Failed to run postconf: fork failed");
    if (pid == 0) {
        execvp("postconf", argv.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status)) return 1;
    return WEXITSTATUS(status);
}

}  // namespace

void add_mta_commands(CLI::App& app, Context& ctx) {
    auto* mta = app.add_subcommand("mta", "Print (or apply) the MTA settings that route mail through pmx-milter");
    mta->require_subcommand(1);

    auto* postfix = mta->add_subcommand("postfix", "main.cf lines for Postfix; --apply runs postconf -e");
    static bool apply = false;
    static std::string config_dir;
    static bool without_ipblock = false;
    postfix->add_flag("--apply", apply, "Apply them with postconf -e, then run `postfix reload` yourself");
    postfix->add_flag("--without-ipblock", without_ipblock,
                      "Leave out the check_policy_service line for pmx-ipblockd (smtpd_client_restrictions)");
    postfix->add_option("-c,--postfix-config-dir", config_dir, "Postfix configuration directory (postconf -c)");
    postfix->callback([&ctx] {
        auto settings = postfix_settings(load_config(), !without_ipblock);
        if (!apply) {
            fmt::print("# Add to Postfix's main.cf (or run: pmx mta postfix --apply):\n");
            for (const auto& [k, v] : settings) fmt::print("{} = {}\n", k, v);
            return;
        }
        std::vector<std::string> assignments;
        for (const auto& [k, v] : settings) assignments.push_back(k + "=" + v);
        int rc = run_postconf(config_dir, assignments);
        if (rc == 127) throw CommandError("Failed to run postconf: not found (is Postfix installed?)");
        if (rc != 0) throw CommandError(fmt::format("postconf -e failed with status {}", rc));
        if (!ctx.quiet) fmt::print("Applied {} settings; run `postfix reload` to use them.\n", settings.size());
    });

    auto* sendmail = mta->add_subcommand("sendmail", "The INPUT_MAIL_FILTER line for sendmail.mc");
    sendmail->callback([] {
        auto cfg = load_config();
        std::string sock = cfg.string("milter.socket");
        std::string spec = sock.starts_with("inet:") ? sock
                                                     : "unix:" + daemon::Daemon::runtime_path(
                                                                    sock.starts_with("unix:") ? sock.substr(5) : sock)
                                                                    .string();
        fmt::print("dnl Add to sendmail.mc, then rebuild sendmail.cf (F=T: tempfail when pmx-milter is down)\n");
        fmt::print("INPUT_MAIL_FILTER(`pmx', `S={}, F=T, T=C:30s;S:30s;R:30s;E:5m')dnl\n", spec);
    });
}

}  // namespace pmx::cli
