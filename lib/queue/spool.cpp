#include "queue/spool.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <random>

namespace pmx::queue {

namespace {

constexpr std::string_view kMagic = "pmx-queue-entry 1";

Error sys_error(std::string_view what, const std::filesystem::path& p, int err) {
    return Error{fmt::format("Failed to {} {}: {}", what, p.string(), std::strerror(err))};
}

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { if (fd >= 0) ::close(fd); }
    int release() { int f = fd; fd = -1; return f; }
};

std::string escape(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else out += c;
    }
    return out;
}

std::string unescape(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) {
            char n = v[++i];
            out += n == 'n' ? '\n' : n == 'r' ? '\r' : n;
        } else {
            out += v[i];
        }
    }
    return out;
}

bool parse_i64(std::string_view s, std::int64_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

// The spool root's owner, when we run as root and must hand new files to it.
struct Owner {
    bool chown = false;
    uid_t uid = 0;
    gid_t gid = 0;
};

Owner owner_of(const std::filesystem::path& root) {
    Owner o;
    if (::geteuid() != 0) return o;
    struct stat st {};
    if (::stat(root.c_str(), &st) == 0 && (st.st_uid != 0 || st.st_gid != 0)) {
        o.chown = true;
        o.uid = st.st_uid;
        o.gid = st.st_gid;
    }
    return o;
}

Result<void> fsync_dir(const std::filesystem::path& dir) {
    Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd < 0) return sys_error("open directory", dir, errno);
    if (::fsync(d.fd) < 0) return sys_error("sync directory", dir, errno);
    return {};
}

Result<void> write_all(int fd, std::string_view data, const std::filesystem::path& p) {
    for (size_t off = 0; off < data.size();) {
        ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error("write", p, errno);
        }
        off += static_cast<size_t>(n);
    }
    return {};
}

// Copies len bytes from in at in_off to out's current position: in the kernel when it can.
Result<void> copy_range(int in, std::int64_t in_off, std::int64_t len, int out, const std::filesystem::path& p) {
    loff_t off = in_off;
    std::int64_t left = len;
    while (left > 0) {
        ssize_t n = ::copy_file_range(in, &off, out, nullptr, static_cast<size_t>(left), 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP || errno == EPERM) break;
            return sys_error("copy message into", p, errno);
        }
        if (n == 0) return Error{fmt::format("Failed to copy message into {}: source is shorter than expected", p.string())};
        left -= n;
    }
    std::string buf(std::min<std::int64_t>(left, 1 << 20), '\0');
    while (left > 0) {
        ssize_t n = ::pread(in, buf.data(), static_cast<size_t>(std::min<std::int64_t>(left, buf.size())), off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error("read message for", p, errno);
        }
        if (n == 0) return Error{fmt::format("Failed to copy message into {}: source is shorter than expected", p.string())};
        if (auto r = write_all(out, std::string_view(buf.data(), static_cast<size_t>(n)), p); !r) return r;
        off += n;
        left -= n;
    }
    return {};
}

std::string random_hex(int digits) {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^ (static_cast<std::uint64_t>(::getpid()) << 32)};
    std::uint64_t v = rng();
    return fmt::format("{:0{}x}", v & ((1ull << (4 * digits)) - 1), digits);
}

std::string tmp_name(std::string_view id) { return fmt::format("{}.{}", id, random_hex(8)); }

// Reads the header from an open entry file.
Result<void> read_header_from(int fd, const std::filesystem::path& p, Entry& entry, std::size_t& header_bytes) {
    std::string buf;
    std::size_t searched = 0;
    for (;;) {
        std::size_t old = buf.size();
        if (old >= kMaxHeaderBytes)
            return Error{fmt::format("Failed to read {}: header longer than {} bytes", p.string(), kMaxHeaderBytes)};
        std::size_t want = std::min<std::size_t>(64 * 1024, kMaxHeaderBytes - old);
        buf.resize(old + want);
        ssize_t n = ::pread(fd, buf.data() + old, want, static_cast<off_t>(old));
        if (n < 0) {
            if (errno == EINTR) { buf.resize(old); continue; }
            return sys_error("read", p, errno);
        }
        buf.resize(old + static_cast<size_t>(n));
        std::size_t from = searched > 0 ? searched - 1 : 0;
        std::size_t end = buf.find("\n\n", from);
        if (end != std::string::npos) {
            auto parsed = parse_header(std::string_view(buf).substr(0, end + 2), &header_bytes);
            if (!parsed) return Error{fmt::format("Failed to read {}: {}", p.string(), parsed.error().message)};
            entry = std::move(*parsed);
            return {};
        }
        searched = buf.size();
        if (n == 0) return Error{fmt::format("Failed to read {}: truncated header", p.string())};
    }
}

}  // namespace

