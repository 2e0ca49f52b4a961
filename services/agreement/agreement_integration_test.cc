// Drives the real accord-agreement binary, which checks references with the
// real accord-institution binary, against a real redis-server; all on free
// loopback ports. Includes the whole seed scenario of ../shared/seed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "cli/importer.h"
#include "cli/rpc_client.h"
#include "common/errors.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord::agreement {
namespace {

using ::accord::testing::EventLog;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using v1::Agreement;
using v1::AgreementAction;
using v1::Milestone;

constexpr char kTreaty[] =
    "agreements/iran-russia-comprehensive-strategic-partnership";
constexpr char kMou[] = "agreements/tums-pcgtrc-nmrc-hematology-mou-2025";

// Polls `done` for up to `timeout`.
template <typename Done>
bool Eventually(Done done, absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return done();
}

std::string FieldOf(const grpc::Status& status) {
  auto violations = FieldViolationsOf(FromGrpcStatus(status));
  return violations.empty() ? "" : violations.front().field;
}

class AgreementServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = std::make_unique<RedisServer>();
    institution_ =
        std::make_unique<ServiceProcess>("accord-institution", redis_->url());
    agreement_ = std::make_unique<ServiceProcess>(
        "accord-agreement", redis_->url(),
        std::vector<std::string>{
            absl::StrCat("--institution_target=", institution_->address()),
            "--institution_deadline=1s"});
    stub_ = v1::AgreementService::NewStub(agreement_->Channel());
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    client_ = std::make_unique<cli::RpcClient>(
        std::map<std::string, std::shared_ptr<grpc::Channel>>{
            {"accord.institution.v1.InstitutionService",
             institution_->Channel()},
            {"accord.agreement.v1.AgreementService", agreement_->Channel()}});
    events_ = std::make_unique<EventLog>(redis_->url());
  }

  void ImportSeed() {
    cli::ImportResult result;
    const absl::Status status = cli::ImportPath(
        *client_, absl::StrCat(ACCORD_SOURCE_DIR, "/examples/seed"), result);
    ASSERT_TRUE(status.ok()) << status;
  }

  // Two institutions in different countries and an agreement between them.
  void CreateParties() {
    ASSERT_TRUE(Json("createInstitution", R"({"institutionId": "a",
        "institution": {"names": [{"text": "Alpha University", "type": "TYPE_DISPLAY"}],
                        "kind": "KIND_UNIVERSITY", "countryCode": "IR"}})")
                    .ok());
    ASSERT_TRUE(Json("createInstitution", R"({"institutionId": "b",
        "institution": {"names": [{"text": "Beta Institute", "type": "TYPE_DISPLAY"}],
                        "kind": "KIND_RESEARCH_CENTRE", "countryCode": "RU"}})")
                    .ok());
    ASSERT_TRUE(Json("createInstitution", R"({"institutionId": "c",
        "institution": {"names": [{"text": "Gamma College", "type": "TYPE_DISPLAY"}],
                        "kind": "KIND_UNIVERSITY", "countryCode": "FR"}})")
                    .ok());
  }

  Agreement Draft() {
    Agreement agreement;
    auto* title = agreement.add_titles();
    title->set_text("Alpha-Beta MOU");
    title->set_language_code("en");
    agreement.set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
    agreement.add_parties("institutions/a");
    agreement.add_parties("institutions/b");
    agreement.set_signing_date("2025-04-25");
    return agreement;
  }

  absl::StatusOr<std::string> Json(const std::string& method,
                                   const std::string& request) {
    return client_->CallJson(method, request);
  }

  grpc::Status Create(const Agreement& agreement, const std::string& id,
                      Agreement* created, const std::string& request_id = "") {
    v1::CreateAgreementRequest request;
    *request.mutable_agreement() = agreement;
    request.set_agreement_id(id);
    request.set_request_id(request_id);
    grpc::ClientContext context;
    return stub_->CreateAgreement(&context, request, created);
  }

  grpc::Status Record(const std::string& agreement, AgreementAction::Kind kind,
                      const std::string& party, const std::string& date,
                      Agreement* result, const std::string& etag = "") {
    v1::RecordAgreementActionRequest request;
    request.set_agreement(agreement);
    request.mutable_action()->set_kind(kind);
    request.mutable_action()->set_party(party);
    request.mutable_action()->set_action_date(date);
    request.set_etag(etag);
    grpc::ClientContext context;
    return stub_->RecordAgreementAction(&context, request, result);
  }

  Agreement Get(const std::string& name) {
    v1::GetAgreementRequest request;
    request.set_name(name);
    Agreement agreement;
    grpc::ClientContext context;
    const grpc::Status status =
        stub_->GetAgreement(&context, request, &agreement);
    EXPECT_TRUE(status.ok()) << name << ": " << status.error_message();
    return agreement;
  }

  std::vector<std::string> EventTypes() {
    std::vector<std::string> types;
    for (const auto& event : events_->All()) types.push_back(event.type());
    return types;
  }

  // Institution-service batch calls so far (BatchGetInstitutions and
  // BatchGetOfficials).
  double BatchGets() {
    return ::accord::testing::MetricSum(
        institution_->metrics_port(), "accord_rpc_requests_total", "BatchGet");
  }
  double AgreementMetric(absl::string_view name,
                         absl::string_view filter = "") {
    return ::accord::testing::MetricSum(agreement_->metrics_port(), name,
                                        filter);
  }
  // Waits until the agreement service's cache has subscribed `times` times
  // since it started (and so serves).
  void WaitForCacheFeed(double times = 1) {
    ASSERT_TRUE(Eventually([&] {
      return AgreementMetric("accord_institution_cache_resyncs_total") >= times;
    })) << "the institution event feed never subscribed";
  }

  grpc::Status RecordActing(const std::string& agreement,
                            const std::string& party,
                            const std::string& acting_body, Agreement* result) {
    v1::RecordAgreementActionRequest request;
    request.set_agreement(agreement);
    request.mutable_action()->set_kind(AgreementAction::KIND_SIGNATURE);
    request.mutable_action()->set_party(party);
    request.mutable_action()->set_acting_body(acting_body);
    request.mutable_action()->set_action_date("2025-04-25");
    grpc::ClientContext context;
    return stub_->RecordAgreementAction(&context, request, result);
  }

  // Sets the `deleted` flag of a record directly in Redis: what a
  // DeleteInstitution leaves behind, without its event ever being
  // published, so no cache can have heard of it.
  void SetDeletedUnderneath(const std::string& name, bool deleted) {
    redisContext* direct = redisConnect("127.0.0.1", redis_->port());
    ASSERT_NE(direct, nullptr);
    auto* reply = static_cast<redisReply*>(
        redisCommand(direct, "HSET accord:r:%s deleted %s", name.c_str(),
                     deleted ? "1" : "0"));
    ASSERT_NE(reply, nullptr);
    freeReplyObject(reply);
    redisFree(direct);
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<v1::AgreementService::Stub> stub_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<cli::RpcClient> client_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(AgreementServiceTest, SeedScenarioIsRecordedAndReadBackFieldByField) {
  ImportSeed();

  // The Russian party: one institution under all its names.
  institution::v1::GetInstitutionRequest get_institution;
  get_institution.set_name("institutions/nmrc-hematology");
  institution::v1::Institution hematology;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(
        institutions_->GetInstitution(&context, get_institution, &hematology)
            .ok());
  }
  std::vector<std::string> names;
  for (const auto& name : hematology.names()) names.push_back(name.text());
  EXPECT_THAT(names, ::testing::IsSupersetOf(
                         {"Federal State Budgetary Institution “Hematological "
                          "Research Center”",
                          "Russian National Research Center for Hematology",
                          "Национальный медицинский исследовательский центр "
                          "гематологии"}));
  EXPECT_EQ(hematology.parent(), "institutions/ministry-health-ru");
  EXPECT_EQ(hematology.country_code(), "RU");

  // The MOU.
  const Agreement mou = Get(kMou);
  EXPECT_EQ(mou.kind(), Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
  EXPECT_THAT(mou.parties(),
              ElementsAre("institutions/pediatric-cell-gene-therapy-rc",
                          "institutions/nmrc-hematology"));
  ASSERT_EQ(mou.signatories_size(), 2);
  EXPECT_EQ(mou.signatories(0).official(), "officials/maryam-behfar");
  EXPECT_EQ(mou.signatories(0).party(),
            "institutions/pediatric-cell-gene-therapy-rc");
  EXPECT_EQ(mou.signatories(1).official(), "officials/elena-parovichnikova");
  EXPECT_EQ(mou.signatories(1).party(), "institutions/nmrc-hematology");
  ASSERT_EQ(mou.witnesses_size(), 2);
  EXPECT_EQ(mou.witnesses(0).official(), "officials/mohsen-paknejad");
  EXPECT_EQ(mou.witnesses(1).official(), "officials/sergey-tsivilev");
  EXPECT_EQ(mou.signing_date(), "2025-04-25");
  EXPECT_EQ(mou.signing_place().city(), "Moscow");
  EXPECT_EQ(mou.signing_place().country_code(), "RU");
  EXPECT_EQ(mou.occasion(), "committees/iran-russia-jec/sessions/18");
  EXPECT_THAT(mou.cooperation_areas(),
              ElementsAre("cell-and-gene-therapy", "medical-research",
                          "medical-knowledge", "science-diplomacy"));
  EXPECT_EQ(mou.objectives_size(), 4);
  ASSERT_GE(mou.sources_size(), 1);
  EXPECT_EQ(mou.sources(0).publisher(), "IRNA");
  // Signed by both on 2025-04-25 and in force that day by its rule (on
  // signature), with no entry into force recorded.
  EXPECT_EQ(mou.entry_into_force_rule().kind(),
            v1::EntryIntoForceRule::KIND_ON_SIGNATURE);
  EXPECT_EQ(mou.state(), Agreement::STATE_IN_FORCE);
  EXPECT_EQ(mou.effective_date(), "2025-04-25");
  EXPECT_THAT(mou.party_country_codes(), ElementsAre("IR", "RU"));
  ASSERT_EQ(mou.party_statuses_size(), 2);
  for (const auto& party : mou.party_statuses()) {
    EXPECT_EQ(party.entry_into_force_date(), "2025-04-25") << party.party();
    EXPECT_TRUE(party.entry_into_force_derived()) << party.party();
    EXPECT_EQ(party.consent_date(), "2025-04-25") << party.party();
  }
  EXPECT_EQ(mou.party_statuses(0).country_code(), "IR");
  EXPECT_EQ(mou.party_statuses(1).country_code(), "RU");

  // The treaty, with both chambers' approvals in its action log.
  const Agreement treaty = Get(kTreaty);
  EXPECT_EQ(treaty.kind(), Agreement::KIND_TREATY);
  EXPECT_THAT(treaty.parties(),
              ElementsAre("institutions/iran", "institutions/russia"));
  EXPECT_EQ(treaty.signatories(0).official(), "officials/masoud-pezeshkian");
  EXPECT_EQ(treaty.signatories(1).official(), "officials/vladimir-putin");
  EXPECT_EQ(treaty.signing_date(), "2025-01-17");
  ASSERT_EQ(treaty.actions_size(), 4);
  EXPECT_EQ(treaty.actions(2).kind(), AgreementAction::KIND_APPROVAL);
  EXPECT_EQ(treaty.actions(2).acting_body(), "institutions/state-duma-ru");
  EXPECT_EQ(treaty.actions(3).kind(), AgreementAction::KIND_APPROVAL);
  EXPECT_EQ(treaty.actions(3).acting_body(),
            "institutions/federation-council-ru");
  EXPECT_TRUE(treaty.actions(3).has_record_time());
  EXPECT_EQ(treaty.state(), Agreement::STATE_SIGNED);
  ASSERT_EQ(treaty.party_statuses_size(), 2);
  EXPECT_EQ(treaty.party_statuses(1).party(), "institutions/russia");
  EXPECT_EQ(treaty.party_statuses(1).latest_step(),
            AgreementAction::KIND_APPROVAL);
  // In force on the last notification of completed internal procedures:
  // the chambers' approvals are neither consent nor entry into force.
  EXPECT_EQ(treaty.entry_into_force_rule().kind(),
            v1::EntryIntoForceRule::KIND_ON_LAST_NOTIFICATION);
  EXPECT_EQ(treaty.party_statuses(1).consent_date(), "");
  EXPECT_EQ(treaty.party_statuses(1).entry_into_force_date(), "");
  EXPECT_EQ(treaty.effective_date(), "");

  // The committee, its 18th session, and the proposed committee.
  v1::GetSessionRequest get_session;
  get_session.set_name("committees/iran-russia-jec/sessions/18");
  v1::Session session;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetSession(&context, get_session, &session).ok());
  }
  EXPECT_EQ(session.number(), 18);
  EXPECT_EQ(session.start_date(), "2025-04-22");
  EXPECT_EQ(session.end_date(), "2025-04-24");
  EXPECT_EQ(session.place().city(), "Moscow");
  EXPECT_THAT(session.agreements_signed(), ElementsAre(kMou));
  EXPECT_EQ(session.participants_size(), 3);

  v1::GetCommitteeRequest get_committee;
  get_committee.set_name("committees/iran-russia-health-pjc");
  v1::Committee proposed;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->GetCommittee(&context, get_committee, &proposed).ok());
  }
  EXPECT_EQ(proposed.state(), v1::Committee::STATE_PROPOSED);
  EXPECT_EQ(proposed.kind(), v1::Committee::KIND_PERMANENT_JOINT_COMMITTEE);
  EXPECT_EQ(proposed.establishing_agreement(), kTreaty);
  EXPECT_THAT(proposed.member_country_codes(), ElementsAre("IR", "RU"));

  // The four follow-up milestones.
  v1::ListMilestonesRequest list_milestones;
  list_milestones.set_parent(kTreaty);
  v1::ListMilestonesResponse milestones;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(
        stub_->ListMilestones(&context, list_milestones, &milestones).ok());
  }
  ASSERT_EQ(milestones.milestones_size(), 4);
  std::vector<std::string> titles;
  for (const Milestone& milestone : milestones.milestones()) {
    titles.push_back(milestone.titles(0).text());
    EXPECT_EQ(milestone.state(), Milestone::STATE_PROPOSED);
    ASSERT_EQ(milestone.transitions_size(), 1);
    EXPECT_EQ(milestone.transitions(0).transition_date(), "2025-04-26");
    EXPECT_THAT(milestone.proposers(),
                ElementsAre("officials/mohammad-hossein-niknam",
                            "officials/hadi-goudarzi"));
  }
  EXPECT_THAT(
      titles,
      UnorderedElementsAre(
          "Establish a permanent joint committee",
          "Launch a university network",
          "Hold a meeting of the presidents of top medical universities",
          "Develop a platform for Russian students to study in Iran"));

  // One event per accepted change; the "new MOU" and milestone events.
  const auto types = EventTypes();
  auto count = [&types](const std::string& type) {
    return std::count(types.begin(), types.end(), type);
  };
  EXPECT_EQ(count("accord.agreement.v1.recorded"), 2);
  EXPECT_EQ(count("accord.agreement.v1.action_recorded"), 2);
  EXPECT_EQ(count("accord.committee.v1.session_recorded"), 1);
  EXPECT_EQ(count("accord.milestone.v1.recorded"), 4);
  EXPECT_EQ(count("accord.institution.v1.created"), 14);
  EXPECT_EQ(count("accord.official.v1.created"), 9);
  for (const auto& event : events_->All()) {
    if (event.type() == "accord.agreement.v1.recorded" &&
        event.subject() == kMou) {
      EXPECT_THAT(event.country_codes(), ElementsAre("IR", "RU"));
      EXPECT_THAT(event.committees(),
                  ElementsAre("committees/iran-russia-jec"));
      EXPECT_THAT(event.cooperation_areas(),
                  ::testing::Contains("cell-and-gene-therapy"));
    }
  }

  // Every institution and official of the article is there.
  {
    institution::v1::ListInstitutionsRequest list;
    list.set_page_size(100);
    institution::v1::ListInstitutionsResponse listed;
    grpc::ClientContext context;
    ASSERT_TRUE(institutions_->ListInstitutions(&context, list, &listed).ok());
    EXPECT_EQ(listed.institutions_size(), 14);
  }
  {
    institution::v1::ListOfficialsRequest list;
    list.set_page_size(100);
    institution::v1::ListOfficialsResponse listed;
    grpc::ClientContext context;
    ASSERT_TRUE(institutions_->ListOfficials(&context, list, &listed).ok());
    EXPECT_EQ(listed.officials_size(), 9);
  }

  // ListAgreements filters by party, country, kind, state, area, signing
  // date range and parent.
  auto agreements_matching = [&](const std::string& filter) {
    v1::ListAgreementsRequest request;
    request.set_filter(filter);
    v1::ListAgreementsResponse response;
    grpc::ClientContext context;
    const grpc::Status status =
        stub_->ListAgreements(&context, request, &response);
    EXPECT_TRUE(status.ok()) << filter << ": " << status.error_message();
    std::vector<std::string> found;
    for (const auto& agreement : response.agreements()) {
      found.push_back(agreement.name());
    }
    return found;
  };
  EXPECT_THAT(agreements_matching(R"(parties: "institutions/iran")"),
              ElementsAre(kTreaty));
  EXPECT_THAT(agreements_matching(
                  R"(party_country_codes: "IR" AND party_country_codes: "RU")"),
              ElementsAre(kTreaty, kMou));
  EXPECT_THAT(agreements_matching("kind = KIND_MEMORANDUM_OF_UNDERSTANDING"),
              ElementsAre(kMou));
  EXPECT_THAT(agreements_matching("state = STATE_SIGNED"),
              ElementsAre(kTreaty));
  EXPECT_THAT(agreements_matching("state = STATE_IN_FORCE"), ElementsAre(kMou));
  EXPECT_THAT(agreements_matching(R"(cooperation_areas: "science-diplomacy")"),
              ElementsAre(kMou));
  EXPECT_THAT(
      agreements_matching(
          R"(signing_date >= "2025-04-01" AND signing_date <= "2025-04-30")"),
      ElementsAre(kMou));
  EXPECT_THAT(agreements_matching(R"(parent_agreement = "")"),
              ElementsAre(kTreaty, kMou));
  EXPECT_THAT(agreements_matching(
                  R"(occasion = "committees/iran-russia-jec/sessions/18")"),
              ElementsAre(kMou));

  // The whole set carries request_ids: importing it again changes nothing.
  const int64_t before = events_->Count();
  ImportSeed();
  EXPECT_EQ(events_->Count(), before);
}

