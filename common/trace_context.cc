#include "common/trace_context.h"

#include "absl/random/random.h"

namespace accord {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendHex(uint64_t value, int digits, std::string& out) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out.push_back(kHexDigits[(value >> shift) & 0xf]);
  }
}

// Lowercase hex only: the spec refuses upper case.
bool ParseHex(absl::string_view text, uint64_t& value) {
  value = 0;
  for (const char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  return true;
}

absl::InsecureBitGen& Bits() {
  thread_local absl::InsecureBitGen bits;
  return bits;
}

// The RPC this thread serves. The context pointer is compared before the
// span pointer is used; the ids are a copy, valid without the span.
struct ThreadRpc {
  const grpc::ServerContextBase* context = nullptr;
  RpcSpan* span = nullptr;
};
thread_local ThreadRpc current_rpc;
thread_local SpanContext current_span_context;

}  // namespace

std::string TraceId::Hex() const {
  std::string out;
  out.reserve(32);
  AppendHex(high, 16, out);
  AppendHex(low, 16, out);
  return out;
}

std::string SpanIdHex(uint64_t span_id) {
  std::string out;
  out.reserve(16);
  AppendHex(span_id, 16, out);
  return out;
}

std::optional<SpanContext> ParseTraceparent(absl::string_view header) {
  // version "-" trace-id "-" parent-id "-" flags
  constexpr size_t kLength = 2 + 1 + 32 + 1 + 16 + 1 + 2;
  if (header.size() < kLength) return std::nullopt;
  uint64_t version = 0;
  if (!ParseHex(header.substr(0, 2), version) || version == 0xff) {
    return std::nullopt;
  }
  if (version == 0 && header.size() != kLength) return std::nullopt;
  // A later version may append fields after another dash.
  if (header.size() > kLength && header[kLength] != '-') return std::nullopt;
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') {
    return std::nullopt;
  }
  SpanContext span;
  uint64_t flags = 0;
  if (!ParseHex(header.substr(3, 16), span.trace_id.high) ||
      !ParseHex(header.substr(19, 16), span.trace_id.low) ||
      !ParseHex(header.substr(36, 16), span.span_id) ||
      !ParseHex(header.substr(53, 2), flags)) {
    return std::nullopt;
  }
  if (!span.IsValid()) return std::nullopt;
  span.flags = static_cast<uint8_t>(flags);
  return span;
}

std::string FormatTraceparent(const SpanContext& span) {
  std::string out;
  out.reserve(55);
  out.append("00-");
  AppendHex(span.trace_id.high, 16, out);
  AppendHex(span.trace_id.low, 16, out);
  out.push_back('-');
  AppendHex(span.span_id, 16, out);
  out.push_back('-');
  AppendHex(span.flags, 2, out);
  return out;
}

std::string CheckedTracestate(absl::string_view header) {
  constexpr size_t kMaxLength = 512;
  if (header.size() > kMaxLength) return "";
  for (const char c : header) {
    if (c < 0x20 || c > 0x7e) return "";
  }
  return std::string(header);
}

TraceId NewTraceId() {
  TraceId id;
  while (!id.IsValid()) {
    id.high = absl::Uniform<uint64_t>(Bits());
    id.low = absl::Uniform<uint64_t>(Bits());
  }
  return id;
}

uint64_t NewSpanId() {
  uint64_t id = 0;
  while (id == 0) id = absl::Uniform<uint64_t>(Bits());
  return id;
}

SpanContext ChildOf(const SpanContext& parent) {
  SpanContext child;
  if (parent.trace_id.IsValid()) {
    child.trace_id = parent.trace_id;
    child.flags = parent.flags;
    child.tracestate = parent.tracestate;
  } else {
    child.trace_id = NewTraceId();
    // Sampled: Accord records every span it exports (no sampler).
    child.flags = 1;
  }
  child.span_id = NewSpanId();
  return child;
}

void SetCurrentRpc(const grpc::ServerContextBase* context, RpcSpan* span) {
  current_rpc = {context, span};
  current_span_context = span->context;
}

void ClearCurrentRpc(const RpcSpan* span) {
  if (current_rpc.span != span) return;
  current_rpc = {};
  current_span_context = SpanContext();
}

RpcSpan* CurrentRpc(const grpc::ServerContextBase& context) {
  return current_rpc.context == &context ? current_rpc.span : nullptr;
}

SpanContext CurrentSpanContext() { return current_span_context; }

std::string CurrentTraceparent() {
  if (!current_span_context.IsValid()) return "";
  return FormatTraceparent(current_span_context);
}

}  // namespace accord