std::int64_t now_realtime_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

std::string_view to_string(State s) {
    switch (s) {
        case State::Incoming: return "incoming";
        case State::Active: return "active";
        case State::Deferred: return "deferred";
        case State::Failed: return "failed";
        case State::Sent: return "sent";
    }
    return "?";
}

std::optional<State> parse_state(std::string_view s) {
    for (State st : kAllStates)
        if (to_string(st) == s) return st;
    return std::nullopt;
}

std::string_view to_string(RcptStatus s) {
    switch (s) {
        case RcptStatus::Pending: return "pending";
        case RcptStatus::Delivered: return "delivered";
        case RcptStatus::Failed: return "failed";
    }
    return "?";
}

std::vector<std::string> Entry::pending_recipients() const {
    std::vector<std::string> out;
    for (const auto& r : recipients)
        if (r.status == RcptStatus::Pending) out.push_back(r.address);
    return out;
}

std::size_t Entry::count(RcptStatus s) const {
    return static_cast<std::size_t>(
        std::count_if(recipients.begin(), recipients.end(), [&](const RecipientState& r) { return r.status == s; }));
}

std::string new_entry_id(std::int64_t now_us) {
    return fmt::format("{:014x}-{}", static_cast<std::uint64_t>(now_us), random_hex(6));
}

