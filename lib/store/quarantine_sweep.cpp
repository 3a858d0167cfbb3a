#include "store/quarantine_sweep.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace pmx::store {

namespace {

namespace fs = std::filesystem;

bool digits(std::string_view s, std::size_t n) {
    return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool hex_name(std::string_view s) {
    return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

enum class Kind { Other, Message, Temporary };

Kind kind_of(std::string_view name) {
    if (name.ends_with(".eml") && hex_name(name.substr(0, name.size() - 4))) return Kind::Message;
    if (name.starts_with(".") && name.ends_with(".tmp") && name.size() > 5 && hex_name(name.substr(1, name.size() - 5)))
        return Kind::Temporary;
    return Kind::Other;
}

std::int64_t mtime_us(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000;
}

// "YYYY/MM/DD" of a time, UTC.
std::string day_key(std::int64_t time_us) {
    std::time_t t = static_cast<std::time_t>(time_us / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}/{:02}/{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

bool is_empty_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_empty(p, ec) && !ec;
}

}  // namespace

Result<SweepResult> sweep_stray_files(Database& db, const fs::path& dir, const SweepOptions& o) {
    SweepResult result;
    const std::int64_t now = now_us();
    const std::int64_t before = std::min(o.before_us, now - std::max<std::int64_t>(o.grace_us, 0));
    // Directories of days before yesterday (UTC) are no longer written to.
    const std::string old_day = day_key(now - 86400LL * 1000000);

    // Nothing was ever quarantined here (the milter makes the directory at its first start).
    std::error_code missing;
    if (!fs::exists(dir, missing) && !missing) return result;

    auto indexed = db.prepare("SELECT 1 FROM quarantine WHERE file = ?");
    if (!indexed) return indexed.error();
    auto fail = [&](const fs::path& p, const std::error_code& ec) {
        return Error{fmt::format("Failed to sweep quarantine directory {}: {}: {}", dir.string(), p.string(), ec.message())};
    };
    auto subdirs = [&](const fs::path& p, std::size_t width) -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        std::error_code ec;
        for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
            auto name = it->path().filename().string();
            if (digits(name, width) && it->is_directory(ec)) out.push_back(name);
        }
        if (ec) return fail(p, ec);
        std::sort(out.begin(), out.end());
        return out;
    };

    auto years = subdirs(dir, 4);
    if (!years) return years.error();
    for (const auto& y : *years) {
        auto months = subdirs(dir / y, 2);
        if (!months) return months.error();
        for (const auto& m : *months) {
            auto days = subdirs(dir / y / m, 2);
            if (!days) return days.error();
            for (const auto& d : *days) {
                const fs::path day = dir / y / m / d;
                std::error_code ec;
                for (fs::directory_iterator it(day, ec), end; !ec && it != end; it.increment(ec)) {
                    auto name = it->path().filename().string();
                    Kind k = kind_of(name);
                    if (k == Kind::Other) continue;
                    struct stat st {};
                    if (::lstat(it->path().c_str(), &st) < 0 || !S_ISREG(st.st_mode) || mtime_us(st) >= before) continue;
                    std::string relative = y + "/" + m + "/" + d + "/" + name;
                    if (k == Kind::Message) {
                        indexed->reset();
                        indexed->bind(1, relative);
                        auto row = indexed->step();
                        if (!row) return row.error();
                        if (*row) continue;
                    }
                    if (!o.dry_run && ::unlink(it->path().c_str()) < 0 && errno != ENOENT)
                        return Error{fmt::format("Failed to remove stray quarantine file {}: {}", it->path().string(),
                                                 std::strerror(errno))};
                    (k == Kind::Message ? result.files : result.temporary) += 1;
                    result.bytes += static_cast<std::uint64_t>(st.st_size);
                    result.removed.push_back(relative);
                }
                if (ec) return fail(day, ec);
                indexed->reset();
                if (!o.dry_run && y + "/" + m + "/" + d < old_day && is_empty_dir(day) && ::rmdir(day.c_str()) == 0)
                    ++result.directories;
            }
            if (!o.dry_run && y + "/" + m < old_day.substr(0, 7) && is_empty_dir(dir / y / m) &&
                ::rmdir((dir / y / m).c_str()) == 0)
                ++result.directories;
        }
        if (!o.dry_run && y < old_day.substr(0, 4) && is_empty_dir(dir / y) && ::rmdir((dir / y).c_str()) == 0)
            ++result.directories;
    }
    return result;
}

}  // namespace pmx::store
