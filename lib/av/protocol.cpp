#include "av/protocol.hpp"

#include <fmt/format.h>

#include <charconv>

namespace pmx::av {

namespace {

// One protocol token or text: no control characters (a name or reason never breaks the line).
std::string clean_text(std::string_view s, bool token) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) out += token ? '_' : ' ';
        else if (token && c == ' ') out += '_';
        else out += c;
    }
    return out;
}

std::string_view strip_newline(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

std::string_view after(std::string_view line, std::string_view word) {
    if (line.size() == word.size()) return {};
    return line.substr(word.size() + 1);
}

bool starts_word(std::string_view line, std::string_view word) {
    return line.starts_with(word) && (line.size() == word.size() || line[word.size()] == ' ');
}

}  // namespace

std::string_view verdict_kind_name(VerdictKind k) {
    switch (k) {
        case VerdictKind::Clean: return "clean";
        case VerdictKind::Infected: return "infected";
        case VerdictKind::Unscannable: return "unscannable";
        case VerdictKind::Error: return "error";
    }
    return "error";
}

std::string format_verdict(const Verdict& v) {
    std::string line;
    switch (v.kind) {
        case VerdictKind::Clean: line = "CLEAN"; break;
        case VerdictKind::Infected:
            line = "INFECTED";
            for (const auto& n : v.names) {
                std::string t = clean_text(n, true);
                if (t.empty()) continue;
                if (line.size() + 1 + t.size() + 1 > kMaxLineBytes) break;
                line += ' ';
                line += t;
            }
            if (line == "INFECTED") line += " Unnamed";
            break;
        case VerdictKind::Unscannable: line = "UNSCANNABLE " + clean_text(v.reason.empty() ? "unscannable" : v.reason, false); break;
        case VerdictKind::Error: line = "ERROR " + clean_text(v.reason.empty() ? "unknown error" : v.reason, false); break;
    }
    if (line.size() > kMaxLineBytes - 1) line.resize(kMaxLineBytes - 1);
    line += '\n';
    return line;
}

Result<Verdict> parse_verdict(std::string_view raw) {
    std::string_view line = strip_newline(raw);
    if (line.size() >= kMaxLineBytes) return Error{"Failed to read verdict: line too long"};
    if (line == "CLEAN") return Verdict::clean();
    if (starts_word(line, "INFECTED")) {
        std::vector<std::string> names;
        std::string_view rest = after(line, "INFECTED");
        while (!rest.empty()) {
            auto sp = rest.find(' ');
            std::string_view n = rest.substr(0, sp);
            if (!n.empty()) names.emplace_back(n);
            if (sp == std::string_view::npos) break;
            rest.remove_prefix(sp + 1);
        }
        if (names.empty()) return Error{"Failed to read verdict: INFECTED without a name"};
        return Verdict::infected(std::move(names));
    }
    if (starts_word(line, "UNSCANNABLE")) return Verdict::unscannable(std::string(after(line, "UNSCANNABLE")));
    if (starts_word(line, "ERROR")) return Verdict::error(std::string(after(line, "ERROR")));
    return Error{fmt::format("Failed to read verdict: unexpected answer \"{}\"", clean_text(line.substr(0, 80), false))};
}

std::string format_request(const Request& r) {
    switch (r.kind) {
        case RequestKind::ScanFd: return "SCAN FD\n";
        case RequestKind::ScanBytes: return fmt::format("SCAN BYTES {}\n", r.length);
        case RequestKind::Status: return "STATUS\n";
        case RequestKind::Ping: return "PING\n";
    }
    return "PING\n";
}

Result<Request> parse_request(std::string_view raw) {
    std::string_view line = strip_newline(raw);
    if (line.size() >= kMaxLineBytes) return Error{"request line too long"};
    if (line == "SCAN FD") return Request{RequestKind::ScanFd, 0};
    if (line == "STATUS") return Request{RequestKind::Status, 0};
    if (line == "PING") return Request{RequestKind::Ping, 0};
    if (line.starts_with("SCAN BYTES ")) {
        std::string_view n = line.substr(11);
        std::size_t len = 0;
        auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), len);
        if (ec != std::errc() || p != n.data() + n.size() || n.empty())
            return Error{"SCAN BYTES needs a decimal length"};
        if (len > kMaxInlineBytes)
            return Error{fmt::format("SCAN BYTES {} is over the limit of {} bytes (pass an fd instead)", len, kMaxInlineBytes)};
        return Request{RequestKind::ScanBytes, len};
    }
    return Error{fmt::format("unknown request \"{}\"", clean_text(line.substr(0, 80), false))};
}

std::string format_status(const StatusFields& fields) {
    std::string out = "STATUS\n";
    for (const auto& [k, v] : fields) out += fmt::format("{}: {}\n", clean_text(k, true), clean_text(v, false));
    out += '\n';
    return out;
}

Result<StatusFields> parse_status_lines(std::string_view text) {
    StatusFields fields;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (line.empty()) break;
        auto colon = line.find(": ");
        if (colon == std::string_view::npos || colon == 0)
            return Error{fmt::format("Failed to read status: bad line \"{}\"", clean_text(line.substr(0, 80), false))};
        if (fields.size() >= kMaxStatusLines) return Error{"Failed to read status: too many lines"};
        fields.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 2)));
    }
    return fields;
}

}  // namespace pmx::av
