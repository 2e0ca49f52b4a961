#include "services/notification/url_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace accord::notification {
namespace {

using Address = std::array<uint8_t, 16>;

Address MappedV4(const uint8_t v4[4]) {
  Address address{};
  address[10] = 0xff;
  address[11] = 0xff;
  std::memcpy(&address[12], v4, 4);
  return address;
}

bool ParseAddress(const std::string& text, Address& address, bool& is_v4) {
  uint8_t v4[4];
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) {
    address = MappedV4(v4);
    is_v4 = true;
    return true;
  }
  is_v4 = false;
  return inet_pton(AF_INET6, text.c_str(), address.data()) == 1;
}

std::string FormatAddress(const Address& address) {
  char text[INET6_ADDRSTRLEN] = {};
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                                0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(address.data(), kMappedPrefix, 12) == 0) {
    inet_ntop(AF_INET, &address[12], text, sizeof(text));
  } else {
    inet_ntop(AF_INET6, address.data(), text, sizeof(text));
  }
  return text;
}

// Blocks no webhook may reach by default, in the mapped 128-bit form.
const std::vector<Cidr>& RefusedBlocks() {
  static const std::vector<Cidr>* blocks = [] {
    auto* list = new std::vector<Cidr>;
    for (const char* text :
         {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
          "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16",
          "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128",
          "64:ff9b::/96", "fc00::/7", "fe80::/10", "ff00::/8"}) {
      list->push_back(*ParseCidr(text));
    }
    return list;
  }();
  return *blocks;
}

}  // namespace

bool Cidr::Contains(const Address& candidate) const {
  int bits = prefix_length;
  for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const uint8_t mask =
        bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((candidate[i] & mask) != (address[i] & mask)) return false;
  }
  return true;
}

absl::StatusOr<Cidr> ParseCidr(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  const size_t slash = text.find('/');
  const std::string host(text.substr(0, slash));
  Cidr cidr;
  bool is_v4 = false;
  if (!ParseAddress(host, cidr.address, is_v4)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not an IP address or CIDR block"));
  }
  const int max_length = is_v4 ? 32 : 128;
  int length = max_length;
  if (slash != absl::string_view::npos &&
      (!absl::SimpleAtoi(text.substr(slash + 1), &length) || length < 0 ||
       length > max_length)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" has a bad prefix length"));
  }
  cidr.prefix_length = is_v4 ? 96 + length : length;
  return cidr;
}

absl::StatusOr<std::vector<Cidr>> ParseCidrList(absl::string_view text) {
  std::vector<Cidr> list;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    if (absl::StripAsciiWhitespace(part).empty()) continue;
    absl::StatusOr<Cidr> cidr = ParseCidr(part);
    if (!cidr.ok()) return cidr.status();
    list.push_back(*cidr);
  }
  return list;
}

bool IsRefusedAddress(const Address& address) {
  for (const Cidr& block : RefusedBlocks()) {
    if (block.Contains(address)) return true;
  }
  return false;
}

bool UrlGuard::Permits(const Address& address) const {
  if (!IsRefusedAddress(address)) return true;
  for (const Cidr& block : allowed_) {
    if (block.Contains(address)) return true;
  }
  return false;
}

absl::StatusOr<WebhookTarget> ParseWebhookUrl(absl::string_view url) {
  WebhookTarget target;
  absl::string_view rest = url;
  if (absl::ConsumePrefix(&rest, "https://")) {
    target.scheme = "https";
    target.port = 443;
  } else if (absl::ConsumePrefix(&rest, "http://")) {
    target.scheme = "http";
    target.port = 80;
  } else {
    return absl::InvalidArgumentError("must be an absolute http(s) URL");
  }
  const size_t path_start = rest.find_first_of("/?#");
  absl::string_view authority = rest.substr(0, path_start);
  target.path = path_start == absl::string_view::npos
                    ? "/"
                    : std::string(rest.substr(path_start));
  if (const size_t hash = target.path.find('#'); hash != std::string::npos) {
    target.path.resize(hash);
  }
  if (target.path.empty() || target.path[0] != '/') {
    target.path.insert(0, "/");
  }
  if (authority.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError("must not carry user information");
  }
  absl::string_view port_text;
  if (absl::ConsumePrefix(&authority, "[")) {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError("has an unclosed IPv6 bracket");
    }
    target.host = std::string(authority.substr(0, close));
    absl::string_view after = authority.substr(close + 1);
    if (!after.empty() && !absl::ConsumePrefix(&after, ":")) {
      return absl::InvalidArgumentError("has junk after the IPv6 address");
    }
    port_text = after;
  } else {
    const size_t colon = authority.rfind(':');
    target.host = std::string(authority.substr(0, colon));
    if (colon != absl::string_view::npos) {
      port_text = authority.substr(colon + 1);
    }
  }
  if (target.host.empty()) return absl::InvalidArgumentError("has no host");
  if (!port_text.empty() && (!absl::SimpleAtoi(port_text, &target.port) ||
                             target.port < 1 || target.port > 65535)) {
    return absl::InvalidArgumentError("has a bad port");
  }
  target.host = absl::AsciiStrToLower(target.host);
  return target;
}

absl::StatusOr<WebhookTarget> UrlGuard::Resolve(absl::string_view url) const {
  absl::StatusOr<WebhookTarget> target = ParseWebhookUrl(url);
  if (!target.ok()) return target.status();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* results = nullptr;
  const int error =
      getaddrinfo(target->host.c_str(), nullptr, &hints, &results);
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat(
        "host ", target->host, " does not resolve: ", gai_strerror(error)));
  }
  std::vector<Address> addresses;
  for (addrinfo* entry = results; entry != nullptr; entry = entry->ai_next) {
    if (entry->ai_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(entry->ai_addr);
      addresses.push_back(
          MappedV4(reinterpret_cast<const uint8_t*>(&v4->sin_addr)));
    } else if (entry->ai_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(entry->ai_addr);
      Address address;
      std::memcpy(address.data(), &v6->sin6_addr, 16);
      addresses.push_back(address);
    }
  }
  freeaddrinfo(results);
  if (addresses.empty()) {
    return absl::UnavailableError(
        absl::StrCat("host ", target->host, " has no address"));
  }
  // Any refused answer refuses the host: otherwise a name with one public
  // and one internal address would pass the check and then reach either.
  for (const Address& address : addresses) {
    if (!Permits(address)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "host ", target->host, " resolves to ", FormatAddress(address),
          ", a loopback, private, link-local or metadata "
          "address that webhooks may not reach"));
    }
  }
  target->address = FormatAddress(addresses.front());
  return target;
}

}  // namespace accord::notification
