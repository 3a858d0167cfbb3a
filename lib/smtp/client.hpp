// A small blocking SMTP client (RFC 5321) for pmx-queued: one transaction per call, over TCP
// to HOST:PORT or over a unix socket, every step under a deadline.
//
// pmx-queued runs at most queue.max_parallel of these at once, each on its own thread; nothing
// here is shared between calls. The client speaks EHLO (falling back to HELO), uses SIZE when
// offered, dot-stuffs the data and sends CRLF line ends whatever the message has, and reports
// per recipient, because a relay may take some recipients and refuse others.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pmx::smtp {

struct Reply {
    int code = 0;            // 250, 451, 550...; 0: no reply (connection failed or timed out)
    std::string text;        // the reply text, lines joined with "\n" ("" when code == 0)
    bool permanent() const { return code >= 500 && code < 600; }
    bool positive() const { return code >= 200 && code < 400; }
};

struct Delivery {
    std::string relay;                         // "HOST:PORT", "[IPv6]:PORT" or "unix:/path"
    std::string helo_name;                     // our name in EHLO
    std::string sender;                        // "" = <>
    std::vector<std::string> recipients;       // at least one
    std::string_view message;                  // the whole message, LF or CRLF line ends
    std::chrono::milliseconds connect_timeout{30'000};   // connecting and the relay's greeting
    std::chrono::milliseconds command_timeout{300'000};  // each reply (RFC 5321 §4.5.3.2 spirit)
};

struct RecipientResult {
    std::string recipient;
    Reply reply;  // the RCPT reply when it was refused, else the final reply to the data
    bool delivered() const { return reply.positive(); }
};

struct Result {
    // Whole-transaction failure (connect, greeting, MAIL, DATA, or a timeout): every recipient
    // not yet delivered carries this reply; code 0 with text saying what happened for
    // connection problems and timeouts (temporary by nature).
    std::vector<RecipientResult> recipients;  // one per Delivery::recipients, same order
    std::string transcript_tail;              // the last lines exchanged, for the log
};

Result deliver(const Delivery& delivery);

}  // namespace pmx::smtp
