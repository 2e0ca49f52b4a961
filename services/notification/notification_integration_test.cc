// Drives the real accord-notification binary, with the real
// accord-institution binary recording events, against a real redis-server,
// and a webhook receiver in this process. Every process listens on a free
// loopback port; webhooks may reach loopback only through the operator
// allow-list flag.
//
// Events come from creating institutions (`accord.institution.v1.created`,
// with `country_codes`). The cases are written against any event source:
// once the agreement service records MOUs, the same cases run with
// `accord.agreement.v1.recorded` through RecordMou().

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "common/errors.h"
#include "common/events.h"
#include "google/protobuf/util/time_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "services/notification/test_support.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord::notification {
namespace {

using ::accord::testing::EventLog;
using ::accord::testing::FreePort;
using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using institution::v1::Institution;
using institution::v1::InstitutionName;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using testing::Received;
using testing::Watch;
using testing::WebhookReceiver;
using v1::Delivery;
using v1::Subscription;
using v1::WatchEventsResponse;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string FieldOf(const grpc::Status& status) {
  std::vector<FieldViolation> violations =
      FieldViolationsOf(FromGrpcStatus(status));
  return violations.empty() ? "" : violations.front().field;
}

std::map<std::string, std::string> ErrorInfoMetadata(
    const grpc::Status& status) {
  google::rpc::Status details;
  std::map<std::string, std::string> metadata;
  if (!details.ParseFromString(status.error_details())) return metadata;
  for (const auto& detail : details.details()) {
    google::rpc::ErrorInfo info;
    if (detail.UnpackTo(&info)) {
      metadata.insert(info.metadata().begin(), info.metadata().end());
    }
  }
  return metadata;
}

v1::WatchEventsRequest InlineWatch(
    const std::string& filter, const std::string& start = "",
    absl::Duration heartbeat = absl::Seconds(5)) {
  v1::WatchEventsRequest request;
  request.mutable_inline_selector()->add_event_types("accord.institution.v1.*");
  request.mutable_inline_selector()->set_filter(filter);
  request.set_start_position(start);
  *request.mutable_heartbeat_interval() =
      google::protobuf::util::TimeUtil::MillisecondsToDuration(
          absl::ToInt64Milliseconds(heartbeat));
  return request;
}

class NotificationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = std::make_unique<RedisServer>("everysec");
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{"--insecure_no_auth"});
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    StartNotification({});
    events_ = std::make_unique<EventLog>(redis_->url());
  }

  void StartNotification(std::vector<std::string> extra) {
    std::vector<std::string> flags = {
        "--webhook_allow_cidrs=127.0.0.0/8",
        "--webhook_retry_schedule=300ms,600ms,1.2s,2s",
        "--webhook_max_attempts=3",
        "--webhook_claim_idle=2s",
        "--consumer_name=test-consumer",
        "--webhook_lease=2s",
        "--log_level=warning"};
    flags.insert(flags.end(), auth_flags_.begin(), auth_flags_.end());
    flags.insert(flags.end(), extra.begin(), extra.end());
    notification_.reset();
    notification_ = std::make_unique<ServiceProcess>("accord-notification",
                                                     redis_->url(), flags);
    stub_ = v1::NotificationService::NewStub(notification_->Channel());
  }

  // Records one event: an institution in `country`. Returns its name.
  std::string RecordInstitution(const std::string& id,
                                const std::string& country = "IR") {
    Institution institution;
    auto* name = institution.add_names();
    name->set_text(absl::StrCat("University ", id));
    name->set_type(InstitutionName::TYPE_DISPLAY);
    name->set_language_code("en");
    institution.set_kind(Institution::KIND_UNIVERSITY);
    institution.set_country_code(country);
    institution::v1::CreateInstitutionRequest request;
    *request.mutable_institution() = institution;
    request.set_institution_id(id);
    grpc::ClientContext context;
    Institution created;
    const grpc::Status status =
        institutions_->CreateInstitution(&context, request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.name();
  }

  grpc::Status CreateSubscription(const Subscription& subscription,
                                  const std::string& id,
                                  Subscription* created) {
    v1::CreateSubscriptionRequest request;
    *request.mutable_subscription() = subscription;
    request.set_subscription_id(id);
    grpc::ClientContext context;
    return stub_->CreateSubscription(&context, request, created);
  }

  Subscription WebhookSubscription(const std::string& url,
                                   const std::string& filter = "") {
    Subscription subscription;
    subscription.set_owner("institutions/tums");
    subscription.add_event_types("accord.institution.v1.*");
    subscription.set_filter(filter);
    subscription.mutable_webhook()->set_uri(url);
    subscription.mutable_webhook()->set_signing_secret(kSecret);
    return subscription;
  }

  Subscription MustCreate(const Subscription& subscription,
                          const std::string& id) {
    Subscription created;
    const grpc::Status status = CreateSubscription(subscription, id, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  std::vector<Delivery> Deliveries(const std::string& parent,
                                   const std::string& filter = "") {
    return testing::ListDeliveries(*stub_, parent, filter);
  }

  std::optional<Delivery> WaitForDelivery(const std::string& parent,
                                          Delivery::State state,
                                          absl::Duration timeout) {
    return testing::WaitForDelivery(*stub_, parent, state, timeout);
  }

  std::vector<std::string> auth_flags_ = {"--insecure_no_auth"};
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<ServiceProcess> notification_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(NotificationServiceTest, SubscriptionStandardMethodsWithEtags) {
  Subscription stream;
  stream.set_owner("institutions/tums");
  stream.set_display_name("Milestones for TUMS");
  stream.add_event_types("accord.milestone.v1.*");
  stream.set_filter(R"(country_codes = "IR")");
  stream.mutable_stream();
  const Subscription created = MustCreate(stream, "tums-milestones");
  EXPECT_EQ(created.name(), "subscriptions/tums-milestones");
  EXPECT_EQ(created.state(), Subscription::STATE_ACTIVE);
  EXPECT_FALSE(created.etag().empty());

  Subscription read;
  {
    v1::GetSubscriptionRequest request;
    request.set_name(created.name());
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetSubscription(&context, request, &read).ok());
  }
  EXPECT_EQ(read.SerializeAsString(), created.SerializeAsString());

  // A stale etag is refused; the current one works.
  Subscription patch;
  patch.set_name(created.name());
  patch.set_display_name("renamed");
  patch.set_etag("0000000000000000");
  v1::UpdateSubscriptionRequest update;
  *update.mutable_subscription() = patch;
  update.mutable_update_mask()->add_paths("display_name");
  {
    grpc::ClientContext context;
    Subscription ignored;
    EXPECT_EQ(
        stub_->UpdateSubscription(&context, update, &ignored).error_code(),
        grpc::StatusCode::ABORTED);
  }
  update.mutable_subscription()->set_etag(created.etag());
  Subscription updated;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->UpdateSubscription(&context, update, &updated).ok());
  }
  EXPECT_EQ(updated.display_name(), "renamed");
  EXPECT_NE(updated.etag(), created.etag());

  // Pause, resume, delete, undelete.
  Subscription paused;
  {
    v1::PauseSubscriptionRequest request;
    request.set_name(created.name());
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->PauseSubscription(&context, request, &paused).ok());
  }
  EXPECT_EQ(paused.state(), Subscription::STATE_PAUSED);
  {
    v1::ResumeSubscriptionRequest request;
    request.set_name(created.name());
    request.set_etag(paused.etag());
    grpc::ClientContext context;
    Subscription resumed;
    ASSERT_TRUE(stub_->ResumeSubscription(&context, request, &resumed).ok());
    EXPECT_EQ(resumed.state(), Subscription::STATE_ACTIVE);
  }
  {
    v1::DeleteSubscriptionRequest request;
    request.set_name(created.name());
    grpc::ClientContext context;
    Subscription deleted;
    ASSERT_TRUE(stub_->DeleteSubscription(&context, request, &deleted).ok());
    EXPECT_TRUE(deleted.has_delete_time());
  }
  {
    v1::ListSubscriptionsRequest request;
    grpc::ClientContext context;
    v1::ListSubscriptionsResponse response;
    ASSERT_TRUE(stub_->ListSubscriptions(&context, request, &response).ok());
    EXPECT_EQ(response.subscriptions_size(), 0);
  }
  {
    v1::UndeleteSubscriptionRequest request;
    request.set_name(created.name());
    grpc::ClientContext context;
    Subscription restored;
    ASSERT_TRUE(stub_->UndeleteSubscription(&context, request, &restored).ok());
    EXPECT_FALSE(restored.has_delete_time());
  }
}

