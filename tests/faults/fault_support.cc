#include "tests/faults/fault_support.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/events.h"
#include "google/protobuf/util/time_util.h"

namespace accord::testing {

notification::v1::WatchEventsRequest WatchFrom(const std::string& position) {
  notification::v1::WatchEventsRequest request;
  request.mutable_inline_selector()->add_event_types(kRecordedType);
  request.set_start_position(position.empty() ? "earliest" : position);
  *request.mutable_heartbeat_interval() =
      google::protobuf::util::TimeUtil::MillisecondsToDuration(200);
  return request;
}

Recorder::Recorder(std::string target, absl::Duration pause)
    : target_(std::move(target)), pause_(pause) {
  thread_ = std::thread([this] { Run(); });
}

void Recorder::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Recorder::Run() {
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
    absl::SleepFor(pause_);
  }
}

std::vector<std::string> RecordedPositions(EventLog& log,
                                           const std::string& after) {
  std::vector<std::string> positions;
  for (const auto& event : log.All()) {
    if (event.type() != kRecordedType) continue;
    if (!after.empty() && ComparePositions(event.position(), after) <= 0) {
      continue;
    }
    positions.push_back(event.position());
  }
  return positions;
}

ResumingWatchers::ResumingWatchers(int count, const std::string& start,
                                   StubSource stub)
    : stub_(std::move(stub)), watchers_(count) {
  for (Watcher& watcher : watchers_) {
    watcher.last = start;
    watcher.watch = std::make_unique<notification::testing::Watch>(
        stub_(), WatchFrom(start));
  }
}

void ResumingWatchers::Drain() {
  for (Watcher& watcher : watchers_) {
    while (true) {
      const auto event = watcher.watch->NextEvent(absl::ZeroDuration());
      if (!event.has_value()) break;
      watcher.received.push_back(event->position());
      watcher.last = event->position();
    }
    if (watcher.watch->WaitStatus(absl::ZeroDuration()).has_value()) {
      watcher.watch = std::make_unique<notification::testing::Watch>(
          stub_(), WatchFrom(watcher.last));
      ++reconnections_;
    }
  }
}

void ResumingWatchers::WaitUntilEach(size_t count, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    Drain();
    bool complete = true;
    for (const Watcher& watcher : watchers_) {
      complete = complete && watcher.received.size() >= count;
    }
    if (complete) return;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

int ResumingWatchers::CountExactly(
    const std::vector<std::string>& expected) const {
  int exact = 0;
  for (const Watcher& watcher : watchers_)
    exact += watcher.received == expected;
  return exact;
}

}  // namespace accord::testing