TEST_F(AgreementServiceTest, LifecycleIsDerivedAndNonsenseIsRejected) {
  CreateParties();
  Agreement created;
  // No entry into force derived from signatures: the states in turn.
  Agreement draft = Draft();
  draft.mutable_entry_into_force_rule()->set_kind(
      v1::EntryIntoForceRule::KIND_RECORDED_ONLY);
  ASSERT_TRUE(Create(draft, "ab", &created).ok());
  EXPECT_EQ(created.state(), Agreement::STATE_PENDING_SIGNATURE);
  const int64_t events_before = events_->Count();

  Agreement result;
  grpc::Status status =
      Record("agreements/ab", AgreementAction::KIND_RATIFICATION,
             "institutions/a", "2025-05-01", &result);
  EXPECT_EQ(status.error_code(), grpc::FAILED_PRECONDITION) << "ratify first";
  EXPECT_EQ(FieldOf(status), "action.kind");

  status = Record("agreements/ab", AgreementAction::KIND_SIGNATURE,
                  "institutions/c", "2025-05-01", &result);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT) << "non-party";
  EXPECT_EQ(FieldOf(status), "action.party");

  status = Record("agreements/ab", AgreementAction::KIND_SIGNATURE,
                  "institutions/a", "2025-01-01", &result);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT) << "before signing";
  EXPECT_EQ(FieldOf(status), "action.action_date");

  status = Record("agreements/ab", AgreementAction::KIND_SIGNATURE,
                  "institutions/a", "not a date", &result);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "action.action_date");

  EXPECT_EQ(events_->Count(), events_before) << "rejections write nothing";
  EXPECT_EQ(Get("agreements/ab").actions_size(), 0);

  ASSERT_TRUE(Record("agreements/ab", AgreementAction::KIND_SIGNATURE,
                     "institutions/a", "2025-04-25", &result)
                  .ok());
  EXPECT_EQ(result.state(), Agreement::STATE_PENDING_SIGNATURE);
  status = Record("agreements/ab", AgreementAction::KIND_SIGNATURE,
                  "institutions/a", "2025-04-26", &result);
  EXPECT_EQ(status.error_code(), grpc::FAILED_PRECONDITION) << "signs twice";
  ASSERT_TRUE(Record("agreements/ab", AgreementAction::KIND_SIGNATURE,
                     "institutions/b", "2025-04-25", &result)
                  .ok());
  EXPECT_EQ(result.state(), Agreement::STATE_SIGNED);
  ASSERT_TRUE(Record("agreements/ab", AgreementAction::KIND_RATIFICATION,
                     "institutions/a", "2025-06-01", &result)
                  .ok());
  ASSERT_TRUE(Record("agreements/ab", AgreementAction::KIND_RATIFICATION,
                     "institutions/b", "2025-06-10", &result)
                  .ok());
  EXPECT_EQ(result.state(), Agreement::STATE_RATIFIED);

  v1::RecordAgreementActionRequest in_force;
  in_force.set_agreement("agreements/ab");
  in_force.mutable_action()->set_kind(AgreementAction::KIND_ENTRY_INTO_FORCE);
  in_force.mutable_action()->set_action_date("2025-06-10");
  in_force.mutable_action()->set_effective_date("2025-07-01");
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->RecordAgreementAction(&context, in_force, &result).ok());
  }
  EXPECT_EQ(result.state(), Agreement::STATE_IN_FORCE);
  EXPECT_EQ(result.effective_date(), "2025-07-01");

  auto query = [&](const std::vector<std::string>& institutions,
                   const std::vector<std::string>& countries,
                   const std::string& date) {
    v1::QueryAgreementsInForceRequest request;
    for (const auto& name : institutions) request.add_institutions(name);
    for (const auto& code : countries) request.add_country_codes(code);
    request.set_date(date);
    v1::QueryAgreementsInForceResponse response;
    grpc::ClientContext context;
    const grpc::Status call =
        stub_->QueryAgreementsInForce(&context, request, &response);
    EXPECT_TRUE(call.ok()) << call.error_message();
    return response.agreements_size();
  };
  EXPECT_EQ(query({}, {"IR", "RU"}, "2025-08-01"), 1);
  EXPECT_EQ(query({"institutions/a", "institutions/b"}, {}, "2025-08-01"), 1);
  EXPECT_EQ(query({}, {"IR", "RU"}, "2025-06-15"), 0) << "not yet effective";
  EXPECT_EQ(query({}, {"IR", "FR"}, "2025-08-01"), 0);

  std::vector<std::string> types = EventTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(),
                       "accord.agreement.v1.action_recorded"),
            5);
}

