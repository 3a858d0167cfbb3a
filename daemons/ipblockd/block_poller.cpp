#include "block_poller.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "daemon/log.hpp"
#include "store/store_config.hpp"

namespace pmx::ipblockd {

namespace {

constexpr std::int64_t kSecond = 1'000'000;
// Rows read per query: bounded work per look, however far behind we are.
constexpr std::int64_t kBatch = 2000;
constexpr int kMaxBatchesPerTick = 50;

std::string format_duration(std::int64_t seconds) {
    if (seconds % 86400 == 0) return fmt::format("{}d", seconds / 86400);
    if (seconds % 3600 == 0) return fmt::format("{}h", seconds / 3600);
    if (seconds % 60 == 0) return fmt::format("{}min", seconds / 60);
    return fmt::format("{}s", seconds);
}

}  // namespace

BlockPoller::BlockPoller(daemon::Daemon& daemon, BlocklistState& state) : daemon_(daemon), state_(state) {}

BlockPoller::~BlockPoller() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void BlockPoller::start() { thread_ = std::thread([this] { run(); }); }

void BlockPoller::wake() {
    {
        std::lock_guard lock(mutex_);
        woken_ = true;
    }
    cv_.notify_all();
}

std::size_t BlockPoller::tracked() const {
    std::lock_guard lock(mutex_);
    return tracked_;
}

void BlockPoller::run() {
    for (;;) {
        try {
            tick();
        } catch (const std::exception& e) {
            log::error("Failed to poll the database: {}, retrying", e.what());
            db_.reset();
        }
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_ || woken_; });
        if (stop_) return;
        woken_ = false;
    }
}

bool BlockPoller::open_database() {
    if (db_) return true;
    std::int64_t now = store::now_us();
    if (now < next_open_attempt_) return false;
    next_open_attempt_ = now + 10 * kSecond;
    auto cfg = daemon_.config();
    auto path = store::store_paths(*cfg).database;
    // Short busy timeout: a block that cannot be written now is written on the next look.
    auto db = store::Database::open(path, {.busy_timeout_ms = 1000, .synchronous_full = false});
    if (!db) {
        log::warning("Failed to open the database for blocks ({}); only the list files apply, retrying in 10 s",
                     db.error().message);
        daemon_.counters().add("database_errors");
        return false;
    }
    db_.emplace(std::move(*db));
    version_ = -1;
    return true;
}

void BlockPoller::tick() {
    if (!open_database()) return;
    auto cfg = daemon_.config();
    std::int64_t now = store::now_us();
    refresh_blocks(now);
    if (cfg->boolean("ipblock.dynamic")) follow_log(*cfg, now);
    else last_log_id_.reset();
    if (now >= next_forget_) {
        next_forget_ = now + 600 * kSecond;
        auto memory = cfg->integer("ipblock.dynamic_memory_seconds") * kSecond;
        if (auto n = ipblock::forget_expired(*db_, now - memory); n && *n > 0)
            log::info("Forgot {} dynamic block(s) that expired over {} ago", *n,
                      format_duration(cfg->integer("ipblock.dynamic_memory_seconds")));
        tracker_.prune(now);
    }
    std::lock_guard lock(mutex_);
    tracked_ = tracker_.tracked();
}

void BlockPoller::refresh_blocks(std::int64_t now) {
    auto version = ipblock::block_version(*db_);
    if (!version) {
        log::warning("Failed to read the block version: {}, ignoring", version.error().message);
        db_.reset();
        return;
    }
    // Journal lines for dynamic blocks that ran out.
    while (!dynamic_expiries_.empty() && dynamic_expiries_.begin()->first <= now) {
        const auto& [at, network] = *dynamic_expiries_.begin();
        log::notice("Dynamic block of {} expired", network);
        if (auto r = ipblock::log_event(*db_, at, network, "expire", "dynamic", ""); !r)
            log::warning("Failed to log the expiry of {}: {}, ignoring", network, r.error().message);
        dynamic_expiries_.erase(dynamic_expiries_.begin());
    }
    bool expired = next_expiry_ && *next_expiry_ <= now;
    if (*version == version_ && !expired) return;
    auto rows = ipblock::read_blocks(*db_, false, now);
    if (!rows) {
        log::warning("Failed to read the blocks: {}, keeping the previous ones", rows.error().message);
        return;
    }
    dynamic_expiries_.clear();
    for (const auto& r : *rows)
        if (r.source == "dynamic" && r.expires_us) dynamic_expiries_.emplace(*r.expires_us, r.network);
    auto compiled = ipblock::compile_blocks(std::move(*rows), *version, now);
    if (version_ >= 0 && *version != version_)
        log::info("Blocks in the database changed: {} active", compiled->rows.size());
    next_expiry_ = compiled->next_expiry_us;
    version_ = *version;
    state_.set_db(std::move(compiled));
    daemon_.counters().add("block_refreshes");
}

