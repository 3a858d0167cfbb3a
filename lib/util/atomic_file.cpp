#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace pmx {

namespace {

struct Fd {
    int fd = -1;
    ~Fd() { if (fd >= 0) ::close(fd); }
};

Error fail(std::string_view what, const std::filesystem::path& p, int err) {
    return Error{fmt::format("Failed to {} {}: {}", what, p.string(), std::strerror(err))};
}

}  // namespace

Result<void> write_file_atomically(const std::filesystem::path& target, std::string_view content, mode_t mode) {
    auto dir = target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
    std::random_device rd;
    auto tmp = dir / fmt::format(".#{}.{:08x}", target.filename().string(), rd());

    Fd file{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)};
    if (file.fd < 0) return fail("create", tmp, errno);
    auto cleanup_fail = [&](std::string_view what, int err) {
        ::unlink(tmp.c_str());
        return fail(what, tmp, err);
    };
    for (size_t off = 0; off < content.size();) {
        ssize_t n = ::write(file.fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return cleanup_fail("write", errno);
        }
        off += static_cast<size_t>(n);
    }
    if (::fchmod(file.fd, mode) < 0) return cleanup_fail("set mode of", errno);
    if (::fsync(file.fd) < 0) return cleanup_fail("sync", errno);
    if (::rename(tmp.c_str(), target.c_str()) < 0) return cleanup_fail("rename", errno);

    Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd < 0 || ::fsync(d.fd) < 0) return fail("sync directory", dir, errno);
    return {};
}

Result<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail("open", path, errno ? errno : ENOENT);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return fail("read", path, errno);
    return ss.str();
}

}  // namespace pmx
