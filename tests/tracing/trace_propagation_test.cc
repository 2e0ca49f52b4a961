// One trace across the suite, with authentication on: a CreateAgreement
// sent with a W3C `traceparent` shows the same trace id in the agreement
// service's log line, in the institution service's log line for the
// reference check the agreement service made, on the recorded event, on the
// webhook request that delivered it, and in the spans a fake OpenTelemetry
// collector received (the caller's span → agreement server span →
// agreement client span → institution server span). All real processes:
// redis-server, accord-institution, accord-agreement, accord-notification,
// each on a free loopback port; the collector and the webhook receiver are
// HTTP servers in this process.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/notification/test_support.h"
#include "tests/harness/credentials.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

using ::accord::notification::testing::WebhookReceiver;
using ::accord::testing::FreePort;
using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::TestCredentials;
using ::testing::HasSubstr;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
// The caller's span: what a client instrumented with OpenTelemetry sends.
constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kCallerSpanId[] = "00f067aa0ba902b7";

// One span as the collector received it.
struct ReceivedSpan {
  std::string service;
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;
  std::string name;
  int kind = 0;
  std::map<std::string, std::string> attributes;
};

// An OTLP/HTTP collector that accepts JSON on /v1/traces and keeps the
// spans, decoded.
class FakeCollector {
 public:
  FakeCollector() : port_(FreePort()) {
    server_.Post("/v1/traces", [this](const httplib::Request& request,
                                      httplib::Response& response) {
      std::lock_guard<std::mutex> lock(mutex_);
      content_types_.push_back(request.get_header_value("Content-Type"));
      Decode(request.body);
      response.status = 200;
      response.set_content("{}", "application/json");
    });
    thread_ = std::thread([this] { server_.listen("127.0.0.1", port_); });
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(5));
  }
  ~FakeCollector() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const {
    return absl::StrCat("http://127.0.0.1:", port_);
  }
  std::vector<ReceivedSpan> spans() {
    std::lock_guard<std::mutex> lock(mutex_);
    return spans_;
  }
  std::vector<std::string> content_types() {
    std::lock_guard<std::mutex> lock(mutex_);
    return content_types_;
  }
  // Waits until a span named `name` from `service` arrived.
  std::optional<ReceivedSpan> WaitFor(const std::string& service,
                                      const std::string& name, int kind,
                                      absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      for (const ReceivedSpan& span : spans()) {
        if (span.service == service && span.name == name && span.kind == kind &&
            span.trace_id == kTraceId) {
          return span;
        }
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    return std::nullopt;
  }

 private:
  static const google::protobuf::Value& Field(
      const google::protobuf::Value& value, const std::string& name) {
    static const google::protobuf::Value* const kNull =
        new google::protobuf::Value();
    const auto& fields = value.struct_value().fields();
    auto found = fields.find(name);
    return found == fields.end() ? *kNull : found->second;
  }
  static std::map<std::string, std::string> Attributes(
      const google::protobuf::Value& list) {
    std::map<std::string, std::string> attributes;
    for (const auto& attribute : list.list_value().values()) {
      const auto& value = Field(attribute, "value");
      attributes[Field(attribute, "key").string_value()] =
          Field(value, "stringValue").string_value() +
          Field(value, "intValue").string_value();
    }
    return attributes;
  }
  void Decode(const std::string& body) {
    google::protobuf::Value root;
    if (!google::protobuf::util::JsonStringToMessage(body, &root).ok()) {
      ADD_FAILURE() << "the collector got JSON it cannot parse: " << body;
      return;
    }
    for (const auto& resource :
         Field(root, "resourceSpans").list_value().values()) {
      const std::string service = Attributes(
          Field(Field(resource, "resource"), "attributes"))["service.name"];
      for (const auto& scope :
           Field(resource, "scopeSpans").list_value().values()) {
        for (const auto& span : Field(scope, "spans").list_value().values()) {
          spans_.push_back(
              {service, Field(span, "traceId").string_value(),
               Field(span, "spanId").string_value(),
               Field(span, "parentSpanId").string_value(),
               Field(span, "name").string_value(),
               static_cast<int>(Field(span, "kind").number_value()),
               Attributes(Field(span, "attributes"))});
        }
      }
    }
  }

  int port_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<ReceivedSpan> spans_;
  std::vector<std::string> content_types_;
};

