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

// ---------------------------------------------------------------------------------------------
// remove_infected: cutting infected parts out (lib/av/remove_parts.hpp), its policy action and
// the notify action's notice (lib/policy/notice.hpp).

#include "av/remove_parts.hpp"
#include "mail/mime.hpp"
#include "policy/engine.hpp"
#include "policy/memory_lists.hpp"
#include "policy/notice.hpp"

namespace {

std::string crlf(std::string_view lf) {
    std::string out;
    for (char ch : lf) {
        if (ch == '\n') out += '\r';
        out += ch;
    }
    return out;
}

// "virus" stands in for a signature's bytes: the cut does not scan.
const std::string kVirusB64 = "VklSVVMtQllURVMtSEVSRQ==";  // base64 of VIRUS-BYTES-HERE

std::string two_parts() {
    return crlf(
        "From: a@example.com\nTo: b@example.com\nSubject: invoice\nMIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
        "preamble\n"
        "--outer\nContent-Type: text/plain; charset=us-ascii\n\nHello Bob,\nsee the attachment.\n"
        "--outer\nContent-Type: application/octet-stream; name=\"eicar.com\"\n"
        "Content-Disposition: attachment; filename=\"eicar.com\"\nContent-Transfer-Encoding: base64\n\n" +
        kVirusB64 + "\n--outer--\nepilogue\n");
}

const std::vector<policy::NoteSegment> kNote{{policy::NoteSegment::Kind::Text, "Removed "},
                                             {policy::NoteSegment::Kind::FileName, ""},
                                             {policy::NoteSegment::Kind::Text, ": "},
                                             {policy::NoteSegment::Kind::VirusName, ""},
                                             {policy::NoteSegment::Kind::Text, "."}};

}  // namespace

TEST_CASE("av remove_infected: the infected attachment goes, a note takes its place, the rest stays byte for byte") {
    std::string raw = two_parts();
    auto parsed = mail::parse_message(raw);
    REQUIRE(parsed.parts.size() == 2);
    CHECK(av::scan_units(parsed) == std::vector<std::size_t>{0, 1});
    CHECK(av::decoded_body(raw, parsed.parts[1]) == "VIRUS-BYTES-HERE");
    auto r = av::remove_parts(raw, parsed, {{1, {"Test.EICAR.HDB-1.UNOFFICIAL"}}}, kNote);
    REQUIRE(r.ok());
    const std::string& out = r->message;
    CHECK(out.find(kVirusB64) == std::string::npos);
    CHECK(out.find("eicar.com\"") == std::string::npos);  // the part's own headers went with it
    CHECK(out.find("Removed eicar.com: Test.EICAR.HDB-1.UNOFFICIAL.") != std::string::npos);
    // Everything before the cut and after it is unchanged.
    auto cut_at = raw.find("Content-Type: application/octet-stream");
    CHECK(out.substr(0, cut_at) == raw.substr(0, cut_at));
    CHECK(out.ends_with("\r\n--outer--\r\nepilogue\r\n"));
    CHECK(out.substr(r->body_offset).starts_with("preamble\r\n"));
    CHECK(r->removed == std::vector<std::string>{"eicar.com (Test.EICAR.HDB-1.UNOFFICIAL)"});
    // What a mail client sees: the text part, then the note.
    auto again = mail::parse_message(out);
    CHECK(again.flags.empty());
    REQUIRE(again.parts.size() == 2);
    CHECK(again.parts[0].text == "Hello Bob,\nsee the attachment.");
    CHECK(again.parts[1].content_type == "text/plain");
    CHECK(again.parts[1].text == "Removed eicar.com: Test.EICAR.HDB-1.UNOFFICIAL.");
    CHECK_FALSE(again.parts[1].is_attachment);
}

TEST_CASE("av remove_infected: parts deep inside, in a forwarded message, and several at once") {
    std::string raw = crlf(
        "Subject: fwd\nContent-Type: multipart/mixed; boundary=a\n\n"
        "--a\nContent-Type: text/plain\n\nForwarding.\n"
        "--a\nContent-Type: message/rfc822\n\n"
        "Subject: inner\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
        "--b\nContent-Type: text/plain\n\nInner text.\n"
        "--b\nContent-Type: application/zip; name=docs.zip\nContent-Transfer-Encoding: base64\n\n" + kVirusB64 + "\n"
        "--b--\n"
        "--a\nContent-Type: application/octet-stream; name=second.exe\n\nVIRUS-TWO\n"
        "--a--\n");
    auto parsed = mail::parse_message(raw);
    REQUIRE(parsed.parts.size() == 5);  // text, rfc822, inner text, zip, exe
    CHECK(av::scan_units(parsed) == std::vector<std::size_t>{0, 2, 3, 4});  // not the forwarded container
    auto r = av::remove_parts(raw, parsed, {{3, {"Zip.Virus"}}, {4, {"Exe.Virus"}}}, kNote);
    REQUIRE(r.ok());
    CHECK(r->message.find(kVirusB64) == std::string::npos);
    CHECK(r->message.find("VIRUS-TWO") == std::string::npos);
    auto again = mail::parse_message(r->message);
    CHECK(again.flags.empty());
    REQUIRE(again.parts.size() == 5);
    CHECK(again.parts[2].text == "Inner text.");
    CHECK(again.parts[3].text == "Removed docs.zip: Zip.Virus.");
    CHECK(again.parts[4].text == "Removed second.exe: Exe.Virus.");
}

