// Golden files for the MIME parser: tests/unit/golden/mime/NAME.eml is parsed and a stable text
// dump of the ParsedMessage must equal NAME.expected. PMX_UPDATE_GOLDEN=1 rewrites the .expected
// files; review the diff before committing.
// Also here: thousands of deterministic random mutations of those messages, which the parser must
// survive with its invariants intact (valid UTF-8 everywhere, caps kept, byte ranges in bounds).
#include <doctest/doctest.h>

#include "golden.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "mail/charset.hpp"
#include "mail/mime.hpp"

namespace fs = std::filesystem;
using namespace pmx::mail;

namespace {

using pmx::test::slurp;

// At most `max` bytes (cut on a character boundary), quoted, controls escaped, UTF-8 kept.
std::string quote(std::string_view s, std::size_t max = 200) {
    std::string cut(s.substr(0, std::min(s.size(), max)));
    if (cut.size() < s.size()) pmx::mail::detail::utf8_truncate(cut, max);
    std::string out = "\"";
    for (unsigned char c : cut) {
        if (c == '\\' || c == '"') out += {'\\', static_cast<char>(c)};
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02X", c);
            out += buf;
        } else out.push_back(static_cast<char>(c));
    }
    out += '"';
    if (cut.size() < s.size()) out += "...";
    return out;
}


// The stable text form of a ParsedMessage the golden files hold.
std::string dump_parsed_message(const ParsedMessage& m) {
    std::string out;
    out += "size: " + std::to_string(m.size) + "\n";
    out += "headers: " + std::to_string(m.headers.size()) + "\n";
    out += "subject: " + quote(m.subject) + "\n";
    out += "flags:";
    for (const auto& f : m.flags) out += " " + f;
    out += "\nparts: " + std::to_string(m.parts.size()) + "\n";
    for (std::size_t i = 0; i < m.parts.size(); ++i) {
        const Part& p = m.parts[i];
        out += "part " + std::to_string(i) + ": " + p.content_type + " charset=" + quote(p.charset) +
               " disposition=" + quote(p.disposition) + " filename=" + quote(p.filename) +
               " encoding=" + quote(p.transfer_encoding) + " decoded_size=" + std::to_string(p.decoded_size) +
               " depth=" + std::to_string(p.depth) + " attachment=" + (p.is_attachment ? "yes" : "no") +
               " headers=" + std::to_string(p.headers.size()) + " raw=" +
               (p.body_in_raw ? std::to_string(p.body_offset) + "+" + std::to_string(p.body_length) : "copy") + "\n";
        if (!p.text.empty()) out += "  text: " + quote(p.text) + "\n";
    }
    out += "text: " + quote(m.text) + "\n";
    out += "html: " + std::to_string(m.html.size()) + " bytes\n";
    return out;
}

}  // namespace

TEST_CASE("parsed messages match their golden files") {
    const auto inputs = pmx::test::golden_inputs("mime", ".eml");
    for (const auto& path : inputs) {
        std::string got = dump_parsed_message(parse_message(slurp(path)));
        pmx::test::check_golden(path, got);
    }
    CHECK(inputs.size() >= 12);
}

