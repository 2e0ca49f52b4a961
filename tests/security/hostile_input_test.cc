// Hostile input over real gRPC (issue 17, the error contract).
//
// Real redis-server and the three service binaries on free loopback ports,
// authentication on (tests/harness/credentials.h), requests sent as raw
// bytes with grpc::GenericStub:
//   - every method of InstitutionService, AgreementService,
//     NotificationService and AuditService (on each binary), enumerated
//     from their descriptors, answers bytes that are not its request
//     message, and a request whose string field is not UTF-8, with
//     INVALID_ARGUMENT saying the request could not be decoded (gRPC
//     itself answers INTERNAL, or UNIMPLEMENTED on callback handlers);
//   - a well-formed request to the same method is not mistaken for one;
//   - List methods refuse a malformed `order_by` naming the term, and a
//     `page_token` longer than kMaxPageTokenBytes, on the field at fault.

#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/auth/v1/auth.grpc.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "common/errors.h"
#include "common/list.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "tests/harness/credentials.h"
#include "tests/harness/processes.h"

namespace accord::security {
namespace {

using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::TestCredentials;
using ::google::protobuf::Descriptor;
using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::MethodDescriptor;
using ::google::protobuf::ServiceDescriptor;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUndecodable[] = "could not be decoded";

// Each service by the binaries that serve it.
struct Served {
  const ServiceDescriptor* service;
  std::vector<const ServiceProcess*> binaries;
};

// Bytes that no request message parses from.
const std::vector<std::pair<std::string, std::string>>& GarbageRequests() {
  static const auto* garbage =
      new std::vector<std::pair<std::string, std::string>>{
          // Field 1, length-delimited, 127 bytes announced, 2 sent.
          {"truncated field", std::string("\x0a\x7f\x01\x02", 4)},
          // A varint that never ends.
          {"unterminated varint", std::string("\x08\xff\xff\xff", 4)},
          // Wire type 7 does not exist.
          {"bad wire type", std::string("\x0f\x00", 2)},
          // Field number 0 is invalid.
          {"field zero", std::string("\x02\x00", 2)},
          // Text, not protobuf.
          {"JSON", R"({"name":"institutions/a"})"},
      };
  return *garbage;
}

void AppendTag(int number, int wire_type, std::string& out) {
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.WriteTag(static_cast<uint32_t>(number << 3 | wire_type));
}

void AppendLengthDelimited(int number, const std::string& payload,
                           std::string& out) {
  AppendTag(number, 2, out);
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.WriteVarint32(static_cast<uint32_t>(payload.size()));
  coded.WriteRaw(payload.data(), static_cast<int>(payload.size()));
}

// The encoding of a `message` whose first string field (searched
// breadth-first through message fields, map entries included) holds bytes
// that are not UTF-8; nullopt if it has no string field.
std::optional<std::string> InvalidUtf8Request(const Descriptor& message,
                                              int depth = 0) {
  // 0xC3 0x28: a two-byte sequence whose second byte is not a continuation.
  const std::string invalid("ok\xc3\x28", 4);
  for (int i = 0; i < message.field_count(); ++i) {
    const FieldDescriptor& field = *message.field(i);
    if (field.type() == FieldDescriptor::TYPE_STRING) {
      std::string encoded;
      AppendLengthDelimited(field.number(), invalid, encoded);
      return encoded;
    }
  }
  if (depth == 4) return std::nullopt;
  for (int i = 0; i < message.field_count(); ++i) {
    const FieldDescriptor& field = *message.field(i);
    if (field.type() != FieldDescriptor::TYPE_MESSAGE) continue;
    std::optional<std::string> inner =
        InvalidUtf8Request(*field.message_type(), depth + 1);
    if (!inner.has_value()) continue;
    std::string encoded;
    AppendLengthDelimited(field.number(), *inner, encoded);
    return encoded;
  }
  return std::nullopt;
}

// One call of `method` with `bytes` as its request, as the holder of
// `token`; reads (and drops) whatever a stream sends until the call ends.
grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel,
                     const MethodDescriptor& method, const std::string& bytes,
                     const std::string& token,
                     std::chrono::seconds deadline = std::chrono::seconds(10)) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  context.AddMetadata("authorization", "Bearer " + token);
  grpc::CompletionQueue queue;
  const std::string path =
      absl::StrCat("/", method.service()->full_name(), "/", method.name());
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      stub.PrepareCall(&context, path, &queue);
  void* tag = nullptr;
  bool ok = false;
  // One operation at a time: each is waited for before the next starts.
  auto wait = [&] { return queue.Next(&tag, &ok) && ok; };
  call->StartCall(&tag);
  if (wait()) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    call->WriteLast(request, grpc::WriteOptions(), &tag);
    wait();
    grpc::ByteBuffer response;
    do {
      call->Read(&response, &tag);
    } while (wait());
  }
  grpc::Status status;
  call->Finish(&status, &tag);
  queue.Next(&tag, &ok);
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return status;
}

