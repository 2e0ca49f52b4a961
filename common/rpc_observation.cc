#include "common/rpc_observation.h"

#include <array>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/trace_export.h"

namespace accord {
namespace {

absl::string_view CodeName(grpc::StatusCode code) {
  static constexpr absl::string_view kNames[] = {"OK",
                                                 "CANCELLED",
                                                 "UNKNOWN",
                                                 "INVALID_ARGUMENT",
                                                 "DEADLINE_EXCEEDED",
                                                 "NOT_FOUND",
                                                 "ALREADY_EXISTS",
                                                 "PERMISSION_DENIED",
                                                 "RESOURCE_EXHAUSTED",
                                                 "FAILED_PRECONDITION",
                                                 "ABORTED",
                                                 "OUT_OF_RANGE",
                                                 "UNIMPLEMENTED",
                                                 "INTERNAL",
                                                 "UNAVAILABLE",
                                                 "DATA_LOSS",
                                                 "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : "UNKNOWN";
}

struct SelfObservedRegistry {
  absl::Mutex mutex;
  absl::flat_hash_set<std::string> methods ABSL_GUARDED_BY(mutex);
};

SelfObservedRegistry& Registry() {
  static SelfObservedRegistry* registry = new SelfObservedRegistry();
  return *registry;
}

// The two series of each (method, code), resolved on first use.
struct RpcSeries {
  Metrics::Series* requests = nullptr;
  Metrics::Series* latency = nullptr;
};

RpcSeries SeriesFor(absl::string_view method, grpc::StatusCode code) {
  constexpr int kCodes = 17;
  const int index = static_cast<int>(code);
  static absl::Mutex* mutex = new absl::Mutex();
  static auto* cache =
      new absl::flat_hash_map<std::string, std::array<RpcSeries, kCodes>>();
  auto resolve = [&] {
    const MetricLabels labels = {{"method", std::string(method)},
                                 {"code", std::string(CodeName(code))}};
    return RpcSeries{
        Metrics::Global().Counter("accord_rpc_requests_total", labels),
        Metrics::Global().Histogram("accord_rpc_latency_seconds", labels)};
  };
  if (index < 0 || index >= kCodes) return resolve();
  {
    absl::ReaderMutexLock lock(mutex);
    auto found = cache->find(method);
    if (found != cache->end() && found->second[index].requests != nullptr) {
      return found->second[index];
    }
  }
  const RpcSeries series = resolve();
  absl::MutexLock lock(mutex);
  (*cache)[method][index] = series;
  return series;
}

void ExportServerSpan(absl::string_view method, const grpc::Status& status,
                      absl::Duration latency, const RpcSpan& span,
                      TraceExporter& exporter) {
  FinishedSpan finished;
  finished.context = span.context;
  finished.parent_span_id = span.parent_span_id;
  finished.name = std::string(method);
  finished.kind = FinishedSpan::kServer;
  finished.end = absl::Now();
  finished.start = finished.end - latency;
  finished.grpc_code = static_cast<int>(status.error_code());
  finished.status_message = status.error_message();
  // "/accord.agreement.v1.AgreementService/CreateAgreement"
  const absl::string_view full = absl::StripPrefix(method, "/");
  const size_t slash = full.rfind('/');
  if (slash != absl::string_view::npos) {
    finished.attributes.emplace_back("rpc.service",
                                     std::string(full.substr(0, slash)));
    finished.attributes.emplace_back("rpc.method",
                                     std::string(full.substr(slash + 1)));
  }
  if (!span.principal.empty()) {
    finished.attributes.emplace_back("principal", span.principal);
  }
  if (!span.request_id.empty()) {
    finished.attributes.emplace_back("request_id", span.request_id);
  }
  exporter.Export(std::move(finished));
}

}  // namespace

void ObserveRpc(absl::string_view method, const grpc::Status& status,
                absl::Duration latency, absl::string_view peer,
                const RpcSpan* span) {
  const double seconds = absl::ToDoubleSeconds(latency);
  const RpcSeries series = SeriesFor(method, status.error_code());
  Metrics::Global().Increment(series.requests);
  Metrics::Global().Observe(series.latency, seconds);
  const LogLevel level =
      status.ok() ? LogLevel::kInfo
      : status.error_code() == grpc::StatusCode::INTERNAL ||
              status.error_code() == grpc::StatusCode::UNKNOWN ||
              status.error_code() == grpc::StatusCode::DATA_LOSS
          ? LogLevel::kError
          : LogLevel::kWarning;
  // Fields are built only for a line that is printed.
  if (LogEnabled(level)) {
    absl::InlinedVector<LogField, 10> fields = {
        {"method", std::string(method)},
        {"code", CodeName(status.error_code())},
        {"latency_ms", seconds * 1000},
        {"peer", std::string(peer)}};
    if (span != nullptr) {
      // Unauthenticated calls have no principal; calls without a request_id
      // leave it out.
      if (!span->principal.empty()) {
        fields.push_back({"principal", span->principal});
      }
      if (!span->request_id.empty()) {
        fields.push_back({"request_id", span->request_id});
      }
      fields.push_back({"trace_id", span->context.trace_id.Hex()});
      fields.push_back({"span_id", SpanIdHex(span->context.span_id)});
      if (span->parent_span_id != 0) {
        fields.push_back({"parent_span_id", SpanIdHex(span->parent_span_id)});
      }
    }
    fields.push_back({"error", status.error_message()});
    Log(level, "rpc", fields);
  }
  if (span != nullptr) {
    if (TraceExporter* exporter = TraceExporter::Active()) {
      ExportServerSpan(method, status, latency, *span, *exporter);
    }
  }
}

SelfObservedMethod::SelfObservedMethod(std::string full_name)
    : name_(std::move(full_name)) {
  SelfObservedRegistry& registry = Registry();
  absl::MutexLock lock(&registry.mutex);
  registry.methods.insert(name_);
}

bool IsSelfObserved(absl::string_view full_name) {
  SelfObservedRegistry& registry = Registry();
  absl::ReaderMutexLock lock(&registry.mutex);
  return registry.methods.contains(full_name);
}

}  // namespace accord
