#include "common/redis/client.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/metrics.h"
#include "common/redis/connect.h"
#include "common/redis/hiredis_util.h"
#include "common/status_macros.h"

namespace accord {
namespace {

using redis_internal::ReplyPtr;

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

// An idle connection has nothing to read unless Redis closed it (restart,
// timeout, CLIENT KILL): then the next command would fail, and a write's
// outcome would look unknown. One poll finds that out before sending.
bool ClosedWhileIdle(const redisContext& context) {
  pollfd descriptor{context.fd, POLLIN, 0};
  return poll(&descriptor, 1, 0) != 0;
}

// The RESP encoding of one command. hiredis's own formatter
// (redisAppendCommandArgv) goes through printf-style sdscatfmt per
// argument: 30k instructions for the ~50 arguments of a write.
void AppendRespCommand(const std::vector<std::string>& args, std::string& out) {
  size_t size = 16;
  for (const std::string& arg : args) size += arg.size() + 16;
  out.reserve(out.size() + size);
  absl::StrAppend(&out, "*", args.size(), "\r\n");
  for (const std::string& arg : args) {
    absl::StrAppend(&out, "$", arg.size(), "\r\n");
    out.append(arg);
    out.append("\r\n");
  }
}

// XREAD/XREADGROUP with BLOCK: waits for new entries by design.
bool IsBlockingRead(const std::vector<std::string>& args) {
  return args.size() > 2 && (args[0] == "XREADGROUP" || args[0] == "XREAD") &&
         std::find(args.begin(), args.end(), "BLOCK") != args.end();
}

void CountRoundTrip(absl::Duration elapsed, const absl::Status& status,
                    bool observe_latency) {
  // Resolved once: every Redis round trip updates them.
  static Metrics::Series* const round_trips = [] {
    Metrics::Global().Describe("accord_redis_round_trips_total", "counter",
                               "Redis round trips (a pipeline counts once).");
    Metrics::Global().Describe("accord_redis_errors_total", "counter",
                               "Redis round trips that failed.");
    Metrics::Global().Describe(
        "accord_redis_round_trip_seconds", "histogram",
        "Redis round-trip latency (blocking stream reads left out).");
    return Metrics::Global().Counter("accord_redis_round_trips_total", {});
  }();
  static Metrics::Series* const latency =
      Metrics::Global().Histogram("accord_redis_round_trip_seconds", {});
  Metrics::Global().Increment(round_trips);
  if (observe_latency) {
    Metrics::Global().Observe(latency, absl::ToDoubleSeconds(elapsed));
  }
  if (!status.ok()) {
    Metrics::Global().Increment(
        "accord_redis_errors_total",
        {{"code", std::string(absl::StatusCodeToString(status.code()))}});
  }
}

}  // namespace

struct RedisClient::Connection {
  std::string node;
  redisContext* context = nullptr;
  ~Connection() { Reset(); }
  void Reset() {
    if (context != nullptr) redisFree(context);
    context = nullptr;
  }
};

struct RedisClient::AsyncLane {
  std::mutex mutex;
  std::condition_variable queued;
  std::vector<AsyncCommand> queue;
  bool stopping = false;
  std::thread thread;
};

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {
  for (int i = 0; i < std::max(1, options_.async_lanes); ++i) {
    async_lanes_.push_back(std::make_unique<AsyncLane>());
  }
}

RedisClient::~RedisClient() {
  for (const std::unique_ptr<AsyncLane>& lane : async_lanes_) {
    {
      std::lock_guard<std::mutex> lock(lane->mutex);
      lane->stopping = true;
    }
    lane->queued.notify_one();
    // The lane answers what is queued before it exits.
    if (lane->thread.joinable()) lane->thread.join();
  }
}

std::unique_ptr<RedisClient::Connection> RedisClient::Acquire(
    const std::string& node) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::vector<std::unique_ptr<Connection>>& idle = idle_[node];
  available_.wait(lock, [this, &idle] {
    return !idle.empty() || outstanding_ < options_.pool_size;
  });
  ++outstanding_;
  if (!idle.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle.back());
    idle.pop_back();
    return connection;
  }
  auto connection = std::make_unique<Connection>();
  connection->node = node;
  return connection;
}

