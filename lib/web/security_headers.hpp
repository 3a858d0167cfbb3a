// The headers every pmx-httpd response carries, whatever produced it (a page, an asset, the RPC
// API, an error the server made up): no inline script, no framing, no sniffing, no referrer,
// HTTPS only, and nothing cached but the static assets.
#pragma once

#include <string_view>

#include "web/http.hpp"

namespace pmx::web {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'";

// asset: a file of share/web/assets (may be kept, revalidated); everything else is no-store.
inline void add_security_headers(Response& r, bool asset = false) {
    r.headers.emplace_back("Content-Security-Policy", std::string(kContentSecurityPolicy));
    r.headers.emplace_back("X-Frame-Options", "DENY");
    r.headers.emplace_back("X-Content-Type-Options", "nosniff");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    r.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
    r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
    r.headers.emplace_back("Cache-Control", asset ? "no-cache" : "no-store");
}

}  // namespace pmx::web
