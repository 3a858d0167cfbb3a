// Reading messages given on the command line (a file, or - for the standard input) and
// parsing them with the limits the milter uses, so the CLI judges what the milter would.
#pragma once

#include <string>

#include "config/loader.hpp"
#include "mail/message.hpp"

namespace pmx::cli {

// The raw message; "-" reads the standard input. Throws CommandError naming the file.
std::string read_message(const std::string& path);

// milter.max_headers and milter.max_header_bytes of the snapshot, as the milter parses with.
mail::ParseLimits parse_limits(const config::Snapshot& snapshot);

}  // namespace pmx::cli
