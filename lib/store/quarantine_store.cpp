#include "store/quarantine_store.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

#include "store/list_match.hpp"
#include "store/quarantine_rows.hpp"

namespace pmx::store {

namespace {

namespace fs = std::filesystem;

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { if (fd >= 0) ::close(fd); }
};

Error fail(std::string_view what, const fs::path& p, int err) {
    return Error{fmt::format("Failed to quarantine message: {} {}: {}", what, p.string(), std::strerror(err))};
}

Result<void> fsync_dir(const fs::path& dir) {
    Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (d.fd < 0 || ::fsync(d.fd) < 0) return fail("sync directory", dir, errno);
    return {};
}

// dir/YYYY/MM/DD, creating what is missing (mode 0750) and syncing each parent of a new directory.
Result<fs::path> day_directory(const fs::path& dir, std::int64_t time_us) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) < 0) return fail("use quarantine directory", dir, errno);
    if (!S_ISDIR(st.st_mode)) return fail("use quarantine directory", dir, ENOTDIR);
    std::time_t t = static_cast<std::time_t>(time_us / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    fs::path p = dir;
    for (auto part : {fmt::format("{:04}", tm.tm_year + 1900), fmt::format("{:02}", tm.tm_mon + 1),
                      fmt::format("{:02}", tm.tm_mday)}) {
        auto parent = p;
        p /= part;
        if (::mkdir(p.c_str(), 0750) == 0) {
            if (auto r = fsync_dir(parent); !r) return r.error();
        } else if (errno != EEXIST) {
            return fail("create directory", p, errno);
        }
    }
    return p;
}

Result<std::string> random_name() {
    unsigned char bytes[16];
    for (size_t got = 0; got < sizeof bytes;) {
        ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error{fmt::format("Failed to quarantine message: getrandom: {}", std::strerror(errno))};
        }
        got += static_cast<size_t>(n);
    }
    std::string out;
    for (auto b : bytes) out += fmt::format("{:02x}", b);
    return out;
}

Result<void> write_all(int fd, std::string_view data, const fs::path& p) {
    for (size_t off = 0; off < data.size();) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("write", p, errno);
        }
        off += static_cast<size_t>(n);
    }
    return {};
}

bool try_next_method(int err) { return err == EXDEV || err == EINVAL || err == ENOSYS || err == EOPNOTSUPP; }

// size bytes from in (from offset 0) to out: copy_file_range (in-kernel, reflinks where the
// file system can), else sendfile, else pread/write.
Result<void> copy_fd(int in, std::uint64_t size, int out, const fs::path& p) {
    off_t off = 0;
    auto left = [&] { return static_cast<size_t>(size - static_cast<std::uint64_t>(off)); };
    int method = 0;  // 0 copy_file_range, 1 sendfile, 2 pread/write
    char buf[64 * 1024];
    while (static_cast<std::uint64_t>(off) < size) {
        ssize_t n;
        size_t chunk = std::min<size_t>(left(), 1 << 30);
        if (method == 0) n = ::copy_file_range(in, &off, out, nullptr, chunk, 0);
        else if (method == 1) n = ::sendfile(out, in, &off, chunk);
        else {
            n = ::pread(in, buf, std::min(chunk, sizeof buf), off);
            if (n > 0) {
                if (auto w = write_all(out, std::string_view(buf, static_cast<size_t>(n)), p); !w) return w.error();
                off += n;
            }
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (method < 2 && try_next_method(errno)) {
                ++method;
                continue;
            }
            return fail("copy the message into", p, errno);
        }
        if (n == 0)
            return Error{fmt::format("Failed to quarantine message: its file ended after {} of {} bytes", off, size)};
    }
    return {};
}

