#include "util/paths.hpp"

#include <cstdlib>

namespace pmx {

std::filesystem::path state_directory() {
    for (const char* var : {"STATE_DIRECTORY", "PMX_STATE_DIR"}) {
        if (const char* v = std::getenv(var); v && *v) {
            std::string s = v;
            return s.substr(0, s.find(':'));  // systemd lists several directories colon-separated
        }
    }
    return "/var/lib/pmx";
}

std::filesystem::path state_path(const std::string& configured) {
    std::filesystem::path p{configured};
    return p.is_absolute() ? p : state_directory() / p;
}

}  // namespace pmx
