// Revisions and "as the registry knew it" (issue 14, AIP-162), against the
// real services with authentication on: redis-server, accord-institution
// and accord-agreement on free loopback ports. Every accepted change of
// each of the six resources keeps an immutable revision, listed newest
// first and read back by `name@revision_id`; GetAgreement and
// QueryAgreementsInForce answer as of a `read_time` before and after a
// correction; deleted records keep their revisions; restricted agreements
// leak nothing through revisions; records written before revisions were
// kept get their first one when the service starts.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/errors.h"
#include "common/record_store.h"
#include "google/protobuf/util/time_util.h"
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
using ::google::protobuf::util::TimeUtil;
using v1::Agreement;
using v1::AgreementAction;

constexpr char kTehran[] = "institutions/tehran-univ";  // IR
constexpr char kAlmaty[] = "institutions/almaty-univ";  // KZ
constexpr char kAnkara[] = "institutions/ankara-univ";  // TR

google::protobuf::Timestamp ToProto(absl::Time time) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

std::string FieldOf(const grpc::Status& status) {
  const auto violations = FieldViolationsOf(FromGrpcStatus(status));
  return violations.empty() ? "" : violations.front().field;
}

class RevisionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("revisions");
    TestCredentials credentials;
    admin_ = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    tehran_editor_ =
        credentials.Add("tehran-editor", auth::v1::ROLE_EDITOR, kTehran);
    ankara_editor_ =
        credentials.Add("ankara-editor", auth::v1::ROLE_EDITOR, kAnkara);
    viewer_ = credentials.Add("analyst", auth::v1::ROLE_VIEWER);
    const std::string service_token =
        credentials.Add("agreement-service", auth::v1::ROLE_VIEWER);
    credentials_flag_ = credentials.Write(dir_);
    std::ofstream(dir_ + "/agreement-token") << service_token;

    redis_ = std::make_unique<RedisServer>();
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{credentials_flag_});
    StartAgreementService();
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    events_ = std::make_unique<EventLog>(redis_->url());
    for (const auto& [name, country] :
         std::vector<std::pair<std::string, std::string>>{
             {kTehran, "IR"}, {kAlmaty, "KZ"}, {kAnkara, "TR"}}) {
      CreateInstitution(name, country);
    }
  }

  void StartAgreementService() {
    agreement_ = std::make_unique<ServiceProcess>(
        "accord-agreement", redis_->url(),
        std::vector<std::string>{
            credentials_flag_,
            absl::StrCat("--institution_target=", institution_->address()),
            absl::StrCat("--institution_token_file=", dir_,
                         "/agreement-token")});
    stub_ = v1::AgreementService::NewStub(agreement_->Channel());
  }

  static std::unique_ptr<grpc::ClientContext> Context(
      const std::string& token) {
    return ::accord::testing::AuthorizedContext(token);
  }

  institution::v1::Institution CreateInstitution(const std::string& name,
                                                 const std::string& country) {
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
    EXPECT_TRUE(status.ok()) << name << ": " << status.error_message();
    return created;
  }

  // A memorandum between Tehran and Almaty, signed by both on 2024-01-10
  // (in force on signature, the default for an MOU).
  Agreement CreateMemorandum(const std::string& id, bool restricted = false) {
    v1::CreateAgreementRequest request;
    request.set_agreement_id(id);
    Agreement& agreement = *request.mutable_agreement();
    agreement.add_titles()->set_text("Memorandum on research cooperation");
    agreement.set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
    agreement.add_parties(kTehran);
    agreement.add_parties(kAlmaty);
    agreement.set_restricted(restricted);
    for (const char* party : {kTehran, kAlmaty}) {
      AgreementAction& signature = *agreement.add_actions();
      signature.set_kind(AgreementAction::KIND_SIGNATURE);
      signature.set_party(party);
      signature.set_action_date("2024-01-10");
    }
    Agreement created;
    const grpc::Status status = stub_->CreateAgreement(
        Context(tehran_editor_).get(), request, &created);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    return created;
  }

  Agreement Update(const Agreement& patch, const std::string& path) {
    v1::UpdateAgreementRequest request;
    *request.mutable_agreement() = patch;
    request.mutable_update_mask()->add_paths(path);
    Agreement updated;
    const grpc::Status status = stub_->UpdateAgreement(
        Context(tehran_editor_).get(), request, &updated);
    EXPECT_TRUE(status.ok()) << path << ": " << status.error_message();
    return updated;
  }

  grpc::Status ListRevisions(const std::string& name, const std::string& token,
                             v1::ListAgreementRevisionsResponse* response,
                             int page_size = 0,
                             const std::string& page_token = "") {
    v1::ListAgreementRevisionsRequest request;
    request.set_name(name);
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return stub_->ListAgreementRevisions(Context(token).get(), request,
                                         response);
  }

  // Every revision of `name` the caller with `token` may see, newest
  // first, read page by page.
  std::vector<Agreement> AllRevisions(const std::string& name,
                                      const std::string& token,
                                      int page_size = 0) {
    std::vector<Agreement> all;
    std::string page_token;
    do {
      v1::ListAgreementRevisionsResponse response;
      const grpc::Status status =
          ListRevisions(name, token, &response, page_size, page_token);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      if (page_size > 0) {
        EXPECT_LE(response.agreements_size(), page_size);
      }
      for (const Agreement& revision : response.agreements()) {
        all.push_back(revision);
      }
      page_token = response.next_page_token();
    } while (!page_token.empty());
    return all;
  }

  grpc::Status Get(const std::string& name, const std::string& token,
                   Agreement* agreement,
                   std::optional<absl::Time> read_time = std::nullopt) {
    v1::GetAgreementRequest request;
    request.set_name(name);
    if (read_time.has_value()) {
      *request.mutable_read_time() = ToProto(*read_time);
    }
    return stub_->GetAgreement(Context(token).get(), request, agreement);
  }

  // The names QueryAgreementsInForce answers for Tehran and Almaty.
  std::vector<std::string> InForce(
      const std::string& date, const std::string& token,
      std::optional<absl::Time> read_time = std::nullopt,
      bool by_country = false) {
    v1::QueryAgreementsInForceRequest request;
    if (by_country) {
      request.add_country_codes("IR");
      request.add_country_codes("KZ");
    } else {
      request.add_institutions(kTehran);
      request.add_institutions(kAlmaty);
    }
    request.set_date(date);
    if (read_time.has_value()) {
      *request.mutable_read_time() = ToProto(*read_time);
    }
    v1::QueryAgreementsInForceResponse response;
    const grpc::Status status =
        stub_->QueryAgreementsInForce(Context(token).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const Agreement& agreement : response.agreements()) {
      names.push_back(agreement.name());
    }
    return names;
  }

  // A moment strictly between two writes: after the one just made, before
  // the next.
  static absl::Time Between() {
    absl::SleepFor(absl::Milliseconds(5));
    const absl::Time now = absl::Now();
    absl::SleepFor(absl::Milliseconds(5));
    return now;
  }

  std::string dir_;
  std::string credentials_flag_;
  std::string admin_, tehran_editor_, ankara_editor_, viewer_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<v1::AgreementService::Stub> stub_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(RevisionsTest, EveryChangeKeepsARevisionListedNewestFirst) {
  const Agreement created = CreateMemorandum("research-mou");
  EXPECT_FALSE(created.revision_id().empty());
  EXPECT_EQ(created.revision_principal(), "tehran-editor");
  EXPECT_EQ(created.revision_create_time(), created.update_time());

  Agreement patch;
  patch.set_name(created.name());
  patch.add_titles()->set_text("Memorandum on scientific cooperation");
  const Agreement retitled = Update(patch, "titles");

  v1::RecordAgreementActionRequest action;
  action.set_agreement(created.name());
  action.mutable_action()->set_kind(AgreementAction::KIND_WITHDRAWAL);
  action.mutable_action()->set_party(kAlmaty);
  action.mutable_action()->set_action_date("2025-03-01");
  action.mutable_action()->set_effective_date("2025-06-01");
  Agreement withdrawn;
  ASSERT_TRUE(
      stub_->RecordAgreementAction(Context(admin_).get(), action, &withdrawn)
          .ok());
  v1::DeleteAgreementRequest remove;
  remove.set_name(created.name());
  Agreement deleted;
  ASSERT_TRUE(
      stub_->DeleteAgreement(Context(admin_).get(), remove, &deleted).ok());
  v1::UndeleteAgreementRequest restore;
  restore.set_name(created.name());
  Agreement undeleted;
  ASSERT_TRUE(
      stub_->UndeleteAgreement(Context(admin_).get(), restore, &undeleted)
          .ok());

  // Five changes, five revisions, newest first; the same by pages of two.
  const std::vector<Agreement> revisions =
      AllRevisions(created.name(), viewer_);
  ASSERT_EQ(revisions.size(), 5u);
  const std::vector<Agreement> expected = {undeleted, deleted, withdrawn,
                                           retitled, created};
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(revisions[i].revision_id(), expected[i].revision_id());
    EXPECT_EQ(revisions[i].etag(), expected[i].etag());
    EXPECT_EQ(revisions[i].SerializeAsString(),
              expected[i].SerializeAsString());
    if (i + 1 < expected.size()) {
      EXPECT_GT(revisions[i].revision_create_time(),
                revisions[i + 1].revision_create_time());
      EXPECT_NE(revisions[i].revision_id(), revisions[i + 1].revision_id());
    }
  }
  EXPECT_EQ(revisions[0].revision_principal(), "admin");
  EXPECT_EQ(revisions[3].revision_principal(), "tehran-editor");
  EXPECT_TRUE(revisions[1].has_delete_time());
  EXPECT_FALSE(revisions[0].has_delete_time());
  const std::vector<Agreement> paged =
      AllRevisions(created.name(), viewer_, /*page_size=*/2);
  ASSERT_EQ(paged.size(), 5u);
  for (size_t i = 0; i < paged.size(); ++i) {
    EXPECT_EQ(paged[i].revision_id(), revisions[i].revision_id());
  }

  // Each revision reads back by name@revision_id, as it was.
  Agreement first;
  ASSERT_TRUE(Get(absl::StrCat(created.name(), "@", created.revision_id()),
                  viewer_, &first)
                  .ok());
  EXPECT_EQ(first.titles(0).text(), "Memorandum on research cooperation");
  EXPECT_EQ(first.actions_size(), 2);
  Agreement current;
  ASSERT_TRUE(Get(created.name(), viewer_, &current).ok());
  EXPECT_EQ(current.revision_id(), undeleted.revision_id());
  EXPECT_EQ(current.titles(0).text(), "Memorandum on scientific cooperation");
  EXPECT_EQ(current.actions_size(), 3);
}

