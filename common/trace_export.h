#ifndef ACCORD_COMMON_TRACE_EXPORT_H_
#define ACCORD_COMMON_TRACE_EXPORT_H_

// Finished spans sent to an OpenTelemetry collector over OTLP/HTTP with the
// JSON encoding: POST <endpoint>/v1/traces, body an
// ExportTraceServiceRequest (https://opentelemetry.io/docs/specs/otlp/).
//
// Off unless --otlp_endpoint is set. Spans queue in memory and a
// background thread sends them in batches; a full queue drops the span and
// counts it (accord_trace_spans_dropped_total), so an RPC never waits for
// the collector. When export is off, Active() is null and nothing else
// runs.
//
// Example:
//   TraceExporter exporter({.endpoint = "http://127.0.0.1:4318",
//                           .service_name = "accord-agreement"});
//   TraceExporter::SetActive(&exporter);
//   ...
//   if (TraceExporter* active = TraceExporter::Active()) {
//     active->Export(std::move(span));
//   }

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/trace_context.h"

namespace accord {

// One finished span.
struct FinishedSpan {
  // OTLP Span.SpanKind values.
  enum Kind { kServer = 2, kClient = 3 };
  SpanContext context;
  uint64_t parent_span_id = 0;
  std::string name;
  Kind kind = kServer;
  absl::Time start;
  absl::Time end;
  // The gRPC status code (0 OK); a non-OK code makes the span's status
  // ERROR with `status_message`.
  int grpc_code = 0;
  std::string status_message;
  // String attributes, e.g. {"rpc.method", "CreateAgreement"}.
  std::vector<std::pair<std::string, std::string>> attributes;
};

// The OTLP JSON ExportTraceServiceRequest of `spans`, all from one
// resource whose `service.name` is `service_name`.
std::string OtlpTracesJson(absl::string_view service_name,
                           const std::vector<FinishedSpan>& spans);

class TraceExporter {
 public:
  struct Options {
    // "http://host:port" (or https), optionally with a path prefix;
    // spans go to <endpoint>/v1/traces.
    std::string endpoint;
    // The resource's `service.name`, e.g. "accord-agreement".
    std::string service_name;
    // Spans held while the collector is slow or away; beyond this, new
    // spans are dropped. 4096 spans are about 4 MB: a few seconds of a
    // busy replica.
    size_t max_queue = 4096;
    // Spans per request: about 0.5 MB of JSON, well inside a collector's
    // default request limits.
    size_t max_batch = 512;
    // How long a span may wait for a batch to fill before it is sent: 1 s
    // keeps traces close to real time at one request a second when idle.
    absl::Duration interval = absl::Seconds(1);
    // Deadline of one export request: 5 s lets a loaded collector answer,
    // while a dead one holds the sending thread (never an RPC) briefly.
    absl::Duration timeout = absl::Seconds(5);
  };

  // Starts the sending thread.
  explicit TraceExporter(Options options);
  // Sends what is queued (one last try) and stops.
  ~TraceExporter();
  TraceExporter(const TraceExporter&) = delete;
  TraceExporter& operator=(const TraceExporter&) = delete;

  // Queues `span`; never blocks on the network. Drops it when the queue is
  // full.
  void Export(FinishedSpan span);

  // The process's exporter, or null when export is off.
  static TraceExporter* Active();
  static void SetActive(TraceExporter* exporter);

 private:
  void Run();
  // POSTs one batch; false if the collector did not take it.
  bool Send(const std::vector<FinishedSpan>& batch);

  const Options options_;
  std::string scheme_host_port_;
  std::string path_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<FinishedSpan> queue_;  // guarded by mutex_
  bool stopping_ = false;            // guarded by mutex_
  bool failing_ = false;             // the sending thread's own
  std::thread thread_;
};

// The client span of one outgoing gRPC call: a child of the RPC this thread
// serves (a new trace when it serves none), sent as the call's
// `traceparent` (and `tracestate`) metadata, and exported when finished if
// export is on.
//
// Example:
//   grpc::ClientContext context;
//   ClientCallSpan span(context,
//       "/accord.institution.v1.InstitutionService/BatchGetInstitutions");
//   span.Finish(stub->BatchGetInstitutions(&context, request, &response));
class ClientCallSpan {
 public:
  ClientCallSpan(grpc::ClientContext& context, std::string method);
  // Exports the span (once) with the call's status.
  void Finish(const grpc::Status& status);
  const SpanContext& context() const { return span_.context; }

 private:
  FinishedSpan span_;
  bool finished_ = false;
};

}  // namespace accord

#endif  // ACCORD_COMMON_TRACE_EXPORT_H_
