// Postfix policy delegation protocol (SMTPD_POLICY_README): requests are "name=value"
// lines ended by an empty line; the answer is "action=..." and an empty line.
// The parser is incremental (bytes arrive in pieces) and capped (the peer controls the size).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pmx::ipblock {

using PolicyRequest = std::map<std::string, std::string>;

struct PolicyLimits {
    std::size_t max_line = 4096;           // Postfix attribute values are short; a longer line is an attack or a bug
    std::size_t max_attributes = 128;
    std::size_t max_request_bytes = 64 * 1024;
};

class PolicyParser {
public:
    explicit PolicyParser(PolicyLimits limits = {}) : limits_(limits) {}

    // Adds bytes from the peer.
    void feed(std::string_view bytes) { buffer_.append(bytes); }

    enum class Status { NeedMore, Request, Error };
    // Takes the next complete request out of the buffer. On Error, error() says why
    // and the connection should be closed (the stream cannot be resynchronised).
    Status next(PolicyRequest& out);
    const std::string& error() const { return error_; }

private:
    PolicyLimits limits_;
    std::string buffer_;
    std::string error_;
};

// "action=DUNNO\n\n"
std::string format_policy_reply(std::string_view action);

}  // namespace pmx::ipblock