TEST_F(AgreementServiceTest, UnknownReferencesNameTheirFields) {
  CreateParties();
  Agreement agreement = Draft();
  agreement.set_parties(1, "institutions/nobody");
  Agreement created;
  grpc::Status status = Create(agreement, "x", &created);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "agreement.parties[1]");

  agreement = Draft();
  auto* signatory = agreement.add_signatories();
  signatory->set_official("officials/ghost");
  signatory->set_party("institutions/a");
  status = Create(agreement, "y", &created);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "agreement.signatories[0].official");

  agreement = Draft();
  agreement.clear_parties();
  agreement.add_parties("institutions/a");
  status = Create(agreement, "z", &created);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "agreement.parties");

  agreement = Draft();
  agreement.add_cooperation_areas("astrology");
  status = Create(agreement, "w", &created);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "agreement.cooperation_areas[0]");

  agreement = Draft();
  agreement.set_occasion("committees/none/sessions/1");
  status = Create(agreement, "v", &created);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "agreement.occasion");

  EXPECT_EQ(events_->Count(), 3) << "only the three institutions";
}

TEST_F(AgreementServiceTest,
       InstitutionServiceDownMeansUnavailableAndNothingStored) {
  CreateParties();
  const int64_t events_before = events_->Count();
  institution_->Kill();
  Agreement created;
  const grpc::Status status = Create(Draft(), "ab", &created);
  EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(events_->Count(), events_before);
  v1::GetAgreementRequest request;
  request.set_name("agreements/ab");
  grpc::ClientContext context;
  Agreement absent;
  EXPECT_EQ(stub_->GetAgreement(&context, request, &absent).error_code(),
            grpc::NOT_FOUND);
}