TEST_F(NotificationServiceTest, SigningSecretIsWriteOnly) {
  WebhookReceiver receiver;
  const Subscription created =
      MustCreate(WebhookSubscription(receiver.Url("/hook")), "secretive");
  EXPECT_TRUE(created.webhook().signing_secret().empty());
  EXPECT_EQ(created.webhook().uri(), receiver.Url("/hook"));
  {
    v1::GetSubscriptionRequest request;
    request.set_name(created.name());
    grpc::ClientContext context;
    Subscription read;
    ASSERT_TRUE(stub_->GetSubscription(&context, request, &read).ok());
    EXPECT_TRUE(read.webhook().signing_secret().empty());
  }
  {
    v1::ListSubscriptionsRequest request;
    grpc::ClientContext context;
    v1::ListSubscriptionsResponse response;
    ASSERT_TRUE(stub_->ListSubscriptions(&context, request, &response).ok());
    ASSERT_EQ(response.subscriptions_size(), 1);
    EXPECT_TRUE(response.subscriptions(0).webhook().signing_secret().empty());
  }
  // Updating other fields keeps the secret; nothing readable holds it.
  Subscription patch;
  patch.set_name(created.name());
  *patch.mutable_webhook() = created.webhook();
  patch.mutable_webhook()->set_uri(receiver.Url("/hook2"));
  v1::UpdateSubscriptionRequest update;
  *update.mutable_subscription() = patch;
  update.mutable_update_mask()->add_paths("webhook");
  {
    grpc::ClientContext context;
    Subscription updated;
    ASSERT_TRUE(stub_->UpdateSubscription(&context, update, &updated).ok());
    EXPECT_TRUE(updated.webhook().signing_secret().empty());
  }
  const std::string secret_body = std::string(kSecret).substr(6);
  for (const events::v1::Event& event : events_->All()) {
    EXPECT_THAT(event.SerializeAsString(),
                ::testing::Not(HasSubstr(secret_body)));
  }
  auto record = events_->redis().Command(
      {"HGET", "accord:r:subscriptions/secretive", "data"});
  ASSERT_TRUE(record.ok());
  EXPECT_THAT(record->text, ::testing::Not(HasSubstr(secret_body)));

  // Deliveries still sign with the stored secret.
  RecordInstitution("signed");
  std::vector<Received> got = receiver.WaitFor("/hook2", 1, absl::Seconds(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].header("webhook-signature"), ::testing::StartsWith("v1,"));
}

