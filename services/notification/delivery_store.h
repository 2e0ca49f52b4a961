#ifndef ACCORD_SERVICES_NOTIFICATION_DELIVERY_STORE_H_
#define ACCORD_SERVICES_NOTIFICATION_DELIVERY_STORE_H_

// Webhook deliveries in Redis. A delivery is recorded once per
// (subscription, event) before the stream entry is acknowledged, so a
// crash loses none; a due set drives attempts, with a lease so an attempt
// interrupted by a crash is made again (same `webhook-id`) once the lease
// runs out.
//
// Layout:
//   accord:notification:delivery:<subscription id>:<position>
//       hash {data: Delivery, event: Event, round: first attempt index of
//       the current round}, expiring after the retention period
//   accord:notification:deliveries:<subscription id>
//       sorted set of zero-padded positions (lexical = position order)
//   accord:notification:due
//       sorted set of delivery names scored by due time (Unix ms)
//   accord:notification:secrets
//       hash of subscription name -> webhook signing secret
//
// Example:
//   DeliveryStore deliveries(redis, absl::Hours(168));
//   ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> due,
//                           deliveries.Due(absl::Now(), 16));

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "accord/events/v1/event.pb.h"
#include "accord/notification/v1/notification.pb.h"
#include "common/redis/client.h"
#include "common/redis/keys.h"

namespace accord::notification {

struct StoredDelivery {
  v1::Delivery delivery;
  events::v1::Event event;
  int round_start = 0;  // index in attempts where the current round began
};

class DeliveryStore {
 public:
  DeliveryStore(RedisClient& redis, absl::Duration retention)
      : redis_(redis), retention_(retention) {}

  static std::string DeliveryName(absl::string_view subscription,
                                  absl::string_view position);
  // A sortable form of a position ("%020d-%020d"), and back.
  static std::string PaddedPosition(absl::string_view position);
  static std::string UnpadPosition(absl::string_view padded);

  // The command that records a new delivery of `event` to `subscription`,
  // due now; a no-op when it was recorded before. An FCALL of the
  // notification library: send it with CallFunctions (redis_functions.h).
  std::vector<std::string> RecordCommand(absl::string_view subscription,
                                         const events::v1::Event& event,
                                         absl::Time now) const;

  absl::StatusOr<std::optional<StoredDelivery>> Load(absl::string_view name);

  // Saves the delivery and sets its due time (nullopt: not due again,
  // final: the record then expires after the retention; while due it is
  // kept however long that takes).
  // `also` (the audit record of a retry) is applied in the same MULTI
  // transaction. A delivery that is due stays outstanding in its
  // subscription's health; a final one leaves it, and for an `ordered`
  // subscription the next outstanding delivery becomes due at once.
  absl::Status Save(const StoredDelivery& stored, std::optional<absl::Time> due,
                    std::vector<std::vector<std::string>> also = {},
                    bool ordered = false);

  // For an ordered subscription: true if delivery `name` is the oldest
  // outstanding one and may be attempted; otherwise it is parked until the
  // one before it settles (or `recheck`, a safety net).
  absl::StatusOr<bool> OrderedTurn(absl::string_view name, absl::Time recheck);

  // Names due at `now`, at most `limit`.
  absl::StatusOr<std::vector<std::string>> Due(absl::Time now, int limit);

  // Takes a due delivery for `lease` (so a crashed attempt is retried
  // after it); false when another worker has it or it is not due.
  absl::StatusOr<bool> Claim(absl::string_view name, absl::Time now,
                             absl::Duration lease);

  // Positions of a subscription's deliveries, newest first, before the
  // padded cursor (or from the newest when empty).
  absl::StatusOr<std::vector<std::string>> ListPositions(
      absl::string_view subscription, absl::string_view before_padded,
      int limit);

  // Positions of a subscription's deliveries, oldest first, between two
  // ZRANGEBYLEX bounds over padded positions ("-", "[x", "(x", "+").
  absl::StatusOr<std::vector<std::string>> ListPositionsBetween(
      absl::string_view subscription, absl::string_view lower,
      absl::string_view upper, int limit);

  // Drops the index entries of a subscription whose delivery records have
  // expired, oldest first, looking at up to `limit` entries; stops early at
  // a batch with none expired. Returns how many went. Without it the index
  // would keep one entry per event forever.
  absl::StatusOr<int64_t> PruneIndex(absl::string_view subscription_id,
                                     int64_t limit);

  // Drops an index entry whose delivery expired.
  absl::Status Forget(absl::string_view subscription,
                      absl::string_view position);

 private:
  RedisClient& redis_;
  absl::Duration retention_;
};

// The subscription id and position of a delivery name.
absl::StatusOr<std::pair<std::string, std::string>> ParseDeliveryName(
    absl::string_view name, absl::string_view field);

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_DELIVERY_STORE_H_
