// pmx secret list|rotate: the site's keyring (lib/secret/keyring.hpp). Keys themselves are never
// printed; rotation adds a new signing key, keeps the old ones while what they signed may still
// be valid, and reloads the daemons that check signatures so they see the new key at once.
#include <fmt/format.h>

#include <string>

#include "commands.hpp"
#include "config/loader.hpp"
#include "daemon_reload.hpp"
#include "output.hpp"
#include "secret/keyring.hpp"
#include "time_option.hpp"

namespace pmx::cli {

namespace {

std::filesystem::path configured_keyring() {
    auto snapshot = config::load(config::Layout::from_environment());
    if (!snapshot) throw CommandError(fmt::format("Configuration is invalid:\n{}", snapshot.error().message));
    return secret::keyring_path(*snapshot);
}

void print_keys(Context& ctx, const secret::Keyring& ring) {
    if (ctx.json) {
        std::string out = "[";
        for (const auto& k : ring.keys())
            out += fmt::format("{}{{\"id\":{},\"created_us\":{},\"created\":{},\"signing\":{}}}", out.size() > 1 ? "," : "",
                               json_quote(k.id), k.created_us,
                               json_quote(format_timestamp_usec(static_cast<unsigned long long>(k.created_us))),
                               &k == &ring.signing_key() ? "true" : "false");
        fmt::print("{}]\n", out);
        return;
    }
    Table t({"ID", "CREATED", "USE"});
    for (const auto& k : ring.keys())
        t.add({k.id, format_timestamp_usec(static_cast<unsigned long long>(k.created_us)),
               &k == &ring.signing_key() ? "signs and verifies" : "verifies only"});
    fmt::print("{}", t.render());
}

}  // namespace

void add_secret_commands(CLI::App& app, Context& ctx) {
    auto* s = app.add_subcommand("secret", "Show or rotate the site's signing keys (digest links, re-injection stamp)");
    s->require_subcommand(1);

    auto* list = s->add_subcommand("list", "List the keys in the keyring (ids and ages, never the keys)");
    list->add_flag("--json", ctx.json, "Print JSON");
    list->callback([&ctx] {
        auto ring = secret::load_or_create_keyring(configured_keyring());
        if (!ring) throw CommandError(ring.error().message);
        print_keys(ctx, *ring);
    });

    static std::string keep = "30d";
    auto* rotate = s->add_subcommand("rotate", "Add a new signing key; drop keys retired longer ago than --keep");
    rotate->add_option("--keep", keep,
                       "Keep retired keys this long, so links and stamps they signed still work (default 30d)");
    rotate->add_flag("--json", ctx.json, "Print JSON");
    rotate->callback([&ctx] {
        auto since = time_arg("-" + keep, "--keep");
        auto ring = secret::rotate_keyring(configured_keyring(), store::now_us() - *since);
        if (!ring) throw CommandError(ring.error().message);
        if (!ctx.quiet && !ctx.json) fmt::print("New signing key {}.\n", ring->signing_key().id);
        print_keys(ctx, *ring);
        // The milter checks stamps and pmx-queued signs them: both read the keyring on reload.
        Context reloading = ctx;
        reloading.quiet = ctx.quiet || ctx.json;
        for (auto daemon : {"milter", "queued"}) {
            try {
                reload_daemon_directly(reloading, daemon);
            } catch (const CommandError& e) {
                fmt::print(stderr, "warning: the key is rotated, but pmx-{} was not reloaded: {}\n", daemon, e.what());
            }
        }
    });
}

}  // namespace pmx::cli
