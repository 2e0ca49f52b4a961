// The dev overlay's Redis ACLs (deploy/k8s/overlays/dev/users.acl) against
// what the services really run: a real redis-server loads a copy of the
// file (plus an admin user for this test), the three real binaries log in
// as their ACL users, and every kind of flow they have is driven through
// the public API. Afterwards `ACL LOG` must be empty: any command, key or
// channel a flow needs and the ACL lacks shows up there, whichever code
// path ran it (a call, a background loop, a function or a MULTI).

#include <gmock/gmock.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "accord/auth/v1/auth.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "cli/importer.h"
#include "cli/rpc_client.h"
#include "common/config.h"
#include "common/redis/client.h"
#include "services/notification/test_support.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

using ::accord::notification::testing::Watch;
using ::accord::notification::testing::WebhookReceiver;
using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using notification::v1::Delivery;
using notification::v1::WatchEventsRequest;

constexpr char kAdminUser[] = "accord-acl-test";
constexpr char kAdminPassword[] = "acl-test-admin-password";
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
// The webhook consumer group (services/notification/webhook_dispatcher.h).
constexpr char kWebhookGroup[] = "notification-webhooks";

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::string SourcePath(const std::string& relative) {
  return absl::StrCat(ACCORD_SOURCE_DIR, "/", relative);
}

// The dev passwords, from the overlay's `url=redis://user:password@` lines,
// so the test follows the overlay.
std::map<std::string, std::string> DevPasswords() {
  const std::string kustomization =
      ReadFile(SourcePath("deploy/k8s/overlays/dev/kustomization.yaml"));
  std::map<std::string, std::string> passwords;
  const std::regex url(R"(url=redis://([^:]+):([^@]+)@)");
  for (auto it = std::sregex_iterator(kustomization.begin(),
                                      kustomization.end(), url);
       it != std::sregex_iterator(); ++it) {
    passwords[(*it)[1]] = (*it)[2];
  }
  return passwords;
}

const RedisValue* FieldOf(const RedisValue& map, absl::string_view key) {
  for (size_t i = 0; i + 1 < map.elements.size(); i += 2) {
    if (map.elements[i].text == key) return &map.elements[i + 1];
  }
  return nullptr;
}

std::string TextOf(const RedisValue& map, absl::string_view key) {
  const RedisValue* value = FieldOf(map, key);
  if (value == nullptr) return "";
  return value->type == RedisValue::Type::kInteger
             ? absl::StrCat(value->integer)
             : value->text;
}

// The `cmd=` of an ACL LOG entry's client-info: the command the client was
// running when a key or channel was refused.
std::string ClientCommand(absl::string_view client_info) {
  for (absl::string_view part : absl::StrSplit(client_info, ' ')) {
    if (absl::StartsWith(part, "cmd=")) return std::string(part.substr(4));
  }
  return "";
}

google::protobuf::Struct ParseJson(const std::string& json) {
  google::protobuf::Struct parsed;
  (void)google::protobuf::util::JsonStringToMessage(json, &parsed);
  return parsed;
}

std::string StringField(const google::protobuf::Struct& object,
                        const std::string& field) {
  auto it = object.fields().find(field);
  return it == object.fields().end() ? "" : it->second.string_value();
}

