// Fault injection for watchers: events recorded while watchers disconnect
// and resume, and while the services restart under them. The checker diffs
// what each watcher received with what the stream holds: no gap, no
// duplicate, no reordering.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "common/events.h"
#include "google/protobuf/util/time_util.h"
#include "services/notification/test_support.h"
#include "tests/faults/fault_support.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

using notification::testing::Watch;
using testing::EventLog;
using testing::RecordedPositions;
using testing::Recorder;
using testing::RedisServer;
using testing::ResumingWatchers;
using testing::ServiceProcess;
using testing::WatchFrom;

class WatchResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = std::make_unique<RedisServer>();
    institution_ =
        std::make_unique<ServiceProcess>("accord-institution", redis_->url());
    notification_ = std::make_unique<ServiceProcess>(
        "accord-notification", redis_->url(),
        std::vector<std::string>{"--insecure_no_auth", "--log_level=warning",
                                 "--shutdown_grace=2s"});
    stub_ = notification::v1::NotificationService::NewStub(
        notification_->Channel());
    log_ = std::make_unique<EventLog>(redis_->url());
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> notification_;
  std::unique_ptr<notification::v1::NotificationService::Stub> stub_;
  std::unique_ptr<EventLog> log_;
};

TEST_F(WatchResumeTest, HundredDisconnectResumeCyclesLoseAndReorderNothing) {
  Recorder recorder(institution_->address());
  std::vector<std::string> received;
  std::string last;
  absl::BitGen random;
  constexpr int kCycles = 100;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    Watch watch(*stub_, WatchFrom(last));
    // Take a few events, or none, then drop the connection mid-stream.
    const int take = absl::Uniform(random, 0, 6);
    for (int i = 0; i < take; ++i) {
      const auto event = watch.NextEvent(absl::Milliseconds(200));
      if (!event.has_value()) break;
      received.push_back(event->position());
      last = event->position();
    }
  }
  recorder.Stop();
  // A last watcher catches up to the end of the stream.
  const std::vector<std::string> expected = RecordedPositions(*log_);
  {
    Watch watch(*stub_, WatchFrom(last));
    while (received.size() < expected.size()) {
      const auto event = watch.NextEvent(absl::Seconds(5));
      if (!event.has_value()) break;
      received.push_back(event->position());
    }
  }
  std::printf("%d cycles, %d events recorded, %zu received\n", kCycles,
              recorder.recorded(), received.size());
  EXPECT_GT(recorder.recorded(), 20) << "events were recorded throughout";
  EXPECT_EQ(received, expected) << "a gap, a duplicate or a reordering";
}

TEST_F(WatchResumeTest, RollingRestartsWith200WatchersMissNothing) {
  constexpr int kWatchers = 200;
  Recorder recorder(institution_->address());
  const std::string start = [&] {
    const auto positions = RecordedPositions(*log_);
    return positions.empty() ? std::string() : positions.back();
  }();
  ResumingWatchers watchers(
      kWatchers, start, [this]() -> auto& { return *stub_; });
  absl::SleepFor(absl::Milliseconds(500));
  watchers.Drain();
  // Rolling restart: the institution service (recording pauses and
  // retries), then the notification service (streams end, watchers resume
  // from their last position on the new process).
  EXPECT_EQ(institution_->Stop(), 0);
  institution_->Start();
  watchers.Drain();
  EXPECT_EQ(notification_->Stop(), 0);
  notification_->Start();
  stub_ =
      notification::v1::NotificationService::NewStub(notification_->Channel());
  for (int round = 0; round < 20; ++round) watchers.Drain();
  absl::SleepFor(absl::Milliseconds(500));
  recorder.Stop();
  const std::vector<std::string> expected = RecordedPositions(*log_, start);
  // Let every watcher catch up, reconnecting as needed.
  watchers.WaitUntilEach(expected.size(), absl::Seconds(30));
  const int exact = watchers.CountExactly(expected);
  std::printf("%d watchers, %zu events, %d received exactly all of them\n",
              kWatchers, expected.size(), exact);
  EXPECT_GT(expected.size(), 20u);
  EXPECT_EQ(exact, kWatchers);
}

}  // namespace
}  // namespace accord
