#ifndef ACCORD_SERVICES_NOTIFICATION_WORKER_POOL_H_
#define ACCORD_SERVICES_NOTIFICATION_WORKER_POOL_H_

// A fixed pool of threads running queued tasks in order of submission; with
// one thread, each task finishes before the next starts (the event hub's
// fan-out threads rely on it to keep each watcher's events in order).
//
// Example:
//   WorkerPool pool(2);
//   pool.Schedule([] { ReadTheStream(); });
//   pool.Stop();

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace accord::notification {

class WorkerPool {
 public:
  // `max_backlog` > 0: Schedule waits while that many tasks are queued.
  explicit WorkerPool(int threads, size_t max_backlog = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; dropped once Stop has begun.
  void Schedule(std::function<void()> task);
  void Stop();  // runs what is queued, then joins

 private:
  const size_t max_backlog_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable space_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_WORKER_POOL_H_