class RedisAclTest : public ::testing::Test {
 protected:
  void SetUp() override {
    passwords_ = DevPasswords();
    for (const char* user :
         {"accord-institution", "accord-agreement", "accord-notification"}) {
      ASSERT_TRUE(passwords_.count(user)) << user << " has no dev password";
    }
    // The overlay's file as it is, plus one unrestricted user that reads
    // the ACL log.
    acl_dir_ = MakeTempDir("accord-acl");
    const std::string acl_path = acl_dir_ + "/users.acl";
    {
      // ACCORD_REDIS_ACL_FILE tries other rules for the same users (the
      // dev passwords' hashes), e.g. an older or a candidate file.
      const char* other = std::getenv("ACCORD_REDIS_ACL_FILE");
      std::string acl = ReadFile(
          other != nullptr ? other
                           : SourcePath("deploy/k8s/overlays/dev/users.acl"));
      ASSERT_FALSE(acl.empty());
      if (acl.back() != '\n') acl += '\n';
      std::ofstream file(acl_path);
      file << acl << "user " << kAdminUser << " on >" << kAdminPassword
           << " ~* &* +@all\n";
    }
    redis_ = std::make_unique<RedisServer>(
        "everysec", std::vector<std::string>{"--aclfile", acl_path});
    absl::StatusOr<RedisUrl> admin_url =
        ParseRedisUrl(redis_->url(kAdminUser, kAdminPassword));
    ASSERT_TRUE(admin_url.ok()) << admin_url.status();
    admin_ = std::make_unique<RedisClient>(RedisOptions{.url = *admin_url});
    ASSERT_TRUE(admin_->Command({"ACL", "LOG", "RESET"}).ok());

    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", UrlFor("accord-institution"),
        std::vector<std::string>{"--log_level=warning"});
    agreement_ = std::make_unique<ServiceProcess>(
        "accord-agreement", UrlFor("accord-agreement"),
        std::vector<std::string>{
            absl::StrCat("--institution_target=", institution_->address()),
            "--institution_deadline=2s", "--log_level=warning"});
    StartNotification({});
  }

  void TearDown() override {
    if (admin_ != nullptr) ExpectNoAclDenials();
    std::error_code ignored;
    if (!acl_dir_.empty()) std::filesystem::remove_all(acl_dir_, ignored);
  }

  std::string UrlFor(const std::string& user) {
    return redis_->url(user, passwords_[user]);
  }

  void StartNotification(std::vector<std::string> extra) {
    std::vector<std::string> flags = {
        "--webhook_allow_cidrs=127.0.0.0/8",
        "--webhook_retry_schedule=200ms,400ms,800ms,1s",
        "--webhook_max_attempts=2", "--webhook_lease=2s",
        "--consumer_name=acl-test",
        // Small, so a flow reaches it.
        "--max_subscriptions_per_principal=4", "--log_level=warning"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    stub_.reset();
    client_.reset();
    notification_.reset();
    notification_ = std::make_unique<ServiceProcess>(
        "accord-notification", UrlFor("accord-notification"), flags);
    stub_ = notification::v1::NotificationService::NewStub(
        notification_->Channel());
    client_ = std::make_unique<cli::RpcClient>(
        std::map<std::string, std::shared_ptr<grpc::Channel>>{
            {"accord.institution.v1.InstitutionService",
             institution_->Channel()},
            {"accord.agreement.v1.AgreementService", agreement_->Channel()},
            {"accord.notification.v1.NotificationService",
             notification_->Channel()}});
  }

  // Every refusal Redis logged, one line each, with the command the client
  // was running.
  std::vector<std::string> AclDenials() {
    absl::StatusOr<RedisValue> log = admin_->Command({"ACL", "LOG", "1000"});
    if (!log.ok())
      return {absl::StrCat("ACL LOG failed: ", log.status().ToString())};
    std::vector<std::string> denials;
    for (const RedisValue& entry : log->elements) {
      denials.push_back(absl::StrCat(
          TextOf(entry, "username"), ": ", TextOf(entry, "reason"), " ",
          TextOf(entry, "object"), " (context ", TextOf(entry, "context"),
          ", running ", ClientCommand(TextOf(entry, "client-info")), ", count ",
          TextOf(entry, "count"), ")"));
    }
    return denials;
  }

  void ExpectNoAclDenials() {
    const std::vector<std::string> denials = AclDenials();
    EXPECT_TRUE(denials.empty())
        << "Redis refused " << denials.size()
        << " command/key/channel use(s) the services made:\n  "
        << absl::StrJoin(denials, "\n  ");
  }

  // A unary call with a JSON request; its JSON response ("" on failure,
  // which is recorded).
  std::string Call(const std::string& method, const std::string& request) {
    absl::StatusOr<std::string> reply = client_->CallJson(method, request);
    EXPECT_TRUE(reply.ok()) << method << " " << request << ": "
                            << cli::DescribeStatus(reply.status());
    return reply.ok() ? *reply : "";
  }

  // The `etag` of a call's JSON response.
  std::string CallForEtag(const std::string& method,
                          const std::string& request) {
    return StringField(ParseJson(Call(method, request)), "etag");
  }

  // Pages through a List or Search method two at a time (`fields` are the
  // request's other fields, JSON without braces); the number of items in
  // `collection`.
  int ListAll(const std::string& method, const std::string& fields,
              const std::string& collection) {
    int items = 0;
    int pages = 0;
    std::string token;
    do {
      const std::string request =
          absl::StrCat("{", fields, fields.empty() ? "" : ", ",
                       R"("pageSize": 2, "pageToken": ")", token, R"("})");
      const google::protobuf::Struct response =
          ParseJson(Call(method, request));
      auto it = response.fields().find(collection);
      if (it != response.fields().end()) {
        items += it->second.list_value().values_size();
      }
      token = StringField(response, "nextPageToken");
      ++pages;
    } while (!token.empty() && pages < 50);
    return items;
  }

  void ImportSeed() {
    cli::ImportResult result;
    const absl::Status status =
        cli::ImportPath(*client_, SourcePath("examples/seed"), result);
    EXPECT_TRUE(status.ok()) << cli::DescribeStatus(status);
  }

  void CreateInstitution(const std::string& id, const std::string& country) {
    Call("CreateInstitution",
         absl::StrCat(R"({"institutionId": ")", id,
                      R"(", "institution": {"names": [{"text": "University )",
                      id, R"(", "type": "TYPE_DISPLAY", "languageCode": "en"}],
                      "kind": "KIND_UNIVERSITY", "countryCode": ")",
                      country, R"("}})"));
  }

  std::vector<Delivery> Deliveries(const std::string& parent,
                                   const std::string& filter = "") {
    return notification::testing::ListDeliveries(*stub_, parent, filter);
  }

  std::optional<Delivery> WaitForDelivery(const std::string& parent,
                                          Delivery::State state,
                                          absl::Duration timeout) {
    return notification::testing::WaitForDelivery(*stub_, parent, state,
                                                  timeout);
  }

  void CreateWebhook(const std::string& id, const std::string& url) {
    Call("CreateSubscription",
         absl::StrCat(R"({"subscriptionId": ")", id,
                      R"(", "subscription": {"owner": "institutions/tums",
                      "eventTypes": ["accord.institution.v1.*"],
                      "webhook": {"uri": ")",
                      url, R"(", "signingSecret": ")", kSecret, R"("}}})"));
  }

  void ExpectAuditRecords(const std::shared_ptr<grpc::Channel>& channel,
                          const std::string& service) {
    auto audit = auth::v1::AuditService::NewStub(channel);
    auth::v1::ListAuditRecordsRequest request;
    request.set_page_size(2);
    int records = 0;
    for (int page = 0; page < 3; ++page) {
      auth::v1::ListAuditRecordsResponse response;
      grpc::ClientContext context;
      const grpc::Status status =
          audit->ListAuditRecords(&context, request, &response);
      EXPECT_TRUE(status.ok()) << service << ": " << status.error_message();
      records += response.audit_records_size();
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    EXPECT_GT(records, 0) << service;
  }

  std::map<std::string, std::string> passwords_;
  std::string acl_dir_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<RedisClient> admin_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<ServiceProcess> notification_;
  std::unique_ptr<notification::v1::NotificationService::Stub> stub_;
  std::unique_ptr<cli::RpcClient> client_;
};

