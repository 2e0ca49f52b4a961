// The "who is told" contract, against the real accord-notification and
// accord-institution binaries and a real redis-server, with authentication
// on as shipped: the event-type vocabulary, the first message of a watch,
// webhook delivery that outlasts an outage, delivery health with its
// failing/recovered events, ordered delivery and the redrive of dead
// letters.
//
// Loosened, and why: webhooks may reach loopback only through the
// operator's allow-list (`--webhook_allow_cidrs`), and the retry schedules
// are shortened (the default spans a day) so an outage fits in a test.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "accord/auth/v1/auth.grpc.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/errors.h"
#include "common/event_types.h"
#include "common/events.h"
#include "google/protobuf/util/time_util.h"
#include "services/notification/test_support.h"
#include "tests/harness/credentials.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord::notification {
namespace {

using ::accord::testing::EventLog;
using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::TestCredentials;
using ::google::protobuf::util::TimeUtil;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Received;
using testing::Watch;
using testing::WebhookReceiver;
using v1::Delivery;
using v1::DeliveryHealth;
using v1::Subscription;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kOwner[] = "institutions/tums";

std::string BodyField(const Received& received, const std::string& field) {
  std::smatch match;
  const std::regex pattern("\"" + field + "\":\"([^\"]*)\"");
  return std::regex_search(received.body, match, pattern) ? match[1].str() : "";
}

// The subjects of the requests `received` got, in order.
// The requests to `path` after the first `skip`, one per webhook-id, once
// there are `count` of them (or at `timeout`). Delivery is at least once: on
// a slow machine an attempt can be retried after the receiver got it, and
// receivers deduplicate on webhook-id.
std::vector<Received> WaitForDistinct(WebhookReceiver& receiver,
                                      const std::string& path, size_t skip,
                                      size_t count, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::vector<Received> all = receiver.On(path);
    std::vector<Received> distinct;
    std::set<std::string> seen;
    for (size_t i = skip; i < all.size(); ++i) {
      if (seen.insert(all[i].header("webhook-id")).second) {
        distinct.push_back(all[i]);
      }
    }
    if (distinct.size() >= count || absl::Now() >= deadline) return distinct;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

std::vector<std::string> Subjects(const std::vector<Received>& received) {
  std::vector<std::string> subjects;
  for (const Received& request : received) {
    subjects.push_back(BodyField(request, "subject"));
  }
  return subjects;
}

int64_t MillisOf(const std::string& position) {
  int64_t ms = 0;
  EXPECT_TRUE(absl::SimpleAtoi(position.substr(0, position.find('-')), &ms));
  return ms;
}

class DeliveryContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("delivery-contract");
    TestCredentials credentials;
    admin_ = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    bot_ = credentials.Add("tums-bot", auth::v1::ROLE_SUBSCRIBER, kOwner);
    other_ = credentials.Add("other-bot", auth::v1::ROLE_SUBSCRIBER,
                             "institutions/other");
    credentials_flag_ = credentials.Write(dir_);
    redis_ = std::make_unique<RedisServer>();
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{credentials_flag_});
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    events_ = std::make_unique<EventLog>(redis_->url());
  }

  void StartNotification(std::vector<std::string> extra) {
    std::vector<std::string> flags = {credentials_flag_,
                                      "--webhook_allow_cidrs=127.0.0.0/8",
                                      "--consumer_name=contract-test"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    notification_ = std::make_unique<ServiceProcess>("accord-notification",
                                                     redis_->url(), flags);
    stub_ = v1::NotificationService::NewStub(notification_->Channel());
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    return ::accord::testing::AuthorizedContext(token);
  }

  // Records an institution in Iran; returns its name.
  std::string RecordInstitution(const std::string& id) {
    institution::v1::CreateInstitutionRequest request;
    request.set_institution_id(id);
    auto* name = request.mutable_institution()->add_names();
    name->set_text(absl::StrCat("University ", id));
    name->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
    request.mutable_institution()->set_kind(
        institution::v1::Institution::KIND_UNIVERSITY);
    request.mutable_institution()->set_country_code("IR");
    institution::v1::Institution created;
    const grpc::Status status =
        institutions_->CreateInstitution(As(admin_).get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.name();
  }

  Subscription Webhook(const std::string& url, bool ordered = false,
                       std::vector<std::string> types = {
                           "accord.institution.v1.*"}) {
    Subscription subscription;
    subscription.set_owner(kOwner);
    for (const std::string& type : types) subscription.add_event_types(type);
    subscription.mutable_webhook()->set_uri(url);
    subscription.mutable_webhook()->set_signing_secret(kSecret);
    subscription.mutable_webhook()->set_ordered(ordered);
    return subscription;
  }

  grpc::Status Create(const Subscription& subscription, const std::string& id,
                      Subscription* created = nullptr) {
    v1::CreateSubscriptionRequest request;
    *request.mutable_subscription() = subscription;
    request.set_subscription_id(id);
    Subscription ignored;
    return stub_->CreateSubscription(As(bot_).get(), request,
                                     created != nullptr ? created : &ignored);
  }

  Subscription Get(const std::string& name) {
    v1::GetSubscriptionRequest request;
    request.set_name(name);
    Subscription subscription;
    const grpc::Status status =
        stub_->GetSubscription(As(bot_).get(), request, &subscription);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return subscription;
  }

  // Polls the subscription until `done` holds; the last one read.
  Subscription WaitForSubscription(
      const std::string& name,
      const std::function<bool(const Subscription&)>& done,
      absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    Subscription subscription = Get(name);
    while (!done(subscription) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      subscription = Get(name);
    }
    return subscription;
  }

  std::vector<Delivery> Deliveries(const std::string& parent,
                                   const std::string& filter = "") {
    v1::ListDeliveriesRequest request;
    request.set_parent(parent);
    request.set_filter(filter);
    request.set_page_size(1000);
    v1::ListDeliveriesResponse response;
    const grpc::Status status =
        stub_->ListDeliveries(As(bot_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.deliveries().begin(), response.deliveries().end()};
  }

  bool WaitForDeliveries(const std::string& parent, const std::string& filter,
                         size_t count, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (Deliveries(parent, filter).size() < count) {
      if (absl::Now() >= deadline) return false;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return true;
  }

  // Events of `type` about `subject` in the stream.
  int CountEvents(const std::string& type, const std::string& subject) {
    int count = 0;
    for (const auto& event : events_->All()) {
      if (event.type() == type && event.subject() == subject) ++count;
    }
    return count;
  }

  std::string dir_;
  std::string credentials_flag_;
  std::string admin_;
  std::string bot_;
  std::string other_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<ServiceProcess> notification_;
  std::unique_ptr<v1::NotificationService::Stub> stub_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(DeliveryContractTest, EventTypesAreAVocabularyThatRefusesTypos) {
  StartNotification({});
  v1::ListEventTypesResponse listed;
  ASSERT_TRUE(
      stub_
          ->ListEventTypes(As(bot_).get(), v1::ListEventTypesRequest(), &listed)
          .ok());
  ASSERT_EQ(listed.event_types_size(), static_cast<int>(EventTypes().size()));
  for (int i = 0; i < listed.event_types_size(); ++i) {
    const v1::EventType& type = listed.event_types(i);
    EXPECT_EQ(type.type(), EventTypes()[i].type);
    EXPECT_FALSE(type.description().empty()) << type.type();
    EXPECT_THAT(type.payload_type(), ::testing::StartsWith("accord."));
    EXPECT_FALSE(type.subject_pattern().empty()) << type.type();
    EXPECT_THAT(type.source(), ::testing::StartsWith("//accord/"));
    EXPECT_FALSE(type.filter_fields().empty()) << type.type();
  }
  // Unauthenticated callers learn nothing.
  grpc::ClientContext anonymous;
  EXPECT_EQ(
      stub_->ListEventTypes(&anonymous, v1::ListEventTypesRequest(), &listed)
          .error_code(),
      grpc::StatusCode::UNAUTHENTICATED);

  WebhookReceiver receiver;
  // "agreement", a typo, a prefix of nothing: refused, naming the field and
  // listing the valid types; nothing is created.
  for (const char* unknown :
       {"agreement", "accord.agreemnt.v1.recorded", "accord.treaty.v1.*"}) {
    const grpc::Status status = Create(
        Webhook(receiver.Url("/x"), false, {"accord.milestone.v1.*", unknown}),
        "typo");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << unknown;
    const auto violations = FieldViolationsOf(FromGrpcStatus(status));
    ASSERT_EQ(violations.size(), 1u) << status.error_message();
    EXPECT_EQ(violations[0].field, "subscription.event_types[1]");
    EXPECT_THAT(violations[0].description,
                HasSubstr("accord.agreement.v1.recorded"));
  }
  v1::ListSubscriptionsResponse subscriptions;
  ASSERT_TRUE(stub_
                  ->ListSubscriptions(As(bot_).get(),
                                      v1::ListSubscriptionsRequest(),
                                      &subscriptions)
                  .ok());
  EXPECT_EQ(subscriptions.subscriptions_size(), 0);

  // A watch on an unknown type ends at once instead of idling forever.
  v1::WatchEventsRequest watch;
  watch.mutable_inline_selector()->add_event_types("agreement");
  Watch refused(*stub_, watch, bot_);
  std::optional<grpc::Status> status = refused.WaitStatus(absl::Seconds(5));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status->error_message(),
              HasSubstr("accord.committee.v1.session_recorded"));

  // A valid prefix is fine.
  EXPECT_TRUE(
      Create(Webhook(receiver.Url("/x"), false, {"accord.notification.v1.*"}),
             "ops")
          .ok());
}

TEST_F(DeliveryContractTest, WatchSaysWhereItStartsBeforeAnyEvent) {
  StartNotification({});
  RecordInstitution("before");
  const std::string head = events_->All().back().position();

  v1::WatchEventsRequest live;
  live.mutable_inline_selector()->add_event_types("accord.institution.v1.*");
  live.set_start_position("now");
  Watch watch(*stub_, live, bot_);
  std::optional<std::pair<v1::WatchStarted, int>> started =
      watch.WaitStarted(absl::Seconds(5));
  ASSERT_TRUE(started.has_value());
  EXPECT_EQ(started->second, 0);  // the very first message
  EXPECT_EQ(started->first.position(), head);
  EXPECT_TRUE(started->first.has_time());

  // Recorded after `started`: covered.
  const std::string after = RecordInstitution("after");
  std::optional<events::v1::Event> event = watch.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->subject(), after);
  EXPECT_GT(ComparePositions(event->position(), started->first.position()), 0);

  // From a position: it starts right after that position, before the
  // replayed events.
  v1::WatchEventsRequest resumed = live;
  resumed.set_start_position(head);
  Watch replay(*stub_, resumed, bot_);
  started = replay.WaitStarted(absl::Seconds(5));
  ASSERT_TRUE(started.has_value());
  EXPECT_EQ(started->second, 0);
  EXPECT_EQ(started->first.position(), head);
  event = replay.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->subject(), after);
}

// The default schedule (5s, 5m, 30m, 2h, 5h, 10h, 10h) scaled 1:1000, and an
// endpoint down for a simulated hour (3.6 s): every event arrives once it is
// back, the subscription shows its trouble meanwhile, and the failing and
// recovered events are each recorded once.
TEST_F(DeliveryContractTest, EndpointDownForAnHourReceivesEverythingAfter) {
  StartNotification(
      {"--webhook_retry_schedule=5ms,300ms,1800ms,7200ms,18s,"
       "36s,36s"});
  WebhookReceiver receiver;
  receiver.Script("/down", {500});
  // The failing endpoint also asked for notification events: it must not be
  // told about itself.
  ASSERT_TRUE(
      Create(Webhook(receiver.Url("/down"), false,
                     {"accord.institution.v1.*", "accord.notification.v1.*"}),
             "down")
          .ok());
  ASSERT_TRUE(
      Create(Webhook(receiver.Url("/ops"), false, {"accord.notification.v1.*"}),
             "ops")
          .ok());
  v1::WatchEventsRequest watch_request;
  watch_request.mutable_inline_selector()->add_event_types(
      "accord.notification.v1.*");
  Watch owner_watch(*stub_, watch_request, bot_);
  Watch outsider_watch(*stub_, watch_request, other_);
  ASSERT_TRUE(owner_watch.WaitStarted(absl::Seconds(5)).has_value());
  ASSERT_TRUE(outsider_watch.WaitStarted(absl::Seconds(5)).has_value());

  const absl::Time outage_start = absl::Now();
  std::vector<std::string> recorded;
  for (int i = 0; i < 3; ++i) {
    recorded.push_back(RecordInstitution(absl::StrCat("lunch-", i)));
  }
  std::string oldest;
  for (const auto& event : events_->All()) {
    if (event.subject() == recorded[0]) oldest = event.position();
  }

  const Subscription failing = WaitForSubscription(
      "subscriptions/down",
      [](const Subscription& s) {
        return s.delivery_health().state() == DeliveryHealth::STATE_FAILING;
      },
      absl::Seconds(5));
  const DeliveryHealth& health = failing.delivery_health();
  ASSERT_EQ(health.state(), DeliveryHealth::STATE_FAILING)
      << failing.DebugString() << notification_->ReadLog();
  EXPECT_GE(health.consecutive_failures(), 5);
  EXPECT_EQ(health.last_failure_reason(), "HTTP 500");
  EXPECT_TRUE(health.has_last_failure_time());
  EXPECT_TRUE(health.has_failing_since());
  EXPECT_EQ(health.oldest_undelivered_position(), oldest);
  EXPECT_EQ(health.undelivered_count(), 3);
  EXPECT_EQ(failing.state(), Subscription::STATE_ACTIVE);

  // The owner hears of it, on a watch and on its other webhook; an
  // outsider does not.
  std::optional<events::v1::Event> announced =
      owner_watch.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(announced.has_value());
  EXPECT_EQ(announced->type(), "accord.notification.v1.subscription_failing");
  EXPECT_EQ(announced->subject(), "subscriptions/down");
  // It names its owner, and only the owner (and admins) may receive it.
  EXPECT_THAT(announced->institutions(), ElementsAre(kOwner));
  EXPECT_THAT(announced->restricted_to(), ElementsAre(kOwner));
  Subscription payload;
  ASSERT_TRUE(announced->payload().UnpackTo(&payload));
  EXPECT_EQ(payload.delivery_health().state(), DeliveryHealth::STATE_FAILING);
  EXPECT_EQ(receiver.WaitFor("/ops", 1, absl::Seconds(5)).size(), 1u);
  EXPECT_THAT(notification_->ReadLog(),
              HasSubstr("webhook subscription failing"));

  // Back after the simulated hour.
  absl::SleepFor(outage_start + absl::Milliseconds(3600) - absl::Now());
  receiver.Script("/down", {200});
  ASSERT_TRUE(WaitForDeliveries("subscriptions/down", "state = STATE_SUCCEEDED",
                                3, absl::Seconds(30)))
      << notification_->ReadLog();
  EXPECT_TRUE(
      Deliveries("subscriptions/down", "state = STATE_DEAD_LETTERED").empty());
  std::set<std::string> delivered;
  for (const Received& request : receiver.On("/down")) {
    EXPECT_NE(BodyField(request, "type"),
              "accord.notification.v1.subscription_failing");
    delivered.insert(BodyField(request, "subject"));
  }
  for (const std::string& name : recorded) EXPECT_TRUE(delivered.count(name));

  const Subscription recovered = WaitForSubscription(
      "subscriptions/down",
      [](const Subscription& s) {
        return s.delivery_health().state() == DeliveryHealth::STATE_HEALTHY &&
               s.delivery_health().undelivered_count() == 0;
      },
      absl::Seconds(5));
  EXPECT_EQ(recovered.delivery_health().state(), DeliveryHealth::STATE_HEALTHY);
  EXPECT_EQ(recovered.delivery_health().consecutive_failures(), 0);
  EXPECT_EQ(recovered.delivery_health().undelivered_count(), 0);
  EXPECT_TRUE(
      recovered.delivery_health().oldest_undelivered_position().empty());
  EXPECT_TRUE(recovered.delivery_health().has_last_success_time());
  std::optional<events::v1::Event> back =
      owner_watch.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->type(), "accord.notification.v1.subscription_recovered");

  // Once per episode, however many attempts failed.
  EXPECT_EQ(CountEvents("accord.notification.v1.subscription_failing",
                        "subscriptions/down"),
            1);
  EXPECT_EQ(CountEvents("accord.notification.v1.subscription_recovered",
                        "subscriptions/down"),
            1);
  EXPECT_FALSE(outsider_watch.NextEvent(absl::Milliseconds(200)).has_value());
}

