#include "digest/templates.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "config/loader.hpp"
#include "util/atomic_file.hpp"

namespace pmx::digest {

namespace {

constexpr std::string_view page_names[] = {"recipient", "count", "listed", "omitted", "entries",
                                           "reply_to", "valid_days", "date"};
constexpr std::string_view entry_names[] = {"id", "time", "sender", "subject", "reason", "score", "link", "code"};

// Calls on_text(text) and on_name(name) in order; false when a "{" is not closed on its line.
template <class Text, class Name>
bool walk(std::string_view line, Text on_text, Name on_name) {
    std::size_t i = 0;
    while (i < line.size()) {
        auto open = line.find('{', i);
        if (open == std::string_view::npos) {
            on_text(line.substr(i));
            break;
        }
        on_text(line.substr(i, open - i));
        if (open + 1 < line.size() && line[open + 1] == '{') {
            on_text("{");
            i = open + 2;
            continue;
        }
        auto close = line.find('}', open);
        if (close == std::string_view::npos) return false;
        on_name(line.substr(open + 1, close - open - 1));
        i = close + 1;
    }
    return true;
}

// Lines with their line end ("\n" or nothing at the end).
template <class F>
void each_line(std::string_view text, F f) {
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto len = nl == std::string_view::npos ? text.size() : nl + 1;
        f(text.substr(0, len));
        text.remove_prefix(len);
    }
}

}  // namespace

std::span<const std::string_view> page_placeholders() { return page_names; }
std::span<const std::string_view> entry_placeholders() { return entry_names; }

Result<void> check_template(std::string_view tmpl, std::span<const std::string_view> known, std::string_view file) {
    int line_no = 0;
    std::string problem;
    each_line(tmpl, [&](std::string_view line) {
        ++line_no;
        if (!problem.empty()) return;
        bool closed = walk(line, [](std::string_view) {}, [&](std::string_view name) {
            if (problem.empty() && std::find(known.begin(), known.end(), name) == known.end()) {
                std::string names;
                for (auto k : known) names += (names.empty() ? "{" : ", {") + std::string(k) + "}";
                problem = fmt::format("{}:{}: unknown placeholder {{{}}} (known: {}; write {{{{ for a literal {{)",
                                      file, line_no, name, names);
            }
        });
        if (!closed && problem.empty())
            problem = fmt::format("{}:{}: \"{{\" without \"}}\" (write {{{{ for a literal {{)", file, line_no);
    });
    if (!problem.empty()) return Error{"Invalid digest template " + problem};
    return {};
}

std::string render_template(std::string_view tmpl, const Values& values) {
    std::string out;
    each_line(tmpl, [&](std::string_view line) {
        std::string rendered;
        bool any_name = false, any_value = false;
        walk(line, [&](std::string_view t) { rendered += t; }, [&](std::string_view name) {
            auto it = values.find(name);
            if (it == values.end()) {
                rendered += "{" + std::string(name) + "}";
                return;
            }
            any_name = true;
            any_value = any_value || !it->second.empty();
            rendered += it->second;
        });
        if (any_name && !any_value) return;  // an optional line with nothing to say
        out += rendered;
    });
    return out;
}

Result<Templates> load_templates(std::span<const std::filesystem::path> dirs) {
    Templates t;
    struct File {
        const char* name;
        std::string* into;
        bool entry;
    } files[] = {{"digest.txt", &t.text, false},
                 {"digest-entry.txt", &t.text_entry, true},
                 {"digest.html", &t.html, false},
                 {"digest-entry.html", &t.html_entry, true}};
    for (const auto& f : files) {
        std::filesystem::path found;
        for (const auto& d : dirs) {
            std::error_code ec;
            if (std::filesystem::is_regular_file(d / f.name, ec)) {
                found = d / f.name;
                break;
            }
        }
        if (found.empty()) {
            std::string where;
            for (const auto& d : dirs) where += (where.empty() ? "" : ", ") + d.string();
            return Error{fmt::format("Failed to find digest template {} (looked in {})", f.name, where)};
        }
        auto text = read_file(found);
        if (!text) return text.error();
        if (text->size() > 256 * 1024) return Error{fmt::format("Digest template {} is larger than 256 KiB", found.string())};
        if (auto ok = check_template(*text, f.entry ? entry_placeholders() : page_placeholders(), found.string()); !ok)
            return ok.error();
        *f.into = std::move(*text);
    }
    return t;
}

std::vector<std::filesystem::path> template_dirs(const config::Snapshot& snapshot, const config::Layout& layout) {
    std::filesystem::path dir = snapshot.string("digest.templates");
    if (dir.is_absolute()) return {dir};
    return {layout.config_dir / dir, layout.vendor_dir / dir};
}

}  // namespace pmx::digest
