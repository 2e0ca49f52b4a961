#include "common/trace_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

namespace accord {
namespace {

// The example of the W3C Trace Context spec.
constexpr char kExample[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ParsesTheSpecExample) {
  const std::optional<SpanContext> span = ParseTraceparent(kExample);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(span->trace_id.Hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(span->trace_id.high, 0x4bf92f3577b34da6u);
  EXPECT_EQ(span->trace_id.low, 0xa3ce929d0e0e4736u);
  EXPECT_EQ(span->span_id, 0x00f067aa0ba902b7u);
  EXPECT_EQ(SpanIdHex(span->span_id), "00f067aa0ba902b7");
  EXPECT_EQ(span->flags, 1);
}

TEST(TraceparentTest, FormatsWhatItParses) {
  const std::optional<SpanContext> span = ParseTraceparent(kExample);
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(FormatTraceparent(*span), kExample);
  const std::string unsampled =
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
  ASSERT_TRUE(ParseTraceparent(unsampled).has_value());
  EXPECT_EQ(FormatTraceparent(*ParseTraceparent(unsampled)), unsampled);
}

TEST(TraceparentTest, RefusesWhatTheSpecRefuses) {
  for (const std::string header : {
           "",
           "00",
           // All-zero trace id, all-zero span id.
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
           // Version ff is invalid.
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           // Upper case hex.
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
           // Wrong lengths.
           "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
           // Version 00 allows nothing after the flags.
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
           // Separators and digits.
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
           "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       }) {
    EXPECT_FALSE(ParseTraceparent(header).has_value()) << header;
  }
}

TEST(TraceparentTest, ALaterVersionIsReadAsVersionZero) {
  // The spec's forward compatibility: parse the known fields, ignore the
  // rest after a dash.
  const std::optional<SpanContext> span = ParseTraceparent(
      "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever");
  ASSERT_TRUE(span.has_value());
  EXPECT_EQ(FormatTraceparent(*span), kExample);
  EXPECT_FALSE(
      ParseTraceparent(
          "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01what")
          .has_value());
}

TEST(TraceparentTest, NewIdsAreNonZeroAndDiffer) {
  std::set<std::string> traces;
  std::set<uint64_t> spans;
  for (int i = 0; i < 1000; ++i) {
    const TraceId trace = NewTraceId();
    EXPECT_TRUE(trace.IsValid());
    traces.insert(trace.Hex());
    spans.insert(NewSpanId());
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(spans.size(), 1000u);
  EXPECT_EQ(spans.count(0), 0u);
}

TEST(TraceparentTest, AChildKeepsTheTraceAndGetsANewSpan) {
  SpanContext parent = *ParseTraceparent(kExample);
  parent.tracestate = "congo=t61rcWkgMzE";
  const SpanContext child = ChildOf(parent);
  EXPECT_EQ(child.trace_id, parent.trace_id);
  EXPECT_NE(child.span_id, parent.span_id);
  EXPECT_NE(child.span_id, 0u);
  EXPECT_EQ(child.flags, parent.flags);
  EXPECT_EQ(child.tracestate, "congo=t61rcWkgMzE");

  const SpanContext root = ChildOf(SpanContext());
  EXPECT_TRUE(root.IsValid());
  EXPECT_EQ(root.flags, 1);
  EXPECT_THAT(FormatTraceparent(root),
              ::testing::MatchesRegex("00-[0-9a-f]{32}-[0-9a-f]{16}-01"));
}

TEST(TraceparentTest, TracestateIsKeptOnlyWhenPlausible) {
  EXPECT_EQ(CheckedTracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
            "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_EQ(CheckedTracestate(std::string(513, 'a')), "");
  EXPECT_EQ(CheckedTracestate("a=b\nc=d"), "");
}

TEST(CurrentRpcTest, TheSpanIsReachedOnlyThroughItsOwnContext) {
  // Any two distinct addresses stand in for two calls' server contexts.
  int first_call = 0;
  int second_call = 0;
  const auto* first =
      reinterpret_cast<const grpc::ServerContextBase*>(&first_call);
  const auto* second =
      reinterpret_cast<const grpc::ServerContextBase*>(&second_call);
  EXPECT_EQ(CurrentTraceparent(), "");
  RpcSpan span;
  span.context = ChildOf(*ParseTraceparent(kExample));
  SetCurrentRpc(first, &span);
  EXPECT_EQ(CurrentRpc(*first), &span);
  EXPECT_EQ(CurrentRpc(*second), nullptr);
  EXPECT_EQ(CurrentTraceparent(), FormatTraceparent(span.context));
  EXPECT_EQ(CurrentSpanContext().span_id, span.context.span_id);
  ClearCurrentRpc(&span);
  EXPECT_EQ(CurrentRpc(*first), nullptr);
  EXPECT_EQ(CurrentTraceparent(), "");
}

}  // namespace
}  // namespace accord
