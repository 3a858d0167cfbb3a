#include "jobs/failure_mail.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace pmx::jobs {

namespace {

// Journal lines can hold anything a job printed: a cap per line and per mail keeps the mail
// readable and far below the 998-byte line limit of RFC 5322.
constexpr std::size_t kMaxLineBytes = 500;
constexpr std::size_t kMaxJournalLines = 200;
constexpr std::size_t kMaxAddressBytes = 254;

std::string clean_line(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (out.size() >= kMaxLineBytes) {
            out += " [...]";
            break;
        }
        auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 && c != '\t') || u == 0x7f ? '?' : c;
    }
    return out;
}

std::tm utc(std::uint64_t usec) {
    std::time_t t = static_cast<std::time_t>(usec / 1'000'000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return tm;
}

// RFC 5322 date-time, always UTC: "Wed, 25 Nov 2026 12:17:34 +0000".
std::string rfc5322_date(std::uint64_t usec) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    auto tm = utc(usec);
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[tm.tm_wday % 7], tm.tm_mday,
                       kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string utc_text(std::uint64_t usec) {
    if (usec == 0) return "unknown";
    auto tm = utc(usec);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

std::string check_mail_address(const std::string& a) {
    if (a.empty()) return "empty address";
    if (a.size() > kMaxAddressBytes) return fmt::format("longer than {} characters", kMaxAddressBytes);
    for (char c : a) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '<' || c == '>' || c == ',' || c == '"' || c == '(' || c == ')' ||
            c == ';' || c == '\\')
            return fmt::format("\"{}\" is not a plain address (local@domain, ASCII, no blanks or brackets)",
                               clean_line(a));
    }
    auto at = a.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == a.size())
        return fmt::format("\"{}\" is not an address of the form local@domain", a);
    return "";
}

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
    std::string h = buf;
    for (char c : h)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) return "localhost";
    return h;
}

Result<FailureMail> compose_failure_mail(const FailureReport& r, const std::string& from,
                                         const std::vector<std::string>& to, const std::string& host,
                                         std::uint64_t now_usec) {
    FailureMail mail;
    if (to.empty())
        return Error{"Failed to mail the job failure: jobs.failure_mail_to is empty (set it with pmx config set "
                     "jobs.failure_mail_to ADDRESS)"};
    for (const auto& a : to)
        if (auto why = check_mail_address(a); !why.empty())
            return Error{fmt::format("Failed to mail the job failure: jobs.failure_mail_to: {}", why)};
    mail.sender = from.empty() ? "postmaster@" + host : from;
    if (auto why = check_mail_address(mail.sender); !why.empty())
        return Error{fmt::format("Failed to mail the job failure: jobs.failure_mail_from: {}", why)};
    mail.recipients = to;

    std::string to_field;
    for (const auto& a : to) to_field += (to_field.empty() ? "" : ", ") + a;
    std::string& m = mail.message;
    // Headers: ASCII only (job names and host names are; addresses were checked).
    m += fmt::format("From: pmx on {} <{}>\n", host, mail.sender);
    m += fmt::format("To: {}\n", to_field);
    m += fmt::format("Subject: [pmx] Job {} failed on {}\n", r.job, host);
    m += fmt::format("Date: {}\n", rfc5322_date(now_usec));
    m += fmt::format("Message-ID: <pmx-job-failure.{}.{}@{}>\n", r.job, now_usec, host);
    m += "Auto-Submitted: auto-generated\n";
    m += "MIME-Version: 1.0\n";
    m += "Content-Type: text/plain; charset=utf-8\n";
    m += "Content-Transfer-Encoding: 8bit\n";
    m += "\n";
    m += fmt::format("The scheduled job {} failed on {}.\n\n", r.job, host);
    m += fmt::format("Job:         {}\n", r.job);
    if (!r.description.empty()) m += fmt::format("Description: {}\n", clean_line(r.description));
    m += fmt::format("Command:     {}\n", r.command.empty() ? "(no longer in the job files)" : clean_line(r.command));
    m += fmt::format("Result:      {}\n", clean_line(r.result));
    m += fmt::format("Started:     {}\n", utc_text(r.started_usec));
    m += fmt::format("Unit:        {}\n", r.unit);
    if (!r.invocation_id.empty()) m += fmt::format("Invocation:  {}\n", clean_line(r.invocation_id));
    if (r.journal.empty()) {
        m += "\nThe journal has no lines of this run.\n";
    } else {
        m += "\nLast log lines of the run:\n\n";
        std::size_t first = r.journal.size() > kMaxJournalLines ? r.journal.size() - kMaxJournalLines : 0;
        for (std::size_t i = first; i < r.journal.size(); ++i) m += "  " + clean_line(r.journal[i]) + "\n";
    }
    m += fmt::format("\nMore: pmx jobs show {}   Run again: pmx jobs run {}\n", r.job, r.job);
    m += "This mail was sent because the job has on_failure = \"mail\" (pmx-jobs.toml(5)).\n";
    return mail;
}

}  // namespace pmx::jobs
