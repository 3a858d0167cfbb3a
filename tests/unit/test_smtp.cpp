// Unit tests: the SMTP client against scripted fake servers on loopback (one thread each),
// so every reply, refusal, timeout and malformed answer can be produced on purpose.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "smtp/client.hpp"
#include "temp_dir.hpp"

using namespace pmx::smtp;
using namespace std::chrono_literals;

namespace {

// One step of the fake server's script: read one line from the client that must start with
// `expect` ("" = read nothing), then send `reply` ("" = nothing). Special values:
// expect kBody reads the message up to and including CRLF.CRLF; reply kClose hangs up.
constexpr const char* kBody = "<body>";
constexpr const char* kClose = "<close>";

struct Step {
    std::string expect;
    std::string reply;
};

enum class Family { V4, V6, Unix };

class FakeServer {
public:
    explicit FakeServer(std::vector<Step> script, Family family = Family::V4) : script_(std::move(script)) {
        if (family == Family::Unix) {
            socket_path_ = dir_.path / "smtp.sock";
            listen_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un a{};
            a.sun_family = AF_UNIX;
            std::strcpy(a.sun_path, socket_path_.c_str());
            REQUIRE(::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
            relay_ = "unix:" + socket_path_.string();
        } else if (family == Family::V6) {
            listen_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in6 a{};
            a.sin6_family = AF_INET6;
            a.sin6_addr = in6addr_loopback;
            REQUIRE(::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
            socklen_t len = sizeof a;
            ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
            relay_ = "[::1]:" + std::to_string(ntohs(a.sin6_port));
        } else {
            listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            REQUIRE(::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
            socklen_t len = sizeof a;
            ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
            relay_ = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
        }
        REQUIRE(::listen(listen_, 4) == 0);
        thread_ = std::thread([this] { run(); });
    }
    ~FakeServer() {
        finish();
        ::close(listen_);
    }

    const std::string& relay() const { return relay_; }
    // Waits for the script to end; then what the client sent can be read.
    void finish() {
        if (thread_.joinable()) thread_.join();
    }
    const std::vector<std::string>& lines() { finish(); return lines_; }
    const std::string& body() { finish(); return body_; }
    const std::string& failure() { finish(); return failure_; }

private:
    // Reads until `stop` is in the buffer (or 10 s pass, or EOF); returns false on EOF/timeout.
    bool read_until(int fd, std::string_view stop) {
        while (buffer_.find(stop) == std::string::npos) {
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 10'000) <= 0) return false;
            char buf[65536];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) return false;
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }

    void run() {
        pollfd p{listen_, POLLIN, 0};
        if (::poll(&p, 1, 10'000) <= 0) {
            failure_ = "no connection";
            return;
        }
        int fd = ::accept(listen_, nullptr, nullptr);
        for (const auto& step : script_) {
            if (step.expect == kBody) {
                if (!read_until(fd, "\r\n.\r\n")) {
                    failure_ = "no end of data";
                    break;
                }
                auto end = buffer_.find("\r\n.\r\n") + 5;
                body_ = buffer_.substr(0, end);
                buffer_.erase(0, end);
            } else if (!step.expect.empty()) {
                if (!read_until(fd, "\r\n")) {
                    failure_ = "no line for " + step.expect;
                    break;
                }
                auto end = buffer_.find("\r\n");
                std::string line = buffer_.substr(0, end);
                buffer_.erase(0, end + 2);
                lines_.push_back(line);
                if (!line.starts_with(step.expect)) {
                    failure_ = "expected " + step.expect + ", got " + line;
                    break;
                }
            }
            if (step.reply == kClose) break;
            std::string_view out = step.reply;
            while (!out.empty()) {
                ssize_t n = ::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
                if (n <= 0) break;
                out.remove_prefix(static_cast<std::size_t>(n));
            }
        }
        // Whatever else the client says (QUIT) until it hangs up.
        if (failure_.empty() && script_.back().reply != kClose)
            while (read_until(fd, "\r\n")) {
                auto end = buffer_.find("\r\n");
                lines_.push_back(buffer_.substr(0, end));
                buffer_.erase(0, end + 2);
                if (lines_.back() == "QUIT") ::send(fd, "221 2.0.0 Bye\r\n", 15, MSG_NOSIGNAL);
            }
        ::close(fd);
    }

    pmx::test::TempDir dir_{"pmx-smtp"};
    std::filesystem::path socket_path_;
    std::vector<Step> script_;
    int listen_ = -1;
    std::string relay_;
    std::thread thread_;
    std::string buffer_;
    std::vector<std::string> lines_;
    std::string body_;
    std::string failure_;
};

const std::string kGreeting = "220 mx.test ESMTP\r\n";
const std::string kEhlo = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n";
const std::string kMessage = "From: a@example.org\nTo: b@example.org\nSubject: test\n\nHello.\n";

Delivery delivery(const std::string& relay, std::vector<std::string> recipients,
                  std::string_view message = kMessage) {
    Delivery d;
    d.relay = relay;
    d.helo_name = "pmx.test";
    d.sender = "a@example.org";
    d.recipients = std::move(recipients);
    d.message = message;
    d.connect_timeout = 5s;
    d.command_timeout = 5s;
    return d;
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("smtp delivers to every recipient, with a multi-line EHLO reply and SIZE") {
    FakeServer server({{"", kGreeting},
                       {"EHLO pmx.test", kEhlo},
                       {"MAIL FROM:<a@example.org>", "250 2.1.0 Ok\r\n"},
                       {"RCPT TO:<b@example.org>", "250 2.1.5 Ok\r\n"},
                       {"RCPT TO:<c@example.org>", "250 2.1.5 Ok\r\n"},
                       {"DATA", "354 End data with <CR><LF>.<CR><LF>\r\n"},
                       {kBody, "250 2.0.0 Ok: queued as ABC123\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org", "c@example.org"}));
    REQUIRE(r.recipients.size() == 2);
    for (const auto& rr : r.recipients) {
        CHECK(rr.delivered());
        CHECK(rr.reply.code == 250);
        CHECK(rr.reply.text == "2.0.0 Ok: queued as ABC123");
    }
    CHECK(r.recipients[0].recipient == "b@example.org");
    CHECK(r.recipients[1].recipient == "c@example.org");
    CHECK(server.failure() == "");
    const auto& lines = server.lines();
    REQUIRE(lines.size() >= 6);
    // SIZE offered: the size is announced (LF line ends counted as CRLF); 7-bit: no BODY=.
    CHECK(lines[1] == "MAIL FROM:<a@example.org> SIZE=" + std::to_string(kMessage.size() + 5));
    CHECK(lines.back() == "QUIT");
    CHECK(contains(r.transcript_tail, "> EHLO pmx.test"));
    CHECK(contains(r.transcript_tail, "< 250 2.0.0 Ok: queued as ABC123"));
    CHECK_FALSE(contains(r.transcript_tail, "Hello."));  // the message itself stays out of the log
}

TEST_CASE("smtp EHLO reply lines are joined and 8-bit messages say BODY=8BITMIME") {
    std::string message = "Subject: caf\xc3\xa9\n\nna\xc3\xafve\n";
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:<a@example.org> SIZE=", "250 2.1.0 Ok\r\n"},
                       {"RCPT TO:<b@example.org>", "250 2.1.5 Ok\r\n"},
                       {"DATA", "354 go\r\n"},
                       {kBody, "250 2.0.0 Ok\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org"}, message));
    REQUIRE(r.recipients.size() == 1);
    CHECK(r.recipients[0].delivered());
    CHECK(server.failure() == "");
    CHECK(server.lines()[1].ends_with(" BODY=8BITMIME"));
}

TEST_CASE("smtp RCPT partly refused: per-recipient results, the rest delivered") {
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:", "250 2.1.0 Ok\r\n"},
                       {"RCPT TO:<b@example.org>", "250 2.1.5 Ok\r\n"},
                       {"RCPT TO:<nobody@example.org>", "550 5.1.1 <nobody@example.org>: User unknown\r\n"},
                       {"RCPT TO:<busy@example.org>", "452 4.2.2 Mailbox full\r\n"},
                       {"RCPT TO:<d@example.org>", "250 2.1.5 Ok\r\n"},
                       {"DATA", "354 go\r\n"},
                       {kBody, "250 2.0.0 Ok: queued\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org", "nobody@example.org", "busy@example.org", "d@example.org"}));
    REQUIRE(r.recipients.size() == 4);
    CHECK(r.recipients[0].delivered());
    CHECK_FALSE(r.recipients[1].delivered());
    CHECK(r.recipients[1].reply.code == 550);
    CHECK(r.recipients[1].reply.permanent());
    CHECK(r.recipients[1].reply.text == "5.1.1 <nobody@example.org>: User unknown");
    CHECK(r.recipients[2].reply.code == 452);
    CHECK_FALSE(r.recipients[2].reply.permanent());
    CHECK(r.recipients[3].delivered());
    CHECK(server.failure() == "");
}

TEST_CASE("smtp every recipient refused: no DATA, QUIT") {
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:", "250 2.1.0 Ok\r\n"},
                       {"RCPT TO:<x@example.org>", "550 5.1.1 unknown\r\n"}});
    auto r = deliver(delivery(server.relay(), {"x@example.org"}));
    CHECK(r.recipients[0].reply.code == 550);
    CHECK(server.lines().back() == "QUIT");
}

