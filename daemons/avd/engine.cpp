#include "engine.hpp"

#include <clamav.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <vector>

#include "daemon/log.hpp"

namespace pmx::avd {

namespace {

std::uint64_t realtime_usec() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

// libclamav's own messages go to our journal, not to stderr.
void on_clamav_message(enum cl_msg severity, const char*, const char* msg, void*) noexcept {
    try {
        std::string m = msg ? msg : "";
        while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
        if (m.empty()) return;
        if (severity >= CL_MSG_ERROR) log::error("libclamav: {}", m);
        else if (severity >= CL_MSG_WARN) log::warning("libclamav: {}", m);
        else log::debug("libclamav: {}", m);
    } catch (...) {
    }
}

Result<void> init_once() {
    static std::once_flag once;
    static cl_error_t rc = CL_SUCCESS;
    std::call_once(once, [] {
        cl_set_clcb_msg(on_clamav_message);
        rc = cl_init(CL_INIT_DEFAULT);
    });
    if (rc != CL_SUCCESS) return Error{fmt::format("Failed to initialise libclamav: {}", cl_strerror(rc))};
    return {};
}

off_t pread_handle(void* handle, void* buf, size_t count, off_t offset) noexcept {
    int fd = *static_cast<int*>(handle);
    for (;;) {
        ssize_t n = ::pread(fd, buf, count, offset);
        if (n < 0 && errno == EINTR) continue;
        return n;
    }
}

// What one scan collects through libclamav's callbacks (their context pointer).
struct ScanState {
    std::uint64_t max_file_bytes = 0;
    std::vector<std::string> names;  // every alert, in order
    std::string oversized;           // an archive member larger than max_file_bytes
};

void on_virus_found(int, const char* name, void* context) noexcept {
    try {
        auto* st = static_cast<ScanState*>(context);
        if (st && name && st->names.size() < 64) st->names.emplace_back(name);
    } catch (...) {
    }
}

// libclamav trims an archive member larger than its max file size to that size, scans the
// prefix and says nothing (seen with 1.4: a 64 MiB member, 25 MiB limit: "OK"). Whatever
// hides past the cut was not scanned, so such a message is unscannable, not clean.
cl_error_t on_archive_member(const char*, unsigned long, const char* filename, unsigned long size_real, int,
                             unsigned int, void* context) noexcept {
    try {
        auto* st = static_cast<ScanState*>(context);
        if (st && size_real > st->max_file_bytes) {
            if (st->oversized.empty())
                st->oversized = fmt::format("Heuristics.Limits.Exceeded.MaxFileSize ({}: {} bytes)",
                                            filename ? filename : "archive member", size_real);
            // An alert, so libclamav does not cache the message as clean (its clean cache
            // is keyed on the bytes: the next copy would never reach this callback).
            return CL_VIRUS;
        }
    } catch (...) {
    }
    return CL_CLEAN;
}

av::Verdict finish(int rc, const char* virname, ScanState& st) {
    switch (rc) {
        case CL_CLEAN:
            if (!st.oversized.empty()) return av::Verdict::unscannable(st.oversized);
            return av::Verdict::clean();
        case CL_VIRUS: {
            if (st.names.empty() && virname) st.names.emplace_back(virname);
            std::vector<std::string> found, limits;
            for (auto& n : st.names) {
                if (n == "Detected.By.Callback" && !st.oversized.empty()) n = st.oversized;  // on_archive_member
                bool unscannable = n.starts_with("Heuristics.Limits.Exceeded") || n.starts_with("Heuristics.Encrypted");
                auto& into = unscannable ? limits : found;
                if (std::find(into.begin(), into.end(), n) == into.end()) into.push_back(std::move(n));
            }
            if (!found.empty()) return av::Verdict::infected(std::move(found));
            if (!limits.empty()) return av::Verdict::unscannable(fmt::format("{}", fmt::join(limits, ", ")));
            return av::Verdict::infected({"Unnamed"});
        }
        case CL_EMAXREC:
        case CL_EMAXSIZE:
        case CL_EMAXFILES:
        case CL_ETIMEOUT:
        case CL_EFORMAT:
        case CL_EPARSE:
            return av::Verdict::unscannable(cl_strerror(static_cast<cl_error_t>(rc)));
        default:
            return av::Verdict::error(fmt::format("scan failed: {}", cl_strerror(static_cast<cl_error_t>(rc))));
    }
}

}  // namespace

EngineLimits EngineLimits::from_config(const config::Snapshot& s) {
    EngineLimits l;
    l.max_scan_bytes = static_cast<std::uint64_t>(s.integer("av.max_scan_bytes"));
    l.max_file_bytes = static_cast<std::uint64_t>(s.integer("av.max_file_bytes"));
    l.max_recursion = static_cast<std::uint32_t>(s.integer("av.max_recursion"));
    l.max_files = static_cast<std::uint32_t>(s.integer("av.max_files"));
    l.max_scan_ms = static_cast<std::uint32_t>(s.integer("av.max_scan_ms"));
    return l;
}

std::string Engine::libclamav_version() { return cl_retver(); }

Result<std::shared_ptr<const Engine>> Engine::load(const std::filesystem::path& dir, const EngineLimits& limits) {
    if (auto r = init_once(); !r) return r.error();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        return Error{fmt::format("Failed to load signatures from {}: not a directory", dir.string())};

    auto start = std::chrono::steady_clock::now();
    std::shared_ptr<Engine> e(new Engine());
    e->dir_ = dir;
    e->limits_ = limits;
    e->engine_ = cl_engine_new();
    if (!e->engine_) return Error{"Failed to create a ClamAV engine: out of memory"};

    struct NumSetting { cl_engine_field field; long long value; };
    const NumSetting settings[] = {
        {CL_ENGINE_MAX_SCANSIZE, static_cast<long long>(limits.max_scan_bytes)},
        {CL_ENGINE_MAX_FILESIZE, static_cast<long long>(limits.max_file_bytes)},
        {CL_ENGINE_MAX_RECURSION, limits.max_recursion},
        {CL_ENGINE_MAX_FILES, limits.max_files},
        {CL_ENGINE_MAX_SCANTIME, limits.max_scan_ms},
    };
    for (const auto& s : settings) {
        if (cl_error_t rc = cl_engine_set_num(e->engine_, s.field, s.value); rc != CL_SUCCESS)
            return Error{fmt::format("Failed to set a ClamAV engine limit: {}", cl_strerror(rc))};
    }
    cl_engine_set_clcb_virus_found(e->engine_, on_virus_found);
    cl_engine_set_clcb_meta(e->engine_, on_archive_member);

    unsigned sigs = 0;
    cl_error_t rc = cl_load(dir.c_str(), e->engine_, &sigs, CL_DB_STDOPT);
    if (rc == CL_EOPEN)
        return Error{fmt::format("Failed to load signatures from {}: no signature database files there (run freshclam)", dir.string())};
    if (rc != CL_SUCCESS) return Error{fmt::format("Failed to load signatures from {}: {}", dir.string(), cl_strerror(rc))};
    if (sigs == 0) return Error{fmt::format("Failed to load signatures from {}: the files hold no signatures", dir.string())};
    rc = cl_engine_compile(e->engine_);
    if (rc != CL_SUCCESS) return Error{fmt::format("Failed to compile the ClamAV engine for {}: {}", dir.string(), cl_strerror(rc))};

    int err = 0;
    e->signatures_ = sigs;
    e->db_version_ = static_cast<unsigned>(cl_engine_get_num(e->engine_, CL_ENGINE_DB_VERSION, &err));
    e->db_time_ = static_cast<std::time_t>(cl_engine_get_num(e->engine_, CL_ENGINE_DB_TIME, &err));
    e->loaded_usec_ = realtime_usec();
    e->load_ms_ = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    return std::shared_ptr<const Engine>(std::move(e));
}

Engine::~Engine() {
    if (engine_) cl_engine_free(engine_);
}

namespace {
// One option set for the engine's whole life: libclamav's clean cache is keyed on the data
// only, so a scan with fewer parsers could make a later full scan of the same bytes "clean".
cl_scan_options scan_options() {
    cl_scan_options o{};
    // No ALLMATCHES: the first alert ends the scan (a zip bomb stops at its first oversized member).
    o.general = CL_SCAN_GENERAL_HEURISTICS;
    o.parse = ~0u;  // every parser, mail and archives included (as clamscan)
    o.heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_EXCEEDS_MAX;
    o.mail = 0;
    o.dev = 0;
    return o;
}
}  // namespace

av::Verdict Engine::scan_map(void* m) const {
    auto* map = static_cast<cl_fmap_t*>(m);
    ScanState state;
    state.max_file_bytes = limits_.max_file_bytes;
    const char* virname = nullptr;
    unsigned long scanned = 0;
    cl_scan_options opts = scan_options();
    int rc = cl_scanmap_callback(map, nullptr, &virname, &scanned, engine_, &opts, &state);
    return finish(rc, virname, state);
}

av::Verdict Engine::scan_fd(int fd) const {
    struct stat st {};
    if (::fstat(fd, &st) < 0) return av::Verdict::error(fmt::format("cannot stat the file: {}", std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) return av::Verdict::error("not a regular file");
    if (st.st_size == 0) return av::Verdict::clean();
    int handle = fd;
    cl_fmap_t* map = cl_fmap_open_handle(&handle, 0, static_cast<size_t>(st.st_size), pread_handle, 1);
    if (!map) return av::Verdict::error("cannot map the file for scanning");
    av::Verdict v = scan_map(map);
    cl_fmap_close(map);
    return v;
}

av::Verdict Engine::scan_memory(std::string_view bytes) const {
    if (bytes.empty()) return av::Verdict::clean();
    cl_fmap_t* map = cl_fmap_open_memory(bytes.data(), bytes.size());
    if (!map) return av::Verdict::error("cannot map the bytes for scanning");
    av::Verdict v = scan_map(map);
    cl_fmap_close(map);
    return v;
}

}  // namespace pmx::avd