void RedisClient::Release(std::unique_ptr<Connection> connection) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --outstanding_;
    // A broken connection is dropped; the next caller opens a fresh one.
    if (connection->context != nullptr) {
      idle_[connection->node].push_back(std::move(connection));
    }
  }
  available_.notify_all();
}

absl::Status RedisClient::EnsureConnected(Connection& connection) {
  if (connection.context != nullptr) return absl::OkStatus();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (absl::Now() < backoff_[connection.node].next_attempt) {
      return absl::UnavailableError(absl::StrCat(
          "redis at ", options_.url.Redacted(), " is unreachable; retrying"));
    }
  }
  RedisUrl url = options_.url;
  if (!connection.node.empty()) {
    // A cluster node, as CLUSTER SLOTS named it.
    absl::StatusOr<HostPort> node = ParseHostPort(connection.node);
    if (!node.ok()) return absl::InternalError(node.status().message());
    url.host = node->host;
    url.port = node->port;
    url.sentinels.clear();
  }
  absl::StatusOr<redisContext*> context =
      ConnectToPrimary(url, options_.connect_timeout, options_.command_timeout);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!context.ok()) {
    Backoff& backoff = backoff_[connection.node];
    backoff.delay = std::clamp(backoff.delay * 2, options_.min_backoff,
                               options_.max_backoff);
    backoff.next_attempt = absl::Now() + backoff.delay;
    return absl::UnavailableError(absl::StrCat("cannot connect to redis at ",
                                               options_.url.Redacted(), ": ",
                                               context.status().message()));
  }
  backoff_.erase(connection.node);
  connection.context = *context;
  return absl::OkStatus();
}

std::vector<absl::StatusOr<RedisValue>> RedisClient::SendTo(
    const std::string& node,
    const std::vector<const std::vector<std::string>*>& commands) {
  std::unique_ptr<Connection> connection = Acquire(node);
  std::vector<absl::StatusOr<RedisValue>> results =
      RoundTrip(*connection, commands);
  Release(std::move(connection));
  return results;
}

absl::StatusOr<RedisValue> RedisClient::Command(
    const std::vector<std::string>& args) {
  std::vector<absl::StatusOr<RedisValue>> results = Execute({&args});
  return std::move(results.front());
}

std::vector<absl::StatusOr<RedisValue>> RedisClient::RoundTrip(
    Connection& connection,
    const std::vector<const std::vector<std::string>*>& commands) {
  const absl::Time start = absl::Now();
  std::vector<absl::StatusOr<RedisValue>> results;
  results.reserve(commands.size());
  if (connection.context != nullptr && ClosedWhileIdle(*connection.context)) {
    connection.Reset();
  }
  absl::Status status = EnsureConnected(connection);
  bool demoted = false;
  if (status.ok()) {
    std::string request;
    for (const std::vector<std::string>* args : commands) {
      AppendRespCommand(*args, request);
    }
    redisAppendFormattedCommand(connection.context, request.data(),
                                request.size());
    // Read every reply even after an error one, so the connection stays in
    // step with the server and can be reused.
    for (size_t i = 0; i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(connection.context, &raw) != REDIS_OK) {
        status = absl::UnavailableError(
            absl::StrCat("redis at ", options_.url.Redacted(), ": ",
                         connection.context->errstr));
        connection.Reset();
        break;
      }
      ReplyPtr reply(static_cast<redisReply*>(raw));
      // A primary demoted by a failover answers writes READONLY: the next
      // connection asks the Sentinels again.
      if (reply->type == REDIS_REPLY_ERROR &&
          absl::StartsWith(absl::string_view(reply->str, reply->len),
                           "READONLY")) {
        demoted = true;
      }
      results.push_back(Convert(*reply));
      if (!results.back().ok() && status.ok()) {
        status = results.back().status();
      }
    }
  }
  if (demoted) connection.Reset();
  while (results.size() < commands.size()) results.push_back(status);
  // A blocking read's wait is not latency: in the histogram it would put an
  // idle notification service's p99 at the BLOCK timeout.
  CountRoundTrip(absl::Now() - start, status,
                 !(commands.size() == 1 && IsBlockingRead(*commands[0])));
  return results;
}