TEST_F(AgreementServiceTest, RetriedCreateIsIdempotentAndEtagsSerialiseEdits) {
  CreateParties();
  Agreement first;
  Agreement second;
  ASSERT_TRUE(
      Create(Draft(), "", &first, "11111111-2222-4333-8444-555555555555").ok());
  ASSERT_TRUE(
      Create(Draft(), "", &second, "11111111-2222-4333-8444-555555555555")
          .ok());
  EXPECT_EQ(first.name(), second.name());
  auto types = EventTypes();
  EXPECT_EQ(
      std::count(types.begin(), types.end(), "accord.agreement.v1.recorded"),
      1);

  // Two writers with the same etag: exactly one action is appended.
  std::atomic<int> ok{0};
  std::atomic<int> aborted{0};
  std::vector<std::thread> writers;
  for (const char* party : {"institutions/a", "institutions/b"}) {
    writers.emplace_back([&, party] {
      Agreement result;
      const grpc::Status status =
          Record(first.name(), AgreementAction::KIND_SIGNATURE, party,
                 "2025-04-25", &result, first.etag());
      if (status.ok()) ++ok;
      if (status.error_code() == grpc::ABORTED) ++aborted;
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(aborted.load(), 1);
  EXPECT_EQ(Get(first.name()).actions_size(), 1);
}

TEST_F(AgreementServiceTest,
       EveryAcceptedChangeIsPublishedOnceWithItsPosition) {
  CreateParties();
  redisContext* subscriber = redisConnect("127.0.0.1", redis_->port());
  ASSERT_NE(subscriber, nullptr);
  freeReplyObject(
      redisCommand(subscriber, "PSUBSCRIBE accord:events:accord.agreement.*"));
  Agreement created;
  ASSERT_TRUE(Create(Draft(), "ab", &created).ok());
  Agreement rejected;
  ASSERT_FALSE(Create(Draft(), "ab", &rejected).ok());  // ALREADY_EXISTS
  void* raw = nullptr;
  ASSERT_EQ(redisGetReply(subscriber, &raw), REDIS_OK);
  auto* reply = static_cast<redisReply*>(raw);
  ASSERT_EQ(reply->elements, 4u);  // pmessage, pattern, channel, payload
  EXPECT_EQ(std::string(reply->element[2]->str),
            "accord:events:accord.agreement.v1.recorded");
  events::v1::Event published;
  ASSERT_TRUE(published.ParseFromArray(
      reply->element[3]->str, static_cast<int>(reply->element[3]->len)));
  freeReplyObject(reply);
  const auto stored = events_->All();
  ASSERT_EQ(stored.back().type(), "accord.agreement.v1.recorded");
  EXPECT_EQ(published.position(), stored.back().position());
  EXPECT_EQ(published.id(), stored.back().id());
  // Nothing else arrives: the rejected create published nothing.
  struct timeval short_wait = {0, 300000};
  redisSetTimeout(subscriber, short_wait);
  EXPECT_NE(redisGetReply(subscriber, &raw), REDIS_OK);
  redisFree(subscriber);
}

TEST_F(AgreementServiceTest, MilestonesMoveThroughDatedStatesAndComeDue) {
  CreateParties();
  Agreement created;
  ASSERT_TRUE(Create(Draft(), "ab", &created).ok());
  auto milestone = [&](const std::string& id, const std::string& due) {
    return Json(
        "createMilestone",
        absl::StrCat(
            R"({"parent": "agreements/ab", "milestoneId": ")", id,
            R"(", "milestone": {"titles": [{"text": ")", id,
            R"("}], "dueDate": ")", due,
            R"(", "recordDate": "2025-01-01", "owners": ["institutions/a"]}})"));
  };
  ASSERT_TRUE(milestone("late", "2025-01-01").ok());
  ASSERT_TRUE(milestone("soon", "2025-06-10").ok());
  ASSERT_TRUE(milestone("later", "2026-12-31").ok());

  v1::QueryDueMilestonesRequest due;
  due.set_as_of_date("2025-06-01");
  due.set_horizon_days(30);
  v1::QueryDueMilestonesResponse response;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->QueryDueMilestones(&context, due, &response).ok());
  }
  ASSERT_EQ(response.overdue_size(), 1);
  EXPECT_EQ(response.overdue(0).name(), "agreements/ab/milestones/late");
  ASSERT_EQ(response.upcoming_size(), 1);
  EXPECT_EQ(response.upcoming(0).name(), "agreements/ab/milestones/soon");

  v1::TransitionMilestoneRequest transition;
  transition.set_name("agreements/ab/milestones/late");
  transition.mutable_transition()->set_state(Milestone::STATE_ACHIEVED);
  transition.mutable_transition()->set_transition_date("2025-05-30");
  Milestone achieved;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(
        stub_->TransitionMilestone(&context, transition, &achieved).ok());
  }
  EXPECT_EQ(achieved.state(), Milestone::STATE_ACHIEVED);
  EXPECT_EQ(achieved.done_date(), "2025-05-30");
  EXPECT_EQ(achieved.transitions_size(), 2);
  {
    grpc::ClientContext context;
    transition.mutable_transition()->set_state(Milestone::STATE_CANCELLED);
    const grpc::Status status =
        stub_->TransitionMilestone(&context, transition, &achieved);
    EXPECT_EQ(status.error_code(), grpc::FAILED_PRECONDITION);
  }
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->QueryDueMilestones(&context, due, &response).ok());
    EXPECT_EQ(response.overdue_size(), 0) << "achieved ones are not due";
  }
  auto types = EventTypes();
  EXPECT_EQ(
      std::count(types.begin(), types.end(), "accord.milestone.v1.recorded"),
      3);
  EXPECT_EQ(std::count(types.begin(), types.end(),
                       "accord.milestone.v1.state_changed"),
            1);

  // Listing across all agreements, and a milestone under a missing parent.
  v1::ListMilestonesRequest list;
  list.set_parent("agreements/-");
  list.set_filter("owners: \"institutions/a\"");
  v1::ListMilestonesResponse listed;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->ListMilestones(&context, list, &listed).ok());
  }
  EXPECT_EQ(listed.milestones_size(), 3);
  const auto orphan = Json(
      "createMilestone",
      R"({"parent": "agreements/none", "milestone": {"titles": [{"text": "x"}]}})");
  EXPECT_EQ(orphan.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(AgreementServiceTest, SessionsLiveUnderTheirCommittee) {
  CreateParties();
  ASSERT_TRUE(Json("createCommittee", R"({"committeeId": "jec", "committee": {
      "names": [{"text": "Joint committee"}], "kind": "KIND_JOINT_ECONOMIC_COMMITTEE",
      "memberInstitutions": ["institutions/a", "institutions/b"]}})")
                  .ok());
  ASSERT_TRUE(
      Json("createSession", R"({"parent": "committees/jec", "sessionId": "18",
      "session": {"number": 18, "startDate": "2025-04-22", "endDate": "2025-04-24"}})")
          .ok());
  const auto bad_dates =
      Json("createSession", R"({"parent": "committees/jec", "sessionId": "19",
      "session": {"number": 19, "startDate": "2025-04-22", "endDate": "2025-04-21"}})");
  EXPECT_EQ(bad_dates.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldViolationsOf(bad_dates.status()).at(0).field,
            "session.end_date");
  const auto no_committee =
      Json("createSession", R"({"parent": "committees/none",
      "session": {"number": 1, "startDate": "2025-04-22"}})");
  EXPECT_EQ(no_committee.status().code(), absl::StatusCode::kNotFound);

  v1::ListSessionsRequest list;
  list.set_parent("committees/-");
  v1::ListSessionsResponse listed;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->ListSessions(&context, list, &listed).ok());
  ASSERT_EQ(listed.sessions_size(), 1);
  EXPECT_EQ(listed.sessions(0).name(), "committees/jec/sessions/18");
  auto types = EventTypes();
  EXPECT_EQ(std::count(types.begin(), types.end(),
                       "accord.committee.v1.session_recorded"),
            1);
}

