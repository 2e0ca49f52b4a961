#include "common/redis_client.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/metrics.h"
#include "common/status_macros.h"

namespace accord {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval DurationToTimeval(absl::Duration duration) {
  return absl::ToTimeval(duration);
}

// Converts a reply; error replies (at any depth) become a status.
absl::StatusOr<RedisValue> Convert(const redisReply& reply) {
  RedisValue value;
  switch (reply.type) {
    case REDIS_REPLY_STRING:
      value.type = RedisValue::Type::kString;
      value.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_STATUS:
      value.type = RedisValue::Type::kStatus;
      value.text.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_INTEGER:
      value.type = RedisValue::Type::kInteger;
      value.integer = reply.integer;
      break;
    case REDIS_REPLY_NIL:
      value.type = RedisValue::Type::kNil;
      break;
    case REDIS_REPLY_ARRAY:
      value.type = RedisValue::Type::kArray;
      value.elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i) {
        ACCORD_ASSIGN_OR_RETURN(RedisValue element, Convert(*reply.element[i]));
        value.elements.push_back(std::move(element));
      }
      break;
    case REDIS_REPLY_ERROR: {
      std::string message(reply.str, reply.len);
      // A loading or read-only Redis is temporarily unable to serve.
      if (absl::StartsWith(message, "LOADING") ||
          absl::StartsWith(message, "READONLY") ||
          absl::StartsWith(message, "MASTERDOWN") ||
          absl::StartsWith(message, "BUSY")) {
        return absl::UnavailableError(absl::StrCat("redis: ", message));
      }
      return absl::InternalError(absl::StrCat("redis: ", message));
    }
    default:
      return absl::InternalError("redis: unexpected reply type");
  }
  return value;
}

void CountRoundTrip(absl::Duration elapsed, const absl::Status& status) {
  static const bool described = [] {
    Metrics::Global().Describe("accord_redis_round_trips_total", "counter",
                               "Redis round trips (a pipeline counts once).");
    Metrics::Global().Describe("accord_redis_errors_total", "counter",
                               "Redis round trips that failed.");
    Metrics::Global().Describe("accord_redis_round_trip_seconds", "histogram",
                               "Redis round-trip latency.");
    return true;
  }();
  (void)described;
  Metrics::Global().Increment("accord_redis_round_trips_total", {});
  Metrics::Global().Observe("accord_redis_round_trip_seconds", {},
                            absl::ToDoubleSeconds(elapsed));
  if (!status.ok()) {
    Metrics::Global().Increment(
        "accord_redis_errors_total",
        {{"code", std::string(absl::StatusCodeToString(status.code()))}});
  }
}

}  // namespace

struct RedisClient::Connection {
  redisContext* context = nullptr;
  ~Connection() { Reset(); }
  void Reset() {
    if (context != nullptr) redisFree(context);
    context = nullptr;
  }
};

RedisClient::RedisClient(RedisOptions options)
    : options_(std::move(options)), backoff_(options_.min_backoff) {}

RedisClient::~RedisClient() = default;

std::unique_ptr<RedisClient::Connection> RedisClient::Acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  available_.wait(lock, [this] {
    return !idle_.empty() || outstanding_ < options_.pool_size;
  });
  ++outstanding_;
  if (!idle_.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    return connection;
  }
  return std::make_unique<Connection>();
}

void RedisClient::Release(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --outstanding_;
    // A broken connection is dropped; the next caller opens a fresh one.
    if (connection->context != nullptr) idle_.push_back(std::move(connection));
  }
  available_.notify_one();
}

absl::Status RedisClient::EnsureConnected(Connection& connection) {
  if (connection.context != nullptr) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (absl::Now() < next_connect_attempt_) {
      return absl::UnavailableError(absl::StrCat(
          "redis at ", options_.url.Redacted(), " is unreachable; retrying"));
    }
  }
  const timeval connect_timeout = DurationToTimeval(options_.connect_timeout);
  redisContext* context = redisConnectWithTimeout(
      options_.url.host.c_str(), options_.url.port, connect_timeout);
  std::string failure;
  if (context == nullptr) {
    failure = "cannot allocate a Redis context";
  } else if (context->err != 0) {
    failure = context->errstr;
  } else {
    const timeval command_timeout = DurationToTimeval(options_.command_timeout);
    redisSetTimeout(context, command_timeout);
    redisEnableKeepAlive(context);
    auto login = [&](std::vector<std::string> args) -> std::string {
      std::vector<const char*> argv;
      std::vector<size_t> lengths;
      for (const std::string& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
      }
      ReplyPtr reply(static_cast<redisReply*>(
          redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(),
                           lengths.data())));
      if (reply == nullptr) return context->errstr;
      if (reply->type == REDIS_REPLY_ERROR) {
        return std::string(reply->str, reply->len);
      }
      return "";
    };
    if (!options_.url.password.empty()) {
      failure = options_.url.user.empty()
                    ? login({"AUTH", options_.url.password})
                    : login({"AUTH", options_.url.user, options_.url.password});
    }
    if (failure.empty() && options_.url.db != 0) {
      failure = login({"SELECT", absl::StrCat(options_.url.db)});
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!failure.empty()) {
    if (context != nullptr) redisFree(context);
    next_connect_attempt_ = absl::Now() + backoff_;
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
    return absl::UnavailableError(absl::StrCat(
        "cannot connect to redis at ", options_.url.Redacted(), ": ", failure));
  }
  backoff_ = options_.min_backoff;
  next_connect_attempt_ = absl::InfinitePast();
  connection.context = context;
  return absl::OkStatus();
}

absl::StatusOr<RedisValue> RedisClient::Command(
    const std::vector<std::string>& args) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> replies, Pipeline({args}));
  return std::move(replies.front());
}

absl::StatusOr<std::vector<RedisValue>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  const absl::Time start = absl::Now();
  std::unique_ptr<Connection> connection = Acquire();
  absl::Status status = EnsureConnected(*connection);
  std::vector<RedisValue> values;
  if (status.ok()) {
    for (const std::vector<std::string>& args : commands) {
      std::vector<const char*> argv;
      std::vector<size_t> lengths;
      argv.reserve(args.size());
      lengths.reserve(args.size());
      for (const std::string& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
      }
      redisAppendCommandArgv(connection->context, static_cast<int>(argv.size()),
                             argv.data(), lengths.data());
    }
    values.reserve(commands.size());
    // Read every reply even after an error one, so the connection stays in
    // step with the server and can be reused.
    for (size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(connection->context, &raw) != REDIS_OK) {
        status = absl::UnavailableError(
            absl::StrCat("redis at ", options_.url.Redacted(), ": ",
                         connection->context->errstr));
        connection->Reset();
        break;
      }
      ReplyPtr reply(static_cast<redisReply*>(raw));
      absl::StatusOr<RedisValue> value = Convert(*reply);
      if (!value.ok()) {
        if (status.ok()) status = value.status();
        continue;
      }
      values.push_back(std::move(*value));
    }
  }
  Release(std::move(connection));
  CountRoundTrip(absl::Now() - start, status);
  if (!status.ok()) return status;
  return values;
}

absl::Status RedisClient::Ping() {
  ACCORD_ASSIGN_OR_RETURN(RedisValue reply, Command({"PING"}));
  if (reply.text != "PONG")
    return absl::UnavailableError("redis: bad PING reply");
  return absl::OkStatus();
}

}  // namespace accord
