// One registration function per command group; cli/main.cpp calls them all.
#pragma once

#include <CLI/CLI.hpp>

#include "context.hpp"

namespace pmx::cli {

void add_service_commands(CLI::App& app, Context& ctx);  // start stop restart reload enable disable
void add_status_command(CLI::App& app, Context& ctx);    // status
void add_config_commands(CLI::App& app, Context& ctx);   // config show|get|set|check
void add_mta_commands(CLI::App& app, Context& ctx);      // mta postfix|sendmail
void add_policy_commands(CLI::App& app, Context& ctx);   // policy check|test
void add_list_commands(CLI::App& app, Context& ctx);     // list show|add|remove|import|export
void add_quarantine_commands(CLI::App& app, Context& ctx);  // quarantine list|show
void add_log_command(CLI::App& app, Context& ctx);       // log
void add_spam_commands(CLI::App& app, Context& ctx);     // spam check|learn|forget|rules
// Inside `pmx spam`: each part of the engine registers its own subcommands.
void add_spam_rules_command(CLI::App& spam, Context& ctx);   // spam rules
void add_spam_learn_commands(CLI::App& spam, Context& ctx);  // spam learn|forget
void add_spam_dnsbl_command(CLI::App& spam, Context& ctx);   // spam dnsbl-check
void add_av_commands(CLI::App& app, Context& ctx);       // av scan|status
void add_ipblock_commands(CLI::App& app, Context& ctx);  // ipblock test|list|add|remove|stats
void add_jobs_commands(CLI::App& app, Context& ctx);     // scheduler start|stop|status, jobs ...
void add_db_commands(CLI::App& app, Context& ctx);       // db check|maintain
void add_queue_commands(CLI::App& app, Context& ctx);    // queue list|show|flush|retry|delete
void add_secret_commands(CLI::App& app, Context& ctx);   // secret list|rotate
void add_report_commands(CLI::App& app, Context& ctx);   // report list|consolidate|NAME
void add_web_commands(CLI::App& app, Context& ctx);      // web user|group|delegate|session (pmx-httpd's accounts)
// Inside `pmx quarantine`: digests register their own subcommands.
void add_quarantine_digest_commands(CLI::App& quarantine, Context& ctx);  // quarantine digest|digest-reply

}  // namespace pmx::cli