TEST_F(RevisionsTest, AsOfAnswersBeforeAndAfterACorrection) {
  const absl::Time before_recorded = Between();
  const Agreement created = CreateMemorandum("corrected-mou");
  const absl::Time as_first_recorded = Between();

  // The registry learns the memorandum had a fixed term ending 2024-06-30:
  // from then on it is no longer in force on 2024-09-01.
  Agreement patch;
  patch.set_name(created.name());
  patch.set_expiry_date("2024-06-30");
  const Agreement corrected = Update(patch, "expiry_date");
  const absl::Time after_correction = Between();

  using ::testing::ElementsAre;
  using ::testing::IsEmpty;
  const std::string name = created.name();
  EXPECT_THAT(InForce("2024-09-01", viewer_), IsEmpty());
  EXPECT_THAT(InForce("2024-09-01", viewer_, as_first_recorded),
              ElementsAre(name));
  EXPECT_THAT(InForce("2024-09-01", viewer_, as_first_recorded, true),
              ElementsAre(name));
  EXPECT_THAT(InForce("2024-09-01", viewer_, after_correction), IsEmpty());
  EXPECT_THAT(InForce("2024-09-01", viewer_, before_recorded), IsEmpty());
  // The valid date still matters at any record time.
  EXPECT_THAT(InForce("2024-01-09", viewer_, as_first_recorded), IsEmpty());
  EXPECT_THAT(InForce("2024-01-10", viewer_, as_first_recorded),
              ElementsAre(name));
  EXPECT_THAT(InForce("2024-06-29", viewer_, after_correction),
              ElementsAre(name));
  EXPECT_THAT(InForce("2024-06-30", viewer_, after_correction), IsEmpty());

  Agreement then;
  ASSERT_TRUE(Get(name, viewer_, &then, as_first_recorded).ok());
  EXPECT_EQ(then.revision_id(), created.revision_id());
  EXPECT_EQ(then.expiry_date(), "");
  Agreement now;
  ASSERT_TRUE(Get(name, viewer_, &now, after_correction).ok());
  EXPECT_EQ(now.revision_id(), corrected.revision_id());
  EXPECT_EQ(now.expiry_date(), "2024-06-30");
  Agreement unknown;
  const grpc::Status not_yet = Get(name, viewer_, &unknown, before_recorded);
  EXPECT_EQ(not_yet.error_code(), grpc::StatusCode::NOT_FOUND)
      << not_yet.error_message();
}

