#include "common/redis/functions.h"

#include "absl/strings/match.h"

namespace accord {

bool IsFunctionNotFound(const absl::Status& status) {
  return !status.ok() &&
         absl::StrContains(status.message(), "Function not found");
}

absl::Status RedisFunctions::EnsureLoaded() {
  if (loaded_.load(std::memory_order_acquire)) return absl::OkStatus();
  return Load();
}

absl::Status RedisFunctions::Load() {
  absl::Status status =
      redis_
          .CommandOnEveryPrimary({"FUNCTION", "LOAD", "REPLACE", library_.code})
          .status();
  if (status.ok()) loaded_.store(true, std::memory_order_release);
  return status;
}

absl::StatusOr<RedisValue> RedisFunctions::Call(
    const std::vector<std::string>& command) {
  absl::StatusOr<RedisValue> reply = redis_.Command(command);
  if (IsFunctionNotFound(reply.status())) {
    if (absl::Status loaded = Load(); !loaded.ok()) return loaded;
    reply = redis_.Command(command);
  }
  return reply;
}

absl::StatusOr<std::vector<RedisValue>> RedisFunctions::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  absl::StatusOr<std::vector<RedisValue>> replies = redis_.Pipeline(commands);
  if (IsFunctionNotFound(replies.status())) {
    if (absl::Status loaded = Load(); !loaded.ok()) return loaded;
    replies = redis_.Pipeline(commands);
  }
  return replies;
}

}  // namespace accord