TEST_F(NotificationServiceTest, BadSubscriptionsNameTheFieldAndWriteNothing) {
  const int64_t events_before = events_->Count();
  struct Case {
    std::string label;
    Subscription subscription;
    std::string field;
  };
  std::vector<Case> cases;
  {
    Subscription bad = WebhookSubscription("http://10.0.0.1/hook");
    cases.push_back({"private address", bad, "subscription.webhook.uri"});
  }
  {
    Subscription bad = WebhookSubscription("http://169.254.169.254/latest");
    cases.push_back({"metadata address", bad, "subscription.webhook.uri"});
  }
  {
    Subscription bad = WebhookSubscription("http://127.0.0.1:1/hook");
    bad.mutable_webhook()->clear_signing_secret();
    cases.push_back(
        {"missing secret", bad, "subscription.webhook.signing_secret"});
  }
  {
    Subscription bad = WebhookSubscription("http://127.0.0.1:1/hook");
    bad.mutable_webhook()->set_signing_secret("not-a-secret");
    cases.push_back(
        {"malformed secret", bad, "subscription.webhook.signing_secret"});
  }
  {
    Subscription bad = WebhookSubscription("http://127.0.0.1:1/hook");
    bad.clear_event_types();
    cases.push_back({"no event types", bad, "subscription.event_types"});
  }
  {
    Subscription bad = WebhookSubscription("http://127.0.0.1:1/hook");
    bad.set_filter("nonsense_field = 3");
    cases.push_back({"bad filter", bad, "subscription.filter"});
  }
  {
    Subscription bad = WebhookSubscription("http://127.0.0.1:1/hook");
    bad.clear_webhook();
    cases.push_back({"no delivery", bad, "subscription.delivery"});
  }
  for (const Case& test_case : cases) {
    Subscription ignored;
    const grpc::Status status =
        CreateSubscription(test_case.subscription, "", &ignored);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << test_case.label;
    EXPECT_EQ(FieldOf(status), test_case.field) << test_case.label;
  }
  EXPECT_EQ(events_->Count(), events_before);
}

// The central promise: a recorded change reaches the watchers and webhooks
// that match it, and only those.
TEST_F(NotificationServiceTest, RecordedEventReachesOnlyMatchingSubscribers) {
  WebhookReceiver receiver;
  MustCreate(
      WebhookSubscription(receiver.Url("/iran"), R"(country_codes = "IR")"),
      "iran-hook");
  MustCreate(
      WebhookSubscription(receiver.Url("/russia"), R"(country_codes = "RU")"),
      "russia-hook");
  Watch iran(*stub_, InlineWatch(R"(country_codes = "IR")"));
  Watch russia(*stub_, InlineWatch(R"(country_codes = "RU")"));
  absl::SleepFor(absl::Milliseconds(300));  // both watches are live

  const std::string name = RecordInstitution("tums", "IR");
  std::optional<events::v1::Event> event = iran.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->subject(), name);
  EXPECT_EQ(event->type(), "accord.institution.v1.created");
  EXPECT_FALSE(event->position().empty());

  std::vector<Received> hooks = receiver.WaitFor("/iran", 1, absl::Seconds(10));
  ASSERT_EQ(hooks.size(), 1u);
  EXPECT_EQ(hooks[0].header("webhook-id"), event->id());
  EXPECT_THAT(hooks[0].body, HasSubstr(absl::StrCat("\"subject\":\"", name)));

  // Nothing for the others, while they are demonstrably alive.
  EXPECT_FALSE(russia.NextEvent(absl::Milliseconds(700)).has_value());
  EXPECT_TRUE(receiver.On("/russia").empty());
  RecordInstitution("msu", "RU");
  std::optional<events::v1::Event> russian = russia.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(russian.has_value());
  EXPECT_EQ(russian->subject(), "institutions/msu");
  EXPECT_EQ(receiver.WaitFor("/russia", 1, absl::Seconds(10)).size(), 1u);
  EXPECT_EQ(receiver.On("/iran").size(), 1u);
  EXPECT_FALSE(iran.NextEvent(absl::Milliseconds(300)).has_value());

  std::optional<Delivery> delivered = WaitForDelivery(
      "subscriptions/iran-hook", Delivery::STATE_SUCCEEDED, absl::Seconds(5));
  ASSERT_TRUE(delivered.has_value());
  ASSERT_EQ(delivered->attempts_size(), 1);
  EXPECT_EQ(delivered->attempts(0).http_status(), 200);
  EXPECT_EQ(delivered->event_position(), event->position());
}

