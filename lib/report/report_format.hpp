// A report as CSV (RFC 4180) or JSON (an array of objects keyed by column name).
#pragma once

#include <string>
#include <string_view>

#include "report/reports.hpp"

namespace pmx::report {

// One CSV field: quoted when it holds a comma, quote, CR or LF (or starts or ends with a
// space), quotes doubled.
std::string csv_field(std::string_view text);
// Header line, then one line per row, each ending in CRLF as RFC 4180 says.
std::string to_csv(const Report& report);
std::string to_json(const Report& report);

}  // namespace pmx::report