TEST_F(RedisAclTest, InstitutionsAndOfficials) {
  ImportSeed();  // creates, with request_ids
  ImportSeed();  // the same again: every write is a replay

  const std::string tums = "institutions/tums";
  std::string etag = CallForEtag("GetInstitution",
                                 absl::StrCat(R"({"name": ")", tums, R"("})"));
  etag = CallForEtag(
      "UpdateInstitution",
      absl::StrCat(R"({"institution": {"name": ")", tums,
                   R"(", "websiteUri": "https://tums.ac.ir", "etag": ")", etag,
                   R"("}, "updateMask": "websiteUri"})"));
  EXPECT_GT(ListAll("ListInstitutions", "", "institutions"), 10);
  EXPECT_GT(ListAll("ListInstitutions", R"("filter": "country_code = \"RU\"")",
                    "institutions"),
            2);
  EXPECT_GT(ListAll("ListInstitutions", R"("orderBy": "create_time desc")",
                    "institutions"),
            10);
  EXPECT_GT(
      ListAll("SearchInstitutions", R"("query": "hematology")", "matches"), 0);
  EXPECT_GT(
      ListAll("SearchInstitutions",
              R"("query": "university", "filter": "country_code = \"IR\"")",
              "matches"),
      0);
  Call("BatchGetInstitutions",
       R"({"names": ["institutions/tums", "institutions/nmrc-hematology"]})");

  CreateInstitution("acl-test-u", "FR");
  etag = CallForEtag("DeleteInstitution",
                     R"({"name": "institutions/acl-test-u"})");
  EXPECT_GT(
      ListAll("ListInstitutions", R"("showDeleted": true)", "institutions"),
      10);
  Call("UndeleteInstitution",
       absl::StrCat(R"({"name": "institutions/acl-test-u", "etag": ")", etag,
                    R"("})"));

  // Officials.
  const std::string official = "officials/maryam-behfar";
  etag = CallForEtag("GetOfficial",
                     absl::StrCat(R"({"name": ")", official, R"("})"));
  Call("UpdateOfficial",
       absl::StrCat(R"({"official": {"name": ")", official, R"(", "etag": ")",
                    etag,
                    R"(", "positions": [{"institution": "institutions/tums",
                    "title": "Professor"}]}, "updateMask": "positions"})"));
  EXPECT_GT(ListAll("ListOfficials", "", "officials"), 5);
  EXPECT_GT(
      ListAll("ListOfficials",
              R"("filter": "positions.institution = \"institutions/tums\"")",
              "officials"),
      0);
  Call("BatchGetOfficials",
       R"({"names": ["officials/maryam-behfar", "officials/vladimir-putin"]})");
  Call("CreateOfficial",
       R"({"officialId": "acl-test-o", "official": {"names": [{"text": "Tester",
       "type": "TYPE_DISPLAY"}]}})");
  etag = CallForEtag("DeleteOfficial", R"({"name": "officials/acl-test-o"})");
  Call("UndeleteOfficial",
       absl::StrCat(R"({"name": "officials/acl-test-o", "etag": ")", etag,
                    R"("})"));

  ExpectAuditRecords(institution_->Channel(), "institution");
}

