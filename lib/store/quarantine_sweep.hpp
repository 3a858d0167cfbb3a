// Files in the quarantine directory that no index row names. quarantine() writes the file
// first and indexes it after, and delete removes the row first and the file after, so a crash
// (or a failed unlink) can leave a whole message file without a row, and a crash while writing
// leaves a ".<name>.tmp" file: never a row without its file. `pmx quarantine expire` sweeps
// both once they are older than its age. Empty day directories of past days go too.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::store {

struct SweepOptions {
    std::int64_t before_us = 0;  // only files last modified before this time
    // Never files younger than this, whatever before_us says: a file the milter has just written
    // is not indexed yet for a moment, and must not be taken for a stray one.
    std::int64_t grace_us = 10LL * 60 * 1000000;
    bool dry_run = false;
};

struct SweepResult {
    std::uint64_t files = 0;  // stray .eml files removed (or that would be)
    std::uint64_t temporary = 0;  // unfinished .tmp files removed
    std::uint64_t bytes = 0;
    std::uint64_t directories = 0;  // empty day/month/year directories removed
    std::vector<std::string> removed{};  // relative to the quarantine directory
};

// Only names pmx writes (YYYY/MM/DD/<hex>.eml and YYYY/MM/DD/.<hex>.tmp) are touched.
Result<SweepResult> sweep_stray_files(Database& db, const std::filesystem::path& dir, const SweepOptions& options);

}  // namespace pmx::store
