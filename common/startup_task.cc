#include "common/startup_task.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/log.h"

namespace accord {

StartupTask::StartupTask(absl::string_view name,
                         std::function<absl::Status()> run)
    : name_(name), run_(std::move(run)), thread_([this] { Loop(); }) {}

StartupTask::~StartupTask() {
  stop_.Notify();
  thread_.join();
}

void StartupTask::Loop() {
  absl::Duration backoff = absl::Seconds(1);
  while (!stop_.HasBeenNotified()) {
    const absl::Status status = run_();
    if (status.ok()) {
      done_.Notify();
      return;
    }
    LogWarning(absl::StrCat(name_, " failed; retrying"),
               {{"error", std::string(status.message())},
                {"retry_in", absl::FormatDuration(backoff)}});
    if (stop_.WaitForNotificationWithTimeout(backoff)) return;
    backoff = std::min(backoff * 2, absl::Minutes(1));
  }
}

}  // namespace accord
