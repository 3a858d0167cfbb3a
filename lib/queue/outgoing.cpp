#include "queue/outgoing.hpp"

#include <fmt/format.h>

#include "queue/reinjection_stamp.hpp"
#include "util/text.hpp"

namespace pmx::queue {

namespace {

// End of the header section: the offset of the empty line's start (or the message's size).
std::size_t header_end(std::string_view m) {
    std::size_t pos = 0;
    while (pos < m.size()) {
        if (m[pos] == '\n') return pos;                                      // empty LF line
        if (m[pos] == '\r' && pos + 1 < m.size() && m[pos + 1] == '\n') return pos;  // empty CRLF line
        std::size_t nl = m.find('\n', pos);
        if (nl == std::string_view::npos) return m.size();
        pos = nl + 1;
    }
    return m.size();
}

// One header field (with its continuation lines) at [start, end).
struct Field {
    std::size_t start, end;
    std::string_view name;
};

template <class F>
void for_each_field(std::string_view m, std::size_t hend, F&& f) {
    std::size_t pos = 0;
    while (pos < hend) {
        std::size_t start = pos;
        std::size_t nl = m.find('\n', pos);
        pos = nl == std::string_view::npos || nl >= hend ? hend : nl + 1;
        while (pos < hend && (m[pos] == ' ' || m[pos] == '\t')) {
            nl = m.find('\n', pos);
            pos = nl == std::string_view::npos || nl >= hend ? hend : nl + 1;
        }
        std::string_view line = m.substr(start, pos - start);
        std::size_t colon = line.find(':');
        f(Field{start, pos, colon == std::string_view::npos ? std::string_view{} : trim(line.substr(0, colon))});
    }
}

}  // namespace

std::string find_message_id(std::string_view message) {
    std::size_t hend = header_end(message);
    std::string found;
    bool done = false;
    for_each_field(message, hend, [&](const Field& f) {
        if (done || ascii_lower(f.name) != "message-id") return;
        std::string_view raw = message.substr(f.start, f.end - f.start);
        raw.remove_prefix(raw.find(':') + 1);
        std::string v;
        for (char c : raw)
            if (c != '\r' && c != '\n') v += c;
        found = std::string(trim(v));
        done = true;
    });
    return found;
}

std::string make_message_id(std::string_view entry_id, std::string_view host) {
    return fmt::format("<{}.pmx-queued@{}>", entry_id, host.empty() ? std::string_view("localhost") : host);
}

std::string prepare_outgoing(std::string_view message, std::string_view stamp, std::string_view added_message_id) {
    std::size_t first_nl = message.find('\n');
    std::string_view eol = first_nl != std::string_view::npos && first_nl > 0 && message[first_nl - 1] == '\r' ? "\r\n" : "\n";
    std::string out;
    out.reserve(message.size() + stamp.size() + added_message_id.size() + 64);
    out += fmt::format("{}: {}{}", reinjection_header, stamp, eol);
    if (!added_message_id.empty()) out += fmt::format("Message-ID: {}{}", added_message_id, eol);

    std::size_t hend = header_end(message);
    std::string lower_name = ascii_lower(reinjection_header);
    std::size_t copied = 0;
    for_each_field(message, hend, [&](const Field& f) {
        if (ascii_lower(f.name) != lower_name) return;
        out.append(message.substr(copied, f.start - copied));
        copied = f.end;
    });
    out.append(message.substr(copied));
    return out;
}

}  // namespace pmx::queue
