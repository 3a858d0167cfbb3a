// Journal logging for daemons, with structured fields.
// Under systemd (JOURNAL_STREAM set, or the journal socket present) entries go to the
// journal with PRIORITY, PMX_SERVICE and PMX_NODE fields; otherwise to stderr.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace pmx::log {

enum class Level { Debug = 7, Info = 6, Notice = 5, Warning = 4, Error = 3 };

// Set once at start and on every reload.
void set_identity(std::string_view service_id, std::string_view node_name);
void set_level(Level least_severe);
Level parse_level(std::string_view name);  // "debug".."error"; unknown → Info

void write(Level level, std::string_view message);

template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... a) { write(Level::Error, fmt::format(f, std::forward<Args>(a)...)); }
template <class... Args>
void warning(fmt::format_string<Args...> f, Args&&... a) { write(Level::Warning, fmt::format(f, std::forward<Args>(a)...)); }
template <class... Args>
void notice(fmt::format_string<Args...> f, Args&&... a) { write(Level::Notice, fmt::format(f, std::forward<Args>(a)...)); }
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... a) { write(Level::Info, fmt::format(f, std::forward<Args>(a)...)); }
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) { write(Level::Debug, fmt::format(f, std::forward<Args>(a)...)); }

}  // namespace pmx::log
