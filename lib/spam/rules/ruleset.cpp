// Compiling parsed definitions into a RuleSet, and checking a message against it.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <cmath>
#include <map>
#include <unordered_map>

#include "spam/rules/config.hpp"
#include "spam/rules/evals.hpp"
#include "spam/rules/expr.hpp"
#include "spam/rules/regex.hpp"
#include "spam/rules/rules.hpp"
#include "spam/rules/views.hpp"

namespace pmx::spam::rules {

const char* type_name(RuleType t) {
    switch (t) {
    case RuleType::Header: return "header";
    case RuleType::Body: return "body";
    case RuleType::Rawbody: return "rawbody";
    case RuleType::Full: return "full";
    case RuleType::Uri: return "uri";
    case RuleType::Mimeheader: return "mimeheader";
    case RuleType::Meta: return "meta";
    }
    return "?";
}

using namespace detail;

namespace {

enum class Kind { Regex, Header, HeaderExists, Eval, Meta, External };
enum class Scan { Body, BodyNoSubject, Rawbody, Full, Uri };

struct Rule {
    std::string name;
    RuleType type = RuleType::Body;
    Kind kind = Kind::Regex;
    std::string source, description, tflags;
    double score = 0;
    bool sub = false;
    bool is_eval = false;
    // Regex: scan group and pattern; Header/HeaderExists: header group and pattern
    Scan scan = Scan::Body;
    std::size_t group = 0, pattern = 0;
    int max_count = 1;
    bool negate = false;
    // Eval
    EvalFn fn = nullptr;
    std::vector<std::string> args;
    // Meta: rule index per variable; -1: not a runnable rule (its value comes from external hits)
    std::optional<Expr> expr;
    std::vector<std::int64_t> var_rule;
};

struct HeaderGroup {
    HeaderTarget target;
    std::optional<std::string> if_unset;
    bool mime = false;
    PatternSet patterns;
    std::vector<std::size_t> rules;  // rules[pattern index] = rule index
    std::vector<int> max_count;
    std::vector<std::size_t> exists_rules;
};

struct ScanGroup {
    PatternSet patterns;
    std::vector<std::size_t> rules;
    std::vector<int> max_count;
};

int maxhits(const std::string& tflags) {
    if (tflags.find("multiple") == std::string::npos) return 1;
    auto p = tflags.find("maxhits=");
    if (p != std::string::npos) {
        int n = std::atoi(tflags.c_str() + p + 8);
        if (n > 0) return std::min(n, 10000);
    }
    return 1000;  // SpamAssassin has no cap; pmx stops counting here
}

bool has_flag(const std::string& tflags, std::string_view f) {
    std::size_t pos = 0;
    while ((pos = tflags.find(f, pos)) != std::string::npos) {
        bool left = pos == 0 || tflags[pos - 1] == ' ' || tflags[pos - 1] == '\t';
        std::size_t e = pos + f.size();
        bool right = e == tflags.size() || tflags[e] == ' ' || tflags[e] == '\t' || tflags[e] == '=';
        if (left && right) return true;
        pos = e;
    }
    return false;
}

// ReplaceTags: <TAG> in the regexes of replace_rules, as Mail::SpamAssassin::Plugin::ReplaceTags.
std::string replace_tags(const ReplaceTags& rt, std::string re) {
    const std::string& st = rt.start;
    const std::string& en = rt.end;
    auto take_directive = [&](const std::string& kind) -> std::string {
        std::string open = st + kind + " ";
        std::size_t a = re.find(open);
        if (a == std::string::npos) return "";
        std::size_t b = re.find(en, a + open.size());
        if (b == std::string::npos || b == a + open.size()) return "";
        std::string name = re.substr(a + open.size(), b - a - open.size());
        re.erase(a, b + en.size() - a);
        return name;
    };
    for (int pass = 0; pass <= 5; ++pass) {
        std::string pre = take_directive("pre");
        std::string post = take_directive("post");
        std::string inter = take_directive("inter");
        // split into text and <...> pieces
        std::vector<std::string> pieces;
        std::size_t i = 0, last = 0;
        while (i < re.size()) {
            if (re[i] == '<') {
                std::size_t j = i + 1;
                while (j < re.size() && re[j] != '<' && re[j] != '>') ++j;
                if (j < re.size() && re[j] == '>' && j > i + 1) {
                    pieces.push_back(re.substr(last, i - last));
                    pieces.push_back(re.substr(i, j + 1 - i));
                    last = i = j + 1;
                    continue;
                }
            }
            ++i;
        }
        pieces.push_back(re.substr(last));
        auto is_tag = [&](const std::string& p) {
            return p.size() > st.size() + en.size() && p.compare(0, st.size(), st) == 0 &&
                   p.compare(p.size() - en.size(), en.size(), en) == 0;
        };
        if (!pre.empty())
            if (auto it = rt.pre.find(pre); it != rt.pre.end() && !it->second.empty())
                for (auto& p : pieces)
                    if (is_tag(p)) p = it->second + p;
        if (!post.empty())
            if (auto it = rt.post.find(post); it != rt.post.end() && !it->second.empty())
                for (auto& p : pieces)
                    if (is_tag(p)) p = p + it->second;
        if (!inter.empty())
            if (auto it = rt.inter.find(inter); it != rt.inter.end() && !it->second.empty())
                for (std::size_t k = 1; k + 1 < pieces.size(); ++k)  // Perl's split drops a leading empty field only when nothing precedes
                    if (pieces[k].empty()) pieces[k] = it->second;
        bool again = false;
        for (auto& p : pieces) {
            std::size_t a = p.find(st);
            if (a == std::string::npos) continue;
            std::size_t b = p.find(en, a + st.size());
            if (b == std::string::npos || b == a + st.size()) continue;
            std::string name = p.substr(a + st.size(), b - a - st.size());
            auto it = rt.tag.find(name);
            if (it == rt.tag.end() || it->second.empty()) continue;
            std::string tag = st + name + en;
            std::size_t q = 0;
            while ((q = p.find(tag, q)) != std::string::npos) {
                p.replace(q, tag.size(), it->second);
                q += it->second.size();
            }
            if (it->second.find('<') != std::string::npos && it->second.find('>') != std::string::npos) again = true;
        }
        std::string joined;
        for (auto& p : pieces) joined += p;
        re = std::move(joined);
        if (!again) break;
    }
    return re;
}

}  // namespace

struct RuleSet::Impl {
    std::vector<Rule> rules;
    std::unordered_map<std::string, std::size_t> by_name;
    ScanGroup scans[5];
    std::vector<HeaderGroup> headers;
    std::vector<std::size_t> evals, externals, metas;  // metas in dependency order
    std::vector<Unsupported> unsupported;
    double required_score = 5;
    std::size_t files = 0;
    Scratch scratch;
    std::uint64_t generation = 0;
};

namespace {

// One definition into a Rule (or a reason it cannot run).
struct Builder {
    RuleSet::Impl& impl;
    const ParsedConfig& cfg;
    int score_set;
    std::map<std::string, std::size_t> header_group_index;