TEST_F(RevisionsTest, DeletedRecordsKeepTheirRevisions) {
  const Agreement created = CreateMemorandum("deleted-mou");
  const absl::Time while_live = Between();
  v1::DeleteAgreementRequest remove;
  remove.set_name(created.name());
  Agreement deleted;
  ASSERT_TRUE(
      stub_->DeleteAgreement(Context(admin_).get(), remove, &deleted).ok());
  const absl::Time after_deletion = Between();

  const std::vector<Agreement> revisions =
      AllRevisions(created.name(), viewer_);
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_TRUE(revisions[0].has_delete_time());
  EXPECT_THAT(InForce("2024-09-01", viewer_, while_live),
              ::testing::ElementsAre(created.name()));
  EXPECT_THAT(InForce("2024-09-01", viewer_, after_deletion),
              ::testing::IsEmpty());
  Agreement then;
  ASSERT_TRUE(Get(created.name(), viewer_, &then, after_deletion).ok());
  EXPECT_TRUE(then.has_delete_time());
  ASSERT_TRUE(Get(created.name(), viewer_, &then, while_live).ok());
  EXPECT_FALSE(then.has_delete_time());
}

TEST_F(RevisionsTest, RestrictedAgreementsLeakNothingThroughRevisions) {
  const Agreement created = CreateMemorandum("restricted-mou", true);
  const absl::Time first_recorded = Between();
  Agreement patch;
  patch.set_name(created.name());
  patch.add_keywords("stem cells");
  const Agreement updated = Update(patch, "keywords");
  EXPECT_TRUE(updated.restricted());

  // Outsiders (a viewer, another institution's editor) learn nothing: no
  // list, no revision, no as-of read, no as-of query answer, all NOT_FOUND
  // as for a name that never existed.
  for (const std::string& outsider : {viewer_, ankara_editor_}) {
    SCOPED_TRACE(outsider == viewer_ ? "viewer" : "ankara editor");
    v1::ListAgreementRevisionsResponse listed;
    EXPECT_EQ(ListRevisions(created.name(), outsider, &listed).error_code(),
              grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(listed.agreements_size(), 0);
    Agreement read;
    for (const Agreement& revision : {created, updated}) {
      EXPECT_EQ(Get(absl::StrCat(created.name(), "@", revision.revision_id()),
                    outsider, &read)
                    .error_code(),
                grpc::StatusCode::NOT_FOUND);
    }
    EXPECT_EQ(Get(created.name(), outsider, &read, first_recorded).error_code(),
              grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(read.name(), "");
    EXPECT_THAT(InForce("2024-09-01", outsider, first_recorded),
                ::testing::IsEmpty());
    EXPECT_THAT(InForce("2024-09-01", outsider, first_recorded, true),
                ::testing::IsEmpty());
  }
  // A party's editor sees every revision, each still restricted.
  const std::vector<Agreement> seen =
      AllRevisions(created.name(), tehran_editor_);
  ASSERT_EQ(seen.size(), 2u);
  for (const Agreement& revision : seen) EXPECT_TRUE(revision.restricted());
  EXPECT_THAT(InForce("2024-09-01", tehran_editor_, first_recorded),
              ::testing::ElementsAre(created.name()));
  Agreement read;
  ASSERT_TRUE(Get(absl::StrCat(created.name(), "@", created.revision_id()),
                  tehran_editor_, &read)
                  .ok());
  EXPECT_TRUE(read.restricted());
  EXPECT_EQ(read.keywords_size(), 0);

  // The events of both changes keep the rule too.
  for (const auto& event : events_->All()) {
    if (event.subject() == created.name()) {
      EXPECT_THAT(event.restricted_to(), ::testing::Contains(kTehran));
      EXPECT_THAT(event.restricted_to(), ::testing::Contains(kAlmaty));
    }
  }
}

TEST_F(RevisionsTest, BadRevisionRequestsNameTheirFieldAndWriteNothing) {
  const Agreement created = CreateMemorandum("checked-mou");
  Agreement read;
  grpc::Status status =
      Get(absl::StrCat(created.name(), "@Not-An-Id"), viewer_, &read);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "name");
  status = Get(absl::StrCat(created.name(), "@"), viewer_, &read);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  status = Get(absl::StrCat(created.name(), "@zzzzzzzz"), viewer_, &read);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  status = Get(absl::StrCat(created.name(), "@", created.revision_id()),
               viewer_, &read, absl::Now());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "read_time");

  v1::GetAgreementRequest bad_time;
  bad_time.set_name(created.name());
  bad_time.mutable_read_time()->set_seconds(-5);
  status = stub_->GetAgreement(Context(viewer_).get(), bad_time, &read);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "read_time");

  v1::ListAgreementRevisionsResponse listed;
  status =
      ListRevisions(absl::StrCat(created.name(), "@", created.revision_id()),
                    viewer_, &listed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "name");
  status = ListRevisions(created.name(), viewer_, &listed, 0, "forged");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "page_token");
  status = ListRevisions("agreements/none-such", viewer_, &listed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  // A token for one agreement does not page another.
  ASSERT_TRUE(ListRevisions(created.name(), viewer_, &listed).ok());
  Agreement patch;
  patch.set_name(created.name());
  patch.set_expiry_date("2030-01-01");
  Update(patch, "expiry_date");
  ASSERT_TRUE(ListRevisions(created.name(), viewer_, &listed, 1).ok());
  ASSERT_FALSE(listed.next_page_token().empty());
  const Agreement other = CreateMemorandum("other-mou");
  status = ListRevisions(other.name(), viewer_, &listed, 1,
                         listed.next_page_token());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // None of the refusals wrote anything.
  EXPECT_EQ(AllRevisions(created.name(), viewer_).size(), 2u);
}

