// Who is bound, and since when (issue 14), against the real services with
// authentication on: redis-server, accord-institution and accord-agreement
// on free loopback ports. Accession in one step, each party's own dates
// (QueryPartyStatus), agreements in force between institutions and between
// countries on the days around each date, entry-into-force rules deriving
// the dates GetAgreement shows, and rejections that name their field and
// write nothing.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/errors.h"
#include "tests/harness/credentials.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord::agreement {
namespace {

using ::accord::testing::EventLog;
using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::TestCredentials;
using ::testing::Contains;
using ::testing::ElementsAre;
using v1::Agreement;
using v1::AgreementAction;
using v1::EntryIntoForceRule;
using v1::PartyStanding;

// The five parties of the multilateral agreement, in five countries.
constexpr char kTehran[] = "institutions/tehran-univ";    // IR
constexpr char kMoscow[] = "institutions/moscow-inst";    // RU, withdraws
constexpr char kAlmaty[] = "institutions/almaty-univ";    // KZ
constexpr char kYerevan[] = "institutions/yerevan-inst";  // AM
constexpr char kAnkara[] = "institutions/ankara-univ";    // TR, accedes
constexpr char kNetwork[] = "agreements/eurasia-research-network";

const char* Name(PartyStanding::State state) {
  switch (state) {
    case PartyStanding::STATE_NOT_BOUND:
      return "not bound";
    case PartyStanding::STATE_SIGNED:
      return "signed";
    case PartyStanding::STATE_CONSENTED:
      return "consented";
    case PartyStanding::STATE_IN_FORCE:
      return "in force";
    case PartyStanding::STATE_SUSPENDED:
      return "suspended";
    case PartyStanding::STATE_CEASED:
      return "ceased";
    default:
      return "unspecified";
  }
}

struct Rejection {
  grpc::StatusCode code;
  std::string field;
  std::string reason;
};

Rejection RejectionOf(const grpc::Status& status) {
  const absl::Status decoded = FromGrpcStatus(status);
  const auto violations = FieldViolationsOf(decoded);
  return {status.error_code(),
          violations.empty() ? "" : violations.front().field,
          ReasonOf(decoded)};
}

class PartyTimelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = MakeTempDir("party-timeline");
    TestCredentials credentials;
    admin_ = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    tehran_editor_ =
        credentials.Add("tehran-editor", auth::v1::ROLE_EDITOR, kTehran);
    ankara_editor_ =
        credentials.Add("ankara-editor", auth::v1::ROLE_EDITOR, kAnkara);
    viewer_ = credentials.Add("analyst", auth::v1::ROLE_VIEWER);
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
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    stub_ = v1::AgreementService::NewStub(agreement_->Channel());
    events_ = std::make_unique<EventLog>(redis_->url());
    for (const auto& [name, country] :
         std::vector<std::pair<std::string, std::string>>{
             {kTehran, "IR"},
             {kMoscow, "RU"},
             {kAlmaty, "KZ"},
             {kYerevan, "AM"},
             {kAnkara, "TR"},
             {"institutions/baku-univ", "AZ"},
             {"institutions/minsk-univ", "BY"}}) {
      CreateInstitution(name, country);
    }
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      const std::string& token) {
    return ::accord::testing::AuthorizedContext(token);
  }

  void CreateInstitution(const std::string& name, const std::string& country) {
    institution::v1::CreateInstitutionRequest request;
    request.set_institution_id(name.substr(name.find('/') + 1));
    auto* display = request.mutable_institution()->add_names();
    display->set_text(absl::StrCat("Institution ", request.institution_id()));
    display->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
    request.mutable_institution()->set_kind(
        institution::v1::Institution::KIND_UNIVERSITY);
    request.mutable_institution()->set_country_code(country);
    institution::v1::Institution created;
    const grpc::Status status = institutions_->CreateInstitution(
        Context(admin_).get(), request, &created);
    ASSERT_TRUE(status.ok()) << name << ": " << status.error_message();
  }

  static Agreement Draft(Agreement::Kind kind,
                         const std::vector<std::string>& parties) {
    Agreement agreement;
    agreement.add_titles()->set_text("Test agreement");
    agreement.set_kind(kind);
    for (const std::string& party : parties) agreement.add_parties(party);
    return agreement;
  }

  grpc::Status Create(const Agreement& agreement, const std::string& id,
                      Agreement* created) {
    v1::CreateAgreementRequest request;
    *request.mutable_agreement() = agreement;
    request.set_agreement_id(id);
    return stub_->CreateAgreement(Context(tehran_editor_).get(), request,
                                  created);
  }

  Agreement MustCreate(const Agreement& agreement, const std::string& id) {
    Agreement created;
    const grpc::Status status = Create(agreement, id, &created);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    return created;
  }

  static AgreementAction Step(AgreementAction::Kind kind,
                              const std::string& party, const std::string& date,
                              const std::string& effective_date = "") {
    AgreementAction action;
    action.set_kind(kind);
    action.set_party(party);
    action.set_action_date(date);
    action.set_effective_date(effective_date);
    return action;
  }

  grpc::Status Record(const std::string& agreement,
                      const AgreementAction& action, Agreement* result,
                      const std::string& token = "") {
    v1::RecordAgreementActionRequest request;
    request.set_agreement(agreement);
    *request.mutable_action() = action;
    return stub_->RecordAgreementAction(
        Context(token.empty() ? tehran_editor_ : token).get(), request, result);
  }

  Agreement MustRecord(const std::string& agreement,
                       const AgreementAction& action) {
    Agreement result;
    const grpc::Status status = Record(agreement, action, &result);
    EXPECT_TRUE(status.ok())
        << AgreementAction::Kind_Name(action.kind()) << " by " << action.party()
        << ": " << status.error_message();
    return result;
  }

  Agreement Get(const std::string& name) {
    v1::GetAgreementRequest request;
    request.set_name(name);
    Agreement agreement;
    const grpc::Status status =
        stub_->GetAgreement(Context(viewer_).get(), request, &agreement);
    EXPECT_TRUE(status.ok()) << name << ": " << status.error_message();
    return agreement;
  }

  // Each party's standing on `date`, by QueryPartyStatus.
  std::map<std::string, std::string> Standings(const std::string& agreement,
                                               const std::string& date) {
    v1::QueryPartyStatusRequest request;
    request.set_agreement(agreement);
    request.set_date(date);
    v1::QueryPartyStatusResponse response;
    const grpc::Status status =
        stub_->QueryPartyStatus(Context(viewer_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.date(), date);
    std::map<std::string, std::string> standings;
    for (const PartyStanding& standing : response.party_standings()) {
      standings[standing.party()] = Name(standing.state());
    }
    return standings;
  }

  // Whether `agreement` is listed in force on `date` between two
  // institutions, or between two countries.
  bool InForce(const std::string& agreement,
               const std::vector<std::string>& institutions,
               const std::vector<std::string>& countries,
               const std::string& date) {
    v1::QueryAgreementsInForceRequest request;
    for (const std::string& name : institutions) request.add_institutions(name);
    for (const std::string& code : countries) request.add_country_codes(code);
    request.set_date(date);
    v1::QueryAgreementsInForceResponse response;
    const grpc::Status status = stub_->QueryAgreementsInForce(
        Context(viewer_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const Agreement& found : response.agreements()) {
      if (found.name() == agreement) return true;
    }
    return false;
  }
  bool BetweenInstitutions(const std::string& a, const std::string& b,
                           const std::string& date) {
    return InForce(kNetwork, {a, b}, {}, date);
  }
  bool BetweenCountries(const std::string& a, const std::string& b,
                        const std::string& date) {
    return InForce(kNetwork, {}, {a, b}, date);
  }

  // Dates and the derived flag of each party, from GetAgreement.
  std::map<std::string, std::string> EntryDates(const std::string& name) {
    std::map<std::string, std::string> dates;
    const Agreement agreement = Get(name);
    for (const v1::PartyStatus& party : agreement.party_statuses()) {
      dates[party.party()] =
          absl::StrCat(party.entry_into_force_date(),
                       party.entry_into_force_derived() ? " derived" : "");
    }
    return dates;
  }

  // Expects `status` to be a rejection naming `field`, and nothing written.
  void ExpectRefused(const grpc::Status& status, grpc::StatusCode code,
                     const std::string& field, int64_t events_before,
                     const std::string& reason = "") {
    const Rejection rejection = RejectionOf(status);
    EXPECT_EQ(rejection.code, code) << status.error_message();
    EXPECT_EQ(rejection.field, field) << status.error_message();
    if (!reason.empty()) {
      EXPECT_EQ(rejection.reason, reason) << status.error_message();
    }
    EXPECT_EQ(events_->Count(), events_before) << "a rejection wrote";
  }

  std::string admin_;
  std::string tehran_editor_;
  std::string ankara_editor_;
  std::string viewer_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<v1::AgreementService::Stub> stub_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(PartyTimelineTest, AccessionAndWithdrawalAreDatedPerPartyAndPerPair) {
  // Four institutions in four countries sign a research-network MOU on one
  // day: in force on signature for each of them.
  MustCreate(Draft(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING,
                   {kTehran, kMoscow, kAlmaty, kYerevan}),
             "eurasia-research-network");
  for (const char* party : {kTehran, kMoscow, kAlmaty, kYerevan}) {
    MustRecord(kNetwork,
               Step(AgreementAction::KIND_SIGNATURE, party, "2025-03-10"));
  }

  // Ankara accedes without having signed: one write, one event, a party
  // from then on.
  const int64_t before_accession = events_->Count();
  const Agreement acceded = MustRecord(
      kNetwork, Step(AgreementAction::KIND_ACCESSION, kAnkara, "2025-09-15"));
  EXPECT_THAT(acceded.parties(),
              ElementsAre(kTehran, kMoscow, kAlmaty, kYerevan, kAnkara));
  EXPECT_THAT(acceded.party_country_codes(),
              ElementsAre("IR", "RU", "KZ", "AM", "TR"));
  ASSERT_EQ(events_->Count(), before_accession + 1);
  const auto event = events_->All().back();
  EXPECT_EQ(event.type(), "accord.agreement.v1.action_recorded");
  EXPECT_EQ(event.subject(), kNetwork);
  EXPECT_THAT(event.institutions(), Contains(kAnkara));
  EXPECT_THAT(event.country_codes(), Contains("TR"));

  // Moscow withdraws in January with effect in July.
  MustRecord(kNetwork, Step(AgreementAction::KIND_WITHDRAWAL, kMoscow,
                            "2026-01-15", "2026-07-15"));

  // GetAgreement: each party's own dates.
  const Agreement network = Get(kNetwork);
  EXPECT_EQ(network.state(), Agreement::STATE_IN_FORCE);
  EXPECT_EQ(network.effective_date(), "2025-03-10");
  ASSERT_EQ(network.party_statuses_size(), 5);
  const v1::PartyStatus& moscow = network.party_statuses(1);
  EXPECT_EQ(moscow.party(), kMoscow);
  EXPECT_EQ(moscow.consent_date(), "2025-03-10");
  EXPECT_EQ(moscow.entry_into_force_date(), "2025-03-10");
  EXPECT_EQ(moscow.end_date(), "2026-07-15");
  EXPECT_EQ(moscow.end_step(), AgreementAction::KIND_WITHDRAWAL);
  EXPECT_EQ(moscow.country_code(), "RU");
  const v1::PartyStatus& ankara = network.party_statuses(4);
  EXPECT_EQ(ankara.party(), kAnkara);
  EXPECT_TRUE(ankara.acceded());
  EXPECT_EQ(ankara.signature_date(), "");
  EXPECT_EQ(ankara.consent_date(), "2025-09-15");
  EXPECT_EQ(ankara.consent_step(), AgreementAction::KIND_ACCESSION);
  EXPECT_EQ(ankara.entry_into_force_date(), "2025-09-15");
  EXPECT_TRUE(ankara.entry_into_force_derived());
  EXPECT_EQ(ankara.end_date(), "");
  EXPECT_EQ(ankara.country_code(), "TR");

  // Per party, around each date.
  using Standing = std::map<std::string, std::string>;
  EXPECT_EQ(Standings(kNetwork, "2025-03-09"),
            (Standing{{kTehran, "not bound"},
                      {kMoscow, "not bound"},
                      {kAlmaty, "not bound"},
                      {kYerevan, "not bound"},
                      {kAnkara, "not bound"}}));
  for (const std::string date : {"2025-03-10", "2025-09-14"}) {
    EXPECT_EQ(Standings(kNetwork, date), (Standing{{kTehran, "in force"},
                                                   {kMoscow, "in force"},
                                                   {kAlmaty, "in force"},
                                                   {kYerevan, "in force"},
                                                   {kAnkara, "not bound"}}))
        << date;
  }
  for (const std::string date : {"2025-09-15", "2025-09-16", "2026-07-14"}) {
    EXPECT_EQ(Standings(kNetwork, date), (Standing{{kTehran, "in force"},
                                                   {kMoscow, "in force"},
                                                   {kAlmaty, "in force"},
                                                   {kYerevan, "in force"},
                                                   {kAnkara, "in force"}}))
        << date;
  }
  for (const std::string date : {"2026-07-15", "2026-07-16"}) {
    EXPECT_EQ(Standings(kNetwork, date), (Standing{{kTehran, "in force"},
                                                   {kMoscow, "ceased"},
                                                   {kAlmaty, "in force"},
                                                   {kYerevan, "in force"},
                                                   {kAnkara, "in force"}}))
        << date;
  }

  // Per pair of institutions: the acceding party from its accession on.
  EXPECT_FALSE(BetweenInstitutions(kTehran, kAnkara, "2025-09-14"));
  EXPECT_TRUE(BetweenInstitutions(kTehran, kAnkara, "2025-09-15"));
  EXPECT_TRUE(BetweenInstitutions(kTehran, kAnkara, "2025-09-16"));
  EXPECT_FALSE(BetweenInstitutions(kMoscow, kAnkara, "2025-09-14"));
  EXPECT_TRUE(BetweenInstitutions(kMoscow, kAnkara, "2025-09-15"));
  // The withdrawing party until the day before its withdrawal takes effect.
  EXPECT_TRUE(BetweenInstitutions(kTehran, kMoscow, "2026-07-14"));
  EXPECT_FALSE(BetweenInstitutions(kTehran, kMoscow, "2026-07-15"));
  EXPECT_FALSE(BetweenInstitutions(kTehran, kMoscow, "2026-07-16"));
  EXPECT_FALSE(BetweenInstitutions(kMoscow, kAnkara, "2026-07-15"));
  // The others stay in force among themselves.
  EXPECT_TRUE(BetweenInstitutions(kAlmaty, kYerevan, "2026-07-15"));
  EXPECT_TRUE(BetweenInstitutions(kTehran, kAnkara, "2026-07-16"));
  // Before anyone signed, nothing.
  EXPECT_FALSE(BetweenInstitutions(kTehran, kAlmaty, "2025-03-09"));
  EXPECT_TRUE(BetweenInstitutions(kTehran, kAlmaty, "2025-03-10"));

  // Per pair of countries: the same, through each party's country.
  EXPECT_FALSE(BetweenCountries("IR", "TR", "2025-09-14"));
  EXPECT_TRUE(BetweenCountries("IR", "TR", "2025-09-15"));
  EXPECT_TRUE(BetweenCountries("TR", "IR", "2025-09-16"));
  EXPECT_FALSE(BetweenCountries("RU", "TR", "2025-09-14"));
  EXPECT_TRUE(BetweenCountries("RU", "TR", "2025-09-15"));
  EXPECT_TRUE(BetweenCountries("RU", "KZ", "2026-07-14"));
  EXPECT_FALSE(BetweenCountries("RU", "KZ", "2026-07-15"));
  EXPECT_FALSE(BetweenCountries("RU", "IR", "2026-07-16"));
  EXPECT_TRUE(BetweenCountries("KZ", "AM", "2026-07-15"));
  EXPECT_TRUE(BetweenCountries("AM", "TR", "2026-07-16"));
  // A country with no party is never in force with anyone.
  EXPECT_FALSE(BetweenCountries("IR", "AZ", "2025-09-16"));
}

TEST_F(PartyTimelineTest, AClosedAgreementRefusesAccessionAndWritesNothing) {
  Agreement draft = Draft(Agreement::KIND_TREATY, {kTehran, kMoscow, kAlmaty});
  draft.set_accession(Agreement::ACCESSION_CLOSED);
  MustCreate(draft, "closed-treaty");
  const Agreement before = Get("agreements/closed-treaty");
  const int64_t events_before = events_->Count();
  Agreement result;
  for (const AgreementAction::Kind kind :
       {AgreementAction::KIND_ACCESSION, AgreementAction::KIND_ACCEPTANCE,
        AgreementAction::KIND_APPROVAL}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(kind));
    ExpectRefused(Record("agreements/closed-treaty",
                         Step(kind, kAnkara, "2025-09-15"), &result),
                  grpc::FAILED_PRECONDITION, "action.party", events_before,
                  "ACCESSION_CLOSED");
  }
  // A bilateral agreement is closed unless it says otherwise.
  MustCreate(Draft(Agreement::KIND_TREATY, {kTehran, kMoscow}), "bilateral");
  const int64_t bilateral_events = events_->Count();
  ExpectRefused(
      Record("agreements/bilateral",
             Step(AgreementAction::KIND_ACCESSION, kAnkara, "2025-09-15"),
             &result),
      grpc::FAILED_PRECONDITION, "action.party", bilateral_events,
      "ACCESSION_CLOSED");
  const Agreement after = Get("agreements/closed-treaty");
  EXPECT_EQ(after.etag(), before.etag());
  EXPECT_EQ(after.parties_size(), 3);
  EXPECT_EQ(after.actions_size(), 0);
  EXPECT_EQ(Get("agreements/bilateral").parties_size(), 2);
}

TEST_F(PartyTimelineTest, EachRuleKindDerivesThePartiesDates) {
  // On signature by all: the date of the last signature.
  MustCreate(Draft(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING,
                   {kTehran, kMoscow, kAlmaty}),
             "on-signature");
  MustRecord("agreements/on-signature",
             Step(AgreementAction::KIND_SIGNATURE, kTehran, "2025-04-01"));
  MustRecord("agreements/on-signature",
             Step(AgreementAction::KIND_SIGNATURE, kMoscow, "2025-04-02"));
  EXPECT_EQ(EntryDates("agreements/on-signature"),
            (std::map<std::string, std::string>{
                {kTehran, ""}, {kMoscow, ""}, {kAlmaty, ""}}));
  MustRecord("agreements/on-signature",
             Step(AgreementAction::KIND_SIGNATURE, kAlmaty, "2025-04-25"));
  EXPECT_EQ(
      EntryDates("agreements/on-signature"),
      (std::map<std::string, std::string>{{kTehran, "2025-04-25 derived"},
                                          {kMoscow, "2025-04-25 derived"},
                                          {kAlmaty, "2025-04-25 derived"}}));
  EXPECT_EQ(Get("agreements/on-signature").state(), Agreement::STATE_IN_FORCE);

  // On a fixed date: that date for those who consented by then, a later
  // signatory's own date after it.
  Agreement fixed =
      Draft(Agreement::KIND_AGREEMENT, {kTehran, kMoscow, kAlmaty});
  fixed.mutable_entry_into_force_rule()->set_kind(
      EntryIntoForceRule::KIND_ON_FIXED_DATE);
  fixed.mutable_entry_into_force_rule()->set_fixed_date("2026-01-01");
  MustCreate(fixed, "fixed-date");
  MustRecord("agreements/fixed-date",
             Step(AgreementAction::KIND_SIGNATURE, kTehran, "2025-05-01"));
  MustRecord("agreements/fixed-date",
             Step(AgreementAction::KIND_SIGNATURE, kMoscow, "2025-06-01"));
  MustRecord("agreements/fixed-date",
             Step(AgreementAction::KIND_SIGNATURE, kAlmaty, "2026-02-10"));
  EXPECT_EQ(
      EntryDates("agreements/fixed-date"),
      (std::map<std::string, std::string>{{kTehran, "2026-01-01 derived"},
                                          {kMoscow, "2026-01-01 derived"},
                                          {kAlmaty, "2026-02-10 derived"}}));

  // On the last notification of completed internal procedures, as the
  // seed's treaty: ratification alone does not do it.
  Agreement bilateral = Draft(Agreement::KIND_TREATY, {kTehran, kMoscow});
  bilateral.mutable_entry_into_force_rule()->set_kind(
      EntryIntoForceRule::KIND_ON_LAST_NOTIFICATION);
  MustCreate(bilateral, "notification");
  const std::string treaty = "agreements/notification";
  MustRecord(treaty,
             Step(AgreementAction::KIND_SIGNATURE, kTehran, "2025-01-17"));
  MustRecord(treaty,
             Step(AgreementAction::KIND_SIGNATURE, kMoscow, "2025-01-17"));
  MustRecord(treaty,
             Step(AgreementAction::KIND_RATIFICATION, kMoscow, "2025-04-21"));
  MustRecord(treaty,
             Step(AgreementAction::KIND_RATIFICATION, kTehran, "2025-06-11"));
  MustRecord(treaty,
             Step(AgreementAction::KIND_NOTIFICATION, kMoscow, "2025-09-10"));
  EXPECT_EQ(EntryDates(treaty),
            (std::map<std::string, std::string>{{kTehran, ""}, {kMoscow, ""}}));
  EXPECT_EQ(Get(treaty).state(), Agreement::STATE_RATIFIED);
  MustRecord(treaty,
             Step(AgreementAction::KIND_NOTIFICATION, kTehran, "2025-10-02"));
  EXPECT_EQ(EntryDates(treaty), (std::map<std::string, std::string>{
                                    {kTehran, "2025-10-02 derived"},
                                    {kMoscow, "2025-10-02 derived"}}));
  const Agreement in_force = Get(treaty);
  EXPECT_EQ(in_force.state(), Agreement::STATE_IN_FORCE);
  EXPECT_EQ(in_force.effective_date(), "2025-10-02");
  EXPECT_EQ(in_force.party_statuses(0).consent_date(), "2025-06-11");

  // N days after the M-th instrument, and for a later party N days after
  // its own; an accession counts as an instrument.
  Agreement convention =
      Draft(Agreement::KIND_TREATY, {kTehran, kMoscow, kAlmaty, kYerevan});
  convention.mutable_entry_into_force_rule()->set_kind(
      EntryIntoForceRule::KIND_AFTER_INSTRUMENTS);
  convention.mutable_entry_into_force_rule()->set_instrument_count(2);
  convention.mutable_entry_into_force_rule()->set_days_after(30);
  MustCreate(convention, "convention");
  const std::string name = "agreements/convention";
  for (const char* party : {kTehran, kMoscow, kAlmaty, kYerevan}) {
    MustRecord(name,
               Step(AgreementAction::KIND_SIGNATURE, party, "2025-01-10"));
  }
  MustRecord(name,
             Step(AgreementAction::KIND_RATIFICATION, kTehran, "2025-02-01"));
  MustRecord(name,
             Step(AgreementAction::KIND_RATIFICATION, kMoscow, "2025-03-01"));
  MustRecord(name,
             Step(AgreementAction::KIND_RATIFICATION, kAlmaty, "2025-05-20"));
  MustRecord(name,
             Step(AgreementAction::KIND_ACCESSION, kAnkara, "2025-12-15"));
  EXPECT_EQ(EntryDates(name), (std::map<std::string, std::string>{
                                  {kTehran, "2025-03-31 derived"},
                                  {kMoscow, "2025-03-31 derived"},
                                  {kAlmaty, "2025-06-19 derived"},
                                  {kYerevan, ""},
                                  {kAnkara, "2026-01-14 derived"}}));

  // A recorded entry into force wins over the derived date.
  MustRecord(name, Step(AgreementAction::KIND_ENTRY_INTO_FORCE, kAlmaty,
                        "2025-06-20"));
  EXPECT_EQ(EntryDates(name)[kAlmaty], "2025-06-20");
}

TEST_F(PartyTimelineTest, RejectionsNameTheirFieldAndWriteNothing) {
  MustCreate(Draft(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING,
                   {kTehran, kMoscow, kAlmaty}),
             "open-network");
  const std::string network = "agreements/open-network";
  const Agreement before = Get(network);
  const int64_t events_before = events_->Count();
  Agreement result;

  // An accession by an institution the institution service does not know.
  ExpectRefused(Record(network,
                       Step(AgreementAction::KIND_ACCESSION,
                            "institutions/nowhere", "2025-09-15"),
                       &result),
                grpc::INVALID_ARGUMENT, "action.party", events_before);
  // A chamber's approval is no accession: its party is not a party.
  AgreementAction chamber =
      Step(AgreementAction::KIND_APPROVAL, kAnkara, "2025-09-15");
  chamber.set_acting_body("institutions/minsk-univ");
  ExpectRefused(Record(network, chamber, &result), grpc::INVALID_ARGUMENT,
                "action.party", events_before);
  // A malformed accession.
  ExpectRefused(
      Record(network,
             Step(AgreementAction::KIND_ACCESSION, kAnkara, "2025-02-30"),
             &result),
      grpc::INVALID_ARGUMENT, "action.action_date", events_before);
  // Only those who may change the agreement as it stands record an
  // accession: the newcomer's own editor may not.
  const grpc::Status newcomer = Record(
      network, Step(AgreementAction::KIND_ACCESSION, kAnkara, "2025-09-15"),
      &result, ankara_editor_);
  EXPECT_EQ(newcomer.error_code(), grpc::PERMISSION_DENIED)
      << newcomer.error_message();
  EXPECT_EQ(events_->Count(), events_before);
  EXPECT_EQ(Get(network).etag(), before.etag());

  // Bad rules on create.
  Agreement fixed = Draft(Agreement::KIND_AGREEMENT, {kTehran, kMoscow});
  fixed.mutable_entry_into_force_rule()->set_kind(
      EntryIntoForceRule::KIND_ON_FIXED_DATE);
  ExpectRefused(Create(fixed, "no-date", &result), grpc::INVALID_ARGUMENT,
                "agreement.entry_into_force_rule.fixed_date", events_before);
  Agreement after = Draft(Agreement::KIND_TREATY, {kTehran, kMoscow});
  after.mutable_entry_into_force_rule()->set_kind(
      EntryIntoForceRule::KIND_AFTER_INSTRUMENTS);
  after.mutable_entry_into_force_rule()->set_instrument_count(2);
  after.mutable_entry_into_force_rule()->set_days_after(-5);
  ExpectRefused(Create(after, "negative-days", &result), grpc::INVALID_ARGUMENT,
                "agreement.entry_into_force_rule.days_after", events_before);

  // Bad questions.
  v1::QueryPartyStatusRequest bad_date;
  bad_date.set_agreement(network);
  bad_date.set_date("2025-13-01");
  v1::QueryPartyStatusResponse standings;
  ExpectRefused(
      stub_->QueryPartyStatus(Context(viewer_).get(), bad_date, &standings),
      grpc::INVALID_ARGUMENT, "date", events_before);
  v1::QueryPartyStatusRequest bad_name;
  bad_name.set_agreement("treaties/x");
  ExpectRefused(
      stub_->QueryPartyStatus(Context(viewer_).get(), bad_name, &standings),
      grpc::INVALID_ARGUMENT, "agreement", events_before);
  v1::QueryPartyStatusRequest missing;
  missing.set_agreement("agreements/missing");
  EXPECT_EQ(stub_->QueryPartyStatus(Context(viewer_).get(), missing, &standings)
                .error_code(),
            grpc::NOT_FOUND);
}

TEST_F(PartyTimelineTest, ARestrictedAgreementsPartiesAreHiddenFromOutsiders) {
  Agreement draft = Draft(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING,
                          {kTehran, kMoscow, kAlmaty});
  draft.set_restricted(true);
  MustCreate(draft, "restricted");
  v1::QueryPartyStatusRequest request;
  request.set_agreement("agreements/restricted");
  request.set_date("2025-01-01");
  v1::QueryPartyStatusResponse response;
  EXPECT_EQ(stub_->QueryPartyStatus(Context(viewer_).get(), request, &response)
                .error_code(),
            grpc::NOT_FOUND);
  const grpc::Status party = stub_->QueryPartyStatus(
      Context(tehran_editor_).get(), request, &response);
  EXPECT_TRUE(party.ok()) << party.error_message();
  EXPECT_EQ(response.party_standings_size(), 3);
}

}  // namespace
}  // namespace accord::agreement
