// Base64, quoted-printable and RFC 2047 encoded words.
#include "mail/encoding.hpp"

#include <algorithm>
#include <array>

#include "mail/charset.hpp"
#include "mail/mime.hpp"

namespace pmx::mail::detail {

namespace {

constexpr std::uint8_t kSkip = 64, kPad = 65, kBad = 66;

constexpr std::array<std::uint8_t, 256> make_base64_table() {
    std::array<std::uint8_t, 256> t{};
    for (auto& v : t) v = kBad;
    constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (std::size_t i = 0; i < alphabet.size(); ++i) t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
    t[' '] = t['\t'] = t['\r'] = t['\n'] = kSkip;
    t['='] = kPad;
    return t;
}
constexpr auto kBase64 = make_base64_table();

// Counts decoded bytes and keeps the first `keep` of them.
struct Sink {
    std::string* out;
    std::size_t keep;
    std::size_t kept = 0;
    std::uint64_t size = 0;

    void put(char c) {
        ++size;
        if (out && kept < keep) {
            out->push_back(c);
            ++kept;
        }
    }
    void put(std::string_view s) {
        size += s.size();
        if (out && kept < keep) {
            std::size_t k = std::min(s.size(), keep - kept);
            out->append(s.data(), k);
            kept += k;
        }
    }
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

}  // namespace

namespace {

// The base64 state machine, one character class at a time (the slow path of both loops below).
struct Base64State {
    Sink sink;
    bool malformed = false;
    bool after_pad = false;
    std::uint32_t acc = 0;
    int n = 0;  // characters in the current quantum

