// lib/secret (HMAC, base64url, keyring, signed tokens) and the re-injection stamp built on them.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <string>
#include <vector>

#include "queue/reinjection_stamp.hpp"
#include "secret/crypto.hpp"
#include "secret/keyring.hpp"
#include "secret/token.hpp"
#include "store/database.hpp"
#include "temp_dir.hpp"

using namespace pmx;

TEST_CASE("secret: HMAC-SHA256 matches RFC 4231 test case 2") {
    auto mac = secret::hmac_sha256("Jefe", "what do ya want for nothing?");
    CHECK(secret::hex(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("secret: base64url round trips and refuses what is not base64url") {
    for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)})
        CHECK(secret::base64url_decode(secret::base64url(s)) == s);
    CHECK(secret::base64url("foobar") == "Zm9vYmFy");
    CHECK(secret::base64url("\xfb\xff") == "-_8");
    CHECK_FALSE(secret::base64url_decode("Zm9v=").has_value());
    CHECK_FALSE(secret::base64url_decode("Z").has_value());
    CHECK_FALSE(secret::base64url_decode("Zm+v").has_value());
    CHECK_FALSE(secret::base64url_decode("Zh").has_value());  // non-zero leftover bits
}

TEST_CASE("secret: keyring is created once, 0640, and rotation keeps the previous key") {
    test::TempDir dir;
    auto file = dir.path / "keyring";
    auto first = secret::load_or_create_keyring(file);
    REQUIRE(first);
    REQUIRE(first->keys().size() == 1);
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    auto again = secret::load_or_create_keyring(file);
    REQUIRE(again);
    CHECK(again->signing_key().bytes == first->signing_key().bytes);

    auto token = secret::sign_token(*first, "digest-release", "42:bob@example.test", store::now_us() + 60'000'000);
    auto rotated = secret::rotate_keyring(file, 7LL * 24 * 3600 * 1000000);
    REQUIRE(rotated);
    CHECK(rotated->keys().size() == 2);
    CHECK(rotated->signing_key().id != first->signing_key().id);
    auto still = secret::verify_token(*rotated, "digest-release", token, store::now_us());
    REQUIRE(still);
    CHECK(still->payload == "42:bob@example.test");

    // With no time to keep, a second rotation drops the first key: its tokens stop working.
    REQUIRE(secret::rotate_keyring(file, 7LL * 24 * 3600 * 1000000));
    auto dropped = secret::rotate_keyring(file, 0);
    REQUIRE(dropped);
    CHECK(dropped->find(first->signing_key().id) == nullptr);
    CHECK_FALSE(secret::verify_token(*dropped, "digest-release", token, store::now_us()));
}

TEST_CASE("secret: a damaged keyring file is refused with file and line") {
    test::TempDir dir;
    auto file = dir.write("keyring", "# comment\nabcd0123 1 tooshort\n");
    auto k = secret::load_keyring(file);
    REQUIRE_FALSE(k);
    CHECK(k.error().message.find(":2:") != std::string::npos);
    CHECK_FALSE(secret::load_keyring(dir.path / "missing"));
}

TEST_CASE("secret: tokens refuse tampering, another purpose and expiry") {
    test::TempDir dir;
    auto ring = secret::load_or_create_keyring(dir.path / "keyring");
    REQUIRE(ring);
    auto now = store::now_us();
    auto token = secret::sign_token(*ring, "digest-release", "7:carol@example.test", now + 3600'000'000LL);
    secret::TokenProblem problem{};
    CHECK(secret::verify_token(*ring, "digest-release", token, now, &problem));
    CHECK(problem == secret::TokenProblem::None);

    CHECK_FALSE(secret::verify_token(*ring, "login", token, now, &problem));
    CHECK(problem == secret::TokenProblem::NotOurs);
    CHECK_FALSE(secret::verify_token(*ring, "digest-release", token, now + 7200'000'000LL, &problem));
    CHECK(problem == secret::TokenProblem::Expired);

    // Another payload under the same MAC.
    auto dot1 = token.find('.'), dot2 = token.find('.', dot1 + 1), dot3 = token.find('.', dot2 + 1);
    auto forged = token.substr(0, dot2 + 1) + secret::base64url("8:carol@example.test") + token.substr(dot3);
    CHECK_FALSE(secret::verify_token(*ring, "digest-release", forged, now, &problem));
    CHECK(problem == secret::TokenProblem::NotOurs);
    // A later expiry under the same MAC.
    auto later = token.substr(0, dot1 + 1) + std::to_string(now / 1000000 + 999999) + token.substr(dot2);
    CHECK_FALSE(secret::verify_token(*ring, "digest-release", later, now, &problem));
    CHECK(problem == secret::TokenProblem::NotOurs);

    for (const std::string& bad : std::vector<std::string>{"", "a.b.c", "a.b.c.d.e", "x.notanumber.YQ.YQ", std::string(5000, 'a')}) {
        CHECK_FALSE(secret::verify_token(*ring, "digest-release", bad, now, &problem));
        CHECK(problem == secret::TokenProblem::Malformed);
    }
}

TEST_CASE("queue: the re-injection stamp is bound to recipients and Message-ID") {
    test::TempDir dir;
    auto ring = secret::load_or_create_keyring(dir.path / "keyring");
    REQUIRE(ring);
    auto now = store::now_us();
    std::vector<std::string> rcpts{"Bob@Example.test", "carol@example.test"};
    auto stamp = queue::make_reinjection_stamp(*ring, rcpts, "<m1@example.test>", now, 3600'000'000LL);
    using queue::StampCheck;
    std::vector<std::string> reordered{"carol@example.test", "bob@example.test"};
    CHECK(queue::check_reinjection_stamp(*ring, " " + stamp, reordered, "<m1@example.test>", now) == StampCheck::Valid);
    std::vector<std::string> other{"mallory@example.test"};
    CHECK(queue::check_reinjection_stamp(*ring, stamp, other, "<m1@example.test>", now) == StampCheck::Forged);
    CHECK(queue::check_reinjection_stamp(*ring, stamp, rcpts, "<m2@example.test>", now) == StampCheck::Forged);
    CHECK(queue::check_reinjection_stamp(*ring, stamp, rcpts, "<m1@example.test>", now + 7200'000'000LL) ==
          StampCheck::Expired);
    CHECK(queue::check_reinjection_stamp(*ring, "garbage", rcpts, "<m1@example.test>", now) == StampCheck::Malformed);

    test::TempDir elsewhere;
    auto other_site = secret::load_or_create_keyring(elsewhere.path / "keyring");
    REQUIRE(other_site);
    CHECK(queue::check_reinjection_stamp(*other_site, stamp, rcpts, "<m1@example.test>", now) == StampCheck::Forged);
}