bool valid_entry_id(std::string_view id) {
    if (id.size() != 21 || id[14] != '-') return false;
    for (size_t i = 0; i < id.size(); ++i) {
        if (i == 14) continue;
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

std::string render_header(const Entry& e) {
    std::string out;
    out.reserve(256 + e.recipients.size() * 64);
    out += kMagic;
    out += '\n';
    auto line = [&](std::string_view key, std::string_view value) {
        out += key;
        out += ": ";
        out += escape(value);
        out += '\n';
    };
    line("id", e.id);
    line("kind", e.kind);
    line("reference", e.reference);
    line("sender", e.sender);
    line("submitted", std::to_string(e.submitted_us));
    line("requeued", std::to_string(e.requeued_us));
    line("attempts", std::to_string(e.attempts));
    line("last-attempt", std::to_string(e.last_attempt_us));
    line("next-attempt", std::to_string(e.next_attempt_us));
    line("last-error", e.last_error);
    line("message-bytes", std::to_string(e.message_bytes));
    for (const auto& r : e.recipients) {
        line("rcpt", fmt::format("{} {} {} {}", to_string(r.status), r.code, r.done_us, r.address));
        if (!r.reply.empty()) line("rcpt-reply", r.reply);
    }
    out += '\n';
    return out;
}

Result<Entry> parse_header(std::string_view text, std::size_t* header_bytes) {
    Entry e;
    size_t pos = 0;
    auto next_line = [&](std::string_view& line) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) return false;
        line = text.substr(pos, nl - pos);
        pos = nl + 1;
        return true;
    };
    std::string_view line;
    if (!next_line(line) || line != kMagic) return Error{"not a pmx queue entry (bad first line)"};
    std::size_t lineno = 1;
    bool have_id = false;
    for (;;) {
        if (!next_line(line)) return Error{"truncated header (no empty line)"};
        ++lineno;
        if (line.empty()) break;
        size_t colon = line.find(": ");
        if (colon == std::string_view::npos) return Error{fmt::format("header line {}: expected \"key: value\"", lineno)};
        std::string_view key = line.substr(0, colon);
        std::string value = unescape(line.substr(colon + 2));
        auto number = [&](std::int64_t& out) -> Result<void> {
            if (!parse_i64(value, out)) return Error{fmt::format("header line {}: {} is not a number", lineno, key)};
            return {};
        };
        Result<void> ok;
        if (key == "id") { e.id = value; have_id = true; }
        else if (key == "kind") e.kind = value;
        else if (key == "reference") e.reference = value;
        else if (key == "sender") e.sender = value;
        else if (key == "submitted") ok = number(e.submitted_us);
        else if (key == "requeued") ok = number(e.requeued_us);
        else if (key == "attempts") ok = number(e.attempts);
        else if (key == "last-attempt") ok = number(e.last_attempt_us);
        else if (key == "next-attempt") ok = number(e.next_attempt_us);
        else if (key == "last-error") e.last_error = value;
        else if (key == "message-bytes") ok = number(e.message_bytes);
        else if (key == "rcpt") {
            if (e.recipients.size() >= kMaxRecipients)
                return Error{fmt::format("more than {} recipients", kMaxRecipients)};
            // "<status> <code> <done_us> <address>": the address is the rest (it may hold spaces).
            RecipientState r;
            std::string_view v = value;
            std::string_view parts[3];
            for (auto& part : parts) {
                size_t sp = v.find(' ');
                if (sp == std::string_view::npos) return Error{fmt::format("header line {}: malformed rcpt", lineno)};
                part = v.substr(0, sp);
                v.remove_prefix(sp + 1);
            }
            if (parts[0] == "pending") r.status = RcptStatus::Pending;
            else if (parts[0] == "delivered") r.status = RcptStatus::Delivered;
            else if (parts[0] == "failed") r.status = RcptStatus::Failed;
            else return Error{fmt::format("header line {}: unknown recipient status {}", lineno, parts[0])};
            std::int64_t code = 0;
            if (!parse_i64(parts[1], code) || !parse_i64(parts[2], r.done_us))
                return Error{fmt::format("header line {}: malformed rcpt", lineno)};
            r.code = static_cast<int>(code);
            if (v.empty()) return Error{fmt::format("header line {}: empty recipient", lineno)};
            r.address = std::string(v);
            e.recipients.push_back(std::move(r));
        } else if (key == "rcpt-reply") {
            if (e.recipients.empty()) return Error{fmt::format("header line {}: rcpt-reply before any rcpt", lineno)};
            e.recipients.back().reply = value;
        }
        // Unknown keys: a newer writer's; ignored.
        if (!ok) return ok.error();
    }
    if (!have_id || e.id.empty()) return Error{"header has no id"};
    if (e.recipients.empty()) return Error{"header has no recipients"};
    if (e.message_bytes < 0) return Error{"negative message size"};
    if (header_bytes) *header_bytes = pos;
    return e;
}

// --- EntryFile ---

EntryFile::EntryFile(EntryFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), entry_(std::move(o.entry_)), header_bytes_(o.header_bytes_), state_(o.state_),
      path_(std::move(o.path_)) {}

EntryFile& EntryFile::operator=(EntryFile&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
        entry_ = std::move(o.entry_);
        header_bytes_ = o.header_bytes_;
        state_ = o.state_;
        path_ = std::move(o.path_);
    }
    return *this;
}

EntryFile::~EntryFile() {
    if (fd_ >= 0) ::close(fd_);
}

Result<std::string> EntryFile::read_message() const {
    struct stat st {};
    if (::fstat(fd_, &st) < 0) return sys_error("stat", path_, errno);
    std::int64_t have = static_cast<std::int64_t>(st.st_size) - static_cast<std::int64_t>(header_bytes_);
    if (have != entry_.message_bytes)
        return Error{fmt::format("Failed to read {}: message is {} bytes, header says {}", path_.string(),
                                 std::max<std::int64_t>(have, 0), entry_.message_bytes)};
    std::string msg(static_cast<size_t>(have), '\0');
    size_t off = 0;
    while (off < msg.size()) {
        ssize_t n = ::pread(fd_, msg.data() + off, msg.size() - off, static_cast<off_t>(header_bytes_ + off));
        if (n < 0) {
            if (errno == EINTR) continue;
            return sys_error("read", path_, errno);
        }
        if (n == 0) return Error{fmt::format("Failed to read {}: file shrank while reading", path_.string())};
        off += static_cast<size_t>(n);
    }
    return msg;
}

