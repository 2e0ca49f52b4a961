// Fault injection: the notification service is SIGKILLed every few seconds
// while events are recorded. Every webhook subscription must receive every
// event (a redelivery only under the same webhook-id, with the same body),
// and every watcher that resumes from its last position must receive every
// event once, in stream order.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "services/notification/test_support.h"
#include "tests/faults/fault_support.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

using notification::testing::Received;
using notification::testing::WebhookReceiver;
using testing::EventLog;
using testing::kRecordedType;
using testing::RecordedPositions;
using testing::Recorder;
using testing::RedisServer;
using testing::ResumingWatchers;
using testing::ServiceProcess;

constexpr int kKills = 3;
constexpr int kWatchers = 10;
const std::vector<std::string> kWebhookPaths = {"/first", "/second"};

// What one webhook endpoint got: event id → the bodies it came with.
struct WebhookTally {
  std::set<std::string> ids;
  int requests = 0;
  int redeliveries_with_another_body = 0;
};

WebhookTally Tally(const std::vector<Received>& requests) {
  WebhookTally tally;
  std::map<std::string, std::string> body_by_id;
  for (const Received& request : requests) {
    ++tally.requests;
    const std::string id = request.header("webhook-id");
    tally.ids.insert(id);
    auto [it, first] = body_by_id.emplace(id, request.body);
    if (!first && it->second != request.body) {
      ++tally.redeliveries_with_another_body;
    }
  }
  return tally;
}

TEST(NotificationKillTest, RepeatedSigkillLosesNoWebhookOrWatcherEvent) {
  RedisServer redis;
  ServiceProcess institution("accord-institution", redis.url());
  // A fixed consumer name: the restarted process is the same replica and
  // takes back the entries its killed predecessor left pending.
  ServiceProcess notification(
      "accord-notification", redis.url(),
      {"--webhook_allow_cidrs=127.0.0.0/8",
       "--webhook_retry_schedule=200ms,400ms,800ms,1s",
       "--webhook_claim_idle=1s", "--webhook_lease=1s",
       "--consumer_name=killed-replica", "--log_level=warning"});
  auto stub =
      notification::v1::NotificationService::NewStub(notification.Channel());
  EventLog log(redis.url());

  WebhookReceiver receiver;
  for (const std::string& path : kWebhookPaths) {
    notification::v1::CreateSubscriptionRequest request;
    request.set_subscription_id(absl::StrCat("hook", path.substr(1)));
    auto* subscription = request.mutable_subscription();
    subscription->set_owner("institutions/tums");
    subscription->add_event_types(kRecordedType);
    subscription->mutable_webhook()->set_uri(receiver.Url(path));
    subscription->mutable_webhook()->set_signing_secret(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    grpc::ClientContext context;
    notification::v1::Subscription created;
    const grpc::Status status =
        stub->CreateSubscription(&context, request, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  ResumingWatchers watchers(
      kWatchers, "", [&]() -> auto& { return *stub; });
  Recorder recorder(institution.address(), absl::Milliseconds(10));
  for (int kill = 0; kill < kKills; ++kill) {
    const absl::Time next_kill = absl::Now() + absl::Seconds(2);
    while (absl::Now() < next_kill) {
      watchers.Drain();
      absl::SleepFor(absl::Milliseconds(50));
    }
    notification.Kill();
    absl::SleepFor(absl::Milliseconds(300));
    notification.Start();
    stub =
        notification::v1::NotificationService::NewStub(notification.Channel());
  }
  absl::SleepFor(absl::Seconds(1));
  recorder.Stop();

  const std::vector<std::string> expected_positions = RecordedPositions(log);
  std::set<std::string> expected_ids;
  for (const auto& event : log.All()) {
    if (event.type() == kRecordedType) expected_ids.insert(event.id());
  }
  ASSERT_EQ(expected_ids.size(), expected_positions.size());
  watchers.WaitUntilEach(expected_positions.size(), absl::Seconds(30));
  std::map<std::string, WebhookTally> tallies;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (const std::string& path : kWebhookPaths) {
    do {
      tallies[path] = Tally(
          receiver.WaitFor(path, expected_ids.size(), absl::Milliseconds(200)));
    } while (tallies[path].ids.size() < expected_ids.size() &&
             absl::Now() < deadline);
  }

  const int exact = watchers.CountExactly(expected_positions);
  std::printf(
      "%d SIGKILLs, %d events recorded; watchers: %d of %d got exactly all, "
      "%d reconnections\n",
      kKills, recorder.recorded(), exact, kWatchers, watchers.reconnections());
  for (const std::string& path : kWebhookPaths) {
    const WebhookTally& tally = tallies[path];
    std::printf(
        "webhook %s: %zu of %zu events, %d requests (%d redeliveries)\n",
        path.c_str(), tally.ids.size(), expected_ids.size(), tally.requests,
        tally.requests - static_cast<int>(tally.ids.size()));
    EXPECT_EQ(tally.ids, expected_ids) << path << ": an event never arrived";
    EXPECT_EQ(tally.redeliveries_with_another_body, 0)
        << path << ": a webhook-id was reused for another body";
  }
  EXPECT_GT(recorder.recorded(), 100) << "events were recorded throughout";
  EXPECT_EQ(exact, kWatchers) << "a gap, a duplicate or a reordering";
}

}  // namespace
}  // namespace accord
