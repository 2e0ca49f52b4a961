#include "services/notification/webhook_backlog_metrics.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace accord::notification {
namespace {

TEST(SubscriptionLabelTest, TheFirstThousandNamesKeepTheirOwnLabel) {
  // Process-wide: this test is the only one in the binary that uses it.
  for (int i = 0; i < 1000; ++i) {
    const std::string name = absl::StrCat("subscriptions/s-", i);
    ASSERT_EQ(SubscriptionLabel(name), name);
  }
  EXPECT_EQ(SubscriptionLabel("subscriptions/one-too-many"),
            kOtherSubscriptionsLabel);
  // Names seen before keep theirs.
  EXPECT_EQ(SubscriptionLabel("subscriptions/s-0"), "subscriptions/s-0");
  EXPECT_EQ(SubscriptionLabel("subscriptions/s-999"), "subscriptions/s-999");
}

}  // namespace
}  // namespace accord::notification