TEST_F(DeliveryContractTest, OrderedDeliveryHoldsOrderAcrossAFailingAttempt) {
  StartNotification({"--webhook_retry_schedule=300ms"});
  WebhookReceiver receiver;
  receiver.Script("/ordered", {500, 200});
  receiver.Script("/parallel", {500, 200});
  ASSERT_TRUE(Create(Webhook(receiver.Url("/ordered"), true), "ordered").ok());
  ASSERT_TRUE(
      Create(Webhook(receiver.Url("/parallel"), false), "parallel").ok());
  EXPECT_TRUE(Get("subscriptions/ordered").webhook().ordered());
  std::vector<std::string> recorded;
  for (int i = 0; i < 6; ++i) {
    recorded.push_back(RecordInstitution(absl::StrCat("o-", i)));
  }
  // The first attempt of the first event fails; nothing later goes out
  // until its retry succeeded.
  std::vector<Received> got =
      receiver.WaitFor("/ordered", recorded.size() + 1, absl::Seconds(20));
  std::vector<std::string> expected = {recorded[0]};
  expected.insert(expected.end(), recorded.begin(), recorded.end());
  EXPECT_EQ(Subjects(got), expected) << notification_->ReadLog();
  // Never two in flight: each request starts after the previous answered.
  for (size_t i = 1; i < got.size(); ++i) {
    EXPECT_GE(got[i].time, got[i - 1].time);
  }
  ASSERT_TRUE(WaitForDeliveries("subscriptions/ordered",
                                "state = STATE_SUCCEEDED", recorded.size(),
                                absl::Seconds(10)));
  // The unordered subscription got everything too, in its own order.
  ASSERT_TRUE(WaitForDeliveries("subscriptions/parallel",
                                "state = STATE_SUCCEEDED", recorded.size(),
                                absl::Seconds(10)));
}

