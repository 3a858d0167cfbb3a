// Unit tests: av (the scan protocol's codec, the client against a scripted server, settings).
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "av/client.hpp"
#include "av/protocol.hpp"
#include "av/settings.hpp"
#include "config/loader.hpp"

using namespace pmx;
using av::Verdict;
using av::VerdictKind;

TEST_CASE("av protocol: verdicts round-trip through one line") {
    for (const Verdict& v : {Verdict::clean(), Verdict::infected({"Test.EICAR.NDB-1.UNOFFICIAL", "Win.Trojan.X-1"}),
                             Verdict::unscannable("Heuristics.Encrypted.Zip"), Verdict::error("no signatures loaded: none")}) {
        std::string line = av::format_verdict(v);
        CHECK(line.back() == '\n');
        CHECK(std::count(line.begin(), line.end(), '\n') == 1);
        auto back = av::parse_verdict(line);
        REQUIRE(back.ok());
        CHECK(*back == v);
    }
    CHECK(av::format_verdict(Verdict::clean()) == "CLEAN\n");
    CHECK(av::format_verdict(Verdict::infected({"A", "B"})) == "INFECTED A B\n");
}

TEST_CASE("av protocol: names and reasons never break the line") {
    auto line = av::format_verdict(Verdict::infected({"Evil name\nINFECTED x", ""}));
    CHECK(line == "INFECTED Evil_name_INFECTED_x\n");
    line = av::format_verdict(Verdict::error("two\nlines\r"));
    CHECK(line == "ERROR two lines \n");
    CHECK(av::format_verdict(Verdict::infected({})) == "INFECTED Unnamed\n");
    std::vector<std::string> many(2000, "Some.Long.Signature.Name-1");
    line = av::format_verdict(Verdict::infected(many));
    CHECK(line.size() <= av::kMaxLineBytes);
    CHECK(line.back() == '\n');
    CHECK(av::parse_verdict(line).ok());
}

TEST_CASE("av protocol: bad verdict lines are errors") {
    CHECK_FALSE(av::parse_verdict("").ok());
    CHECK_FALSE(av::parse_verdict("INFECTED\n").ok());
    CHECK_FALSE(av::parse_verdict("CLEANish\n").ok());
    CHECK_FALSE(av::parse_verdict("OK\n").ok());
    CHECK(av::parse_verdict("UNSCANNABLE\n")->kind == VerdictKind::Unscannable);
    CHECK(av::parse_verdict("CLEAN\r\n")->kind == VerdictKind::Clean);
}

TEST_CASE("av protocol: requests") {
    using av::Request;
    using av::RequestKind;
    for (const Request& r : {Request{RequestKind::ScanFd, 0}, Request{RequestKind::ScanBytes, 12345},
                             Request{RequestKind::Status, 0}, Request{RequestKind::Ping, 0}}) {
        auto back = av::parse_request(av::format_request(r));
        REQUIRE(back.ok());
        CHECK(*back == r);
    }
    CHECK(av::format_request({RequestKind::ScanBytes, 7}) == "SCAN BYTES 7\n");
    CHECK_FALSE(av::parse_request("SCAN BYTES\n").ok());
    CHECK_FALSE(av::parse_request("SCAN BYTES -1\n").ok());
    CHECK_FALSE(av::parse_request("SCAN BYTES 12x\n").ok());
    CHECK_FALSE(av::parse_request("SCAN BYTES 99999999999999999999999\n").ok());
    auto big = av::parse_request(fmt::format("SCAN BYTES {}\n", av::kMaxInlineBytes + 1));
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().message.find("over the limit") != std::string::npos);
    CHECK_FALSE(av::parse_request("SCAN /etc/passwd\n").ok());
    CHECK_FALSE(av::parse_request("").ok());
}

TEST_CASE("av protocol: status block") {
    av::StatusFields f{{"state", "ready"}, {"signatures", "5"}, {"last_error", "Failed: x\ny"}};
    std::string text = av::format_status(f);
    CHECK(text.starts_with("STATUS\n"));
    CHECK(text.ends_with("\n\n"));
    auto back = av::parse_status_lines(std::string_view(text).substr(7));
    REQUIRE(back.ok());
    REQUIRE(back->size() == 3);
    CHECK((*back)[1] == std::pair<std::string, std::string>{"signatures", "5"});
    CHECK((*back)[2].second == "Failed: x y");
    CHECK_FALSE(av::parse_status_lines("no colon here\n").ok());
}