TEST_CASE("smtp 4xx at DATA applies to the accepted recipients, refusals keep their own reply") {
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:", "250 2.1.0 Ok\r\n"},
                       {"RCPT TO:<b@example.org>", "250 2.1.5 Ok\r\n"},
                       {"RCPT TO:<x@example.org>", "550 5.1.1 unknown\r\n"},
                       {"DATA", "451 4.3.0 Try again later\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org", "x@example.org"}));
    CHECK(r.recipients[0].reply.code == 451);
    CHECK(r.recipients[0].reply.text == "4.3.0 Try again later");
    CHECK(r.recipients[1].reply.code == 550);
    CHECK(server.failure() == "");
}

TEST_CASE("smtp 4xx after the data (the final reply) applies to the accepted recipients") {
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:", "250 2.1.0 Ok\r\n"},
                       {"RCPT TO:", "250 2.1.5 Ok\r\n"},
                       {"DATA", "354 go\r\n"},
                       {kBody, "451 4.7.1 Service unavailable - try again later\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org"}));
    CHECK(r.recipients[0].reply.code == 451);
    CHECK_FALSE(r.recipients[0].delivered());
}

TEST_CASE("smtp 5xx at MAIL applies to every recipient") {
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:", "552 5.3.4 Message size exceeds fixed limit\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org", "c@example.org"}));
    for (const auto& rr : r.recipients) {
        CHECK(rr.reply.code == 552);
        CHECK(rr.reply.permanent());
    }
    CHECK(server.lines().back() == "QUIT");
}