TEST_F(DeliveryContractTest, DeadLettersAreRedrivenInStreamOrderAndAudited) {
  StartNotification(
      {"--webhook_retry_schedule=50ms", "--webhook_max_attempts=2"});
  WebhookReceiver receiver;
  receiver.Script("/r", {500});
  ASSERT_TRUE(Create(Webhook(receiver.Url("/r"), true), "r").ok());
  std::vector<std::string> recorded;
  for (int i = 0; i < 4; ++i) {
    recorded.push_back(RecordInstitution(absl::StrCat("r-", i)));
    absl::SleepFor(absl::Milliseconds(5));  // distinct milliseconds
  }
  ASSERT_TRUE(WaitForDeliveries(
      "subscriptions/r", "state = STATE_DEAD_LETTERED", 4, absl::Seconds(15)))
      << notification_->ReadLog();
  std::map<std::string, std::string> position_of;  // subject -> position
  for (const auto& event : events_->All()) {
    position_of[event.subject()] = event.position();
  }
  auto delivery = [&](int i) {
    return absl::StrCat("subscriptions/r/deliveries/",
                        position_of[recorded[i]]);
  };
  EXPECT_EQ(Get("subscriptions/r").delivery_health().undelivered_count(), 0);

  // Bad requests change nothing.
  {
    v1::RedriveDeadLettersRequest request;
    request.set_parent("subscriptions/r");
    *request.mutable_start_time() = TimeUtil::MillisecondsToTimestamp(2000);
    *request.mutable_end_time() = TimeUtil::MillisecondsToTimestamp(1000);
    v1::RedriveDeadLettersResponse response;
    const grpc::Status status =
        stub_->RedriveDeadLetters(As(bot_).get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(status)).at(0).field,
              "end_time");
    request.clear_end_time();
    request.set_max_deliveries(20000);
    const grpc::Status too_many =
        stub_->RedriveDeadLetters(As(bot_).get(), request, &response);
    EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(too_many)).at(0).field,
              "max_deliveries");
    // Another owner's subscription does not exist for it.
    request.set_max_deliveries(0);
    request.clear_start_time();
    EXPECT_EQ(stub_->RedriveDeadLetters(As(other_).get(), request, &response)
                  .error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ(Deliveries("subscriptions/r", "state = STATE_DEAD_LETTERED").size(),
            4u);

  receiver.Script("/r", {200});
  const size_t before = receiver.On("/r").size();
  // The middle two, by the time range of their events.
  v1::RedriveDeadLettersRequest middle;
  middle.set_parent("subscriptions/r");
  *middle.mutable_start_time() =
      TimeUtil::MillisecondsToTimestamp(MillisOf(position_of[recorded[1]]));
  *middle.mutable_end_time() =
      TimeUtil::MillisecondsToTimestamp(MillisOf(position_of[recorded[2]]) + 1);
  v1::RedriveDeadLettersResponse redriven;
  ASSERT_TRUE(
      stub_->RedriveDeadLetters(As(bot_).get(), middle, &redriven).ok());
  EXPECT_THAT(redriven.deliveries(), ElementsAre(delivery(1), delivery(2)));
  EXPECT_FALSE(redriven.has_next_start_time());
  std::vector<Received> got =
      WaitForDistinct(receiver, "/r", before, 2, absl::Seconds(10));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(Subjects(got),
            (std::vector<std::string>{recorded[1], recorded[2]}));

  // The rest, one per call: oldest first, with where to continue.
  v1::RedriveDeadLettersRequest rest;
  rest.set_parent("subscriptions/r");
  rest.set_max_deliveries(1);
  ASSERT_TRUE(stub_->RedriveDeadLetters(As(bot_).get(), rest, &redriven).ok());
  EXPECT_THAT(redriven.deliveries(), ElementsAre(delivery(0)));
  ASSERT_TRUE(redriven.has_next_start_time());
  *rest.mutable_start_time() = redriven.next_start_time();
  ASSERT_TRUE(stub_->RedriveDeadLetters(As(bot_).get(), rest, &redriven).ok());
  EXPECT_THAT(redriven.deliveries(), ElementsAre(delivery(3)));
  got = WaitForDistinct(receiver, "/r", before, 4, absl::Seconds(10));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(Subjects({got.begin() + 2, got.end()}),
            (std::vector<std::string>{recorded[0], recorded[3]}));
  ASSERT_TRUE(WaitForDeliveries("subscriptions/r", "state = STATE_SUCCEEDED", 4,
                                absl::Seconds(10)));
  // Same webhook-id as the first attempts: receivers deduplicate on it.
  EXPECT_EQ(got[0].header("webhook-id"),
            Deliveries("subscriptions/r")[2].event_id());

  // Each redriven delivery is in the audit trail, with who asked.
  auto audit = auth::v1::AuditService::NewStub(notification_->Channel());
  for (int i = 0; i < 4; ++i) {
    auth::v1::ListAuditRecordsRequest request;
    request.set_resource(delivery(i));
    auth::v1::ListAuditRecordsResponse response;
    ASSERT_TRUE(
        audit->ListAuditRecords(As(admin_).get(), request, &response).ok());
    ASSERT_EQ(response.audit_records_size(), 1) << delivery(i);
    EXPECT_EQ(response.audit_records(0).principal(), "tums-bot");
    EXPECT_THAT(response.audit_records(0).method(),
                HasSubstr("RedriveDeadLetters"));
  }
}

}  // namespace
}  // namespace accord::notification
