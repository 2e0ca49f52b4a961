#include "services/notification/event_selector.h"

#include <gtest/gtest.h>

#include "common/errors.h"

namespace accord::notification {
namespace {

events::v1::Event EventOf(const std::string& type,
                          const std::string& country = "IR") {
  events::v1::Event event;
  event.set_type(type);
  event.add_country_codes(country);
  return event;
}

TEST(EventSelectorTest, ExactAndPrefixTypes) {
  absl::StatusOr<EventSelector> selector = EventSelector::Create(
      {"accord.agreement.v1.recorded", "accord.milestone.v1.*"}, "", "");
  ASSERT_TRUE(selector.ok()) << selector.status();
  EXPECT_TRUE(selector->Matches(EventOf("accord.agreement.v1.recorded")));
  EXPECT_TRUE(selector->Matches(EventOf("accord.milestone.v1.updated")));
  EXPECT_FALSE(selector->Matches(EventOf("accord.agreement.v1.updated")));
  EXPECT_FALSE(selector->Matches(EventOf("accord.milestone.v10.created")));
}

TEST(EventSelectorTest, FilterOverEventFields) {
  absl::StatusOr<EventSelector> selector = EventSelector::Create(
      {"accord.institution.v1.*"}, R"(country_codes = "RU")", "");
  ASSERT_TRUE(selector.ok()) << selector.status();
  EXPECT_TRUE(
      selector->Matches(EventOf("accord.institution.v1.created", "RU")));
  EXPECT_FALSE(
      selector->Matches(EventOf("accord.institution.v1.created", "IR")));
}

TEST(EventSelectorTest, SubscriptionEventsNeverMatch) {
  EventSelector everything;
  EXPECT_FALSE(everything.Matches(EventOf("accord.subscription.v1.created")));
  // Not in the vocabulary, so refused where callers name it...
  EXPECT_FALSE(
      EventSelector::Create({"accord.subscription.v1.*"}, "", "").ok());
  // ...and never matching in a subscription stored before that.
  absl::StatusOr<EventSelector> selector =
      EventSelector::Create({"accord.subscription.v1.*"}, "", "",
                            EventSelector::TypeCheck::kSyntaxOnly);
  ASSERT_TRUE(selector.ok());
  EXPECT_FALSE(selector->Matches(EventOf("accord.subscription.v1.created")));
}

TEST(EventSelectorTest, OnlyRegisteredTypesAreAccepted) {
  EXPECT_TRUE(EventSelector::Create({"accord.agreement.v1.recorded",
                                     "accord.milestone.v1.*", "accord.*"},
                                    "", "")
                  .ok());
  for (const char* unknown :
       {"agreement", "accord.agreement.v1.created",
        "accord.agreemnt.v1.recorded", "accord.nothing.*", "accord.agree.*"}) {
    absl::StatusOr<EventSelector> refused = EventSelector::Create(
        {"accord.agreement.v1.recorded", unknown}, "", "subscription");
    ASSERT_FALSE(refused.ok()) << unknown;
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    const std::vector<FieldViolation> violations =
        FieldViolationsOf(refused.status());
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].field, "subscription.event_types[1]");
    // The refusal lists what is valid.
    EXPECT_NE(violations[0].description.find("accord.milestone.v1.recorded"),
              std::string::npos)
        << violations[0].description;
  }
}

TEST(EventSelectorTest, ErrorsNameTheField) {
  absl::StatusOr<EventSelector> bad_type = EventSelector::Create(
      {"accord.agreement.v1.recorded", "bad type"}, "", "subscription");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(FieldViolationsOf(bad_type.status())[0].field,
            "subscription.event_types[1]");
  absl::StatusOr<EventSelector> bad_filter =
      EventSelector::Create({}, "no_such_field = 1", "subscription");
  ASSERT_FALSE(bad_filter.ok());
  EXPECT_EQ(FieldViolationsOf(bad_filter.status())[0].field,
            "subscription.filter");
}

}  // namespace
}  // namespace accord::notification