std::string Describe(const grpc::Status& status) {
  return absl::StrCat(status.error_code(), " ", status.error_message());
}

std::string FieldOf(const grpc::Status& status) {
  const std::vector<FieldViolation> violations =
      FieldViolationsOf(FromGrpcStatus(status));
  return violations.empty() ? "" : violations.front().field;
}

class HostileInputTest : public ::testing::Test {
 protected:
  struct State {
    std::string dir;
    std::unique_ptr<RedisServer> redis;
    std::string admin;
    std::unique_ptr<ServiceProcess> institution;
    std::unique_ptr<ServiceProcess> agreement;
    std::unique_ptr<ServiceProcess> notification;
    std::string error;
  };

  static void SetUpTestSuite() {
    state_ = new State;
    try {
      state_->dir = MakeTempDir("accord-hostile");
      state_->redis = std::make_unique<RedisServer>();
      TestCredentials credentials;
      state_->admin = credentials.Add("admin", auth::v1::ROLE_ADMIN);
      const std::string flag = credentials.Write(state_->dir);
      state_->institution = std::make_unique<ServiceProcess>(
          "accord-institution", state_->redis->url(),
          std::vector<std::string>{flag});
      state_->agreement = std::make_unique<ServiceProcess>(
          "accord-agreement", state_->redis->url(),
          std::vector<std::string>{
              flag, absl::StrCat("--institution_target=",
                                 state_->institution->address())});
      state_->notification = std::make_unique<ServiceProcess>(
          "accord-notification", state_->redis->url(),
          std::vector<std::string>{flag});
      CreateSubscription();
    } catch (const std::exception& error) {
      state_->error = error.what();
    }
  }

  // subscriptions/hostile: ListDeliveries reads its parent before the page.
  static void CreateSubscription() {
    notification::v1::CreateSubscriptionRequest request;
    request.set_subscription_id("hostile");
    notification::v1::Subscription& subscription =
        *request.mutable_subscription();
    subscription.set_owner("institutions/hostile");
    subscription.add_event_types("accord.milestone.v1.*");
    subscription.mutable_stream();
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + state_->admin);
    notification::v1::Subscription created;
    const grpc::Status status =
        notification::v1::NotificationService::NewStub(
            state_->notification->Channel())
            ->CreateSubscription(&context, request, &created);
    if (!status.ok()) {
      throw std::runtime_error("CreateSubscription: " + Describe(status));
    }
  }

  static void TearDownTestSuite() {
    const std::string dir = state_->dir;
    delete state_;  // stops the services first
    state_ = nullptr;
    std::error_code ignored;
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }

  void SetUp() override { ASSERT_EQ(state_->error, ""); }

  static std::vector<Served> Services() {
    const ServiceProcess* institution = state_->institution.get();
    const ServiceProcess* agreement = state_->agreement.get();
    const ServiceProcess* notification = state_->notification.get();
    return {
        {institution::v1::CreateInstitutionRequest::descriptor()
             ->file()
             ->FindServiceByName("InstitutionService"),
         {institution}},
        {agreement::v1::CreateAgreementRequest::descriptor()
             ->file()
             ->FindServiceByName("AgreementService"),
         {agreement}},
        {notification::v1::CreateSubscriptionRequest::descriptor()
             ->file()
             ->FindServiceByName("NotificationService"),
         {notification}},
        {auth::v1::ListAuditRecordsRequest::descriptor()
             ->file()
             ->FindServiceByName("AuditService"),
         {institution, agreement, notification}},
    };
  }

  // Runs `check` for every method of every service on every binary that
  // serves it; returns how many calls that made.
  template <typename Check>
  static int ForEveryMethod(Check check) {
    int calls = 0;
    for (const Served& served : Services()) {
      EXPECT_NE(served.service, nullptr);
      if (served.service == nullptr) continue;
      for (const ServiceProcess* binary : served.binaries) {
        const std::shared_ptr<grpc::Channel> channel = binary->Channel();
        for (int i = 0; i < served.service->method_count(); ++i) {
          check(channel, *served.service->method(i));
          ++calls;
        }
      }
    }
    return calls;
  }

  static void ExpectUndecodable(const grpc::Status& status,
                                const MethodDescriptor& method,
                                const std::string& what) {
    SCOPED_TRACE(absl::StrCat(method.full_name(), " with ", what));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr(kUndecodable));
    EXPECT_THAT(status.error_message(),
                HasSubstr(method.input_type()->full_name()));
    EXPECT_EQ(ReasonOf(FromGrpcStatus(status)), "UNDECODABLE_REQUEST");
  }

  static State* state_;
};
HostileInputTest::State* HostileInputTest::state_ = nullptr;

