#include "services/notification/webhook_dispatcher.h"

#include <gtest/gtest.h>

namespace accord::notification {
namespace {

WebhookOptions Options() {
  WebhookOptions options;
  options.initial_backoff = absl::Seconds(1);
  options.max_backoff = absl::Seconds(10);
  options.max_retry_after = absl::Minutes(5);
  return options;
}

TEST(RetryDelayTest, DoublesUpToTheCap) {
  const WebhookOptions options = Options();
  EXPECT_EQ(RetryDelay(options, 1, std::nullopt, 1.0), absl::Seconds(1));
  EXPECT_EQ(RetryDelay(options, 2, std::nullopt, 1.0), absl::Seconds(2));
  EXPECT_EQ(RetryDelay(options, 4, std::nullopt, 1.0), absl::Seconds(8));
  EXPECT_EQ(RetryDelay(options, 5, std::nullopt, 1.0), absl::Seconds(10));
  EXPECT_EQ(RetryDelay(options, 60, std::nullopt, 1.0), absl::Seconds(10));
}

TEST(RetryDelayTest, JitterScalesTheDelay) {
  const WebhookOptions options = Options();
  EXPECT_EQ(RetryDelay(options, 2, std::nullopt, 0.8), absl::Seconds(1.6));
  EXPECT_EQ(RetryDelay(options, 2, std::nullopt, 1.2), absl::Seconds(2.4));
}

TEST(RetryDelayTest, RetryAfterIsAFloorWithinItsCap) {
  const WebhookOptions options = Options();
  EXPECT_EQ(RetryDelay(options, 1, absl::Seconds(30), 1.0), absl::Seconds(30));
  EXPECT_EQ(RetryDelay(options, 4, absl::Seconds(1), 1.0), absl::Seconds(8));
  EXPECT_EQ(RetryDelay(options, 1, absl::Hours(5), 1.0), absl::Minutes(5));
}

}  // namespace
}  // namespace accord::notification
