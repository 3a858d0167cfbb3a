// The pages and assets pmx-httpd serves from httpd.assets (share/web): name checks, content types
// and a read that never leaves the directory (no "..", no dot files, no symlink pointing out).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/loader.hpp"
#include "util/result.hpp"

namespace pmx::web {

// Whether name (a "/"-separated path below the assets directory, as decoded from the URL) may be
// looked up at all: not empty, not absolute, no empty, "." or ".." segment, no segment starting
// with "." (dot files), no NUL or other control byte, no backslash, no "%" (a second decoding
// must never turn into a path).
bool safe_asset_name(std::string_view name);

// Content-Type by extension (text types with charset=utf-8); application/octet-stream otherwise.
std::string_view content_type_for(std::string_view name);

struct StaticFile {
    std::string body;
    std::string content_type;
};

inline constexpr std::size_t kMaxStaticFileBytes = 16 * 1024 * 1024;

// The regular file name under dir. nullopt when the name is unsafe, the file does not exist, is
// not a regular file, or resolves (through symlinks) outside dir. Error when it exists but cannot
// be read or is larger than max_bytes.
Result<std::optional<StaticFile>> read_static_file(const std::filesystem::path& dir, std::string_view name,
                                                   std::size_t max_bytes = kMaxStaticFileBytes);

// httpd.assets: an absolute path stays; a relative one is looked up under the config directory
// (/etc/pmx) first, then under the vendor directory (/usr/share/pmx).
std::filesystem::path resolve_assets_dir(const config::Layout& layout, const std::string& configured);

}  // namespace pmx::web
