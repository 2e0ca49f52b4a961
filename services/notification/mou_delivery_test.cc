// The product's promise end to end, with authentication on: a recorded MOU
// (and a committee milestone) reaches every matching watcher and webhook and
// no other, and an MOU restricted to its parties reaches only principals
// acting for a party — on a watch stream, through a webhook, and in the
// event history. All real processes: redis-server, accord-institution,
// accord-agreement, accord-notification, each on a free loopback port.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "google/protobuf/util/time_util.h"
#include "services/notification/test_support.h"
#include "tests/harness/credentials.h"
#include "tests/harness/processes.h"

namespace accord::notification {
namespace {

using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::TestCredentials;
using agreement::v1::Agreement;
using testing::Watch;
using testing::WebhookReceiver;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class MouDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Principals: an admin, an editor acting for party A, an outsider
    // acting for C, and the agreement service itself.
    const std::string dir = MakeTempDir("mou-delivery");
    TestCredentials credentials;
    admin_ = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    party_ =
        credentials.Add("party-a", auth::v1::ROLE_EDITOR, "institutions/a");
    outsider_ =
        credentials.Add("outsider-c", auth::v1::ROLE_VIEWER, "institutions/c");
    const std::string service_token =
        credentials.Add("agreement-service", auth::v1::ROLE_VIEWER);
    const std::string credentials_flag = credentials.Write(dir);
    std::ofstream(dir + "/agreement-token") << service_token;

    redis_ = std::make_unique<RedisServer>();
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{credentials_flag});
    agreement_ = std::make_unique<ServiceProcess>(
        "accord-agreement", redis_->url(),
        std::vector<std::string>{
            credentials_flag,
            absl::StrCat("--institution_target=", institution_->address()),
            absl::StrCat("--institution_token_file=", dir,
                         "/agreement-token")});
    notification_ = std::make_unique<ServiceProcess>(
        "accord-notification", redis_->url(),
        std::vector<std::string>{credentials_flag,
                                 "--webhook_allow_cidrs=127.0.0.0/8",
                                 "--consumer_name=mou-test"});
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    agreements_ =
        agreement::v1::AgreementService::NewStub(agreement_->Channel());
    notifications_ = v1::NotificationService::NewStub(notification_->Channel());
    for (const auto& [id, country] :
         std::vector<std::pair<std::string, std::string>>{
             {"a", "IR"}, {"b", "RU"}, {"c", "FR"}}) {
      institution::v1::CreateInstitutionRequest request;
      request.set_institution_id(id);
      auto* name = request.mutable_institution()->add_names();
      name->set_text(absl::StrCat("Institution ", id));
      name->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
      request.mutable_institution()->set_kind(
          institution::v1::Institution::KIND_UNIVERSITY);
      request.mutable_institution()->set_country_code(country);
      institution::v1::Institution created;
      ASSERT_TRUE(
          institutions_
              ->CreateInstitution(Context(admin_).get(), request, &created)
              .ok());
    }
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      const std::string& token) {
    return ::accord::testing::AuthorizedContext(token);
  }

  std::string RecordMou(const std::string& id, bool restricted,
                        const std::string& token) {
    agreement::v1::CreateAgreementRequest request;
    request.set_agreement_id(id);
    Agreement& mou = *request.mutable_agreement();
    mou.add_titles()->set_text(absl::StrCat("MOU ", id));
    mou.set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
    mou.add_parties("institutions/a");
    mou.add_parties("institutions/b");
    mou.add_cooperation_areas("medical-research");
    mou.set_restricted(restricted);
    Agreement created;
    const grpc::Status status =
        agreements_->CreateAgreement(Context(token).get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.name();
  }

  v1::WatchEventsRequest WatchFor(const std::string& type,
                                  const std::string& filter) {
    v1::WatchEventsRequest request;
    request.mutable_inline_selector()->add_event_types(type);
    request.mutable_inline_selector()->set_filter(filter);
    request.set_start_position("now");
    *request.mutable_heartbeat_interval() =
        google::protobuf::util::TimeUtil::MillisecondsToDuration(200);
    return request;
  }

  std::string Subscribe(const std::string& owner, const std::string& filter,
                        const std::string& url) {
    v1::CreateSubscriptionRequest request;
    v1::Subscription& subscription = *request.mutable_subscription();
    subscription.set_owner(owner);
    subscription.add_event_types("accord.agreement.v1.recorded");
    subscription.set_filter(filter);
    subscription.mutable_webhook()->set_uri(url);
    subscription.mutable_webhook()->set_signing_secret(kSecret);
    v1::Subscription created;
    const grpc::Status status = notifications_->CreateSubscription(
        Context(admin_).get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.name();
  }

  std::string admin_;
  std::string party_;
  std::string outsider_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<ServiceProcess> notification_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<agreement::v1::AgreementService::Stub> agreements_;
  std::unique_ptr<v1::NotificationService::Stub> notifications_;
};

TEST_F(MouDeliveryTest, RecordedMouReachesMatchingWatchersAndWebhooksOnly) {
  WebhookReceiver receiver;
  Subscribe("institutions/a", R"(cooperation_areas: "medical-research")",
            receiver.Url("/party"));
  Subscribe("institutions/c", R"(country_codes: "FR")",
            receiver.Url("/france"));
  Watch matching(*notifications_,
                 WatchFor("accord.agreement.v1.recorded",
                          R"(country_codes: "IR" AND country_codes: "RU")"),
                 outsider_);
  Watch other(
      *notifications_,
      WatchFor("accord.agreement.v1.recorded", R"(country_codes: "FR")"),
      outsider_);
  ASSERT_TRUE(matching.NextHeartbeat(absl::Seconds(5)).has_value());
  ASSERT_TRUE(other.NextHeartbeat(absl::Seconds(5)).has_value());

  const std::string mou = RecordMou("public-mou", false, party_);
  const auto event = matching.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type(), "accord.agreement.v1.recorded");
  EXPECT_EQ(event->subject(), mou);
  EXPECT_EQ(event->principal(), "party-a");
  const auto delivered = receiver.WaitFor("/party", 1, absl::Seconds(10));
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_THAT(delivered[0].body, ::testing::HasSubstr(mou));
  EXPECT_FALSE(delivered[0].header("webhook-signature").empty());

  EXPECT_FALSE(other.NextEvent(absl::Milliseconds(500)).has_value());
  EXPECT_TRUE(receiver.On("/france").empty());
}