// The log lines of `log` that contain every one of `parts`.
std::vector<std::string> LinesWith(const std::string& log,
                                   const std::vector<std::string>& parts) {
  std::vector<std::string> found;
  for (absl::string_view line : absl::StrSplit(log, '\n')) {
    bool all = true;
    for (const std::string& part : parts) {
      all = all && absl::StrContains(line, part);
    }
    if (all) found.emplace_back(line);
  }
  return found;
}

class TracePropagationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = MakeTempDir("trace-propagation");
    TestCredentials credentials;
    admin_ = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    party_ =
        credentials.Add("party-a", auth::v1::ROLE_EDITOR, "institutions/a");
    const std::string service_token =
        credentials.Add("agreement-service", auth::v1::ROLE_VIEWER);
    const std::string credentials_flag = credentials.Write(dir);
    std::ofstream(dir + "/agreement-token") << service_token;
    const std::string otlp = "--otlp_endpoint=" + collector_.endpoint();

    redis_ = std::make_unique<RedisServer>();
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{credentials_flag, otlp});
    // JSON logs here, key=value logs in the institution service: both
    // formats carry the trace fields.
    agreement_ = std::make_unique<ServiceProcess>(
        "accord-agreement", redis_->url(),
        std::vector<std::string>{
            credentials_flag, otlp, "--log_format=json",
            absl::StrCat("--institution_target=", institution_->address()),
            absl::StrCat("--institution_token_file=", dir,
                         "/agreement-token")});
    notification_ = std::make_unique<ServiceProcess>(
        "accord-notification", redis_->url(),
        std::vector<std::string>{credentials_flag, otlp,
                                 "--webhook_allow_cidrs=127.0.0.0/8",
                                 "--consumer_name=trace-test"});
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    agreements_ =
        agreement::v1::AgreementService::NewStub(agreement_->Channel());
    notifications_ = notification::v1::NotificationService::NewStub(
        notification_->Channel());
    for (const auto& [id, country] :
         std::vector<std::pair<std::string, std::string>>{{"a", "IR"},
                                                          {"b", "RU"}}) {
      institution::v1::CreateInstitutionRequest request;
      request.set_institution_id(id);
      auto* name = request.mutable_institution()->add_names();
      name->set_text(absl::StrCat("Institution ", id));
      name->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
      request.mutable_institution()->set_kind(
          institution::v1::Institution::KIND_UNIVERSITY);
      request.mutable_institution()->set_country_code(country);
      institution::v1::Institution created;
      const grpc::Status status = institutions_->CreateInstitution(
          ::accord::testing::AuthorizedContext(admin_).get(), request,
          &created);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }

  void Subscribe(const std::string& url) {
    notification::v1::CreateSubscriptionRequest request;
    auto& subscription = *request.mutable_subscription();
    subscription.set_owner("institutions/a");
    subscription.add_event_types("accord.agreement.v1.recorded");
    subscription.mutable_webhook()->set_uri(url);
    subscription.mutable_webhook()->set_signing_secret(kSecret);
    notification::v1::Subscription created;
    const grpc::Status status = notifications_->CreateSubscription(
        ::accord::testing::AuthorizedContext(admin_).get(), request, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Records an MOU between a and b as party-a, sending `traceparent`
  // (none if empty).
  std::string RecordMou(const std::string& id, const std::string& traceparent,
                        const std::string& request_id) {
    agreement::v1::CreateAgreementRequest request;
    request.set_agreement_id(id);
    request.set_request_id(request_id);
    auto& mou = *request.mutable_agreement();
    mou.add_titles()->set_text(absl::StrCat("MOU ", id));
    mou.set_kind(agreement::v1::Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
    mou.add_parties("institutions/a");
    mou.add_parties("institutions/b");
    auto context = ::accord::testing::AuthorizedContext(party_);
    if (!traceparent.empty()) context->AddMetadata("traceparent", traceparent);
    context->AddMetadata("tracestate", "congo=t61rcWkgMzE");
    agreement::v1::Agreement created;
    const grpc::Status status =
        agreements_->CreateAgreement(context.get(), request, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created.name();
  }

  // The recorded event about `subject`, from ListEvents.
  std::optional<events::v1::Event> EventAbout(const std::string& subject) {
    notification::v1::ListEventsRequest request;
    request.set_page_size(100);
    notification::v1::ListEventsResponse response;
    const grpc::Status status = notifications_->ListEvents(
        ::accord::testing::AuthorizedContext(admin_).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const events::v1::Event& event : response.events()) {
      if (event.subject() == subject) return event;
    }
    return std::nullopt;
  }

  FakeCollector collector_;
  std::string admin_;
  std::string party_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<ServiceProcess> notification_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<agreement::v1::AgreementService::Stub> agreements_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notifications_;
};

TEST_F(TracePropagationTest, OneTraceIdFromCallerToLogsEventWebhookAndSpans) {
  WebhookReceiver receiver;
  Subscribe(receiver.Url("/hook"));
  const std::string traceparent =
      absl::StrCat("00-", kTraceId, "-", kCallerSpanId, "-01");
  const std::string mou = RecordMou("traced-mou", traceparent, "req-traced-1");
  ASSERT_FALSE(mou.empty());

  // The agreement service's server span, as the collector has it: a child
  // of the caller's span, with who called and the request_id.
  const std::optional<ReceivedSpan> create = collector_.WaitFor(
      "accord-agreement",
      "/accord.agreement.v1.AgreementService/CreateAgreement", 2,
      absl::Seconds(10));
  ASSERT_TRUE(create.has_value());
  EXPECT_EQ(create->parent_span_id, kCallerSpanId);
  EXPECT_EQ(create->attributes.at("principal"), "party-a");
  EXPECT_EQ(create->attributes.at("request_id"), "req-traced-1");
  EXPECT_EQ(create->attributes.at("rpc.method"), "CreateAgreement");
  EXPECT_EQ(create->attributes.at("rpc.grpc.status_code"), "0");
  // Its client span for the reference check, and the institution
  // service's server span under that.
  const std::string check =
      "/accord.institution.v1.InstitutionService/BatchGetInstitutions";
  const std::optional<ReceivedSpan> client =
      collector_.WaitFor("accord-agreement", check, 3, absl::Seconds(10));
  ASSERT_TRUE(client.has_value());
  EXPECT_EQ(client->parent_span_id, create->span_id);
  const std::optional<ReceivedSpan> served =
      collector_.WaitFor("accord-institution", check, 2, absl::Seconds(10));
  ASSERT_TRUE(served.has_value());
  EXPECT_EQ(served->parent_span_id, client->span_id);
  EXPECT_EQ(served->attributes.at("principal"), "agreement-service");
  EXPECT_EQ(collector_.content_types().front(), "application/json");

  // The event carries the agreement server span's traceparent.
  const std::string recorded_traceparent =
      absl::StrCat("00-", kTraceId, "-", create->span_id, "-01");
  const std::optional<events::v1::Event> event = EventAbout(mou);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->traceparent(), recorded_traceparent);

  // The webhook request carries it as a header and in the CloudEvent.
  const auto delivered = receiver.WaitFor("/hook", 1, absl::Seconds(10));
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0].header("traceparent"), recorded_traceparent);
  EXPECT_THAT(delivered[0].body,
              HasSubstr(absl::StrCat("\"traceparent\":\"", recorded_traceparent,
                                     "\"")));

  // Both services' log lines name the trace, the span, who called and the
  // request_id. The agreement service logs JSON, with typed numbers.
  const std::vector<std::string> agreement_lines = LinesWith(
      agreement_->ReadLog(),
      {"\"method\":\"/accord.agreement.v1.AgreementService/CreateAgreement\""});
  ASSERT_EQ(agreement_lines.size(), 1u) << agreement_->ReadLog();
  const std::string& line = agreement_lines[0];
  EXPECT_THAT(line, HasSubstr(absl::StrCat("\"trace_id\":\"", kTraceId, "\"")));
  EXPECT_THAT(line,
              HasSubstr(absl::StrCat("\"span_id\":\"", create->span_id, "\"")));
  EXPECT_THAT(line, HasSubstr(absl::StrCat("\"parent_span_id\":\"",
                                           kCallerSpanId, "\"")));
  EXPECT_THAT(line, HasSubstr("\"principal\":\"party-a\""));
  EXPECT_THAT(line, HasSubstr("\"request_id\":\"req-traced-1\""));
  EXPECT_THAT(line, ::testing::ContainsRegex("\"latency_ms\":[0-9]"));
  google::protobuf::Struct parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok())
      << line;
  EXPECT_TRUE(parsed.fields().at("latency_ms").has_number_value()) << line;

  const std::vector<std::string> institution_lines = LinesWith(
      institution_->ReadLog(),
      {absl::StrCat("method=", check), absl::StrCat("trace_id=", kTraceId)});
  ASSERT_EQ(institution_lines.size(), 1u) << institution_->ReadLog();
  EXPECT_THAT(institution_lines[0], HasSubstr("principal=agreement-service"));
  EXPECT_THAT(institution_lines[0],
              HasSubstr(absl::StrCat("span_id=", served->span_id)));
  EXPECT_THAT(institution_lines[0],
              HasSubstr(absl::StrCat("parent_span_id=", client->span_id)));
}

