#include "common/redis/subscriber.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/redis/connect.h"
#include "common/redis/hiredis_util.h"

namespace accord {
namespace {

using redis_internal::CommandArgv;
using redis_internal::ContextPtr;
using redis_internal::ReplyPtr;

absl::string_view Text(const redisReply* reply) {
  return reply->str != nullptr ? absl::string_view(reply->str, reply->len)
                               : absl::string_view();
}

std::string ErrorOf(const redisContext* context, const redisReply* reply) {
  if (reply != nullptr) return std::string(Text(reply));
  return context != nullptr ? std::string(context->errstr) : "";
}

// Sends one command without waiting for its reply; false if the
// connection broke.
bool SendWithoutReply(redisContext* context, const char* command) {
  if (redisAppendCommand(context, command) != REDIS_OK) return false;
  int done = 0;
  while (!done) {
    if (redisBufferWrite(context, &done) != REDIS_OK) return false;
  }
  return true;
}

}  // namespace

RedisSubscriber::RedisSubscriber(Options options, Callbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {}

RedisSubscriber::~RedisSubscriber() { Stop(); }

void RedisSubscriber::Start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
}

void RedisSubscriber::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void RedisSubscriber::Warn(absl::string_view what, absl::string_view error) {
  const absl::Time now = absl::Now();
  if (now < quiet_until_) return;
  quiet_until_ = now + absl::Minutes(1);
  LogWarning(absl::StrCat(options_.name, ": ", what),
             {{"error", std::string(error)}});
}

void RedisSubscriber::Run() {
  absl::Duration backoff = options_.min_backoff;
  while (!stop_) {
    const bool subscribed = Session();
    if (callbacks_.on_disconnected) callbacks_.on_disconnected();
    if (stop_) break;
    if (subscribed) backoff = options_.min_backoff;
    // Sleep in short steps so Stop is prompt.
    const absl::Time until = absl::Now() + backoff;
    while (!stop_ && absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

redisContext* RedisSubscriber::Subscribe() {
  absl::StatusOr<redisContext*> connected = ConnectToPrimary(
      options_.url, options_.connect_timeout, absl::Seconds(2));
  if (!connected.ok()) {
    Warn("cannot connect to Redis", std::string(connected.status().message()));
    return nullptr;
  }
  ContextPtr context(*connected);
  for (const auto& [command, names] :
       {std::pair{"SUBSCRIBE", &options_.channels},
        std::pair{"PSUBSCRIBE", &options_.patterns}}) {
    if (names->empty()) continue;
    std::vector<std::string> subscribe = {command};
    subscribe.insert(subscribe.end(), names->begin(), names->end());
    // One confirmation per name; the first comes back as the reply.
    ReplyPtr confirmed = CommandArgv(context.get(), subscribe);
    for (size_t i = 1;
         confirmed != nullptr && confirmed->type == REDIS_REPLY_ARRAY &&
         i < names->size();
         ++i) {
      void* raw = nullptr;
      if (redisGetReply(context.get(), &raw) != REDIS_OK) {
        confirmed.reset();
        break;
      }
      confirmed.reset(static_cast<redisReply*>(raw));
    }
    if (confirmed == nullptr || confirmed->type != REDIS_REPLY_ARRAY) {
      // E.g. a Redis user whose ACL does not allow these channels.
      Warn(absl::StrCat(command, " failed"),
           ErrorOf(context.get(), confirmed.get()));
      return nullptr;
    }
  }
  return context.release();
}

bool RedisSubscriber::Session() {
  ContextPtr context(Subscribe());
  if (context == nullptr) return false;
  if (callbacks_.on_subscribed) {
    if (absl::Status ready = callbacks_.on_subscribed(); !ready.ok()) {
      Warn("not ready after subscribing", ready.ToString());
      return false;
    }
  }
  quiet_until_ = absl::InfinitePast();
  LogInfo(absl::StrCat(options_.name, ": subscribed"));
  Listen(context.get());
  if (!stop_) LogWarning(absl::StrCat(options_.name, ": connection lost"));
  return true;
}

void RedisSubscriber::Listen(redisContext* context) {
  absl::Time last_heard = absl::Now();
  absl::Time last_ping = last_heard;
  while (!stop_) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context, &raw) != REDIS_OK) return;
    if (raw == nullptr) {
      const absl::Time now = absl::Now();
      if (now - last_heard > options_.silence_limit) {
        LogWarning(absl::StrCat(options_.name, ": Redis stopped answering"));
        return;
      }
      if (now - last_ping >= options_.ping_every) {
        last_ping = now;
        if (!SendWithoutReply(context, "PING")) return;
      }
      pollfd descriptor{context->fd, POLLIN, 0};
      const int ready = poll(&descriptor, 1, 200);
      if (ready < 0 && errno != EINTR) return;
      if (ready > 0 && redisBufferRead(context) != REDIS_OK) return;
      continue;
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    last_heard = absl::Now();
    if (reply->type != REDIS_REPLY_ARRAY || !callbacks_.on_message) continue;
    // ["message", channel, data] or ["pmessage", pattern, channel, data];
    // anything else (a PONG, a confirmation) only proves liveness.
    const absl::string_view kind =
        reply->elements > 0 ? Text(reply->element[0]) : "";
    if (kind == "message" && reply->elements == 3) {
      callbacks_.on_message(Text(reply->element[1]), Text(reply->element[2]));
    } else if (kind == "pmessage" && reply->elements == 4) {
      callbacks_.on_message(Text(reply->element[2]), Text(reply->element[3]));
    }
  }
}

}  // namespace accord
