#include "config/loader.hpp"
#include "config/toml_problems.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <stdexcept>

#include "pmx-build-config.h"
#include "util/atomic_file.hpp"

namespace pmx::config {

namespace fs = std::filesystem;

std::string Origin::describe() const {
    if (is_default()) return "default";
    return fmt::format("{}:{}:{}", file, line, column);
}

Snapshot::Snapshot(std::vector<Setting> settings, std::vector<std::string> files)
    : settings_(std::move(settings)), files_(std::move(files)) {}

const Setting& Snapshot::setting(std::string_view key) const {
    for (const auto& s : settings_)
        if (s.spec->name == key) return s;
    throw std::logic_error(fmt::format("unknown config key {}", key));
}

const StringList& Snapshot::strings(std::string_view key) const { return std::get<StringList>(get(key)); }
std::int64_t Snapshot::integer(std::string_view key) const { return std::get<std::int64_t>(get(key)); }
const std::string& Snapshot::string(std::string_view key) const { return std::get<std::string>(get(key)); }
bool Snapshot::boolean(std::string_view key) const { return std::get<bool>(get(key)); }

Layout Layout::from_environment() {
    Layout l{PMX_VENDORDIR, PMX_SYSCONFDIR};
    if (const char* v = std::getenv("PMX_VENDOR_DIR"); v && *v) l.vendor_dir = v;
    if (const char* c = std::getenv("PMX_CONFIG_DIR"); c && *c) l.config_dir = c;
    return l;
}

std::vector<fs::path> layered_files(const fs::path& vendor_file, const fs::path& admin_file, const fs::path& dropin_dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    if (fs::exists(vendor_file, ec)) out.push_back(vendor_file);
    if (fs::exists(admin_file, ec)) out.push_back(admin_file);
    std::vector<fs::path> dropins;
    for (fs::directory_iterator it(dropin_dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".toml" && !it->path().filename().string().starts_with(".#"))
            dropins.push_back(it->path());
    std::sort(dropins.begin(), dropins.end());
    out.insert(out.end(), dropins.begin(), dropins.end());
    return out;
}

std::vector<fs::path> Layout::files() const { return layered_files(vendor_file(), admin_file(), dropin_dir()); }

namespace {

std::string unknown_key_reason(std::string_view name) {
    auto hint = suggest_key(name);
    if (hint.empty()) return "unknown key";
    return fmt::format("unknown key (did you mean \"{}\"?)", hint);
}

std::string suggest_section(std::string_view section) {
    std::string best;
    size_t best_distance = 3;  // more than two edits away is not a typo
    for (const auto& k : all_keys()) {
        auto known = k.name.substr(0, k.name.find('.'));
        if (auto d = edit_distance(section, known); d < best_distance) { best_distance = d; best = known; }
    }
    return best;
}

std::optional<Value> typed_value(const toml::node& node) {
    if (auto a = node.as_array()) {
        StringList items;
        for (const auto& element : *a) {
            auto s = element.as_string();
            if (!s) return std::nullopt;
            items.push_back(s->get());
        }
        return Value{std::move(items)};
    }
    if (auto b = node.as_boolean()) return Value{b->get()};
    if (auto i = node.as_integer()) return Value{i->get()};
    if (auto s = node.as_string()) return Value{s->get()};
    return std::nullopt;
}


// Applies one parsed document to the settings map, collecting every problem.
void apply_document(const toml::table& doc, const std::string& file, std::map<std::string_view, Setting>& settings,
                    TomlProblems& errors) {
    for (auto&& [section_key, section_node] : doc) {
        std::string section{section_key.str()};
        auto* section_table = section_node.as_table();
        if (!section_table) {
            errors.add(file, section_key.source(), section, unknown_key_reason(section));
            continue;
        }
        bool known_section = std::any_of(all_keys().begin(), all_keys().end(), [&](const KeySpec& k) {
            return k.name.substr(0, k.name.find('.')) == section;
        });
        if (!known_section) {
            std::string reason = "unknown section";
            if (auto hint = suggest_section(section); !hint.empty())
                reason += fmt::format(" (did you mean \"[{}]\"?)", hint);
            errors.add(file, section_key.source(), fmt::format("[{}]", section), reason);
            continue;
        }
        for (auto&& [key, node] : *section_table) {
            std::string name = section + "." + std::string(key.str());
            const KeySpec* spec = find_key(name);
            if (!spec) {
                errors.add(file, key.source(), name, unknown_key_reason(name));
                continue;
            }
            auto value = typed_value(node);
            bool type_ok = value && (spec->type == Type::Integer      ? std::holds_alternative<std::int64_t>(*value)
                                     : spec->type == Type::Boolean    ? std::holds_alternative<bool>(*value)
                                     : spec->type == Type::StringList ? std::holds_alternative<StringList>(*value)
                                                                      : std::holds_alternative<std::string>(*value));
            if (!type_ok) {
                std::string_view expected = spec->type == Type::Integer      ? "an integer"
                                            : spec->type == Type::Boolean    ? "a boolean"
                                            : spec->type == Type::StringList ? "an array of strings"
                                                                             : "a string";
                std::string_view got = node.is_array() ? "an array with a non-string item" : toml_type_name(node);
                errors.add(file, node.source(), name, fmt::format("expected {}, got {}", expected, got));
                continue;
            }
            if (auto problem = check_value(*spec, *value); !problem.empty()) {
                errors.add(file, node.source(), name, problem);
                continue;
            }
            auto& s = settings.at(spec->name);
            s.value = std::move(*value);
            s.origin = Origin{file, node.source().begin.line, node.source().begin.column};
        }
    }
}

Result<Snapshot> load_texts(const std::vector<std::pair<std::string, std::optional<std::string>>>& inputs) {
    std::map<std::string_view, Setting> settings;
    for (const auto& spec : all_keys()) settings.emplace(spec.name, Setting{&spec, spec.default_value, {}});

    TomlProblems errors;
    std::vector<std::string> files;
    for (const auto& [file, given_text] : inputs) {
        std::string text;
        if (given_text) {
            text = *given_text;
        } else {
            auto r = read_file(file);
            if (!r) { errors.add_line(r.error().message); continue; }
            text = std::move(*r);
        }
        files.push_back(file);
        try {
            toml::table doc = toml::parse(text, file);
            apply_document(doc, file, settings, errors);
            errors.finish_file();
        } catch (const toml::parse_error& e) {
            errors.add_line(fmt::format("{}:{}:{}: syntax error: {}", file, e.source().begin.line,
                                                e.source().begin.column, e.description()));
        }
    }
    if (!errors.lines().empty()) {
        std::string joined;
        for (const auto& e : errors.lines()) joined += (joined.empty() ? "" : "\n") + e;
        return Error{joined};
    }
    std::vector<Setting> ordered;
    for (const auto& spec : all_keys()) ordered.push_back(std::move(settings.at(spec.name)));
    return Snapshot{std::move(ordered), std::move(files)};
}

}  // namespace

Result<Snapshot> load(const Layout& layout) { return load_files(layout.files()); }

Result<Snapshot> load_files(const std::vector<fs::path>& files) {
    std::vector<std::pair<std::string, std::optional<std::string>>> inputs;
    for (const auto& f : files) inputs.emplace_back(f.string(), std::nullopt);
    return load_texts(inputs);
}

Result<Snapshot> load_files_with(const std::vector<fs::path>& files, const fs::path& replaced,
                                 const std::string& replacement_text) {
    std::vector<std::pair<std::string, std::optional<std::string>>> inputs;
    bool seen = false;
    for (const auto& f : files) {
        if (f == replaced) { inputs.emplace_back(f.string(), replacement_text); seen = true; }
        else inputs.emplace_back(f.string(), std::nullopt);
    }
    if (!seen) {
        // The replaced file is new: put it where its name sorts among the drop-ins.
        inputs.emplace_back(replaced.string(), replacement_text);
        std::stable_sort(inputs.begin(), inputs.end(), [&](const auto& a, const auto& b) {
            auto in_dropins = [&](const std::string& p) { return fs::path(p).parent_path() == replaced.parent_path(); };
            if (!in_dropins(a.first) || !in_dropins(b.first)) return false;
            return a.first < b.first;
        });
    }
    return load_texts(inputs);
}

std::string render_dropin(const std::vector<std::pair<const KeySpec*, Value>>& values) {
    auto sorted = values;
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first->name < b.first->name; });
    std::string out =
        "# Written by `pmx config set`; change it with `pmx config set` and `pmx config unset`.\n"
        "# Hand edits belong in pmx.toml or in a drop-in of your own.\n";
    std::string_view current;
    for (const auto& [spec, value] : sorted) {
        auto dot = spec->name.find('.');
        auto section = spec->name.substr(0, dot);
        if (section != current) {
            out += fmt::format("\n[{}]\n", section);
            current = section;
        }
        out += fmt::format("{} = {}\n", spec->name.substr(dot + 1), to_toml_literal(value));
    }
    return out;
}

Result<std::vector<std::pair<const KeySpec*, Value>>> read_dropin(const fs::path& file) {
    std::vector<std::pair<const KeySpec*, Value>> out;
    std::error_code ec;
    if (!fs::exists(file, ec)) return out;
    auto loaded = load_files({file});
    if (!loaded) return loaded.error();
    for (const auto& s : loaded->settings())
        if (!s.origin.is_default()) out.emplace_back(s.spec, s.value);
    return out;
}

}  // namespace pmx::config