TEST_F(TracePropagationTest, TheGetPathLogsAndExportsItsSpanToo) {
  // The Gets answer on the Redis client's thread, away from the thread
  // that served the call: their line and span still name the trace.
  const std::string mou = RecordMou("read-mou", "", "");
  ASSERT_FALSE(mou.empty());
  agreement::v1::GetAgreementRequest request;
  request.set_name(mou);
  auto context = ::accord::testing::AuthorizedContext(party_);
  context->AddMetadata(
      "traceparent", absl::StrCat("00-", kTraceId, "-", kCallerSpanId, "-00"));
  agreement::v1::Agreement got;
  const grpc::Status status =
      agreements_->GetAgreement(context.get(), request, &got);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const std::string get = "/accord.agreement.v1.AgreementService/GetAgreement";
  const std::optional<ReceivedSpan> span =
      collector_.WaitFor("accord-agreement", get, 2, absl::Seconds(10));
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->parent_span_id, kCallerSpanId);
  EXPECT_EQ(span->attributes.at("principal"), "party-a");
  const std::vector<std::string> lines = LinesWith(
      agreement_->ReadLog(), {absl::StrCat("\"method\":\"", get, "\""),
                              absl::StrCat("\"trace_id\":\"", kTraceId, "\"")});
  ASSERT_EQ(lines.size(), 1u) << agreement_->ReadLog();
  EXPECT_THAT(lines[0], HasSubstr("\"principal\":\"party-a\""));
  EXPECT_THAT(lines[0],
              HasSubstr(absl::StrCat("\"span_id\":\"", span->span_id, "\"")));
}

