// What a job's values must look like, checked without any other process (the generator runs
// before anything else is up). Calendar expressions only get a light check here; the CLI asks
// `systemd-analyze calendar` for the real verdict.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <cctype>

#include "jobs/jobs.hpp"

namespace pmx::jobs {

namespace {

constexpr std::size_t kMaxNameLength = 64;
constexpr std::size_t kMaxCalendarLength = 256;
constexpr std::size_t kMaxArgLength = 4096;
constexpr std::size_t kMaxArgs = 64;

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; }

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

}  // namespace

std::string check_name(std::string_view name) {
    if (name.empty()) return "a job needs a name";
    if (name.size() > kMaxNameLength) return fmt::format("job name longer than {} characters", kMaxNameLength);
    if (!std::all_of(name.begin(), name.end(), is_name_char) || name.front() == '-' || name.front() == '_')
        return "job name must be lowercase letters, digits, '-' and '_', starting with a letter or digit";
    return "";
}

std::string check_command(const std::vector<std::string>& command) {
    if (command.empty()) return "command is empty";
    if (command.size() > kMaxArgs) return fmt::format("command has more than {} words", kMaxArgs);
    for (const auto& a : command) {
        if (a.size() > kMaxArgLength) return fmt::format("a command word is longer than {} bytes", kMaxArgLength);
        if (has_control(a)) return "a command word holds a control character";
    }
    const auto& program = command.front();
    if (program == "pmx") {
        if (command.size() < 2) return "\"pmx\" needs a subcommand (for example [\"pmx\", \"db\", \"maintain\"])";
        for (const auto& a : command)
            if (a == "--user" || a == "--system")
                return fmt::format("{}: the generator picks the manager's scope itself, leave it out", a);
        return "";
    }
    bool plain = !program.empty() && program.front() != '.' && program.front() != '-' &&
                 std::all_of(program.begin(), program.end(), [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                 });
    if (!plain)
        return fmt::format("\"{}\": a job runs a pmx subcommand (\"pmx\", ...) or a program of pmx's libexec "
                           "directory, named without a path",
                           program);
    return "";
}

std::string check_calendar_syntax(std::string_view expression) {
    if (expression.empty() || std::all_of(expression.begin(), expression.end(), [](char c) { return c == ' '; }))
        return "empty calendar expression";
    if (expression.size() > kMaxCalendarLength)
        return fmt::format("calendar expression longer than {} characters", kMaxCalendarLength);
    for (char c : expression)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            return "calendar expression holds a character outside printable ASCII";
    if (expression.find('%') != std::string_view::npos || expression.find('\\') != std::string_view::npos)
        return "calendar expression holds '%' or '\\'";
    return "";
}

// systemd's time span syntax (systemd.time(7)): "30min", "1h 30m", "2d", "90" (seconds).
std::string check_timespan(std::string_view span, bool allow_infinity) {
    static constexpr std::string_view kUnits[] = {
        "usec", "us", "msec", "ms", "seconds", "second", "sec", "s", "minutes", "minute", "min", "m",
        "hours", "hour", "hr", "h", "days", "day", "d", "weeks", "week", "w", "months", "month", "M",
        "years", "year", "y"};
    if (allow_infinity && span == "infinity") return "";
    if (span.size() > 64) return "time span longer than 64 characters";
    std::size_t i = 0, tokens = 0;
    auto skip_blanks = [&] {
        while (i < span.size() && span[i] == ' ') ++i;
    };
    skip_blanks();
    while (i < span.size()) {
        std::size_t digits = 0;
        while (i < span.size() && std::isdigit(static_cast<unsigned char>(span[i]))) ++i, ++digits;
        if (i < span.size() && span[i] == '.') {
            ++i;
            while (i < span.size() && std::isdigit(static_cast<unsigned char>(span[i]))) ++i, ++digits;
        }
        if (digits == 0) break;
        skip_blanks();
        std::size_t start = i;
        while (i < span.size() && std::isalpha(static_cast<unsigned char>(span[i]))) ++i;
        auto unit = span.substr(start, i - start);
        if (!unit.empty() && std::find(std::begin(kUnits), std::end(kUnits), unit) == std::end(kUnits))
            return fmt::format("\"{}\": unknown time unit \"{}\" (use s, min, h, d, w)", span, unit);
        ++tokens;
        skip_blanks();
    }
    if (tokens == 0 || i != span.size())
        return fmt::format("\"{}\" is not a time span (for example \"30s\", \"15min\", \"2h\", \"1d\")", span);
    return "";
}

std::string command_text(const std::vector<std::string>& command) {
    std::string out;
    for (const auto& a : command) {
        if (!out.empty()) out += ' ';
        bool plain = !a.empty() && std::none_of(a.begin(), a.end(), [](char c) {
            return c == ' ' || c == '\t' || c == '\'' || c == '"' || c == '\\' || c == '$' || c == '`';
        });
        if (plain) {
            out += a;
            continue;
        }
        out += '\'';
        for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += '\'';
    }
    return out;
}

std::vector<std::string> split_command(std::string_view text, std::string* error) {
    std::vector<std::string> out;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (char c : text) {
        if (quote) {
            if (c == quote) quote = 0;
            else word += c;
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == ' ' || c == '\t') {
            if (in_word) out.push_back(std::move(word));
            word.clear();
            in_word = false;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (quote) {
        if (error) *error = fmt::format("unterminated {} quote in the command", quote);
        return {};
    }
    if (in_word) out.push_back(std::move(word));
    return out;
}

std::string service_unit(std::string_view job) { return fmt::format("pmx-job-{}.service", job); }
std::string timer_unit(std::string_view job) { return fmt::format("pmx-job-{}.timer", job); }
std::string failure_mail_unit(std::string_view job) { return fmt::format("pmx-failure-mail@{}.service", job); }

std::string job_of_unit(std::string_view unit) {
    constexpr std::string_view prefix = "pmx-job-";
    if (!unit.starts_with(prefix)) return "";
    unit.remove_prefix(prefix.size());
    for (std::string_view suffix : {".service", ".timer"})
        if (unit.ends_with(suffix)) return std::string(unit.substr(0, unit.size() - suffix.size()));
    return "";
}

}  // namespace pmx::jobs
