// Reading SpamAssassin rule files: directories in order, *.cf sorted by name, include, the
// if/ifplugin/else/endif blocks, and the lines that define or describe rules. Everything else in
// the format (whitelists, report templates, DNS settings, ...) is ignored.
#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "spam/rules/config.hpp"
#include "spam/rules/expr.hpp"

namespace pmx::spam::rules::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPluginPrefix = "Mail::SpamAssassin::Plugin::";

// The SpamAssassin version pmx reads rule files as (4.0.1: Debian 12's), for `if (version >= X)`.
constexpr double kVersion = 4.000001;

bool is_rule_name(std::string_view s) {
    if (s.empty() || s.size() > 200) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    return true;
}

std::string_view trim_ws(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// First word and the rest (trimmed).
std::pair<std::string_view, std::string_view> split_word(std::string_view s) {
    s = trim_ws(s);
    std::size_t i = 0;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    return {s.substr(0, i), trim_ws(s.substr(i))};
}

bool feature_available(std::string_view name) {
    // SpamAssassin 4.0's Conf::feature_* that change how rules are written, and which of them pmx
    // follows. capture_rules (%{TAG} captures reused in other rules) is not implemented: the
    // files' fallback definitions are used instead.
    static constexpr std::string_view yes[] = {
        "Mail::SpamAssassin::Conf::feature_bug6558_free",
        "Mail::SpamAssassin::Conf::feature_yesno_takes_args",
        "Mail::SpamAssassin::Conf::feature_registryboundaries",
        "Mail::SpamAssassin::Conf::feature_welcomelist_blocklist",
        "Mail::SpamAssassin::Conf::feature_blocklist_welcomelist",
        "Mail::SpamAssassin::Conf::feature_dns_block_rule",
        "Mail::SpamAssassin::Conf::feature_originating_ip_headers",
        "Mail::SpamAssassin::Conf::feature_dns_local_ports_permit_avoid",
        "Mail::SpamAssassin::Conf::feature_bayes_auto_learn_on_error",
        "Mail::SpamAssassin::Conf::feature_uri_host_listed",
        "Mail::SpamAssassin::Conf::feature_edns",
        "Mail::SpamAssassin::Conf::feature_dns_query_restriction",
        "Mail::SpamAssassin::Conf::feature_geodb",
        "Mail::SpamAssassin::Conf::feature_compile_regexp",
        "Mail::SpamAssassin::Conf::feature_subjprefix",
        "Mail::SpamAssassin::Conf::feature_bayes_stopwords",
        "Mail::SpamAssassin::Conf::feature_get_host",
        "Mail::SpamAssassin::Conf::feature_header_address_parser",
        "Mail::SpamAssassin::Conf::feature_local_tests_only",
        "Mail::SpamAssassin::Conf::feature_header_first_last",
        "Mail::SpamAssassin::Conf::feature_header_match_many",
        "Mail::SpamAssassin::Conf::has_tflags_nosubject",
        "Mail::SpamAssassin::Conf::has_tflags_nolog",
        "Mail::SpamAssassin::Conf::perl_min_version_5010000",
        "Mail::SpamAssassin::Plugin::BodyEval::has_check_body_length",
        "Mail::SpamAssassin::Plugin::MIMEEval::has_check_abundant_unicode_ratio",
        "Mail::SpamAssassin::Plugin::DKIM::has_arc",
        "Mail::SpamAssassin::Plugin::DNSEval::has_tflags_domains_only",
        "Mail::SpamAssassin::Plugin::DNSEval::has_tflags_ips_only",
        "Mail::SpamAssassin::Plugin::AskDNS::has_tag_header",
    };
    return std::find(std::begin(yes), std::end(yes), name) != std::end(yes);
}

struct Parser {
    ParsedConfig& cfg;
    const LoadOptions& opts;
    std::size_t order = 0;

    struct Cond {
        bool active;         // this block's own condition
        bool parent_active;  // all enclosing blocks are active
        std::string plugin;  // `ifplugin X` for X not loaded: the plugin (rules here are recorded)
    };

    bool resolve(std::string_view ident, double& v) const {
        if (ident == "version") { v = kVersion; return true; }
        if (ident == "perl_version") { v = 5.036; return true; }
        if (ident == "local_tests_only") { v = opts.network_enabled ? 0 : 1; return true; }
        auto arg = [&](std::string_view prefix) -> std::optional<std::string_view> {
            if (ident.size() > prefix.size() + 1 && ident.substr(0, prefix.size()) == prefix &&
                ident[prefix.size()] == '(' && ident.back() == ')')
                return trim_ws(ident.substr(prefix.size() + 1, ident.size() - prefix.size() - 2));
            return std::nullopt;
        };
        if (auto a = arg("plugin")) { v = plugin_loaded(*a) ? 1 : 0; return true; }
        if (auto a = arg("can")) { v = feature_available(*a) ? 1 : 0; return true; }
        if (auto a = arg("has")) { v = 0; return true; }
        return false;
    }

    void problem(const std::string& name, const std::string& where, std::string reason) {
        cfg.problems.push_back({name, where, std::move(reason)});
    }

    Result<void> read_path(const fs::path& path, int depth, const std::string& from) {
        if (depth > opts.max_include_depth)
            return Error{fmt::format("{}: include nested more than {} deep", from, opts.max_include_depth)};
        if (cfg.files >= opts.max_files)
            return Error{fmt::format("Failed to read {}: more than {} rule files", path.string(), opts.max_files)};
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            std::string why = std::strerror(errno);
            return Error{from.empty() ? fmt::format("Failed to read rule file {}: {}", path.string(), why)
                                      : fmt::format("{}: Failed to read included file {}: {}", from, path.string(), why)};
        }
        std::error_code ec;
        auto size = fs::file_size(path, ec);
        if (!ec && size > opts.max_file_bytes)
            return Error{fmt::format("Failed to read rule file {}: larger than {} bytes", path.string(), opts.max_file_bytes)};
        std::ostringstream ss;
        ss << in.rdbuf();
        ++cfg.files;
        return parse_text(ss.str(), path, depth);
    }

    Result<void> parse_text(const std::string& text, const fs::path& path, int depth) {
        std::vector<Cond> conds;
        std::string file = path.string();
        std::size_t line_no = 0;
        std::size_t pos = 0;
        while (pos <= text.size()) {
            std::size_t nl = text.find('\n', pos);
            std::string_view raw = std::string_view(text).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
            pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
            ++line_no;
            // Comments start at a # that is not escaped; \# is a literal #.
            std::string line;
            line.reserve(raw.size());
            for (std::size_t i = 0; i < raw.size(); ++i) {
                if (raw[i] == '#') {
                    if (i > 0 && raw[i - 1] == '\\') { line.back() = '#'; continue; }
                    break;
                }
                line += raw[i];
            }
            std::string_view l = trim_ws(line);
            if (l.empty()) continue;
            std::string where = fmt::format("{}:{}", file, line_no);

            // lang xx: localized lines; pmx reads English only.
            if (l.size() > 5 && l.substr(0, 5) == "lang ") {
                auto [lang, rest] = split_word(l.substr(5));
                if (lang.substr(0, 2) != "en") continue;
                l = rest;
            }
            auto [key_sv, value] = split_word(l);
            std::string key(key_sv);
            for (auto& c : key) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (c == '-') c = '_';
            }

            bool active = conds.empty() || (conds.back().active && conds.back().parent_active);
            if (key == "ifplugin" || key == "if") {
                bool cond = false;
                std::string plugin;
                if (active) {
                    if (key == "ifplugin") {
                        auto [name, rest] = split_word(value);
                        cond = plugin_loaded(name);
                        if (!cond) plugin = std::string(name);
                    } else {
                        auto e = Expr::parse(value, [this](std::string_view id, double& v) { return resolve(id, v); });
                        if (!e) {
                            problem("", where, fmt::format("if {}: {}; block skipped", value, e.error().message));
                        } else if (!e->vars().empty()) {
                            problem("", where, fmt::format("if {}: unknown name {}; block skipped", value, e->vars()[0]));
                        } else {
                            cond = e->eval_const() != 0;
                        }
                    }
                }
                conds.push_back({cond, active, plugin});
                continue;
            }
            if (key == "else") {
                if (conds.empty()) { problem("", where, "else without if"); continue; }
                conds.back().active = !conds.back().active;
                conds.back().plugin.clear();
                continue;
            }
            if (key == "endif") {
                if (conds.empty()) { problem("", where, "endif without if"); continue; }
                conds.pop_back();
                continue;
            }
            if (!active) {
                // Rules of a plugin pmx does not load are listed (unless defined elsewhere).
                if (!conds.empty() && conds.back().parent_active && !conds.back().plugin.empty() && is_rule_type(key)) {
                    auto [name, rest] = split_word(value);
                    if (is_rule_name(name))
                        cfg.skipped[std::string(name)] = {std::string(name), where,
                                                          fmt::format("needs plugin {}", conds.back().plugin)};
                }
                continue;
            }
            auto r = directive(key, value, where, path, depth);
            if (!r) return r;
        }
        for (std::size_t i = 0; i < conds.size(); ++i)
            problem("", fmt::format("{}:{}", file, line_no), "if/ifplugin without endif");
        return {};
    }

    static bool is_rule_type(std::string_view k) {
        return k == "header" || k == "body" || k == "rawbody" || k == "full" || k == "uri" || k == "mimeheader" ||
               k == "meta" || k == "urirhssub" || k == "urirhsbl" || k == "uridnsbl" || k == "uridnssub" ||
               k == "askdns" || k == "uri_detail" || k == "hashbl_email" || k == "check_hashbl_bodyre";
    }

    static std::optional<double> number(std::string_view s) {
        std::string t(s);
        if (t.size() >= 2 && t.front() == '(' && t.back() == ')') t = t.substr(1, t.size() - 2);
        if (t.empty()) return std::nullopt;
        char* end = nullptr;
        errno = 0;
        double v = std::strtod(t.c_str(), &end);
        if (errno != 0 || end != t.c_str() + t.size()) return std::nullopt;
        return v;
    }

    Result<void> directive(const std::string& key, std::string_view value, const std::string& where,
                           const fs::path& path, int depth) {
        static const std::map<std::string_view, RuleType> types = {
            {"header", RuleType::Header}, {"body", RuleType::Body}, {"rawbody", RuleType::Rawbody},
            {"full", RuleType::Full},     {"uri", RuleType::Uri},   {"mimeheader", RuleType::Mimeheader},
            {"meta", RuleType::Meta},
        };
        if (auto t = types.find(key); t != types.end()) {
            auto [name, rest] = split_word(value);
            if (!is_rule_name(name)) { problem(std::string(name), where, fmt::format("{}: bad rule name", key)); return {}; }
            if (rest.empty()) { problem(std::string(name), where, fmt::format("{}: no definition", key)); return {}; }
            RuleDef d{std::string(name), t->second, where, std::string(rest), order++};
            cfg.rules[d.name] = std::move(d);
            cfg.skipped.erase(std::string(name));
            return {};
        }
        if (key == "urirhssub" || key == "urirhsbl" || key == "uridnsbl" || key == "uridnssub" || key == "askdns" ||
            key == "uri_detail" || key == "hashbl_email") {
            // Rules defined by a lookup or detail plugin rather than a regex: kept as "external"
            // (the DNSBL part may report them as hit), listed as unsupported.
            auto [name, rest] = split_word(value);
            if (!is_rule_name(name)) return {};
            RuleDef d{std::string(name), RuleType::Header, where, "external:" + key, order++};
            cfg.rules[d.name] = std::move(d);
            cfg.skipped.erase(std::string(name));
            return {};
        }
        if (key == "score") {
            auto [name, rest] = split_word(value);
            std::vector<double> v;
            std::string_view r = rest;
            while (!r.empty()) {
                auto [w, more] = split_word(r);
                auto n = number(w);
                if (!n) { problem(std::string(name), where, fmt::format("score: not a number: {}", w)); return {}; }
                v.push_back(*n);
                r = more;
            }
            if (v.size() == 1) v.assign(4, v[0]);
            if (v.size() != 4) { problem(std::string(name), where, "score: needs 1 or 4 values"); return {}; }
            cfg.scores[std::string(name)] = v;
            return {};
        }
        if (key == "describe") {
            auto [name, rest] = split_word(value);
            cfg.describe[std::string(name)] = std::string(rest);
            return {};
        }
        if (key == "tflags") {
            auto [name, rest] = split_word(value);
            cfg.tflags[std::string(name)] = std::string(rest);
            return {};
        }
        if (key == "priority") {
            auto [name, rest] = split_word(value);
            if (auto n = number(rest)) cfg.priority[std::string(name)] = static_cast<int>(*n);
            return {};
        }
        if (key == "required_score" || key == "required_hits") {
            if (auto n = number(value)) cfg.required_score = *n;
            return {};
        }
        if (key == "include") {
            fs::path p(std::string{value});
            if (p.is_relative()) p = path.parent_path() / p;
            return read_path(p, depth + 1, where);
        }
        if (key == "replace_start") { cfg.replace.start = std::string(value); return {}; }
        if (key == "replace_end") { cfg.replace.end = std::string(value); return {}; }
        if (key == "replace_tag" || key == "replace_pre" || key == "replace_post" || key == "replace_inter") {
            auto [name, rest] = split_word(value);
            auto& m = key == "replace_tag" ? cfg.replace.tag
                    : key == "replace_pre" ? cfg.replace.pre
                    : key == "replace_post" ? cfg.replace.post : cfg.replace.inter;
            m[std::string(name)] = std::string(rest);
            return {};
        }
        if (key == "replace_rules") {
            std::string_view r = value;
            while (!r.empty()) {
                auto [w, more] = split_word(r);
                cfg.replace.rules.insert(std::string(w));
                r = more;
            }
            return {};
        }
        return {};  // every other setting of the format does not concern the rules engine
    }
};

}  // namespace

