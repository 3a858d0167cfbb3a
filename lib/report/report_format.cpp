#include "report/report_format.hpp"

#include <fmt/format.h>

#include "util/json.hpp"

namespace pmx::report {

std::string csv_field(std::string_view s) {
    bool quote = s.find_first_of(",\"\r\n") != std::string_view::npos ||
                 (!s.empty() && (s.front() == ' ' || s.back() == ' '));
    if (!quote) return std::string(s);
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + '"';
}

std::string to_csv(const Report& r) {
    std::string out;
    for (std::size_t i = 0; i < r.columns.size(); ++i) out += (i ? "," : "") + csv_field(r.columns[i].name);
    out += "\r\n";
    for (const auto& row : r.rows) {
        for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + csv_field(row[i]);
        out += "\r\n";
    }
    return out;
}

std::string to_json(const Report& r) {
    std::string out = "[";
    for (std::size_t n = 0; n < r.rows.size(); ++n) {
        out += n ? ",\n {" : "{";
        for (std::size_t i = 0; i < r.columns.size() && i < r.rows[n].size(); ++i) {
            const auto& cell = r.rows[n][i];
            out += (i ? "," : "") + json_quote(r.columns[i].name) + ":" +
                   (r.columns[i].numeric && !cell.empty() ? cell : json_quote(cell));
        }
        out += "}";
    }
    return out + "]\n";
}

}  // namespace pmx::report
