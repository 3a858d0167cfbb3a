// Runs `pmx` for the admin RPC methods: posix_spawn (argv, never a shell), stdin /dev/null,
// stdout and stderr read through poll() with caps, a deadline after which the whole process
// group is killed. The child gets the daemon's environment with the config layout of the
// request's Environment (PMX_CONFIG_DIR, PMX_VENDOR_DIR), so it reads the same files, and
// without the variables that belong to the daemon's own unit (sd_notify, socket activation).
#include "web/cli_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

extern char** environ;

namespace pmx::web {

namespace {

constexpr std::size_t kStdoutCap = 16u << 20;
constexpr std::size_t kStderrCap = 1u << 20;

using Clock = std::chrono::steady_clock;

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&&) = delete;
    ~Fd() { reset(); }
    void reset() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

// Variables of the daemon's own unit a child must not inherit.
bool dropped_variable(std::string_view entry) {
    for (std::string_view prefix : {"NOTIFY_SOCKET=", "LISTEN_FDS=", "LISTEN_PID=", "LISTEN_FDNAMES=", "WATCHDOG_USEC=",
                                    "WATCHDOG_PID=", "PMX_CONFIG_DIR=", "PMX_VENDOR_DIR="})
        if (entry.starts_with(prefix)) return true;
    return false;
}

std::vector<std::string> child_environment(const Environment& env) {
    std::vector<std::string> out;
    for (char** e = environ; e && *e; ++e)
        if (!dropped_variable(*e)) out.emplace_back(*e);
    if (!env.layout.config_dir.empty()) out.push_back("PMX_CONFIG_DIR=" + env.layout.config_dir.string());
    if (!env.layout.vendor_dir.empty()) out.push_back("PMX_VENDOR_DIR=" + env.layout.vendor_dir.string());
    return out;
}

std::vector<char*> pointers(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

int exit_code_of(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

// What a command line looks like in an error message (arguments are validated, but quote anyway).
std::string describe(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        bool plain = !a.empty() && a.find_first_of(" \t\n\"'\\") == std::string::npos;
        out += plain ? a : "\"" + a + "\"";
        if (out.size() > 200) return out.substr(0, 200) + "...";
    }
    return out;
}

// Kills the child's process group (it is its leader) and reaps the child.
void kill_and_reap(pid_t pid) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
}

}  // namespace

Result<CliRun> run_pmx(const Environment& env, const std::vector<std::string>& args,
                       std::chrono::milliseconds deadline) {
    if (env.pmx_cli.empty()) return Error{"Failed to run pmx: no pmx binary configured"};
    std::vector<std::string> argv{env.pmx_cli.string()};
    if (env.user_bus) argv.emplace_back("--user");
    argv.insert(argv.end(), args.begin(), args.end());
    auto envv = child_environment(env);

    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) < 0) return Error{fmt::format("Failed to run pmx: pipe: {}", std::strerror(errno))};
    Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) < 0) return Error{fmt::format("Failed to run pmx: pipe: {}", std::strerror(errno))};
    Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w.fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, err_w.fd, STDERR_FILENO);
    // Nothing else of the daemon's (sockets, database, bus) reaches the child, even a descriptor
    // some library opened without O_CLOEXEC.
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);

    // Default signal handling and an empty mask (the daemon may ignore SIGPIPE or block
    // signals for its threads), and a process group of its own so a deadline kills all of it.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);

    auto cargv = pointers(argv);
    auto cenv = pointers(envv);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, cargv.data(), cenv.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    out_w.reset();
    err_w.reset();
    if (rc != 0) return Error{fmt::format("Failed to run {}: {}", argv[0], std::strerror(rc))};

    const auto until = Clock::now() + deadline;
    CliRun run;
    bool overflow = false;
    char buf[65536];
    while (out_r.fd >= 0 || err_r.fd >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
        if (left <= 0) {
            kill_and_reap(pid);
            return Error{fmt::format("{} did not finish within {} s and was killed", describe(argv),
                                     static_cast<double>(deadline.count()) / 1000.0)};
        }
        pollfd p[2];
        nfds_t n = 0;
        if (out_r.fd >= 0) p[n++] = {out_r.fd, POLLIN, 0};
        if (err_r.fd >= 0) p[n++] = {err_r.fd, POLLIN, 0};
        int r = ::poll(p, n, static_cast<int>(std::min<long long>(left, 1000)));
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            kill_and_reap(pid);
            return Error{fmt::format("Failed to read the output of pmx: poll: {}", std::strerror(e))};
        }
        for (nfds_t i = 0; i < n; ++i) {
            if (!p[i].revents) continue;
            const bool is_out = p[i].fd == out_r.fd;
            Fd& fd = is_out ? out_r : err_r;
            ssize_t got = ::read(fd.fd, buf, sizeof buf);
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (got <= 0) {
                fd.reset();
                continue;
            }
            auto& sink = is_out ? run.out : run.err;
            const std::size_t cap = is_out ? kStdoutCap : kStderrCap;
            const auto room = cap - std::min(cap, sink.size());
            sink.append(buf, std::min(room, static_cast<std::size_t>(got)));
            // More stdout than any answer pmx gives: stop it rather than hand back half an answer.
            if (is_out && static_cast<std::size_t>(got) > room) overflow = true;
        }
        if (overflow) {
            kill_and_reap(pid);
            return Error{fmt::format("{} wrote more than {} MiB and was stopped", describe(argv), kStdoutCap >> 20)};
        }
    }

    // Both pipes are closed: the child is exiting. Wait for it, still within the deadline.
    int status = 0;
    for (auto pause = std::chrono::microseconds(200);;) {
        pid_t w = ::waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return Error{fmt::format("Failed to wait for pmx: {}", std::strerror(errno))};
        if (Clock::now() >= until) {
            kill_and_reap(pid);
            return Error{fmt::format("{} did not finish within {} s and was killed", describe(argv),
                                     static_cast<double>(deadline.count()) / 1000.0)};
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(20000));
    }
    run.exit_code = exit_code_of(status);
    return run;
}

}  // namespace pmx::web