TEST_F(NotificationServiceTest, WatcherResumesWithExactlyTheMissedEvents) {
  RecordInstitution("first");
  std::string last_position;
  {
    Watch watch(*stub_, InlineWatch("", "earliest"));
    std::optional<events::v1::Event> first = watch.NextEvent(absl::Seconds(5));
    ASSERT_TRUE(first.has_value());
    last_position = first->position();
  }  // disconnected
  constexpr int kMissed = 7;
  std::vector<std::string> missed;
  for (int i = 0; i < kMissed; ++i) {
    missed.push_back(RecordInstitution(absl::StrCat("missed-", i)));
  }
  Watch resumed(*stub_, InlineWatch("", last_position));
  std::vector<events::v1::Event> replayed =
      resumed.NextEvents(kMissed, absl::Seconds(10));
  std::vector<std::string> subjects;
  for (const auto& event : replayed) subjects.push_back(event.subject());
  EXPECT_THAT(subjects, ElementsAreArray(missed));
  for (size_t i = 1; i < replayed.size(); ++i) {
    EXPECT_LT(
        ComparePositions(replayed[i - 1].position(), replayed[i].position()),
        0);
  }
  // Past the seam: live events follow, no duplicate.
  const std::string live = RecordInstitution("live");
  std::optional<events::v1::Event> next = resumed.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->subject(), live);
  EXPECT_FALSE(resumed.NextEvent(absl::Milliseconds(300)).has_value());
}

TEST_F(NotificationServiceTest, SeamHasNoGapOrDuplicateUnderConcurrentWrites) {
  for (int i = 0; i < 20; ++i) RecordInstitution(absl::StrCat("before-", i));
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    for (int i = 0; i < 30; ++i) RecordInstitution(absl::StrCat("during-", i));
    writing = false;
  });
  Watch watch(*stub_, InlineWatch("", "earliest"));
  writer.join();
  std::vector<events::v1::Event> got = watch.NextEvents(50, absl::Seconds(15));
  ASSERT_EQ(got.size(), 50u);
  std::set<std::string> subjects;
  for (size_t i = 0; i < got.size(); ++i) {
    subjects.insert(got[i].subject());
    if (i > 0) {
      EXPECT_LT(ComparePositions(got[i - 1].position(), got[i].position()), 0);
    }
  }
  EXPECT_EQ(subjects.size(), 50u);
  EXPECT_FALSE(watch.NextEvent(absl::Milliseconds(300)).has_value());
}

// accord_notification_watcher_fallbacks_total from the service's /metrics.
double WatcherFallbacks(int metrics_port) {
  return ::accord::testing::MetricSum(
      metrics_port, "accord_notification_watcher_fallbacks_total");
}

// Watchers resuming from a recent position read the hub's recent events
// (shared, no Redis read); behind an entry that does not decode, the hub
// forgets them and the stream answers, with every event still in order.
TEST_F(NotificationServiceTest,
       RecentEventsServeResumesUntilAnUndecodableEntry) {
  RecordInstitution("before");
  std::string resume_at;
  {
    Watch watch(*stub_, InlineWatch("", "earliest"));
    std::optional<events::v1::Event> first = watch.NextEvent(absl::Seconds(5));
    ASSERT_TRUE(first.has_value());
    resume_at = first->position();
  }
  std::vector<std::string> recorded;
  for (int i = 0; i < 5; ++i) {
    recorded.push_back(RecordInstitution(absl::StrCat("recent-", i)));
  }
  const auto replay = [&](size_t count) {
    Watch resumed(*stub_, InlineWatch("", resume_at));
    std::vector<std::string> subjects;
    for (const auto& event : resumed.NextEvents(count, absl::Seconds(10))) {
      subjects.push_back(event.subject());
    }
    return subjects;
  };
  const auto reads = [this](absl::string_view source) {
    return ::accord::testing::MetricSum(
        notification_->metrics_port(), "accord_notification_replay_reads_total",
        absl::StrCat("source=\"", source, "\""));
  };
  const double memory_before = reads("memory");
  EXPECT_THAT(replay(recorded.size()), ElementsAreArray(recorded));
  EXPECT_GT(reads("memory"), memory_before);

  // An entry no service wrote, appended and published like an event.
  ASSERT_TRUE(events_->redis()
                  .Command({"XADD", "accord:events", "*", "type", "x.y",
                            "event", "\xff\xff not a protobuf"})
                  .ok());
  ASSERT_TRUE(
      events_->redis()
          .Command({"PUBLISH", "accord:events:x.y", "\xff\xff not a protobuf"})
          .ok());
  recorded.push_back(RecordInstitution("after-garbage"));
  absl::SleepFor(absl::Milliseconds(200));  // the hub has seen both
  const double stream_before = reads("stream");
  EXPECT_THAT(replay(recorded.size()), ElementsAreArray(recorded));
  EXPECT_GT(reads("stream"), stream_before);
}

