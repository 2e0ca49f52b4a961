#include "services/notification/redis_functions.h"

#include "absl/strings/match.h"
#include "common/status_macros.h"

namespace accord::notification {
namespace {

constexpr char kLibrary[] = R"lua(#!lua name=accord_notification_v1
local function record_delivery(keys, args)
  if redis.call('EXISTS', keys[1]) == 1 then return 0 end
  redis.call('HSET', keys[1], 'data', args[1], 'event', args[2], 'round', '0')
  -- 0: no expiry while the delivery is pending (it expires once final).
  if tonumber(args[3]) > 0 then redis.call('PEXPIRE', keys[1], args[3]) end
  redis.call('ZADD', keys[2], 0, args[4])
  redis.call('ZADD', keys[3], args[5], args[6])
  return 1
end

local function claim_delivery(keys, args)
  local score = redis.call('ZSCORE', keys[1], args[1])
  if score and tonumber(score) <= tonumber(args[2]) then
    redis.call('ZADD', keys[1], args[3], args[1])
    return 1
  end
  return 0
end

-- One function: the mark and the trim cannot be separated by a crash.
local function trim_events(keys, args)
  local last = redis.call('XREVRANGE', keys[1], '(' .. args[1], '-',
                          'COUNT', 1)
  if #last == 0 then return 0 end
  local removed = redis.call('XTRIM', keys[1], 'MINID', args[1])
  redis.call('SET', keys[2], last[1][1])
  return removed
end

redis.register_function('accord_record_delivery_v1', record_delivery)
redis.register_function('accord_claim_delivery_v1', claim_delivery)
redis.register_function('accord_trim_events_v1', trim_events)
)lua";

}  // namespace

absl::Status LoadNotificationFunctions(RedisClient& redis) {
  return redis.Command({"FUNCTION", "LOAD", "REPLACE", kLibrary}).status();
}

absl::StatusOr<std::vector<RedisValue>> CallFunctions(
    RedisClient& redis, const std::vector<std::vector<std::string>>& commands) {
  absl::StatusOr<std::vector<RedisValue>> replies = redis.Pipeline(commands);
  if (!replies.ok() &&
      absl::StrContains(replies.status().message(), "Function not found")) {
    ACCORD_RETURN_IF_ERROR(LoadNotificationFunctions(redis));
    replies = redis.Pipeline(commands);
  }
  return replies;
}

}  // namespace accord::notification
