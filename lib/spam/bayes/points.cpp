// The Bayes probability as points of the spam score, on pmx's own scale (see bayes.hpp).
//
// Why not SpamAssassin's BAYES_* scores: they come from SpamAssassin's perceptron run, fitted
// next to its network tests and its Received-relay and HTML evals; pmx runs few of those, so
// its rules add less and a spam Bayes was sure of (BAYES_99: 3.5 to 3.8 points) stayed below
// required_score (bench/README.md: 80.8% caught with the sum against 97.3% with Bayes alone).
// Raising BAYES_99 towards required_score is what SpamAssassin admins commonly do for the same
// reason; pmx does it on a smooth scale so that a less sure verdict still needs the rules.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "spam/bayes/bayes.hpp"

namespace pmx::spam::bayes {

namespace {

// Full points two decades of odds away from 50%: at 99% (spam) and 1% (ham). Spam points go
// on growing to three decades (99.9%: 1.5 times), as SpamAssassin's BAYES_999 band adds to
// BAYES_99: a verdict that sure outweighs a list-server rule like MAILING_LIST_MULTI (-1).
constexpr double full_decades = 2.0;
constexpr double max_spam_decades = 3.0;

// The lower bound of a band rule's name: BAYES_99 → 0.99, BAYES_999 → 0.999, BAYES_05 → 0.05.
double band_floor(std::string_view name) {
    std::string_view digits = name.substr(6);  // after "BAYES_"
    double v = 0, scale = 0.1;
    for (char c : digits) {
        if (c < '0' || c > '9') return -1;
        v += (c - '0') * scale;
        scale /= 10;
    }
    return v;
}

// SpamAssassin's bands, for when the rule files have none.
std::string band_name(double p) {
    if (p < 0.01) return "BAYES_00";
    if (p < 0.05) return "BAYES_05";
    if (p < 0.20) return "BAYES_20";
    if (p < 0.40) return "BAYES_40";
    if (p < 0.60) return "BAYES_50";
    if (p < 0.80) return "BAYES_60";
    if (p < 0.95) return "BAYES_80";
    if (p < 0.99) return "BAYES_95";
    if (p < 0.999) return "BAYES_99";
    return "BAYES_999";
}

}  // namespace

double points(double probability, const Settings& settings) {
    const double p = std::clamp(probability, 1e-12, 1.0 - 1e-12);
    const double decades = std::log10(p / (1.0 - p));
    if (decades >= 0) return settings.spam_points * std::min(decades, max_spam_decades) / full_decades;
    return settings.ham_points * std::min(-decades, full_decades) / full_decades;
}

void score_hits(std::vector<spam::Hit>& hits, std::optional<double> probability, const Settings& settings) {
    if (settings.scale != Settings::Scale::Pmx || !probability) return;
    // The band that fired with the highest floor names the hit (BAYES_999 over BAYES_99).
    std::optional<spam::Hit> band;
    double floor = -1;
    std::erase_if(hits, [&](const spam::Hit& h) {
        if (!h.name.starts_with("BAYES_")) return false;
        if (double f = band_floor(h.name); f > floor) {
            floor = f;
            band = h;
        }
        return true;
    });
    const double value = points(*probability, settings);
    if (value == 0) return;
    spam::Hit hit = band ? *band : spam::Hit{band_name(*probability), 0, ""};
    hit.score = std::round(value * 1000) / 1000;
    hit.description = hit.description.empty()
                          ? fmt::format("Bayes spam probability {:.1f}% (pmx scale)", 100 * *probability)
                          : fmt::format("{} ({:.1f}%, pmx scale)", hit.description, 100 * *probability);
    hits.push_back(std::move(hit));
}

}  // namespace pmx::spam::bayes