TEST_F(NotificationServiceTest, StuckWatcherFallsBackWithoutDelayingOthers) {
  StartNotification({"--watcher_queue=16"});
  // A client that opens a stream and reads nothing, on a connection of its
  // own with a small flow-control window, so the service's writes to it
  // stop after a few events.
  grpc::ChannelArguments arguments;
  arguments.SetInt("grpc.use_local_subchannel_pool", 1);
  arguments.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  arguments.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8192);
  auto stuck_stub = v1::NotificationService::NewStub(grpc::CreateCustomChannel(
      notification_->address(), grpc::InsecureChannelCredentials(), arguments));
  grpc::ClientContext stuck_context;
  stuck_context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(120));
  std::unique_ptr<grpc::ClientReader<v1::WatchEventsResponse>> stuck =
      stuck_stub->WatchEvents(&stuck_context, InlineWatch("", "now"));
  Watch reading(*stub_, InlineWatch("", "now"));
  absl::SleepFor(absl::Milliseconds(500));  // both streams registered

  constexpr int kEvents = 400;
  std::vector<std::string> recorded;
  for (int i = 0; i < kEvents; ++i) {
    recorded.push_back(RecordInstitution(absl::StrCat("e", i)));
  }
  const absl::Time written = absl::Now();
  // The reading watcher is not held back: every event, in order, and the
  // last soon after it was written.
  std::vector<events::v1::Event> got =
      reading.NextEvents(kEvents, absl::Seconds(10));
  EXPECT_LT(absl::Now() - written, absl::Seconds(2));
  std::vector<std::string> subjects;
  for (const auto& event : got) subjects.push_back(event.subject());
  EXPECT_THAT(subjects, ElementsAreArray(recorded));
  // The stuck one stopped being queued for (its queue is bounded)...
  EXPECT_GE(WatcherFallbacks(notification_->metrics_port()), 1);
  // ...and lost nothing: once it reads, the rest comes from the stream, in
  // order.
  std::vector<std::string> late;
  v1::WatchEventsResponse response;
  while (late.size() < recorded.size() && stuck->Read(&response)) {
    if (response.has_event()) late.push_back(response.event().subject());
  }
  EXPECT_THAT(late, ElementsAreArray(recorded));
  stuck_context.TryCancel();
}

TEST_F(NotificationServiceTest, IdleWatcherGetsHeartbeatsWithLatestPosition) {
  RecordInstitution("a");
  RecordInstitution("b", "RU");
  const std::string head = events_->All().back().position();
  Watch watch(*stub_, InlineWatch(R"(country_codes = "FR")", "now",
                                  absl::Milliseconds(200)));
  std::optional<v1::Heartbeat> heartbeat =
      watch.NextHeartbeat(absl::Seconds(3));
  ASSERT_TRUE(heartbeat.has_value());
  EXPECT_EQ(heartbeat->position(), head);
  // A non-matching live event moves the heartbeat position.
  RecordInstitution("c", "IR");
  const std::string newer = events_->All().back().position();
  absl::Time deadline = absl::Now() + absl::Seconds(3);
  std::string position;
  while (absl::Now() < deadline && position != newer) {
    std::optional<v1::Heartbeat> next = watch.NextHeartbeat(absl::Seconds(1));
    if (next.has_value()) position = next->position();
  }
  EXPECT_EQ(position, newer);
}

TEST_F(NotificationServiceTest, WatchBySubscription) {
  Subscription stream;
  stream.set_owner("institutions/tums");
  stream.add_event_types("accord.institution.v1.created");
  stream.set_filter(R"(country_codes = "RU")");
  stream.mutable_stream();
  MustCreate(stream, "pull");
  v1::WatchEventsRequest request;
  request.set_subscription("subscriptions/pull");
  Watch watch(*stub_, request);
  absl::SleepFor(absl::Milliseconds(300));
  RecordInstitution("ir-one", "IR");
  RecordInstitution("ru-one", "RU");
  std::optional<events::v1::Event> event = watch.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->subject(), "institutions/ru-one");

  v1::WatchEventsRequest missing;
  missing.set_subscription("subscriptions/nobody");
  Watch refused(*stub_, missing);
  std::optional<grpc::Status> status = refused.WaitStatus(absl::Seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(NotificationServiceTest, ListEventsAndGetEventForBackfill) {
  std::vector<std::string> iranian;
  for (int i = 0; i < 5; ++i) {
    iranian.push_back(RecordInstitution(absl::StrCat("ir-", i), "IR"));
    RecordInstitution(absl::StrCat("ru-", i), "RU");
  }
  std::vector<std::string> listed;
  std::string token;
  int pages = 0;
  do {
    v1::ListEventsRequest request;
    request.set_filter(R"(country_codes = "IR")");
    request.set_page_size(2);
    request.set_page_token(token);
    v1::ListEventsResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ListEvents(&context, request, &response).ok());
    for (const auto& event : response.events()) {
      listed.push_back(event.subject());
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_THAT(listed, ElementsAreArray(iranian));

  const events::v1::Event stored = events_->All().front();
  v1::GetEventRequest get;
  get.set_name(absl::StrCat("events/", stored.position()));
  events::v1::Event got;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetEvent(&context, get, &got).ok());
  EXPECT_EQ(got.id(), stored.id());
  EXPECT_EQ(got.position(), stored.position());
}

// The trimmer removes acknowledged, expired entries but never one a
// consumer group has not acknowledged; a watcher whose position was
// trimmed gets OUT_OF_RANGE naming the oldest position.
TEST_F(NotificationServiceTest,
       ExpiredPositionIsOutOfRangeAndTrimKeepsUnacked) {
  StartNotification({"--event_retention=0s", "--trim_interval=200ms"});
  RecordInstitution("old-0");
  const std::string first = events_->All().front().position();
  RecordInstitution("old-1");
  // Another consumer group that read old-1 but never acknowledged it.
  ASSERT_TRUE(
      events_->redis()
          .Command({"XGROUP", "CREATE", "accord:events", "audit", first})
          .ok());
  ASSERT_TRUE(events_->redis()
                  .Command({"XREADGROUP", "GROUP", "audit", "a", "COUNT", "1",
                            "STREAMS", "accord:events", ">"})
                  .ok());
  const std::string kept = events_->All().back().position();
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline && events_->All().front().position() == first) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  std::vector<events::v1::Event> remaining = events_->All();
  ASSERT_FALSE(remaining.empty());
  EXPECT_EQ(remaining.front().position(), kept);  // trimmed up to unacked

  Watch expired(*stub_, InlineWatch("", "0-1"));
  std::optional<grpc::Status> status = expired.WaitStatus(absl::Seconds(5));
  ASSERT_TRUE(status.has_value()) << notification_->ReadLog();
  EXPECT_EQ(status->error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(ErrorInfoMetadata(*status)["oldest_position"], kept);
  // The expired watch never said it was covered.
  EXPECT_FALSE(expired.WaitStarted(absl::ZeroDuration()).has_value());

  // Resuming from `resume_position` loses nothing still held: the oldest
  // event comes first (resuming from `oldest_position` would skip it).
  const std::string resume = ErrorInfoMetadata(*status)["resume_position"];
  ASSERT_FALSE(resume.empty());
  Watch resumed(*stub_, InlineWatch("", resume));
  std::optional<events::v1::Event> first_held =
      resumed.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(first_held.has_value());
  EXPECT_EQ(first_held->position(), kept);

  // From the oldest available position everything still held arrives.
  Watch earliest(*stub_, InlineWatch("", "earliest"));
  std::optional<events::v1::Event> event = earliest.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->position(), kept);
}

