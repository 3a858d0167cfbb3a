#include <doctest/doctest.h>

#include "ipblock/policy_protocol.hpp"

using namespace pmx::ipblock;

TEST_CASE("policy requests arrive in pieces and pipelined") {
    PolicyParser p;
    PolicyRequest r;
    p.feed("request=smtpd_access_policy\nprotocol_state=RCPT\nclient_addr");
    CHECK(p.next(r) == PolicyParser::Status::NeedMore);
    p.feed("ess=127.0.0.5\r\n\nrequest=smtpd_access_policy\nclient_address=::1\n\n");
    REQUIRE(p.next(r) == PolicyParser::Status::Request);
    CHECK(r.at("client_address") == "127.0.0.5");
    CHECK(r.at("protocol_state") == "RCPT");
    REQUIRE(p.next(r) == PolicyParser::Status::Request);
    CHECK(r.at("client_address") == "::1");
    CHECK(p.next(r) == PolicyParser::Status::NeedMore);
}

TEST_CASE("policy parser caps what the peer controls") {
    PolicyLimits limits{.max_line = 32, .max_attributes = 3, .max_request_bytes = 100};
    {
        PolicyParser p(limits);
        PolicyRequest r;
        p.feed(std::string(40, 'a'));
        CHECK(p.next(r) == PolicyParser::Status::Error);
        CHECK(p.error() == "attribute line too long");
    }
    {
        PolicyParser p(limits);
        PolicyRequest r;
        p.feed("a=1\nb=2\nc=3\nd=4\n\n");
        CHECK(p.next(r) == PolicyParser::Status::Error);
        CHECK(p.error() == "too many attributes");
    }
    {
        PolicyParser p(limits);
        PolicyRequest r;
        p.feed("no equals sign\n\n");
        CHECK(p.next(r) == PolicyParser::Status::Error);
    }
    CHECK(format_policy_reply("DUNNO") == "action=DUNNO\n\n");
}
