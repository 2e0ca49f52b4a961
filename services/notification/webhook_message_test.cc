#include "services/notification/webhook_message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "accord/institution/v1/institution.pb.h"
#include "common/events.h"

namespace accord::notification {
namespace {

using ::testing::HasSubstr;

// The example of the Standard Webhooks specification's reference
// libraries.
TEST(WebhookMessageTest, SignatureMatchesTheSpecificationExample) {
  absl::StatusOr<std::string> key =
      DecodeSigningSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.ok()) << key.status();
  const WebhookHeaders headers =
      SignWebhook(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek",
                  absl::FromUnixSeconds(1614265330), R"({"test": 2432232314})");
  EXPECT_EQ(headers.timestamp, "1614265330");
  EXPECT_EQ(headers.signature,
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

TEST(WebhookMessageTest, SecretsMustBeWellFormed) {
  EXPECT_FALSE(DecodeSigningSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").ok());
  EXPECT_FALSE(DecodeSigningSecret("whsec_!!!").ok());
  EXPECT_FALSE(DecodeSigningSecret("whsec_c2hvcnQ=").ok());  // "short"
}

TEST(WebhookMessageTest, CloudEventCarriesAttributesAndPayloadJson) {
  institution::v1::Institution institution;
  institution.set_name("institutions/tums");
  institution.set_country_code("IR");
  ChangeContext context;
  context.time = absl::FromUnixSeconds(1745582400);
  context.request_id = "r-1";
  events::v1::Event event =
      MakeEvent("//accord/institution", "accord.institution.v1.created",
                "institutions/tums", institution, context);
  event.set_position("1745582400000-0");
  absl::StatusOr<std::string> json = CloudEventJson(event);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(R"("specversion":"1.0")"));
  EXPECT_THAT(*json, HasSubstr(R"("type":"accord.institution.v1.created")"));
  EXPECT_THAT(*json, HasSubstr(R"("subject":"institutions/tums")"));
  EXPECT_THAT(*json, HasSubstr(R"("time":"2025-04-25T12:00:00Z")"));
  EXPECT_THAT(*json, HasSubstr(R"("position":"1745582400000-0")"));
  EXPECT_THAT(*json, HasSubstr(R"("data":{"name":"institutions/tums")"));
  EXPECT_THAT(*json, HasSubstr(R"("countryCode":"IR")"));
  // No call, no trace: the extension is left out.
  EXPECT_THAT(*json, ::testing::Not(HasSubstr("traceparent")));
}

TEST(WebhookMessageTest, CloudEventCarriesTheTraceparentOfTheChange) {
  institution::v1::Institution institution;
  institution.set_name("institutions/tums");
  ChangeContext context;
  context.time = absl::FromUnixSeconds(1745582400);
  context.traceparent =
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const events::v1::Event event =
      MakeEvent("//accord/institution", "accord.institution.v1.created",
                "institutions/tums", institution, context);
  EXPECT_EQ(event.traceparent(), context.traceparent);
  absl::StatusOr<std::string> json = CloudEventJson(event);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr(R"("traceparent":"00-4bf92f3577b34da6a3ce929d)"
                               R"(0e0e4736-00f067aa0ba902b7-01")"));
}

}  // namespace
}  // namespace accord::notification
