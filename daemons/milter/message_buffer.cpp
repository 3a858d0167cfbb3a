#include "message_buffer.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pmx::milter {

MessageBuffer::~MessageBuffer() {
    if (map_) ::munmap(map_, map_size_);
    if (fd_ >= 0) ::close(fd_);
}

Result<void> MessageBuffer::spill() {
    // O_TMPFILE: the file has no name, so a crash leaves nothing behind.
    const char* dir = std::getenv("TMPDIR");
    if (!dir || !*dir) dir = "/var/tmp";
    fd_ = ::open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0) return Error{fmt::format("Failed to create a temporary file in {}: {}", dir, std::strerror(errno))};
    std::string_view pending = memory_;
    while (!pending.empty()) {
        ssize_t n = ::write(fd_, pending.data(), pending.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{fmt::format("Failed to write a temporary file: {}", std::strerror(errno))};
        pending.remove_prefix(static_cast<std::size_t>(n));
    }
    std::string().swap(memory_);
    return {};
}

Result<void> MessageBuffer::append(std::string_view bytes) {
    if (map_) {
        ::munmap(map_, map_size_);
        map_ = nullptr;
    }
    if (fd_ < 0 && size_ + bytes.size() > spill_bytes_) {
        if (auto r = spill(); !r) return r;
    }
    if (fd_ < 0) {
        memory_.append(bytes);
    } else {
        while (!bytes.empty()) {
            ssize_t n = ::write(fd_, bytes.data(), bytes.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return Error{fmt::format("Failed to write a temporary file: {}", std::strerror(errno))};
            bytes.remove_prefix(static_cast<std::size_t>(n));
            size_ += static_cast<std::size_t>(n);
        }
        return {};
    }
    size_ += bytes.size();
    return {};
}

Result<std::string_view> MessageBuffer::view() {
    if (fd_ < 0) return std::string_view(memory_);
    if (size_ == 0) return std::string_view();
    if (!map_) {
        void* m = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd_, 0);
        if (m == MAP_FAILED) return Error{fmt::format("Failed to map the message: {}", std::strerror(errno))};
        map_ = m;
        map_size_ = size_;
    }
    return std::string_view(static_cast<const char*>(map_), size_);
}

}  // namespace pmx::milter
