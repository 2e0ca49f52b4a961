#include "services/notification/redis_functions.h"

#include "common/redis/functions.h"

namespace accord::notification {

absl::StatusOr<std::vector<RedisValue>> CallFunctions(
    RedisClient& redis, const std::vector<std::vector<std::string>>& commands) {
  return RedisFunctions(redis, redis_lua::kNotificationLibrary)
      .Pipeline(commands);
}

}  // namespace accord::notification