    void unsupported(const RuleDef& d, std::string reason) {
        impl.unsupported.push_back({d.name, d.source, std::move(reason)});
    }

    std::optional<PerlRegex> regex(const RuleDef& d, std::string_view text) {
        auto re = parse_perl_regex(text);
        if (!re) { unsupported(d, "regex: " + re.error().message); return std::nullopt; }
        if (cfg.replace.rules.count(d.name)) re->pattern = replace_tags(cfg.replace, re->pattern);
        return *re;
    }

    bool add_eval(Rule& r, const RuleDef& d, std::string_view call) {
        auto c = parse_eval_call(call);
        if (!c) { unsupported(d, fmt::format("eval: cannot read {}", call)); return false; }
        EvalInfo info = find_eval(c->first);
        r.is_eval = true;
        if (info.external) {
            r.kind = Kind::External;
            unsupported(d, fmt::format("eval:{}() is a network test: hit only when the DNSBL part reports {}",
                                       c->first, d.name));
            return true;
        }
        if (!info.fn) { unsupported(d, fmt::format("eval:{}() {}", c->first, info.reason.empty() ? "is not implemented" : info.reason)); return false; }
        r.kind = Kind::Eval;
        r.fn = info.fn;
        r.args = std::move(c->second);
        return true;
    }