TEST_F(RedisAclTest, AgreementsCommitteesSessionsAndMilestones) {
  ImportSeed();
  CreateInstitution("acl-a", "IR");
  CreateInstitution("acl-b", "RU");
  Call("CreateOfficial",
       R"({"officialId": "acl-signer", "official": {"names": [{"text": "Signer",
       "type": "TYPE_DISPLAY"}], "positions": [{"institution":
       "institutions/acl-a", "title": "Rector"}]}})");

  // An agreement with parties and signatories, through its lifecycle.
  std::string etag = CallForEtag("CreateAgreement", R"({"agreementId": "acl-ab",
      "requestId": "6f1c2d3e-0000-4000-8000-000000000001",
      "agreement": {"titles": [{"text": "ACL MOU", "languageCode": "en"}],
      "kind": "KIND_MEMORANDUM_OF_UNDERSTANDING",
      "parties": ["institutions/acl-a", "institutions/acl-b"],
      "signatories": [{"official": "officials/acl-signer",
                       "party": "institutions/acl-a"}],
      "signingDate": "2025-04-25", "cooperationAreas": ["medical-research"]}})");
  Call("GetAgreement", R"({"name": "agreements/acl-ab"})");
  etag = CallForEtag("UpdateAgreement",
                     absl::StrCat(R"({"agreement": {"name": "agreements/acl-ab",
      "keywords": ["acl"], "etag": ")",
                                  etag, R"("}, "updateMask": "keywords"})"));
  for (const char* party : {"institutions/acl-a", "institutions/acl-b"}) {
    Call("RecordAgreementAction",
         absl::StrCat(R"({"agreement": "agreements/acl-ab", "action": {
             "kind": "KIND_SIGNATURE", "party": ")",
                      party, R"(", "actionDate": "2025-04-25"}})"));
  }
  Call("RecordAgreementAction", R"({"agreement": "agreements/acl-ab",
      "action": {"kind": "KIND_ENTRY_INTO_FORCE", "actionDate": "2025-05-01",
      "effectiveDate": "2025-05-01"}})");
  EXPECT_THAT(Call("QueryAgreementsInForce",
                   R"({"countryCodes": ["IR", "RU"], "date": "2025-08-01"})"),
              ::testing::HasSubstr("agreements/acl-ab"));
  Call(
      "QueryAgreementsInForce",
      R"({"institutions": ["institutions/acl-a", "institutions/acl-b"], "date": "2025-08-01"})");
  EXPECT_GT(ListAll("ListAgreements", "", "agreements"), 2);
  EXPECT_GT(ListAll("ListAgreements",
                    R"("filter": "party_country_codes: \"IR\" AND )"
                    R"(state = STATE_IN_FORCE")",
                    "agreements"),
            0);
  EXPECT_GT(ListAll("ListAgreements",
                    R"("filter": "cooperation_areas: \"medical-research\"", )"
                    R"("orderBy": "signing_date desc")",
                    "agreements"),
            0);
  Call("ListCooperationAreas", "{}");

  // Committees and sessions.
  etag = CallForEtag("CreateCommittee", R"({"committeeId": "acl-jec",
      "committee": {"names": [{"text": "ACL joint committee"}],
      "kind": "KIND_JOINT_ECONOMIC_COMMITTEE",
      "memberInstitutions": ["institutions/acl-a", "institutions/acl-b"]}})");
  etag =
      CallForEtag("UpdateCommittee",
                  absl::StrCat(R"({"committee": {"name": "committees/acl-jec",
      "names": [{"text": "ACL committee"}], "etag": ")",
                               etag, R"("}, "updateMask": "names"})"));
  EXPECT_GT(ListAll("ListCommittees", "", "committees"), 1);
  etag = CallForEtag("CreateSession",
                     R"({"parent": "committees/acl-jec", "sessionId": "1",
      "session": {"number": 1, "startDate": "2025-04-22",
      "endDate": "2025-04-24"}})");
  Call("GetSession", R"({"name": "committees/acl-jec/sessions/1"})");
  etag = CallForEtag(
      "UpdateSession",
      absl::StrCat(R"({"session": {"name": "committees/acl-jec/sessions/1",
      "agreementsSigned": ["agreements/acl-ab"], "etag": ")",
                   etag, R"("}, "updateMask": "agreementsSigned"})"));
  EXPECT_GT(ListAll("ListSessions", R"("parent": "committees/-")", "sessions"),
            1);
  etag = CallForEtag("DeleteSession",
                     R"({"name": "committees/acl-jec/sessions/1"})");
  Call("UndeleteSession",
       absl::StrCat(R"({"name": "committees/acl-jec/sessions/1", "etag": ")",
                    etag, R"("})"));

  // Milestones.
  for (const auto& [id, due] : std::vector<std::pair<std::string, std::string>>{
           {"late", "2025-01-01"}, {"soon", "2025-06-10"}}) {
    Call("CreateMilestone",
         absl::StrCat(R"({"parent": "agreements/acl-ab", "milestoneId": ")", id,
                      R"(", "milestone": {"titles": [{"text": ")", id,
                      R"("}], "dueDate": ")", due,
                      R"(", "recordDate": "2025-01-01", "owners":
                      ["institutions/acl-a"]}})"));
  }
  etag = CallForEtag("GetMilestone",
                     R"({"name": "agreements/acl-ab/milestones/soon"})");
  Call("UpdateMilestone",
       absl::StrCat(
           R"({"milestone": {"name": "agreements/acl-ab/milestones/soon",
      "titles": [{"text": "sooner"}], "etag": ")",
           etag, R"("}, "updateMask": "titles"})"));
  Call("QueryDueMilestones",
       R"({"asOfDate": "2025-06-01", "horizonDays": 30})");
  Call("TransitionMilestone", R"({"name": "agreements/acl-ab/milestones/late",
      "transition": {"state": "STATE_ACHIEVED", "transitionDate": "2025-05-30"}})");
  EXPECT_GT(ListAll("ListMilestones",
                    R"("parent": "agreements/-", )"
                    R"("filter": "owners: \"institutions/acl-a\"")",
                    "milestones"),
            1);
  etag = CallForEtag("DeleteMilestone",
                     R"({"name": "agreements/acl-ab/milestones/soon"})");
  Call(
      "UndeleteMilestone",
      absl::StrCat(R"({"name": "agreements/acl-ab/milestones/soon", "etag": ")",
                   etag, R"("})"));

  // Delete and undelete the agreement and the committee.
  etag = CallForEtag("DeleteCommittee", R"({"name": "committees/acl-jec"})");
  Call("UndeleteCommittee",
       absl::StrCat(R"({"name": "committees/acl-jec", "etag": ")", etag,
                    R"("})"));
  etag = CallForEtag("DeleteAgreement", R"({"name": "agreements/acl-ab"})");
  EXPECT_GT(ListAll("ListAgreements", R"("showDeleted": true)", "agreements"),
            2);
  Call("UndeleteAgreement",
       absl::StrCat(R"({"name": "agreements/acl-ab", "etag": ")", etag,
                    R"("})"));
  // An idempotent retry of the first create.
  Call("CreateAgreement", R"({"agreementId": "acl-ab",
      "requestId": "6f1c2d3e-0000-4000-8000-000000000001",
      "agreement": {"titles": [{"text": "ACL MOU", "languageCode": "en"}],
      "kind": "KIND_MEMORANDUM_OF_UNDERSTANDING",
      "parties": ["institutions/acl-a", "institutions/acl-b"],
      "signatories": [{"official": "officials/acl-signer",
                       "party": "institutions/acl-a"}],
      "signingDate": "2025-04-25", "cooperationAreas": ["medical-research"]}})");

  ExpectAuditRecords(agreement_->Channel(), "agreement");
}