// ---- The institution reference cache (issue 8) ----

TEST_F(AgreementServiceTest, KnownPartiesAreNotAskedForAgainAndFollowUpdates) {
  CreateParties();
  WaitForCacheFeed();
  Agreement first;
  ASSERT_TRUE(Create(Draft(), "ab1", &first).ok());
  const double calls = BatchGets();
  EXPECT_GE(calls, 1);

  // The same parties again: no call to the institution service.
  Agreement second;
  ASSERT_TRUE(Create(Draft(), "ab2", &second).ok());
  EXPECT_EQ(BatchGets(), calls);
  EXPECT_THAT(second.party_country_codes(), ElementsAre("IR", "RU"));
  EXPECT_GE(AgreementMetric("accord_institution_cache_lookups_total", "hit"),
            1);
  // A new acting body is asked for once, then known.
  Agreement acted;
  ASSERT_TRUE(
      RecordActing(second.name(), "institutions/a", "institutions/c", &acted)
          .ok());
  EXPECT_EQ(BatchGets(), calls + 1);
  ASSERT_TRUE(
      RecordActing(second.name(), "institutions/b", "institutions/c", &acted)
          .ok());
  EXPECT_EQ(BatchGets(), calls + 1);

  // A change of country reaches the cache through the institution's event.
  ASSERT_TRUE(Json("updateInstitution", R"({"institution":
      {"name": "institutions/b", "countryCode": "FR"}})")
                  .ok());
  int attempt = 0;
  EXPECT_TRUE(Eventually([&] {
    Agreement later;
    const grpc::Status status =
        Create(Draft(), absl::StrCat("fr", ++attempt), &later);
    return status.ok() && later.party_country_codes_size() == 2 &&
           later.party_country_codes(1) == "FR";
  }));
  EXPECT_EQ(BatchGets(), calls + 1) << "known parties, updated in place";
}