TEST_CASE("smtp HELO fallback when EHLO is not known, and no SIZE then") {
    FakeServer server({{"", "220 old.test SMTP\r\n"},
                       {"EHLO pmx.test", "502 5.5.2 Error: command not recognized\r\n"},
                       {"HELO pmx.test", "250 old.test\r\n"},
                       {"MAIL FROM:<a@example.org>", "250 Ok\r\n"},
                       {"RCPT TO:<b@example.org>", "250 Ok\r\n"},
                       {"DATA", "354 go\r\n"},
                       {kBody, "250 Ok\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org"}));
    CHECK(r.recipients[0].delivered());
    CHECK(server.failure() == "");
    CHECK(server.lines()[2] == "MAIL FROM:<a@example.org>");
}

TEST_CASE("smtp data: dot-stuffing, CRLF for LF and lone CR, a final line end added") {
    std::string message = "Subject: dots\n\n.hello\n..two\r\nmid.dot\n.\nlone\rcr\n\nlast";
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:", "250 Ok\r\n"},
                       {"RCPT TO:", "250 Ok\r\n"},
                       {"DATA", "354 go\r\n"},
                       {kBody, "250 Ok\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org"}, message));
    CHECK(r.recipients[0].delivered());
    CHECK(server.body() ==
          "Subject: dots\r\n\r\n..hello\r\n...two\r\nmid.dot\r\n..\r\nlone\r\ncr\r\n\r\nlast\r\n.\r\n");
}

