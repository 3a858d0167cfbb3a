// Admin RPC dashboard.summary: the Manager's first page in one call. The parts run side by side
// (most a `pmx ... --json`), so the answer takes as long as the slowest one:
//   services      pmx status
//   mail          messages and recipients by verdict in the last hour and day, counted live in the
//                 message log (the reports add up the same rows, but only as fresh as the last
//                 report-consolidate run: a dashboard must show the mail of the last minutes)
//   queue         pmx queue list: entries per state
//   quarantine    messages still held for some recipient (what `pmx quarantine list --held` lists),
//                 counted in the database instead of listing them all
//   job_failures  the jobs whose last run failed, as `pmx jobs list` and `pmx status` count them
//                 (their pmx-job-*.service in the failed state), and the Scheduler's state: asked
//                 of the manager here, because `pmx jobs list` reads every job's state and journal
//                 (about 1 s on a busy machine, more than the whole answer may take)
// A part that fails is null and its reason is in "errors"; the rest still shows.
#include <fmt/format.h>

#include <ctime>
#include <future>

#include "jobs/jobs.hpp"
#include "systemd/manager.hpp"
#include "systemd/timer_state.hpp"
#include "web/rpc_admin.hpp"

namespace pmx::web::admin {

namespace {

using namespace std::chrono_literals;

constexpr auto kPartDeadline = 15s;

Json queue_counts(const Json& entries) {
    Json out = {{"incoming", 0}, {"active", 0}, {"deferred", 0}, {"failed", 0}, {"total", 0}};
    if (!entries.is_array()) return out;
    for (const auto& e : entries) {
        auto state = e.value("state", std::string());
        if (out.contains(state)) out[state] = out[state].get<std::int64_t>() + 1;
        out["total"] = out["total"].get<std::int64_t>() + 1;
    }
    return out;
}

// "2026-11-25 07:01:02 UTC", as the CLI prints times; "-" for 0.
std::string format_usec(std::uint64_t usec) {
    if (!usec) return "-";
    std::time_t t = static_cast<std::time_t>(usec / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
}

struct JobsPart {
    Json failures = Json::array();
    std::string scheduler;
};

Result<JobsPart> jobs_part(const Environment& env) {
    namespace sd = pmx::systemd;
    auto m = sd::Manager::connect(env.user_bus ? bus::Scope::User : bus::Scope::System);
    if (!m) return m.error();
    JobsPart out;
    auto target = sd::timer_state(*m, jobs::kSchedulerTarget);
    if (!target) return target.error();
    out.scheduler = target->load_state != "loaded" ? target->load_state : target->active_state;
    const std::vector<std::string> failed{"failed"}, units{"pmx-job-*.service"};
    auto listed = sd::list_units(*m, failed, units);
    if (!listed) return listed.error();
    for (const auto& u : *listed) {
        auto s = sd::job_service_state(*m, u.name);
        if (!s) return s.error();
        if (!sd::job_failed(*s)) continue;
        std::string name = u.name;
        if (name.starts_with("pmx-job-")) name.erase(0, 8);
        if (name.ends_with(".service")) name.resize(name.size() - 8);
        out.failures.push_back({{"name", name},
                                {"last", format_usec(s->exec_main_start_usec)},
                                {"last_usec", s->exec_main_start_usec},
                                {"result_text", sd::job_result_text(*s)}});
    }
    return out;
}

// The keys of `pmx report verdicts` rows (per recipient verdicts; messages counted once).
Result<Json> live_verdicts(const Environment& env, std::int64_t since_us) {
    auto db = env.open_database();
    if (!db) return db.error();
    auto st = db->prepare(
        "SELECT count(DISTINCT m.id), count(*), "
        "coalesce(sum(CASE WHEN r.verdict = 'accept' THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN r.verdict = 'quarantine' THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN r.verdict = 'reject' THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN r.verdict = 'tempfail' THEN 1 ELSE 0 END), 0), "
        "coalesce(sum(CASE WHEN r.verdict = 'discard' THEN 1 ELSE 0 END), 0) "
        "FROM message_log m JOIN message_log_recipient r ON r.log_id = m.id WHERE m.time_us >= ?1");
    if (!st) return st.error();
    st->bind(1, since_us);
    auto row = st->step();
    if (!row) return row.error();
    Json out = Json::object();
    int column = 0;
    for (const char* k : {"messages", "recipients", "accepted", "quarantined", "rejected", "tempfailed", "discarded"})
        out[k] = *row ? st->int64(column++) : 0;
    return out;
}

std::int64_t now_realtime_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

Result<std::int64_t> held_count(const Environment& env) {
    auto db = env.open_database();
    if (!db) return db.error();
    auto st = db->prepare(
        "SELECT count(*) FROM quarantine q WHERE EXISTS "
        "(SELECT 1 FROM quarantine_recipient h WHERE h.message_id = q.id AND h.released_us IS NULL)");
    if (!st) return st.error();
    auto row = st->step();
    if (!row) return row.error();
    return *row ? st->int64(0) : 0;
}

RpcResult dashboard_summary(const Call& c) {
    PMX_CHECK(only_params(c, {}));
    auto part = [&c](std::vector<std::string> args, std::vector<int> codes = {0}) {
        return std::async(std::launch::async, [&c, args = std::move(args), codes = std::move(codes)] {
            return run_cli(c, Run{args, kPartDeadline, codes});
        });
    };
    auto status = part({"status"}, {0, 3, 4});
    const std::int64_t now = now_realtime_us();
    auto hour = live_verdicts(c.env, now - 3600LL * 1'000'000);
    auto day = live_verdicts(c.env, now - 86400LL * 1'000'000);
    auto queue = part({"queue", "list"});
    auto held = held_count(c.env);
    auto jobs = jobs_part(c.env);

    Json out = Json::object();
    Json errors = Json::array();
    auto take = [&errors](std::future<RpcResult>& f, const char* what) -> std::optional<Json> {
        auto r = f.get();
        if (auto* e = std::get_if<RpcError>(&r)) {
            errors.push_back(fmt::format("{}: {}", what, e->message));
            return std::nullopt;
        }
        return std::get<Json>(std::move(r));
    };
    auto s = take(status, "services");
    out["services"] = s ? *s : Json(nullptr);
    if (!hour) errors.push_back(fmt::format("mail (last hour): {}", hour.error().message));
    if (!day) errors.push_back(fmt::format("mail (last day): {}", day.error().message));
    out["mail"] = {{"last_hour", hour ? *hour : Json(nullptr)}, {"last_day", day ? *day : Json(nullptr)}};
    auto q = take(queue, "queue");
    out["queue"] = q ? queue_counts(*q) : Json(nullptr);
    if (held) {
        out["quarantine"] = {{"held", *held}};
    } else {
        out["quarantine"] = {{"held", nullptr}};
        errors.push_back(fmt::format("quarantine: {}", held.error().message));
    }
    if (jobs) {
        out["job_failures"] = std::move(jobs->failures);
        out["scheduler"] = jobs->scheduler;
    } else {
        out["job_failures"] = nullptr;
        out["scheduler"] = nullptr;
        errors.push_back(fmt::format("jobs: {}", jobs.error().message));
    }
    out["errors"] = std::move(errors);
    return out;
}

}  // namespace

void add_dashboard_method(MethodTable& t) {
    add_admin(t, "dashboard.summary",
              "Services, mail verdicts of the last hour and day, queue, held quarantine, failed jobs", dashboard_summary);
}

}  // namespace pmx::web::admin
