// Times as people type them for the store's searches (`pmx quarantine list --since`,
// `pmx log --since/--until`), in UTC like every time pmx prints:
//   2026-11-25                 midnight at the start of that day
//   2026-11-25 10:00           also "2026-11-25T10:00", with ":SS", a trailing "Z" or " UTC"
//   -2h  -30m  -3d  -1w  -45s  that long before now
//   now, today, yesterday      today and yesterday: midnight at their start
#pragma once

#include <cstdint>
#include <string_view>

#include "util/result.hpp"

namespace pmx::store {

// Microseconds since the epoch. The error quotes the text and shows the accepted forms.
Result<std::int64_t> parse_time(std::string_view text, std::int64_t now_us);

}  // namespace pmx::store
