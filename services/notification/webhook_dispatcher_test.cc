#include "services/notification/webhook_dispatcher.h"

#include <gtest/gtest.h>

namespace accord::notification {
namespace {

WebhookOptions Options() {
  WebhookOptions options;
  options.retry_schedule = {absl::Seconds(1), absl::Seconds(2),
                            absl::Seconds(8)};
  options.max_retry_after = absl::Minutes(5);
  return options;
}

TEST(RetryDelayTest, FollowsTheScheduleThenRepeatsItsLastDelay) {
  const WebhookOptions options = Options();
  EXPECT_EQ(RetryDelay(options, 1, std::nullopt, 1.0), absl::Seconds(1));
  EXPECT_EQ(RetryDelay(options, 2, std::nullopt, 1.0), absl::Seconds(2));
  EXPECT_EQ(RetryDelay(options, 3, std::nullopt, 1.0), absl::Seconds(8));
  EXPECT_EQ(RetryDelay(options, 60, std::nullopt, 1.0), absl::Seconds(8));
}

TEST(RetryDelayTest, JitterScalesTheDelay) {
  const WebhookOptions options = Options();
  EXPECT_EQ(RetryDelay(options, 2, std::nullopt, 0.8), absl::Seconds(1.6));
  EXPECT_EQ(RetryDelay(options, 2, std::nullopt, 1.2), absl::Seconds(2.4));
}

TEST(RetryDelayTest, RetryAfterIsAFloorWithinItsCap) {
  const WebhookOptions options = Options();
  EXPECT_EQ(RetryDelay(options, 1, absl::Seconds(30), 1.0), absl::Seconds(30));
  EXPECT_EQ(RetryDelay(options, 3, absl::Seconds(1), 1.0), absl::Seconds(8));
  EXPECT_EQ(RetryDelay(options, 1, absl::Hours(5), 1.0), absl::Minutes(5));
}

// The default must outlast an outage of a working day and a night: the
// issue's "lunch break" receiver lost everything after 2 minutes.
TEST(RetryDelayTest, DefaultScheduleSpansMoreThanADay) {
  const WebhookOptions options;
  EXPECT_EQ(AttemptsPerRound(options), 8);
  absl::Duration shortest_span;
  for (int attempt = 1; attempt < AttemptsPerRound(options); ++attempt) {
    shortest_span += RetryDelay(options, attempt, std::nullopt, 0.8);
  }
  EXPECT_GE(shortest_span, absl::Hours(22));
  absl::Duration nominal_span;
  for (int attempt = 1; attempt < AttemptsPerRound(options); ++attempt) {
    nominal_span += RetryDelay(options, attempt, std::nullopt, 1.0);
  }
  EXPECT_GE(nominal_span, absl::Hours(24));
  EXPECT_EQ(RetryDelay(options, 1, std::nullopt, 1.0), absl::Seconds(5));
}

TEST(RetryScheduleTest, ParsesDelaysAndRefusesNonsense) {
  absl::StatusOr<std::vector<absl::Duration>> parsed =
      ParseRetrySchedule("5s, 5m,2h");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, (std::vector<absl::Duration>{
                         absl::Seconds(5), absl::Minutes(5), absl::Hours(2)}));
  EXPECT_FALSE(ParseRetrySchedule("").ok());
  EXPECT_FALSE(ParseRetrySchedule("5s,,5m").ok());
  EXPECT_FALSE(ParseRetrySchedule("0s").ok());
  EXPECT_FALSE(ParseRetrySchedule("-5s").ok());
  EXPECT_FALSE(ParseRetrySchedule("soon").ok());
  EXPECT_FALSE(ParseRetrySchedule("200h").ok());
}

TEST(RetryScheduleTest, MaxAttemptsOverridesTheScheduleLength) {
  WebhookOptions options = Options();
  EXPECT_EQ(AttemptsPerRound(options), 4);
  options.max_attempts = 2;
  EXPECT_EQ(AttemptsPerRound(options), 2);
}

}  // namespace
}  // namespace accord::notification