TEST_F(AgreementServiceTest,
       ADeletionTheCacheHasNotHeardOfIsRefusedByTheWrite) {
  CreateParties();
  WaitForCacheFeed();
  Agreement first;
  ASSERT_TRUE(Create(Draft(), "ab1", &first).ok());
  Agreement acted;
  ASSERT_TRUE(
      RecordActing(first.name(), "institutions/a", "institutions/c", &acted)
          .ok());
  const double calls = BatchGets();
  const int64_t events_before = events_->Count();

  // b and c deleted underneath: no event, so the cache still holds them.
  SetDeletedUnderneath("institutions/b", true);
  SetDeletedUnderneath("institutions/c", true);
  Agreement refused;
  grpc::Status status = Create(Draft(), "ab2", &refused);
  // Exactly the answer for an unknown party, from the institution service
  // once Redis refused the cached entry.
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_EQ(FieldOf(status), "agreement.parties[1]");
  EXPECT_EQ(AgreementMetric("accord_institution_cache_stale_total"), 1)
      << "the first attempt was answered from the cache and refused by Redis";
  EXPECT_EQ(BatchGets(), calls + 1);

  // The same for an action whose acting body is gone.
  status =
      RecordActing(first.name(), "institutions/b", "institutions/c", &refused);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_EQ(FieldOf(status), "action.acting_body");

  EXPECT_EQ(events_->Count(), events_before) << "nothing was written";
  v1::GetAgreementRequest get;
  get.set_name("agreements/ab2");
  grpc::ClientContext context;
  EXPECT_EQ(stub_->GetAgreement(&context, get, &refused).error_code(),
            grpc::NOT_FOUND);
  EXPECT_EQ(Get(first.name()).actions_size(), 1);

  // Back to live underneath: the institution service vouches again.
  SetDeletedUnderneath("institutions/b", false);
  EXPECT_TRUE(Create(Draft(), "ab3", &refused).ok());
}

