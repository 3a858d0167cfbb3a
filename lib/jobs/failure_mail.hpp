// The mail about a failed job (on_failure = "mail"): `pmx jobs notify-failure NAME` builds it
// from the manager's view of the run and its journal lines, and hands it to pmx-queued's spool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace pmx::jobs {

struct FailureReport {
    std::string job;
    std::string description;
    std::string command;               // command_text() of the job; "" when no longer configured
    std::string result;                // "failed (exit-code, status=2)"
    std::string unit;                  // pmx-job-NAME.service
    std::string invocation_id;
    std::uint64_t started_usec = 0;    // realtime; 0: unknown
    std::vector<std::string> journal;  // the run's last lines, oldest first
};

struct FailureMail {
    std::string sender;                   // envelope sender = From:
    std::vector<std::string> recipients;  // jobs.failure_mail_to
    std::string message;                  // RFC 5322, LF line ends, ASCII headers
};

// from: jobs.failure_mail_from ("" = postmaster@host); to: jobs.failure_mail_to (at least one
// plain address). host: this machine's name (ASCII letters, digits, '.', '-').
Result<FailureMail> compose_failure_mail(const FailureReport& report, const std::string& from,
                                         const std::vector<std::string>& to, const std::string& host,
                                         std::uint64_t now_usec);

// "" when the address can go into a header and an SMTP command unchanged, else why not.
std::string check_mail_address(const std::string& address);

// gethostname(), or "localhost" when it is empty or holds anything but letters, digits, '.', '-'.
std::string host_name();

}  // namespace pmx::jobs
