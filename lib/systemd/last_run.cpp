#include "systemd/last_run.hpp"

#include <systemd/sd-journal.h>

#include <fmt/format.h>

#include <cstring>
#include <memory>

namespace pmx::systemd {

namespace {

struct JournalClose {
    void operator()(sd_journal* j) const noexcept { sd_journal_close(j); }
};

// sd-messages.h: SD_MESSAGE_UNIT_STARTED (a start job finished: "Finished x" for a oneshot)
// and SD_MESSAGE_UNIT_FAILED ("Failed to start x").
constexpr const char* kUnitStarted = "MESSAGE_ID=39f53479d3a045ac8e11786248231fbf";
constexpr const char* kUnitFailed = "MESSAGE_ID=be02cf6855d2428ba40df7e9d022f03d";

}  // namespace

Result<std::optional<LastRun>> last_run_from_journal(const std::string& unit) {
    sd_journal* raw = nullptr;
    int r = sd_journal_open(&raw, SD_JOURNAL_LOCAL_ONLY);
    std::unique_ptr<sd_journal, JournalClose> j{raw};
    if (r < 0) return Error{fmt::format("Failed to open the journal: {}", std::strerror(-r))};
    auto fail = [&](int err) {
        return Error{fmt::format("Failed to filter the journal for {}: {}", unit, std::strerror(-err))};
    };
    // (UNIT=u OR USER_UNIT=u) AND (MESSAGE_ID=started OR MESSAGE_ID=failed)
    const std::string m1 = "UNIT=" + unit, m2 = "USER_UNIT=" + unit;
    if ((r = sd_journal_add_match(j.get(), m1.data(), m1.size())) < 0) return fail(r);
    if ((r = sd_journal_add_disjunction(j.get())) < 0) return fail(r);
    if ((r = sd_journal_add_match(j.get(), m2.data(), m2.size())) < 0) return fail(r);
    if ((r = sd_journal_add_conjunction(j.get())) < 0) return fail(r);
    if ((r = sd_journal_add_match(j.get(), kUnitStarted, 0)) < 0) return fail(r);
    if ((r = sd_journal_add_match(j.get(), kUnitFailed, 0)) < 0) return fail(r);
    if ((r = sd_journal_seek_tail(j.get())) < 0) return fail(r);
    r = sd_journal_previous(j.get());
    if (r < 0) return Error{fmt::format("Failed to read the journal: {}", std::strerror(-r))};
    if (r == 0) return std::optional<LastRun>{};
    LastRun out;
    if (sd_journal_get_realtime_usec(j.get(), &out.usec) < 0) return std::optional<LastRun>{};
    const void* data = nullptr;
    size_t size = 0;
    if (sd_journal_get_data(j.get(), "JOB_RESULT", &data, &size) >= 0 && size > 11)
        out.job_result.assign(static_cast<const char*>(data) + 11, size - 11);
    return std::optional<LastRun>{out};
}

}  // namespace pmx::systemd