absl::StatusOr<std::vector<RedisValue>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<const std::vector<std::string>*> pointers;
  pointers.reserve(commands.size());
  for (const std::vector<std::string>& args : commands) {
    pointers.push_back(&args);
  }
  std::vector<absl::StatusOr<RedisValue>> results = Execute(pointers);
  std::vector<RedisValue> values;
  values.reserve(results.size());
  for (absl::StatusOr<RedisValue>& result : results) {
    if (!result.ok()) return result.status();
    values.push_back(*std::move(result));
  }
  return values;
}

void RedisClient::CommandAsync(std::vector<std::string> args,
                               AsyncCallback done) {
  AsyncLane& lane =
      *async_lanes_[next_lane_.fetch_add(1, std::memory_order_relaxed) %
                    async_lanes_.size()];
  {
    std::lock_guard<std::mutex> lock(lane.mutex);
    if (!lane.stopping) {
      if (!lane.thread.joinable()) {
        lane.thread = std::thread([this, &lane] { RunAsyncBatches(lane); });
      }
      lane.queue.push_back({std::move(args), std::move(done)});
      // Only an idle lane waits; a busy one finds the command when its
      // current round trip ends.
      if (lane.queue.size() == 1) lane.queued.notify_one();
      return;
    }
  }
  done(absl::UnavailableError("redis client is shutting down"));
}

void RedisClient::RunAsyncBatches(AsyncLane& lane) {
  // A bound on one batch keeps the first caller's wait short under load.
  constexpr size_t kMaxBatch = 256;
  Connection connection;
  std::vector<AsyncCommand> batch;
  std::vector<const std::vector<std::string>*> commands;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(lane.mutex);
      lane.queued.wait(
          lock, [&lane] { return lane.stopping || !lane.queue.empty(); });
      if (lane.queue.empty()) return;  // stopping, nothing left
      if (lane.queue.size() <= kMaxBatch) {
        batch.swap(lane.queue);
      } else {
        batch.assign(std::make_move_iterator(lane.queue.begin()),
                     std::make_move_iterator(lane.queue.begin() + kMaxBatch));
        lane.queue.erase(lane.queue.begin(), lane.queue.begin() + kMaxBatch);
      }
    }
    commands.clear();
    for (const AsyncCommand& command : batch) commands.push_back(&command.args);
    if (topology_.load() == Topology::kUnknown) DetectTopology();
    // In a cluster the batch is split per node over the pool's connections.
    const bool cluster = topology_.load() == Topology::kCluster;
    std::vector<absl::StatusOr<RedisValue>> results =
        cluster ? Execute(commands) : RoundTrip(connection, commands);
    if (!cluster && connection.context == nullptr) {
      // Redis failed this batch (down, or too slow to answer): what was
      // queued meanwhile fails with it rather than waiting out one more
      // timeout per batch.
      const absl::Status failure = results.back().status();
      std::lock_guard<std::mutex> lock(lane.mutex);
      for (AsyncCommand& command : lane.queue) {
        batch.push_back(std::move(command));
        results.push_back(failure);
      }
      lane.queue.clear();
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      batch[i].done(std::move(results[i]));
    }
    batch.clear();
  }
}

absl::Status RedisClient::Ping() {
  ACCORD_ASSIGN_OR_RETURN(RedisValue reply, Command({"PING"}));
  if (reply.text != "PONG")
    return absl::UnavailableError("redis: bad PING reply");
  return absl::OkStatus();
}

}  // namespace accord
