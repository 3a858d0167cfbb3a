#include "tls_files.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <fmt/format.h>

#include <memory>
#include <system_error>

#include "util/atomic_file.hpp"

namespace pmx::httpd {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPemBytes = 1024 * 1024;  // a certificate chain is a few KiB

struct Free {
    void operator()(BIO* p) const { BIO_free(p); }
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(X509* p) const { X509_free(p); }
    void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
    void operator()(BIGNUM* p) const { BN_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

// The reason OpenSSL gives for the last failure (and the queue cleared).
std::string ssl_reason() {
    unsigned long e = ERR_get_error();
    std::string out = e ? ERR_reason_error_string(e) ? ERR_reason_error_string(e) : fmt::format("error {:#x}", e)
                        : std::string("unknown error");
    ERR_clear_error();
    return out;
}

std::string bio_string(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return "localhost";
    return buf;
}

Result<void> add_extension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
    Ptr<X509_EXTENSION> ext{X509V3_EXT_conf_nid(nullptr, ctx, nid, value)};
    if (!ext || !X509_add_ext(cert, ext.get(), -1))
        return Error{fmt::format("Failed to add the certificate extension {}: {}", OBJ_nid2sn(nid), ssl_reason())};
    return {};
}

std::string fingerprint_of(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!X509_digest(cert, EVP_sha256(), md, &n)) return "";
    std::string out;
    for (unsigned i = 0; i < n; ++i) out += fmt::format("{}{:02X}", i ? ":" : "", md[i]);
    return out;
}

std::string not_after_of(X509* cert) {
    Ptr<BIO> bio{BIO_new(BIO_s_mem())};
    if (!bio || !ASN1_TIME_print(bio.get(), X509_get0_notAfter(cert))) return "";
    return bio_string(bio.get());
}

Result<std::string> read_pem(const fs::path& file, const char* what) {
    std::error_code ec;
    auto size = fs::file_size(file, ec);
    if (!ec && size > kMaxPemBytes)
        return Error{fmt::format("Failed to read the TLS {} {}: {} bytes, more than a PEM file has", what, file.string(), size)};
    auto text = read_file(file);
    if (!text) return Error{fmt::format("Failed to read the TLS {}: {}", what, text.error().message)};
    return std::move(*text);
}

// Parses and matches the pair; errors name the file at fault.
Result<TlsPair> check_pair(std::string cert_pem, std::string key_pem, const fs::path& cert_file, const fs::path& key_file) {
    Ptr<BIO> cbio{BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()))};
    Ptr<X509> cert{PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr)};
    if (!cert)
        return Error{fmt::format("Failed to load the TLS certificate {}: not a PEM certificate ({})", cert_file.string(),
                                 ssl_reason())};
    Ptr<BIO> kbio{BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()))};
    // No passphrase callback: an encrypted key fails here instead of prompting.
    static pem_password_cb* no_prompt = [](char*, int, int, void*) noexcept -> int { return -1; };
    Ptr<EVP_PKEY> key{PEM_read_bio_PrivateKey(kbio.get(), nullptr, no_prompt, nullptr)};
    if (!key)
        return Error{fmt::format("Failed to load the TLS key {}: not an unencrypted PEM private key ({})", key_file.string(),
                                 ssl_reason())};
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        return Error{fmt::format("Failed to load the TLS key {}: it does not belong to the certificate {}", key_file.string(),
                                 cert_file.string())};
    }
    TlsPair pair;
    pair.fingerprint = fingerprint_of(cert.get());
    pair.not_after = not_after_of(cert.get());
    pair.certificate_pem = std::move(cert_pem);
    pair.key_pem = std::move(key_pem);
    return pair;
}

}  // namespace

