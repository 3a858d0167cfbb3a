// The raw message as the MTA sends it (headers, blank line, body), kept in memory up to
// a threshold and beyond it in an unlinked temporary file, so a 50 MB message costs disk,
// not RAM. The whole message is kept: quarantine needs every byte even when the scanners
// only look at a capped prefix.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pmx::milter {

class MessageBuffer {
public:
    explicit MessageBuffer(std::size_t spill_bytes) : spill_bytes_(spill_bytes) {}
    ~MessageBuffer();
    MessageBuffer(const MessageBuffer&) = delete;
    MessageBuffer& operator=(const MessageBuffer&) = delete;

    Result<void> append(std::string_view bytes);
    std::size_t size() const { return size_; }

    // A view of all bytes (maps the file when spilled). Valid until the next append or destruction.
    Result<std::string_view> view();
    // The spill file (a readable fd positioned anywhere), or -1 while the message is in memory.
    int spill_fd() const { return fd_; }

private:
    Result<void> spill();

    std::size_t spill_bytes_;
    std::string memory_;
    int fd_ = -1;
    std::size_t size_ = 0;
    void* map_ = nullptr;
    std::size_t map_size_ = 0;
};

}  // namespace pmx::milter