TEST_CASE("av remove_infected: a forwarded single-part message goes whole; a single-part message cannot be cut") {
    std::string raw = crlf(
        "Subject: fwd\nContent-Type: multipart/mixed; boundary=a\n\n"
        "--a\nContent-Type: text/plain\n\nForwarding.\n"
        "--a\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: application/octet-stream\n\nVIRUS\n"
        "--a--\n");
    auto parsed = mail::parse_message(raw);
    REQUIRE(parsed.parts.size() == 3);
    auto r = av::remove_parts(raw, parsed, {{2, {"V"}}}, kNote);
    REQUIRE(r.ok());
    auto again = mail::parse_message(r->message);
    REQUIRE(again.parts.size() == 2);
    CHECK(again.parts[1].text == "Removed an unnamed application/octet-stream part: V.");
    CHECK(r->message.find("Subject: inner") == std::string::npos);

    std::string single = crlf("Subject: x\nContent-Type: application/octet-stream\n\nVIRUS\n");
    auto p1 = mail::parse_message(single);
    auto bad = av::remove_parts(single, p1, {{0, {"V"}}}, kNote);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("single-part") != std::string::npos);
    CHECK_FALSE(av::remove_parts(single, p1, {}, kNote).ok());
    CHECK_FALSE(av::remove_parts(single, p1, {{7, {"V"}}}, kNote).ok());
}

TEST_CASE("av remove_infected: a part the parser placed differently is not cut (no guessing)") {
    // No boundary parameter: the parser guesses "--guess"; the cut refuses.
    std::string raw = crlf("Subject: x\nContent-Type: multipart/mixed\n\n--guess\nContent-Type: text/plain\n\nhi\n"
                           "--guess\nContent-Type: application/octet-stream\n\nVIRUS\n--guess--\n");
    auto parsed = mail::parse_message(raw);
    REQUIRE(parsed.parts.size() == 2);
    CHECK_FALSE(av::remove_parts(raw, parsed, {{1, {"V"}}}, kNote).ok());
}

TEST_CASE("av remove_infected: LF-only messages, quoted-printable parts") {
    std::string raw = "Subject: x\nContent-Type: multipart/mixed; boundary=q\n\n--q\n\nbody\n"
                      "--q\nContent-Type: application/octet-stream; name=v.bin\nContent-Transfer-Encoding: quoted-printable\n\n"
                      "VIRUS=3DBYTES=\n-HERE\n--q--\n";
    auto parsed = mail::parse_message(raw);
    REQUIRE(parsed.parts.size() == 2);
    CHECK(av::decoded_body(raw, parsed.parts[1]) == "VIRUS=BYTES-HERE");
    auto r = av::remove_parts(raw, parsed, {{1, {"Q"}}}, kNote);
    REQUIRE(r.ok());
    CHECK(r->message == "Subject: x\nContent-Type: multipart/mixed; boundary=q\n\n--q\n\nbody\n"
                        "--q\nContent-Type: text/plain; charset=\"utf-8\"\nContent-Disposition: inline\n"
                        "Content-Transfer-Encoding: 7bit\n\nRemoved v.bin: Q.\n--q--\n");
}

TEST_CASE("av remove_infected: the note's names lose control characters; long notes are wrapped") {
    CHECK(av::note_text(kNote, "a\r\nb.exe", "X\tY") == "Removed a  b.exe: X Y.");
    std::string raw = two_parts();
    auto parsed = mail::parse_message(raw);
    std::vector<policy::NoteSegment> longer{{policy::NoteSegment::Kind::Text, std::string(50, 'w') + " " + std::string(50, 'v')}};
    auto r = av::remove_parts(raw, parsed, {{1, {"N"}}}, longer);
    REQUIRE(r.ok());
    CHECK(r->message.find(std::string(50, 'w') + "\r\n" + std::string(50, 'v')) != std::string::npos);
}

