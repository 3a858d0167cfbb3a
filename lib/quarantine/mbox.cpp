#include "quarantine/mbox.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>

#include "store/audit.hpp"

namespace pmx::quarantine {

namespace fs = std::filesystem;

namespace {

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

struct LineBuffer {
    char* data = nullptr;
    std::size_t capacity = 0;
    ~LineBuffer() { std::free(data); }
};

bool needs_quoting(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && line[i] == '>') ++i;
    return line.substr(i).starts_with("From ");
}

}  // namespace

std::string mboxrd_from_line(std::string_view sender, std::int64_t time_us) {
    std::string who = sender.empty() ? std::string("MAILER-DAEMON") : std::string(sender);
    for (char& c : who)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) c = '_';  // the From_ line is split on spaces
    std::time_t t = static_cast<std::time_t>(time_us / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char date[64];
    std::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
    return fmt::format("From {} {}\n", who, date);
}

Result<void> append_mboxrd(std::FILE* out, const fs::path& message, std::string_view sender, std::int64_t time_us) {
    File in(std::fopen(message.c_str(), "re"));
    if (!in) return Error{fmt::format("Failed to open {}: {}", message.string(), std::strerror(errno))};
    auto write = [&](std::string_view s) { return std::fwrite(s.data(), 1, s.size(), out) == s.size(); };
    bool ok = write(mboxrd_from_line(sender, time_us));
    LineBuffer line;
    for (;;) {
        errno = 0;
        ssize_t n = ::getline(&line.data, &line.capacity, in.get());
        if (n < 0) {
            if (errno != 0 && std::ferror(in.get()))
                return Error{fmt::format("Failed to read {}: {}", message.string(), std::strerror(errno))};
            break;
        }
        std::string_view l(line.data, static_cast<std::size_t>(n));
        if (!l.empty() && l.back() == '\n') l.remove_suffix(1);  // a last line without one gets one
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (needs_quoting(l)) ok = ok && write(">");
        ok = ok && write(l) && write("\n");
    }
    ok = ok && write("\n");
    if (!ok) return Error{fmt::format("Failed to write the mbox: {}", std::strerror(errno))};
    return {};
}

Result<ExportResult> export_mbox(store::Database& db, const std::vector<store::QuarantinedMessage>& messages,
                                 const fs::path& output, const std::string& actor) {
    if (actor.empty()) return Error{"Failed to export quarantined messages: no actor given"};
    const bool to_stdout = output == "-";
    fs::path tmp;
    File owned;
    std::FILE* out = stdout;
    if (!to_stdout) {
        unsigned int r = 0;
        if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) r = static_cast<unsigned int>(::getpid());
        tmp = output.parent_path() / fmt::format(".{}.{:08x}.tmp", output.filename().string(), r);
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);  // messages are private
        if (fd < 0) return Error{fmt::format("Failed to create {}: {}", tmp.string(), std::strerror(errno))};
        owned.reset(::fdopen(fd, "w"));
        if (!owned) {
            ::close(fd);
            ::unlink(tmp.c_str());
            return Error{fmt::format("Failed to open {}: {}", tmp.string(), std::strerror(errno))};
        }
        out = owned.get();
    }
    auto abandon = [&](Error e) -> Result<ExportResult> {
        if (!to_stdout) {
            owned.reset();
            ::unlink(tmp.c_str());
        }
        return e;
    };

    ExportResult result;
    for (const auto& m : messages) {
        if (auto r = append_mboxrd(out, m.path, m.meta.sender, m.meta.time_us); !r)
            return abandon(Error{fmt::format("Failed to export quarantined message {}: {}", m.id, r.error().message)});
        ++result.messages;
    }
    if (std::fflush(out) != 0) return abandon(Error{fmt::format("Failed to write the mbox: {}", std::strerror(errno))});
    if (!to_stdout) {
        long size = std::ftell(out);
        result.bytes = size > 0 ? static_cast<std::uint64_t>(size) : 0;
        if (::fsync(::fileno(out)) < 0)
            return abandon(Error{fmt::format("Failed to sync {}: {}", tmp.string(), std::strerror(errno))});
        if (std::fclose(owned.release()) != 0)
            return abandon(Error{fmt::format("Failed to close {}: {}", tmp.string(), std::strerror(errno))});
        if (::rename(tmp.c_str(), output.c_str()) < 0)
            return abandon(Error{fmt::format("Failed to rename {} to {}: {}", tmp.string(), output.string(),
                                             std::strerror(errno))});
        auto dir = output.parent_path().empty() ? fs::path(".") : output.parent_path();
        int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            ::fsync(dfd);
            ::close(dfd);
        }
    }

    auto txn = db.transaction();
    if (!txn) return txn.error();
    for (const auto& m : messages) {
        auto audit = store::record_audit(db, {.actor = actor, .action = "export", .message_id = m.id,
                                              .detail = fmt::format("to {}", to_stdout ? "standard output" : output.string())});
        if (!audit) return audit.error();
    }
    if (auto c = txn->commit(); !c) return c.error();
    return result;
}

}  // namespace pmx::quarantine
