#include "output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>

namespace pmx::cli {

std::string Table::render() const {
    std::vector<size_t> width(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
    };
    measure(header_);
    for (const auto& r : rows_) measure(r);

    std::string out;
    auto emit = [&](const std::vector<std::string>& row) {
        std::string line;
        for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line;
        out += '\n';
    };
    emit(header_);
    for (const auto& r : rows_) emit(r);
    return out;
}

std::string printable(std::string_view s) {
    std::string out;
    for (unsigned char c : s) out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
    return out;
}

std::string format_bytes(unsigned long long bytes) {
    static constexpr const char* units[] = {"B", "K", "M", "G", "T"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) { v /= 1024; ++u; }
    if (u == 0) return fmt::format("{}B", bytes);
    return fmt::format("{:.1f}{}", v, units[u]);
}

std::string format_timestamp_usec(unsigned long long usec) {
    if (usec == 0) return "-";
    std::time_t t = static_cast<std::time_t>(usec / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace pmx::cli
