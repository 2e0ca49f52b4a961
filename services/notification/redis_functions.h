#ifndef ACCORD_SERVICES_NOTIFICATION_REDIS_FUNCTIONS_H_
#define ACCORD_SERVICES_NOTIFICATION_REDIS_FUNCTIONS_H_

// The notification service's Redis Function library (its Lua is
// common/redis/lua/notification.lua, every name versioned by its content):
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
#include "common/redis/client.h"
#include "common/redis/lua_libraries.h"

namespace accord::notification {

// FCALL <name> 4 <delivery key> <index key> <due key> <undelivered key>
//   <delivery bytes> <event bytes> <retention ms> <padded position>
//   <due ms> <delivery name>
// Records a delivery unless it exists, and counts it outstanding; 1 if
// recorded, 0 if it was there.
inline const std::string kRecordDeliveryFunction =
    redis_lua::kNotificationLibrary.Function("accord_record_delivery");

// FCALL <name> 1 <due key> <delivery name> <now ms> <lease end ms>
// Moves a due delivery to the end of its lease; 1 if taken, 0 if another
// worker has it or it is not due.
inline const std::string kClaimDeliveryFunction =
    redis_lua::kNotificationLibrary.Function("accord_claim_delivery");

// FCALL <name> 2 <stream key> <trim mark key> <min id>
// Trims the entries before <min id> and records the newest one removed;
// the number removed.
inline const std::string kTrimEventsFunction =
    redis_lua::kNotificationLibrary.Function("accord_trim_events");

// FCALL <name> 2 <undelivered key> <due key> <padded position>
//   <ordered 1|0> <subscription name> <now ms>
// A delivery is final: no longer outstanding; for an ordered subscription
// the next outstanding delivery is made due now.
inline const std::string kSettleDeliveryFunction =
    redis_lua::kNotificationLibrary.Function("accord_settle_delivery");

// FCALL <name> 2 <undelivered key> <due key> <padded position>
//   <delivery name> <recheck ms>
// 1 if an ordered subscription's delivery is next in stream order; else 0,
// and it is parked (due again at <recheck ms> unless settled earlier).
inline const std::string kOrderedTurnFunction =
    redis_lua::kNotificationLibrary.Function("accord_ordered_turn");

// FCALL <name> 2 <health key> <event stream> ok|fail <now ms> <reason>
//   <threshold> <failing event bytes> <recovered event bytes>
//   <failing type> <recovered type>
// Counts an attempt in a subscription's health; records the failing or
// recovered event when the state flips: 1 failing, 2 recovered, else 0.
inline const std::string kDeliveryOutcomeFunction =
    redis_lua::kNotificationLibrary.Function("accord_delivery_outcome");

// Runs `commands` in one pipeline. A Redis that lost its functions (a
// restart without persistence, a new primary) answers "Function not
// found": the library is loaded and the pipeline sent again, so the
// functions must be safe to repeat (they are). The readiness probe loads
// the library once per process (RedisFunctions::EnsureLoaded).
absl::StatusOr<std::vector<RedisValue>> CallFunctions(
    RedisClient& redis, const std::vector<std::vector<std::string>>& commands);

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_REDIS_FUNCTIONS_H_