TEST_F(TracePropagationTest, AnInvalidTraceparentStartsANewTrace) {
  // An all-zero trace id is invalid (W3C): the call starts its own trace.
  const std::string mou =
      RecordMou("untraced-mou",
                absl::StrCat("00-00000000000000000000000000000000-",
                             kCallerSpanId, "-01"),
                "");
  ASSERT_FALSE(mou.empty());
  const std::optional<events::v1::Event> event = EventAbout(mou);
  ASSERT_TRUE(event.has_value());
  EXPECT_THAT(event->traceparent(),
              ::testing::MatchesRegex("00-[0-9a-f]{32}-[0-9a-f]{16}-01"));
  const std::string trace_id = event->traceparent().substr(3, 32);
  EXPECT_NE(trace_id, "00000000000000000000000000000000");

  const std::vector<std::string> lines =
      LinesWith(agreement_->ReadLog(),
                {"CreateAgreement", absl::StrCat("\"trace_id\":\"", trace_id)});
  ASSERT_EQ(lines.size(), 1u) << agreement_->ReadLog();
  // A new trace has no parent, and no request_id was given.
  EXPECT_THAT(lines[0], ::testing::Not(HasSubstr("parent_span_id")));
  EXPECT_THAT(lines[0], ::testing::Not(HasSubstr("request_id")));
  EXPECT_THAT(lines[0], HasSubstr("\"principal\":\"party-a\""));
}

}  // namespace
}  // namespace accord