void BlockPoller::follow_log(const config::Snapshot& cfg, std::int64_t now) {
    ipblock::TrackerLimits limits{
        .threshold = static_cast<std::uint32_t>(cfg.integer("ipblock.dynamic_threshold")),
        .window_us = cfg.integer("ipblock.dynamic_window_seconds") * kSecond,
        .ratio_percent = static_cast<std::uint32_t>(cfg.integer("ipblock.dynamic_ratio_percent")),
        .max_tracked = static_cast<std::size_t>(cfg.integer("ipblock.dynamic_max_tracked")),
    };
    tracker_.set_limits(limits);
    ipblock::SpamDefinition spam{.rules = cfg.strings("ipblock.dynamic_rules"),
                                 .min_score = static_cast<double>(cfg.integer("ipblock.dynamic_min_score"))};
    if (!last_log_id_) {
        // A fresh start reads the window back, so a restart does not forget who was spamming;
        // mail an IP sent before its last block, unblock or expiry was already paid for
        // (in a running daemon, block() forgets the IP's counts for the same reason).
        auto from = ipblock::log_id_before(*db_, now - limits.window_us);
        auto events = ipblock::last_events(*db_, now - limits.window_us);
        if (!from || !events) {
            log::warning("Failed to read the message log: {}, retrying",
                         !from ? from.error().message : events.error().message);
            return;
        }
        paid_until_ = std::move(*events);
        last_log_id_ = *from;
    }
    auto max = ipblock::max_log_id(*db_);
    if (!max) {
        log::warning("Failed to read the message log: {}, retrying", max.error().message);
        return;
    }
    for (int batch = 0; batch < kMaxBatchesPerTick && *last_log_id_ < *max; ++batch) {
        std::int64_t upto = std::min(*max, *last_log_id_ + kBatch);
        auto facts = ipblock::read_log_facts(*db_, *last_log_id_, upto, spam);
        if (!facts) {
            log::warning("Failed to read the message log: {}, retrying", facts.error().message);
            return;
        }
        for (const auto& f : *facts) {
            auto a = ipblock::parse_address(f.client_ip);
            if (!a) continue;  // "" for local submissions
            daemon_.counters().add(f.spam ? "log_spam_seen" : "log_clean_seen");
            if (!paid_until_.empty()) {
                auto paid = paid_until_.find(ipblock::format_address(*a));
                if (paid != paid_until_.end() && f.time_us <= paid->second) continue;
            }
            if (auto c = tracker_.add(*a, f.time_us, f.spam)) block(cfg, *a, *c, now);
        }
        last_log_id_ = upto;
    }
    // Past the read-back: every row from now on is newer than any block.
    if (*last_log_id_ >= *max) paid_until_.clear();
}

void BlockPoller::block(const config::Snapshot& cfg, const ipblock::Address& a, const ipblock::WindowCount& c,
                        std::int64_t now) {
    auto view = state_.view();
    auto verdict = ipblock::decide(view.files.get(), view.db.get(), a, now);
    std::string ip = ipblock::format_address(a);
    if (verdict.why == ipblock::Verdict::Why::Internal || verdict.why == ipblock::Verdict::Why::Exception) {
        log::info("Client {} sent {} spam of {} messages but is {} ({}), not blocking", ip, c.spam, c.total,
                  verdict.why == ipblock::Verdict::Why::Internal ? "internal" : "excepted", verdict.entry);
        tracker_.forget(a);
        return;
    }
    if (verdict.why == ipblock::Verdict::Why::Manual || verdict.why == ipblock::Verdict::Why::Dynamic) {
        tracker_.forget(a);  // mail already in flight when the block started
        return;
    }
    std::string network = ipblock::format_network(ipblock::host_network(a));
    std::int64_t offenses = 1;
    auto prior = ipblock::find_block(*db_, network);
    if (!prior) {
        log::warning("Failed to read the earlier blocks of {}: {}, retrying", ip, prior.error().message);
        return;  // the tracker still has the counts: the next message retries
    }
    std::int64_t memory = cfg.integer("ipblock.dynamic_memory_seconds") * kSecond;
    if (*prior && (*prior)->source == "dynamic" && (*prior)->expires_us && *(*prior)->expires_us + memory >= now)
        offenses = (*prior)->offenses + 1;
    std::int64_t ttl = cfg.integer("ipblock.dynamic_ttl_seconds");
    const std::int64_t max_ttl = cfg.integer("ipblock.dynamic_max_ttl_seconds");
    for (std::int64_t i = 1; i < offenses && ttl < max_ttl; ++i) ttl *= 2;
    ttl = std::min(ttl, max_ttl);
    ipblock::BlockRow row{
        .network = network,
        .source = "dynamic",
        .reason = fmt::format("sent {} spam of {} messages in {}", c.spam, c.total,
                              format_duration(cfg.integer("ipblock.dynamic_window_seconds"))),
        .added_us = now,
        .expires_us = now + ttl * kSecond,
        .offenses = offenses,
    };
    if (auto r = ipblock::put_block(*db_, row); !r) {
        log::warning("Failed to store the block of {}: {}, retrying", ip, r.error().message);
        return;
    }
    tracker_.forget(a);
    daemon_.counters().add("dynamic_blocks");
    log::notice("Blocked {} for {}: {} (offense {})", ip, format_duration(ttl), row.reason, offenses);
    refresh_blocks(now);
}

}  // namespace pmx::ipblockd
