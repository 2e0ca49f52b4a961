#ifndef ACCORD_COMMON_REDIS_CONNECT_H_
#define ACCORD_COMMON_REDIS_CONNECT_H_

// Opening a connection to the Redis primary a RedisUrl names, in one place
// for the client's pool, its async lanes and the pub/sub subscriber: the
// host itself, or the primary the Sentinels name now (asked afresh at every
// connection, so a failover is followed by reconnecting). Authenticates and
// selects the database.
//
// Example:
//   absl::StatusOr<redisContext*> context = ConnectToPrimary(
//       url, absl::Seconds(1), absl::Seconds(2));

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config.h"

struct redisContext;

namespace accord {

// A connected, authenticated context (the caller frees it with redisFree)
// or UNAVAILABLE naming what failed. With Sentinel, the named node must
// also say it is the primary (ROLE): right after a failover a Sentinel may
// still name the old one.
absl::StatusOr<redisContext*> ConnectToPrimary(const RedisUrl& url,
                                               absl::Duration connect_timeout,
                                               absl::Duration command_timeout);

// The primary the Sentinels of `url` name now, asking each in turn.
absl::StatusOr<HostPort> PrimaryFromSentinels(const RedisUrl& url,
                                              absl::Duration timeout);

}  // namespace accord

#endif  // ACCORD_COMMON_REDIS_CONNECT_H_
