// The site's secret keys: what signs digest links, one-time login links and the stamp that
// lets mail re-injected by pmx-queued pass the milter unfiltered.
//
// One file (general.keyring, by default /var/lib/pmx/keyring, mode 0640, owner of its
// directory), one key per line, newest first:
//     <id> <created_us> <base64url of 32 random bytes>
// The first key signs; every key in the file verifies, so rotation (`pmx secret rotate`)
// adds a new first key and keeps the previous ones until they are older than the longest
// validity of anything they signed, then drops them. Writes are atomic (temporary file,
// fsync, rename). Keys are never used directly: each use derives its own key by purpose
// (HMAC(key, purpose)), so a digest token can never pass as a stamp or the other way round.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace pmx::config { class Snapshot; }

namespace pmx::secret {

struct Key {
    std::string id;               // 8 hex digits, unique in the file
    std::int64_t created_us = 0;
    std::string bytes;            // 32 bytes
};

class Keyring {
public:
    Keyring() = default;
    explicit Keyring(std::vector<Key> keys) : keys_(std::move(keys)) {}

    bool empty() const { return keys_.empty(); }
    const Key& signing_key() const { return keys_.front(); }  // precondition: !empty()
    const Key* find(std::string_view id) const;               // nullptr: unknown (or dropped) key
    const std::vector<Key>& keys() const { return keys_; }

    // HMAC(key.bytes, purpose): the key one purpose signs and verifies with.
    static std::string derive(const Key& key, std::string_view purpose);

private:
    std::vector<Key> keys_{};
};

// The keyring file from the configuration (general.keyring, relative to the state directory).
std::filesystem::path keyring_path(const config::Snapshot& snapshot);

// Reads the file; errors name the file and line. A missing file is an error.
Result<Keyring> load_keyring(const std::filesystem::path& file);
// Reads the file, creating it with one new key when it does not exist yet (the first
// `pmx` command or daemon that needs a key makes it; a concurrent creator wins or loses
// the rename race harmlessly: both then read the same file).
Result<Keyring> load_or_create_keyring(const std::filesystem::path& file);
// Adds a new signing key and drops the keys that stopped signing more than keep_us ago (a key
// stops signing when the next one is made; the previous signing key always stays).
Result<Keyring> rotate_keyring(const std::filesystem::path& file, std::int64_t keep_us);

}  // namespace pmx::secret
