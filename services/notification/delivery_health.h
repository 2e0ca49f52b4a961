#ifndef ACCORD_SERVICES_NOTIFICATION_DELIVERY_HEALTH_H_
#define ACCORD_SERVICES_NOTIFICATION_DELIVERY_HEALTH_H_

// The delivery health of webhook subscriptions: failed attempts in a row,
// the last failure and success, whether the subscription is FAILING, and
// its outstanding (pending or retrying) deliveries.
//
// Layout:
//   accord:notification:health:<subscription id>
//       hash {failures, failing 0|1, failing_since_ms, last_failure_ms,
//       last_failure_reason, last_success_ms}
//   accord:notification:undelivered:<subscription id>
//       sorted set of the padded positions of outstanding deliveries
//       (lexical = stream order): the oldest one, how many, and for an
//       ordered subscription which one may go next
//
// Crossing the failing threshold and recording the
// `accord.notification.v1.subscription_failing` event are one atomic step
// (a Redis Function), so the event is recorded exactly once per episode
// however many workers and replicas fail at the same moment.
//
// Example:
//   DeliveryHealthStore health(redis);
//   ACCORD_ASSIGN_OR_RETURN(HealthChange change,
//       health.RecordAttempt(subscription, false, "HTTP 503", now, 5));

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "accord/notification/v1/notification.pb.h"
#include "common/redis/client.h"

namespace accord::notification {

inline constexpr char kSubscriptionFailingType[] =
    "accord.notification.v1.subscription_failing";
inline constexpr char kSubscriptionRecoveredType[] =
    "accord.notification.v1.subscription_recovered";

// What one attempt changed.
enum class HealthChange { kNone, kTurnedFailing, kRecovered };

class DeliveryHealthStore {
 public:
  explicit DeliveryHealthStore(RedisClient& redis) : redis_(redis) {}

  static std::string HealthKey(absl::string_view subscription_id);
  static std::string UndeliveredKey(absl::string_view subscription_id);

  // The health of each named subscription, in order, in one round trip.
  absl::StatusOr<std::vector<v1::DeliveryHealth>> Read(
      const std::vector<std::string>& subscription_names);

  // Counts one attempt to `subscription`'s endpoint. When the count of
  // failures in a row reaches `threshold`, or a success ends a failing
  // episode, the matching event is recorded in the same step.
  absl::StatusOr<HealthChange> RecordAttempt(
      const v1::Subscription& subscription, bool succeeded,
      absl::string_view failure_reason, absl::Time now, int threshold);

 private:
  RedisClient& redis_;
};

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_DELIVERY_HEALTH_H_
