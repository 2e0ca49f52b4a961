// Fault injection: the institution service down or frozen while agreements
// are written. Each write fails fast and clearly (UNAVAILABLE), nothing is
// half-written, and writes succeed again once the dependency is back.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

using agreement::v1::Agreement;
using testing::EventLog;
using testing::RedisServer;
using testing::ServiceProcess;

class SlowDependencyTest : public ::testing::Test {
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
    auto institutions =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    for (const char* id : {"a", "b"}) {
      institution::v1::CreateInstitutionRequest request;
      request.set_institution_id(id);
      auto* name = request.mutable_institution()->add_names();
      name->set_text(absl::StrCat("Institution ", id));
      name->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
      request.mutable_institution()->set_kind(
          institution::v1::Institution::KIND_UNIVERSITY);
      request.mutable_institution()->set_country_code("IR");
      institution::v1::Institution created;
      grpc::ClientContext context;
      ASSERT_TRUE(
          institutions->CreateInstitution(&context, request, &created).ok());
    }
    stub_ = agreement::v1::AgreementService::NewStub(agreement_->Channel());
    events_ = std::make_unique<EventLog>(redis_->url());
  }

  grpc::Status Create(const std::string& id, absl::Duration* took) {
    agreement::v1::CreateAgreementRequest request;
    request.set_agreement_id(id);
    Agreement& agreement = *request.mutable_agreement();
    agreement.add_titles()->set_text("MOU");
    agreement.set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
    agreement.add_parties("institutions/a");
    agreement.add_parties("institutions/b");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    Agreement created;
    const absl::Time start = absl::Now();
    const grpc::Status status =
        stub_->CreateAgreement(&context, request, &created);
    *took = absl::Now() - start;
    return status;
  }

  bool Exists(const std::string& id) {
    agreement::v1::GetAgreementRequest request;
    request.set_name(absl::StrCat("agreements/", id));
    grpc::ClientContext context;
    Agreement found;
    return stub_->GetAgreement(&context, request, &found).ok();
  }

  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<agreement::v1::AgreementService::Stub> stub_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(SlowDependencyTest, FrozenInstitutionServiceFailsFastAndWritesNothing) {
  const int64_t events_before = events_->Count();
  institution_->Signal(SIGSTOP);
  absl::Duration took;
  const grpc::Status status = Create("frozen", &took);
  institution_->Signal(SIGCONT);
  EXPECT_TRUE(status.error_code() == grpc::UNAVAILABLE ||
              status.error_code() == grpc::DEADLINE_EXCEEDED)
      << status.error_code() << " " << status.error_message();
  EXPECT_LT(took, absl::Seconds(3)) << "bounded by --institution_deadline";
  EXPECT_FALSE(Exists("frozen"));
  EXPECT_EQ(events_->Count(), events_before);

  // Back to normal once it thaws.
  ASSERT_TRUE(Create("thawed", &took).ok());
  EXPECT_TRUE(Exists("thawed"));
}

TEST_F(SlowDependencyTest, DownInstitutionServiceIsUnavailableThenRecovers) {
  const int64_t events_before = events_->Count();
  const int code = institution_->Stop();
  EXPECT_EQ(code, 0);
  absl::Duration took;
  const grpc::Status status = Create("down", &took);
  EXPECT_EQ(status.error_code(), grpc::UNAVAILABLE) << status.error_message();
  EXPECT_FALSE(Exists("down"));
  EXPECT_EQ(events_->Count(), events_before);
  institution_->Start();
  // The agreement service reconnects on its own.
  grpc::Status recovered;
  for (int attempt = 0; attempt < 50; ++attempt) {
    recovered = Create("recovered", &took);
    if (recovered.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(recovered.ok()) << recovered.error_message();
}

}  // namespace
}  // namespace accord
