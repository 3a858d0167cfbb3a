// pmx config show|get|set|unset|check|describe: the schema-checked view and editor of pmx.toml.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>

#include "bus/daemon_client.hpp"
#include "commands.hpp"
#include "config/loader.hpp"
#include "config/schema.hpp"
#include "output.hpp"
#include "services/registry.hpp"
#include "util/atomic_file.hpp"

namespace pmx::cli {

namespace {

namespace fs = std::filesystem;

const config::KeySpec& require_key(const std::string& name) {
    if (const auto* spec = config::find_key(name)) return *spec;
    auto hint = config::suggest_key(name);
    throw CommandError(hint.empty() ? fmt::format("Unknown config key \"{}\" (see pmx config show --defaults)", name)
                                    : fmt::format("Unknown config key \"{}\" (did you mean \"{}\"?)", name, hint),
                       2);
}

config::Snapshot load_or_throw(const config::Layout& layout) {
    auto loaded = config::load(layout);
    if (!loaded) throw CommandError(fmt::format("Configuration is invalid:\n{}", loaded.error().message));
    return std::move(*loaded);
}

std::vector<const ServiceInfo*> services_of(const config::KeySpec& spec) {
    std::vector<const ServiceInfo*> out;
    for (const auto& s : all_services())
        if (config::key_affects(spec, s.id)) out.push_back(&s);
    return out;
}

std::string services_text(const config::KeySpec& spec) {
    std::string out;
    for (const auto* s : services_of(spec)) out += (out.empty() ? "" : " ") + std::string(s->id);
    return out;
}

std::string setting_json(const config::Setting& s) {
    std::string services;
    for (const auto* svc : services_of(*s.spec))
        services += (services.empty() ? "" : ",") + json_quote(svc->id);
    auto value_json = [](const config::Value& v) {
        if (auto str = std::get_if<std::string>(&v)) return json_quote(*str);
        if (auto list = std::get_if<config::StringList>(&v)) {
            std::string out;
            for (const auto& item : *list) out += (out.empty() ? "" : ",") + json_quote(item);
            return "[" + out + "]";
        }
        return config::to_plain(v);
    };
    return fmt::format(
        "{{\"key\":{},\"value\":{},\"default\":{},\"origin\":{},\"type\":{},\"services\":[{}],\"apply\":{},\"doc\":{}}}",
        json_quote(s.spec->name), value_json(s.value), value_json(s.spec->default_value),
        json_quote(s.origin.describe()), json_quote(config::type_name(s.spec->type)), services,
        json_quote(s.spec->apply == config::Apply::Reload ? "reload" : "restart"), json_quote(s.spec->doc));
}

void show(Context& ctx, bool defaults, bool changed, bool origin, const std::vector<std::string>& keys) {
    if (defaults && changed) throw CommandError("--defaults and --changed exclude each other", 2);
    for (const auto& k : keys) require_key(k);

    std::vector<config::Setting> settings;
    if (defaults) {
        for (const auto& spec : config::all_keys()) settings.push_back({&spec, spec.default_value, {}});
    } else {
        settings = load_or_throw(config::Layout::from_environment()).settings();
    }
    std::vector<const config::Setting*> shown;
    for (const auto& s : settings) {
        if (!keys.empty() && std::find(keys.begin(), keys.end(), s.spec->name) == keys.end()) continue;
        if (changed && s.origin.is_default()) continue;
        shown.push_back(&s);
    }
    if (ctx.json) {
        std::string out = "[";
        for (size_t i = 0; i < shown.size(); ++i) out += (i ? ",\n " : "") + setting_json(*shown[i]);
        fmt::print("{}]\n", out);
        return;
    }
    for (const auto* s : shown) {
        if (origin) fmt::print("{} = {}  # {}\n", s->spec->name, config::to_toml_literal(s->value), s->origin.describe());
        else fmt::print("{} = {}\n", s->spec->name, config::to_toml_literal(s->value));
    }
}

void describe(Context& ctx, const std::vector<std::string>& keys) {
    std::vector<const config::KeySpec*> specs;
    if (keys.empty()) for (const auto& k : config::all_keys()) specs.push_back(&k);
    for (const auto& k : keys) specs.push_back(&require_key(k));
    if (ctx.json) {
        std::string out = "[";
        for (size_t i = 0; i < specs.size(); ++i)
            out += (i ? ",\n " : "") + setting_json(config::Setting{specs[i], specs[i]->default_value, {}});
        fmt::print("{}]\n", out);
        return;
    }
    for (const auto* spec : specs) {
        std::string allowed;
        if (spec->type == config::Type::Integer) allowed = fmt::format(", {} to {}", spec->min, spec->max);
        if (spec->type == config::Type::Enum) {
            for (auto c : spec->choices) allowed += (allowed.empty() ? ", one of: " : " | ") + std::string(c);
        }
        fmt::print("{}\n  {}\n  type: {}{}; default: {}\n  {} on change: {}\n\n", spec->name, spec->doc,
                   config::type_name(spec->type), allowed, config::to_toml_literal(spec->default_value),
                   spec->apply == config::Apply::Reload ? "reloads" : "needs a restart of", services_text(*spec));
    }
}

void check(Context& ctx, const std::vector<std::string>& files) {
    std::vector<fs::path> paths;
    if (files.empty()) paths = config::Layout::from_environment().files();
    else for (const auto& f : files) paths.emplace_back(f);
    auto loaded = config::load_files(paths);
    if (!loaded) throw CommandError(loaded.error().message);
    if (!ctx.quiet) {
        fmt::print("Configuration is valid ({} file{}", paths.size(), paths.size() == 1 ? "" : "s");
        for (const auto& p : paths) fmt::print("{} {}", &p == &paths.front() ? ":" : ",", p.string());
        fmt::print(")\n");
    }
}

// Applies the new values of one key to the services using it, after the file is written.
void apply_change(Context& ctx, const config::KeySpec& spec) {
    auto affected = services_of(spec);
    if (spec.apply == config::Apply::Restart) {
        for (const auto* s : affected)
            if (!ctx.quiet)
                fmt::print("{} reads {} only at start: run `pmx{} restart {}` to apply it.\n", s->unit, spec.name,
                           ctx.user ? " --user" : "", s->id);
        return;
    }
    auto bus = bus::open(ctx.scope());
    if (!bus) throw CommandError(fmt::format("Saved, but could not reload services: {}", bus.error().message));
    bool failed = false;
    for (const auto* s : affected) {
        auto r = bus::reload_daemon(bus->get(), *s);
        if (!r) {
            fmt::print(stderr, "pmx: {}\n", r.error().message);
            failed = true;
        } else if (!ctx.quiet) {
            fmt::print("{}: {}\n", s->unit, *r == bus::ReloadOutcome::Reloaded ? "reloaded" : "not running, reads it at start");
        }
    }
    if (failed) ctx.exit_code = 1;
}

// Rewrites pmx's own drop-in with `key` set to `value` (or removed when value is empty).
void edit(Context& ctx, const std::string& key, const std::optional<std::string>& text) {
    const auto& spec = require_key(key);
    std::optional<config::Value> value;
    if (text) {
        auto parsed = config::parse_text_value(spec, *text);
        if (!parsed.ok) throw CommandError(parsed.error, 2);
        value = parsed.value;
    }
    auto layout = config::Layout::from_environment();
    auto own = config::read_dropin(layout.own_dropin());
    if (!own) throw CommandError(fmt::format("Failed to read {}: {}", layout.own_dropin().string(), own.error().message));
    auto values = std::move(*own);
    std::erase_if(values, [&](const auto& kv) { return kv.first == &spec; });
    if (value) values.emplace_back(&spec, *value);
    std::string text_out = config::render_dropin(values);

    // Validate the whole merged configuration with the edit in place before writing anything.
    auto files = layout.files();
    auto merged = config::load_files_with(files, layout.own_dropin(), text_out);
    if (!merged) throw CommandError(fmt::format("Refusing the change, the configuration would be invalid:\n{}", merged.error().message));

    std::error_code ec;
    fs::create_directories(layout.dropin_dir(), ec);
    if (ec) throw CommandError(fmt::format("Failed to create {}: {}", layout.dropin_dir().string(), ec.message()));
    if (auto w = write_file_atomically(layout.own_dropin(), text_out, 0644); !w) throw CommandError(w.error().message);

    const auto& effective = merged->setting(spec.name);
    if (value && effective.value != *value)
        fmt::print(stderr, "pmx: warning: {} is overridden by {} (= {}); the value set here has no effect\n", spec.name,
                   effective.origin.describe(), config::to_toml_literal(effective.value));
    apply_change(ctx, spec);
}

}  // namespace

void add_config_commands(CLI::App& app, Context& ctx) {
    auto* config = app.add_subcommand("config", "Show, check and change pmx.toml settings (see pmx.toml(5))");
    config->require_subcommand(1);

    auto* show_cmd = config->add_subcommand("show", "Print the effective settings (like postconf)");
    static bool defaults = false, changed = false, origin = false;
    static std::vector<std::string> show_keys;
    show_cmd->add_flag("--defaults", defaults, "Print the compiled-in defaults instead (like postconf -d)");
    show_cmd->add_flag("--changed", changed, "Print only settings that differ from their default (like postconf -n)");
    show_cmd->add_flag("--origin", origin, "Append the file:line:column each value comes from");
    show_cmd->add_flag("--json", ctx.json, "Print JSON");
    show_cmd->add_option("KEY", show_keys, "Only these keys");
    show_cmd->callback([&ctx] { show(ctx, defaults, changed, origin, show_keys); });

    auto* get_cmd = config->add_subcommand("get", "Print one setting's value, plain (for scripts)");
    static std::string get_key;
    get_cmd->add_option("KEY", get_key, "Key, e.g. milter.max_recipients")->required();
    get_cmd->callback([] {
        const auto& spec = require_key(get_key);
        auto snap = load_or_throw(config::Layout::from_environment());
        fmt::print("{}\n", config::to_plain(snap.get(spec.name)));
    });

    auto* set_cmd = config->add_subcommand(
        "set", "Validate and save a setting in pmx's own drop-in, then reload the services that use it");
    static std::string set_key, set_value;
    set_cmd->add_option("KEY", set_key, "Key, e.g. milter.max_recipients")->required();
    set_cmd->add_option("VALUE", set_value, "New value")->required();
    set_cmd->callback([&ctx] { edit(ctx, set_key, set_value); });

    auto* unset_cmd = config->add_subcommand("unset", "Remove a setting from pmx's own drop-in, then reload");
    static std::string unset_key;
    unset_cmd->add_option("KEY", unset_key, "Key")->required();
    unset_cmd->callback([&ctx] { edit(ctx, unset_key, std::nullopt); });

    auto* check_cmd = config->add_subcommand("check", "Validate the configuration (or only the given files)");
    static std::vector<std::string> check_files;
    check_cmd->add_option("FILE", check_files, "Files to check on their own, over the defaults");
    check_cmd->callback([&ctx] { check(ctx, check_files); });

    auto* describe_cmd = config->add_subcommand("describe", "Explain keys: type, range, default, who reloads");
    static std::vector<std::string> describe_keys;
    describe_cmd->add_option("KEY", describe_keys, "Keys (all when none)");
    describe_cmd->add_flag("--json", ctx.json, "Print JSON");
    describe_cmd->callback([&ctx] { describe(ctx, describe_keys); });
}

}  // namespace pmx::cli
