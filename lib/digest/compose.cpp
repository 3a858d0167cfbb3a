#include "digest/compose.hpp"

#include <fmt/format.h>

#include <ctime>

#include "secret/crypto.hpp"
#include "mail/charset.hpp"

namespace pmx::digest {

namespace {

// Decodes one UTF-8 sequence at s[i]; returns the code point and advances i, or -1 (and
// advances one byte) for an invalid one (overlong, surrogate, beyond U+10FFFF, truncated).
long next_code_point(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    const int n = b0 >= 0xC2 && b0 <= 0xDF ? 1 : b0 >= 0xE0 && b0 <= 0xEF ? 2 : b0 >= 0xF0 && b0 <= 0xF4 ? 3 : -1;
    if (n < 0 || i + static_cast<std::size_t>(n) >= s.size()) {
        ++i;
        return -1;
    }
    long cp = n == 1 ? (b0 & 0x1F) : n == 2 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int k = 1; k <= n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((b & 0xC0) != 0x80) {
            ++i;
            return -1;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr long min[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return -1;
    }
    i += static_cast<std::size_t>(n) + 1;
    return cp;
}

bool is_bidi_control(long cp) {
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
           cp == 0x061C;
}

// Bytes of the UTF-8 sequence starting with lead byte b (1 for anything not a lead byte).
std::size_t sequence_length(unsigned char b) { return b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1; }

}  // namespace

std::string display_line(std::string_view text, std::size_t max_chars) {
    std::string out;
    std::size_t chars = 0, i = 0;
    while (i < text.size()) {
        long cp = next_code_point(text, i);
        if (cp < 0) cp = 0xFFFD;
        if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) cp = ' ';
        if (is_bidi_control(cp)) continue;
        if (chars == max_chars) {
            out += "\xE2\x80\xA6";  // …
            break;
        }
        mail::detail::append_utf8(out, static_cast<char32_t>(cp));
        ++chars;
    }
    return out;
}

std::string encode_header_text(std::string_view utf8) {
    bool plain = true;
    for (unsigned char c : utf8)
        if (c < 0x20 || c >= 0x7F) plain = false;
    if (plain && utf8.find("=?") == std::string_view::npos) return std::string(utf8);
    // "=?UTF-8?B?" + base64 + "?=" within 75: at most 45 bytes of text per word (60 base64 chars).
    std::string out;
    std::size_t i = 0;
    while (i < utf8.size()) {
        std::size_t n = 0;
        while (i + n < utf8.size()) {
            auto len = sequence_length(static_cast<unsigned char>(utf8[i + n]));
            if (n + len > 45) break;
            n += len;
        }
        if (n == 0) n = 1;
        if (i + n > utf8.size()) n = utf8.size() - i;
        std::string chunk(utf8.substr(i, n));
        for (auto& c : chunk)
            if (c == '\r' || c == '\n') c = ' ';
        // standard base64 (with padding) as RFC 2047 wants, from the base64url we have
        std::string b = secret::base64url(chunk);
        for (auto& c : b) c = c == '-' ? '+' : c == '_' ? '/' : c;
        while (b.size() % 4) b += '=';
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + b + "?=";
        i += n;
    }
    return out;
}

std::string quoted_printable(std::string_view text) {
    static constexpr char hexd[] = "0123456789ABCDEF";
    std::string out;
    std::size_t col = 0;
    auto put = [&](std::string_view piece) {
        if (col + piece.size() > 75) {  // 75 + the soft break's "=" = 76
            out += "=\r\n";
            col = 0;
        }
        out += piece;
        col += piece.size();
    };
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
            out += "\r\n";
            col = 0;
            i += c == '\r' ? 2 : 1;
            continue;
        }
        const bool line_end_next = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
        const bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !line_end_next);
        // A line starting with "." or "From " survives every MTA and mbox unchanged when encoded.
        const bool risky_start = col == 0 && (c == '.' || (c == 'F' && text.substr(i, 5) == "From "));
        if (literal && !risky_start) {
            char ch = static_cast<char>(c);
            put(std::string_view(&ch, 1));
        } else {
            const char enc[3] = {'=', hexd[c >> 4], hexd[c & 15]};
            put(std::string_view(enc, 3));
        }
        ++i;
    }
    return out;
}

std::string rfc5322_date(std::int64_t time_us) {
    std::time_t t = static_cast<std::time_t>(time_us / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                       tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool header_safe_address(std::string_view a) {
    if (a.empty() || a.size() > 254) return false;
    for (unsigned char c : a)
        if (c <= 0x20 || c >= 0x7F || std::string_view("<>()[],;:\"\\").find(static_cast<char>(c)) != std::string_view::npos)
            return false;
    auto at = a.rfind('@');
    return at != std::string_view::npos && at > 0 && at + 1 < a.size() && a.find('@') == at;
}

}  // namespace pmx::digest
