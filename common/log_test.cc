#include "common/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace accord {
namespace {

// The `ts=` value of a key-value log line.
std::string TimestampOf(const std::string& line) {
  const size_t start = line.find("ts=");
  if (start == std::string::npos) return "";
  const size_t end = line.find(' ', start);
  return line.substr(start + 3, end - start - 3);
}

TEST(LogTest, KeyValueLinesCarryAMillisecondUtcTimestampAndQuoteValues) {
  SetLogFormat(LogFormat::kKeyValue);
  SetLogLevel(LogLevel::kInfo);
  // Several lines across at least one second boundary: the timestamp's
  // per-second part is cached, its milliseconds are not.
  const absl::Time end = absl::Now() + absl::Milliseconds(1100);
  while (absl::Now() < end) {
    const absl::Time before =
        absl::FromUnixMillis(absl::ToUnixMillis(absl::Now()));
    ::testing::internal::CaptureStderr();
    Log(LogLevel::kInfo, "hello", {{"field", "two words"}});
    const std::string line = ::testing::internal::GetCapturedStderr();
    const absl::Time after = absl::Now();

    const std::string ts = TimestampOf(line);
    ASSERT_THAT(ts, ::testing::MatchesRegex(
                        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                        "\\.[0-9]{3}Z"))
        << line;
    absl::Time parsed;
    std::string error;
    ASSERT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%E3SZ", ts, &parsed, &error))
        << error;
    EXPECT_GE(parsed, before) << line;
    EXPECT_LE(parsed, after) << line;
    EXPECT_THAT(line, ::testing::HasSubstr(" level=info"));
    EXPECT_THAT(line, ::testing::HasSubstr(" msg=hello"));
    EXPECT_THAT(line, ::testing::EndsWith(" field=\"two words\"\n"));
    absl::SleepFor(absl::Milliseconds(37));
  }
}

TEST(LogTest, LinesBelowTheLevelAreDropped) {
  SetLogFormat(LogFormat::kKeyValue);
  SetLogLevel(LogLevel::kWarning);
  ::testing::internal::CaptureStderr();
  Log(LogLevel::kInfo, "quiet", {});
  Log(LogLevel::kWarning, "loud", {});
  const std::string output = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kWarning));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
  SetLogLevel(LogLevel::kInfo);
  EXPECT_THAT(output, ::testing::Not(::testing::HasSubstr("quiet")));
  EXPECT_THAT(output, ::testing::HasSubstr("msg=loud"));
}

TEST(LogTest, JsonLinesPrintNumbersAsNumbersAndTextAsStrings) {
  SetLogFormat(LogFormat::kJson);
  SetLogLevel(LogLevel::kInfo);
  ::testing::internal::CaptureStderr();
  Log(LogLevel::kInfo, "rpc",
      {{"latency_ms", 0.25},
       {"count", 42},
       {"big", int64_t{-9000000000}},
       {"code", "OK"},
       {"request_id", "12345"},
       {"ratio", 1.0 / 0.0}});
  const std::string line = ::testing::internal::GetCapturedStderr();
  SetLogFormat(LogFormat::kKeyValue);
  EXPECT_THAT(line, ::testing::HasSubstr(R"("latency_ms":0.25,)"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"("count":42,)"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"("big":-9000000000,)"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"("code":"OK")"));
  // Text that looks like a number stays a string.
  EXPECT_THAT(line, ::testing::HasSubstr(R"("request_id":"12345")"));
  // Infinity is no JSON number.
  EXPECT_THAT(line, ::testing::HasSubstr(R"("ratio":"inf")"));
  EXPECT_THAT(line, ::testing::EndsWith("}\n"));
}

TEST(LogTest, KeyValueLinesPrintNumbersBare) {
  SetLogFormat(LogFormat::kKeyValue);
  SetLogLevel(LogLevel::kInfo);
  ::testing::internal::CaptureStderr();
  Log(LogLevel::kInfo, "rpc", {{"latency_ms", 1.5}, {"count", 7}});
  const std::string line = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(line, ::testing::EndsWith(" latency_ms=1.5 count=7\n"));
}

}  // namespace
}  // namespace accord