bool plugin_loaded(std::string_view name) {
    name = trim_ws(name);
    if (name.substr(0, kPluginPrefix.size()) == kPluginPrefix) name.remove_prefix(kPluginPrefix.size());
    static constexpr std::string_view loaded[] = {
        // Implemented by pmx (rule syntax and most of their evals).
        "Check", "Bayes", "BodyEval", "HeaderEval", "HTMLEval", "MIMEEval", "MIMEHeader", "ReplaceTags",
        "RelayEval", "URIEval", "WLBLEval", "FreeMail", "ImageInfo", "VBounce", "Rule2XSBody",
        "AutoLearnThreshold", "WelcomeListSubject",
        // In SpamAssassin's default set; their tests need the network or data pmx does not have:
        // listed as unsupported (or reported by the DNSBL part through CheckInput::external_hits).
        "DNSEval", "URIDNSBL", "AskDNS", "DKIM", "DMARC", "HashBL", "HTTPSMismatch", "Pyzor", "Razor2",
        "SpamCop", "URIDetail",
    };
    return std::find(std::begin(loaded), std::end(loaded), name) != std::end(loaded);
}

Result<void> parse_rule_text(ParsedConfig& cfg, const std::string& text, const std::string& name,
                             const LoadOptions& options) {
    Parser p{cfg, options, cfg.rules.size()};
    ++cfg.files;
    return p.parse_text(text, name, 0);
}