TEST_F(NotificationServiceTest,
       KilledServiceStillDeliversEveryEventAfterRestart) {
  WebhookReceiver receiver;
  MustCreate(WebhookSubscription(receiver.Url("/all")), "all");
  constexpr int kEvents = 40;
  std::thread writer([&] {
    for (int i = 0; i < kEvents; ++i) {
      RecordInstitution(absl::StrCat("k-", i));
      absl::SleepFor(absl::Milliseconds(10));
    }
  });
  absl::SleepFor(absl::Milliseconds(150));
  notification_->Kill();  // SIGKILL while events are being recorded
  absl::SleepFor(absl::Milliseconds(200));
  notification_->Start();
  writer.join();

  std::set<std::string> expected;
  for (const auto& event : events_->All()) {
    if (event.type() == "accord.institution.v1.created") {
      expected.insert(event.id());
    }
  }
  ASSERT_EQ(expected.size(), static_cast<size_t>(kEvents));
  std::vector<Received> got;
  std::set<std::string> ids;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline && ids.size() < expected.size()) {
    got = receiver.WaitFor("/all", expected.size(), absl::Milliseconds(200));
    ids.clear();
    for (const Received& request : got)
      ids.insert(request.header("webhook-id"));
  }
  EXPECT_EQ(ids, expected);
  // Duplicates are allowed only as the same webhook-id with the same event.
  std::map<std::string, std::string> body_by_id;
  for (const Received& request : got) {
    const std::string id = request.header("webhook-id");
    EXPECT_THAT(request.body, HasSubstr(absl::StrCat("\"id\":\"", id, "\"")));
  }
}

TEST_F(NotificationServiceTest,
       FailingEndpointIsRetriedThenDeadLetteredThenRedelivered) {
  WebhookReceiver receiver;
  receiver.Script("/flaky", {500});
  MustCreate(WebhookSubscription(receiver.Url("/flaky")), "flaky");
  RecordInstitution("retry-me");
  std::optional<Delivery> dead = WaitForDelivery(
      "subscriptions/flaky", Delivery::STATE_DEAD_LETTERED, absl::Seconds(15));
  ASSERT_TRUE(dead.has_value());
  ASSERT_EQ(dead->attempts_size(), 3);  // --webhook_max_attempts=3
  for (const auto& attempt : dead->attempts()) {
    EXPECT_EQ(attempt.http_status(), 500);
    EXPECT_EQ(attempt.error(), "HTTP 500");
  }
  // Backoff 300ms then 600ms, each with ±20% jitter.
  std::vector<Received> tries = receiver.On("/flaky");
  ASSERT_EQ(tries.size(), 3u);
  const absl::Duration first_gap = tries[1].time - tries[0].time;
  const absl::Duration second_gap = tries[2].time - tries[1].time;
  EXPECT_GE(first_gap, absl::Milliseconds(230));
  EXPECT_LE(first_gap, absl::Milliseconds(1200));
  EXPECT_GE(second_gap, absl::Milliseconds(470));
  EXPECT_LE(second_gap, absl::Milliseconds(1800));
  for (const Received& request : tries) {
    EXPECT_EQ(request.header("webhook-id"), tries[0].header("webhook-id"));
  }
  EXPECT_EQ(
      Deliveries("subscriptions/flaky", "state = STATE_DEAD_LETTERED").size(),
      1u);

  receiver.Script("/flaky", {200});
  v1::RetryDeliveryRequest retry;
  retry.set_name(dead->name());
  Delivery retried;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->RetryDelivery(&context, retry, &retried).ok());
  std::optional<Delivery> succeeded = WaitForDelivery(
      "subscriptions/flaky", Delivery::STATE_SUCCEEDED, absl::Seconds(10));
  ASSERT_TRUE(succeeded.has_value());
  EXPECT_EQ(succeeded->attempts_size(), 4);
  tries = receiver.On("/flaky");
  ASSERT_EQ(tries.size(), 4u);
  EXPECT_EQ(tries[3].header("webhook-id"), tries[0].header("webhook-id"));
}

