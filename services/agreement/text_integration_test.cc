// The texts of an agreement (`agreements/{agreement}/texts/{text}`),
// against the real services with authentication on: a treaty's texts in
// three languages through the standard methods, the language checked, the
// texts of a restricted agreement hidden from non-parties, and no text
// under a missing agreement.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
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
#include "tests/harness/processes.h"

namespace accord::agreement {
namespace {

using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::TestCredentials;
using ::testing::ElementsAre;
using v1::Agreement;
using v1::AgreementAction;
using v1::AgreementText;

constexpr char kTehran[] = "institutions/tehran-univ";  // IR
constexpr char kMoscow[] = "institutions/moscow-univ";  // RU
constexpr char kAnkara[] = "institutions/ankara-univ";  // TR

std::string FieldOf(const grpc::Status& status) {
  const auto violations = FieldViolationsOf(FromGrpcStatus(status));
  return violations.empty() ? "" : violations.front().field;
}

class AgreementTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("texts");
    TestCredentials credentials;
    admin_ = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    tehran_editor_ =
        credentials.Add("tehran-editor", auth::v1::ROLE_EDITOR, kTehran);
    ankara_editor_ =
        credentials.Add("ankara-editor", auth::v1::ROLE_EDITOR, kAnkara);
    const std::string service_token =
        credentials.Add("agreement-service", auth::v1::ROLE_VIEWER);
    const std::string credentials_flag = credentials.Write(dir_);
    std::ofstream(dir_ + "/agreement-token") << service_token;

