// The parts of pmx-httpd outside lib/web: listen addresses and the TLS pair (made once, checked,
// never overwritten). Built and run with the unit tests (suite unit).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "listen_socket.hpp"
#include "tls_files.hpp"

using namespace pmx::httpd;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = "/tmp/pmx-httpd-parts-XXXXXX";
        path = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("httpd: listen addresses") {
    auto v4 = parse_host_port("k", "127.0.0.1:8443");
    REQUIRE(v4);
    CHECK(v4->host == "127.0.0.1");
    CHECK(v4->port == 8443);
    auto v6 = parse_host_port("k", "[::1]:0");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->port == 0);
    CHECK(parse_host_port("k", "*:8443")->host.empty());
    CHECK(parse_host_port("k", "[::]:8443")->host.empty());
    CHECK(parse_host_port("k", "mail.example.org:443")->host == "mail.example.org");
    for (const char* bad : {"8443", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
                            "::1:8443", "[::1]8443", "[::1"}) {
        CAPTURE(bad);
        auto r = parse_host_port("httpd.admin_listen", bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("httpd.admin_listen") != std::string::npos);
    }

    auto s = ListenSocket::open("httpd.admin_listen", "127.0.0.1:0");
    REQUIRE(s);
    CHECK(s->port() > 0);
    CHECK(s->url() == "https://127.0.0.1:" + std::to_string(s->port()));
    // The same port again: in use, and the error names the setting.
    auto again = ListenSocket::open("httpd.user_listen", "127.0.0.1:" + std::to_string(s->port()));
    REQUIRE_FALSE(again);
    CHECK(again.error().message.find("httpd.user_listen") != std::string::npos);
    auto six = ListenSocket::open("k", "[::1]:0");
    if (six) CHECK(six->url().starts_with("https://[::1]:"));  // hosts without IPv6 skip this
}

TEST_CASE("httpd: the self-signed pair is made once, 0600 key, P-256, the host's names") {
    TempDir dir;
    auto cert = dir.path / "state/httpd-cert.pem";
    auto key = dir.path / "state/httpd-key.pem";
    auto first = load_or_create_tls(cert, key);
    REQUIRE(first);
    CHECK(first->created);
    const auto mode = fs::status(key).permissions() & fs::perms::all;
    CHECK(mode == (fs::perms::owner_read | fs::perms::owner_write));
    CHECK(slurp(cert) == first->certificate_pem);

    BIO* bio = BIO_new_mem_buf(first->certificate_pem.data(), static_cast<int>(first->certificate_pem.size()));
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    REQUIRE(x);
    EVP_PKEY* pub = X509_get0_pubkey(x);
    CHECK(EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC);
    char curve[64] = {};
    size_t len = 0;
    CHECK(EVP_PKEY_get_utf8_string_param(pub, "group", curve, sizeof curve, &len) == 1);
    CHECK(std::string(curve) == "prime256v1");
    // 825 days, give or take the hour it starts early.
    int days = 0, secs = 0;
    CHECK(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)) == 1);
    CHECK(days == 825);
    auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
    REQUIRE(names);
    int dns_localhost = 0, ips = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
        if (n->type == GEN_DNS && std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName))) == "localhost")
            ++dns_localhost;
        if (n->type == GEN_IPADD) ++ips;
    }
    GENERAL_NAMES_free(names);
    X509_free(x);
    CHECK(dns_localhost == 1);
    CHECK(ips == 2);

    // The second start reads the same pair.
    auto second = load_or_create_tls(cert, key);
    REQUIRE(second);
    CHECK_FALSE(second->created);
    CHECK(second->fingerprint == first->fingerprint);
    CHECK(second->fingerprint.size() == 32 * 3 - 1);
}

TEST_CASE("httpd: broken TLS files are errors naming the file, and stay as they are") {
    TempDir dir;
    auto cert = dir.path / "c.pem";
    auto key = dir.path / "k.pem";
    REQUIRE(load_or_create_tls(cert, key));
    const std::string good_cert = slurp(cert), good_key = slurp(key);

    std::ofstream(cert) << "garbage";
    auto r = load_or_create_tls(cert, key);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(cert.string()) != std::string::npos);
    CHECK(slurp(cert) == "garbage");

    std::ofstream(cert) << good_cert;
    auto other = make_self_signed("other.test", 1);
    REQUIRE(other);
    std::ofstream(key) << other->key_pem;
    r = load_or_create_tls(cert, key);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(key.string()) != std::string::npos);
    CHECK(r.error().message.find("does not belong") != std::string::npos);

    std::ofstream(key) << "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n";
    r = load_or_create_tls(cert, key);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(key.string()) != std::string::npos);

    fs::remove(key);
    r = load_or_create_tls(cert, key);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(key.string() + ": no such file") != std::string::npos);
    CHECK_FALSE(fs::exists(key));
    fs::remove(cert);
    std::ofstream(key) << good_key;
    r = load_or_create_tls(cert, key);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(cert.string() + ": no such file") != std::string::npos);
    CHECK_FALSE(fs::exists(cert));
}
