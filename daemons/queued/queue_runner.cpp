#include "queue_runner.hpp"

#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "bus_api.hpp"
#include "daemon/log.hpp"
#include "queue/submit.hpp"

namespace pmx::queued {

using queue::State;

namespace {

constexpr std::int64_t kStaleTmpUs = 3600'000'000;  // a writer that takes an hour has died

std::string describe_due(std::int64_t due_us, std::int64_t now_us) {
    std::int64_t s = (due_us - now_us + 999'999) / 1'000'000;
    if (s <= 0) return "now";
    if (s < 120) return fmt::format("in {}s", s);
    if (s < 7200) return fmt::format("in {}m", s / 60);
    return fmt::format("in {}h", s / 3600);
}

}  // namespace

QueueRunner::~QueueRunner() {
    pool_.reset();  // waits for deliveries under way: each finishes writing its entry
    sd_event_source_disable_unref(inotify_source_);
    sd_event_source_disable_unref(timer_source_);
    sd_event_source_disable_unref(done_source_);
    if (done_fd_ >= 0) ::close(done_fd_);
}

Result<void> QueueRunner::start(daemon::Daemon& daemon) {
    daemon_ = &daemon;
    auto snapshot = daemon.config();
    spool_.emplace(queue::spool_directory(*snapshot));
    if (auto r = spool_->ensure_directories(); !r) return Error{fmt::format("Failed to prepare the spool: {}", r.error().message)};
    std::int64_t now = queue::now_realtime_us();
    if (auto r = spool_->remove_stale_tmp(now, kStaleTmpUs); !r) log::warning("{}, ignoring", r.error().message);
    else if (*r) log::notice("Removed {} stale temporary files from {}", *r, spool_->tmp_dir().string());

    // Entries a crash left in active/ were being delivered: they go again (at least once).
    auto active = spool_->ids(State::Active);
    if (!active) return active.error();
    std::size_t recovered = 0;
    for (const auto& id : *active) {
        queue::Spool::LockFailure why{};
        auto f = spool_->lock(State::Active, id, &why);
        if (!f) {
            if (why == queue::Spool::LockFailure::Damaged && spool_->move_unread(State::Active, id, State::Failed))
                log::error("Entry {} is damaged ({}), moved to failed", id, f.error().message);
            else
                log::warning("Failed to recover entry {}: {}, ignoring", id, f.error().message);
            continue;
        }
        if (auto r = spool_->move(*f, State::Incoming, true); !r) return r;
        ++recovered;
    }
    if (recovered) {
        log::notice("Recovered {} entries a stop or crash left in delivery; delivering them again", recovered);
        daemon.counters().add("recovered", recovered);
    }

    pool_ = std::make_unique<WorkerPool>();
    done_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (done_fd_ < 0) return Error{fmt::format("Failed to create eventfd: {}", std::strerror(errno))};
    sd_event* ev = daemon.event();
    int r = sd_event_add_io(ev, &done_source_, done_fd_, EPOLLIN, on_done, this);
    if (r < 0) return Error{fmt::format("Failed to watch the workers: {}", std::strerror(-r))};
    auto incoming = spool_->dir(State::Incoming);
    r = sd_event_add_inotify(ev, &inotify_source_, incoming.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE, on_inotify, this);
    if (r < 0) return Error{fmt::format("Failed to watch {}: {}", incoming.string(), std::strerror(-r))};
    r = sd_event_add_time(ev, &timer_source_, CLOCK_REALTIME, 0, 10'000, on_timer, this);
    if (r < 0) return Error{fmt::format("Failed to add the queue timer: {}", std::strerror(-r))};
    r = sd_event_source_set_enabled(timer_source_, SD_EVENT_OFF);
    if (r < 0) return Error{fmt::format("Failed to add the queue timer: {}", std::strerror(-r))};

    if (sd_bus* bus = daemon.bus()) {
        auto slot = add_queue_interface(bus, *this);
        if (!slot) return slot.error();
        bus_slot_ = std::move(*slot);
    }

    scan();
    dispatch();
    arm_timer();
    return {};
}

Result<void> QueueRunner::prepare_reload(const config::Snapshot& next) {
    if (next.string("queue.relay").empty()) return Error{"queue.relay is empty"};
    // `pmx secret rotate` reloads us: sign with the new key from now on.
    reload_keyring(next);
    return {};
}

std::string QueueRunner::status_text() const {
    std::size_t incoming = 0, deferred = 0;
    for (const auto& [id, k] : known_) (k.state == State::Incoming ? incoming : deferred)++;
    return fmt::format("Delivering to {}: {} in delivery, {} waiting, {} deferred, {} undeliverable; {} sent since start",
                       daemon_ ? daemon_->config()->string("queue.relay") : std::string("?"), in_flight_.size(),
                       incoming, deferred, failed_count_, sent_since_start_);
}

std::string QueueRunner::listen() const {
    return spool_ ? fmt::format("spool {}", spool_->root().string()) : std::string("-");
}

void QueueRunner::reload_keyring(const config::Snapshot& snapshot) {
    auto k = secret::load_or_create_keyring(secret::keyring_path(snapshot));
    if (!k) {
        if (keyring_problem_ != k.error().message)
            log::error("{}; deliveries wait until a key can be read", k.error().message);
        keyring_problem_ = k.error().message;
        keyring_.reset();
        return;
    }
    keyring_problem_.clear();
    keyring_ = std::make_shared<const secret::Keyring>(std::move(*k));
}

void QueueRunner::set_due(const std::string& id, State state, std::int64_t due_us) {
    if (in_flight_.count(id)) return;
    auto it = known_.find(id);
    if (it != known_.end()) {
        due_.erase({it->second.due_us, id});
        it->second = Known{state, due_us};
    } else {
        known_.emplace(id, Known{state, due_us});
    }
    due_.insert({due_us, id});
}

void QueueRunner::forget(const std::string& id) {
    auto it = known_.find(id);
    if (it == known_.end()) return;
    due_.erase({it->second.due_us, id});
    known_.erase(it);
}

void QueueRunner::scan() {
    auto snapshot = daemon_->config();
    std::int64_t now = queue::now_realtime_us();
    next_scan_us_ = now + snapshot->integer("queue.scan_interval_seconds") * 1'000'000;

    std::set<std::string> seen;
    if (auto ids = spool_->ids(State::Incoming)) {
        for (const auto& id : *ids) {
            seen.insert(id);
            set_due(id, State::Incoming, 0);
        }
    } else {
        log::error("{}", ids.error().message);
    }
    if (auto ids = spool_->ids_with_mtime(State::Deferred)) {
        for (const auto& [id, mtime] : *ids) {
            seen.insert(id);
            auto it = known_.find(id);
            // A Flush() may have made it due earlier than its file says.
            std::int64_t due = it != known_.end() && it->second.state == State::Deferred ? std::min(it->second.due_us, mtime) : mtime;
            set_due(id, State::Deferred, due);
        }
    } else {
        log::error("{}", ids.error().message);
    }
    std::vector<std::string> gone;
    for (const auto& [id, k] : known_)
        if (!seen.count(id)) gone.push_back(id);
    for (const auto& id : gone) forget(id);  // retried, deleted or moved by `pmx queue`

    if (auto ids = spool_->ids(State::Failed)) failed_count_ = ids->size();

    // Delivered entries are kept queue.sent_keep_seconds (their mtime is the delivery).
    std::int64_t keep = snapshot->integer("queue.sent_keep_seconds") * 1'000'000;
    if (auto sent = spool_->ids_with_mtime(State::Sent)) {
        std::size_t removed = 0;
        for (const auto& [id, mtime] : *sent)
            if (now - mtime >= keep && ::unlink(spool_->path(State::Sent, id).c_str()) == 0) ++removed;
        if (removed) {
            log::debug("Removed {} delivered entries older than {}s", removed, keep / 1'000'000);
            daemon_->counters().add("sent_removed", removed);
        }
    }
    reload_keyring(*snapshot);
    daemon_->notify_status();
}

void QueueRunner::dispatch() {
    auto snapshot = daemon_->config();
    auto max_parallel = static_cast<std::size_t>(snapshot->integer("queue.max_parallel"));
    std::int64_t now = queue::now_realtime_us();
    std::shared_ptr<const JobSettings> settings;
    while (in_flight_.size() < max_parallel && !due_.empty() && due_.begin()->first <= now) {
        std::string id = due_.begin()->second;
        State state = known_.at(id).state;
        forget(id);
        queue::Spool::LockFailure why{};
        auto f = spool_->lock(state, id, &why);
        if (!f) {
            if (why == queue::Spool::LockFailure::Damaged) {
                if (spool_->move_unread(state, id, State::Failed)) {
                    log::error("Entry {} is damaged ({}), moved to failed", id, f.error().message);
                    ++failed_count_;
                } else {
                    log::error("Entry {} is damaged ({}) and cannot be moved", id, f.error().message);
                }
            } else if (why == queue::Spool::LockFailure::Other) {
                log::error("Failed to claim entry {}: {}", id, f.error().message);
            }
            // Busy: `pmx queue` holds it; Gone: it moved. The next scan sees where it went.
            continue;
        }
        if (auto r = spool_->move(*f, State::Active, false); !r) {
            log::error("Failed to claim entry {}: {}", id, r.error().message);
            continue;
        }
        if (!settings) settings = std::make_shared<const JobSettings>(job_settings(*snapshot));
        in_flight_.insert(id);
        daemon_->counters().add("attempts");
        auto file = std::make_shared<queue::EntryFile>(std::move(*f));
        pool_->post([this, file, settings, keyring = keyring_, problem = keyring_problem_] {
            JobResult r = run_delivery(*spool_, std::move(*file), *settings, keyring, problem);
            {
                std::lock_guard lock(done_mutex_);
                done_.push_back(std::move(r));
            }
            std::uint64_t one = 1;
            (void)!::write(done_fd_, &one, sizeof one);
        });
    }
}

void QueueRunner::arm_timer() {
    std::int64_t when = next_scan_us_;
    auto max_parallel = static_cast<std::size_t>(daemon_->config()->integer("queue.max_parallel"));
    if (!due_.empty() && in_flight_.size() < max_parallel) when = std::min(when, due_.begin()->first);
    sd_event_source_set_time(timer_source_, static_cast<std::uint64_t>(std::max<std::int64_t>(when, 1)));
    sd_event_source_set_enabled(timer_source_, SD_EVENT_ONESHOT);
}

void QueueRunner::finished(JobResult r) {
    in_flight_.erase(r.id);
    auto& counters = daemon_->counters();
    std::int64_t now = queue::now_realtime_us();
    std::string what = r.reference.empty() ? r.kind : fmt::format("{}, {}", r.kind, r.reference);
    counters.add("recipients_delivered", r.outcome.delivered);
    counters.add("recipients_failed", r.outcome.failed);
    if (!r.problem.empty()) {
        log::error("Entry {} ({}): {}", r.id, what, r.problem);
        counters.add("errors");
    }
    switch (r.next) {
        case State::Sent:
            ++sent_since_start_;
            counters.add("sent");
            log::info("Delivered {} ({}) to {} recipients: {}", r.id, what, r.recipients, r.detail);
            break;
        case State::Deferred:
            counters.add("deferred");
            set_due(r.id, State::Deferred, r.next_attempt_us);
            log::info("Deferred {} ({}), attempt {}, next {}: {}", r.id, what, r.attempts,
                      describe_due(r.next_attempt_us, now), r.detail);
            break;
        case State::Failed:
            ++failed_count_;
            counters.add("failed");
            if (r.problem.empty())
                log::warning("Failed {} ({}) after {} attempts: {}", r.id, what, r.attempts, r.detail);
            break;
        default:
            break;  // left in active/ by an I/O error (logged): a restart takes it up again
    }
}

std::uint32_t QueueRunner::flush() {
    scan();
    std::uint32_t n = 0;
    std::vector<std::string> deferred;
    for (const auto& [id, k] : known_)
        if (k.state == State::Deferred && k.due_us > 0) deferred.push_back(id);
    for (const auto& id : deferred) {
        set_due(id, State::Deferred, 0);
        ++n;
    }
    daemon_->counters().add("flushes");
    log::info("Flush: {} deferred entries due now", n);
    dispatch();
    arm_timer();
    daemon_->notify_status();
    return n;
}

int QueueRunner::on_inotify(sd_event_source*, const struct inotify_event* ev, void* userdata) noexcept {
    auto& self = *static_cast<QueueRunner*>(userdata);
    try {
        if (ev->mask & IN_Q_OVERFLOW) {
            self.scan();
        } else if (ev->len > 0 && queue::valid_entry_id(ev->name)) {
            self.set_due(ev->name, State::Incoming, 0);
        }
        self.dispatch();
        self.arm_timer();
    } catch (const std::exception& e) {
        log::error("Failed to handle a new spool entry: {}", e.what());
    }
    return 0;
}

int QueueRunner::on_timer(sd_event_source*, std::uint64_t, void* userdata) noexcept {
    auto& self = *static_cast<QueueRunner*>(userdata);
    try {
        if (queue::now_realtime_us() >= self.next_scan_us_) self.scan();
        self.dispatch();
        self.arm_timer();
    } catch (const std::exception& e) {
        log::error("Failed to run the queue: {}", e.what());
        sd_event_source_set_time_relative(self.timer_source_, 1'000'000);
        sd_event_source_set_enabled(self.timer_source_, SD_EVENT_ONESHOT);
    }
    return 0;
}

int QueueRunner::on_done(sd_event_source*, int fd, std::uint32_t, void* userdata) noexcept {
    auto& self = *static_cast<QueueRunner*>(userdata);
    std::uint64_t n = 0;
    (void)!::read(fd, &n, sizeof n);
    try {
        std::vector<JobResult> results;
        {
            std::lock_guard lock(self.done_mutex_);
            results.swap(self.done_);
        }
        for (auto& r : results) self.finished(std::move(r));
        self.dispatch();
        self.arm_timer();
    } catch (const std::exception& e) {
        log::error("Failed to record a delivery: {}", e.what());
    }
    return 0;
}

}  // namespace pmx::queued