// --- Spool ---

std::filesystem::path Spool::dir(State s) const { return root_ / std::string(to_string(s)); }

Result<void> Spool::ensure_directories() const {
    std::error_code ec;
    if (!std::filesystem::is_directory(root_, ec)) {
        std::filesystem::create_directories(root_, ec);
        if (ec) return Error{fmt::format("Failed to create spool directory {}: {}", root_.string(), ec.message())};
    }
    Owner owner = owner_of(root_);
    std::vector<std::filesystem::path> dirs{tmp_dir()};
    for (State s : kAllStates) dirs.push_back(dir(s));
    for (const auto& d : dirs) {
        if (::mkdir(d.c_str(), 0750) < 0) {
            if (errno == EEXIST) continue;
            return sys_error("create spool directory", d, errno);
        }
        if (owner.chown && ::chown(d.c_str(), owner.uid, owner.gid) < 0)
            return sys_error("hand over spool directory", d, errno);
    }
    return {};
}

Result<std::string> Spool::add(const Envelope& envelope, std::optional<std::string_view> message,
                               const std::filesystem::path& message_file, std::int64_t now_us) const {
    if (envelope.recipients.empty()) return Error{"Failed to queue message: no recipients"};
    if (envelope.recipients.size() > kMaxRecipients)
        return Error{fmt::format("Failed to queue message: more than {} recipients", kMaxRecipients)};
    auto bad_address = [](std::string_view a) {
        return std::any_of(a.begin(), a.end(), [](char c) {
            return static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '<' || c == '>';
        });
    };
    if (bad_address(envelope.sender))
        return Error{fmt::format("Failed to queue message: invalid sender address \"{}\"", escape(envelope.sender))};
    for (const auto& r : envelope.recipients)
        if (r.empty() || bad_address(r) || r.find(' ') == 0)
            return Error{fmt::format("Failed to queue message: invalid recipient address \"{}\"", escape(r))};
    if (auto r = ensure_directories(); !r) return Error{fmt::format("Failed to queue message: {}", r.error().message)};

    Fd source;
    std::int64_t size = 0;
    if (message) {
        size = static_cast<std::int64_t>(message->size());
    } else {
        source.fd = ::open(message_file.c_str(), O_RDONLY | O_CLOEXEC);
        if (source.fd < 0) return sys_error("open message", message_file, errno);
        struct stat st {};
        if (::fstat(source.fd, &st) < 0) return sys_error("stat message", message_file, errno);
        if (!S_ISREG(st.st_mode)) return Error{fmt::format("Failed to queue {}: not a regular file", message_file.string())};
        size = st.st_size;
    }
    if (size == 0) return Error{"Failed to queue message: the message is empty"};

    Entry e;
    e.id = new_entry_id(now_us);
    e.kind = envelope.kind;
    e.reference = envelope.reference;
    e.sender = envelope.sender;
    e.submitted_us = now_us;
    e.message_bytes = size;
    for (const auto& r : envelope.recipients) e.recipients.push_back(RecipientState{.address = r});

    auto tmp = tmp_dir() / tmp_name(e.id);
    Fd out{::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)};
    if (out.fd < 0) return sys_error("create", tmp, errno);
    auto fail = [&](Error err) -> Result<std::string> {
        ::unlink(tmp.c_str());
        return err;
    };
    if (auto r = write_all(out.fd, render_header(e), tmp); !r) return fail(r.error());
    if (message) {
        if (auto r = write_all(out.fd, *message, tmp); !r) return fail(r.error());
    } else {
        if (auto r = copy_range(source.fd, 0, size, out.fd, tmp); !r) return fail(r.error());
    }
    Owner owner = owner_of(root_);
    if (owner.chown && ::fchown(out.fd, owner.uid, owner.gid) < 0) return fail(sys_error("hand over", tmp, errno));
    if (::fsync(out.fd) < 0) return fail(sys_error("sync", tmp, errno));
    auto target = path(State::Incoming, e.id);
    if (::rename(tmp.c_str(), target.c_str()) < 0) return fail(sys_error("rename into", target, errno));
    if (auto r = fsync_dir(dir(State::Incoming)); !r) return r.error();
    return e.id;
}

