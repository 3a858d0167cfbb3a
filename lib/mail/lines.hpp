// Line scanning over a raw message and MIME boundary matching. Internal to lib/mail.
// A message ends its lines with LF (a CR before it is dropped from the line) or, when it has
// no LF at all, with CR alone: `eol` is '\n' or '\r'.
#pragma once

#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>

namespace pmx::mail::detail {

struct Line {
    std::size_t start = 0;  // first byte of the line
    std::size_t end = 0;    // one past its content (line end excluded)
    std::size_t next = 0;   // first byte of the next line (buf.size() at the end)
};

inline Line line_at(std::string_view buf, std::size_t pos, char eol) {
    Line l;
    l.start = pos;
    const void* hit = pos < buf.size() ? std::memchr(buf.data() + pos, eol, buf.size() - pos) : nullptr;
    if (!hit) {
        l.end = l.next = buf.size();
    } else {
        l.end = static_cast<std::size_t>(static_cast<const char*>(hit) - buf.data());
        l.next = l.end + 1;
    }
    if (eol == '\n' && l.end > l.start && buf[l.end - 1] == '\r') --l.end;
    return l;
}

inline bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// Whether `line` is a delimiter ("--B", transport padding allowed) or close delimiter ("--B--")
// of one of `boundaries` (outermost first). Returns the index of the innermost match, or -1.
inline int match_boundary(std::string_view line, std::span<const std::string_view> boundaries, bool& close) {
    if (line.size() < 3 || line[0] != '-' || line[1] != '-') return -1;
    std::string_view rest_all = line.substr(2);
    for (std::size_t i = boundaries.size(); i-- > 0;) {
        std::string_view b = boundaries[i];
        if (rest_all.size() < b.size() || rest_all.compare(0, b.size(), b) != 0) continue;
        std::string_view rest = rest_all.substr(b.size());
        bool is_close = rest.size() >= 2 && rest[0] == '-' && rest[1] == '-';
        if (is_close) rest.remove_prefix(2);
        bool padding_only = true;
        for (char c : rest)
            if (!is_wsp(c) && c != '\r') { padding_only = false; break; }
        if (!padding_only) continue;
        close = is_close;
        return static_cast<int>(i);
    }
    return -1;
}

}  // namespace pmx::mail::detail
