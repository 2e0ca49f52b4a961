#include "services/notification/url_guard.h"

#include <gtest/gtest.h>

namespace accord::notification {
namespace {

std::array<uint8_t, 16> Address(const std::string& text) {
  return ParseCidr(text)->address;
}

TEST(UrlGuardTest, RefusesInternalAddresses) {
  for (const char* address :
       {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
        "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254"}) {
    EXPECT_TRUE(IsRefusedAddress(Address(address))) << address;
  }
  for (const char* address :
       {"8.8.8.8", "172.32.0.1", "93.184.216.34", "2606:4700::1111"}) {
    EXPECT_FALSE(IsRefusedAddress(Address(address))) << address;
  }
}

TEST(UrlGuardTest, AllowListPermitsOnlyItsBlocks) {
  UrlGuard guard(*ParseCidrList("127.0.0.0/8, ::1/128"));
  EXPECT_TRUE(guard.Permits(Address("127.0.0.1")));
  EXPECT_TRUE(guard.Permits(Address("::1")));
  EXPECT_FALSE(guard.Permits(Address("10.0.0.1")));
  EXPECT_FALSE(guard.Permits(Address("169.254.169.254")));
}

TEST(UrlGuardTest, ResolveRefusesLoopbackWithoutAllowList) {
  UrlGuard guard({});
  absl::StatusOr<WebhookTarget> target =
      guard.Resolve("http://127.0.0.1:8080/hook");
  EXPECT_EQ(target.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(guard.Resolve("http://localhost/x").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(guard.Resolve("http://[::1]/x").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      guard.Resolve("http://169.254.169.254/latest/meta-data").status().code(),
      absl::StatusCode::kPermissionDenied);
}

TEST(UrlGuardTest, ResolvePinsTheCheckedAddress) {
  UrlGuard guard(*ParseCidrList("127.0.0.0/8"));
  absl::StatusOr<WebhookTarget> target =
      guard.Resolve("http://127.0.0.1:8080/hook?x=1");
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->scheme, "http");
  EXPECT_EQ(target->host, "127.0.0.1");
  EXPECT_EQ(target->port, 8080);
  EXPECT_EQ(target->path, "/hook?x=1");
  EXPECT_EQ(target->address, "127.0.0.1");
}

TEST(UrlGuardTest, ParsesUrls) {
  EXPECT_FALSE(ParseWebhookUrl("ftp://x/").ok());
  EXPECT_FALSE(ParseWebhookUrl("https://user@x/").ok());
  EXPECT_FALSE(ParseWebhookUrl("https://x:99999/").ok());
  absl::StatusOr<WebhookTarget> target = ParseWebhookUrl("https://Example.org");
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->host, "example.org");
  EXPECT_EQ(target->port, 443);
  EXPECT_EQ(target->path, "/");
}

TEST(UrlGuardTest, RejectsBadCidrs) {
  EXPECT_FALSE(ParseCidrList("127.0.0.0/33").ok());
  EXPECT_FALSE(ParseCidrList("nonsense").ok());
  EXPECT_TRUE(ParseCidrList("").ok());
}

}  // namespace
}  // namespace accord::notification
