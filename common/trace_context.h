#ifndef ACCORD_COMMON_TRACE_CONTEXT_H_
#define ACCORD_COMMON_TRACE_CONTEXT_H_

// W3C Trace Context (https://www.w3.org/TR/trace-context/): the
// `traceparent` a caller sends, the span each RPC gets, and the RPC a
// thread is serving right now.
//
// Every RPC is a span: its trace id comes from the caller's `traceparent`
// gRPC metadata when that is valid (a new random trace otherwise), its span
// id is new, and its parent is the caller's span. The server's interceptor
// (common/server.cc) makes the span and makes it current on the thread
// that runs the handler, so handlers reach it without passing it along:
// the log line of the call, the `traceparent` of the events it records
// (ChangeContext) and the `traceparent` of the calls it makes to other
// services (ChildTraceparent) all come from it.
//
// Example:
//   std::optional<SpanContext> parent = ParseTraceparent(
//       "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
//   parent->trace_id.Hex();  // "4bf92f3577b34da6a3ce929d0e0e4736"
//   SpanContext child = ChildOf(*parent);  // same trace, new span id
//   FormatTraceparent(child);  // "00-4bf9...4736-<new span id>-01"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace accord {

// 16 bytes; all zero is invalid.
struct TraceId {
  uint64_t high = 0;
  uint64_t low = 0;
  bool IsValid() const { return (high | low) != 0; }
  std::string Hex() const;  // 32 lowercase hex digits
  bool operator==(const TraceId& other) const {
    return high == other.high && low == other.low;
  }
};

// 16 lowercase hex digits of an 8-byte span id.
std::string SpanIdHex(uint64_t span_id);

// What `traceparent` carries, plus the vendor `tracestate` that travels with
// it unchanged.
struct SpanContext {
  TraceId trace_id;
  uint64_t span_id = 0;  // 0 is invalid
  uint8_t flags = 0;     // bit 0: sampled
  std::string tracestate;
  bool IsValid() const { return trace_id.IsValid() && span_id != 0; }
};

// A `traceparent` header value, checked as the W3C spec says: version two
// lowercase hex digits other than "ff"; for version 00 exactly
// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`, for a later
// version the same prefix followed by nothing or by "-..." (parsed as 00).
// Trace id and span id must not be all zero. nullopt if invalid.
std::optional<SpanContext> ParseTraceparent(absl::string_view header);

// "00-<trace id>-<span id>-<flags>".
std::string FormatTraceparent(const SpanContext& span);

// A `tracestate` value kept only if it is plausibly well formed: at most
// 512 characters of printable ASCII (the spec's limit). Empty otherwise.
std::string CheckedTracestate(absl::string_view header);

// Random ids, never zero. Cheap: a thread-local generator.
TraceId NewTraceId();
uint64_t NewSpanId();

// A new span in `parent`'s trace (same flags and tracestate); a new
// sampled trace if `parent` is invalid.
SpanContext ChildOf(const SpanContext& parent);

// The server span of one RPC, owned by the server's interceptor for the
// life of the call.
struct RpcSpan {
  SpanContext context;          // this RPC's span
  uint64_t parent_span_id = 0;  // the caller's span; 0: a new trace
  // Filled in while the call runs: the authenticated principal (by
  // Authenticator::Authorize) and the request's `request_id`, if any.
  std::string principal;
  std::string request_id;
};

// Makes `span` (of the call on `context`) the one this thread serves; the
// server's interceptor calls it before the handler runs.
void SetCurrentRpc(const grpc::ServerContextBase* context, RpcSpan* span);
// Forgets `span` if it is this thread's current one.
void ClearCurrentRpc(const RpcSpan* span);

// The span of the call on `context` if this thread serves it, else null.
// Safe to call anywhere: the thread's span is only returned for the
// context it was made for, so a stale one is never dereferenced.
RpcSpan* CurrentRpc(const grpc::ServerContextBase& context);

// The span context of the RPC this thread serves (a copy); invalid when the
// thread serves none (a background task).
SpanContext CurrentSpanContext();

// The `traceparent` of the RPC this thread serves; empty when none.
std::string CurrentTraceparent();

}  // namespace accord

#endif  // ACCORD_COMMON_TRACE_CONTEXT_H_
