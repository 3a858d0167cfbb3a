#include "queue/retry.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "config/loader.hpp"

namespace pmx::queue {

RetryPolicy retry_policy(const config::Snapshot& s) {
    RetryPolicy p;
    p.min_us = s.integer("queue.retry_min_seconds") * 1'000'000;
    p.max_us = std::max(p.min_us, s.integer("queue.retry_max_seconds") * 1'000'000);
    p.max_attempts = s.integer("queue.max_attempts");
    p.max_age_us = s.integer("queue.max_age_seconds") * 1'000'000;
    return p;
}

std::int64_t backoff_us(const RetryPolicy& p, std::int64_t failed_attempts) {
    std::int64_t wait = std::max<std::int64_t>(p.min_us, 1);
    for (std::int64_t i = 1; i < failed_attempts && wait < p.max_us; ++i) wait *= 2;
    return std::min(wait, p.max_us);
}

std::string describe(const smtp::Reply& r) {
    std::string text = r.text;
    std::replace(text.begin(), text.end(), '\n', ' ');
    std::replace(text.begin(), text.end(), '\r', ' ');
    if (r.code == 0) return text.empty() ? std::string("no reply") : text;
    return text.empty() ? std::to_string(r.code) : fmt::format("{} {}", r.code, text);
}

Outcome apply_result(Entry& e, const std::vector<std::string>& attempted, const smtp::Result& result,
                     const RetryPolicy& policy, std::int64_t now_us) {
    Outcome out;
    e.attempts += 1;
    e.last_attempt_us = now_us;
    e.next_attempt_us = 0;
    std::string first_problem;

    // attempted[i] was sent as the i-th recipient; result.recipients has one per attempted.
    std::size_t pending_seen = 0;
    for (auto& r : e.recipients) {
        if (r.status != RcptStatus::Pending) continue;
        std::size_t i = pending_seen++;
        if (i >= attempted.size() || attempted[i] != r.address) continue;  // not part of this attempt
        smtp::Reply reply;
        if (i < result.recipients.size()) reply = result.recipients[i].reply;
        else reply.text = "no result for this recipient";
        r.code = reply.code;
        r.reply = describe(reply);
        if (reply.code >= 200 && reply.code < 300) {
            r.status = RcptStatus::Delivered;
            r.done_us = now_us;
            ++out.delivered;
        } else if (reply.permanent()) {
            r.status = RcptStatus::Failed;
            r.done_us = now_us;
            ++out.failed;
            if (first_problem.empty()) first_problem = r.reply;
        } else {
            ++out.deferred;
            if (first_problem.empty()) first_problem = r.reply;
        }
    }
    e.last_error = first_problem;

    if (out.deferred == 0) {
        out.next = e.count(RcptStatus::Failed) > 0 ? State::Failed : State::Sent;
        return out;
    }
    std::int64_t age_base = std::max(e.submitted_us, e.requeued_us);
    std::int64_t wait = backoff_us(policy, e.attempts);
    bool too_many = e.attempts >= policy.max_attempts;
    bool too_old = now_us - age_base >= policy.max_age_us;
    if (too_many || too_old) {
        std::string why = too_many ? fmt::format("gave up after {} attempts", e.attempts)
                                   : fmt::format("gave up after {} attempts: older than queue.max_age_seconds", e.attempts);
        for (auto& r : e.recipients) {
            if (r.status != RcptStatus::Pending) continue;
            r.status = RcptStatus::Failed;
            r.done_us = now_us;
            r.reply = r.reply.empty() ? why : fmt::format("{} ({})", why, r.reply);
        }
        e.last_error = first_problem.empty() ? why : fmt::format("{}: {}", why, first_problem);
        out.failed += out.deferred;
        out.deferred = 0;
        out.gave_up = true;
        out.next = State::Failed;
        return out;
    }
    // One last attempt when the age limit comes, not a wait far beyond it.
    e.next_attempt_us = std::min(now_us + wait, age_base + policy.max_age_us);
    out.next = State::Deferred;
    out.next_attempt_us = e.next_attempt_us;
    return out;
}

}  // namespace pmx::queue
