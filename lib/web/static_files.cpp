#include "web/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "util/text.hpp"

namespace pmx::web {

namespace fs = std::filesystem;

bool safe_asset_name(std::string_view name) {
    if (name.empty() || name.front() == '/') return false;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '\\' || c == '%') return false;
    }
    std::size_t start = 0;
    while (start <= name.size()) {
        auto slash = name.find('/', start);
        std::string_view seg = name.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (seg.empty() || seg.front() == '.') return false;  // "", ".", "..", ".htaccess"
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return true;
}

std::string_view content_type_for(std::string_view name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/markdown; charset=utf-8"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
    }};
    auto dot = name.rfind('.');
    auto slash = name.rfind('/');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return "application/octet-stream";
    std::string ext = ascii_lower(name.substr(dot));
    for (const auto& [e, type] : kTypes)
        if (e == ext) return type;
    return "application/octet-stream";
}

Result<std::optional<StaticFile>> read_static_file(const fs::path& dir, std::string_view name, std::size_t max_bytes) {
    if (!safe_asset_name(name)) return std::optional<StaticFile>{};
    std::error_code ec;
    fs::path root = fs::canonical(dir, ec);
    if (ec) return std::optional<StaticFile>{};  // no assets installed: every page is 404
    fs::path file = fs::canonical(root / fs::path(std::string(name)), ec);
    if (ec) return std::optional<StaticFile>{};
    // Symlinks are resolved now: what is left must still be below the assets directory.
    auto rel = file.lexically_relative(root);
    if (rel.empty() || *rel.begin() == "..") return std::optional<StaticFile>{};

    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR) return std::optional<StaticFile>{};
        return Error{fmt::format("Failed to open {}: {}", file.string(), std::strerror(errno))};
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st{};
    if (::fstat(fd, &st) != 0) return Error{fmt::format("Failed to stat {}: {}", file.string(), std::strerror(errno))};
    if (!S_ISREG(st.st_mode)) return std::optional<StaticFile>{};
    if (static_cast<std::size_t>(st.st_size) > max_bytes)
        return Error{fmt::format("Failed to serve {}: {} bytes, more than the {} a static file may have", file.string(),
                                 st.st_size, max_bytes)};
    StaticFile out;
    out.content_type = std::string(content_type_for(name));
    out.body.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < out.body.size()) {
        ssize_t n = ::read(fd, out.body.data() + got, out.body.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{fmt::format("Failed to read {}: {}", file.string(), std::strerror(errno))};
        if (n == 0) break;  // shrank under us: serve what is there
        got += static_cast<std::size_t>(n);
    }
    out.body.resize(got);
    return std::optional<StaticFile>{std::move(out)};
}

fs::path resolve_assets_dir(const config::Layout& layout, const std::string& configured) {
    fs::path p{configured};
    if (p.is_absolute()) return p;
    std::error_code ec;
    if (fs::is_directory(layout.config_dir / p, ec)) return layout.config_dir / p;
    return layout.vendor_dir / p;
}

}  // namespace pmx::web
