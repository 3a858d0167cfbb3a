#include "systemd/journal.hpp"

#include <systemd/sd-journal.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <memory>

namespace pmx::systemd {

namespace {

struct JournalClose {
    void operator()(sd_journal* j) const noexcept { sd_journal_close(j); }
};
using JournalPtr = std::unique_ptr<sd_journal, JournalClose>;

// The value of FIELD in the current entry, or "" when the entry lacks it.
std::string field(sd_journal* j, const char* name) {
    const void* data = nullptr;
    size_t len = 0;
    if (sd_journal_get_data(j, name, &data, &len) < 0) return {};
    std::string_view v(static_cast<const char*>(data), len);
    const size_t prefix = std::strlen(name) + 1;  // "NAME="
    if (v.size() < prefix) return {};
    return std::string(v.substr(prefix));
}

bool is_blob(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f;
    });
}

}  // namespace

std::string format_short_line(std::uint64_t realtime_usec, std::string_view identifier, std::string_view pid,
                              std::string_view message) {
    std::time_t t = static_cast<std::time_t>(realtime_usec / 1000000);
    std::tm tm{};
    localtime_r(&t, &tm);
    char stamp[64];
    if (std::strftime(stamp, sizeof stamp, "%b %d %H:%M:%S", &tm) == 0) stamp[0] = '\0';

    std::string head = pid.empty() ? fmt::format("{} {}: ", stamp, identifier)
                                   : fmt::format("{} {}[{}]: ", stamp, identifier, pid);
    while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
    if (is_blob(message)) return head + fmt::format("[{} bytes blob data]", message.size());

    std::string out = head;
    const std::string indent(head.size(), ' ');
    for (char c : message) {
        out += c;
        if (c == '\n') out += indent;
    }
    return out;
}

Result<std::vector<std::string>> unit_journal(const JournalQuery& q) {
    std::vector<std::string> out;
    if (q.lines == 0) return out;

    sd_journal* raw = nullptr;
    int r = sd_journal_open(&raw, SD_JOURNAL_LOCAL_ONLY);
    JournalPtr j{raw};
    if (r < 0) return Error{fmt::format("Failed to open the journal: {}", std::strerror(-r))};

    auto fail = [&](int err) {
        return Error{fmt::format("Failed to filter the journal for {}: {}", q.unit, std::strerror(-err))};
    };
    // (_SYSTEMD_UNIT=u OR _SYSTEMD_USER_UNIT=u OR UNIT=u OR USER_UNIT=u) [AND (invocation matches)]
    const char* unit_fields[] = {"_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT", "UNIT", "USER_UNIT"};
    bool first = true;
    for (const char* f : unit_fields) {
        if (!first && (r = sd_journal_add_disjunction(j.get())) < 0) return fail(r);
        first = false;
        std::string m = fmt::format("{}={}", f, q.unit);
        if ((r = sd_journal_add_match(j.get(), m.data(), m.size())) < 0) return fail(r);
    }
    if (!q.invocation_id.empty()) {
        if ((r = sd_journal_add_conjunction(j.get())) < 0) return fail(r);
        const char* inv_fields[] = {"_SYSTEMD_INVOCATION_ID", "INVOCATION_ID", "USER_INVOCATION_ID"};
        first = true;
        for (const char* f : inv_fields) {
            if (!first && (r = sd_journal_add_disjunction(j.get())) < 0) return fail(r);
            first = false;
            std::string m = fmt::format("{}={}", f, q.invocation_id);
            if ((r = sd_journal_add_match(j.get(), m.data(), m.size())) < 0) return fail(r);
        }
    }

    if ((r = sd_journal_seek_tail(j.get())) < 0)
        return Error{fmt::format("Failed to seek to the end of the journal: {}", std::strerror(-r))};
    while (out.size() < q.lines) {
        r = sd_journal_previous(j.get());
        if (r < 0) return Error{fmt::format("Failed to read the journal: {}", std::strerror(-r))};
        if (r == 0) break;
        std::uint64_t usec = 0;
        if (sd_journal_get_realtime_usec(j.get(), &usec) < 0) continue;
        if (q.since_usec && usec < q.since_usec) break;
        std::string ident = field(j.get(), "SYSLOG_IDENTIFIER");
        if (ident.empty()) ident = field(j.get(), "_COMM");
        if (ident.empty()) ident = "unknown";
        std::string pid = field(j.get(), "_PID");
        if (pid.empty()) pid = field(j.get(), "SYSLOG_PID");
        out.push_back(format_short_line(usec, ident, pid, field(j.get(), "MESSAGE")));
    }
    std::reverse(out.begin(), out.end());
    return out;
}

}  // namespace pmx::systemd