TEST_F(NotificationServiceTest, RetryAfterIsHonoured) {
  WebhookReceiver receiver;
  receiver.Script("/busy", {503, 200});  // 503 carries Retry-After: 1
  MustCreate(WebhookSubscription(receiver.Url("/busy")), "busy");
  RecordInstitution("busy-event");
  std::vector<Received> tries = receiver.WaitFor("/busy", 2, absl::Seconds(10));
  ASSERT_EQ(tries.size(), 2u);
  EXPECT_GE(tries[1].time - tries[0].time, absl::Milliseconds(950));
}

TEST_F(NotificationServiceTest, GoneDisablesTheSubscription) {
  WebhookReceiver receiver;
  receiver.Script("/gone", {410});
  MustCreate(WebhookSubscription(receiver.Url("/gone")), "gone");
  RecordInstitution("gone-event");
  ASSERT_TRUE(WaitForDelivery("subscriptions/gone",
                              Delivery::STATE_DEAD_LETTERED, absl::Seconds(10))
                  .has_value());
  v1::GetSubscriptionRequest request;
  request.set_name("subscriptions/gone");
  Subscription read;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetSubscription(&context, request, &read).ok());
  EXPECT_EQ(read.state(), Subscription::STATE_DISABLED);
  EXPECT_THAT(read.state_reason(), HasSubstr("410"));
  EXPECT_EQ(receiver.On("/gone").size(), 1u);
}

TEST_F(NotificationServiceTest, PausedWebhookHoldsDeliveriesUntilResumed) {
  WebhookReceiver receiver;
  const Subscription created =
      MustCreate(WebhookSubscription(receiver.Url("/paused")), "paused");
  {
    v1::PauseSubscriptionRequest request;
    request.set_name(created.name());
    grpc::ClientContext context;
    Subscription paused;
    ASSERT_TRUE(stub_->PauseSubscription(&context, request, &paused).ok());
  }
  RecordInstitution("held");
  absl::SleepFor(absl::Milliseconds(800));
  EXPECT_TRUE(receiver.On("/paused").empty());
  {
    v1::ResumeSubscriptionRequest request;
    request.set_name(created.name());
    grpc::ClientContext context;
    Subscription resumed;
    ASSERT_TRUE(stub_->ResumeSubscription(&context, request, &resumed).ok());
  }
  EXPECT_EQ(receiver.WaitFor("/paused", 1, absl::Seconds(5)).size(), 1u);
}

TEST_F(NotificationServiceTest,
       PendingDeliveryOutlivesItsRetentionAndLeavesTheIndexOnceExpired) {
  // A retention far shorter than the subscriber's pause.
  StartNotification({"--delivery_retention=1s", "--trim_interval=300ms"});
  WebhookReceiver receiver;
  const Subscription created =
      MustCreate(WebhookSubscription(receiver.Url("/held")), "held");
  {
    v1::PauseSubscriptionRequest request;
    request.set_name(created.name());
    grpc::ClientContext context;
    Subscription paused;
    ASSERT_TRUE(stub_->PauseSubscription(&context, request, &paused).ok());
  }
  RecordInstitution("held-long");
  absl::SleepFor(absl::Milliseconds(2500));
  ASSERT_EQ(Deliveries(created.name()).size(), 1u)
      << "a delivery still to be made expired";
  {
    v1::ResumeSubscriptionRequest request;
    request.set_name(created.name());
    grpc::ClientContext context;
    Subscription resumed;
    ASSERT_TRUE(stub_->ResumeSubscription(&context, request, &resumed).ok());
  }
  ASSERT_EQ(receiver.WaitFor("/held", 1, absl::Seconds(5)).size(), 1u);
  // Final now: the record expires after the retention, and the trimmer
  // takes its index entry.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int64_t indexed = -1;
  while (absl::Now() < deadline) {
    auto reply = events_->redis().Command(
        {"ZCARD", "accord:notification:deliveries:held"});
    ASSERT_TRUE(reply.ok());
    indexed = reply->integer;
    if (indexed == 0) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(indexed, 0);
  EXPECT_TRUE(Deliveries(created.name()).empty());
}

TEST_F(NotificationServiceTest, ShutdownEndsOpenStreamsAndExitsCleanly) {
  Watch watch(*stub_, InlineWatch("", "now"));
  absl::SleepFor(absl::Milliseconds(300));
  const absl::Time start = absl::Now();
  EXPECT_EQ(notification_->Stop(), 0);
  // Bounded by the harness's --shutdown_grace=5s (plus scheduling slack on
  // a loaded machine), not by the open stream.
  EXPECT_LT(absl::Now() - start, absl::Seconds(7));
  std::optional<grpc::Status> status = watch.WaitStatus(absl::Seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE);
}

// An API key entry of the credentials file: sha256 over salt bytes then
// the secret.
std::string ApiKeyJson(const std::string& key_id, const std::string& secret) {
  const std::string salt = "a1b2c3d4";
  const std::string input = absl::StrCat(absl::HexStringToBytes(salt), secret);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
         digest);
  return absl::StrCat(
      R"({"keyId":")", key_id, R"(","salt":")", salt, R"(","sha256":")",
      absl::BytesToHexString(absl::string_view(
          reinterpret_cast<const char*>(digest), sizeof(digest))),
      R"("})");
}