namespace {

// A one-connection scripted server on a temporary unix socket.
class FakeDaemon {
public:
    using Script = std::function<void(int conn)>;
    explicit FakeDaemon(Script script) {
        path_ = std::filesystem::temp_directory_path() / fmt::format("pmx-av-unit-{}-{}.sock", getpid(), counter_++);
        std::filesystem::remove(path_);
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd_, 4) == 0);
        thread_ = std::thread([this, script] {
            int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            script(c);
            ::close(c);
        });
    }
    ~FakeDaemon() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
        std::filesystem::remove(path_);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
    int fd_ = -1;
    std::thread thread_;
};

std::string read_some(int conn, std::size_t want, int* fd_out = nullptr) {
    std::string in;
    while (in.size() < want) {
        char buf[65536];
        msghdr msg{};
        iovec iov{buf, sizeof buf};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        if (n <= 0) break;
        if (cmsghdr* c = CMSG_FIRSTHDR(&msg); c && c->cmsg_type == SCM_RIGHTS && fd_out)
            std::memcpy(fd_out, CMSG_DATA(c), sizeof(int));
        in.append(buf, static_cast<std::size_t>(n));
    }
    return in;
}

void answer(int conn, std::string_view s) { REQUIRE(::send(conn, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size())); }

}  // namespace

TEST_CASE("av client: small buffers go inline, the verdict comes back") {
    std::string got;
    {
        FakeDaemon d([&](int c) {
            got = read_some(c, std::string("SCAN BYTES 5\nhello").size());
            answer(c, "INFECTED Test.One Test.Two\n");
        });
        auto v = av::scan_bytes(d.path(), "hello", av::Timeout{5000});
        REQUIRE(v.ok());
        CHECK(v->kind == VerdictKind::Infected);
        CHECK(v->names == std::vector<std::string>{"Test.One", "Test.Two"});
    }
    CHECK(got == "SCAN BYTES 5\nhello");
}

TEST_CASE("av client: large buffers go through a memfd passed with SCM_RIGHTS") {
    std::string big(av::kInlinePreferredBytes + 1000, 'x');
    big[12345] = 'y';
    std::string line, content;
    {
        FakeDaemon d([&](int c) {
            int fd = -1;
            line = read_some(c, 8, &fd);
            REQUIRE(fd >= 0);
            content.resize(big.size() + 10);
            ssize_t n = ::pread(fd, content.data(), content.size(), 0);
            content.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
            ::close(fd);
            answer(c, "CLEAN\n");
        });
        auto v = av::scan_bytes(d.path(), big, av::Timeout{5000});
        REQUIRE(v.ok());
        CHECK(v->kind == VerdictKind::Clean);
    }
    CHECK(line == "SCAN FD\n");
    CHECK(content == big);
}

TEST_CASE("av client: a silent daemon ends at the deadline, a missing one at once") {
    {
        FakeDaemon d([&](int c) { read_some(c, 1u << 30); });  // reads until the client gives up
        auto v = av::scan_bytes(d.path(), "x", av::Timeout{200});
        REQUIRE_FALSE(v.ok());
        CHECK(v.error().message.find("did not answer within 200 ms") != std::string::npos);
    }
    auto v = av::scan_bytes("/nonexistent/pmx-av.sock", "x", av::Timeout{200});
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message.find("Failed to connect to pmx-avd at /nonexistent/pmx-av.sock") != std::string::npos);
}

TEST_CASE("av client: a daemon that hangs up or talks nonsense is an error") {
    {
        FakeDaemon d([&](int c) { read_some(c, 6); });
        auto v = av::scan_bytes(d.path(), "x", av::Timeout{2000});
        REQUIRE_FALSE(v.ok());
        CHECK(v.error().message.find("without an answer") != std::string::npos);
    }
    {
        FakeDaemon d([&](int c) {
            read_some(c, 6);
            answer(c, "HELLO\n");
        });
        auto v = av::scan_bytes(d.path(), "x", av::Timeout{2000});
        REQUIRE_FALSE(v.ok());
        CHECK(v.error().message.find("unexpected answer") != std::string::npos);
    }
}

TEST_CASE("av client: status fields") {
    FakeDaemon d([&](int c) {
        read_some(c, 7);
        answer(c, av::format_status({{"state", "ready"}, {"signatures", "3"}}));
    });
    auto s = av::query_status(d.path(), av::Timeout{2000});
    REQUIRE(s.ok());
    REQUIRE(s->size() == 2);
    CHECK((*s)[0].second == "ready");
}

TEST_CASE("av settings: the milter's defaults keep mail flowing without pmx-avd, and fail safe when on") {
    auto snap = config::load_files({});
    REQUIRE(snap.ok());
    auto m = av::milter_settings(*snap);
    CHECK_FALSE(m.enabled);
    CHECK(m.on_failure == av::OnFailure::Tempfail);
    CHECK(m.timeout == av::Timeout{60000});
    CHECK(m.socket.filename() == "av.sock");
    CHECK(m.socket.is_absolute());
}