TEST_F(RedisAclTest, WebhooksWatchersAndDeliveries) {
  WebhookReceiver receiver;
  receiver.Script("/fail", {500});
  receiver.Script("/gone", {410});
  CreateWebhook("ok-hook", receiver.Url("/ok"));
  CreateWebhook("fail-hook", receiver.Url("/fail"));
  CreateWebhook("gone-hook", receiver.Url("/gone"));
  Call("CreateSubscription", R"({"subscriptionId": "pull", "subscription": {
      "owner": "institutions/tums", "eventTypes": ["accord.institution.v1.*"],
      "filter": "country_codes = \"IR\"", "stream": {}}})");

  WatchEventsRequest live_request;
  live_request.set_subscription("subscriptions/pull");
  Watch live(*stub_, live_request);
  absl::SleepFor(absl::Milliseconds(300));  // the watch is live

  CreateInstitution("n-1", "IR");
  CreateInstitution("n-2", "RU");
  std::optional<events::v1::Event> first = live.NextEvent(absl::Seconds(10));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->subject(), "institutions/n-1");
  EXPECT_EQ(receiver.WaitFor("/ok", 2, absl::Seconds(10)).size(), 2u);

  // Retried, dead-lettered, then retried by hand and delivered.
  std::optional<Delivery> dead =
      WaitForDelivery("subscriptions/fail-hook", Delivery::STATE_DEAD_LETTERED,
                      absl::Seconds(15));
  ASSERT_TRUE(dead.has_value());
  EXPECT_EQ(dead->attempts_size(), 2);
  receiver.Script("/fail", {200});
  {
    notification::v1::RetryDeliveryRequest request;
    request.set_name(dead->name());
    Delivery retried;
    grpc::ClientContext context;
    const grpc::Status status =
        stub_->RetryDelivery(&context, request, &retried);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_TRUE(WaitForDelivery("subscriptions/fail-hook",
                              Delivery::STATE_SUCCEEDED, absl::Seconds(10))
                  .has_value());
  // 410 disables the subscription.
  EXPECT_TRUE(WaitForDelivery("subscriptions/gone-hook",
                              Delivery::STATE_DEAD_LETTERED, absl::Seconds(10))
                  .has_value());
  EXPECT_THAT(Call("GetSubscription", R"({"name": "subscriptions/gone-hook"})"),
              ::testing::HasSubstr("STATE_DISABLED"));

  // Reading deliveries and events back.
  EXPECT_EQ(
      Deliveries("subscriptions/ok-hook", "state = STATE_SUCCEEDED").size(),
      2u);
  EXPECT_EQ(ListAll("ListDeliveries", R"("parent": "subscriptions/ok-hook")",
                    "deliveries"),
            2);
  Call("GetDelivery", absl::StrCat(R"({"name": ")", dead->name(), R"("})"));
  EXPECT_GE(ListAll("ListEvents", "", "events"), 2);
  EXPECT_EQ(
      ListAll("ListEvents", R"("filter": "country_codes = \"RU\"")", "events"),
      1);
  Call("GetEvent",
       absl::StrCat(R"({"name": "events/)", first->position(), R"("})"));

  // Replay: from the start, and resuming after the first event.
  {
    WatchEventsRequest request;
    request.mutable_inline_selector()->add_event_types(
        "accord.institution.v1.*");
    request.set_start_position("earliest");
    Watch replay(*stub_, request);
    EXPECT_EQ(replay.NextEvents(2, absl::Seconds(10)).size(), 2u);
    request.set_start_position(first->position());
    Watch resumed(*stub_, request);
    std::optional<events::v1::Event> next =
        resumed.NextEvent(absl::Seconds(10));
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->subject(), "institutions/n-2");
  }

  // Pause holds deliveries; resume releases them.
  std::string etag =
      CallForEtag("PauseSubscription", R"({"name": "subscriptions/ok-hook"})");
  CreateInstitution("n-3", "IR");
  absl::SleepFor(absl::Milliseconds(1500));
  EXPECT_EQ(receiver.On("/ok").size(), 2u);
  Call("ResumeSubscription",
       absl::StrCat(R"({"name": "subscriptions/ok-hook", "etag": ")", etag,
                    R"("})"));
  EXPECT_EQ(receiver.WaitFor("/ok", 3, absl::Seconds(10)).size(), 3u);
  // At the subscription cap: a fifth is refused, the four may change.
  EXPECT_EQ(client_
                ->CallJson("CreateSubscription",
                           R"({"subscription": {"owner": "institutions/tums",
                           "eventTypes": ["accord.institution.v1.*"],
                           "stream": {}}})")
                .status()
                .code(),
            absl::StatusCode::kResourceExhausted);
  etag = CallForEtag(
      "UpdateSubscription",
      R"({"subscription": {"name": "subscriptions/ok-hook", "displayName":
      "renamed"}, "updateMask": "displayName"})");

  // A Redis that lost its functions: the services load them again.
  ASSERT_TRUE(admin_->Command({"FUNCTION", "FLUSH"}).ok());
  CreateInstitution("n-4", "IR");
  EXPECT_EQ(receiver.WaitFor("/ok", 4, absl::Seconds(10)).size(), 4u);
  EXPECT_TRUE(live.NextEvent(absl::Seconds(10)).has_value());

  // Deleting a subscription cancels what it still had due.
  CallForEtag("PauseSubscription", R"({"name": "subscriptions/ok-hook"})");
  CreateInstitution("n-5", "IR");
  absl::SleepFor(absl::Milliseconds(500));
  etag =
      CallForEtag("DeleteSubscription", R"({"name": "subscriptions/ok-hook"})");
  EXPECT_TRUE(WaitForDelivery("subscriptions/ok-hook",
                              Delivery::STATE_CANCELLED, absl::Seconds(10))
                  .has_value());
  EXPECT_GE(ListAll("ListSubscriptions", "", "subscriptions"), 2);
  EXPECT_GE(
      ListAll("ListSubscriptions", R"("showDeleted": true)", "subscriptions"),
      4);
  // Back at the cap, undeleting one more is refused, then allowed.
  Call("CreateSubscription", R"({"subscriptionId": "extra", "subscription": {
      "owner": "institutions/tums", "eventTypes": ["accord.institution.v1.*"],
      "stream": {}}})");
  const std::string undelete = absl::StrCat(
      R"({"name": "subscriptions/ok-hook", "etag": ")", etag, R"("})");
  EXPECT_EQ(client_->CallJson("UndeleteSubscription", undelete).status().code(),
            absl::StatusCode::kResourceExhausted);
  Call("DeleteSubscription", R"({"name": "subscriptions/extra"})");
  Call("UndeleteSubscription", undelete);

  ExpectAuditRecords(notification_->Channel(), "notification");
}

