#include "spam/scanner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "spam/rules/options.hpp"
#include "spam/uris.hpp"

namespace pmx::spam {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::microseconds since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

bool is_bayes_rule(std::string_view name) { return name.starts_with("BAYES_"); }

}  // namespace

std::vector<std::string> Report::hit_names() const {
    std::vector<std::string> names;
    names.reserve(hits.size());
    for (const auto& h : hits) names.push_back(h.name);
    return names;
}

Scanner::Scanner(bool enabled, std::shared_ptr<const rules::RuleSet> rules, bayes::Settings bayes,
                 std::shared_ptr<const dnsbl::Checker> dnsbl, HeaderSettings headers)
    : enabled_(enabled), rules_(std::move(rules)), bayes_(bayes), dnsbl_(std::move(dnsbl)), headers_(headers) {}

Result<std::shared_ptr<const Scanner>> Scanner::from_config(const config::Snapshot& snapshot,
                                                            const config::Layout& layout,
                                                            const Scanner* previous) {
    auto bayes = bayes::settings_from(snapshot);
    if (!bayes) return bayes.error();
    auto dnsbl_settings = dnsbl::settings_from_config(snapshot);
    if (!dnsbl_settings) return dnsbl_settings.error();

    auto options = rules::load_options(snapshot, layout);
    auto rules = rules::load_rules(options);
    if (!rules) return Error{fmt::format("spam rules: {}", rules.error().message)};

    auto checker = previous ? std::make_shared<const dnsbl::Checker>(std::move(*dnsbl_settings), previous->dnsbl().cache())
                            : std::make_shared<const dnsbl::Checker>(std::move(*dnsbl_settings));
    HeaderSettings headers{.add = snapshot.boolean("spam.add_headers"),
                           .max_message_bytes = static_cast<std::size_t>(snapshot.integer("spam.max_message_bytes"))};
    return std::make_shared<const Scanner>(snapshot.boolean("spam.enabled"), std::move(*rules), *bayes,
                                           std::move(checker), headers);
}

Report Scanner::scan(const ScanInput& in) const {
    const auto start = Clock::now();
    Report report;
    report.required = rules_->required_score();
    if (!enabled_) return report;

    const auto uris = extract_uris(in.message);

    std::vector<Hit> listed;
    if (dnsbl_->settings().enabled && dnsbl_->settings().has_zones()) {
        const auto dns_start = Clock::now();
        listed = dnsbl_->check(in.client_ip, uri_hosts(uris, dnsbl_->settings().max_uri_hosts));
        report.dnsbl_elapsed = since(dns_start);
    }

    if (bayes_.enabled) {
        report.tokens = bayes::tokenize(in.message);
        report.bayes_key = bayes::message_key(in.message);
        if (in.bayes_snapshot || in.bayes_db) {
            auto p = in.bayes_snapshot
                         ? bayes::classify(*in.bayes_snapshot, report.tokens, in.bayes_db, in.bayes_owner, bayes_)
                         : bayes::classify(*in.bayes_db, report.tokens, in.bayes_owner, bayes_);
            if (p) report.bayes_probability = *p;
            else report.problems.push_back("bayes: " + p.error().message);
        }
    }

    rules::CheckInput check{.message = in.message,
                            .raw = in.raw,
                            .bayes_probability = report.bayes_probability,
                            .external_hits = {},
                            .envelope_from = std::string(in.envelope_from),
                            .uris = &uris};
    for (const auto& h : listed) check.external_hits.insert(h.name);
    report.hits = rules_->check(check);
    bayes::score_hits(report.hits, report.bayes_probability, bayes_);

    // A blocklist hit that a rule of the same name already scored (check_rbl rules of the rule
    // files) counts once, with the rule's score: the rule files are the admin's word.
    std::set<std::string, std::less<>> scored;
    for (const auto& h : report.hits) scored.insert(h.name);
    for (auto& h : listed)
        if (!scored.contains(h.name)) report.hits.push_back(std::move(h));

    for (const auto& h : report.hits) report.score += h.score;
    std::sort(report.hits.begin(), report.hits.end(), [](const Hit& a, const Hit& b) {
        return a.score != b.score ? a.score > b.score : a.name < b.name;
    });
    report.elapsed = since(start);
    return report;
}

std::string status_header(const Report& report) {
    std::string tests;
    for (const auto& h : report.hits) tests += (tests.empty() ? "" : ",") + h.name;
    std::string out = fmt::format("{}, score={:.1f} required={:.1f} tests={}", report.is_spam() ? "Yes" : "No",
                                  report.score, report.required, tests.empty() ? "none" : tests);
    if (report.bayes_probability) out += fmt::format(" bayes={:.3f}", *report.bayes_probability);
    return out;
}

std::optional<bayes::Kind> auto_learn_kind(const Report& report, const bayes::Settings& settings) {
    if (!settings.enabled || !settings.auto_learn || report.tokens.empty()) return std::nullopt;
    double score = report.score;
    for (const auto& h : report.hits)
        if (is_bayes_rule(h.name)) score -= h.score;
    if (score >= settings.auto_learn_spam_score) return bayes::Kind::Spam;
    if (score < settings.auto_learn_ham_score) return bayes::Kind::Ham;
    return std::nullopt;
}

}  // namespace pmx::spam
