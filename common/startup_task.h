#ifndef ACCORD_COMMON_STARTUP_TASK_H_
#define ACCORD_COMMON_STARTUP_TASK_H_

// A one-off job a service runs after it starts, such as upgrading records
// written by an earlier version, on a thread of its own so serving does
// not wait for it. Redis may be down at start: a failed attempt is logged
// and retried with backoff (1 s doubling to 1 min) until it succeeds or
// the task is destroyed.
//
// Example:
//   StartupTask upgrade("revision upgrade", [&service] {
//     return service.UpgradeRecordsWithoutRevisions();
//   });

#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"

namespace accord {

class StartupTask {
 public:
  StartupTask(absl::string_view name, std::function<absl::Status()> run);
  ~StartupTask();
  StartupTask(const StartupTask&) = delete;
  StartupTask& operator=(const StartupTask&) = delete;

  // Blocks until the task has succeeded (tests).
  void WaitUntilDone() { done_.WaitForNotification(); }

 private:
  void Loop();

  std::string name_;
  std::function<absl::Status()> run_;
  absl::Notification stop_;
  absl::Notification done_;
  std::thread thread_;
};

}  // namespace accord

#endif  // ACCORD_COMMON_STARTUP_TASK_H_
