#include "smtp/client.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <optional>

namespace pmx::smtp {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Caps on what the relay controls. RFC 5321 §4.5.3.1.5 allows 512 bytes per reply line; real
// servers stay well below. An EHLO reply has one line per extension (Postfix: about 10).
constexpr std::size_t kMaxReplyLineBytes = 2048;
constexpr std::size_t kMaxReplyLines = 100;
// Addresses and our name go on command lines (RFC 5321 §4.5.3.1: path 256, command line 512).
constexpr std::size_t kMaxAddressBytes = 320;
constexpr std::size_t kMaxHeloBytes = 255;
// The transcript keeps the last lines for the log, each cut to a readable length.
constexpr std::size_t kTranscriptLines = 24;
constexpr std::size_t kTranscriptLineBytes = 200;
// QUIT is a courtesy: never wait long for its reply.
constexpr milliseconds kQuitTimeout{2'000};
// Bytes per send() when streaming the message.
constexpr std::size_t kSendChunkBytes = 64 * 1024;

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { if (fd_ >= 0) ::close(fd_); }
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            if (fd_ >= 0) ::close(fd_);
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_ = -1;
};

// Printable for the log: control bytes become '?', and the line is cut.
std::string printable(std::string_view s) {
    std::string out;
    out.reserve(std::min(s.size(), kTranscriptLineBytes));
    for (char c : s) {
        if (out.size() >= kTranscriptLineBytes) {
            out += "...";
            break;
        }
        auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
    return out;
}

// Where to connect, parsed from Delivery::relay.
struct Endpoint {
    bool unix_socket = false;
    std::string host;  // without brackets
    std::string port;
    std::string path;  // unix socket
};

std::optional<Endpoint> parse_relay(std::string_view relay) {
    Endpoint e;
    if (relay.starts_with("unix:")) {
        e.unix_socket = true;
        e.path = std::string(relay.substr(5));
        if (e.path.empty() || e.path.size() >= sizeof(sockaddr_un{}.sun_path)) return std::nullopt;
        return e;
    }
    std::string_view rest;
    if (relay.starts_with("[")) {
        auto close = relay.find(']');
        if (close == std::string_view::npos || close == 1) return std::nullopt;
        e.host = std::string(relay.substr(1, close - 1));
        rest = relay.substr(close + 1);
    } else {
        auto colon = relay.rfind(':');
        e.host = std::string(relay.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view{} : relay.substr(colon);
        if (e.host.empty() || e.host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs brackets
    }
    if (rest.empty()) {
        e.port = "25";
    } else {
        if (rest.front() != ':') return std::nullopt;
        rest.remove_prefix(1);
        unsigned port = 0;
        auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
        if (ec != std::errc{} || end != rest.data() + rest.size() || port == 0 || port > 65535) return std::nullopt;
        e.port = std::to_string(port);
    }
    for (char c : e.host)
        if (static_cast<unsigned char>(c) <= ' ') return std::nullopt;
    return e;
}

// An address goes between <> on a command line: no line breaks, no controls, no brackets.
bool valid_address(std::string_view a) {
    if (a.size() > kMaxAddressBytes) return false;
    for (char c : a) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '<' || c == '>' || c == ' ') return false;
    }
    return true;
}

bool valid_helo(std::string_view h) {
    if (h.empty() || h.size() > kMaxHeloBytes) return false;
    for (char c : h) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) return false;
    }
    return true;
}

bool has_8bit(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    return false;
}

// What a failure to get a reply looks like to the caller: code 0, the reason in words.
Reply no_reply(std::string text) { return Reply{0, std::move(text)}; }

// One SMTP session over one connection.
class Session {
public:
    explicit Session(const Delivery& d) : d_(d) {}