Result<std::vector<std::pair<std::string, std::int64_t>>> Spool::ids_with_mtime(State s) const {
    std::vector<std::pair<std::string, std::int64_t>> out;
    auto d = dir(s);
    DIR* raw = ::opendir(d.c_str());
    if (!raw) {
        if (errno == ENOENT) return out;
        return sys_error("read directory", d, errno);
    }
    int dfd = ::dirfd(raw);
    while (dirent* de = ::readdir(raw)) {
        std::string_view name = de->d_name;
        if (!valid_entry_id(name)) continue;
        struct stat st {};
        if (::fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) continue;
        out.emplace_back(std::string(name),
                         static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000);
    }
    ::closedir(raw);
    std::sort(out.begin(), out.end());
    return out;
}

Result<std::vector<std::string>> Spool::ids(State s) const {
    auto with = ids_with_mtime(s);
    if (!with) return with.error();
    std::vector<std::string> out;
    out.reserve(with->size());
    for (auto& [id, m] : *with) out.push_back(std::move(id));
    return out;
}

Result<std::vector<ListedEntry>> Spool::list(std::optional<State> only) const {
    std::vector<ListedEntry> out;
    for (State s : kAllStates) {
        if (only && *only != s) continue;
        auto ids = ids_with_mtime(s);
        if (!ids) return ids.error();
        for (auto& [id, mtime] : *ids) {
            ListedEntry le{.state = s, .entry = {}, .mtime_us = mtime, .problem = {}};
            auto f = open(s, id);
            if (f) {
                le.entry = std::move(f->entry());
            } else {
                if (errno == ENOENT && !std::filesystem::exists(path(s, id))) continue;  // moved meanwhile
                le.entry.id = id;
                le.problem = f.error().message;
            }
            out.push_back(std::move(le));
        }
    }
    return out;
}

std::optional<State> Spool::locate(std::string_view id) const {
    if (!valid_entry_id(id)) return std::nullopt;
    for (State s : kAllStates) {
        struct stat st {};
        if (::stat(path(s, id).c_str(), &st) == 0) return s;
    }
    return std::nullopt;
}

Result<EntryFile> Spool::open(State s, std::string_view id) const {
    EntryFile f;
    f.path_ = path(s, id);
    f.state_ = s;
    f.fd_ = ::open(f.path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd_ < 0) return sys_error("open", f.path_, errno);
    if (auto r = read_header_from(f.fd_, f.path_, f.entry_, f.header_bytes_); !r) return r.error();
    if (f.entry_.id != id)
        return Error{fmt::format("Failed to read {}: header names entry {}", f.path_.string(), f.entry_.id)};
    return f;
}

