#include "common/trace_export.h"

#include <httplib.h>

#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/json_string.h"
#include "common/log.h"
#include "common/metrics.h"

namespace accord {
namespace {

std::atomic<TraceExporter*> active_exporter{nullptr};

// OTLP Status.code: UNSET 0, OK 1, ERROR 2. A server span is an error when
// the call failed; unset otherwise, as the semantic conventions ask.
constexpr int kStatusError = 2;

void AppendStringAttribute(std::string& json, absl::string_view key,
                           absl::string_view value) {
  absl::StrAppend(&json, "{\"key\":", JsonString(key),
                  ",\"value\":{\"stringValue\":", JsonString(value), "}}");
}

void AppendSpan(std::string& json, const FinishedSpan& span) {
  absl::StrAppend(&json, "{\"traceId\":\"", span.context.trace_id.Hex(),
                  "\",\"spanId\":\"", SpanIdHex(span.context.span_id), "\"");
  if (span.parent_span_id != 0) {
    absl::StrAppend(&json, ",\"parentSpanId\":\"",
                    SpanIdHex(span.parent_span_id), "\"");
  }
  if (!span.context.tracestate.empty()) {
    absl::StrAppend(&json,
                    ",\"traceState\":", JsonString(span.context.tracestate));
  }
  // 64-bit integers are strings in the protobuf JSON mapping.
  absl::StrAppend(&json, ",\"name\":", JsonString(span.name),
                  ",\"kind\":", static_cast<int>(span.kind),
                  ",\"startTimeUnixNano\":\"", absl::ToUnixNanos(span.start),
                  "\",\"endTimeUnixNano\":\"", absl::ToUnixNanos(span.end),
                  "\",\"attributes\":[");
  AppendStringAttribute(json, "rpc.system", "grpc");
  absl::StrAppend(&json,
                  ",{\"key\":\"rpc.grpc.status_code\",\"value\":{"
                  "\"intValue\":\"",
                  span.grpc_code, "\"}}");
  for (const auto& [key, value] : span.attributes) {
    json += ",";
    AppendStringAttribute(json, key, value);
  }
  json += "]";
  if (span.grpc_code != 0) {
    absl::StrAppend(&json, ",\"status\":{\"code\":", kStatusError,
                    ",\"message\":", JsonString(span.status_message), "}");
  }
  json += "}";
}

Metrics::Series* SpanCounter(absl::string_view result) {
  static const bool described = [] {
    Metrics::Global().Describe(
        "accord_trace_spans_total", "counter",
        "Spans handed to the OTLP exporter, by result: exported, dropped "
        "(queue full) or failed (the collector did not take the batch).");
    return true;
  }();
  (void)described;
  return Metrics::Global().Counter("accord_trace_spans_total",
                                   {{"result", std::string(result)}});
}

}  // namespace

std::string OtlpTracesJson(absl::string_view service_name,
                           const std::vector<FinishedSpan>& spans) {
  std::string json = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  AppendStringAttribute(json, "service.name", service_name);
  json += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"accord\"},\"spans\":[";
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) json += ",";
    AppendSpan(json, spans[i]);
  }
  json += "]}]}]}";
  return json;
}

TraceExporter::TraceExporter(Options options) : options_(std::move(options)) {
  absl::string_view endpoint = options_.endpoint;
  while (absl::ConsumeSuffix(&endpoint, "/")) {
  }
  const size_t scheme_end = endpoint.find("://");
  const size_t path_start = endpoint.find(
      '/', scheme_end == absl::string_view::npos ? 0 : scheme_end + 3);
  scheme_host_port_ = std::string(endpoint.substr(0, path_start));
  path_ = absl::StrCat(
      path_start == absl::string_view::npos ? "" : endpoint.substr(path_start),
      "/v1/traces");
  queue_.reserve(options_.max_batch);
  thread_ = std::thread([this] { Run(); });
}

TraceExporter::~TraceExporter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

TraceExporter* TraceExporter::Active() {
  return active_exporter.load(std::memory_order_acquire);
}