namespace {

// What must hold for any input. Returns "" or what broke.
std::string check_invariants(std::string_view raw, const ParsedMessage& m, const ParseLimits& limits) {
    using pmx::mail::detail::is_valid_utf8;
    if (m.size != raw.size()) return "size";
    if (!is_valid_utf8(m.subject) || !is_valid_utf8(m.text) || !is_valid_utf8(m.html)) return "message text not UTF-8";
    if (m.text.size() > limits.max_text_bytes || m.html.size() > limits.max_text_bytes) return "text cap";
    if (m.parts.size() > limits.max_parts) return "parts cap";
    if (m.headers.size() > limits.max_headers) return "headers cap";
    for (const auto& h : m.headers)
        if (!is_valid_utf8(h.value)) return "header value not UTF-8";
    std::size_t texts = 0;
    for (const auto& p : m.parts) {
        if (!is_valid_utf8(p.text) || !is_valid_utf8(p.filename) || !is_valid_utf8(p.charset) ||
            !is_valid_utf8(p.disposition) || !is_valid_utf8(p.transfer_encoding))
            return "part not UTF-8";
        if (p.content_type.find('/') == std::string::npos) return "content type";
        if (p.depth < 0 || p.depth > std::max(limits.max_depth, 0)) return "depth";
        if (p.headers.size() > limits.max_headers) return "part headers cap";
        for (const auto& h : p.headers)
            if (!is_valid_utf8(h.value)) return "part header value not UTF-8";
        if (p.body_in_raw && (p.body_offset > raw.size() || p.body_length > raw.size() - p.body_offset))
            return "body range";
        if (!p.text.empty() && p.content_type.rfind("text/", 0) != 0) return "text in a non-text part";
        texts += p.text.size();
    }
    if (texts > 2 * limits.max_text_bytes) return "part text caps";
    return "";
}

std::string mutate(std::string s, std::mt19937& rng, const std::vector<std::string>& corpus) {
    static const std::string_view tokens[] = {
        "\r", "\n", "\r\n", "\n\n", "--", "=", "?=", "=?utf-8?b?", "=?iso-8859-1?q?", "\"", ";", "*0*=", "*1=",
        "'", "%", std::string_view("\0", 1), "\xFF", "\xC3", "\t", " ", "<", ">", "&#x", "&amp", "<script>",
        "<!--", "Content-Type: multipart/mixed; boundary=", "Content-Type: message/rfc822\n\n",
        "Content-Transfer-Encoding: base64\n", "Content-Transfer-Encoding: quoted-printable\n",
        "charset=utf-7", "charset=x-nonsense", "charset=utf-16", "name*=utf-8''%E2%82", "==", "=\n",
    };
    auto pick = [&](std::size_t n) { return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n); };
    int rounds = 1 + static_cast<int>(rng() % 8);
    for (int r = 0; r < rounds; ++r) {
        std::size_t at = pick(s.size() + 1);
        switch (rng() % 8) {
            case 0:
                if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
                break;
            case 1: s.insert(at, tokens[pick(std::size(tokens))]); break;
            case 2: s.erase(at, 1 + pick(64)); break;
            case 3: {  // copy a piece elsewhere (boundaries, headers, nesting)
                std::size_t from = pick(s.size() + 1);
                std::string piece = s.substr(from, 1 + pick(256));
                s.insert(pick(s.size() + 1), piece);
                break;
            }
            case 4: {  // a line of the message again at a line start
                std::size_t from = s.rfind('\n', pick(s.size() + 1));
                from = from == std::string::npos ? 0 : from + 1;
                std::size_t to = s.find('\n', from);
                std::string line = s.substr(from, to == std::string::npos ? std::string::npos : to - from + 1);
                std::size_t where = s.find('\n', at);
                s.insert(where == std::string::npos ? s.size() : where + 1, line);
                break;
            }
            case 5: s.resize(at); break;
            case 6: {  // a piece of another message
                const std::string& o = corpus[pick(corpus.size())];
                std::size_t from = pick(o.size() + 1);
                s.insert(at, o.substr(from, 1 + pick(512)));
                break;
            }
            default: {  // line ends changed from here on
                for (std::size_t i = at; i < s.size(); ++i)
                    if (s[i] == '\n' && rng() % 2) s[i] = '\r';
                break;
            }
        }
    }
    return s;
}

}  // namespace

TEST_CASE("the parser survives random mutations of the golden messages") {
    std::vector<std::string> corpus;
    for (const auto& path : pmx::test::golden_inputs("mime", ".eml")) corpus.push_back(slurp(path));
    REQUIRE(!corpus.empty());
    std::mt19937 rng(20240611);
    int iterations = 4000;  // PMX_MIME_MUTATIONS=N runs more (a sanitizer build, a long night)
    if (const char* n = std::getenv("PMX_MIME_MUTATIONS")) iterations = std::max(1, std::atoi(n));
    int failures = 0;
    std::size_t flagged = 0, parts = 0;
    for (int i = 0; i < iterations; ++i) {
        std::string raw = mutate(corpus[static_cast<std::size_t>(i) % corpus.size()], rng, corpus);
        ParseLimits limits;
        if (i % 4 == 3) {  // small caps, to cross them often
            limits.max_depth = static_cast<int>(rng() % 4);
            limits.max_parts = rng() % 6;
            limits.max_headers = rng() % 8;
            limits.max_header_bytes = rng() % 400;
            limits.max_text_bytes = rng() % 300;
        }
        ParsedMessage m = parse_message(raw, limits);
        flagged += !m.flags.empty();
        parts += m.parts.size();
        std::string broken = check_invariants(raw, m, limits);
        if (!broken.empty() && failures++ < 5) {
            CAPTURE(i);
            CAPTURE(broken);
            CHECK(broken.empty());
        }
    }
    CHECK(failures == 0);
    MESSAGE("mutations: " << iterations << ", with flags: " << flagged << ", parts seen: " << parts);
}
