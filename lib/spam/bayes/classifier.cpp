// Combining token evidence into one probability: Gary Robinson's f(w) (a token's spam ratio
// pulled towards a prior when it was seen rarely) and Fisher's method of combining
// probabilities through the inverse chi-square, with separate spam and ham indicators as
// SpamBayes does (Robinson, "A Statistical Approach to the Spam Problem", 2003).
#include <algorithm>
#include <cmath>

#include "spam/bayes/bayes.hpp"
#include "spam/bayes/internal.hpp"

namespace pmx::spam::bayes {

double robinson_f(TokenCounts c, std::int64_t nspam, std::int64_t nham, const Params& p) {
    const double n = static_cast<double>(c.spam + c.ham);
    if (n <= 0) return p.prior;
    // Ratios of messages, not raw counts: learning twice as much ham as spam must not make
    // every token look hammy.
    const double sr = nspam > 0 ? static_cast<double>(c.spam) / static_cast<double>(nspam) : 0.0;
    const double hr = nham > 0 ? static_cast<double>(c.ham) / static_cast<double>(nham) : 0.0;
    const double pw = sr + hr > 0 ? sr / (sr + hr) : p.prior;
    return (p.strength * p.prior + n * pw) / (p.strength + n);
}

double chi2q(double x2, int dof) {
    // For even dof the upper tail is a finite sum: e^-m * sum_{i < dof/2} m^i / i!.
    if (dof <= 0 || x2 <= 0) return 1.0;
    const double m = x2 / 2.0;
    double term = std::exp(-m), sum = term;
    for (int i = 1; i < dof / 2; ++i) {
        term *= m / i;
        sum += term;
    }
    return std::min(sum, 1.0);
}

double fisher_combine(const std::vector<double>& probabilities) {
    const std::size_t n = probabilities.size();
    if (n == 0) return 0.5;
    // Sums of logs (products of 150 small numbers underflow); f(w) is kept off 0 and 1 so
    // no log is infinite.
    double ln_spam = 0, ln_ham = 0;
    for (double f : probabilities) {
        f = std::clamp(f, 1e-12, 1.0 - 1e-12);
        ln_ham += std::log(f);         // small when the tokens are spammy: -2 ln is large
        ln_spam += std::log(1.0 - f);  // small when the tokens are hammy
    }
    const int dof = static_cast<int>(2 * n);
    const double spam = 1.0 - chi2q(-2.0 * ln_spam, dof);  // near 1: the tokens lean to spam
    const double ham = 1.0 - chi2q(-2.0 * ln_ham, dof);    // near 1: they lean to ham
    return (1.0 + spam - ham) / 2.0;
}

double combine(const std::vector<TokenCounts>& tokens, std::int64_t nspam, std::int64_t nham, const Params& p) {
    std::vector<double> fs;
    fs.reserve(tokens.size());
    for (const auto& c : tokens) {
        if (c.spam + c.ham <= 0) continue;
        double f = robinson_f(c, nspam, nham, p);
        if (std::fabs(f - 0.5) > p.min_strength) fs.push_back(f);
    }
    if (fs.size() > p.max_tokens) {
        std::nth_element(fs.begin(), fs.begin() + static_cast<std::ptrdiff_t>(p.max_tokens), fs.end(),
                         [](double a, double b) { return std::fabs(a - 0.5) > std::fabs(b - 0.5); });
        fs.resize(p.max_tokens);
    }
    return fisher_combine(fs);
}

Classification detail::summarize(const std::vector<TokenCounts>& found, const MessageCounts& c,
                                 const Params& params) {
    Classification out;
    out.tokens = found.size();
    out.spam_messages = c.spam;
    out.ham_messages = c.ham;
    for (const auto& t : found) {
        if (t.spam + t.ham <= 0) continue;
        ++out.known;
        if (std::fabs(robinson_f(t, c.spam, c.ham, params) - 0.5) > params.min_strength) ++out.used;
    }
    out.used = std::min(out.used, params.max_tokens);
    out.probability = combine(found, c.spam, c.ham, params);
    return out;
}

}  // namespace pmx::spam::bayes
