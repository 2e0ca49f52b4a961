#ifndef ACCORD_SERVICES_NOTIFICATION_URL_GUARD_H_
#define ACCORD_SERVICES_NOTIFICATION_URL_GUARD_H_

// Keeps webhooks from being aimed inside the operator's network (SSRF): a
// webhook URL's host is resolved and refused when any of its addresses is
// loopback, private, shared (CGNAT), link-local (which holds the cloud
// metadata endpoint 169.254.169.254), unique-local, multicast or
// unspecified, unless an operator allow-list of CIDR blocks permits it.
// Checked when a subscription is written and again before every attempt,
// since DNS answers change; the attempt then connects to the address that
// was checked, so a rebinding DNS server cannot slip in another one.
//
// Example:
//   ACCORD_ASSIGN_OR_RETURN(std::vector<Cidr> allow,
//                           ParseCidrList("127.0.0.0/8,::1/128"));
//   UrlGuard guard(std::move(allow));
//   ACCORD_ASSIGN_OR_RETURN(WebhookTarget target,
//                           guard.Resolve("https://hooks.example.org/x"));
//   // connect to target.address, send Host: target.host

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace accord::notification {

// An IPv4 or IPv6 block. IPv4 is kept as an IPv4-mapped IPv6 address, so
// one comparison serves both families.
struct Cidr {
  std::array<uint8_t, 16> address{};
  int prefix_length = 0;  // over the 128-bit mapped form
  bool Contains(const std::array<uint8_t, 16>& candidate) const;
};

// Parses `a.b.c.d/n` or `x::y/n` (a bare address means a single host).
absl::StatusOr<Cidr> ParseCidr(absl::string_view text);
// Comma-separated CIDRs; empty text gives an empty list.
absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view text);

// True for addresses a webhook may not reach without an allow-list entry.
bool IsRefusedAddress(const std::array<uint8_t, 16>& address);

// The parts of a webhook URL and the checked address to connect to.
struct WebhookTarget {
  std::string scheme;  // "https" or "http"
  std::string host;    // as written, without brackets
  int port = 0;
  std::string path;     // path and query, at least "/"
  std::string address;  // numeric address that passed the check
};

// Splits an absolute http(s) URL; INVALID_ARGUMENT when malformed.
absl::StatusOr<WebhookTarget> ParseWebhookUrl(absl::string_view url);

class UrlGuard {
 public:
  explicit UrlGuard(std::vector<Cidr> allowed) : allowed_(std::move(allowed)) {}

  // Parses and resolves `url`. PERMISSION_DENIED when an address is refused,
  // UNAVAILABLE when the name does not resolve.
  absl::StatusOr<WebhookTarget> Resolve(absl::string_view url) const;

  bool Permits(const std::array<uint8_t, 16>& address) const;

 private:
  std::vector<Cidr> allowed_;
};

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_URL_GUARD_H_