    // Connects within connect_timeout; on failure returns why. The greeting must follow
    // before the same deadline (greeting_deadline()).
    std::optional<std::string> connect(const Endpoint& e) {
        auto deadline = connect_deadline_ = Clock::now() + d_.connect_timeout;
        if (e.unix_socket) {
            sockaddr_un addr{};
            addr.sun_family = AF_UNIX;
            std::memcpy(addr.sun_path, e.path.data(), e.path.size());
            return connect_one(AF_UNIX, reinterpret_cast<sockaddr*>(&addr), sizeof addr, deadline);
        }
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        // No AI_ADDRCONFIG: it hides ::1 and 127.0.0.1 on hosts with only loopback addresses,
        // and the relay is most often the local MTA.
        hints.ai_flags = AI_NUMERICSERV;
        addrinfo* list = nullptr;
        // Blocking resolution: relays are local names or literals; the deadline covers connecting.
        int rc = ::getaddrinfo(e.host.c_str(), e.port.c_str(), &hints, &list);
        if (rc != 0) return fmt::format("cannot resolve {}: {}", e.host, ::gai_strerror(rc));
        std::string last = "no address";
        for (auto* a = list; a; a = a->ai_next) {
            auto why = connect_one(a->ai_family, a->ai_addr, a->ai_addrlen, deadline);
            if (!why) {
                ::freeaddrinfo(list);
                return std::nullopt;
            }
            last = *why;
            if (Clock::now() >= deadline) break;
        }
        ::freeaddrinfo(list);
        return last;
    }

    // Sends one command line (without CRLF) and reads its reply.
    Reply command(std::string_view line, std::string_view what, milliseconds timeout) {
        note("> ", line);
        std::string out(line);
        out += "\r\n";
        if (auto why = send_all(out, timeout)) return no_reply(fmt::format("{} (sending {})", *why, what));
        return read_reply(what, timeout);
    }

    // Reads one reply, possibly multi-line, within timeout. `what` names what it answers.
    Reply read_reply(std::string_view what, milliseconds timeout) {
        return read_reply(what, Clock::now() + timeout, timeout);
    }
    // The greeting: before the end of the connect deadline.
    Reply read_greeting() { return read_reply("the greeting", connect_deadline_, d_.connect_timeout); }

    Reply read_reply(std::string_view what, Clock::time_point deadline, milliseconds timeout) {
        Reply reply;
        std::size_t lines = 0;
        for (;;) {
            std::string line;
            if (auto why = read_line(line, deadline, timeout)) return no_reply(fmt::format("{} (waiting for the reply to {})", *why, what));
            note("< ", line);
            if (++lines > kMaxReplyLines)
                return protocol_error(fmt::format("the reply to {} has more than {} lines", what, kMaxReplyLines));
            // "DDD" then ' ' (last line), '-' (more follow) or nothing (a bare code ends the reply).
            if (line.size() < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' || line[2] < '0' ||
                line[2] > '9' || (line.size() > 3 && line[3] != ' ' && line[3] != '-'))
                return protocol_error(fmt::format("malformed reply to {}: \"{}\"", what, printable(line)));
            int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
            if (lines == 1) reply.code = code;
            else if (code != reply.code)
                return protocol_error(fmt::format("the reply to {} changes its code from {} to {}", what, reply.code, code));
            if (lines > 1) reply.text += '\n';
            if (line.size() > 4) reply.text.append(line, 4);
            if (line.size() == 3 || line[3] == ' ') return reply;
        }
    }

    // Streams the message: LF and lone CR become CRLF, lines starting with '.' get another,
    // and the end-of-data line follows.
    std::optional<std::string> send_data(std::string_view message, milliseconds timeout) {
        note("> ", fmt::format("[message, {} bytes]", message.size()));
        std::string chunk;
        chunk.reserve(kSendChunkBytes + 8);
        bool line_start = true;
        for (std::size_t i = 0; i < message.size(); ++i) {
            char c = message[i];
            if (c == '\r' || c == '\n') {
                if (c == '\r' && i + 1 < message.size() && message[i + 1] == '\n') ++i;
                chunk += "\r\n";
                line_start = true;
            } else {
                if (line_start && c == '.') chunk += '.';
                chunk += c;
                line_start = false;
            }
            if (chunk.size() >= kSendChunkBytes) {
                if (auto why = send_all(chunk, timeout)) return why;
                chunk.clear();
            }
        }
        if (!line_start) chunk += "\r\n";  // the message's last line had no line end
        chunk += ".\r\n";
        note("> ", ".");
        return send_all(chunk, timeout);
    }

