#include "secret/keyring.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "config/loader.hpp"
#include "secret/crypto.hpp"
#include "store/database.hpp"
#include "util/atomic_file.hpp"
#include "util/paths.hpp"

namespace pmx::secret {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t key_bytes = 32;

std::string format_keys(const std::vector<Key>& keys) {
    std::string out =
        "# pmx keyring: signs digest links and the re-injection stamp. Keep it secret.\n"
        "# One key per line, newest (the signing key) first: id created_us key (base64url).\n";
    for (const auto& k : keys) out += fmt::format("{} {} {}\n", k.id, k.created_us, base64url(k.bytes));
    return out;
}

Result<Key> new_key(const std::vector<Key>& existing) {
    for (int attempt = 0; attempt < 16; ++attempt) {
        auto id = random_bytes(4);
        if (!id) return id.error();
        auto bytes = random_bytes(key_bytes);
        if (!bytes) return bytes.error();
        Key k{hex(*id), store::now_us(), std::move(*bytes)};
        bool taken = false;
        for (const auto& e : existing) taken = taken || e.id == k.id;
        if (!taken) return k;
    }
    return Error{"Failed to make a new key: no free key id"};
}

// Root creating the file hands it to the directory's owner (the pmx user owns /var/lib/pmx),
// so the daemons can read it; the mode keeps it from everyone else.
Result<void> give_to_directory_owner(const fs::path& file) {
    if (::geteuid() != 0) return {};
    struct stat dir {};
    if (::stat(file.parent_path().c_str(), &dir) < 0) return {};
    if (dir.st_uid == 0 && dir.st_gid == 0) return {};
    // In a user namespace (a daemon with PrivateUsers=) root may not give files away (EPERM,
    // EINVAL for unmapped ids): the file then stays with the daemon that made it and reads it.
    if (::chown(file.c_str(), dir.st_uid, dir.st_gid) < 0 && errno != EPERM && errno != EINVAL)
        return Error{fmt::format("Failed to hand {} to the owner of its directory: {}", file.string(),
                                 std::strerror(errno))};
    return {};
}

Result<void> sync_directory(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Error{fmt::format("Failed to open {}: {}", dir.string(), std::strerror(errno))};
    int r = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (r < 0) return Error{fmt::format("Failed to sync {}: {}", dir.string(), std::strerror(err))};
    return {};
}

// Creates file with content unless it exists: written and synced under a temporary name, then
// linked into place (link fails when another process was first, and then its file stands).
Result<void> create_exclusively(const fs::path& file, std::string_view content) {
    auto tmp = file;
    tmp += fmt::format(".new.{}", ::getpid());
    ::unlink(tmp.c_str());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) return Error{fmt::format("Failed to create {}: {}", tmp.string(), std::strerror(errno))};
    bool ok = true;
    for (std::size_t off = 0; ok && off < content.size();) {
        ssize_t n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ok = false;
        else off += static_cast<std::size_t>(n);
    }
    int err = errno;
    if (ok && ::fsync(fd) < 0) ok = false, err = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        return Error{fmt::format("Failed to write {}: {}", tmp.string(), std::strerror(err))};
    }
    if (auto r = give_to_directory_owner(tmp); !r) {
        ::unlink(tmp.c_str());
        return r.error();
    }
    int linked = ::link(tmp.c_str(), file.c_str());
    err = errno;
    ::unlink(tmp.c_str());
    if (linked < 0 && err != EEXIST)
        return Error{fmt::format("Failed to create {}: {}", file.string(), std::strerror(err))};
    return sync_directory(file.parent_path());
}

}  // namespace

const Key* Keyring::find(std::string_view id) const {
    for (const auto& k : keys_)
        if (k.id == id) return &k;
    return nullptr;
}

std::string Keyring::derive(const Key& key, std::string_view purpose) {
    auto d = hmac_sha256(key.bytes, purpose);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

fs::path keyring_path(const config::Snapshot& snapshot) { return state_path(snapshot.string("general.keyring")); }

Result<Keyring> load_keyring(const fs::path& file) {
    auto text = read_file(file);
    if (!text) return text.error();
    std::vector<Key> keys;
    std::istringstream in(*text);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        Key k;
        std::string encoded, extra;
        auto bad = [&](std::string_view why) {
            return Error{fmt::format("{}:{}: {} (expected: id created_us key)", file.string(), number, why)};
        };
        if (!(fields >> k.id >> k.created_us >> encoded) || (fields >> extra)) return bad("not a key line");
        auto bytes = base64url_decode(encoded);
        if (!bytes || bytes->size() != key_bytes) return bad("the key is not 32 bytes of base64url");
        k.bytes = std::move(*bytes);
        for (const auto& e : keys)
            if (e.id == k.id) return bad(fmt::format("key id {} appears twice", k.id));
        keys.push_back(std::move(k));
    }
    if (keys.empty()) return Error{fmt::format("{}: holds no key", file.string())};
    return Keyring(std::move(keys));
}

Result<Keyring> load_or_create_keyring(const fs::path& file) {
    if (::access(file.c_str(), F_OK) < 0 && errno == ENOENT) {
        auto k = new_key({});
        if (!k) return k.error();
        if (auto r = create_exclusively(file, format_keys({*k})); !r) return r.error();
    }
    return load_keyring(file);
}

Result<Keyring> rotate_keyring(const fs::path& file, std::int64_t keep_us) {
    auto current = load_or_create_keyring(file);
    if (!current) return current.error();
    auto k = new_key(current->keys());
    if (!k) return k.error();
    // A key stopped signing when the one after it was made: keep it while what it signed
    // may still be valid, keep_us past that.
    std::vector<Key> keys{*k};
    std::int64_t retired_us = k->created_us;
    for (const auto& old : current->keys()) {
        if (retired_us >= k->created_us - keep_us) keys.push_back(old);
        retired_us = old.created_us;
    }
    if (auto r = write_file_atomically(file, format_keys(keys), 0640); !r) return r.error();
    if (auto r = give_to_directory_owner(file); !r) return r.error();
    return Keyring(std::move(keys));
}

}  // namespace pmx::secret