TEST_F(AgreementServiceTest, ADeletionThroughTheApiIsSeenByTheNextWrite) {
  CreateParties();
  WaitForCacheFeed();
  Agreement first;
  ASSERT_TRUE(Create(Draft(), "ab1", &first).ok());
  // Deleted through the institution service; the very next write names it,
  // whether or not the event has reached the cache yet.
  ASSERT_TRUE(Json("deleteInstitution", R"({"name": "institutions/b"})").ok());
  Agreement refused;
  const grpc::Status status = Create(Draft(), "ab2", &refused);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_EQ(FieldOf(status), "agreement.parties[1]");
}

TEST_F(AgreementServiceTest,
       TheCacheStartsOverAfterRestartsOfTheServiceAndRedis) {
  CreateParties();
  WaitForCacheFeed();
  Agreement created;
  ASSERT_TRUE(Create(Draft(), "ab1", &created).ok());

  // A restarted agreement service starts with an empty cache.
  ASSERT_EQ(agreement_->Stop(), 0);
  agreement_->Start();
  stub_ = v1::AgreementService::NewStub(agreement_->Channel());
  WaitForCacheFeed();
  double calls = BatchGets();
  ASSERT_TRUE(Create(Draft(), "ab2", &created).ok());
  EXPECT_EQ(BatchGets(), calls + 1);
  ASSERT_TRUE(Create(Draft(), "ab3", &created).ok());
  EXPECT_EQ(BatchGets(), calls + 1);

  // Redis restarts: the feed resubscribes and starts over empty, since
  // events published while it was away are lost.
  redis_->Stop();
  redis_->Start();
  ASSERT_TRUE(accord::testing::WaitForHealth(agreement_->Channel(), true,
                                             absl::Seconds(15))
                  .ok());
  WaitForCacheFeed(2);
  EXPECT_EQ(AgreementMetric("accord_institution_cache_entries"), 0);
  calls = BatchGets();
  EXPECT_TRUE(Eventually([&] { return Create(Draft(), "ab4", &created).ok(); }))
      << "writes work again";
  // Asked again (more than once if the institution service's own Redis
  // connections were still coming back), then known.
  EXPECT_GE(BatchGets(), calls + 1);
  calls = BatchGets();
  ASSERT_TRUE(Create(Draft(), "ab5", &created).ok());
  EXPECT_EQ(BatchGets(), calls);

  // The new subscription hears deletions: the entry goes before any write.
  const double entries = AgreementMetric("accord_institution_cache_entries");
  ASSERT_TRUE(Json("deleteInstitution", R"({"name": "institutions/b"})").ok());
  EXPECT_TRUE(Eventually([&] {
    return AgreementMetric("accord_institution_cache_entries") < entries;
  }));
  const grpc::Status status = Create(Draft(), "ab6", &created);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(AgreementMetric("accord_institution_cache_stale_total"), 0)
      << "refused from the institution service's answer, not by Redis";
}

}  // namespace
}  // namespace accord::agreement