    bool add_header(Rule& r, const RuleDef& d, bool mime) {
        std::string_view t = d.text;
        if (t.substr(0, 5) == "eval:") return add_eval(r, d, t.substr(5));
        bool exists = false;
        std::string spec, op, pat;
        std::optional<std::string> unset;
        if (t.substr(0, 7) == "exists:") {
            exists = true;
            spec = std::string(t.substr(7));
            while (!spec.empty() && (spec.back() == ' ' || spec.back() == '\t')) spec.pop_back();
        } else {
            std::size_t sp = t.find_first_of(" \t=!");
            if (sp == std::string_view::npos) { unsupported(d, "header: no operator"); return false; }
            spec = std::string(t.substr(0, sp));
            std::string_view rest = t.substr(sp);
            while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
            if (rest.size() < 2 || (rest.substr(0, 2) != "=~" && rest.substr(0, 2) != "!~")) {
                unsupported(d, "header: expected =~ or !~");
                return false;
            }
            op = std::string(rest.substr(0, 2));
            rest.remove_prefix(2);
            pat = std::string(rest);
            // [if-unset: VALUE]
            std::size_t iu = pat.rfind("[if-unset:");
            if (iu != std::string::npos && pat.back() == ']') {
                std::string v = pat.substr(iu + 10, pat.size() - iu - 11);
                while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.erase(0, 1);
                while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
                unset = v;
                pat.resize(iu);
            }
        }
        HeaderTarget target;
        if (auto err = parse_header_target(spec, target)) { unsupported(d, *err); return false; }
        std::string key = fmt::format("{}\x1f{}\x1f{}", mime ? "M" : "H", spec, unset ? "U" + *unset : std::string("-"));
        auto [it, inserted] = header_group_index.emplace(key, impl.headers.size());
        if (inserted) {
            HeaderGroup g;
            g.target = target;
            g.if_unset = unset;
            g.mime = mime;
            impl.headers.push_back(std::move(g));
        }
        HeaderGroup& g = impl.headers[it->second];
        r.group = it->second;
        if (exists) {
            r.kind = Kind::HeaderExists;
            g.exists_rules.push_back(impl.rules.size());
            return true;
        }
        auto re = regex(d, pat);
        if (!re) return false;
        auto idx = g.patterns.add(*re);
        if (!idx) { unsupported(d, "regex: " + idx.error().message); return false; }
        r.kind = Kind::Header;
        r.pattern = *idx;
        r.negate = op == "!~";
        g.rules.push_back(impl.rules.size());
        g.max_count.push_back(r.negate ? 1 : r.max_count);
        return true;
    }

    bool add_scan(Rule& r, const RuleDef& d, Scan s) {
        auto re = regex(d, d.text);
        if (!re) return false;
        ScanGroup& g = impl.scans[static_cast<int>(s)];
        auto idx = g.patterns.add(*re);
        if (!idx) { unsupported(d, "regex: " + idx.error().message); return false; }
        r.kind = Kind::Regex;
        r.scan = s;
        r.pattern = *idx;
        g.rules.push_back(impl.rules.size());
        g.max_count.push_back(r.max_count);
        return true;
    }

