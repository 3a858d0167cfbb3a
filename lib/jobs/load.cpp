// Reading jobs.toml and its drop-ins. Files merge key by key: a drop-in that says
// `[job.db-maintain] enabled = false` changes that one key of the vendor's job.
// A job with any bad key, or without command or times, is left out as a whole (with a
// problem for each reason), so a typo never runs a half-configured job.
#include <fmt/format.h>

#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <set>

#include "config/loader.hpp"
#include "config/toml_problems.hpp"
#include "jobs/jobs.hpp"
#include "util/atomic_file.hpp"

namespace pmx::jobs {

namespace fs = std::filesystem;

Layout Layout::from_environment() {
    auto c = config::Layout::from_environment();
    return Layout{c.vendor_dir, c.config_dir};
}

std::vector<fs::path> Layout::files() const {
    return config::layered_files(vendor_file(), admin_file(), dropin_dir());
}

namespace {

constexpr std::size_t kMaxFileBytes = 1 << 20;  // a jobs file is a few KiB; anything near this is a mistake
constexpr std::size_t kMaxJobs = 1000;
constexpr std::size_t kMaxCalendars = 32;
constexpr std::size_t kMaxDescription = 256;

struct Where {
    std::string file;
    std::uint32_t line = 0, column = 0;
};

struct Draft {
    Job job;
    Where first;  // where the job's table first appears
    bool has_command = false, has_at = false;  // a valid value was set
    bool seen_command = false, seen_at = false;  // the key appears, valid or not
    bool broken = false;
};

// A string, or an array of strings (when allow_single is false, only the array).
std::optional<std::vector<std::string>> string_list(const toml::node& n, bool allow_single) {
    if (auto s = n.as_string(); s && allow_single) return std::vector<std::string>{s->get()};
    auto a = n.as_array();
    if (!a) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& e : *a) {
        auto s = e.as_string();
        if (!s) return std::nullopt;
        out.push_back(s->get());
    }
    return out;
}

const std::set<std::string_view> kKeys = {"description", "command", "at", "enabled", "randomized_delay",
                                          "persistent", "timeout", "on_failure"};

// One key of one job: checked, then stored. Returns the reason when it is refused.
std::string apply_key(Draft& d, std::string_view key, const toml::node& node) {
    auto expect = [&](std::string_view what) { return fmt::format("expected {}, got {}", what, config::toml_type_name(node)); };
    Job& j = d.job;
    if (key == "description") {
        auto s = node.as_string();
        if (!s) return expect("a string");
        const std::string& v = s->get();
        if (v.size() > kMaxDescription) return fmt::format("longer than {} characters", kMaxDescription);
        if (std::any_of(v.begin(), v.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
            return "holds a control character";
        j.description = v;
        return "";
    }
    if (key == "command") {
        auto v = string_list(node, false);
        if (!v) return expect("an array of strings, for example [\"pmx\", \"db\", \"maintain\"]");
        if (auto why = check_command(*v); !why.empty()) return why;
        j.command = std::move(*v);
        d.has_command = true;
        return "";
    }
    if (key == "at") {
        auto v = string_list(node, true);
        if (!v) return expect("a calendar expression or an array of them");
        if (v->empty()) return "needs at least one calendar expression";
        if (v->size() > kMaxCalendars) return fmt::format("more than {} calendar expressions", kMaxCalendars);
        for (const auto& e : *v)
            if (auto why = check_calendar_syntax(e); !why.empty()) return fmt::format("\"{}\": {}", e, why);
        j.at = std::move(*v);
        d.has_at = true;
        return "";
    }
    if (key == "enabled" || key == "persistent") {
        auto b = node.as_boolean();
        if (!b) return expect("a boolean");
        (key == "enabled" ? j.enabled : j.persistent) = b->get();
        return "";
    }
    if (key == "randomized_delay" || key == "timeout") {
        auto s = node.as_string();
        if (!s) return expect("a time span string such as \"30min\"");
        bool is_timeout = key == "timeout";
        if (auto why = check_timespan(s->get(), is_timeout); !why.empty()) return why;
        (is_timeout ? j.timeout : j.randomized_delay) = s->get();
        return "";
    }
    if (key == "on_failure") {
        auto s = node.as_string();
        if (!s) return expect("a string");
        if (s->get() == "log" || s->get() == "mail") {
            j.on_failure = s->get();
            return "";
        }
        return fmt::format("\"{}\": expected \"log\" or \"mail\"", s->get());
    }
    return "unknown key";
}

void apply_document(const toml::table& doc, const std::string& file, std::map<std::string, Draft>& drafts,
                    config::TomlProblems& problems) {
    for (auto&& [top_key, top_node] : doc) {
        std::string top{top_key.str()};
        if (top != "job") {
            problems.add(file, top_key.source(), top, "unknown key (jobs are tables [job.NAME])");
            continue;
        }
        auto* jobs = top_node.as_table();
        if (!jobs) {
            problems.add(file, top_node.source(), "job", "expected tables [job.NAME]");
            continue;
        }
        for (auto&& [name_key, job_node] : *jobs) {
            std::string name{name_key.str()};
            std::string label = "job." + name;
            if (auto why = check_name(name); !why.empty()) {
                problems.add(file, name_key.source(), label, why);
                continue;
            }
            auto* table = job_node.as_table();
            if (!table) {
                problems.add(file, job_node.source(), label, fmt::format("expected a table, got {}", config::toml_type_name(job_node)));
                continue;
            }
            auto [it, fresh] = drafts.try_emplace(name);
            Draft& d = it->second;
            if (fresh) {
                if (drafts.size() > kMaxJobs) {
                    drafts.erase(it);
                    problems.add(file, name_key.source(), label, fmt::format("more than {} jobs", kMaxJobs));
                    continue;
                }
                d.job.name = name;
                d.first = Where{file, name_key.source().begin.line, name_key.source().begin.column};
            }
            if (d.job.files.empty() || d.job.files.back() != file) d.job.files.push_back(file);
            for (auto&& [key, node] : *table) {
                std::string k{key.str()};
                if (!kKeys.contains(k)) {
                    problems.add(file, key.source(), label + "." + k, "unknown key");
                    d.broken = true;
                    continue;
                }
                if (k == "command") d.seen_command = true;
                if (k == "at") d.seen_at = true;
                if (auto why = apply_key(d, k, node); !why.empty()) {
                    problems.add(file, node.source(), label + "." + k, why);
                    d.broken = true;
                }
            }
        }
    }
}

}  // namespace

LoadResult load(const std::vector<Input>& inputs) {
    LoadResult out;
    std::map<std::string, Draft> drafts;
    config::TomlProblems problems;
    for (const auto& [file, given] : inputs) {
        std::string text;
        if (given) {
            text = *given;
        } else {
            auto r = read_file(file);
            if (!r) {
                problems.add_line(r.error().message + ", ignoring");
                continue;
            }
            text = std::move(*r);
        }
        if (text.size() > kMaxFileBytes) {
            problems.add_line(fmt::format("{}: larger than {} bytes, ignoring", file, kMaxFileBytes));
            continue;
        }
        out.files.push_back(file);
        try {
            toml::table doc = toml::parse(text, file);
            apply_document(doc, file, drafts, problems);
            problems.finish_file();
        } catch (const toml::parse_error& e) {
            problems.add_line(fmt::format("{}:{}:{}: syntax error: {}; the whole file is ignored", file,
                                                e.source().begin.line, e.source().begin.column, e.description()));
        }
    }
    for (auto& [name, d] : drafts) {
        auto missing = [&](std::string_view key, std::string_view example) {
            problems.add_line(fmt::format("{}:{}:{}: job.{}: no {} ({}), skipping the job", d.first.file,
                                                d.first.line, d.first.column, name, key, example));
        };
        if (!d.seen_command) missing("command", "for example command = [\"pmx\", \"db\", \"maintain\"]");
        if (!d.seen_at) missing("at", "for example at = \"daily\"");
        if (d.broken || !d.has_command || !d.has_at) continue;
        out.jobs.push_back(std::move(d.job));
    }
    out.problems = problems.take();
    return out;
}

LoadResult load(const Layout& layout) {
    std::vector<Input> inputs;
    for (const auto& f : layout.files()) inputs.emplace_back(f.string(), std::nullopt);
    return load(inputs);
}

LoadResult load_with(const Layout& layout, const fs::path& replaced, const std::string& text) {
    std::vector<Input> inputs;
    bool seen = false;
    for (const auto& f : layout.files()) {
        if (f == replaced) {
            inputs.emplace_back(f.string(), text);
            seen = true;
        } else {
            inputs.emplace_back(f.string(), std::nullopt);
        }
    }
    if (!seen) {
        // A new drop-in: where its name sorts among the others (after vendor and admin file).
        auto pos = std::find_if(inputs.begin(), inputs.end(), [&](const Input& in) {
            fs::path p(in.first);
            return p.parent_path() == replaced.parent_path() && p.filename() > replaced.filename();
        });
        inputs.insert(pos, Input{replaced.string(), text});
    }
    return load(inputs);
}

const Job* find(const LoadResult& r, std::string_view name) {
    for (const auto& j : r.jobs)
        if (j.name == name) return &j;
    return nullptr;
}

}  // namespace pmx::jobs