TEST_F(HostileInputTest,
       EveryMethodAnswersUndecodableBytesWithInvalidArgument) {
  const int calls =
      ForEveryMethod([](const std::shared_ptr<grpc::Channel>& channel,
                        const MethodDescriptor& method) {
        for (const auto& [what, bytes] : GarbageRequests()) {
          ExpectUndecodable(CallRaw(channel, method, bytes, state_->admin),
                            method, what);
        }
      });
  // Every service has methods, and the audit service is on all three.
  EXPECT_GT(calls, 60);
}

TEST_F(HostileInputTest, EveryMethodAnswersInvalidUtf8WithInvalidArgument) {
  std::vector<std::string> without_strings;
  ForEveryMethod([&](const std::shared_ptr<grpc::Channel>& channel,
                     const MethodDescriptor& method) {
    const std::optional<std::string> bytes =
        InvalidUtf8Request(*method.input_type());
    if (!bytes.has_value()) {
      without_strings.push_back(method.full_name());
      return;
    }
    ExpectUndecodable(CallRaw(channel, method, *bytes, state_->admin), method,
                      "a string field that is not UTF-8");
  });
  // Requests without any string field cannot carry one; name them so a new
  // method does not slip by unnoticed.
  EXPECT_THAT(
      std::set<std::string>(without_strings.begin(), without_strings.end()),
      ::testing::IsSubsetOf(std::set<std::string>{
          "accord.agreement.v1.AgreementService.ListCooperationAreas",
          "accord.notification.v1.NotificationService.ListEventTypes",
      }));
}

