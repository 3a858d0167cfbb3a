// Threads for the blocking SMTP deliveries. The runner decides how many run at once
// (queue.max_parallel); the pool only grows to that many threads and hands results back to the
// event loop through an eventfd, so all bookkeeping stays on the loop's thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pmx::queued {

class WorkerPool {
public:
    WorkerPool() = default;
    ~WorkerPool();  // finishes running tasks (a delivery under way is never cut), drops queued ones
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    void post(std::function<void()> task);

private:
    void run();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;
    std::vector<std::thread> threads_;
    std::size_t idle_ = 0;
    bool stopping_ = false;
};

}  // namespace pmx::queued