Result<TlsPair> make_self_signed(const std::string& host, int days) {
    Ptr<EVP_PKEY> key{EVP_EC_gen("P-256")};
    if (!key) return Error{fmt::format("Failed to make an EC P-256 key: {}", ssl_reason())};
    Ptr<X509> cert{X509_new()};
    if (!cert) return Error{fmt::format("Failed to make a certificate: {}", ssl_reason())};
    X509_set_version(cert.get(), 2);  // v3: extensions

    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) return Error{fmt::format("Failed to make a serial number: {}", ssl_reason())};
    serial[0] &= 0x7f;  // positive
    Ptr<BIGNUM> bn{BN_bin2bn(serial, sizeof serial, nullptr)};
    if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())))
        return Error{fmt::format("Failed to set the serial number: {}", ssl_reason())};

    // A little in the past, so a client whose clock lags a bit accepts it at once.
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
    X509_set_pubkey(cert.get(), key.get());

    std::string cn = host.substr(0, 64);  // the CN's upper bound
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("pmx"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);

    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    std::string san = host == "localhost" ? "DNS:localhost" : fmt::format("DNS:{},DNS:localhost", host);
    san += ",IP:127.0.0.1,IP:::1";
    for (auto [nid, value] : {std::pair<int, const char*>{NID_basic_constraints, "critical,CA:FALSE"},
                              {NID_key_usage, "critical,digitalSignature"},
                              {NID_ext_key_usage, "serverAuth"},
                              {NID_subject_key_identifier, "hash"},
                              {NID_subject_alt_name, san.c_str()}})
        if (auto r = add_extension(cert.get(), &ctx, nid, value); !r) return r.error();

    if (!X509_sign(cert.get(), key.get(), EVP_sha256())) return Error{fmt::format("Failed to sign the certificate: {}", ssl_reason())};

    Ptr<BIO> kout{BIO_new(BIO_s_mem())};
    Ptr<BIO> cout{BIO_new(BIO_s_mem())};
    if (!kout || !cout || !PEM_write_bio_PrivateKey(kout.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
        !PEM_write_bio_X509(cout.get(), cert.get()))
        return Error{fmt::format("Failed to write the certificate as PEM: {}", ssl_reason())};
    TlsPair pair;
    pair.key_pem = bio_string(kout.get());
    pair.certificate_pem = bio_string(cout.get());
    pair.fingerprint = fingerprint_of(cert.get());
    pair.not_after = not_after_of(cert.get());
    pair.created = true;
    return pair;
}

Result<TlsPair> load_or_create_tls(const fs::path& certificate, const fs::path& key) {
    std::error_code ec;
    const bool have_cert = fs::exists(certificate, ec);
    const bool have_key = fs::exists(key, ec);
    if (!have_cert && !have_key) {
        auto made = make_self_signed(host_name(), 825);
        if (!made) return made.error();
        if (auto dir = key.parent_path(); !dir.empty()) fs::create_directories(dir, ec);
        if (auto dir = certificate.parent_path(); !dir.empty()) fs::create_directories(dir, ec);
        // The key first: a certificate on disk always has its key beside it.
        if (auto r = write_file_atomically(key, made->key_pem, 0600); !r)
            return Error{fmt::format("Failed to store the new TLS key: {}", r.error().message)};
        if (auto r = write_file_atomically(certificate, made->certificate_pem, 0644); !r) {
            fs::remove(key, ec);  // no half pair left behind: the next start makes both again
            return Error{fmt::format("Failed to store the new TLS certificate: {}", r.error().message)};
        }
        return made;
    }
    if (!have_cert)
        return Error{fmt::format("Failed to load the TLS certificate {}: no such file (its key {} exists; pmx-httpd makes "
                                 "a self-signed pair only when both are missing)",
                                 certificate.string(), key.string())};
    if (!have_key)
        return Error{fmt::format("Failed to load the TLS key {}: no such file (the certificate {} exists; pmx-httpd makes "
                                 "a self-signed pair only when both are missing)",
                                 key.string(), certificate.string())};
    auto cert_pem = read_pem(certificate, "certificate");
    if (!cert_pem) return cert_pem.error();
    auto key_pem = read_pem(key, "key");
    if (!key_pem) return key_pem.error();
    return check_pair(std::move(*cert_pem), std::move(*key_pem), certificate, key);
}

}  // namespace pmx::httpd