TEST_F(NotificationServiceTest, SubscriptionsAreVisibleOnlyToTheirOwners) {
  const std::string dir = MakeTempDir("accord-credentials");
  {
    std::ofstream file(dir + "/credentials.json");
    file << R"({"principals":[)"
         << R"({"id":"alice","roles":["ROLE_SUBSCRIBER"],)"
         << R"("institutions":["institutions/tums"],"apiKeys":[)"
         << ApiKeyJson("alice1", "alice-secret") << "]},"
         << R"({"id":"bob","roles":["ROLE_SUBSCRIBER"],"apiKeys":[)"
         << ApiKeyJson("bob1", "bob-secret") << "]}]}";
  }
  auth_flags_ = {absl::StrCat("--credentials_file=", dir, "/credentials.json")};
  StartNotification({});
  auto as = [](grpc::ClientContext& context, const std::string& token) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  };
  const std::string alice = "alice1.alice-secret";
  const std::string bob = "bob1.bob-secret";

  Subscription stream;
  stream.add_event_types("accord.institution.v1.*");
  stream.mutable_stream();
  {
    v1::CreateSubscriptionRequest request;
    *request.mutable_subscription() = stream;
    request.set_subscription_id("alices");
    grpc::ClientContext context;
    Subscription created;
    EXPECT_EQ(
        stub_->CreateSubscription(&context, request, &created).error_code(),
        grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    v1::CreateSubscriptionRequest request;
    *request.mutable_subscription() = stream;
    request.mutable_subscription()->set_owner("bob");
    grpc::ClientContext context;
    as(context, alice);
    Subscription created;
    const grpc::Status status =
        stub_->CreateSubscription(&context, request, &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_EQ(FieldOf(status), "subscription.owner");
  }
  {
    v1::CreateSubscriptionRequest request;
    *request.mutable_subscription() = stream;
    request.set_subscription_id("alices");
    grpc::ClientContext context;
    as(context, alice);
    Subscription created;
    ASSERT_TRUE(stub_->CreateSubscription(&context, request, &created).ok());
    EXPECT_EQ(created.owner(), "alice");
  }
  {
    v1::GetSubscriptionRequest request;
    request.set_name("subscriptions/alices");
    grpc::ClientContext context;
    as(context, bob);
    Subscription read;
    EXPECT_EQ(stub_->GetSubscription(&context, request, &read).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::ListSubscriptionsRequest request;
    grpc::ClientContext context;
    as(context, bob);
    v1::ListSubscriptionsResponse response;
    ASSERT_TRUE(stub_->ListSubscriptions(&context, request, &response).ok());
    EXPECT_EQ(response.subscriptions_size(), 0);
  }
  {
    v1::WatchEventsRequest request;
    request.set_subscription("subscriptions/alices");
    grpc::ClientContext context;
    as(context, bob);
    auto reader = stub_->WatchEvents(&context, request);
    WatchEventsResponse response;
    EXPECT_FALSE(reader->Read(&response));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    v1::WatchEventsRequest request;
    request.set_subscription("subscriptions/alices");
    request.set_start_position("earliest");
    grpc::ClientContext context;
    as(context, alice);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    auto reader = stub_->WatchEvents(&context, request);
    RecordInstitution("for-alice");
    WatchEventsResponse response;
    while (reader->Read(&response) && !response.has_event()) {
    }
    EXPECT_EQ(response.event().subject(), "institutions/for-alice");
    context.TryCancel();
    (void)reader->Finish();
  }
  std::filesystem::remove_all(dir);
}

// The signature verifies with the `standardwebhooks` npm package and the
// body parses with the `cloudevents` npm package.
TEST_F(NotificationServiceTest, WebhookVerifiesWithIndependentNodeLibraries) {
  const std::string node_dir = absl::StrCat(ACCORD_SOURCE_DIR, "/tests/node");
  if (std::system(
          absl::StrCat("test -d ", node_dir, "/node_modules/standardwebhooks")
              .c_str()) != 0) {
    GTEST_SKIP() << "run `npm ci` in tests/node (scripts/install-deps.sh)";
  }
  WebhookReceiver receiver;
  MustCreate(WebhookSubscription(receiver.Url("/node")), "node");
  const std::string name = RecordInstitution("node-checked");
  std::vector<Received> got = receiver.WaitFor("/node", 1, absl::Seconds(10));
  ASSERT_EQ(got.size(), 1u);

  const std::string dir = MakeTempDir("accord-webhook");
  const std::string capture = dir + "/request.txt";
  {
    std::ofstream file(capture, std::ios::binary);
    for (const auto& [header, value] : got[0].headers) {
      file << header << ": " << value << "\n";
    }
    file << "\n" << got[0].body;
  }
  const std::string command =
      absl::StrCat("node ", node_dir, "/verify_webhook.mjs ", capture, " ",
                   kSecret, " > ", dir, "/out.txt 2>&1");
  const int code = std::system(command.c_str());
  std::ifstream output(dir + "/out.txt");
  const std::string printed((std::istreambuf_iterator<char>(output)),
                            std::istreambuf_iterator<char>());
  EXPECT_EQ(code, 0) << printed;
  EXPECT_THAT(printed, HasSubstr(absl::StrCat("\"subject\":\"", name, "\"")));

  // A tampered body fails verification.
  {
    std::ofstream file(capture, std::ios::binary);
    for (const auto& [header, value] : got[0].headers) {
      file << header << ": " << value << "\n";
    }
    file << "\n" << got[0].body << " ";
  }
  EXPECT_NE(std::system(command.c_str()), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace accord::notification