    redis_ = std::make_unique<RedisServer>();
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{credentials_flag});
    agreement_ = std::make_unique<ServiceProcess>(
        "accord-agreement", redis_->url(),
        std::vector<std::string>{
            credentials_flag,
            absl::StrCat("--institution_target=", institution_->address()),
            absl::StrCat("--institution_token_file=", dir_,
                         "/agreement-token")});
    stub_ = v1::AgreementService::NewStub(agreement_->Channel());
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    for (const auto& [name, country] :
         std::vector<std::pair<std::string, std::string>>{
             {kTehran, "IR"}, {kMoscow, "RU"}, {kAnkara, "TR"}}) {
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

  // A memorandum between Tehran and Moscow, signed by both.
  std::string CreateMemorandum(const std::string& id, bool restricted) {
    v1::CreateAgreementRequest request;
    request.set_agreement_id(id);
    Agreement& agreement = *request.mutable_agreement();
    agreement.add_titles()->set_text("Memorandum on research cooperation");
    agreement.set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
    agreement.add_parties(kTehran);
    agreement.add_parties(kMoscow);
    agreement.set_restricted(restricted);
    for (const char* party : {kTehran, kMoscow}) {
      AgreementAction& signature = *agreement.add_actions();
      signature.set_kind(AgreementAction::KIND_SIGNATURE);
      signature.set_party(party);
      signature.set_action_date("2024-01-10");
    }
    Agreement created;
    const grpc::Status status = stub_->CreateAgreement(
        Context(tehran_editor_).get(), request, &created);
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    return created.name();
  }

  grpc::Status CreateText(const std::string& parent, const std::string& id,
                          const std::string& language, const std::string& token,
                          AgreementText* created) {
    v1::CreateAgreementTextRequest request;
    request.set_parent(parent);
    request.set_agreement_text_id(id);
    AgreementText& text = *request.mutable_agreement_text();
    text.set_language(language);
    text.set_title(absl::StrCat("Memorandum (", language, ")"));
    text.set_uri(
        absl::StrCat("https://treaties.example/mou-", language, ".pdf"));
    text.set_sha256(std::string(64, 'a'));
    text.set_authentic(true);
    text.add_sources()->set_publisher("Ministry of Foreign Affairs");
    return stub_->CreateAgreementText(Context(token).get(), request, created);
  }

  std::vector<std::string> ListLanguages(const std::string& parent,
                                         const std::string& filter,
                                         bool show_deleted = false) {
    v1::ListAgreementTextsRequest request;
    request.set_parent(parent);
    request.set_filter(filter);
    request.set_order_by("language");
    request.set_show_deleted(show_deleted);
    v1::ListAgreementTextsResponse response;
    const grpc::Status status = stub_->ListAgreementTexts(
        Context(tehran_editor_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> languages;
    for (const AgreementText& text : response.agreement_texts()) {
      languages.push_back(text.language());
    }
    return languages;
  }

  std::string dir_;
  std::string admin_;
  std::string tehran_editor_;
  std::string ankara_editor_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<v1::AgreementService::Stub> stub_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
};

TEST_F(AgreementTextTest, ThreeAuthenticTextsThroughTheStandardMethods) {
  const std::string mou = CreateMemorandum("tehran-moscow", false);
  for (const char* language : {"fa", "ru", "en"}) {
    AgreementText created;
    const grpc::Status status =
        CreateText(mou, language, language, tehran_editor_, &created);
    ASSERT_TRUE(status.ok()) << language << ": " << status.error_message();
    EXPECT_EQ(created.name(), absl::StrCat(mou, "/texts/", language));
    EXPECT_FALSE(created.etag().empty());
    EXPECT_TRUE(created.has_create_time());
  }

  v1::GetAgreementTextRequest get;
  get.set_name(absl::StrCat(mou, "/texts/ru"));
  AgreementText russian;
  ASSERT_TRUE(
      stub_->GetAgreementText(Context(ankara_editor_).get(), get, &russian)
          .ok());
  EXPECT_EQ(russian.language(), "ru");
  EXPECT_TRUE(russian.authentic());

  EXPECT_THAT(ListLanguages(mou, ""), ElementsAre("en", "fa", "ru"));
  EXPECT_THAT(ListLanguages(mou, R"(language = "fa")"), ElementsAre("fa"));

  // An editor of a non-party may not change them.
  v1::UpdateAgreementTextRequest update;
  *update.mutable_agreement_text() = russian;
  update.mutable_agreement_text()->set_title("Меморандум о сотрудничестве");
  update.mutable_agreement_text()->set_authentic(false);
  update.mutable_update_mask()->add_paths("title");
  AgreementText updated;
  EXPECT_EQ(
      stub_
          ->UpdateAgreementText(Context(ankara_editor_).get(), update, &updated)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(
      stub_
          ->UpdateAgreementText(Context(tehran_editor_).get(), update, &updated)
          .ok());
  EXPECT_EQ(updated.title(), "Меморандум о сотрудничестве");
  EXPECT_TRUE(updated.authentic()) << "not in the update mask";
  EXPECT_NE(updated.etag(), russian.etag());

  v1::DeleteAgreementTextRequest remove;
  remove.set_name(updated.name());
  AgreementText deleted;
  ASSERT_TRUE(
      stub_
          ->DeleteAgreementText(Context(tehran_editor_).get(), remove, &deleted)
          .ok());
  EXPECT_TRUE(deleted.has_delete_time());
  EXPECT_THAT(ListLanguages(mou, ""), ElementsAre("en", "fa"));
  EXPECT_THAT(ListLanguages(mou, "", /*show_deleted=*/true),
              ElementsAre("en", "fa", "ru"));

  v1::UndeleteAgreementTextRequest undelete;
  undelete.set_name(updated.name());
  AgreementText restored;
  ASSERT_TRUE(stub_
                  ->UndeleteAgreementText(Context(tehran_editor_).get(),
                                          undelete, &restored)
                  .ok());
  EXPECT_FALSE(restored.has_delete_time());
  EXPECT_THAT(ListLanguages(mou, ""), ElementsAre("en", "fa", "ru"));

  v1::ListAgreementTextRevisionsRequest revisions;
  revisions.set_name(updated.name());
  v1::ListAgreementTextRevisionsResponse history;
  ASSERT_TRUE(stub_
                  ->ListAgreementTextRevisions(Context(tehran_editor_).get(),
                                               revisions, &history)
                  .ok());
  EXPECT_EQ(history.agreement_texts_size(), 4);  // create, update, delete,
                                                 // undelete
}

TEST_F(AgreementTextTest, InvalidFieldsAreNamed) {
  const std::string mou = CreateMemorandum("tehran-moscow", false);
  AgreementText created;
  grpc::Status status =
      CreateText(mou, "bad", "not a language", tehran_editor_, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "agreement_text.language");

  status = CreateText(mou, "none", "", tehran_editor_, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "agreement_text.language");

  v1::CreateAgreementTextRequest request;
  request.set_parent(mou);
  request.mutable_agreement_text()->set_language("en");
  request.mutable_agreement_text()->set_title("Memorandum");
  request.mutable_agreement_text()->set_uri("ftp://treaties.example/mou");
  status = stub_->CreateAgreementText(Context(tehran_editor_).get(), request,
                                      &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "agreement_text.uri");

  request.mutable_agreement_text()->clear_uri();
  request.mutable_agreement_text()->set_sha256("ABC");
  status = stub_->CreateAgreementText(Context(tehran_editor_).get(), request,
                                      &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldOf(status), "agreement_text.sha256");
}

TEST_F(AgreementTextTest, TextsOfARestrictedAgreementAreHiddenFromNonParties) {
  const std::string secret = CreateMemorandum("tehran-moscow-secret", true);
  AgreementText created;
  ASSERT_TRUE(CreateText(secret, "fa", "fa", tehran_editor_, &created).ok());

  v1::GetAgreementTextRequest get;
  get.set_name(created.name());
  AgreementText read;
  EXPECT_TRUE(
      stub_->GetAgreementText(Context(tehran_editor_).get(), get, &read).ok());
  EXPECT_EQ(stub_->GetAgreementText(Context(ankara_editor_).get(), get, &read)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  v1::ListAgreementTextsRequest list;
  list.set_parent(secret);
  v1::ListAgreementTextsResponse listed;
  const grpc::Status status =
      stub_->ListAgreementTexts(Context(ankara_editor_).get(), list, &listed);
  EXPECT_TRUE(status.ok() ? listed.agreement_texts().empty()
                          : status.error_code() == grpc::StatusCode::NOT_FOUND);

  // Creating under it is answered as under a missing agreement.
  EXPECT_EQ(
      CreateText(secret, "ru", "ru", ankara_editor_, &created).error_code(),
      grpc::StatusCode::NOT_FOUND);
}

TEST_F(AgreementTextTest, NoTextUnderAMissingOrDeletedAgreement) {
  AgreementText created;
  EXPECT_EQ(CreateText("agreements/no-such", "en", "en", admin_, &created)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  const std::string mou = CreateMemorandum("tehran-moscow", false);
  v1::DeleteAgreementRequest remove;
  remove.set_name(mou);
  Agreement deleted;
  ASSERT_TRUE(
      stub_->DeleteAgreement(Context(tehran_editor_).get(), remove, &deleted)
          .ok());
  const grpc::Status status =
      CreateText(mou, "en", "en", tehran_editor_, &created);
  EXPECT_FALSE(status.ok());
}

}  // namespace
}  // namespace accord::agreement