TEST_F(MouDeliveryTest, RestrictedMouReachesOnlyItsParties) {
  WebhookReceiver receiver;
  Subscribe("institutions/a", "", receiver.Url("/party"));
  Subscribe("institutions/c", "", receiver.Url("/outsider"));
  Watch party(*notifications_, WatchFor("accord.agreement.v1.*", ""), party_);
  Watch outsider(*notifications_, WatchFor("accord.agreement.v1.*", ""),
                 outsider_);
  ASSERT_TRUE(party.NextHeartbeat(absl::Seconds(5)).has_value());
  ASSERT_TRUE(outsider.NextHeartbeat(absl::Seconds(5)).has_value());

  const std::string secret_mou = RecordMou("restricted-mou", true, party_);
  const std::string public_mou = RecordMou("public-mou", false, party_);

  // The party sees both, in order.
  const auto seen_by_party = party.NextEvents(2, absl::Seconds(5));
  ASSERT_EQ(seen_by_party.size(), 2u);
  EXPECT_EQ(seen_by_party[0].subject(), secret_mou);
  EXPECT_EQ(seen_by_party[1].subject(), public_mou);
  // The outsider's next event is the public one: the restricted one never
  // came.
  const auto seen_by_outsider = outsider.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(seen_by_outsider.has_value());
  EXPECT_EQ(seen_by_outsider->subject(), public_mou);

  const auto party_hooks = receiver.WaitFor("/party", 2, absl::Seconds(10));
  EXPECT_EQ(party_hooks.size(), 2u);
  const auto outsider_hooks =
      receiver.WaitFor("/outsider", 1, absl::Seconds(10));
  ASSERT_EQ(outsider_hooks.size(), 1u);
  EXPECT_THAT(outsider_hooks[0].body, ::testing::HasSubstr(public_mou));
  EXPECT_THAT(outsider_hooks[0].body,
              ::testing::Not(::testing::HasSubstr(secret_mou)));

  // Nor is it in the history, or fetchable by position.
  v1::ListEventsRequest list;
  list.set_filter(R"(type = "accord.agreement.v1.recorded")");
  v1::ListEventsResponse history;
  ASSERT_TRUE(
      notifications_->ListEvents(Context(outsider_).get(), list, &history)
          .ok());
  ASSERT_EQ(history.events_size(), 1);
  EXPECT_EQ(history.events(0).subject(), public_mou);
  v1::GetEventRequest get;
  get.set_name(absl::StrCat("events/", seen_by_party[0].position()));
  events::v1::Event fetched;
  EXPECT_EQ(notifications_->GetEvent(Context(outsider_).get(), get, &fetched)
                .error_code(),
            grpc::NOT_FOUND);
  EXPECT_TRUE(
      notifications_->GetEvent(Context(party_).get(), get, &fetched).ok());

  // And the agreement itself is absent to the outsider.
  agreement::v1::GetAgreementRequest read;
  read.set_name(secret_mou);
  Agreement absent;
  EXPECT_EQ(agreements_->GetAgreement(Context(outsider_).get(), read, &absent)
                .error_code(),
            grpc::NOT_FOUND);
}

TEST_F(MouDeliveryTest, CommitteeMilestoneReachesItsWatcher) {
  Watch watch(*notifications_, WatchFor("accord.milestone.v1.*", ""), party_);
  ASSERT_TRUE(watch.NextHeartbeat(absl::Seconds(5)).has_value());
  const std::string mou = RecordMou("framework", false, party_);
  agreement::v1::CreateMilestoneRequest request;
  request.set_parent(mou);
  request.set_milestone_id("university-network");
  request.mutable_milestone()->add_titles()->set_text(
      "Launch a university network");
  request.mutable_milestone()->add_owners("institutions/a");
  agreement::v1::Milestone created;
  ASSERT_TRUE(
      agreements_->CreateMilestone(Context(party_).get(), request, &created)
          .ok());
  const auto event = watch.NextEvent(absl::Seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type(), "accord.milestone.v1.recorded");
  EXPECT_EQ(event->subject(), created.name());
  EXPECT_THAT(event->agreements(), ::testing::Contains(mou));
}

}  // namespace
}  // namespace accord::notification