Result<ParsedConfig> parse_rule_files(const LoadOptions& options) {
    ParsedConfig cfg;
    Parser p{cfg, options, 0};
    auto read_dir_or_file = [&](const fs::path& d, bool must_exist) -> Result<void> {
        std::error_code ec;
        auto st = fs::status(d, ec);
        if (ec || !fs::exists(st)) {
            if (!must_exist) return {};
            return Error{fmt::format("Failed to read rule directory {}: {}", d.string(),
                                     ec ? ec.message() : std::string("No such file or directory"))};
        }
        if (!fs::is_directory(st)) return p.read_path(d, 0, "");
        std::vector<fs::path> files;
        fs::directory_iterator it(d, ec), end;
        if (ec) return Error{fmt::format("Failed to read rule directory {}: {}", d.string(), ec.message())};
        for (; it != end; it.increment(ec)) {
            if (ec) return Error{fmt::format("Failed to read rule directory {}: {}", d.string(), ec.message())};
            if (it->path().extension() == ".cf" && !it->is_directory(ec)) files.push_back(it->path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            auto r = p.read_path(f, 0, "");
            if (!r) return r;
        }
        return {};
    };
    for (const auto& d : options.dirs) {
        auto r = read_dir_or_file(d, true);
        if (!r) return r.error();
    }
    for (const auto& d : options.admin) {
        auto r = read_dir_or_file(d, false);
        if (!r) return r.error();
    }
    return cfg;
}

}  // namespace pmx::spam::rules::detail
