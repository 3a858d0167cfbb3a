// pmx av scan|status: files scanned by pmx-avd (the daemon's engine, not a second one in
// the CLI), and the engine's state. The CLI opens each file itself and passes the fd, so
// the daemon (which sees none of the caller's files) scans exactly what the caller may read.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <filesystem>
#include <string>
#include <vector>

#include "av/client.hpp"
#include "bus/daemon_client.hpp"
#include "commands.hpp"
#include "daemon_reload.hpp"
#include "output.hpp"
#include "services/registry.hpp"

namespace pmx::cli {

namespace {

constexpr int kExitFound = 1;      // a virus, or something that could not be scanned
constexpr int kExitNoVerdict = 3;  // some path got no verdict (daemon down, unreadable file)

struct Common {
    std::string socket;      // --socket: skip asking the bus where pmx-avd listens
    int timeout_ms = 60000;  // per file
};

// Where pmx-avd listens, from its Listen property (the daemon resolved its own config).
std::filesystem::path find_socket(const Context& ctx, const Common& c, bus::DaemonStatus* status_out = nullptr) {
    if (!c.socket.empty() && !status_out) return c.socket;
    const ServiceInfo* info = find_service("avd");
    auto b = bus::open(ctx.scope());
    if (!b) throw CommandError(fmt::format("pmx-avd is not reachable: {}", b.error().message), kExitNoVerdict);
    auto st = bus::read_daemon_status(b->get(), info->bus_name);
    if (!st) {
        if (!c.socket.empty()) return c.socket;
        throw CommandError(fmt::format("pmx-avd is not running (start it with pmx{} start avd): {}",
                                       ctx.user ? " --user" : "", st.error().message),
                           kExitNoVerdict);
    }
    if (status_out) *status_out = *st;
    if (!c.socket.empty()) return c.socket;
    if (st->listen.empty() || st->listen == "-") throw CommandError("pmx-avd does not say where it listens", kExitNoVerdict);
    return st->listen;
}

struct ScanArgs {
    Common common;
    std::vector<std::string> paths;
};

struct Outcome {
    std::string path;
    std::optional<av::Verdict> verdict;
    std::string error;  // no verdict: why
};

Outcome scan_one(const std::filesystem::path& socket, const std::string& path, av::Timeout timeout) {
    Outcome o{path, std::nullopt, {}};
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        o.error = fmt::format("cannot open: {}", std::strerror(errno));
        return o;
    }
    auto v = av::scan_fd(socket, fd, timeout);
    ::close(fd);
    if (v) o.verdict = *v;
    else o.error = v.error().message;
    return o;
}

// Files as given; directories walked (regular files only, symlinks not followed).
std::vector<std::string> expand(const std::vector<std::string>& paths, std::vector<Outcome>& problems) {
    std::vector<std::string> files;
    for (const auto& p : paths) {
        std::error_code ec;
        if (std::filesystem::is_directory(p, ec)) {
            std::filesystem::recursive_directory_iterator it(p, std::filesystem::directory_options::skip_permission_denied, ec), end;
            if (ec) problems.push_back({p, std::nullopt, fmt::format("cannot read the directory: {}", ec.message())});
            for (; !ec && it != end; it.increment(ec))
                if (it->is_regular_file(ec) && !it->is_symlink(ec)) files.push_back(it->path().string());
            std::sort(files.begin(), files.end());
        } else {
            files.push_back(p);
        }
    }
    return files;
}

std::string verdict_json(const Outcome& o) {
    if (!o.verdict) return fmt::format("{{\"path\": {}, \"verdict\": \"error\", \"names\": [], \"reason\": {}}}",
                                       json_quote(o.path), json_quote(o.error));
    std::string names;
    for (const auto& n : o.verdict->names) names += (names.empty() ? "" : ", ") + json_quote(n);
    return fmt::format("{{\"path\": {}, \"verdict\": {}, \"names\": [{}], \"reason\": {}}}", json_quote(o.path),
                       json_quote(av::verdict_kind_name(o.verdict->kind)), names, json_quote(o.verdict->reason));
}

std::string verdict_text(const Outcome& o) {
    if (!o.verdict) return fmt::format("{}: error: {}", printable(o.path), o.error);
    const auto& v = *o.verdict;
    switch (v.kind) {
        case av::VerdictKind::Clean: return fmt::format("{}: clean", printable(o.path));
        case av::VerdictKind::Infected: {
            std::string names;
            for (const auto& n : v.names) names += (names.empty() ? "" : ", ") + printable(n);
            return fmt::format("{}: infected: {}", printable(o.path), names);
        }
        case av::VerdictKind::Unscannable: return fmt::format("{}: unscannable: {}", printable(o.path), printable(v.reason));
        case av::VerdictKind::Error: return fmt::format("{}: error: {}", printable(o.path), printable(v.reason));
    }
    return "";
}

void scan(Context& ctx, const ScanArgs& a) {
    auto socket = find_socket(ctx, a.common);
    std::vector<Outcome> results;
    auto files = expand(a.paths, results);
    for (const auto& f : files) results.push_back(scan_one(socket, f, av::Timeout{a.common.timeout_ms}));
    bool found = false, missing = false;
    for (const auto& o : results) {
        if (!o.verdict || o.verdict->kind == av::VerdictKind::Error) missing = true;
        else if (o.verdict->kind != av::VerdictKind::Clean) found = true;
    }
    if (ctx.json) {
        fmt::print("[");
        for (std::size_t i = 0; i < results.size(); ++i) fmt::print("{}{}", i ? ",\n " : "", verdict_json(results[i]));
        fmt::print("]\n");
    } else {
        for (const auto& o : results) {
            bool clean = o.verdict && o.verdict->kind == av::VerdictKind::Clean;
            if (!(ctx.quiet && clean)) fmt::print("{}\n", verdict_text(o));
        }
    }
    ctx.exit_code = missing ? kExitNoVerdict : found ? kExitFound : 0;
}

void status(Context& ctx, const Common& c) {
    bus::DaemonStatus d;
    auto socket = find_socket(ctx, c, &d);
    auto fields = av::query_status(socket, av::Timeout{c.timeout_ms});
    if (!fields) throw CommandError(fields.error().message, kExitNoVerdict);
    auto get = [&](std::string_view k) -> std::string {
        for (const auto& [key, value] : *fields)
            if (key == k) return value;
        return "-";
    };
    if (ctx.json) {
        std::string out = fmt::format("{{\"socket\": {}, \"status_text\": {}", json_quote(socket.string()), json_quote(d.status_text));
        for (const auto& [k, v] : *fields) {
            bool number = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
            out += fmt::format(", {}: {}", json_quote(k), number ? v : json_quote(v));
        }
        fmt::print("{}}}\n", out);
    } else {
        fmt::print("Engine:      {} (libclamav {})\n", get("state"), get("libclamav"));
        fmt::print("Signatures:  {} from {}\n", get("signatures"), get("database_dir"));
        fmt::print("DB version:  {}{}\n", get("db_version") == "0" ? "local signatures only" : get("db_version"),
                   get("db_time") == "-" ? "" : " (" + get("db_time") + ")");
        fmt::print("Loaded:      {} in {} ms\n", get("loaded"), get("load_ms"));
        if (get("last_error") != "-") fmt::print("Last error:  {}\n", get("last_error"));
        fmt::print("Socket:      {} ({} workers, {} scanning now)\n", socket.string(), get("workers"), get("in_flight"));
        fmt::print("Scans:       {} ({} clean, {} infected, {} unscannable, {} errors)\n", get("scans"), get("clean"),
                   get("infected"), get("unscannable"), get("errors"));
        fmt::print("Reloads:     {}\n", get("engine_reloads"));
        if (get("max_scan_bytes") != "-")
            fmt::print("Limits:      {} per message, {} per file, depth {}, {} files, {} ms\n",
                       format_bytes(std::stoull(get("max_scan_bytes"))), format_bytes(std::stoull(get("max_file_bytes"))),
                       get("max_recursion"), get("max_files"), get("max_scan_ms"));
    }
    ctx.exit_code = get("state") == "ready" ? 0 : kExitNoVerdict;
}

}  // namespace

