#ifndef ACCORD_COMMON_REDIS_CLIENT_H_
#define ACCORD_COMMON_REDIS_CLIENT_H_

// A blocking Redis client over hiredis: a pool of connections, each
// (re)connected on demand with exponential backoff, a deadline on every
// command, and pipelining. The same URL may name one Redis, the Sentinels
// of a primary (redis+sentinel://), or any node of a Redis Cluster: the
// client then routes each command to the primary of its key's slot, keeps
// a pipeline's commands together per node, and follows MOVED (refreshing
// its slot map) and ASK. Errors come back as absl::Status:
// UNAVAILABLE when Redis cannot be reached or answer in time (the outcome
// of a write is then unknown: retry it with the same request_id),
// INTERNAL for an error reply.
//
// Example:
//   RedisClient redis(options);
//   ACCORD_ASSIGN_OR_RETURN(RedisValue reply, redis.Command({"GET", key}));
//   if (reply.is_nil()) return absl::NotFoundError(key);

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/config.h"
#include "common/redis/cluster.h"

struct redisContext;

namespace accord {

// One decoded reply. Error replies never reach callers as values.
struct RedisValue {
  enum class Type { kNil, kString, kInteger, kArray, kStatus };
  Type type = Type::kNil;
  std::string text;  // kString, kStatus
  long long integer = 0;
  std::vector<RedisValue> elements;

  bool is_nil() const { return type == Type::kNil; }
};

struct RedisOptions {
  RedisUrl url;
  // False: talk to the URL's node only, even in a Redis Cluster (to
  // administer or inspect one node); redirects come back as errors.
  bool follow_cluster = true;
  int pool_size = 8;
  // Threads (each with its own connection) that batch CommandAsync calls;
  // a call goes to the next in turn. One lane serves a 2-core machine; more
  // let the replies' callbacks run on more cores.
  int async_lanes = 1;
  absl::Duration connect_timeout = absl::Seconds(1);
  absl::Duration command_timeout = absl::Seconds(2);
  absl::Duration min_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(2);
  // A write is acknowledged only once this many replicas confirm it (Redis
  // WAIT), so that a failover to a replica loses nothing acknowledged. 0
  // (the default: a single Redis has no replica) does not wait.
  int min_replicas_acked = 0;
  // How long a write waits for those confirmations before it fails with
  // UNAVAILABLE (the write itself stays on the primary and a retry with the
  // same request_id answers it). Below command_timeout.
  absl::Duration replica_ack_timeout = absl::Seconds(1);
};

class RedisClient {
 public:
  explicit RedisClient(RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command and waits for its reply.
  absl::StatusOr<RedisValue> Command(const std::vector<std::string>& args);

  // Sends all commands in one write and reads their replies in order. An
  // error reply to any command fails the whole call.
  absl::StatusOr<std::vector<RedisValue>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // Sends one command without blocking the caller. A dedicated thread
  // writes every command queued meanwhile in one batch over its own
  // connection, then reads the replies: concurrent callers share round
  // trips and no thread waits per call. `done` runs on that thread, in
  // submission order; it must be short and must not block.
  using AsyncCallback = std::function<void(absl::StatusOr<RedisValue>)>;
  void CommandAsync(std::vector<std::string> args, AsyncCallback done);

  // PING; OK when Redis answers.
  absl::Status Ping();

  // Sends `args` to every primary of a Redis Cluster (FUNCTION LOAD), or to
  // the one Redis otherwise; the first error, else the last reply.
  absl::StatusOr<RedisValue> CommandOnEveryPrimary(
      const std::vector<std::string>& args);

  // Whether the server is a Redis Cluster (known after the first command:
  // CLUSTER SLOTS answered with a slot map).
  bool cluster() const { return topology_.load() == Topology::kCluster; }

  const RedisOptions& options() const { return options_; }

 private:
  struct Connection;
  enum class Topology { kUnknown, kSingle, kCluster };
  // "" is the server the URL names; in a cluster, "host:port" of a node.
  std::unique_ptr<Connection> Acquire(const std::string& node = "");
  void Release(std::unique_ptr<Connection> connection);
  absl::Status EnsureConnected(Connection& connection);
  // Writes `commands` in one go and reads a result for each; an error
  // reply fails only its own command, a broken connection all the rest.
  std::vector<absl::StatusOr<RedisValue>> RoundTrip(
      Connection& connection,
      const std::vector<const std::vector<std::string>*>& commands);
  struct AsyncLane;
  void RunAsyncBatches(AsyncLane& lane);

  // Routes `commands` (to the one server, or per node in a cluster) and
  // follows redirects; a result per command. In client_cluster.cc.
  std::vector<absl::StatusOr<RedisValue>> Execute(
      const std::vector<const std::vector<std::string>*>& commands);
  // Asks the server for CLUSTER SLOTS once, to learn whether it is a
  // cluster.
  void DetectTopology();
  absl::Status RefreshSlotMap(const std::string& node);
  // After `failed` could not be reached: the map from any other node (its
  // replica may have been promoted).
  void RefreshSlotMapAvoiding(const std::string& failed);
  std::shared_ptr<const redis_cluster::SlotMap> slot_map() const;
  // The node each command goes to: its key's slot's primary; a command
  // without a key goes with its neighbours.
  std::vector<std::string> NodesFor(
      const std::vector<const std::vector<std::string>*>& commands,
      const redis_cluster::SlotMap& map) const;
  absl::StatusOr<RedisValue> FollowRedirect(
      const std::vector<std::string>& command,
      redis_cluster::Redirect redirect);
  std::vector<absl::StatusOr<RedisValue>> SendTo(
      const std::string& node,
      const std::vector<const std::vector<std::string>*>& commands);

  struct AsyncCommand {
    std::vector<std::string> args;
    AsyncCallback done;
  };

  RedisOptions options_;
  std::atomic<Topology> topology_{Topology::kUnknown};
  mutable std::mutex mutex_;
  std::condition_variable available_;
  // Idle connections per node ("" for the URL's server).
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>>
      idle_;
  std::shared_ptr<const redis_cluster::SlotMap> slot_map_;
  int outstanding_ = 0;
  // Fail fast while Redis is down instead of every call waiting out a
  // connect timeout; per node ("" for the URL's server), so that one dead
  // cluster node does not hold back the others.
  struct Backoff {
    absl::Time next_attempt = absl::InfinitePast();
    absl::Duration delay = absl::ZeroDuration();
  };
  std::unordered_map<std::string, Backoff> backoff_;

  // Each lane's thread starts with its first command.
  std::vector<std::unique_ptr<AsyncLane>> async_lanes_;
  std::atomic<uint64_t> next_lane_{0};
};

}  // namespace accord

#endif  // ACCORD_COMMON_REDIS_CLIENT_H_
