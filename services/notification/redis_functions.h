#ifndef ACCORD_SERVICES_NOTIFICATION_REDIS_FUNCTIONS_H_
#define ACCORD_SERVICES_NOTIFICATION_REDIS_FUNCTIONS_H_

// The notification service's Redis Function library, `accord_notification_v1`:
// the steps that must be atomic (record a delivery once, claim a due
// delivery, trim the stream with its mark). Functions run with FCALL, so the
// service's ACL user needs no EVAL (deploy/k8s/overlays/dev/users.acl);
// Redis still checks the user's ACL on every command a function runs.
//
// Example:
//   ACCORD_ASSIGN_OR_RETURN(
//       RedisValue reply,
//       CallFunctions(redis, {{"FCALL", kClaimDeliveryFunction, "1", key,
//                              name, now, until}}));

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/redis_client.h"

namespace accord::notification {

// FCALL <name> 3 <delivery key> <index key> <due key>
//   <delivery bytes> <event bytes> <retention ms> <padded position>
//   <due ms> <delivery name>
// Records a delivery unless it exists; 1 if recorded, 0 if it was there.
inline constexpr char kRecordDeliveryFunction[] = "accord_record_delivery_v1";

// FCALL <name> 1 <due key> <delivery name> <now ms> <lease end ms>
// Moves a due delivery to the end of its lease; 1 if taken, 0 if another
// worker has it or it is not due.
inline constexpr char kClaimDeliveryFunction[] = "accord_claim_delivery_v1";

// FCALL <name> 2 <stream key> <trim mark key> <min id>
// Trims the entries before <min id> and records the newest one removed;
// the number removed.
inline constexpr char kTrimEventsFunction[] = "accord_trim_events_v1";

// Installs (or replaces) the library; at start and on every readiness
// check, like the write path's.
absl::Status LoadNotificationFunctions(RedisClient& redis);

// Runs `commands` in one pipeline. A Redis that lost its functions (a
// restart without persistence, a new primary) answers "Function not
// found": the library is loaded and the pipeline sent again, so the
// functions must be safe to repeat (they are).
absl::StatusOr<std::vector<RedisValue>> CallFunctions(
    RedisClient& redis, const std::vector<std::vector<std::string>>& commands);

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_REDIS_FUNCTIONS_H_
