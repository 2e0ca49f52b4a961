#ifndef ACCORD_SERVICES_NOTIFICATION_WEBHOOK_SENDER_H_
#define ACCORD_SERVICES_NOTIFICATION_WEBHOOK_SENDER_H_

// The HTTP side of one webhook attempt: checks the endpoint's address
// (UrlGuard), signs the CloudEvents body (Standard Webhooks), POSTs it over
// a connection the calling thread keeps open between attempts, and reads
// the answer. The retry schedule and the delivery records are the
// dispatcher's (webhook_dispatcher.h).
//
// Example:
//   const AttemptOutcome outcome = PostWebhook(
//       guard, options.ca_file, subscription, secret, event);
//   if (outcome.http_status / 100 == 2) ...

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "accord/events/v1/event.pb.h"
#include "accord/notification/v1/notification.pb.h"
#include "services/notification/url_guard.h"

namespace accord::notification {

// The outcome of one HTTP attempt and the schedule that follows; exposed
// for tests.
struct AttemptOutcome {
  int http_status = 0;
  std::string error;  // empty on 2xx
  std::optional<absl::Duration> retry_after;
};

// POSTs `event` to `subscription`'s webhook, signed with `secret` (as
// stored); https endpoints are verified against the CA bundle `ca_file`.
// Never fails: what went wrong is in the outcome's error.
AttemptOutcome PostWebhook(const UrlGuard& guard, const std::string& ca_file,
                           const v1::Subscription& subscription,
                           const std::string& secret,
                           const events::v1::Event& event);

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_WEBHOOK_SENDER_H_
