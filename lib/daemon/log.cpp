#include "daemon/log.hpp"

#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace pmx::log {

namespace {
std::mutex g_mutex;
std::string g_service = "pmx";
std::string g_node;
std::atomic<int> g_level{static_cast<int>(Level::Info)};

// True when stderr is connected to the journal (systemd sets JOURNAL_STREAM=dev:inode).
bool stderr_is_journal() {
    const char* js = std::getenv("JOURNAL_STREAM");
    if (!js) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(js, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) < 0) return false;
    return st.st_dev == dev && st.st_ino == ino;
}
}  // namespace

void set_identity(std::string_view service_id, std::string_view node_name) {
    std::lock_guard lock(g_mutex);
    g_service = service_id;
    g_node = node_name;
}

void set_level(Level least_severe) { g_level = static_cast<int>(least_severe); }

Level parse_level(std::string_view name) {
    if (name == "debug") return Level::Debug;
    if (name == "notice") return Level::Notice;
    if (name == "warning") return Level::Warning;
    if (name == "error") return Level::Error;
    return Level::Info;
}

void write(Level level, std::string_view message) {
    if (static_cast<int>(level) > g_level.load()) return;
    static const bool to_journal = stderr_is_journal();
    std::lock_guard lock(g_mutex);
    if (to_journal) {
        sd_journal_send("MESSAGE=%.*s", static_cast<int>(message.size()), message.data(),
                        "PRIORITY=%d", static_cast<int>(level),
                        "PMX_SERVICE=%s", g_service.c_str(),
                        "PMX_NODE=%s", g_node.c_str(),
                        "SYSLOG_IDENTIFIER=pmx-%s", g_service.c_str(), nullptr);
    } else {
        std::fprintf(stderr, "pmx-%s: %.*s\n", g_service.c_str(), static_cast<int>(message.size()), message.data());
    }
}

}  // namespace pmx::log
