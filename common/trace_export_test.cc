#include "common/trace_export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "common/metrics.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace accord {
namespace {

using ::testing::HasSubstr;

// The OTLP JSON parsed generically, to check its shape field by field.
google::protobuf::Struct ParseJson(const std::string& json) {
  google::protobuf::Struct parsed;
  const auto status =
      google::protobuf::util::JsonStringToMessage(json, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return parsed;
}

const google::protobuf::Value& Field(const google::protobuf::Value& value,
                                     const std::string& name) {
  return value.struct_value().fields().at(name);
}

FinishedSpan ExampleSpan() {
  FinishedSpan span;
  span.context = *ParseTraceparent(
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  span.parent_span_id = 0x1122334455667788u;
  span.name = "/accord.agreement.v1.AgreementService/CreateAgreement";
  span.kind = FinishedSpan::kServer;
  span.start = absl::FromUnixNanos(1700000000123456789);
  span.end = absl::FromUnixNanos(1700000000223456789);
  span.grpc_code = 3;
  span.status_message = "agreement.titles: \"required\"";
  span.attributes = {{"rpc.method", "CreateAgreement"},
                     {"principal", "party-a"},
                     {"request_id", "r-1"}};
  return span;
}

TEST(OtlpJsonTest, EncodesAnExportTraceServiceRequest) {
  const std::string json = OtlpTracesJson("accord-agreement", {ExampleSpan()});
  google::protobuf::Value root;
  *root.mutable_struct_value() = ParseJson(json);

  const auto& resource_spans = Field(root, "resourceSpans").list_value();
  ASSERT_EQ(resource_spans.values_size(), 1);
  const auto& resource_attribute =
      Field(Field(resource_spans.values(0), "resource"), "attributes")
          .list_value()
          .values(0);
  EXPECT_EQ(Field(resource_attribute, "key").string_value(), "service.name");
  EXPECT_EQ(
      Field(Field(resource_attribute, "value"), "stringValue").string_value(),
      "accord-agreement");

  const auto& scope_spans =
      Field(resource_spans.values(0), "scopeSpans").list_value();
  ASSERT_EQ(scope_spans.values_size(), 1);
  const auto& spans = Field(scope_spans.values(0), "spans").list_value();
  ASSERT_EQ(spans.values_size(), 1);
  const google::protobuf::Value& span = spans.values(0);
  // OTLP/JSON: ids in hex (not base64), 64-bit times as decimal strings,
  // enums as integers.
  EXPECT_EQ(Field(span, "traceId").string_value(),
            "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(Field(span, "spanId").string_value(), "00f067aa0ba902b7");
  EXPECT_EQ(Field(span, "parentSpanId").string_value(), "1122334455667788");
  EXPECT_EQ(Field(span, "name").string_value(),
            "/accord.agreement.v1.AgreementService/CreateAgreement");
  EXPECT_EQ(Field(span, "kind").number_value(), 2);
  EXPECT_EQ(Field(span, "startTimeUnixNano").string_value(),
            "1700000000123456789");
  EXPECT_EQ(Field(span, "endTimeUnixNano").string_value(),
            "1700000000223456789");
  EXPECT_EQ(Field(Field(span, "status"), "code").number_value(), 2);
  EXPECT_EQ(Field(Field(span, "status"), "message").string_value(),
            "agreement.titles: \"required\"");

  std::map<std::string, std::string> attributes;
  for (const auto& attribute :
       Field(span, "attributes").list_value().values()) {
    const auto& value = Field(attribute, "value").struct_value().fields();
    const std::string key = Field(attribute, "key").string_value();
    attributes[key] = value.count("stringValue")
                          ? value.at("stringValue").string_value()
                          : value.at("intValue").string_value();
  }
  EXPECT_EQ(attributes["rpc.system"], "grpc");
  EXPECT_EQ(attributes["rpc.grpc.status_code"], "3");
  EXPECT_EQ(attributes["rpc.method"], "CreateAgreement");
  EXPECT_EQ(attributes["principal"], "party-a");
  EXPECT_EQ(attributes["request_id"], "r-1");
}

TEST(OtlpJsonTest, ARootSpanThatSucceededHasNoParentAndNoStatus) {
  FinishedSpan span = ExampleSpan();
  span.parent_span_id = 0;
  span.grpc_code = 0;
  span.kind = FinishedSpan::kClient;
  const std::string json = OtlpTracesJson("accord-agreement", {span, span});
  EXPECT_THAT(json, ::testing::Not(HasSubstr("parentSpanId")));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("\"status\"")));
  EXPECT_THAT(json, HasSubstr("\"kind\":3"));
  ParseJson(json);
}

// A collector in this process: records the bodies POSTed to /v1/traces.
class FakeCollector {
 public:
  explicit FakeCollector(int status = 200) {
    server_.Post(
        "/prefix/v1/traces", [this, status](const httplib::Request& request,
                                            httplib::Response& response) {
          std::lock_guard<std::mutex> lock(mutex_);
          bodies_.push_back(request.body);
          content_types_.push_back(request.get_header_value("Content-Type"));
          response.status = status;
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(5));
  }
  ~FakeCollector() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const {
    return absl::StrCat("http://127.0.0.1:", port_, "/prefix/");
  }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }
  std::vector<std::string> content_types() {
    std::lock_guard<std::mutex> lock(mutex_);
    return content_types_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> bodies_;
  std::vector<std::string> content_types_;
};

TEST(TraceExporterTest, SendsQueuedSpansInBatchesToTheCollector) {
  FakeCollector collector;
  {
    TraceExporter::Options options;
    options.endpoint = collector.endpoint();
    options.service_name = "accord-test";
    options.max_batch = 3;
    options.interval = absl::Milliseconds(50);
    TraceExporter exporter(options);
    for (int i = 0; i < 7; ++i) exporter.Export(ExampleSpan());
    // The destructor sends what is left.
  }
  const std::vector<std::string> bodies = collector.bodies();
  ASSERT_FALSE(bodies.empty());
  size_t spans = 0;
  for (const std::string& body : bodies) {
    EXPECT_THAT(body, HasSubstr("\"accord-test\""));
    size_t at = 0;
    size_t in_body = 0;
    while ((at = body.find("\"traceId\"", at)) != std::string::npos) {
      ++in_body;
      ++at;
    }
    EXPECT_LE(in_body, 3u);
    spans += in_body;
  }
  EXPECT_EQ(spans, 7u);
  EXPECT_EQ(collector.content_types().front(), "application/json");
}

TEST(TraceExporterTest, AFullQueueDropsAndCountsInsteadOfWaiting) {
  // Nobody listens on this endpoint's port: every batch fails, and what
  // does not fit the queue is dropped at once.
  TraceExporter::Options options;
  options.endpoint = "http://127.0.0.1:1";
  options.service_name = "accord-test";
  options.max_queue = 4;
  options.max_batch = 100;
  options.interval = absl::Seconds(30);
  options.timeout = absl::Milliseconds(200);
  TraceExporter exporter(options);
  const absl::Time start = absl::Now();
  for (int i = 0; i < 10; ++i) exporter.Export(ExampleSpan());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_THAT(Metrics::Global().RenderPrometheus(),
              HasSubstr("accord_trace_spans_total{result=\"dropped\"} 6"));
}

}  // namespace
}  // namespace accord
