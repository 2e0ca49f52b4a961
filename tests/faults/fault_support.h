#ifndef ACCORD_TESTS_FAULTS_FAULT_SUPPORT_H_
#define ACCORD_TESTS_FAULTS_FAULT_SUPPORT_H_

// What several fault tests share: a recorder that keeps writing events
// across restarts, and helpers to compare what watchers got with the stream.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "services/notification/test_support.h"
#include "tests/harness/event_log.h"

namespace accord::testing {

// The event type the recorder produces.
inline constexpr char kRecordedType[] = "accord.institution.v1.created";

// A watch of `kRecordedType` from `position` ("" for the earliest), with
// frequent heartbeats so a dead stream is noticed quickly.
notification::v1::WatchEventsRequest WatchFrom(const std::string& position);

// Records institutions until stopped, one every `pause`, retrying each
// create with the same request_id across service restarts.
class Recorder {
 public:
  explicit Recorder(std::string target,
                    absl::Duration pause = absl::Milliseconds(5));
  ~Recorder() { Stop(); }
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  void Stop();
  int recorded() const { return recorded_.load(); }

 private:
  void Run();

  std::string target_;
  absl::Duration pause_;
  std::atomic<bool> stop_{false};
  std::atomic<int> recorded_{0};
  std::thread thread_;
};

// The positions of every `kRecordedType` event in the stream after `after`
// ("" for all), oldest first.
std::vector<std::string> RecordedPositions(EventLog& log,
                                           const std::string& after = "");

// Watchers of `kRecordedType` that resume from their last position whenever
// their stream ends (a restart, a crash), as a careful client would.
class ResumingWatchers {
 public:
  using StubSource =
      std::function<notification::v1::NotificationService::Stub&()>;
  // `stub` is asked for the current stub at every reconnection, so the
  // caller may replace it after restarting the service.
  ResumingWatchers(int count, const std::string& start, StubSource stub);

  // Takes what every watcher has received so far; reconnects those whose
  // stream ended.
  void Drain();
  // Drains until every watcher has at least `count` events or `timeout`.
  void WaitUntilEach(size_t count, absl::Duration timeout);
  // How many watchers received exactly `expected`, in that order.
  int CountExactly(const std::vector<std::string>& expected) const;
  int reconnections() const { return reconnections_; }

 private:
  struct Watcher {
    std::unique_ptr<notification::testing::Watch> watch;
    std::vector<std::string> received;
    std::string last;
  };
  StubSource stub_;
  std::vector<Watcher> watchers_;
  int reconnections_ = 0;
};

}  // namespace accord::testing

#endif  // ACCORD_TESTS_FAULTS_FAULT_SUPPORT_H_
