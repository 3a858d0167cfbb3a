// What every pmx command gets: the global flags and a place for its exit code.
// Commands never call exit(); they set exit_code or throw CommandError.
#pragma once

#include <stdexcept>
#include <string>

#include "bus/bus.hpp"

namespace pmx::cli {

struct Context {
    bool user = false;  // --user: the calling user's manager and bus, as systemctl --user
    bus::Scope scope() const { return user ? bus::Scope::User : bus::Scope::System; }
    bool json = false;                      // --json: machine-readable output where offered
    bool quiet = false;                     // -q: only errors
    bool stdout_is_tty = false;
    int exit_code = 0;
};

// Thrown by a command to stop with a message on stderr and an exit code.
struct CommandError : std::runtime_error {
    CommandError(std::string message, int code = 1) : std::runtime_error(std::move(message)), exit_code(code) {}
    int exit_code;
};

}  // namespace pmx::cli
