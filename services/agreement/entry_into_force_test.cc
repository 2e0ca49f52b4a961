// The scheduled `accord.agreement.v1.entered_into_force` event, against the
// real accord-institution and accord-agreement binaries and a real
// redis-server, authentication on: each party's entry into force, derived
// from the agreement's rule, is announced once on its day — not before,
// also when the day passed while the service was down, and once with two
// replicas scanning.
//
// Loosened, and why: the agreement services run with
// `--testing_clock_file`, so the test can move the date forward, and scan
// every 200 ms instead of every 10 minutes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
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
using v1::Agreement;
using v1::AgreementAction;

constexpr char kType[] = "accord.agreement.v1.entered_into_force";

class EntryIntoForceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("entry-into-force");
    TestCredentials credentials;
    admin_ = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    const std::string service_token =
        credentials.Add("agreement-service", auth::v1::ROLE_VIEWER);
    credentials_flag_ = credentials.Write(dir_);
    std::ofstream(dir_ + "/token") << service_token;
    SetToday("2025-01-10");
    redis_ = std::make_unique<RedisServer>();
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{credentials_flag_});
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    agreement_ = StartAgreement();
    agreements_ = v1::AgreementService::NewStub(agreement_->Channel());
    events_ = std::make_unique<EventLog>(redis_->url());
    for (const auto& [id, country] :
         std::vector<std::pair<std::string, std::string>>{
             {"a", "IR"}, {"b", "RU"}, {"c", "KZ"}}) {
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
          institutions_->CreateInstitution(As().get(), request, &created).ok());
    }
  }

  std::unique_ptr<ServiceProcess> StartAgreement() {
    return std::make_unique<ServiceProcess>(
        "accord-agreement", redis_->url(),
        std::vector<std::string>{
            credentials_flag_,
            absl::StrCat("--institution_target=", institution_->address()),
            absl::StrCat("--institution_token_file=", dir_, "/token"),
            absl::StrCat("--testing_clock_file=", dir_, "/today"),
            "--entry_into_force_scan_interval=200ms"});
  }

  void SetToday(const std::string& date) {
    std::ofstream(dir_ + "/today") << date << "\n";
  }

  std::unique_ptr<grpc::ClientContext> As() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", absl::StrCat("Bearer ", admin_));
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(10));
    return context;
  }

  static AgreementAction Action(const std::string& party,
                                AgreementAction::Kind kind,
                                const std::string& date) {
    AgreementAction action;
    action.set_party(party);
    action.set_kind(kind);
    action.set_action_date(date);
    return action;
  }

  std::string Create(const std::string& id, Agreement agreement) {
    v1::CreateAgreementRequest request;
    request.set_agreement_id(id);
    agreement.add_titles()->set_text(absl::StrCat("Agreement ", id));
    *request.mutable_agreement() = std::move(agreement);
    Agreement created;
    const grpc::Status status =
        agreements_->CreateAgreement(As().get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.name();
  }

  void Record(const std::string& agreement, const AgreementAction& action) {
    v1::RecordAgreementActionRequest request;
    request.set_agreement(agreement);
    *request.mutable_action() = action;
    Agreement updated;
    const grpc::Status status =
        agreements_->RecordAgreementAction(As().get(), request, &updated);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }

  // (agreement, party) -> dates announced, from the stream.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>>
  Announced() {
    std::map<std::pair<std::string, std::string>, std::vector<std::string>>
        announced;
    for (const events::v1::Event& event : events_->All()) {
      if (event.type() != kType) continue;
      v1::PartyEnteredIntoForce payload;
      EXPECT_TRUE(event.payload().UnpackTo(&payload));
      EXPECT_EQ(event.subject(), payload.agreement());
      announced[{payload.agreement(), payload.party()}].push_back(
          payload.entry_into_force_date());
    }
    return announced;
  }

  size_t CountAnnounced() {
    size_t count = 0;
    for (const auto& [key, dates] : Announced()) count += dates.size();
    return count;
  }

  // Waits until `count` announcements are in the stream, then a little
  // longer to see that no more come.
  size_t WaitForAnnounced(size_t count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (CountAnnounced() < count && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    absl::SleepFor(absl::Milliseconds(800));  // four more scans
    return CountAnnounced();
  }

  std::string dir_;
  std::string admin_;
  std::string credentials_flag_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<v1::AgreementService::Stub> agreements_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(EntryIntoForceTest, AnnouncedOnceOnItsDayAcrossRestartsAndReplicas) {
  // An MOU: in force on signature by all, the day of the last signature.
  Agreement mou;
  mou.set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
  mou.add_parties("institutions/a");
  mou.add_parties("institutions/b");
  const std::string mou_name = Create("mou", mou);
  Record(mou_name, Action("institutions/a", AgreementAction::KIND_SIGNATURE,
                          "2025-01-15"));
  Record(mou_name, Action("institutions/b", AgreementAction::KIND_SIGNATURE,
                          "2025-01-20"));
  // A treaty: 30 days after the second instrument, and for a later party
  // 30 days after its own.
  Agreement treaty;
  treaty.set_kind(Agreement::KIND_TREATY);
  for (const char* party :
       {"institutions/a", "institutions/b", "institutions/c"}) {
    treaty.add_parties(party);
  }
  treaty.mutable_entry_into_force_rule()->set_kind(
      v1::EntryIntoForceRule::KIND_AFTER_INSTRUMENTS);
  treaty.mutable_entry_into_force_rule()->set_days_after(30);
  treaty.mutable_entry_into_force_rule()->set_instrument_count(2);
  const std::string treaty_name = Create("treaty", treaty);
  for (const char* party :
       {"institutions/a", "institutions/b", "institutions/c"}) {
    Record(treaty_name,
           Action(party, AgreementAction::KIND_SIGNATURE, "2024-12-01"));
  }
  Record(treaty_name, Action("institutions/a",
                             AgreementAction::KIND_RATIFICATION, "2025-01-01"));
  Record(treaty_name, Action("institutions/b",
                             AgreementAction::KIND_RATIFICATION, "2025-01-05"));
  Record(treaty_name, Action("institutions/c",
                             AgreementAction::KIND_RATIFICATION, "2025-03-01"));

  // 2025-01-10: nothing has entered into force yet.
  EXPECT_EQ(WaitForAnnounced(0), 0u);

  // 2025-01-20: the MOU, for both parties, once.
  SetToday("2025-01-20");
  EXPECT_EQ(WaitForAnnounced(2), 2u);
  using Key = std::pair<std::string, std::string>;
  auto announced = Announced();
  EXPECT_THAT(announced[Key(mou_name, "institutions/a")],
              ::testing::ElementsAre("2025-01-20"));
  EXPECT_THAT(announced[Key(mou_name, "institutions/b")],
              ::testing::ElementsAre("2025-01-20"));

  // The treaty's day (2025-02-04) passes while the service is down.
  ASSERT_EQ(agreement_->Stop(), 0);
  SetToday("2025-02-10");
  agreement_->Start();
  EXPECT_EQ(WaitForAnnounced(4), 4u);
  announced = Announced();
  EXPECT_THAT(announced[Key(treaty_name, "institutions/a")],
              ::testing::ElementsAre("2025-02-04"));
  EXPECT_THAT(announced[Key(treaty_name, "institutions/b")],
              ::testing::ElementsAre("2025-02-04"));

  // Two replicas scanning: the later party's day (30 days after its own
  // instrument) is still announced once.
  std::unique_ptr<ServiceProcess> second = StartAgreement();
  SetToday("2025-04-01");
  EXPECT_EQ(WaitForAnnounced(5), 5u);
  announced = Announced();
  EXPECT_THAT(announced[Key(treaty_name, "institutions/c")],
              ::testing::ElementsAre("2025-03-31"));
  for (const auto& [key, dates] : announced) {
    EXPECT_EQ(dates.size(), 1u) << key.first << " " << key.second;
  }

  // The event names every party and its country.
  for (const events::v1::Event& event : events_->All()) {
    if (event.type() != kType || event.subject() != treaty_name) continue;
    EXPECT_THAT(event.institutions(),
                ::testing::UnorderedElementsAre(
                    "institutions/a", "institutions/b", "institutions/c"));
    EXPECT_THAT(event.country_codes(),
                ::testing::UnorderedElementsAre("IR", "RU", "KZ"));
  }
}

}  // namespace
}  // namespace accord::agreement