Result<EntryFile> Spool::lock(State s, std::string_view id, LockFailure* why) const {
    auto set = [&](LockFailure w) { if (why) *why = w; };
    set(LockFailure::None);
    EntryFile f;
    f.path_ = path(s, id);
    f.state_ = s;
    f.fd_ = ::open(f.path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (f.fd_ < 0) {
        int err = errno;
        set(err == ENOENT ? LockFailure::Gone : LockFailure::Other);
        return sys_error("open", f.path_, err);
    }
    if (::flock(f.fd_, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        if (err == EWOULDBLOCK) {
            set(LockFailure::Busy);
            return Error{fmt::format("Entry {} is busy (being delivered or changed right now)", id)};
        }
        set(LockFailure::Other);
        return sys_error("lock", f.path_, err);
    }
    // The name may have moved on between open and flock (renamed into another state).
    struct stat by_fd {}, by_name {};
    if (::fstat(f.fd_, &by_fd) < 0) { set(LockFailure::Other); return sys_error("stat", f.path_, errno); }
    if (::stat(f.path_.c_str(), &by_name) < 0 || by_fd.st_ino != by_name.st_ino || by_fd.st_dev != by_name.st_dev) {
        set(LockFailure::Gone);
        errno = ENOENT;
        return Error{fmt::format("Entry {} moved while locking it", id)};
    }
    if (auto r = read_header_from(f.fd_, f.path_, f.entry_, f.header_bytes_); !r) {
        set(LockFailure::Damaged);
        return r.error();
    }
    if (f.entry_.id != id) {
        set(LockFailure::Damaged);
        return Error{fmt::format("Failed to read {}: header names entry {}", f.path_.string(), f.entry_.id)};
    }
    return f;
}

Result<void> Spool::move(EntryFile& f, State to, bool durable) const {
    if (f.state_ == to) return {};
    auto target = path(to, f.entry_.id);
    if (::rename(f.path_.c_str(), target.c_str()) < 0) return sys_error("move entry to", target, errno);
    auto from_dir = dir(f.state_);
    f.path_ = target;
    f.state_ = to;
    if (durable) {
        if (auto r = fsync_dir(dir(to)); !r) return r;
        if (auto r = fsync_dir(from_dir); !r) return r;
    }
    return {};
}

Result<void> Spool::rewrite(EntryFile& f, State to, bool durable, std::int64_t mtime_us) const {
    auto tmp = tmp_dir() / tmp_name(f.entry_.id);
    Fd out{::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640)};
    if (out.fd < 0) return sys_error("create", tmp, errno);
    auto fail = [&](Error err) -> Result<void> {
        ::unlink(tmp.c_str());
        return err;
    };
    // Locked before it gets a visible name, so nobody else can take it between the two renames.
    if (::flock(out.fd, LOCK_EX | LOCK_NB) < 0) return fail(sys_error("lock", tmp, errno));
    std::string header = render_header(f.entry_);
    if (auto r = write_all(out.fd, header, tmp); !r) return fail(r.error());
    if (auto r = copy_range(f.fd_, static_cast<std::int64_t>(f.header_bytes_), f.entry_.message_bytes, out.fd, tmp); !r)
        return fail(r.error());
    Owner owner = owner_of(root_);
    if (owner.chown && ::fchown(out.fd, owner.uid, owner.gid) < 0) return fail(sys_error("hand over", tmp, errno));
    if (mtime_us > 0) {
        timespec times[2];
        times[0].tv_sec = 0;
        times[0].tv_nsec = UTIME_OMIT;
        times[1].tv_sec = mtime_us / 1000000;
        times[1].tv_nsec = (mtime_us % 1000000) * 1000;
        if (::futimens(out.fd, times) < 0) return fail(sys_error("set time of", tmp, errno));
    }
    if (durable && ::fsync(out.fd) < 0) return fail(sys_error("sync", tmp, errno));
    if (::rename(tmp.c_str(), f.path_.c_str()) < 0) return fail(sys_error("replace", f.path_, errno));
    ::close(f.fd_);
    f.fd_ = out.release();
    f.header_bytes_ = header.size();
    return move(f, to, durable);
}

Result<void> Spool::remove(EntryFile& f) const {
    if (::unlink(f.path_.c_str()) < 0) return sys_error("remove", f.path_, errno);
    return fsync_dir(dir(f.state_));
}

Result<void> Spool::move_unread(State from, std::string_view id, State to) const {
    auto src = path(from, id), dst = path(to, id);
    if (::rename(src.c_str(), dst.c_str()) < 0) return sys_error("move entry to", dst, errno);
    return fsync_dir(dir(to));
}

Result<std::size_t> Spool::remove_stale_tmp(std::int64_t now_us, std::int64_t max_age_us) const {
    std::size_t removed = 0;
    auto d = tmp_dir();
    DIR* raw = ::opendir(d.c_str());
    if (!raw) {
        if (errno == ENOENT) return removed;
        return sys_error("read directory", d, errno);
    }
    int dfd = ::dirfd(raw);
    while (dirent* de = ::readdir(raw)) {
        if (de->d_name[0] == '.') continue;
        struct stat st {};
        if (::fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) continue;
        std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000;
        if (now_us - mtime > max_age_us && ::unlinkat(dfd, de->d_name, 0) == 0) ++removed;
    }
    ::closedir(raw);
    return removed;
}

}  // namespace pmx::queue