TEST_CASE("smtp data: CRLF input is sent unchanged, a large message arrives whole") {
    std::string message = "Subject: big\r\n\r\n";
    for (int i = 0; i < 20000; ++i) message += "line " + std::to_string(i) + " of a large message body\r\n";
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:", "250 Ok\r\n"},
                       {"RCPT TO:", "250 Ok\r\n"},
                       {"DATA", "354 go\r\n"},
                       {kBody, "250 Ok\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org"}, message));
    CHECK(r.recipients[0].delivered());
    CHECK(server.body() == message + ".\r\n");
    CHECK(server.lines()[1] == "MAIL FROM:<a@example.org> SIZE=" + std::to_string(message.size()));
}

namespace {
// Every recipient got the same temporary "timed out" reply, naming the step that waited.
// (No wall-clock assertion: speed is bench/'s business; a client without its deadline hangs here.)
void check_all_timed_out(const pmx::smtp::Result& r, std::string_view step) {
    REQUIRE(r.recipients.size() == 2);
    for (const auto& rr : r.recipients) {
        CHECK(rr.reply.code == 0);
        CHECK_MESSAGE(contains(rr.reply.text, "timed out after 300 ms"), rr.reply.text);
        CHECK(contains(rr.reply.text, step));
    }
}
}  // namespace

TEST_CASE("smtp timeout: a server that never answers MAIL is code 0 with the reason") {
    FakeServer server({{"", kGreeting}, {"EHLO", kEhlo}, {"MAIL FROM:", ""}, {"RCPT", kClose}});
    auto d = delivery(server.relay(), {"b@example.org", "c@example.org"});
    d.command_timeout = 300ms;
    check_all_timed_out(deliver(d), "MAIL");
}

TEST_CASE("smtp timeout: the greeting must come within the connect timeout") {
    FakeServer server({{"", ""}, {"EHLO", kClose}});  // accepts, never greets
    auto d = delivery(server.relay(), {"b@example.org", "c@example.org"});
    d.connect_timeout = 300ms;
    check_all_timed_out(deliver(d), "greeting");
}

TEST_CASE("smtp connection refused is code 0 with the reason") {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);  // bound, never listened: nothing is there now
    auto r = deliver(delivery("127.0.0.1:" + std::to_string(ntohs(a.sin_port)), {"b@example.org"}));
    REQUIRE(r.recipients.size() == 1);
    CHECK(r.recipients[0].reply.code == 0);
    CHECK_MESSAGE(contains(r.recipients[0].reply.text, "Failed to connect to 127.0.0.1:"), r.recipients[0].reply.text);
    CHECK(contains(r.recipients[0].reply.text, "refused"));
    CHECK(contains(r.transcript_tail, "connect to 127.0.0.1:"));
}

TEST_CASE("smtp dropped connection after RCPT: every recipient not yet done gets code 0") {
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:", "250 Ok\r\n"},
                       {"RCPT TO:<x@example.org>", "550 5.1.1 unknown\r\n"},
                       {"RCPT TO:<b@example.org>", "250 Ok\r\n"},
                       {"RCPT TO:<c@example.org>", kClose}});
    auto r = deliver(delivery(server.relay(), {"x@example.org", "b@example.org", "c@example.org", "d@example.org"}));
    CHECK(r.recipients[0].reply.code == 550);
    for (std::size_t i = 1; i < 4; ++i) {
        CHECK(r.recipients[i].reply.code == 0);
        CHECK_MESSAGE(contains(r.recipients[i].reply.text, "closed the connection"), r.recipients[i].reply.text);
    }
}

TEST_CASE("smtp a refused session (5xx greeting) is temporary, with the relay's words") {
    FakeServer server(std::vector<Step>{{"", "554 5.7.1 No SMTP service here\r\n"}});
    auto r = deliver(delivery(server.relay(), {"b@example.org"}));
    CHECK(r.recipients[0].reply.code == 0);
    CHECK(contains(r.recipients[0].reply.text, "554 5.7.1 No SMTP service here"));
}

