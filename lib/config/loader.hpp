// Loading pmx.toml: vendor defaults, the admin file, then drop-ins in name order.
// The result is an immutable Snapshot with every schema key set and where each value came from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/schema.hpp"
#include "util/result.hpp"

namespace pmx::config {

struct Origin {
    std::string file;  // empty: the compiled-in default
    std::uint32_t line = 0;
    std::uint32_t column = 0;
    bool is_default() const { return file.empty(); }
    std::string describe() const;  // "file:line:column" or "default"
};

struct Setting {
    const KeySpec* spec;
    Value value;
    Origin origin;
};

class Snapshot {
public:
    explicit Snapshot(std::vector<Setting> settings, std::vector<std::string> files);

    // Every schema key is present; asking for an unknown key is a programming error (throws).
    const Setting& setting(std::string_view key) const;
    const Value& get(std::string_view key) const { return setting(key).value; }
    std::int64_t integer(std::string_view key) const;
    const std::string& string(std::string_view key) const;
    bool boolean(std::string_view key) const;
    const StringList& strings(std::string_view key) const;

    const std::vector<Setting>& settings() const { return settings_; }
    const std::vector<std::string>& files() const { return files_; }  // files read, in merge order

private:
    std::vector<Setting> settings_;
    std::vector<std::string> files_;
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// Where the config lives. The defaults come from the build (PMX_SYSCONFDIR, PMX_VENDORDIR);
// the environment variables PMX_CONFIG_DIR and PMX_VENDOR_DIR override them (tests, demos).
// The files of one layered configuration that exist, in merge order (later wins): the vendor
// file, the admin's file, then the *.toml drop-ins in name order (editor backups ".#*" skipped).
// pmx.toml and jobs.toml are both read this way.
std::vector<std::filesystem::path> layered_files(const std::filesystem::path& vendor_file,
                                                 const std::filesystem::path& admin_file,
                                                 const std::filesystem::path& dropin_dir);

struct Layout {
    std::filesystem::path vendor_dir;  // /usr/share/pmx
    std::filesystem::path config_dir;  // /etc/pmx

    static Layout from_environment();

    std::filesystem::path vendor_file() const { return vendor_dir / "pmx.toml"; }
    std::filesystem::path admin_file() const { return config_dir / "pmx.toml"; }
    std::filesystem::path dropin_dir() const { return config_dir / "pmx.toml.d"; }
    // The drop-in `pmx config set` owns; admins' hand edits go elsewhere.
    std::filesystem::path own_dropin() const { return dropin_dir() / "90-pmx-config-set.toml"; }

    // The files that exist, in merge order (later wins).
    std::vector<std::filesystem::path> files() const;
};

// Loads and validates the files of the layout. On error, every problem found is
// listed, one per line, as "file:line:column: key: reason".
Result<Snapshot> load(const Layout& layout);

// Loads exactly these files over the compiled-in defaults (for `pmx config check FILE`).
Result<Snapshot> load_files(const std::vector<std::filesystem::path>& files);

// Same as load_files, with text in place of the last file (to validate an edit before writing it).
Result<Snapshot> load_files_with(const std::vector<std::filesystem::path>& files,
                                 const std::filesystem::path& replaced, const std::string& replacement_text);

// TOML text of a drop-in holding exactly these values (sorted by key), with a header comment.
std::string render_dropin(const std::vector<std::pair<const KeySpec*, Value>>& values);

// Values currently set in a drop-in file (empty when it does not exist).
Result<std::vector<std::pair<const KeySpec*, Value>>> read_dropin(const std::filesystem::path& file);

}  // namespace pmx::config
