// --since/--until values of the store commands: "2026-11-25", "-2h", "today" (store/time_filter.hpp).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>

#include "context.hpp"
#include "store/database.hpp"
#include "store/time_filter.hpp"

namespace pmx::cli {

// Empty text: no bound. A bad one is a usage error (exit 2) naming the option.
inline std::optional<std::int64_t> time_arg(const std::string& text, const char* option) {
    if (text.empty()) return std::nullopt;
    auto t = store::parse_time(text, store::now_us());
    if (!t) throw CommandError(fmt::format("{}: {}", option, t.error().message), 2);
    return *t;
}

}  // namespace pmx::cli
