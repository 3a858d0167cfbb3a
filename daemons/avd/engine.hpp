// One compiled ClamAV engine: the signatures of one database directory and the limits
// of one config snapshot. Immutable once loaded and shared by the workers through a
// shared_ptr: a reload builds a new Engine beside this one, scans in flight keep theirs,
// and the last of them frees it.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "av/protocol.hpp"
#include "config/loader.hpp"
#include "util/result.hpp"

struct cl_engine;

namespace pmx::avd {

struct EngineLimits {
    std::uint64_t max_scan_bytes = 100u << 20;
    std::uint64_t max_file_bytes = 25u << 20;
    std::uint32_t max_recursion = 16;
    std::uint32_t max_files = 10000;
    std::uint32_t max_scan_ms = 30000;

    static EngineLimits from_config(const config::Snapshot& s);
};

class Engine {
public:
    // cl_init (once per process), cl_load of every database file in dir, cl_engine_compile.
    // An empty or missing directory is an Error saying so.
    static Result<std::shared_ptr<const Engine>> load(const std::filesystem::path& dir, const EngineLimits& limits);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Scans bytes [0, size) of a regular file or memfd (its position is left alone).
    av::Verdict scan_fd(int fd) const;
    av::Verdict scan_memory(std::string_view bytes) const;

    unsigned signatures() const { return signatures_; }
    unsigned db_version() const { return db_version_; }  // 0: no official .cvd/.cld (local signatures only)
    std::time_t db_time() const { return db_time_; }
    std::uint64_t loaded_usec() const { return loaded_usec_; }  // CLOCK_REALTIME
    std::uint64_t load_ms() const { return load_ms_; }
    const std::filesystem::path& dir() const { return dir_; }
    const EngineLimits& limits() const { return limits_; }

    static std::string libclamav_version();

private:
    Engine() = default;
    av::Verdict scan_map(void* map) const;

    cl_engine* engine_ = nullptr;
    unsigned signatures_ = 0;
    unsigned db_version_ = 0;
    std::time_t db_time_ = 0;
    std::uint64_t loaded_usec_ = 0;
    std::uint64_t load_ms_ = 0;
    std::filesystem::path dir_;
    EngineLimits limits_;
};

}  // namespace pmx::avd
