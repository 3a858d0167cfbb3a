// Where relative paths from the configuration land.
#pragma once

#include <filesystem>
#include <string>

namespace pmx {

// The state directory: $STATE_DIRECTORY (set by systemd for StateDirectory=pmx), else
// $PMX_STATE_DIR (set by `pmx --user` to where a user manager puts it), else /var/lib/pmx.
std::filesystem::path state_directory();

// Absolute paths stay; relative ones go under state_directory().
std::filesystem::path state_path(const std::string& configured);

}  // namespace pmx