TEST_CASE("av remove_infected: policy syntax, default note, {filename} only there") {
    auto p = policy::parse_policy("[[rule]]\nname = \"clean\"\nwhen = { virus = true }\nthen = [\"remove_infected\"]\n"
                                  "[[rule]]\nname = \"own\"\nthen = [\"remove_infected:{filename} had {virus_name}, "
                                  "rule {rule}\"]\n",
                                  "policy.toml");
    REQUIRE(p.ok());
    policy::Envelope env;
    env.sender = "a@example.com";
    env.recipients = {"b@example.com", "c@example.com"};
    mail::ParsedMessage msg;
    policy::ScanFacts facts;
    facts.virus = true;
    facts.virus_names = {"V1"};
    policy::MemoryLists lists;
    policy::Site site;
    auto d = policy::evaluate(*p, env, msg, facts, lists, site);
    CHECK(d.recipients[0].remove_infected);
    CHECK(d.recipients[0].outcome == policy::Outcome::Accept);
    CHECK(d.remove_infected());
    CHECK(av::note_text(d.removal_note, "e.com", "V1") ==
          "The attachment e.com was removed from this message by the mail gateway: it contained V1.");

    facts.virus = false;
    d = policy::evaluate(*p, env, msg, facts, lists, site);
    CHECK(av::note_text(d.removal_note, "f.zip", "V2") == "f.zip had V2, rule own");

    auto bad = policy::parse_policy("[[rule]]\nname = \"x\"\nthen = [\"add_header:X-F: {filename}\"]\n", "policy.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "policy.toml:3:9: rule \"x\": add_header: \"{filename}\" is only known in remove_infected's note");
    auto typo = policy::parse_policy("[[rule]]\nname = \"x\"\nthen = [\"remove_infectd\"]\n", "policy.toml");
    REQUIRE_FALSE(typo.ok());
    CHECK(typo.error().message.find("did you mean \"remove_infected\"") != std::string::npos);
}

TEST_CASE("av notify: admin and recipients targets, template names are file names") {
    auto p = policy::parse_policy("[[rule]]\nname = \"v\"\nwhen = { virus = true }\n"
                                  "then = [\"notify:admin virus\", \"notify:recipients\", \"notify:sender virus\"]\n",
                                  "policy.toml");
    REQUIRE(p.ok());
    policy::Envelope env;
    env.sender = "a@example.com";
    env.recipients = {"b@example.com"};
    mail::ParsedMessage msg;
    policy::ScanFacts facts;
    facts.virus = true;
    policy::MemoryLists lists;
    policy::Site site;
    auto d = policy::evaluate(*p, env, msg, facts, lists, site);
    REQUIRE(d.notifications.size() == 3);
    CHECK(d.notifications[0].to_admin);
    CHECK(d.notifications[0].to.empty());
    CHECK(d.notifications[0].template_name == "virus");
    CHECK(d.notifications[0].rule == "v");
    CHECK(d.notifications[1].to == "a@example.com");
    CHECK(d.notifications[2].to == "b@example.com");
    CHECK(d.notifications[2].template_name == "policy");

    auto bad = policy::parse_policy("[[rule]]\nname = \"x\"\nthen = [\"notify:admn\"]\n", "policy.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("did you mean \"admin\"") != std::string::npos);
    bad = policy::parse_policy("[[rule]]\nname = \"x\"\nthen = [\"notify:admin ../../etc/passwd\"]\n", "policy.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("only letters, digits") != std::string::npos);
}

TEST_CASE("av notify: the notice from a template, values cleaned, subject encoded when not ASCII") {
    policy::NoticeFacts f;
    f.from = "postmaster@gw.example";
    f.to = "admin@example.com";
    f.date = "Wed, 25 Nov 2026 12:00:00 +0000";
    f.message_id = "<n1@gw.example>";
    f.sender = "a@example.com";
    f.recipients = "b@example.com, c@example.com";
    f.subject = "Invoice\r\nBcc: evil@example.com";
    f.virus_names = "Test.EICAR.HDB-1.UNOFFICIAL";
    f.queue_id = "4AB12";
    f.action = "delivered without the infected attachments";
    auto text = policy::render_notice("Subject: Virus {virus_name} from {sender}\n\nSubject was: {subject}\n"
                                      "Queue {queue_id}, {unknown}, removed {removed}\n",
                                      f);
    CHECK(text.starts_with("From: postmaster@gw.example\nTo: admin@example.com\n"
                           "Subject: Virus Test.EICAR.HDB-1.UNOFFICIAL from a@example.com\n"));
    CHECK(text.find("Auto-Submitted: auto-generated\n\nSubject was: Invoice  Bcc: evil@example.com\n") != std::string::npos);
    CHECK(text.find("Queue 4AB12, {unknown}, removed -\n") != std::string::npos);
    CHECK(text.find("\nBcc:") == std::string::npos);

    auto builtin = policy::render_notice(policy::default_notice_template, f);
    CHECK(builtin.find("Subject: [pmx] delivered without the infected attachments: message from a@example.com\n") !=
          std::string::npos);
    CHECK(builtin.find("Viruses:       Test.EICAR.HDB-1.UNOFFICIAL\n") != std::string::npos);

    f.subject = "Rechnung für Sie";
    auto enc = policy::render_notice("Subject: {subject}\n\nbody", f);
    CHECK(enc.find("Subject: =?UTF-8?B?UmVjaG51bmcgZsO8ciBTaWU=?=\n") != std::string::npos);
    CHECK(enc.ends_with("\n\nbody\n"));
    // No header block: all of it is the body.
    auto plain = policy::render_notice("Just {sender}.", f);
    CHECK(plain.ends_with("\n\nJust a@example.com.\n"));
}
