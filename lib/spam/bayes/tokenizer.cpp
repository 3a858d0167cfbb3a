// The Bayes tokenizer: what of a message counts as evidence.
//
// Ideas from the well-known classifiers (read, not copied): words of the decoded text split at
// whitespace and punctuation with short and very long words dropped or summarized (SpamBayes'
// "skip:" tokens, SpamAssassin's 3..15-character words); header tokens tagged with the header
// they came from, so "free" in the Subject and in the body are different evidence (all three);
// Received headers as host names and address prefixes, URLs as their hosts and parent domains
// (SpamBayes). Only chosen headers count: tokens for the mere presence of each header name
// (SpamBayes does that) cost 0.5 points of spam caught on the corpus, as most headers tell of
// the receiving side, not the sender; other filters' verdict headers are never read. Words keep case only
// when ALL CAPS ("FREE" is more spammy than "free"); CJK text, which has no spaces, is cut
// into overlapping pairs of characters.
#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>

#include "mail/charset.hpp"
#include "spam/bayes/bayes.hpp"
#include "util/text.hpp"

namespace pmx::spam::bayes {

namespace {

// Caps: a message's text is scanned up to this many bytes, and at most this many token texts
// are made (before deduplication), so a huge message costs a bounded time.
constexpr std::size_t max_text_bytes = 1 << 20;
constexpr std::size_t max_html_bytes = 1 << 20;
constexpr std::size_t max_token_texts = 30000;
constexpr std::size_t max_received = 8;
constexpr std::size_t max_addresses = 20;

// Word lengths in code points: shorter are noise; longer become one "skip:" token.
constexpr std::size_t min_ascii_word = 3;
constexpr std::size_t min_other_word = 2;
constexpr std::size_t max_word = 20;
constexpr std::size_t max_cjk_run = 200;  // bigrams made of one run of CJK characters

class Sink {
public:
    Sink(std::vector<std::string>* texts, std::vector<Token>* hashes) : texts_(texts), hashes_(hashes) {}

    bool full() const { return made_ >= max_token_texts; }

    void add(std::string_view text) {
        if (text.empty() || full()) return;
        ++made_;
        if (hashes_) hashes_->push_back(hash_token(text));
        if (texts_ && seen_.insert(std::string(text)).second) texts_->emplace_back(text);
    }
    void add(std::string_view prefix, std::string_view text) {
        if (text.empty()) return;
        buf_.assign(prefix);
        buf_.append(text);
        add(std::string_view(buf_));
    }

private:
    std::vector<std::string>* texts_;
    std::vector<Token>* hashes_;
    std::unordered_set<std::string> seen_{};
    std::string buf_{};
    std::size_t made_ = 0;
};

// ---- UTF-8 ----------------------------------------------------------------------------

// Decodes one code point at s[i]; len is its byte length (1 for an invalid byte, read as U+FFFD).
char32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
    auto b = static_cast<unsigned char>(s[i]);
    len = 1;
    if (b < 0x80) return b;
    std::size_t n = b >= 0xF0 && b < 0xF5 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return 0xFFFD;
    char32_t cp = b & (0xFF >> (n + 1));
    for (std::size_t k = 1; k < n; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) return 0xFFFD;
        cp = (cp << 6) | (c & 0x3F);
    }
    len = n;
    return cp;
}

// Scripts written without spaces between words: Han, kana, CJK symbols are cut into bigrams.
// (Hangul is written with spaces and is read as words.)
bool is_cjk(char32_t c) {
    return (c >= 0x2E80 && c <= 0x2FDF) || (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3100 && c <= 0x31FF) ||
           (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFF66 && c <= 0xFF9F) || (c >= 0x20000 && c <= 0x2FFFF);
}

