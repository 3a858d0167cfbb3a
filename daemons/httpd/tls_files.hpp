// pmx-httpd's certificate and key: made once (self-signed) when neither exists, checked at
// every start. Existing files are never overwritten.
#pragma once

#include <filesystem>
#include <string>

#include "util/result.hpp"

namespace pmx::httpd {

struct TlsPair {
    std::string certificate_pem;
    std::string key_pem;
    bool created = false;     // made by this start
    std::string fingerprint;  // SHA-256 of the certificate (DER), hex with colons
    std::string not_after;    // "Nov 25 15:00:00 2028 GMT"
};

// Creates a self-signed pair (EC P-256, CN = host name, subjectAltName DNS:host, DNS:localhost,
// IP:127.0.0.1, IP:::1, valid 825 days) when neither file exists: the key written 0600, the
// certificate 0644, each atomically. When only one exists, or a file is not PEM, or the key does not
// belong to the certificate: an error naming the file.
Result<TlsPair> load_or_create_tls(const std::filesystem::path& certificate, const std::filesystem::path& key);

// A new self-signed pair in memory (what load_or_create_tls writes).
Result<TlsPair> make_self_signed(const std::string& host_name, int days);

}  // namespace pmx::httpd