TEST_CASE("smtp malformed and oversized replies are errors, not crashes") {
    SUBCASE("a line without a code") {
        FakeServer server(std::vector<Step>{{"", "hello there\r\n"}});
        auto r = deliver(delivery(server.relay(), {"b@example.org"}));
        CHECK(r.recipients[0].reply.code == 0);
        CHECK(contains(r.recipients[0].reply.text, "protocol error: malformed reply"));
    }
    SUBCASE("a reply line too long") {
        FakeServer server(std::vector<Step>{{"", "220 " + std::string(100'000, 'x') + "\r\n"}});
        auto r = deliver(delivery(server.relay(), {"b@example.org"}));
        CHECK(r.recipients[0].reply.code == 0);
        CHECK(contains(r.recipients[0].reply.text, "longer than"));
        CHECK(r.transcript_tail.size() < 10'000);
    }
    SUBCASE("a line too long without any line end") {
        FakeServer server(std::vector<Step>{{"", std::string(10'000, '2')}});
        auto r = deliver(delivery(server.relay(), {"b@example.org"}));
        CHECK(r.recipients[0].reply.code == 0);
        CHECK(contains(r.recipients[0].reply.text, "longer than"));
    }
    SUBCASE("too many lines") {
        std::string many;
        for (int i = 0; i < 1000; ++i) many += "250-X" + std::to_string(i) + "\r\n";
        FakeServer server(std::vector<Step>{{"", kGreeting}, {"EHLO", many + "250 end\r\n"}});
        auto r = deliver(delivery(server.relay(), {"b@example.org"}));
        CHECK(r.recipients[0].reply.code == 0);
        CHECK(contains(r.recipients[0].reply.text, "more than"));
    }
    SUBCASE("a multi-line reply that changes its code") {
        FakeServer server(std::vector<Step>{{"", kGreeting}, {"EHLO", "250-mx.test\r\n550 oops\r\n"}});
        auto r = deliver(delivery(server.relay(), {"b@example.org"}));
        CHECK(r.recipients[0].reply.code == 0);
        CHECK(contains(r.recipients[0].reply.text, "changes its code"));
    }
    SUBCASE("a 3xx to the end of the data is not a delivery") {
        FakeServer server({{"", kGreeting},
                           {"EHLO", kEhlo},
                           {"MAIL FROM:", "250 Ok\r\n"},
                           {"RCPT TO:", "250 Ok\r\n"},
                           {"DATA", "354 go\r\n"},
                           {kBody, "354 again?\r\n"}});
        auto r = deliver(delivery(server.relay(), {"b@example.org"}));
        CHECK_FALSE(r.recipients[0].delivered());
        CHECK(r.recipients[0].reply.code == 0);
        CHECK(contains(r.recipients[0].reply.text, "protocol error: the end of the data answered 354"));
    }
    SUBCASE("a 1xx code") {
        FakeServer server(std::vector<Step>{{"", "150 what\r\n"}});
        auto r = deliver(delivery(server.relay(), {"b@example.org"}));
        CHECK(r.recipients[0].reply.code == 0);
        CHECK(contains(r.recipients[0].reply.text, "malformed reply"));
    }
    SUBCASE("a NUL in the text, a 250 to DATA") {
        static const char ehlo[] = "250-mx\0test\r\n250 SIZE\r\n";
        FakeServer server({{"", kGreeting},
                           {"EHLO", std::string(ehlo, sizeof ehlo - 1)},
                           {"MAIL FROM:<a@example.org> SIZE=", "250 Ok\r\n"},
                           {"RCPT TO:", "250 Ok\r\n"},
                           {"DATA", "250 Ok\r\n"}});
        auto r = deliver(delivery(server.relay(), {"b@example.org"}));
        CHECK(r.recipients[0].reply.code == 0);
        CHECK(contains(r.recipients[0].reply.text, "instead of 354"));
    }
}

TEST_CASE("smtp random replies never crash the client") {
    // A fixed seed: the same garbage each run. Each reply is random bytes, sometimes with a
    // valid code in front, sometimes cut without a line end.
    std::mt19937 rng(20261125);
    for (int round = 0; round < 40; ++round) {
        std::string junk;
        if (round % 2) junk += std::to_string(200 + static_cast<int>(rng() % 400)) + (rng() % 2 ? "-" : " ");
        std::size_t n = rng() % 3000;
        for (std::size_t i = 0; i < n; ++i) junk += static_cast<char>(rng() % 256);
        if (round % 3) junk += "\r\n";
        std::vector<Step> script{{"", round % 4 == 0 ? junk : kGreeting}, {"EHLO", junk}, {"MAIL", junk}, {"RCPT", junk},
                                 {"DATA", junk}, {kBody, junk}};
        FakeServer server(script);
        auto d = delivery(server.relay(), {"b@example.org"});
        d.connect_timeout = 500ms;
        d.command_timeout = 500ms;
        auto r = deliver(d);
        REQUIRE(r.recipients.size() == 1);
        CHECK(r.transcript_tail.size() < 24 * 220);
        if (r.recipients[0].reply.code != 0) {
            CHECK(r.recipients[0].reply.code >= 200);
            CHECK(r.recipients[0].reply.code < 600);
        }
    }
}

TEST_CASE("smtp what never goes on a command line: bad addresses, bad relays, bad HELO names") {
    auto d = delivery("127.0.0.1:1", {"ok@example.org"});
    d.recipients = {"evil@example.org>\r\nRCPT TO:<other@example.org", "", "a b@example.org"};
    d.sender = "a@example.org";
    d.relay = "unix:/nonexistent/pmx-smtp.sock";
    auto r = deliver(d);
    for (const auto& rr : r.recipients) {
        CHECK(rr.reply.code == 553);
        CHECK(contains(rr.reply.text, "invalid recipient"));
    }
    d.recipients = {"b@example.org"};
    d.sender = "x\n@example.org";
    CHECK(deliver(d).recipients[0].reply.code == 553);
    d.sender = "";
    d.helo_name = "bad name";
    CHECK(deliver(d).recipients[0].reply.code == 0);
    d.helo_name = "pmx.test";
    for (const char* relay : {"", "host:", "host:0", "host:70000", "host:2x", "::1:25", "[::1", "[]:25",
                              "unix:", "[::1]x25"}) {
        d.relay = relay;
        auto rr = deliver(d).recipients[0].reply;
        CHECK_MESSAGE(rr.code == 0, relay);
        CHECK_MESSAGE(contains(rr.text, "invalid relay"), relay);
    }
    CHECK(deliver(Delivery{}).recipients.empty());
}

TEST_CASE("smtp null sender and a unix socket relay") {
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:<> SIZE=", "250 Ok\r\n"},
                       {"RCPT TO:<b@example.org>", "250 Ok\r\n"},
                       {"DATA", "354 go\r\n"},
                       {kBody, "250 Ok\r\n"}},
                      Family::Unix);
    CHECK(server.relay().starts_with("unix:/"));
    auto d = delivery(server.relay(), {"b@example.org"});
    d.sender = "";
    auto r = deliver(d);
    CHECK_MESSAGE(r.recipients[0].delivered(), r.recipients[0].reply.text);
    CHECK(server.failure() == "");
}

TEST_CASE("smtp IPv6 literal relay") {
    int probe = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool v6 = probe >= 0 && ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (probe >= 0) ::close(probe);
    if (!v6) {
        MESSAGE("::1 is not available here; skipping the IPv6 case");
        return;
    }
    FakeServer server({{"", kGreeting},
                       {"EHLO", kEhlo},
                       {"MAIL FROM:", "250 Ok\r\n"},
                       {"RCPT TO:", "250 Ok\r\n"},
                       {"DATA", "354 go\r\n"},
                       {kBody, "250 Ok\r\n"}},
                      Family::V6);
    CHECK(server.relay().starts_with("[::1]:"));
    auto r = deliver(delivery(server.relay(), {"b@example.org"}));
    CHECK_MESSAGE(r.recipients[0].delivered(), r.recipients[0].reply.text);
}