void TraceExporter::SetActive(TraceExporter* exporter) {
  active_exporter.store(exporter, std::memory_order_release);
}

void TraceExporter::Export(FinishedSpan span) {
  static Metrics::Series* const dropped = SpanCounter("dropped");
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() >= options_.max_queue) {
      Metrics::Global().Increment(dropped);
      return;
    }
    queue_.push_back(std::move(span));
    wake = queue_.size() == options_.max_batch;
  }
  if (wake) wake_.notify_one();
}

void TraceExporter::Run() {
  static Metrics::Series* const exported = SpanCounter("exported");
  static Metrics::Series* const failed = SpanCounter("failed");
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait_for(lock, absl::ToChronoMilliseconds(options_.interval), [&] {
      return stopping_ || queue_.size() >= options_.max_batch;
    });
    const bool last = stopping_;
    while (!queue_.empty()) {
      std::vector<FinishedSpan> batch;
      if (queue_.size() <= options_.max_batch) {
        batch.swap(queue_);
      } else {
        batch.assign(
            std::make_move_iterator(queue_.begin()),
            std::make_move_iterator(queue_.begin() + options_.max_batch));
        queue_.erase(queue_.begin(), queue_.begin() + options_.max_batch);
      }
      lock.unlock();
      const bool sent = Send(batch);
      Metrics::Global().Increment(sent ? exported : failed,
                                  static_cast<double>(batch.size()));
      lock.lock();
      // A collector that is away is tried again at the next interval, not
      // in a loop; what queues meanwhile waits (or is dropped when full).
      if (!sent && !last) break;
    }
    if (last) return;
  }
}

bool TraceExporter::Send(const std::vector<FinishedSpan>& batch) {
  httplib::Client client(scheme_host_port_);
  const auto timeout = absl::ToChronoMicroseconds(options_.timeout);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  const std::string body = OtlpTracesJson(options_.service_name, batch);
  httplib::Result result = client.Post(path_.c_str(), body, "application/json");
  const bool sent = result && result->status >= 200 && result->status <= 299;
  // One line when the collector stops taking spans and one when it takes
  // them again, not one a second while it is away (the counter has the
  // rest). Logged without trace fields: this thread serves no RPC.
  if (!sent && !failing_) {
    LogWarning("trace export failing",
               {{"endpoint", options_.endpoint},
                {"spans", static_cast<int64_t>(batch.size())},
                {"error", result ? absl::StrCat("HTTP ", result->status)
                                 : httplib::to_string(result.error())}});
  } else if (sent && failing_) {
    LogInfo("trace export recovered", {{"endpoint", options_.endpoint}});
  }
  failing_ = !sent;
  return sent;
}

ClientCallSpan::ClientCallSpan(grpc::ClientContext& context,
                               std::string method) {
  const SpanContext parent = CurrentSpanContext();
  span_.context = ChildOf(parent);
  span_.parent_span_id = parent.span_id;
  context.AddMetadata("traceparent", FormatTraceparent(span_.context));
  if (!span_.context.tracestate.empty()) {
    context.AddMetadata("tracestate", span_.context.tracestate);
  }
  span_.name = std::move(method);
  span_.kind = FinishedSpan::kClient;
  // The clock is read only when the span will be exported.
  if (TraceExporter::Active() != nullptr) span_.start = absl::Now();
}

void ClientCallSpan::Finish(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  TraceExporter* exporter = TraceExporter::Active();
  if (exporter == nullptr) return;
  span_.end = absl::Now();
  span_.grpc_code = static_cast<int>(status.error_code());
  span_.status_message = status.error_message();
  const absl::string_view full = absl::StripPrefix(span_.name, "/");
  const size_t slash = full.rfind('/');
  if (slash != absl::string_view::npos) {
    span_.attributes.emplace_back("rpc.service",
                                  std::string(full.substr(0, slash)));
    span_.attributes.emplace_back("rpc.method",
                                  std::string(full.substr(slash + 1)));
  }
  exporter->Export(std::move(span_));
}

}  // namespace accord