// Non-ASCII characters that separate words: spaces, punctuation and symbols of the common
// blocks, the replacement character. Everything else non-ASCII is read as a letter.
bool is_other_separator(char32_t c) {
    return (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 || (c >= 0x2000 && c <= 0x2BFF) ||
           (c >= 0x3000 && c <= 0x303F) || (c >= 0xFE10 && c <= 0xFE6F) || (c >= 0xFF00 && c <= 0xFF0F) ||
           (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
           c == 0xFEFF || c == 0xFFFD || (c >= 0xE000 && c <= 0xF8FF);
}

// Lowercase for the scripts where it is a fixed offset (Latin-1, Greek, Cyrillic); others as is.
char32_t lower_other(char32_t c) {
    if ((c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= 0x391 && c <= 0x3AB && c != 0x3A2) ||
        (c >= 0x410 && c <= 0x42F))
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c;
}

bool ascii_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool ascii_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool ascii_lower_c(char c) { return c >= 'a' && c <= 'z'; }

// ---- Words ----------------------------------------------------------------------------

// One word as it appears (a run of letters and digits with inner joiners), to its token.
void add_word(Sink& sink, std::string_view prefix, std::string_view word, std::size_t code_points, bool ascii) {
    if (code_points < (ascii ? min_ascii_word : min_other_word)) return;
    if (code_points > max_word) {
        // Long runs (base64 leftovers, tracking ids, hashes) say little one by one; their
        // first character and length in tens say something together.
        std::size_t len;
        char32_t first = decode(word, 0, len);
        if (first < 0x80 && ascii_upper(static_cast<char>(first))) first += 32;
        std::string t = "skip:";
        t += prefix;
        mail::detail::append_utf8(t, lower_other(first));
        t += ':';
        t += std::to_string(code_points / 10 * 10);
        sink.add(t);
        return;
    }
    bool has_upper = false, has_lower = false;
    for (char c : word) {
        has_upper |= ascii_upper(c);
        has_lower |= ascii_lower_c(c);
    }
    std::string t;
    t.reserve(prefix.size() + word.size());
    t += prefix;
    if (has_upper && !has_lower && ascii) {
        t += word;  // ALL CAPS keeps its case
    } else if (ascii) {
        t += ascii_lower(word);
    } else {
        for (std::size_t i = 0, len; i < word.size(); i += len) {
            char32_t c = decode(word, i, len);
            if (c < 0x80) {
                t += ascii_upper(static_cast<char>(c)) ? static_cast<char>(c + 32) : static_cast<char>(c);
            } else {
                mail::detail::append_utf8(t, lower_other(c));
            }
        }
    }
    sink.add(t);
}

void add_cjk_run(Sink& sink, std::string_view prefix, const std::vector<std::string_view>& chars) {
    if (chars.size() == 1) {
        sink.add(prefix, chars[0]);
        return;
    }
    std::string t;
    for (std::size_t i = 0; i + 1 < chars.size() && i < max_cjk_run; ++i) {
        t.assign(prefix);
        t.append(chars[i]);
        t.append(chars[i + 1]);
        sink.add(t);
    }
}

bool is_joiner(char c) { return c == '-' || c == '\'' || c == '.' || c == '_' || c == ',' || c == '@'; }

// Splits text into words and adds each (with the prefix, "" for the body). URLs and mail
// addresses are read elsewhere; here they fall apart into their pieces harmlessly, except that
// their long pieces become skip tokens.
void add_words(Sink& sink, std::string_view prefix, std::string_view text) {
    std::size_t start = std::string_view::npos, code_points = 0;
    bool ascii = true;
    std::vector<std::string_view> cjk;
    auto flush_word = [&](std::size_t end) {
        if (start != std::string_view::npos) {
            // inner joiners only: trailing ones are dropped
            std::string_view w = text.substr(start, end - start);
            while (!w.empty() && is_joiner(w.back())) {
                w.remove_suffix(1);
                --code_points;
            }
            add_word(sink, prefix, w, code_points, ascii);
        }
        start = std::string_view::npos;
        code_points = 0;
        ascii = true;
    };
    auto flush_cjk = [&] {
        if (!cjk.empty()) add_cjk_run(sink, prefix, cjk);
        cjk.clear();
    };
    for (std::size_t i = 0, len; i < text.size() && !sink.full(); i += len) {
        char32_t c = decode(text, i, len);
        if (c < 0x80) {
            char a = static_cast<char>(c);
            if (ascii_alnum(a) || (a == '$' && start == std::string_view::npos)) {
                flush_cjk();
                if (start == std::string_view::npos) start = i;
                ++code_points;
                continue;
            }
            if (is_joiner(a) && start != std::string_view::npos && i + 1 < text.size() &&
                (ascii_alnum(text[i + 1]) || static_cast<unsigned char>(text[i + 1]) >= 0x80)) {
                ++code_points;
                continue;
            }
            flush_word(i);
            flush_cjk();
            continue;
        }
        if (is_cjk(c)) {
            flush_word(i);
            if (cjk.size() < max_cjk_run + 1) cjk.push_back(text.substr(i, len));
            continue;
        }
        if (is_other_separator(c)) {
            flush_word(i);
            flush_cjk();
            continue;
        }
        flush_cjk();
        if (start == std::string_view::npos) start = i;
        ascii = false;
        ++code_points;
    }
    flush_word(text.size());
    flush_cjk();
}

// ---- Hosts, addresses, URLs -------------------------------------------------------------

bool is_host_char(char c) { return ascii_alnum(c) || c == '-' || c == '.' || c == '_'; }

bool is_ipv4(std::string_view h) {
    int dots = 0;
    for (char c : h) {
        if (c == '.') ++dots;
        else if (c < '0' || c > '9') return false;
    }
    return dots == 3;
}

// "url:" + host, and its parent domains down to two labels (three for the "co.uk" kind).
void add_host(Sink& sink, std::string_view prefix, std::string_view raw_host) {
    std::string host = ascii_lower(raw_host);
    while (!host.empty() && host.back() == '.') host.pop_back();
    while (!host.empty() && host.front() == '.') host.erase(0, 1);
    if (host.empty() || host.size() > 253 || host.find('.') == std::string::npos) return;
    if (!std::all_of(host.begin(), host.end(), is_host_char)) return;
    if (is_ipv4(host)) {
        sink.add(prefix, "ip");
        sink.add(prefix, host.substr(0, host.rfind('.')));  // the /24
        return;
    }
    sink.add(prefix, host);
    // parent domains
    std::vector<std::size_t> dots;
    for (std::size_t i = 0; i < host.size(); ++i)
        if (host[i] == '.') dots.push_back(i);
    std::size_t keep = 2;
    if (dots.size() >= 2) {
        std::string_view tld = std::string_view(host).substr(dots.back() + 1);
        std::string_view sld = std::string_view(host).substr(dots[dots.size() - 2] + 1, dots.back() - dots[dots.size() - 2] - 1);
        if (tld.size() == 2 && sld.size() <= 3) keep = 3;  // example.co.uk, example.com.br
    }
    // the parent with k labels starts after dots[dots.size() - k]
    for (std::size_t k = dots.size(); k >= keep; --k)
        sink.add(prefix, std::string_view(host).substr(dots[dots.size() - k] + 1));
}

// Finds http(s):// and www. URLs in text (plain or HTML) and adds their hosts.
void add_urls(Sink& sink, std::string_view text) {
    auto lower_at = [&](std::size_t i, std::string_view what) {
        if (i + what.size() > text.size()) return false;
        for (std::size_t k = 0; k < what.size(); ++k) {
            char c = text[i + k];
            if (ascii_upper(c)) c = static_cast<char>(c + 32);
            if (c != what[k]) return false;
        }
        return true;
    };
    std::size_t found = 0;
    for (std::size_t i = 0; i < text.size() && found < 500 && !sink.full(); ++i) {
        char c = text[i];
        if (c != 'h' && c != 'H' && c != 'w' && c != 'W') continue;
        std::size_t host_start;
        if (lower_at(i, "http://")) {
            host_start = i + 7;
        } else if (lower_at(i, "https://")) {
            host_start = i + 8;
        } else if (lower_at(i, "www.") && (i == 0 || !is_host_char(text[i - 1]))) {
            host_start = i;
        } else {
            continue;
        }
        std::size_t end = host_start;
        while (end < text.size() && text[end] != '/' && text[end] != '?' && text[end] != '#' &&
               text[end] != '"' && text[end] != '\'' && text[end] != '<' && text[end] != '>' &&
               text[end] != ' ' && text[end] != '\t' && text[end] != '\r' && text[end] != '\n' && text[end] != ')' &&
               end - host_start < 300)
            ++end;
        std::string_view authority = text.substr(host_start, end - host_start);
        if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
        if (auto colon = authority.find(':'); colon != std::string_view::npos) authority = authority.substr(0, colon);
        add_host(sink, "url:", authority);
        ++found;
        i = end > i ? end - 1 : i;
    }
}

// Addresses of an address header: "Name <a@b>", "a@b (Name)", lists separated by commas.
struct Address {
    std::string addr;    // lowercased local@domain
    std::string domain;  // lowercased
    std::string name;    // display name as written
};

std::vector<Address> parse_addresses(std::string_view value) {
    std::vector<Address> out;
    // split at commas outside quotes and angle brackets
    std::size_t start = 0;
    bool quoted = false;
    int angle = 0;
    for (std::size_t i = 0; i <= value.size() && out.size() < max_addresses; ++i) {
        char c = i < value.size() ? value[i] : ',';
        if (c == '"') quoted = !quoted;
        else if (c == '<' && !quoted) ++angle;
        else if (c == '>' && !quoted && angle > 0) --angle;
        if (c != ',' || quoted || angle > 0) continue;
        std::string_view item = trim(value.substr(start, i - start));
        start = i + 1;
        if (item.empty()) continue;
        Address a;
        std::string_view addr;
        if (auto lt = item.find('<'); lt != std::string_view::npos) {
            auto gt = item.find('>', lt);
            addr = item.substr(lt + 1, (gt == std::string_view::npos ? item.size() : gt) - lt - 1);
            a.name = std::string(trim(item.substr(0, lt)));
        } else {
            auto sp = item.find_first_of(" \t(");
            addr = item.substr(0, sp);
            if (sp != std::string_view::npos) a.name = std::string(item.substr(sp));
        }
        addr = trim(addr);
        a.addr = ascii_lower(addr);
        if (auto at = a.addr.rfind('@'); at != std::string::npos) a.domain = a.addr.substr(at + 1);
        out.push_back(std::move(a));
    }
    return out;
}

std::string_view before_semicolon(std::string_view v) {
    auto semi = v.find(';');
    return trim(semi == std::string_view::npos ? v : v.substr(0, semi));
}

// Received: the host names and addresses of each hop (SpamBayes-style prefixes of addresses).
void add_received(Sink& sink, std::string_view value) {
    std::size_t i = 0;
    while (i < value.size() && !sink.full()) {
        while (i < value.size() && !is_host_char(value[i])) ++i;
        std::size_t s = i;
        while (i < value.size() && is_host_char(value[i])) ++i;
        std::string_view w = value.substr(s, i - s);
        if (w.find('.') == std::string_view::npos || w.size() > 253) continue;
        std::string h = ascii_lower(w);
        while (!h.empty() && h.back() == '.') h.pop_back();
        if (is_ipv4(h)) {
            auto d1 = h.find('.'), d2 = h.find('.', d1 + 1), d3 = h.rfind('.');
            sink.add("rcvd:ip:", h.substr(0, d2));
            sink.add("rcvd:ip:", h.substr(0, d3));
            (void)d1;
        } else if (std::any_of(h.begin(), h.end(), [](char c) { return c >= 'a' && c <= 'z'; })) {
            add_host(sink, "rcvd:", h);
        }
    }
    auto with = ascii_lower(value).find(" with ");
    if (with != std::string::npos) {
        std::string_view rest = value.substr(with + 6);
        auto e = rest.find_first_of(" \t;(");
        sink.add("rcvd:with:", ascii_lower(rest.substr(0, e)));
    }
}

std::string bucket(std::size_t n) {
    if (n <= 3) return std::to_string(n);
    if (n <= 5) return "4-5";
    if (n <= 10) return "6-10";
    return "11+";
}

void add_headers(Sink& sink, const mail::ParsedMessage& m) {
    std::size_t received = 0;
    bool message_id = false;
    for (const auto& h : m.headers) {
        if (sink.full()) return;
        std::string lname = ascii_lower(h.name);
        const std::string& v = h.value;
        if (lname == "subject") {
            add_words(sink, "subj:", v);
            if (v.find("!!") != std::string::npos) sink.add("subj:!!");
        } else if (lname == "from" || lname == "reply-to" || lname == "return-path") {
            std::string p = lname == "from" ? "from:" : lname == "reply-to" ? "replyto:" : "rpath:";
            auto addrs = parse_addresses(v);
            for (const auto& a : addrs) {
                if (lname == "from") sink.add(p + "addr:", a.addr);
                sink.add(p + "dom:", a.domain.empty() ? std::string("none") : a.domain);
                if (lname == "from") {
                    add_words(sink, "from:name:", a.name);
                    if (a.name.empty()) sink.add("from:noname");
                }
            }
            if (addrs.empty()) sink.add(p, "empty");
        } else if (lname == "to" || lname == "cc") {
            auto addrs = parse_addresses(v);
            sink.add(lname + ":count:", bucket(addrs.size()));
            for (const auto& a : addrs) {
                sink.add(lname + ":addr:", a.addr);
                sink.add(lname + ":dom:", a.domain.empty() ? std::string("none") : a.domain);
            }
        } else if (lname == "received") {
            if (received++ < max_received) add_received(sink, v);
        } else if (lname == "content-type") {
            sink.add("ct:", ascii_lower(before_semicolon(v)));
            auto lv = ascii_lower(v);
            if (auto cs = lv.find("charset="); cs != std::string::npos) {
                std::string_view c = std::string_view(lv).substr(cs + 8);
                if (!c.empty() && c.front() == '"') c.remove_prefix(1);
                auto e = c.find_first_of("\"; \t");
                sink.add("ct:charset:", c.substr(0, e));
            }
        } else if (lname == "x-mailer" || lname == "user-agent") {
            std::string val = ascii_lower(trim(v));
            if (val.size() > 60) val.resize(60);
            sink.add("xm:", val);
            add_words(sink, "xm:w:", v);
        } else if (lname == "message-id") {
            message_id = true;
            auto at = v.rfind('@');
            if (at == std::string::npos) {
                sink.add("mid:noat");
            } else {
                std::string_view d = std::string_view(v).substr(at + 1);
                auto gt = d.find('>');
                d = trim(d.substr(0, gt));
                sink.add("mid:dom:", ascii_lower(d));
            }
        } else if (lname == "x-priority" || lname == "x-msmail-priority" || lname == "precedence" ||
                   lname == "importance" || lname == "content-transfer-encoding" || lname == "mime-version") {
            std::string val = ascii_lower(trim(v));
            if (val.size() > 30) val.resize(30);
            sink.add(lname + ":", val);
        }
        // List-Id and Sender are not read, as SpamAssassin's Bayes ignores them (IGNORED_HDRS):
        // they name the mailing list, and a list carries spam as well as ham, so they only teach
        // "came through list X" (on the corpus: 22 spam and 269 ham through one list).
    }
    if (!message_id) sink.add("mid:none");
}

void add_parts(Sink& sink, const mail::ParsedMessage& m) {
    sink.add("parts:", bucket(m.parts.size()));
    for (const auto& p : m.parts) {
        if (sink.full()) return;
        sink.add("part:ct:", p.content_type);
        if (!p.charset.empty()) sink.add("part:charset:", p.charset);
        if (!p.transfer_encoding.empty()) sink.add("part:cte:", p.transfer_encoding);
        if (p.is_attachment) sink.add("part:attachment");
        if (auto dot = p.filename.rfind('.'); dot != std::string::npos && p.filename.size() - dot <= 8)
            sink.add("part:ext:", ascii_lower(std::string_view(p.filename).substr(dot + 1)));
    }
    for (const auto& f : m.flags) sink.add("flag:", f);
}

// Tag names of the raw HTML: spam is HTML-heavy in its own ways (fonts, tables, images).
void add_html_tags(Sink& sink, std::string_view html) {
    std::unordered_set<std::string> tags;
    for (std::size_t i = 0; i + 1 < html.size() && tags.size() < 60; ++i) {
        if (html[i] != '<') continue;
        std::size_t s = i + 1, e = s;
        while (e < html.size() && e - s < 12 && (ascii_alnum(html[e]))) ++e;
        if (e == s) continue;
        std::string t = ascii_lower(html.substr(s, e - s));
        if (tags.insert(t).second) sink.add("html:", t);
    }
}

void run(Sink& sink, const mail::ParsedMessage& m) {
    add_headers(sink, m);
    add_parts(sink, m);
    std::string_view text = std::string_view(m.text).substr(0, max_text_bytes);
    std::string_view html = std::string_view(m.html).substr(0, max_html_bytes);
    add_urls(sink, text);
    add_urls(sink, html);
    add_html_tags(sink, html);
    if (text.empty()) sink.add("text:empty");
    add_words(sink, "", text);
}

}  // namespace

Token hash_token(std::string_view text) {
    // FNV-1a over the bytes, then the MurmurHash3 finalizer to spread the bits. Fixed forever:
    // the database holds these values.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

std::vector<std::string> token_texts(const mail::ParsedMessage& message) {
    std::vector<std::string> out;
    Sink sink(&out, nullptr);
    run(sink, message);
    return out;
}

std::vector<Token> tokenize(const mail::ParsedMessage& message) {
    std::vector<Token> out;
    out.reserve(1024);
    Sink sink(nullptr, &out);
    run(sink, message);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace pmx::spam::bayes
