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
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

using notification::testing::Watch;
using testing::EventLog;
using testing::RedisServer;
using testing::ServiceProcess;

constexpr char kType[] = "accord.institution.v1.created";

notification::v1::WatchEventsRequest WatchFrom(const std::string& position) {
  notification::v1::WatchEventsRequest request;
  request.mutable_inline_selector()->add_event_types(kType);
  request.set_start_position(position.empty() ? "earliest" : position);
  *request.mutable_heartbeat_interval() =
      google::protobuf::util::TimeUtil::MillisecondsToDuration(200);
  return request;
}

// Records institutions until stopped, retrying each create (same
// request_id) across service restarts.
class Recorder {
 public:
  explicit Recorder(const std::string& target) : target_(target) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Recorder() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int recorded() const { return recorded_.load(); }

 private:
  void Run() {
    auto stub = institution::v1::InstitutionService::NewStub(
        grpc::CreateChannel(target_, grpc::InsecureChannelCredentials()));
    for (int n = 0; !stop_.load(); ++n) {
      institution::v1::CreateInstitutionRequest request;
      request.set_institution_id(absl::StrFormat("u%06d", n));
      request.set_request_id(absl::StrCat("recorder-", n));
      auto* name = request.mutable_institution()->add_names();
      name->set_text(absl::StrCat("University ", n));
      name->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
      request.mutable_institution()->set_kind(
          institution::v1::Institution::KIND_UNIVERSITY);
      request.mutable_institution()->set_country_code("IR");
      while (!stop_.load()) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(2));
        institution::v1::Institution created;
        if (stub->CreateInstitution(&context, request, &created).ok()) {
          ++recorded_;
          break;
        }
        absl::SleepFor(absl::Milliseconds(20));
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

  std::string target_;
  std::atomic<bool> stop_{false};
  std::atomic<int> recorded_{0};
  std::thread thread_;
};

// The positions of every `kType` event in the stream, in order.
std::vector<std::string> StreamPositions(EventLog& log) {
  std::vector<std::string> positions;
  for (const auto& event : log.All()) {
    if (event.type() == kType) positions.push_back(event.position());
  }
  return positions;
}

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
  const std::vector<std::string> expected = StreamPositions(*log_);
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
  struct Watcher {
    std::unique_ptr<Watch> watch;
    std::vector<std::string> received;
    std::string last;
  };
  std::vector<Watcher> watchers(kWatchers);
  const std::string start = [&] {
    const auto positions = StreamPositions(*log_);
    return positions.empty() ? std::string() : positions.back();
  }();
  for (Watcher& watcher : watchers) {
    watcher.last = start;
    watcher.watch = std::make_unique<Watch>(*stub_, WatchFrom(start));
  }
  // Drains whatever each watcher has; reconnects those whose stream ended.
  auto drain = [&](absl::Duration wait) {
    for (Watcher& watcher : watchers) {
      while (true) {
        const auto event = watcher.watch->NextEvent(wait);
        if (!event.has_value()) break;
        watcher.received.push_back(event->position());
        watcher.last = event->position();
      }
      if (watcher.watch->WaitStatus(absl::ZeroDuration()).has_value()) {
        watcher.watch =
            std::make_unique<Watch>(*stub_, WatchFrom(watcher.last));
      }
    }
  };
  absl::SleepFor(absl::Milliseconds(500));
  drain(absl::ZeroDuration());
  // Rolling restart: the institution service (recording pauses and
  // retries), then the notification service (streams end, watchers resume
  // from their last position on the new process).
  EXPECT_EQ(institution_->Stop(), 0);
  institution_->Start();
  drain(absl::ZeroDuration());
  EXPECT_EQ(notification_->Stop(), 0);
  notification_->Start();
  stub_ =
      notification::v1::NotificationService::NewStub(notification_->Channel());
  for (int round = 0; round < 20; ++round) drain(absl::ZeroDuration());
  absl::SleepFor(absl::Milliseconds(500));
  recorder.Stop();
  const std::vector<std::string> all = StreamPositions(*log_);
  std::vector<std::string> expected;
  for (const std::string& position : all) {
    if (start.empty() || ComparePositions(position, start) > 0) {
      expected.push_back(position);
    }
  }
  // Let every watcher catch up, reconnecting as needed.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  bool complete = false;
  while (!complete && absl::Now() < deadline) {
    drain(absl::ZeroDuration());
    absl::SleepFor(absl::Milliseconds(50));
    complete = true;
    for (const Watcher& watcher : watchers) {
      complete = complete && watcher.received.size() >= expected.size();
    }
  }
  int exact = 0;
  for (const Watcher& watcher : watchers) exact += watcher.received == expected;
  std::printf("%d watchers, %zu events, %d received exactly all of them\n",
              kWatchers, expected.size(), exact);
  EXPECT_GT(expected.size(), 20u);
  EXPECT_EQ(exact, kWatchers);
}

}  // namespace
}  // namespace accord
