// pmx-httpd: the Manager (admin), Groups and end-user web interfaces and the JSON RPC API.
#include <string_view>

#include "httpd_service.hpp"

int main(int argc, char** argv) {
    // Admin operations run `pmx [--user] ...`: the same manager and bus as this daemon's
    // (run_daemon validates the flag; this only needs to know which one it is).
    bool user_bus = false;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--bus=user" || (a == "--bus" && i + 1 < argc && std::string_view(argv[i + 1]) == "user")) user_bus = true;
    }
    return pmx::daemon::run_daemon("httpd", argc, argv,
                                   [user_bus] { return std::make_unique<pmx::httpd::HttpdService>(user_bus); });
}