    std::string transcript() const {
        std::string out;
        for (const auto& l : transcript_) {
            if (!out.empty()) out += '\n';
            out += l;
        }
        return out;
    }

    void note(std::string_view prefix, std::string_view line) {
        if (transcript_.size() == kTranscriptLines) transcript_.pop_front();
        transcript_.push_back(std::string(prefix) + printable(line));
    }

    // After a protocol error the connection is in an unknown state: no more commands on it.
    bool usable() const { return usable_ && fd_.get() >= 0; }

private:
    Reply protocol_error(std::string text) {
        usable_ = false;
        return no_reply("protocol error: " + text);
    }

    std::optional<std::string> connect_one(int family, const sockaddr* addr, socklen_t len, Clock::time_point deadline) {
        Fd s(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (s.get() < 0) return fmt::format("socket: {}", std::strerror(errno));
        if (::connect(s.get(), addr, len) != 0) {
            if (errno != EINPROGRESS && errno != EINTR && errno != EAGAIN) return std::string(std::strerror(errno));
            for (;;) {
                auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
                if (left <= 0) return fmt::format("no connection within {} ms", d_.connect_timeout.count());
                pollfd p{s.get(), POLLOUT, 0};
                int r = ::poll(&p, 1, static_cast<int>(left));
                if (r < 0 && errno == EINTR) continue;
                if (r < 0) return fmt::format("poll: {}", std::strerror(errno));
                if (r > 0) break;
            }
            int err = 0;
            socklen_t elen = sizeof err;
            if (::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &elen) != 0) err = errno;
            if (err != 0) return std::string(std::strerror(err));
        }
        fd_ = std::move(s);
        usable_ = true;
        return std::nullopt;
    }

    // Waits for events on the socket until deadline; returns why not, or nothing when ready.
    std::optional<std::string> wait(short events, Clock::time_point deadline, milliseconds timeout) {
        for (;;) {
            auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
            if (left <= 0) {
                usable_ = false;
                return fmt::format("timed out after {} ms", timeout.count());
            }
            pollfd p{fd_.get(), events, 0};
            int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                usable_ = false;
                return fmt::format("poll: {}", std::strerror(errno));
            }
            if (r > 0) return std::nullopt;
        }
    }

    // Each write must make progress within the timeout.
    std::optional<std::string> send_all(std::string_view data, milliseconds timeout) {
        if (!usable()) return std::string("the connection is no longer usable");
        while (!data.empty()) {
            if (auto why = wait(POLLOUT, Clock::now() + timeout, timeout)) return why;
            ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                usable_ = false;
                if (errno == EPIPE || errno == ECONNRESET) return std::string("the relay closed the connection");
                return fmt::format("send: {}", std::strerror(errno));
            }
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return std::nullopt;
    }

    // One line without its CRLF (a bare LF is accepted too).
    std::optional<std::string> read_line(std::string& line, Clock::time_point deadline, milliseconds timeout) {
        if (!usable()) return std::string("the connection is no longer usable");
        for (;;) {
            auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                if (nl + 1 > kMaxReplyLineBytes) break;
                line.assign(buffer_, 0, nl);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                buffer_.erase(0, nl + 1);
                return std::nullopt;
            }
            if (buffer_.size() > kMaxReplyLineBytes) break;
            if (auto why = wait(POLLIN, deadline, timeout)) return why;
            char buf[4096];
            ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                usable_ = false;
                if (errno == ECONNRESET) return std::string("the relay reset the connection");
                return fmt::format("recv: {}", std::strerror(errno));
            }
            if (n == 0) {
                usable_ = false;
                return std::string("the relay closed the connection");
            }
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
        usable_ = false;
        note("< ", buffer_.substr(0, kTranscriptLineBytes));
        return fmt::format("protocol error: a reply line longer than {} bytes", kMaxReplyLineBytes);
    }

    const Delivery& d_;
    Clock::time_point connect_deadline_{};
    Fd fd_;
    bool usable_ = false;
    std::string buffer_;
    std::deque<std::string> transcript_;
};