    void add(const RuleDef& d) {
        Rule r;
        r.name = d.name;
        r.type = d.type;
        r.source = d.source;
        r.sub = d.name.compare(0, 2, "__") == 0;
        if (auto it = cfg.describe.find(d.name); it != cfg.describe.end()) r.description = it->second;
        if (auto it = cfg.tflags.find(d.name); it != cfg.tflags.end()) r.tflags = it->second;
        if (auto it = cfg.scores.find(d.name); it != cfg.scores.end()) {
            r.score = it->second[static_cast<std::size_t>(score_set)];
        } else {
            r.score = d.name.compare(0, 2, "T_") == 0 ? 0.01 : 1.0;
            if (has_flag(r.tflags, "nice")) r.score = -r.score;
        }
        r.max_count = maxhits(r.tflags);
        // A zero score switches a rule off (SpamAssassin does not run it; metas see 0).
        if (r.score == 0) return;
        if (d.text.compare(0, 9, "external:") == 0) {
            r.kind = Kind::External;
            unsupported(d, fmt::format("{} is a network lookup: hit only when the DNSBL part reports {}",
                                       d.text.substr(9), d.name));
        } else {
            bool ok = false;
            switch (d.type) {
            case RuleType::Header: ok = add_header(r, d, false); break;
            case RuleType::Mimeheader: ok = add_header(r, d, true); break;
            case RuleType::Body:
                if (d.text.compare(0, 5, "eval:") == 0) ok = add_eval(r, d, std::string_view(d.text).substr(5));
                else ok = add_scan(r, d, has_flag(r.tflags, "nosubject") ? Scan::BodyNoSubject : Scan::Body);
                break;
            case RuleType::Rawbody:
                if (d.text.compare(0, 5, "eval:") == 0) ok = add_eval(r, d, std::string_view(d.text).substr(5));
                else ok = add_scan(r, d, Scan::Rawbody);
                break;
            case RuleType::Full:
                if (d.text.compare(0, 5, "eval:") == 0) ok = add_eval(r, d, std::string_view(d.text).substr(5));
                else ok = add_scan(r, d, Scan::Full);
                break;
            case RuleType::Uri:
                if (d.text.compare(0, 5, "eval:") == 0) ok = add_eval(r, d, std::string_view(d.text).substr(5));
                else ok = add_scan(r, d, Scan::Uri);
                break;
            case RuleType::Meta: {
                auto e = Expr::parse(d.text);
                if (!e) { unsupported(d, "meta: " + e.error().message); break; }
                r.kind = Kind::Meta;
                r.expr = std::move(*e);
                ok = true;
                break;
            }
            }
            if (!ok) return;
        }
        impl.by_name[r.name] = impl.rules.size();
        impl.rules.push_back(std::move(r));
    }
};

}  // namespace

RuleSet::RuleSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuleSet::~RuleSet() = default;

Result<std::shared_ptr<const RuleSet>> load_rules(const LoadOptions& options) {
    auto parsed = parse_rule_files(options);
    if (!parsed) return parsed.error();
    ParsedConfig& cfg = *parsed;

    auto impl = std::make_unique<RuleSet::Impl>();
    impl->required_score = cfg.required_score;
    impl->files = cfg.files;
    Builder b{*impl, cfg, (options.bayes_enabled ? 2 : 0) + (options.network_enabled ? 1 : 0), {}};
    // Definition order, so a rule's patterns sit in the same order as the files.
    std::vector<const RuleDef*> defs;
    for (const auto& [name, d] : cfg.rules) defs.push_back(&d);
    std::sort(defs.begin(), defs.end(), [](const RuleDef* x, const RuleDef* y) { return x->order < y->order; });
    for (const RuleDef* d : defs) b.add(*d);
    for (auto& [name, u] : cfg.skipped)
        if (!cfg.rules.count(name)) impl->unsupported.push_back(u);
    for (auto& p : cfg.problems) impl->unsupported.push_back(p);

    // Metas: variables to rule indexes, then a dependency order (cycles are unsupported).
    std::vector<std::size_t> metas;
    for (std::size_t i = 0; i < impl->rules.size(); ++i) {
        Rule& r = impl->rules[i];
        if (r.kind == Kind::Eval) impl->evals.push_back(i);
        else if (r.kind == Kind::External) impl->externals.push_back(i);
        else if (r.kind == Kind::Meta) {
            for (const auto& v : r.expr->vars()) {
                auto it = impl->by_name.find(v);
                r.var_rule.push_back(it == impl->by_name.end() ? -1 : static_cast<std::int64_t>(it->second));
            }
            metas.push_back(i);
        }
    }
    std::vector<int> state(impl->rules.size(), 0);  // 0 new, 1 visiting, 2 done, 3 cyclic
    std::vector<std::size_t> order;
    std::function<bool(std::size_t)> visit = [&](std::size_t i) -> bool {
        if (state[i] == 2) return true;
        if (state[i] == 1 || state[i] == 3) return false;
        state[i] = 1;
        bool ok = true;
        for (auto v : impl->rules[i].var_rule)
            if (v >= 0 && impl->rules[static_cast<std::size_t>(v)].kind == Kind::Meta && !visit(static_cast<std::size_t>(v)))
                ok = false;
        state[i] = ok ? 2 : 3;
        if (ok) order.push_back(i);
        return ok;
    };
    for (auto i : metas) visit(i);
    for (auto i : metas)
        if (state[i] == 3) {
            impl->unsupported.push_back({impl->rules[i].name, impl->rules[i].source, "meta: circular dependency"});
        }
    impl->metas = std::move(order);

    for (auto& g : impl->scans)
        if (options.use_vectorscan) g.patterns.build(options.cache_dir);
        else g.patterns.build_pcre_only();
    // Header groups with a few patterns: PCRE2 alone is as fast as a database scan.
    for (auto& g : impl->headers)
        if (options.use_vectorscan && g.patterns.size() >= 4) g.patterns.build(options.cache_dir);
        else g.patterns.build_pcre_only();
    for (auto& g : impl->scans) impl->scratch.add(g.patterns);
    for (auto& g : impl->headers) impl->scratch.add(g.patterns);
    static std::atomic<std::uint64_t> generations{0};
    impl->generation = ++generations;

    std::sort(impl->unsupported.begin(), impl->unsupported.end(),
              [](const Unsupported& x, const Unsupported& y) { return x.name < y.name; });
    return std::shared_ptr<const RuleSet>(std::make_shared<RuleSet>(std::move(impl)));
}

namespace {

std::vector<double> run(const RuleSet::Impl& impl, const CheckInput& in) {
    std::vector<double> values(impl.rules.size(), 0);
    View view(in);
    std::vector<int> counts;
    hs_scratch* scratch = impl.scratch.for_this_thread(impl.generation);
    for (int s = 0; s < 5; ++s) {
        const ScanGroup& g = impl.scans[s];
        if (g.rules.empty()) continue;
        const ScanText* text = nullptr;
        ScanText nosubject;
        switch (static_cast<Scan>(s)) {
        case Scan::Body: text = &view.body(); break;
        case Scan::BodyNoSubject: {
            const ScanText& b = view.body();
            for (std::size_t i = 1; i < b.size(); ++i) nosubject.add(b.segment(i));
            text = &nosubject;
            break;
        }
        case Scan::Rawbody: text = &view.rawbody(); break;
        case Scan::Full: text = &view.full(); break;
        case Scan::Uri: text = &view.uris(); break;
        }
        g.patterns.scan(*text, g.max_count, counts, scratch);
        for (std::size_t p = 0; p < g.rules.size(); ++p) values[g.rules[p]] = counts[p];
    }
    ScanText one;
    for (const HeaderGroup& g : impl.headers) {
        one.clear();
        bool present = false;
        if (g.mime) {
            HeaderTarget t = g.target;
            for (const auto& part : in.message.parts)
                for (const auto& h : part.headers)
                    if (h.name.size() == t.name.size() &&
                        std::equal(h.name.begin(), h.name.end(), t.name.begin(), [](char a, char c) {
                            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(c));
                        })) {
                        one.add(t.raw ? h.raw : h.value);
                        present = true;
                    }
            if (!present) one.add(g.if_unset ? *g.if_unset : std::string());
        } else {
            auto v = view.get_joined(g.target);
            present = v.has_value();
            one.add(v ? *v : (g.if_unset ? *g.if_unset : std::string()));
        }
        for (auto ri : g.exists_rules) values[ri] = present ? 1 : 0;
        if (g.rules.empty()) continue;
        g.patterns.scan(one, g.max_count, counts, scratch);
        for (std::size_t p = 0; p < g.rules.size(); ++p) {
            const Rule& r = impl.rules[g.rules[p]];
            values[g.rules[p]] = r.negate ? (counts[p] ? 0 : 1) : counts[p];
        }
    }
    for (auto i : impl.evals) {
        const Rule& r = impl.rules[i];
        values[i] = r.fn(view, r.args);
    }
    for (auto i : impl.externals) values[i] = in.external_hits.count(impl.rules[i].name) ? 1 : 0;
    std::vector<double> vars;
    for (auto i : impl.metas) {
        const Rule& r = impl.rules[i];
        vars.resize(r.var_rule.size());
        for (std::size_t k = 0; k < r.var_rule.size(); ++k) {
            auto v = r.var_rule[k];
            vars[k] = v >= 0 ? values[static_cast<std::size_t>(v)]
                             : (in.external_hits.count(r.expr->vars()[k]) ? 1 : 0);
        }
        values[i] = r.expr->eval(vars.data()) != 0 ? 1 : 0;
    }
    return values;
}

}  // namespace

