#include "jobs/dropin.hpp"

#include <fmt/format.h>

#include <toml++/toml.h>

#include <sstream>

namespace pmx::jobs {

namespace {

constexpr const char* kHeader =
    "# Written by `pmx jobs`; change it with pmx jobs enable|disable|set|add|remove.\n"
    "# Hand edits belong in jobs.toml or in a drop-in of your own (see pmx-jobs.toml(5)).\n";

toml::array to_array(const std::vector<std::string>& v) {
    toml::array a;
    for (const auto& s : v) a.push_back(s);
    return a;
}

}  // namespace

Result<std::string> apply_edit(const std::string& current_text, const Edit& e) {
    toml::table doc;
    try {
        if (!current_text.empty()) doc = toml::parse(current_text);
    } catch (const toml::parse_error& err) {
        return Error{fmt::format("syntax error at line {}: {}", err.source().begin.line, err.description())};
    }
    if (!doc.contains("job") || !doc["job"].is_table()) doc.insert_or_assign("job", toml::table{});
    auto& jobs = *doc["job"].as_table();
    if (e.remove) {
        jobs.erase(e.job);
    } else {
        if (!jobs.contains(e.job) || !jobs[e.job].is_table()) jobs.insert_or_assign(e.job, toml::table{});
        auto& t = *jobs[e.job].as_table();
        if (e.description) t.insert_or_assign("description", *e.description);
        if (e.command) t.insert_or_assign("command", to_array(*e.command));
        if (e.at) t.insert_or_assign("at", to_array(*e.at));
        if (e.enabled) t.insert_or_assign("enabled", *e.enabled);
        if (e.randomized_delay) {
            if (e.randomized_delay->empty()) t.erase("randomized_delay");
            else t.insert_or_assign("randomized_delay", *e.randomized_delay);
        }
        if (e.persistent) t.insert_or_assign("persistent", *e.persistent);
        if (e.timeout) t.insert_or_assign("timeout", *e.timeout);
        if (e.on_failure) t.insert_or_assign("on_failure", *e.on_failure);
    }
    if (jobs.empty()) doc.erase("job");
    std::ostringstream out;
    out << kHeader;
    // One [job.NAME] table per job, in name order (toml++ keeps tables sorted).
    for (auto&& [name, node] : jobs) {
        toml::table one;
        toml::table inner;
        inner.insert(name, node);
        one.insert("job", std::move(inner));
        out << "\n" << one << "\n";
    }
    return out.str();
}

bool dropin_has_job(const std::string& text, const std::string& job) {
    try {
        auto doc = toml::parse(text);
        auto* jobs = doc["job"].as_table();
        return jobs && jobs->contains(job);
    } catch (const toml::parse_error&) {
        return false;
    }
}

}  // namespace pmx::jobs
