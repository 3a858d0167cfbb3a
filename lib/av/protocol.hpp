// The scan protocol of pmx-avd's unix socket: one request per connection, text lines.
//
//   request                          answer (one line)
//   SCAN FD\n   + one fd (SCM_RIGHTS)  a verdict: the daemon scans the file behind the fd
//   SCAN BYTES <n>\n + n bytes         a verdict (n <= kMaxInlineBytes)
//   STATUS\n                           STATUS\n, then "key: value" lines, then an empty line
//   PING\n                             PONG\n
//
//   verdicts: CLEAN | INFECTED <name> [<name>...] | UNSCANNABLE <reason> | ERROR <reason>
//
// Passing the fd is the normal way: nothing is copied through the socket and the daemon,
// which sees no files of its clients (ProtectHome=, PrivateTmp=), reads what it was given.
// Inline bytes are for small buffers a client holds in memory only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace pmx::av {

inline constexpr std::size_t kMaxLineBytes = 4096;               // request line, verdict line
inline constexpr std::size_t kMaxInlineBytes = 16 * 1024 * 1024; // SCAN BYTES cap
inline constexpr std::size_t kMaxStatusLines = 256;

enum class VerdictKind { Clean, Infected, Unscannable, Error };

struct Verdict {
    VerdictKind kind = VerdictKind::Error;
    std::vector<std::string> names;  // Infected: signature names, in the order found
    std::string reason;              // Unscannable / Error: why, one line

    static Verdict clean() { return {VerdictKind::Clean, {}, {}}; }
    static Verdict infected(std::vector<std::string> names) { return {VerdictKind::Infected, std::move(names), {}}; }
    static Verdict unscannable(std::string why) { return {VerdictKind::Unscannable, {}, std::move(why)}; }
    static Verdict error(std::string why) { return {VerdictKind::Error, {}, std::move(why)}; }
    bool operator==(const Verdict&) const = default;
};

std::string_view verdict_kind_name(VerdictKind k);  // "clean", "infected", "unscannable", "error"

// One line with its "\n". Names and reasons lose control characters and are cut to fit.
std::string format_verdict(const Verdict& v);
// Parses one line (with or without its "\n"); an Error for anything else.
Result<Verdict> parse_verdict(std::string_view line);

enum class RequestKind { ScanFd, ScanBytes, Status, Ping };
struct Request {
    RequestKind kind = RequestKind::Ping;
    std::size_t length = 0;  // ScanBytes: bytes that follow the line
    bool operator==(const Request&) const = default;
};

std::string format_request(const Request& r);
Result<Request> parse_request(std::string_view line);

using StatusFields = std::vector<std::pair<std::string, std::string>>;
// "STATUS\n" + "key: value\n"... + "\n"
std::string format_status(const StatusFields& fields);
// Parses the lines after "STATUS" (without the terminating empty line).
Result<StatusFields> parse_status_lines(std::string_view text);

}  // namespace pmx::av
