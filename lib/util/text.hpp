// Small ASCII text helpers shared by the parsers (list patterns, header names, list files).
#pragma once

#include <string>
#include <string_view>

namespace pmx {

// ASCII lowercase: mail addresses' domains, header names; never locale-dependent.
inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Without leading blanks and trailing blanks or line ends.
inline std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

}  // namespace pmx
