// pmx: the control plane. Registers every command group, parses, runs, maps errors to exit codes.
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "context.hpp"
#include "pmx-build-config.h"

int main(int argc, char** argv) {
    pmx::cli::Context ctx;
    ctx.stdout_is_tty = isatty(STDOUT_FILENO);

    CLI::App app{"pmx: control the pmx mail filtering gateway (services, configuration, status)", "pmx"};
    app.set_version_flag("--version", std::string("pmx ") + PMX_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app.add_flag_callback(
        "--user",
        [&ctx] {
            ctx.user = true;
            // A user manager (systemd 252) gives StateDirectory=pmx as $XDG_CONFIG_HOME/pmx:
            // the store commands must find the database the user's daemons write.
            if (!std::getenv("PMX_STATE_DIR")) {
                const char* xdg = std::getenv("XDG_CONFIG_HOME");
                const char* home = std::getenv("HOME");
                std::string base = xdg && *xdg ? xdg : std::string(home ? home : "") + "/.config";
                setenv("PMX_STATE_DIR", (base + "/pmx").c_str(), 0);
            }
        },
        "Talk to the calling user's service manager and bus (as systemctl --user)");
    bool system = false;  // accepted for symmetry with systemctl; the system manager is the default
    app.add_flag("--system", system, "Talk to the system manager and bus (the default)");
    app.add_flag("--json", ctx.json, "Print machine-readable JSON where the command offers it");
    app.add_flag("-q,--quiet", ctx.quiet, "Print only errors");
    app.footer("Services: milter, ipblockd, queued, avd, httpd (no service means the whole gateway, pmx.target).\n"
               "See pmx(1) and pmx.toml(5).");

    pmx::cli::add_service_commands(app, ctx);
    pmx::cli::add_status_command(app, ctx);
    pmx::cli::add_config_commands(app, ctx);
    pmx::cli::add_mta_commands(app, ctx);
    pmx::cli::add_policy_commands(app, ctx);
    pmx::cli::add_list_commands(app, ctx);
    pmx::cli::add_quarantine_commands(app, ctx);
    pmx::cli::add_log_command(app, ctx);
    pmx::cli::add_spam_commands(app, ctx);
    pmx::cli::add_av_commands(app, ctx);
    pmx::cli::add_ipblock_commands(app, ctx);
    pmx::cli::add_jobs_commands(app, ctx);
    pmx::cli::add_db_commands(app, ctx);
    pmx::cli::add_queue_commands(app, ctx);
    pmx::cli::add_secret_commands(app, ctx);
    pmx::cli::add_report_commands(app, ctx);
    pmx::cli::add_web_commands(app, ctx);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // CLI11 prints the message; pmx(1) promises 2 for every usage error (help and --version: 0).
        return app.exit(e) == 0 ? 0 : 2;
    } catch (const pmx::cli::CommandError& e) {
        fmt::print(stderr, "pmx: {}\n", e.what());
        return e.exit_code;
    } catch (const std::exception& e) {
        fmt::print(stderr, "pmx: {}\n", e.what());
        return 1;
    }
    return ctx.exit_code;
}