// Writes the message durably; returns (day dir, file name relative to dir).
template <class Fill>
Result<std::pair<fs::path, std::string>> store_file(const fs::path& dir, std::int64_t time_us, Fill fill) {
    auto day = day_directory(dir, time_us);
    if (!day) return day.error();
    auto name = random_name();
    if (!name) return name.error();
    auto final_path = *day / (*name + ".eml");
    auto tmp = *day / ("." + *name + ".tmp");

    Fd file(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
    if (file.fd < 0) return fail("create", tmp, errno);
    auto cleanup = [&](Error e) {
        ::unlink(tmp.c_str());
        return e;
    };
    if (auto r = fill(file.fd, tmp); !r) return cleanup(r.error());
    if (::fsync(file.fd) < 0) return cleanup(fail("sync", tmp, errno));
    if (::close(std::exchange(file.fd, -1)) < 0) return cleanup(fail("close", tmp, errno));
    if (::rename(tmp.c_str(), final_path.c_str()) < 0) return cleanup(fail("rename", tmp, errno));
    if (auto r = fsync_dir(*day); !r) {
        ::unlink(final_path.c_str());
        return r.error();
    }
    auto relative = final_path.lexically_relative(dir).string();
    return std::make_pair(*day, relative);
}

Result<std::int64_t> index_file(Database& db, const fs::path& dir, const fs::path& day, const std::string& file,
                                std::int64_t time_us, std::uint64_t size, const QuarantineMeta& meta) {
    auto insert = [&]() -> Result<std::int64_t> {
        auto txn = db.transaction();
        if (!txn) return txn.error();
        auto row = db.cached(
            "INSERT INTO quarantine (time_us, file, size, queue_id, client_ip, sender, subject, reason, score, node, "
            "rule) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
        if (!row) return row.error();
        (*row)->bind(1, time_us).bind(2, file).bind(3, static_cast<std::int64_t>(size)).bind(4, meta.queue_id);
        (*row)->bind(5, normalize_client_ip(meta.client_ip).value_or(meta.client_ip)).bind(6, meta.sender);
        (*row)->bind(7, meta.subject).bind(8, meta.reason).bind(9, meta.score).bind(10, meta.node).bind(11, meta.rule);
        auto stepped = (*row)->step();
        if (!stepped) return stepped.error();
        if (!*stepped) return Error{fmt::format("Failed to write to database {}: no id returned", db.path().string())};
        std::int64_t id = (*row)->int64(0);
        if (auto done = (*row)->run(); !done) return done.error();

        auto rcpt = db.cached("INSERT INTO quarantine_recipient (message_id, recipient) VALUES (?, ?)");
        if (!rcpt) return rcpt.error();
        std::set<std::string> seen;
        for (const auto& r : meta.recipients) {
            if (!seen.insert(r).second) continue;
            (*rcpt)->reset();
            (*rcpt)->bind(1, id).bind(2, r);
            if (auto done = (*rcpt)->run(); !done) return done.error();
        }
        if (auto c = txn->commit(); !c) return c.error();
        return id;
    };
    auto id = insert();
    if (!id) {
        auto path = dir / file;
        ::unlink(path.c_str());
        (void)fsync_dir(day);
        return Error{fmt::format("Failed to quarantine message (its file is removed again): {}", id.error().message)};
    }
    return id;
}

template <class Fill>
Result<std::int64_t> quarantine_with(Database& db, const fs::path& dir, std::uint64_t size, const QuarantineMeta& meta,
                                     Fill fill) {
    if (meta.recipients.empty()) return Error{"Failed to quarantine message: no recipients given"};
    auto time_us = meta.time_us ? meta.time_us : now_us();
    auto stored = store_file(dir, time_us, fill);
    if (!stored) return stored.error();
    return index_file(db, dir, stored->first, stored->second, time_us, size, meta);
}

}  // namespace

namespace detail {

QuarantinedMessage read_quarantine_row(const Statement& s, const fs::path& dir) {
    QuarantinedMessage m;
    m.id = s.int64(0);
    m.meta.time_us = s.int64(1);
    m.file = s.text(2);
    m.path = dir / m.file;
    m.size = static_cast<std::uint64_t>(s.int64(3));
    m.meta.queue_id = s.text(4);
    m.meta.client_ip = s.text(5);
    m.meta.sender = s.text(6);
    m.meta.subject = s.text(7);
    m.meta.reason = s.text(8);
    m.meta.score = s.optional_real(9);
    m.meta.node = s.text(10);
    m.meta.rule = s.text(11);
    return m;
}

Result<void> load_recipients(Database& db, std::vector<QuarantinedMessage>& messages) {
    if (messages.empty()) return {};
    auto stmt = db.cached(
        "SELECT recipient, released_us, released_by, released_to FROM quarantine_recipient WHERE message_id = ? "
        "ORDER BY recipient");
    if (!stmt) return stmt.error();
    for (auto& m : messages) {
        (*stmt)->reset();
        (*stmt)->bind(1, m.id);
        for (;;) {
            auto row = (*stmt)->step();
            if (!row) return row.error();
            if (!*row) break;
            m.meta.recipients.push_back((*stmt)->text(0));
            m.states.push_back({(*stmt)->text(0), (*stmt)->optional_int64(1), (*stmt)->text(2), (*stmt)->text(3)});
        }
    }
    return {};
}

}  // namespace detail

bool QuarantinedMessage::held() const {
    return std::any_of(states.begin(), states.end(), [](const RecipientState& r) { return !r.released_us; });
}

Result<std::int64_t> quarantine(Database& db, const fs::path& dir, std::string_view message, const QuarantineMeta& meta) {
    return quarantine_with(db, dir, message.size(), meta,
                           [&](int fd, const fs::path& p) { return write_all(fd, message, p); });
}

Result<std::int64_t> quarantine(Database& db, const fs::path& dir, MessageFd message, const QuarantineMeta& meta) {
    if (message.fd < 0) return Error{"Failed to quarantine message: no message file"};
    return quarantine_with(db, dir, message.size, meta,
                           [&](int fd, const fs::path& p) { return copy_fd(message.fd, message.size, fd, p); });
}

Result<std::optional<QuarantinedMessage>> find_quarantined(Database& db, const fs::path& dir, std::int64_t id) {
    auto stmt = db.prepare(fmt::format("SELECT {} FROM quarantine q WHERE q.id = ?", detail::quarantine_columns));
    if (!stmt) return stmt.error();
    stmt->bind(1, id);
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<QuarantinedMessage>();
    std::vector<QuarantinedMessage> one{detail::read_quarantine_row(*stmt, dir)};
    stmt->reset();
    if (auto r = detail::load_recipients(db, one); !r) return r.error();
    return std::optional<QuarantinedMessage>(std::move(one.front()));
}

Result<std::optional<std::string>> delete_quarantine_rows(Database& db, std::int64_t id) {
    auto txn = db.transaction();
    if (!txn) return txn.error();
    auto del = db.cached("DELETE FROM quarantine WHERE id = ? RETURNING file");  // recipients: ON DELETE CASCADE
    if (!del) return del.error();
    (*del)->bind(1, id);
    auto row = (*del)->step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::string>();
    std::string file = (*del)->text(0);
    if (auto r = (*del)->run(); !r) return r.error();
    if (auto r = txn->commit(); !r) return r.error();
    return std::optional<std::string>(std::move(file));
}

Result<void> remove_quarantine_file(const fs::path& dir, const std::string& file) {
    auto path = dir / file;
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        return Error{fmt::format("Failed to delete quarantined message file {}: {}", path.string(), std::strerror(errno))};
    return {};
}

Result<bool> delete_quarantined(Database& db, const fs::path& dir, std::int64_t id) {
    auto file = delete_quarantine_rows(db, id);
    if (!file) return file.error();
    if (!*file) return false;
    if (auto r = remove_quarantine_file(dir, **file); !r) return r.error();
    return true;
}

Result<std::string> read_message_headers(const fs::path& file, std::size_t max_bytes) {
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.fd < 0) return Error{fmt::format("Failed to open {}: {}", file.string(), std::strerror(errno))};
    std::string out;
    char buf[16 * 1024];
    while (out.size() < max_bytes) {
        ssize_t n = ::read(fd.fd, buf, std::min(sizeof buf, max_bytes - out.size()));
        if (n < 0) {
            if (errno == EINTR) continue;
            return Error{fmt::format("Failed to read {}: {}", file.string(), std::strerror(errno))};
        }
        if (n == 0) break;
        auto start = out.size() > 3 ? out.size() - 3 : 0;
        out.append(buf, static_cast<size_t>(n));
        auto crlf = out.find("\r\n\r\n", start);
        auto lf = out.find("\n\n", start);
        if (crlf != std::string::npos || lf != std::string::npos) {
            size_t end = std::min(crlf == std::string::npos ? out.size() : crlf + 2, lf == std::string::npos ? out.size() : lf + 1);
            out.resize(end);
            return out;
        }
    }
    return out;
}

}  // namespace pmx::store