TEST_F(RevisionsTest, EverySixResourceKindKeepsRevisions) {
  // Institution and official, in the institution service.
  institution::v1::Institution ankara;
  {
    institution::v1::GetInstitutionRequest request;
    request.set_name(kAnkara);
    ASSERT_TRUE(
        institutions_->GetInstitution(Context(viewer_).get(), request, &ankara)
            .ok());
    institution::v1::UpdateInstitutionRequest update;
    update.mutable_institution()->set_name(kAnkara);
    update.mutable_institution()->set_website_uri("https://ankara.edu.tr");
    update.mutable_update_mask()->add_paths("website_uri");
    institution::v1::Institution updated;
    ASSERT_TRUE(institutions_
                    ->UpdateInstitution(Context(admin_).get(), update, &updated)
                    .ok());
    institution::v1::ListInstitutionRevisionsRequest list;
    list.set_name(kAnkara);
    institution::v1::ListInstitutionRevisionsResponse listed;
    ASSERT_TRUE(
        institutions_
            ->ListInstitutionRevisions(Context(viewer_).get(), list, &listed)
            .ok());
    ASSERT_EQ(listed.institutions_size(), 2);
    EXPECT_EQ(listed.institutions(0).website_uri(), "https://ankara.edu.tr");
    EXPECT_EQ(listed.institutions(1).revision_id(), ankara.revision_id());
    institution::v1::Institution old;
    request.set_name(absl::StrCat(kAnkara, "@", ankara.revision_id()));
    ASSERT_TRUE(
        institutions_->GetInstitution(Context(viewer_).get(), request, &old)
            .ok());
    EXPECT_EQ(old.website_uri(), "");
  }
  std::string official_name;
  {
    institution::v1::CreateOfficialRequest create;
    create.set_official_id("rector");
    auto* name = create.mutable_official()->add_names();
    name->set_text("Ali Rector");
    name->set_type(institution::v1::PersonName::TYPE_DISPLAY);
    auto* position = create.mutable_official()->add_positions();
    position->set_institution(kAnkara);
    position->set_title("Rector");
    institution::v1::Official official;
    grpc::Status status =
        institutions_->CreateOfficial(Context(admin_).get(), create, &official);
    ASSERT_TRUE(status.ok()) << status.error_message();
    official_name = official.name();
    institution::v1::DeleteOfficialRequest remove;
    remove.set_name(official.name());
    institution::v1::Official deleted;
    ASSERT_TRUE(
        institutions_->DeleteOfficial(Context(admin_).get(), remove, &deleted)
            .ok());
    institution::v1::ListOfficialRevisionsRequest list;
    list.set_name(official.name());
    institution::v1::ListOfficialRevisionsResponse listed;
    ASSERT_TRUE(
        institutions_
            ->ListOfficialRevisions(Context(viewer_).get(), list, &listed)
            .ok());
    ASSERT_EQ(listed.officials_size(), 2);
    EXPECT_TRUE(listed.officials(0).has_delete_time());
    institution::v1::GetOfficialRequest get;
    get.set_name(absl::StrCat(official.name(), "@", official.revision_id()));
    institution::v1::Official old;
    ASSERT_TRUE(
        institutions_->GetOfficial(Context(viewer_).get(), get, &old).ok());
    EXPECT_FALSE(old.has_delete_time());
  }

  // Committee, session and milestone, in the agreement service.
  const Agreement mou = CreateMemorandum("committee-mou");
  v1::CreateCommitteeRequest committee_request;
  committee_request.set_committee_id("joint-research");
  v1::Committee& committee = *committee_request.mutable_committee();
  committee.add_names()->set_text("Joint research committee");
  committee.set_kind(v1::Committee::KIND_JOINT_ECONOMIC_COMMITTEE);
  committee.add_member_institutions(kTehran);
  committee.add_member_institutions(kAlmaty);
  v1::Committee created_committee;
  grpc::Status status = stub_->CreateCommittee(
      Context(tehran_editor_).get(), committee_request, &created_committee);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::UpdateCommitteeRequest committee_update;
  committee_update.mutable_committee()->set_name(created_committee.name());
  committee_update.mutable_committee()->add_names()->set_text(
      "Joint research and innovation committee");
  committee_update.mutable_update_mask()->add_paths("names");
  v1::Committee renamed;
  ASSERT_TRUE(stub_
                  ->UpdateCommittee(Context(tehran_editor_).get(),
                                    committee_update, &renamed)
                  .ok());
  v1::ListCommitteeRevisionsRequest committee_list;
  committee_list.set_name(created_committee.name());
  v1::ListCommitteeRevisionsResponse committee_revisions;
  ASSERT_TRUE(stub_
                  ->ListCommitteeRevisions(Context(viewer_).get(),
                                           committee_list, &committee_revisions)
                  .ok());
  ASSERT_EQ(committee_revisions.committees_size(), 2);
  EXPECT_EQ(committee_revisions.committees(1).names(0).text(),
            "Joint research committee");
  v1::GetCommitteeRequest committee_get;
  committee_get.set_name(
      absl::StrCat(created_committee.name(), "@", renamed.revision_id()));
  v1::Committee read_committee;
  ASSERT_TRUE(
      stub_
          ->GetCommittee(Context(viewer_).get(), committee_get, &read_committee)
          .ok());
  EXPECT_EQ(read_committee.names(0).text(),
            "Joint research and innovation committee");

  v1::CreateSessionRequest session_request;
  session_request.set_parent(created_committee.name());
  session_request.set_session_id("first");
  session_request.mutable_session()->set_number(1);
  session_request.mutable_session()->set_start_date("2025-05-20");
  session_request.mutable_session()->mutable_place()->set_country_code("KZ");
  v1::Session session;
  status = stub_->CreateSession(Context(tehran_editor_).get(), session_request,
                                &session);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::UpdateSessionRequest session_update;
  session_update.mutable_session()->set_name(session.name());
  session_update.mutable_session()->set_start_date("2025-05-21");
  session_update.mutable_update_mask()->add_paths("start_date");
  v1::Session moved;
  status = stub_->UpdateSession(Context(tehran_editor_).get(), session_update,
                                &moved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::ListSessionRevisionsRequest session_list;
  session_list.set_name(session.name());
  v1::ListSessionRevisionsResponse session_revisions;
  ASSERT_TRUE(stub_
                  ->ListSessionRevisions(Context(viewer_).get(), session_list,
                                         &session_revisions)
                  .ok());
  ASSERT_EQ(session_revisions.sessions_size(), 2);
  EXPECT_EQ(session_revisions.sessions(1).start_date(), "2025-05-20");
  v1::GetSessionRequest session_get;
  session_get.set_name(
      absl::StrCat(session.name(), "@", session.revision_id()));
  v1::Session read_session;
  ASSERT_TRUE(
      stub_->GetSession(Context(viewer_).get(), session_get, &read_session)
          .ok());
  EXPECT_EQ(read_session.start_date(), "2025-05-20");

  v1::CreateMilestoneRequest milestone_request;
  milestone_request.set_parent(mou.name());
  milestone_request.set_milestone_id("joint-lab");
  milestone_request.mutable_milestone()->add_titles()->set_text(
      "Open a joint laboratory");
  milestone_request.mutable_milestone()->add_owners(kTehran);
  milestone_request.mutable_milestone()->set_record_date("2025-05-21");
  milestone_request.mutable_milestone()->set_due_date("2026-01-31");
  v1::Milestone milestone;
  status = stub_->CreateMilestone(Context(tehran_editor_).get(),
                                  milestone_request, &milestone);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::UpdateMilestoneRequest milestone_update;
  milestone_update.mutable_milestone()->set_name(milestone.name());
  milestone_update.mutable_milestone()->set_due_date("2026-03-31");
  milestone_update.mutable_update_mask()->add_paths("due_date");
  v1::Milestone postponed;
  status = stub_->UpdateMilestone(Context(tehran_editor_).get(),
                                  milestone_update, &postponed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  v1::ListMilestoneRevisionsRequest milestone_list;
  milestone_list.set_name(milestone.name());
  v1::ListMilestoneRevisionsResponse milestone_revisions;
  ASSERT_TRUE(stub_
                  ->ListMilestoneRevisions(Context(viewer_).get(),
                                           milestone_list, &milestone_revisions)
                  .ok());
  ASSERT_EQ(milestone_revisions.milestones_size(), 2);
  EXPECT_EQ(milestone_revisions.milestones(0).due_date(), "2026-03-31");
  EXPECT_EQ(milestone_revisions.milestones(1).due_date(), "2026-01-31");
  v1::GetMilestoneRequest milestone_get;
  milestone_get.set_name(
      absl::StrCat(milestone.name(), "@", milestone.revision_id()));
  v1::Milestone read_milestone;
  ASSERT_TRUE(
      stub_
          ->GetMilestone(Context(viewer_).get(), milestone_get, &read_milestone)
          .ok());
  EXPECT_EQ(read_milestone.due_date(), "2026-01-31");
  (void)official_name;
}

TEST_F(RevisionsTest, RecordsFromBeforeRevisionsGetTheirFirstOnStart) {
  // An agreement as an earlier version stored it: no revision, no
  // per-party dates.
  const Agreement created = CreateMemorandum("legacy-mou");
  Agreement legacy = created;
  legacy.clear_revision_id();
  legacy.clear_revision_create_time();
  legacy.clear_revision_principal();
  legacy.clear_party_statuses();
  agreement_->Stop();
  RedisClient& redis = events_->redis();
  ASSERT_TRUE(redis
                  .Command({"DEL", RevisionDataKey(created.name()),
                            RevisionIndexKey(created.name())})
                  .ok());
  ASSERT_TRUE(redis
                  .Command({"HSET", RecordKey(created.name()), "data",
                            legacy.SerializeAsString()})
                  .ok());
  StartAgreementService();

  // The service upgrades it in the background, soon after it starts.
  std::vector<Agreement> revisions;
  for (int attempt = 0; attempt < 100 && revisions.empty(); ++attempt) {
    revisions = AllRevisions(created.name(), viewer_);
    if (revisions.empty()) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(revisions.size(), 1u);
  EXPECT_EQ(revisions[0].revision_principal(), "");
  EXPECT_EQ(revisions[0].revision_create_time(), created.update_time());
  Agreement upgraded;
  ASSERT_TRUE(Get(created.name(), viewer_, &upgraded).ok());
  EXPECT_EQ(upgraded.revision_id(), revisions[0].revision_id());
  EXPECT_EQ(upgraded.etag(), created.etag());
  ASSERT_EQ(upgraded.party_statuses_size(), 2);
  EXPECT_EQ(upgraded.party_statuses(0).entry_into_force_date(), "2024-01-10");
  EXPECT_EQ(upgraded.party_statuses(1).country_code(), "KZ");
}

}  // namespace
}  // namespace accord::agreement