std::vector<spam::Hit> RuleSet::check(const CheckInput& in) const {
    auto values = run(*impl_, in);
    std::vector<spam::Hit> hits;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const Rule& r = impl_->rules[i];
        if (values[i] == 0 || r.sub || r.score == 0) continue;
        hits.push_back({r.name, r.score, r.description});
    }
    std::sort(hits.begin(), hits.end(), [](const spam::Hit& a, const spam::Hit& b) { return a.name < b.name; });
    return hits;
}

std::vector<std::string> RuleSet::check_all_names(const CheckInput& in) const {
    auto values = run(*impl_, in);
    std::vector<std::string> names;
    for (std::size_t i = 0; i < values.size(); ++i)
        if (values[i] != 0) names.push_back(impl_->rules[i].name);
    std::sort(names.begin(), names.end());
    return names;
}

std::size_t RuleSet::rule_count() const { return impl_->rules.size(); }

std::vector<RuleInfo> RuleSet::rules() const {
    std::vector<RuleInfo> out;
    for (const Rule& r : impl_->rules)
        out.push_back({r.name, r.type, r.score, r.description, r.tflags, r.source, r.is_eval});
    std::sort(out.begin(), out.end(), [](const RuleInfo& a, const RuleInfo& b) { return a.name < b.name; });
    return out;
}

const std::vector<Unsupported>& RuleSet::unsupported() const { return impl_->unsupported; }
double RuleSet::required_score() const { return impl_->required_score; }
std::size_t RuleSet::files_read() const { return impl_->files; }

std::size_t RuleSet::vectorscan_patterns() const {
    std::size_t n = 0;
    for (const auto& g : impl_->scans) n += g.patterns.vectorscan_count();
    for (const auto& g : impl_->headers) n += g.patterns.vectorscan_count();
    return n;
}

std::size_t RuleSet::pcre_only_patterns() const {
    std::size_t n = 0;
    for (const auto& g : impl_->scans) n += g.patterns.pcre_only_count();
    for (const auto& g : impl_->headers) n += g.patterns.pcre_only_count();
    return n;
}

}  // namespace pmx::spam::rules