    void step(std::uint8_t v) {
        if (v < 64) {
            if (after_pad) malformed = true, after_pad = false;  // data after "=": decode on (concatenated chunks)
            acc = (acc << 6) | v;
            if (++n == 4) {
                sink.put(static_cast<char>(acc >> 16));
                sink.put(static_cast<char>(acc >> 8));
                sink.put(static_cast<char>(acc));
                n = 0;
                acc = 0;
            }
        } else if (v == kPad) {
            if (after_pad) return;  // the second "=" of "=="
            if (n == 2) {
                sink.put(static_cast<char>(acc >> 4));
            } else if (n == 3) {
                sink.put(static_cast<char>(acc >> 10));
                sink.put(static_cast<char>(acc >> 2));
            } else {
                malformed = true;  // "=" where no padding can be
            }
            n = 0;
            acc = 0;
            after_pad = true;
        } else if (v == kBad) {
            malformed = true;
        }
    }
    DecodeStatus finish() {
        if (n == 1) {
            malformed = true;  // six bits are no byte
        } else if (n == 2) {
            malformed = true;
            sink.put(static_cast<char>(acc >> 4));
        } else if (n == 3) {
            malformed = true;
            sink.put(static_cast<char>(acc >> 10));
            sink.put(static_cast<char>(acc >> 2));
        }
        return {sink.size, malformed};
    }
};

}  // namespace

DecodeStatus base64_decode(std::string_view in, std::string* out, std::size_t keep) {
    if (out) out->reserve(out->size() + std::min(keep, in.size() / 4 * 3 + 3));
    Base64State st{Sink{out, keep}};
    Sink& sink = st.sink;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    std::size_t i = 0, len = in.size();
    while (i < len) {
        if (st.n == 0 && i + 4 <= len) {  // the common case: four alphabet characters
            std::uint8_t a = kBase64[p[i]], b = kBase64[p[i + 1]], c = kBase64[p[i + 2]], d = kBase64[p[i + 3]];
            if ((a | b | c | d) < 64) {
                std::uint32_t v = (std::uint32_t{a} << 18) | (std::uint32_t{b} << 12) | (std::uint32_t{c} << 6) | d;
                if (st.after_pad) st.malformed = true, st.after_pad = false;
                if (!out) {
                    sink.size += 3;
                } else {
                    sink.put(static_cast<char>(v >> 16));
                    sink.put(static_cast<char>(v >> 8));
                    sink.put(static_cast<char>(v));
                }
                i += 4;
                continue;
            }
        }
        st.step(kBase64[p[i++]]);
    }
    return st.finish();
}

DecodeStatus qp_decode(std::string_view in, std::string* out, std::size_t keep, bool header_variant) {
    Sink sink{out, keep};
    if (out) out->reserve(out->size() + std::min(keep, in.size()));
    bool malformed = false;
    std::size_t i = 0, n = in.size();
    while (i < n) {
        std::size_t run = i;
        while (run < n && in[run] != '=' && in[run] != ' ' && in[run] != '\t' && !(header_variant && in[run] == '_'))
            ++run;
        if (run > i) {
            sink.put(in.substr(i, run - i));
            i = run;
            if (i == n) break;
        }
        char c = in[i];
        if (c == '=') {
            int hi = i + 1 < n ? hex_value(in[i + 1]) : -1;
            int lo = i + 2 < n ? hex_value(in[i + 2]) : -1;
            if (hi >= 0 && lo >= 0) {
                sink.put(static_cast<char>(hi * 16 + lo));
                i += 3;
                continue;
            }
            std::size_t j = i + 1;
            while (j < n && (in[j] == ' ' || in[j] == '\t')) ++j;
            if (j == n) {  // "=" at the very end: a soft line break before nothing
                i = n;
                continue;
            }
            if (in[j] == '\r' || in[j] == '\n') {  // soft line break (CRLF, LF or CR)
                if (in[j] == '\r' && j + 1 < n && in[j + 1] == '\n') ++j;
                i = j + 1;
                continue;
            }
            malformed = true;
            sink.put('=');
            ++i;
        } else if (c == '_') {  // header variant only
            sink.put(' ');
            ++i;
        } else {  // whitespace: dropped at the end of a line (a transport may have added it)
            std::size_t j = i;
            while (j < n && (in[j] == ' ' || in[j] == '\t')) ++j;
            if (!header_variant && (j == n || in[j] == '\r' || in[j] == '\n')) {
                i = j;
                continue;
            }
            sink.put(in.substr(i, j - i));
            i = j;
        }
    }
    return {sink.size, malformed};
}

namespace {

bool is_charset_char(char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F && c != '?' && c != '(' && c != ')' && c != '"' && c != ',' && c != ';';
}

bool all_whitespace(std::string_view s) {
    for (char c : s)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    return true;
}

void append_literal(std::string& out, std::string_view s) {
    if (has_8bit(s)) append_guessed(out, s);
    else out.append(s);
}

// The decoded text of encoded words may hold anything; a header value stays one line.
void neutralize_controls(std::string& out, std::size_t from) {
    for (std::size_t i = from; i < out.size(); ++i)
        if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0') out[i] = ' ';
}

constexpr std::size_t kMaxEncodedWord = 4096;  // RFC 2047 says 75; broken senders write longer ones

}  // namespace

void decode_rfc2047_into(std::string& out, std::string_view v, FlagSet& flags) {
    std::string pending;          // decoded bytes of adjacent encoded words in one charset
    std::string pending_charset;
    auto flush = [&] {
        if (pending.empty()) return;
        std::size_t from = out.size();
        auto st = append_as_utf8(out, pending, pending_charset);
        if (st.unknown) flags.set(Flag::UnknownCharset);
        if (st.replaced) flags.set(Flag::BadCharsetData);
        neutralize_controls(out, from);
        pending.clear();
    };
    std::size_t lit = 0;             // start of the literal text not yet written
    bool after_word = false;         // the literal text follows an encoded word
    std::size_t close = 0;           // cached position of the next "?=" (npos: none left)
    bool close_valid = false;
    std::size_t i = 0;
    while (i < v.size()) {
        std::size_t p = v.find("=?", i);
        if (p == std::string_view::npos) break;
        i = p + 1;  // when this is no encoded word, look again from the next byte
        std::size_t q = p + 2;
        while (q < v.size() && q - p < 80 && is_charset_char(v[q])) ++q;
        if (q == p + 2 || q + 2 >= v.size() || v[q] != '?' || v[q + 2] != '?') continue;
        char enc = v[q + 1];
        bool b64 = enc == 'B' || enc == 'b';
        if (!b64 && enc != 'Q' && enc != 'q') {
            flags.set(Flag::BadEncodedWord);
            continue;
        }
        std::size_t text = q + 3;
        if (!close_valid || (close != std::string_view::npos && close < text)) {
            close = v.find("?=", text);
            close_valid = true;
        }
        if (close == std::string_view::npos || close - text > kMaxEncodedWord) {
            flags.set(Flag::BadEncodedWord);
            continue;
        }
        std::string_view literal = v.substr(lit, p - lit);
        if (!(after_word && all_whitespace(literal))) {
            flush();
            append_literal(out, literal);
        }
        std::string_view charset = v.substr(p + 2, q - p - 2);
        if (auto star = charset.find('*'); star != std::string_view::npos) charset = charset.substr(0, star);  // RFC 2231 language
        std::string cs = normalize_charset(charset);
        if (cs != pending_charset) {
            flush();
            pending_charset = std::move(cs);
        }
        std::string_view encoded = v.substr(text, close - text);
        auto st = b64 ? base64_decode(encoded, &pending, SIZE_MAX) : qp_decode(encoded, &pending, SIZE_MAX, true);
        if (st.malformed) flags.set(Flag::BadEncodedWord);
        i = lit = close + 2;
        after_word = true;
    }
    flush();
    append_literal(out, v.substr(lit));
}

}  // namespace pmx::mail::detail

namespace pmx::mail {

std::string decode_base64(std::string_view in, bool* malformed) {
    std::string out;
    auto st = detail::base64_decode(in, &out, SIZE_MAX);
    if (malformed) *malformed = st.malformed;
    return out;
}

std::string decode_quoted_printable(std::string_view in, bool header_variant) {
    std::string out;
    detail::qp_decode(in, &out, SIZE_MAX, header_variant);
    return out;
}

std::string decode_rfc2047(std::string_view header_value) {
    std::string out;
    detail::FlagSet flags;
    detail::decode_rfc2047_into(out, header_value, flags);
    return out;
}

}  // namespace pmx::mail