TEST_F(HostileInputTest, WellFormedRequestsAreNotTakenForUndecodable) {
  ForEveryMethod([](const std::shared_ptr<grpc::Channel>& channel,
                    const MethodDescriptor& method) {
    // The empty request parses (every field unset); whatever the handler
    // makes of it, it is not a decoding failure. Streams are cut short.
    const grpc::Status status =
        CallRaw(channel, method, "", state_->admin, std::chrono::seconds(3));
    EXPECT_THAT(status.error_message(), Not(HasSubstr(kUndecodable)))
        << method.full_name();
    EXPECT_NE(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
        << method.full_name() << " " << Describe(status);
    EXPECT_NE(status.error_code(), grpc::StatusCode::INTERNAL)
        << method.full_name() << " " << Describe(status);
  });
}

TEST_F(HostileInputTest, UndecodableGetIsLoggedAndTheServiceStaysUp) {
  const MethodDescriptor& get =
      *institution::v1::GetInstitutionRequest::descriptor()
           ->file()
           ->FindServiceByName("InstitutionService")
           ->FindMethodByName("GetInstitution");
  ExpectUndecodable(CallRaw(state_->institution->Channel(), get,
                            std::string("\xff", 1), state_->admin),
                    get, "one byte");
  // The callback Get observes itself; for a request its handler never saw
  // the server's interceptor logs the call.
  const std::string log = state_->institution->ReadLog();
  EXPECT_THAT(log, ::testing::ContainsRegex(
                       "InstitutionService/GetInstitution.*INVALID_ARGUMENT"));
  auto stub = institution::v1::InstitutionService::NewStub(
      state_->institution->Channel());
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + state_->admin);
  institution::v1::GetInstitutionRequest request;
  request.set_name("institutions/absent");
  institution::v1::Institution response;
  EXPECT_EQ(stub->GetInstitution(&context, request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// ---- order_by and page_token on every List method ----

// The List methods with `order_by` or `page_token`, and the binary
// serving each.
std::vector<std::pair<const MethodDescriptor*, const ServiceProcess*>>
ListMethods(const std::vector<Served>& services, const char* field) {
  std::vector<std::pair<const MethodDescriptor*, const ServiceProcess*>> found;
  for (const Served& served : services) {
    for (int i = 0; i < served.service->method_count(); ++i) {
      const MethodDescriptor* method = served.service->method(i);
      if (method->input_type()->FindFieldByName(field) != nullptr) {
        found.emplace_back(method, served.binaries.front());
      }
    }
  }
  return found;
}

// Fields some List methods check before their page: a parent (that need
// not exist, but for a subscription's deliveries) or a search query.
const std::map<std::string, std::vector<std::pair<std::string, std::string>>>&
RequiredFields() {
  static const auto* required =
      new std::map<std::string,
                   std::vector<std::pair<std::string, std::string>>>{
          {"SearchInstitutions", {{"query", "alpha"}}},
          {"ListSessions", {{"parent", "committees/absent"}}},
          {"ListMilestones", {{"parent", "agreements/absent"}}},
          {"ListAgreementTexts", {{"parent", "agreements/absent"}}},
          {"ListDeliveries", {{"parent", "subscriptions/hostile"}}},
      };
  return *required;
}

// A request of `method` with `field` set to `value`, and what else the
// method requires.
std::string Encoded(const MethodDescriptor& method, const std::string& field,
                    const std::string& value) {
  const Descriptor& type = *method.input_type();
  std::string encoded;
  AppendLengthDelimited(type.FindFieldByName(field)->number(), value, encoded);
  if (auto found = RequiredFields().find(method.name());
      found != RequiredFields().end()) {
    for (const auto& [name, required] : found->second) {
      AppendLengthDelimited(type.FindFieldByName(name)->number(), required,
                            encoded);
    }
  }
  return encoded;
}

TEST_F(HostileInputTest, MalformedOrderByIsRefusedNamingTheTerm) {
  const auto methods = ListMethods(Services(), "order_by");
  EXPECT_GE(methods.size(), 7u);
  for (const auto& [method, binary] : methods) {
    for (const auto& [order_by, term] :
         std::vector<std::pair<std::string, std::string>>{
             {"create_time, create_time", "\"create_time\""},
             {"name foo", "\"name foo\""},
             {"create_time desc extra", "\"create_time desc extra\""},
             {"create_time, update_time, name, create_time",
              "\"create_time\""}}) {
      const grpc::Status status =
          CallRaw(binary->Channel(), *method,
                  Encoded(*method, "order_by", order_by), state_->admin);
      SCOPED_TRACE(absl::StrCat(method->full_name(), " order_by ", order_by));
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << Describe(status);
      EXPECT_EQ(FieldOf(status), "order_by");
      EXPECT_THAT(status.error_message(), HasSubstr(term));
    }
  }
}

TEST_F(HostileInputTest, OverlongPageTokenIsRefusedOnPageToken) {
  const auto methods = ListMethods(Services(), "page_token");
  EXPECT_GE(methods.size(), 10u);
  // Well-formed base64, one byte over the limit.
  const std::string token(kMaxPageTokenBytes + 1, 'A');
  for (const auto& [method, binary] : methods) {
    const grpc::Status status =
        CallRaw(binary->Channel(), *method,
                Encoded(*method, "page_token", token), state_->admin);
    SCOPED_TRACE(method->full_name());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << Describe(status);
    EXPECT_EQ(FieldOf(status), "page_token") << Describe(status);
    EXPECT_THAT(status.error_message(), HasSubstr("longer than 1024 bytes"));
  }
}

}  // namespace
}  // namespace accord::security
