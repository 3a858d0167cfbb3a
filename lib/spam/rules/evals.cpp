// eval: tests, after SpamAssassin 4.0's plugins (HeaderEval, BodyEval, MIMEEval, HTMLEval, Bayes,
// WLBLEval). Each says which SpamAssassin function it follows; where pmx reads a message
// differently the comment says so.
#include "spam/rules/evals.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <regex>
#include <set>

namespace pmx::spam::rules::detail {

namespace {

double num(const std::vector<std::string>& a, std::size_t i, double def = 0) {
    if (i >= a.size() || a[i].empty() || a[i] == "undef") return def;
    return std::strtod(a[i].c_str(), nullptr);
}

std::string get(View& v, std::string_view spec) {
    HeaderTarget t;
    if (parse_header_target(spec, t)) return "";
    auto s = v.get_joined(t);
    return s ? *s : "";
}

std::string trimmed(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

bool icontains(std::string_view hay, std::string_view needle) {
    auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != hay.end();
}

// ---- Bayes ----

// Bayes::check_bayes: probability in (min, max] (min 0 includes 0).
int check_bayes(View& v, const std::vector<std::string>& a) {
    const auto& p = v.input().bayes_probability;
    if (!p) return 0;
    double min = num(a, 0), max = num(a, 1, 2.0);
    return (min == 0 || *p > min) && *p <= max ? 1 : 0;
}

// ---- HeaderEval ----

int check_for_missing_to_header(View& v, const std::vector<std::string>&) {
    std::string to = get(v, "To");
    if (to.empty()) to = get(v, "Apparently-To");
    return to.empty() ? 1 : 0;
}

int check_header_count_range(View& v, const std::vector<std::string>& a) {
    if (a.empty()) return 0;
    std::set<std::string> uniq;
    for (const auto* h : v.input().message.headers_named(a[0])) uniq.insert(trimmed(h->value));
    double n = static_cast<double>(uniq.size());
    return n >= num(a, 1) && n <= num(a, 2, 1e9) ? 1 : 0;
}

int subject_is_all_caps(View& v, const std::vector<std::string>&) {
    std::string s = trimmed(get(v, "Subject"));
    // strip reply/forward prefixes (Bug 6805)
    for (bool again = true; again;) {
        again = false;
        for (std::string_view p : {"re", "fwd", "fw", "aw", "antwort", "wg", "sv", "vb", "vs", "vl"}) {
            if (s.size() > p.size() && s[p.size()] == ':' &&
                std::equal(p.begin(), p.end(), s.begin(), [](char x, char y) { return x == std::tolower(static_cast<unsigned char>(y)); })) {
                s = trimmed(s.substr(p.size() + 1));
                again = true;
            }
        }
    }
    if (s.find_first_of(" \t") == std::string::npos) return 0;
    if (s.size() < 10) return 0;
    std::string letters;
    for (char c : s)
        if (std::isalpha(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80) letters += c;
    std::string raw = get(v, "Subject:raw");
    for (std::string_view cs : {"=?big5", "=?euc-kr", "=?gb2312", "=?gbk", "=?iso-2022", "=?koi8", "=?shift_jis",
                                "=?windows-1251", "=?windows-874", "=?ks_c_5601"})
        if (icontains(raw, cs)) return 0;
    if (letters.empty()) return 0;
    for (char c : letters)
        if (std::islower(static_cast<unsigned char>(c))) return 0;
    return 1;
}

int check_unresolved_template(View& v, const std::vector<std::string>&) {
    static const char* const skip[] = {"x-vms-to", "x-uidl", "x-face", "to", "cc", "from", "subject", "references",
                                       "in-reply-to", "message-id", "x-message-id", "resent-message-id",
                                       "x-original-message-id"};
    for (const auto& h : v.input().message.headers) {
        const std::string& val = h.value;
        bool found = false;
        for (std::size_t i = 0; i + 2 < val.size() && !found; ++i)
            if (val[i] == '%' && std::isupper(static_cast<unsigned char>(val[i + 1])) &&
                (std::isupper(static_cast<unsigned char>(val[i + 2])) || val[i + 2] == '_' || val[i + 2] == '-'))
                found = true;
        if (!found) continue;
        std::string n;
        for (char c : h.name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (std::find(std::begin(skip), std::end(skip), n) == std::end(skip)) return 1;
    }
    return 0;
}

// HeaderEval::check_illegal_chars(header, ratio, count): 8-bit or control bytes in a raw header.
int check_illegal_chars(View& v, const std::vector<std::string>& a) {
    if (a.size() < 3) return 0;
    std::string name = a[0];
    double ratio = num(a, 1), count = num(a, 2);
    std::string str;
    if (name == "ALL") {
        for (const auto& h : v.input().message.headers) {
            std::string n;
            for (char c : h.name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (n == "subject" || n == "from") continue;  // SpamAssassin skips these for ALL
            str += h.raw;
        }
    } else {
        for (const auto* h : v.input().message.headers_named(name)) str += h->raw;
    }
    if (str.empty()) return 0;
    // count bytes 0x80-0xff and controls (except tab), ignoring ISO-2022 escapes, as SA does roughly
    double illegal = 0;
    for (unsigned char c : str)
        if (c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) ++illegal;
    if (illegal == 0) return 0;
    return illegal / static_cast<double>(str.size()) > ratio && illegal >= count ? 1 : 0;
}

int check_msg_parse_flags(View& v, const std::vector<std::string>& a) {
    if (a.empty()) return 0;
    const auto& m = v.input().message;
    const std::string& f = a[0];
    if (f == "missing_head_body_separator" || f == "missing_mime_head_body_separator") return m.has_flag("missing-blank-line");
    if (f == "truncated_header") return m.has_flag("header-too-long") || m.has_flag("too-many-headers");
    if (f == "mime_missing_boundary") return m.has_flag("missing-boundary") || m.has_flag("boundary-not-found");
    return 0;
}

// ---- Dates (HeaderEval::check_for_shifted_date) ----

int month_index(std::string_view m) {
    static constexpr std::string_view months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
    if (m.size() < 3) return -1;
    std::string l;
    for (char c : m.substr(0, 3)) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; i < 12; ++i)
        if (months[i] == l) return i;
    return -1;
}

// "[Day,] DD Mon YYYY HH:MM[:SS] [zone]" to a time_t (Util::parse_rfc822_date, simplified).
std::optional<long long> parse_date(std::string_view s) {
    static const std::regex re(R"((\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([-+]\d{4}|[A-Za-z]{1,5})?)");
    std::cmatch m;
    std::string str(s.substr(0, 300));
    if (!std::regex_search(str.c_str(), m, re)) return std::nullopt;
    int day = std::atoi(m[1].str().c_str());
    int mon = month_index(m[2].str());
    int year = std::atoi(m[3].str().c_str());
    if (mon < 0 || day < 1 || day > 31) return std::nullopt;
    if (year < 50) year += 2000;
    else if (year < 100) year += 1900;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = day;
    tm.tm_hour = std::atoi(m[4].str().c_str());
    tm.tm_min = std::atoi(m[5].str().c_str());
    tm.tm_sec = m[6].matched ? std::atoi(m[6].str().c_str()) : 0;
    long long t = static_cast<long long>(timegm(&tm));
    if (m[7].matched) {
        std::string z = m[7].str();
        if (z[0] == '+' || z[0] == '-') {
            int hh = std::atoi(z.substr(1, 2).c_str()), mm = std::atoi(z.substr(3, 2).c_str());
            long long off = hh * 3600LL + mm * 60LL;
            t -= z[0] == '+' ? off : -off;
        } else {
            static const std::map<std::string, int> zones = {{"UT", 0}, {"UTC", 0}, {"GMT", 0}, {"EST", -5}, {"EDT", -4},
                                                             {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6},
                                                             {"PST", -8}, {"PDT", -7}};
            std::string u;
            for (char c : z) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            if (auto it = zones.find(u); it != zones.end()) t -= it->second * 3600LL;
        }
    }
    return t;
}

// Date: minus the Received time closest to it (the last Received excluded when equal), seconds.
long long date_diff(View& v) {
    const auto& msg = v.input().message;
    std::optional<long long> date;
    for (const auto* h : msg.headers_named("Date"))
        if ((date = parse_date(h->value))) break;
    if (!date) return 0;
    static const std::regex rcvd(R"(\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+)");
    std::vector<long long> diffs;
    for (const auto* h : msg.headers_named("Received")) {
        std::cmatch m;
        std::string val = h->value.substr(0, 2000);
        if (!std::regex_search(val.c_str(), m, rcvd)) continue;
        if (auto t = parse_date(m.str())) diffs.push_back(*date - *t);
    }
    if (diffs.empty()) return 0;
    if (diffs.size() > 1 && diffs.back() == 0) diffs.pop_back();
    return *std::min_element(diffs.begin(), diffs.end(), [](long long a, long long b) { return std::llabs(a) < std::llabs(b); });
}

int check_for_shifted_date(View& v, const std::vector<std::string>& a) {
    long long d = date_diff(v);
    bool min_ok = a.empty() || a[0] == "undef" || static_cast<double>(d) >= 3600.0 * num(a, 0);
    bool max_ok = a.size() < 2 || a[1] == "undef" || static_cast<double>(d) < 3600.0 * num(a, 1);
    return min_ok && max_ok ? 1 : 0;
}

// ---- MIME (MIMEEval) ----

bool is_html_part(const mail::Part& p) { return p.content_type == "text/html"; }

int check_for_mime(View& v, const std::vector<std::string>& a) {
    if (a.empty()) return 0;
    const std::string& t = a[0];
    for (const auto& p : v.input().message.parts) {
        if (t == "mime_base64_count" && p.transfer_encoding == "base64") return 1;
        if (t == "mime_qp_count" && p.transfer_encoding == "quoted-printable") return 1;
        if (t == "mime_attachment" && p.disposition == "attachment") return 1;
        if (t == "mime_base64_encoded_text" && p.transfer_encoding == "base64" &&
            p.content_type.compare(0, 5, "text/") == 0 && p.disposition != "attachment")
            return 1;
    }
    if (t == "mimepart_limit_exceeded") return v.input().message.has_flag("too-many-parts");
    return 0;
}

int check_for_mime_html(View& v, const std::vector<std::string>&) {
    for (const auto& p : v.input().message.parts)
        if (is_html_part(p)) return 1;
    return 0;
}

int check_for_mime_html_only(View& v, const std::vector<std::string>&) {
    bool html = false, text = false;
    for (const auto& p : v.input().message.parts) {
        if (is_html_part(p)) html = true;
        else if (p.content_type == "text/plain") text = true;
    }
    return html && !text ? 1 : 0;
}

// ---- HTML (HTMLEval) ----

int html_tag_exists(View& v, const std::vector<std::string>& a) {
    if (a.empty()) return 0;
    std::string_view html = v.input().message.html;
    std::string open = "<" + a[0];
    std::size_t pos = 0;
    while ((pos = [&] {
                auto it = std::search(html.begin() + static_cast<std::ptrdiff_t>(pos), html.end(), open.begin(), open.end(),
                                      [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y)); });
                return it == html.end() ? std::string_view::npos : static_cast<std::size_t>(it - html.begin());
            }()) != std::string_view::npos) {
        std::size_t e = pos + open.size();
        if (e >= html.size() || !std::isalnum(static_cast<unsigned char>(html[e]))) return 1;
        pos = e;
    }
    return 0;
}

// html_test('html'): the message has HTML with at least one tag. Other html_test names need
// SpamAssassin's HTML renderer statistics and stay 0.
int html_test(View& v, const std::vector<std::string>& a) {
    if (a.empty() || a[0] != "html") return 0;
    const std::string& h = v.input().message.html;
    for (std::size_t i = 0; i + 1 < h.size(); ++i)
        if (h[i] == '<' && (std::isalpha(static_cast<unsigned char>(h[i + 1])) || h[i + 1] == '/' || h[i + 1] == '!')) return 1;
    return 0;
}

// ---- Body (BodyEval) ----

// check_body_length(max): the raw body is shorter than max bytes.
int check_body_length(View& v, const std::vector<std::string>& a) {
    std::string_view raw = v.input().raw;
    std::size_t hdr = v.pristine_header().size();
    std::size_t body = raw.size() > hdr ? raw.size() - hdr : 0;
    if (body > 0 && raw.size() > hdr && (raw[hdr] == '\n' || raw[hdr] == '\r')) body -= raw[hdr] == '\r' ? 2 : 1;
    return static_cast<double>(body) < num(a, 0) ? 1 : 0;
}

// check_base64_length(min[, max]): a base64 part has a line of min..max characters.
int check_base64_length(View& v, const std::vector<std::string>& a) {
    double min = num(a, 0), max = num(a, 1, 1e18);
    std::string_view raw = v.input().raw;
    for (const auto& p : v.input().message.parts) {
        if (p.transfer_encoding != "base64" || !p.body_in_raw || p.body_offset > raw.size()) continue;
        std::string_view body = raw.substr(p.body_offset, std::min(p.body_length, raw.size() - p.body_offset));
        std::size_t pos = 0;
        while (pos < body.size()) {
            std::size_t nl = body.find('\n', pos);
            std::size_t end = nl == std::string_view::npos ? body.size() : nl;
            std::size_t len = end - pos;
            if (len && body[end - 1] == '\r') --len;
            if (static_cast<double>(len) >= min && static_cast<double>(len) <= max) return 1;
            pos = end + 1;
        }
    }
    return 0;
}

// The allow/block lists of SpamAssassin's config (welcomelist_from, blocklist_to, ...): pmx keeps
// its lists in the policy, so these lists are empty here and the tests never hit.
int no_list(View&, const std::vector<std::string>&) { return 0; }

// Language and charset tests compare with ok_locales/ok_languages, which default to "all".
int all_ok(View&, const std::vector<std::string>&) { return 0; }

struct Entry {
    std::string_view name;
    EvalFn fn;
};

constexpr Entry kEvals[] = {
    {"check_bayes", check_bayes},
    {"check_for_missing_to_header", check_for_missing_to_header},
    {"check_header_count_range", check_header_count_range},
    {"subject_is_all_caps", subject_is_all_caps},
    {"check_unresolved_template", check_unresolved_template},
    {"check_illegal_chars", check_illegal_chars},
    {"check_msg_parse_flags", check_msg_parse_flags},
    {"check_for_shifted_date", check_for_shifted_date},
    {"check_for_mime", check_for_mime},
    {"check_for_mime_html", check_for_mime_html},
    {"check_for_mime_html_only", check_for_mime_html_only},
    {"html_tag_exists", html_tag_exists},
    {"html_test", html_test},
    {"check_body_length", check_body_length},
    {"check_base64_length", check_base64_length},
    {"check_from_in_whitelist", no_list}, {"check_from_in_welcomelist", no_list},
    {"check_from_in_blacklist", no_list}, {"check_from_in_blocklist", no_list},
    {"check_to_in_whitelist", no_list}, {"check_to_in_welcomelist", no_list},
    {"check_to_in_blacklist", no_list}, {"check_to_in_blocklist", no_list},
    {"check_to_in_more_spam", no_list}, {"check_to_in_all_spam", no_list},
    {"check_from_in_default_whitelist", no_list}, {"check_from_in_default_welcomelist", no_list},
    {"check_subject_in_whitelist", no_list}, {"check_subject_in_welcomelist", no_list},
    {"check_subject_in_blacklist", no_list}, {"check_subject_in_blocklist", no_list},
    {"check_uri_host_in_blacklist", no_list}, {"check_uri_host_in_blocklist", no_list},
    {"check_uri_host_in_whitelist", no_list}, {"check_uri_host_in_welcomelist", no_list},
    {"check_forged_in_whitelist", no_list}, {"check_forged_in_welcomelist", no_list},
    {"check_forged_in_default_whitelist", no_list}, {"check_forged_in_default_welcomelist", no_list},
    {"check_from_in_list", no_list}, {"check_replyto_in_list", no_list}, {"check_uri_host_listed", no_list},
    {"check_for_faraway_charset", all_ok}, {"check_for_faraway_charset_in_headers", all_ok},
    {"check_language", all_ok}, {"html_charset_faraway", all_ok},
};

}  // namespace

EvalInfo find_eval(std::string_view name) {
    for (const auto& e : kEvals)
        if (e.name == name) return {e.fn, "", false};
    static constexpr std::string_view network[] = {
        "check_rbl", "check_rbl_sub", "check_rbl_txt", "check_rbl_envfrom", "check_rbl_from_host",
        "check_rbl_from_domain", "check_rbl_headers", "check_rbl_ns_from", "check_rbl_rcvd", "check_rbl_accreditor",
        "check_uridnsbl", "check_dns_sender", "check_senders_reputation",
    };
    if (std::find(std::begin(network), std::end(network), name) != std::end(network)) return {nullptr, "", true};
    static const std::map<std::string_view, std::string_view> why = {
        {"check_razor2", "needs Razor (network)"}, {"check_razor2_range", "needs Razor (network)"},
        {"check_pyzor", "needs Pyzor (network)"}, {"check_dcc", "needs DCC (network)"},
        {"check_dcc_reputation_range", "needs DCC (network)"},
        {"check_dkim_valid", "needs DKIM verification (DNS)"}, {"check_dkim_signed", "needs DKIM verification (DNS)"},
        {"check_dkim_adsp", "needs DKIM verification (DNS)"}, {"check_dkim_valid_author_sig", "needs DKIM verification (DNS)"},
        {"check_dkim_dependable", "needs DKIM verification (DNS)"}, {"check_dkim_testing", "needs DKIM verification (DNS)"},
        {"check_dkim_valid_envelopefrom", "needs DKIM verification (DNS)"}, {"check_arc_valid", "needs ARC verification (DNS)"},
        {"check_arc_signed", "needs ARC verification (DNS)"}, {"check_dmarc_pass", "needs DMARC (DNS)"},
        {"check_dmarc_reject", "needs DMARC (DNS)"}, {"check_dmarc_quarantine", "needs DMARC (DNS)"},
        {"check_dmarc_none", "needs DMARC (DNS)"}, {"check_dmarc_missing", "needs DMARC (DNS)"},
        {"check_hashbl_emails", "needs HashBL (network)"}, {"check_hashbl_uris", "needs HashBL (network)"},
        {"check_hashbl_bodyre", "needs HashBL (network)"}, {"check_hashbl_attachments", "needs HashBL (network)"},
        {"check_from_in_auto_whitelist", "needs the auto-welcomelist database"},
        {"check_from_in_auto_welcomelist", "needs the auto-welcomelist database"},
        {"check_shortcircuit", "short-circuiting is not implemented"},
        {"short_url", "needs URL shortener lookups (network)"}, {"short_url_chained", "needs URL shortener lookups (network)"},
    };
    if (auto it = why.find(name); it != why.end()) return {nullptr, std::string(it->second), false};
    return {nullptr, "is not implemented", false};
}

std::optional<std::pair<std::string, std::vector<std::string>>> parse_eval_call(std::string_view text) {
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    std::size_t open = text.find('(');
    if (open == std::string_view::npos || text.back() != ')') return std::nullopt;
    std::string name(text.substr(0, open));
    for (char c : name)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return std::nullopt;
    std::string_view inner = text.substr(open + 1, text.size() - open - 2);
    std::vector<std::string> args;
    std::string cur;
    char quote = 0;
    bool any = false;
    for (std::size_t i = 0; i < inner.size(); ++i) {
        char c = inner[i];
        if (quote) {
            if (c == '\\' && i + 1 < inner.size() && inner[i + 1] == quote) { cur += inner[++i]; continue; }
            if (c == quote) { quote = 0; continue; }
            cur += c;
            continue;
        }
        if (c == '\'' || c == '"') { quote = c; any = true; continue; }
        if (c == ',') { args.push_back(trimmed(cur)); cur.clear(); any = false; continue; }
        cur += c;
        if (c != ' ' && c != '\t') any = true;
    }
    if (any || !args.empty()) args.push_back(trimmed(cur));
    return std::make_pair(std::move(name), std::move(args));
}

std::vector<std::string> implemented_evals() {
    std::vector<std::string> out;
    for (const auto& e : kEvals) out.emplace_back(e.name);
    return out;
}

}  // namespace pmx::spam::rules::detail
