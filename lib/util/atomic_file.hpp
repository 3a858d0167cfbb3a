// Durable file replacement: write a temporary file beside the target, fsync, rename, fsync the directory.
// A reader sees the old content or the new one, never a torn file; after return it survives a crash.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "util/result.hpp"

namespace pmx {

Result<void> write_file_atomically(const std::filesystem::path& target, std::string_view content, mode_t mode = 0644);

// Whole file into a string; Error names the file and the reason.
Result<std::string> read_file(const std::filesystem::path& path);

}  // namespace pmx
