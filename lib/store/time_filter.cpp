#include "store/time_filter.hpp"

#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace pmx::store {

namespace {

constexpr std::int64_t second = 1000000;
constexpr std::int64_t day = 86400 * second;

Error bad(std::string_view text) {
    return Error{fmt::format("Invalid time \"{}\": use YYYY-MM-DD, \"YYYY-MM-DD HH:MM[:SS]\" (UTC), "
                             "-Ns/-Nm/-Nh/-Nd/-Nw, now, today or yesterday",
                             text)};
}

// Reads exactly n digits at pos.
bool digits(std::string_view s, size_t& pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, out);
    if (ec != std::errc() || p != s.data() + pos + n) return false;
    pos += n;
    return true;
}

}  // namespace

Result<std::int64_t> parse_time(std::string_view text, std::int64_t now_us) {
    auto s = text;
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    const std::int64_t midnight = now_us - ((now_us % day) + day) % day;
    if (s == "now") return now_us;
    if (s == "today") return midnight;
    if (s == "yesterday") return midnight - day;

    if (s.size() >= 3 && s.front() == '-') {
        std::int64_t n = 0;
        auto [p, ec] = std::from_chars(s.data() + 1, s.data() + s.size() - 1, n);
        if (ec != std::errc() || p != s.data() + s.size() - 1 || n < 0) return bad(text);
        std::int64_t unit = 0;
        switch (s.back()) {
            case 's': unit = second; break;
            case 'm': unit = 60 * second; break;
            case 'h': unit = 3600 * second; break;
            case 'd': unit = day; break;
            case 'w': unit = 7 * day; break;
            default: return bad(text);
        }
        if (n > 200 * 366 * day / unit) return bad(text);  // no overflow, no year 1770
        return now_us - n * unit;
    }

    if (s.size() > 4 && s.substr(s.size() - 4) == " UTC") s.remove_suffix(4);
    else if (!s.empty() && (s.back() == 'Z' || s.back() == 'z')) s.remove_suffix(1);
    std::tm tm{};
    size_t pos = 0;
    int year = 0, month = 0, mday = 0, hour = 0, minute = 0, sec = 0;
    if (!digits(s, pos, 4, year) || pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, month) ||
        pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, mday))
        return bad(text);
    if (pos < s.size()) {
        if (s[pos] != ' ' && s[pos] != 'T' && s[pos] != 't') return bad(text);
        ++pos;
        if (!digits(s, pos, 2, hour) || pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, minute))
            return bad(text);
        if (pos < s.size() && (s[pos++] != ':' || !digits(s, pos, 2, sec))) return bad(text);
        if (pos != s.size()) return bad(text);
    }
    if (month < 1 || month > 12 || mday < 1 || mday > 31 || hour > 23 || minute > 59 || sec > 60) return bad(text);
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = sec;
    std::time_t t = timegm(&tm);
    if (tm.tm_mday != mday) return bad(text);  // 2026-02-30 rolled over into March
    return static_cast<std::int64_t>(t) * second;
}

}  // namespace pmx::store