// MAIL, RCPT and the end of the data take 2xx or a refusal; a 3xx there is a broken server,
// and must never count as delivered (Reply::positive() takes 3xx).
Reply no_3xx(Reply r, std::string_view what) {
    if (r.code >= 300 && r.code < 400)
        return no_reply(fmt::format("protocol error: {} answered {} {}", what, r.code, r.text));
    return r;
}

// What the relay offered in its EHLO reply.
struct Extensions {
    bool size = false;
    bool eightbit = false;
    bool smtputf8 = false;
};

Extensions parse_ehlo(std::string_view text) {
    Extensions x;
    bool first = true;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (first) {  // the first line is the server's name and greeting, not an extension
            first = false;
            continue;
        }
        std::string_view keyword = line.substr(0, line.find(' '));
        auto is = [&](std::string_view k) {
            if (keyword.size() != k.size()) return false;
            for (std::size_t i = 0; i < k.size(); ++i)
                if (std::toupper(static_cast<unsigned char>(keyword[i])) != k[i]) return false;
            return true;
        };
        if (is("SIZE")) x.size = true;
        else if (is("8BITMIME")) x.eightbit = true;
        else if (is("SMTPUTF8")) x.smtputf8 = true;
    }
    return x;
}

// The message's size on the wire, roughly: CRLF for every line end (for SIZE=).
std::size_t wire_size(std::string_view message) {
    std::size_t lf = 0;
    for (std::size_t i = 0; i < message.size(); ++i)
        if (message[i] == '\n' && (i == 0 || message[i - 1] != '\r')) ++lf;
    return message.size() + lf;
}

}  // namespace