// The background work: claiming entries another consumer abandoned, and
// trimming the stream (which reads the groups' pending entries).
TEST_F(RedisAclTest, ClaimAndTrim) {
  WebhookReceiver receiver;
  CreateWebhook("hook", receiver.Url("/hook"));
  CreateInstitution("t-1", "IR");
  CreateInstitution("t-2", "IR");
  ASSERT_EQ(receiver.WaitFor("/hook", 2, absl::Seconds(10)).size(), 2u);
  // Another consumer of the webhook group took the first entry and died:
  // it is pending, long idle, until this replica claims it.
  absl::StatusOr<RedisValue> oldest =
      admin_->Command({"XRANGE", "accord:events", "-", "+", "COUNT", "1"});
  ASSERT_TRUE(oldest.ok() && oldest->elements.size() == 1);
  const std::string first = oldest->elements[0].elements[0].text;
  ASSERT_TRUE(
      admin_
          ->Command({"XCLAIM", "accord:events", kWebhookGroup, "gone-replica",
                     "0", first, "IDLE", "60000", "FORCE", "JUSTID"})
          .ok());
  StartNotification({"--webhook_claim_idle=1s", "--trim_interval=1s",
                     "--event_retention=1s"});

  // Claimed (then acknowledged), and the entries up to the last one the
  // group read trimmed.
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  std::string oldest_now = first;
  long long pending = -1;
  while (absl::Now() < deadline && (oldest_now == first || pending != 0)) {
    absl::SleepFor(absl::Milliseconds(200));
    absl::StatusOr<RedisValue> range =
        admin_->Command({"XRANGE", "accord:events", "-", "+", "COUNT", "1"});
    absl::StatusOr<RedisValue> summary =
        admin_->Command({"XPENDING", "accord:events", kWebhookGroup});
    if (range.ok()) {
      oldest_now =
          range->elements.empty() ? "" : range->elements[0].elements[0].text;
    }
    if (summary.ok() && !summary->elements.empty()) {
      pending = summary->elements[0].integer;
    }
  }
  EXPECT_EQ(pending, 0) << "the abandoned entry was not claimed";
  EXPECT_NE(oldest_now, first) << "the stream was not trimmed";

  // The trimmed position has expired; a new event still reaches everyone.
  {
    WatchEventsRequest request;
    request.mutable_inline_selector()->add_event_types(
        "accord.institution.v1.*");
    request.set_start_position("0-1");
    Watch expired(*stub_, request);
    std::optional<grpc::Status> status = expired.WaitStatus(absl::Seconds(5));
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::OUT_OF_RANGE);
  }
  CreateInstitution("t-3", "IR");
  EXPECT_EQ(receiver.WaitFor("/hook", 3, absl::Seconds(10)).size(), 3u);
  ListAll("ListEvents", "", "events");
}

}  // namespace
}  // namespace accord
