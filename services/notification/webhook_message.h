#ifndef ACCORD_SERVICES_NOTIFICATION_WEBHOOK_MESSAGE_H_
#define ACCORD_SERVICES_NOTIFICATION_WEBHOOK_MESSAGE_H_

// What one webhook request carries: the event as a CloudEvents 1.0 JSON
// document (structured content mode) and the Standard Webhooks signature
// headers over it.
//
// Example:
//   ACCORD_ASSIGN_OR_RETURN(std::string key, DecodeSigningSecret(secret));
//   ACCORD_ASSIGN_OR_RETURN(std::string body, CloudEventJson(event));
//   WebhookHeaders headers = SignWebhook(key, event.id(), absl::Now(), body);
//   // POST body with headers.id, headers.timestamp, headers.signature

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "accord/events/v1/event.pb.h"

namespace accord::notification {

inline constexpr char kSecretPrefix[] = "whsec_";

// The HMAC key of a `whsec_<base64>` secret; INVALID_ARGUMENT unless the
// key is 24 to 64 bytes.
absl::StatusOr<std::string> DecodeSigningSecret(absl::string_view secret);

struct WebhookHeaders {
  std::string id;         // webhook-id
  std::string timestamp;  // webhook-timestamp, Unix seconds
  std::string signature;  // webhook-signature, "v1,<base64 HMAC-SHA256>"
};

// Signs `${id}.${timestamp}.${body}` with HMAC-SHA256 under `key`.
WebhookHeaders SignWebhook(absl::string_view key, absl::string_view id,
                           absl::Time time, absl::string_view body);

// The CloudEvents JSON of `event`: the required attributes, `subject`,
// `time`, `datacontenttype: application/json`, `data` (the payload resource
// in the protobuf JSON mapping) and the extensions `position`,
// `principal`, `requestid` and (distributed tracing) `traceparent`.
absl::StatusOr<std::string> CloudEventJson(const events::v1::Event& event);

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_WEBHOOK_MESSAGE_H_