void add_av_commands(CLI::App& app, Context& ctx) {
    auto* av = app.add_subcommand("av", "Scan files with pmx-avd and show its engine");
    av->require_subcommand(1);
    av->footer("See pmx-av(1).");

    static ScanArgs scan_args;
    auto* scan_cmd = av->add_subcommand("scan", "Scan files (directories: every file below) through pmx-avd");
    scan_cmd->add_option("PATH", scan_args.paths, "Files or directories")->required();
    scan_cmd->add_option("--socket", scan_args.common.socket, "pmx-avd's socket (default: where it says it listens)");
    scan_cmd->add_option("--timeout", scan_args.common.timeout_ms, "Milliseconds to wait for each verdict (default 60000)")
        ->check(CLI::Range(100, 3600000));
    scan_cmd->add_flag("--json", ctx.json, "Print JSON");
    scan_cmd->footer("Exit status: 0 all clean, 1 a virus or an unscannable file, 3 a file got no verdict.");
    scan_cmd->callback([&ctx] { scan(ctx, scan_args); });

    static Common status_args;
    auto* status_cmd = av->add_subcommand("status", "Show the engine: signatures, database version, last load, counters");
    status_cmd->add_option("--socket", status_args.socket, "pmx-avd's socket (default: where it says it listens)");
    status_cmd->add_flag("--json", ctx.json, "Print JSON");
    status_cmd->footer("Exit status: 0 signatures loaded, 3 pmx-avd not running or without signatures.");
    status_cmd->callback([&ctx] { status(ctx, status_args); });

    auto* reload_cmd = av->add_subcommand(
        "reload", "Load the signatures again now (beside the old ones; scans in flight finish on those)");
    reload_cmd->footer("Calls pmx-avd's Reload() over D-Bus: what the av-reload job runs after freshclam updates.");
    reload_cmd->callback([&ctx] { reload_daemon_directly(ctx, "avd"); });
}

}  // namespace pmx::cli