Result deliver(const Delivery& d) {
    Result result;
    result.recipients.reserve(d.recipients.size());
    for (const auto& r : d.recipients) result.recipients.push_back({r, {}});
    std::vector<bool> done(d.recipients.size(), false);

    // Every recipient without a final answer gets this one.
    auto fail_rest = [&](const Reply& reply) {
        for (std::size_t i = 0; i < done.size(); ++i)
            if (!done[i]) {
                result.recipients[i].reply = reply;
                done[i] = true;
            }
    };

    Session s(d);
    auto finish = [&](bool quit) {
        if (quit && s.usable()) (void)s.command("QUIT", "QUIT", std::min(d.command_timeout, kQuitTimeout));
        result.transcript_tail = s.transcript();
        return result;
    };

    if (d.recipients.empty()) return finish(false);

    // Checks that need no connection: what we would put on a command line.
    if (!valid_helo(d.helo_name)) {
        fail_rest(no_reply(fmt::format("invalid HELO name \"{}\" (configuration)", printable(d.helo_name))));
        return finish(false);
    }
    if (!valid_address(d.sender)) {
        fail_rest(Reply{553, fmt::format("5.1.7 pmx: invalid sender address \"{}\"", printable(d.sender))});
        return finish(false);
    }
    for (std::size_t i = 0; i < d.recipients.size(); ++i)
        if (d.recipients[i].empty() || !valid_address(d.recipients[i])) {
            result.recipients[i].reply = Reply{553, fmt::format("5.1.3 pmx: invalid recipient address \"{}\"",
                                                                printable(d.recipients[i]))};
            done[i] = true;
        }

    if (std::find(done.begin(), done.end(), false) == done.end()) return finish(false);

    auto endpoint = parse_relay(d.relay);
    if (!endpoint) {
        fail_rest(no_reply(fmt::format("invalid relay \"{}\" (expected HOST:PORT, [IPv6]:PORT or unix:/path)",
                                       printable(d.relay))));
        return finish(false);
    }
    if (auto why = s.connect(*endpoint)) {
        s.note("* ", fmt::format("connect to {}: {}", d.relay, *why));
        fail_rest(no_reply(fmt::format("Failed to connect to {}: {}", d.relay, *why)));
        return finish(false);
    }
    s.note("* ", fmt::format("connected to {}", d.relay));

    // A refusal of the session itself (greeting, EHLO/HELO) says nothing about the message or
    // its recipients: it is reported as temporary (code 0) with the relay's words, never bounced.
    auto session_refused = [&](const Reply& r, std::string_view step) {
        if (r.code == 0) return r;
        return no_reply(fmt::format("the relay refused the session at {}: {} {}", step, r.code, r.text));
    };

    Reply greeting = s.read_greeting();
    if (greeting.code != 220) {
        fail_rest(session_refused(greeting, "the greeting"));
        return finish(greeting.code != 0);
    }

    Extensions ext;
    Reply hello = s.command("EHLO " + d.helo_name, "EHLO", d.command_timeout);
    if (hello.code == 250) {
        ext = parse_ehlo(hello.text);
    } else if (hello.permanent()) {  // an old server that does not know EHLO
        hello = s.command("HELO " + d.helo_name, "HELO", d.command_timeout);
    }
    if (hello.code != 250) {
        fail_rest(session_refused(hello, "HELO"));
        return finish(hello.code != 0);
    }

    std::string mail = fmt::format("MAIL FROM:<{}>", d.sender);
    if (ext.size) mail += fmt::format(" SIZE={}", wire_size(d.message));
    if (ext.eightbit && has_8bit(d.message)) mail += " BODY=8BITMIME";
    bool utf8_address = has_8bit(d.sender);
    for (const auto& r : d.recipients) utf8_address = utf8_address || has_8bit(r);
    if (ext.smtputf8 && utf8_address) mail += " SMTPUTF8";
    Reply mail_reply = no_3xx(s.command(mail, "MAIL", d.command_timeout), "MAIL");
    if (!mail_reply.positive()) {
        fail_rest(mail_reply);
        return finish(mail_reply.code != 0);
    }

    std::vector<std::size_t> accepted;
    for (std::size_t i = 0; i < d.recipients.size(); ++i) {
        if (done[i]) continue;
        Reply r = no_3xx(s.command(fmt::format("RCPT TO:<{}>", d.recipients[i]), "RCPT", d.command_timeout), "RCPT");
        if (r.code == 0 || r.code == 421) {  // the connection is gone or going: the rest share it
            fail_rest(r);
            return finish(false);
        }
        if (r.positive()) {
            accepted.push_back(i);
        } else {
            result.recipients[i].reply = r;
            done[i] = true;
        }
    }
    if (accepted.empty()) return finish(true);

    Reply data = s.command("DATA", "DATA", d.command_timeout);
    if (data.code != 354) {
        // A 2xx here is a broken server: without 354 the data was not asked for.
        if (data.positive()) data = no_reply(fmt::format("protocol error: DATA answered {} {} instead of 354", data.code, data.text));
        fail_rest(data);
        return finish(data.code != 0);
    }
    if (auto why = s.send_data(d.message, d.command_timeout)) {
        fail_rest(no_reply(fmt::format("{} (sending the message)", *why)));
        return finish(false);
    }
    Reply final_reply = no_3xx(s.read_reply("the end of the data", d.command_timeout), "the end of the data");
    fail_rest(final_reply);
    return finish(final_reply.code != 0);
}

}  // namespace pmx::smtp
