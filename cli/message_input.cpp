#include "message_input.hpp"

#include <iostream>
#include <sstream>

#include "context.hpp"
#include "util/atomic_file.hpp"

namespace pmx::cli {

std::string read_message(const std::string& path) {
    if (path == "-") {
        std::ostringstream ss;
        ss << std::cin.rdbuf();
        return ss.str();
    }
    auto text = read_file(path);
    if (!text) throw CommandError(text.error().message);
    return std::move(*text);
}

mail::ParseLimits parse_limits(const config::Snapshot& snapshot) {
    mail::ParseLimits limits;
    limits.max_headers = static_cast<std::size_t>(snapshot.integer("milter.max_headers"));
    limits.max_header_bytes = static_cast<std::size_t>(snapshot.integer("milter.max_header_bytes"));
    return limits;
}

}  // namespace pmx::cli
