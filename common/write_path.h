#ifndef ACCORD_COMMON_WRITE_PATH_H_
#define ACCORD_COMMON_WRITE_PATH_H_

// The one way every service writes: a record change, its index updates and
// its event are applied in a single Redis Function call, so they happen
// together or not at all. In that same step the function
//   1. replays the first result if the request_id was seen before,
//   2. checks every precondition (etag compare-and-set, absent id, live
//      referenced records, no live children) and writes nothing if one
//      fails,
//   3. applies the writes, appends the event to the `accord:events` stream
//      and publishes it (with its stream position) on
//      `accord:events:<event type>`.
// Callers validate input before building a plan: Redis rolls nothing back.
// The function (common/redis/lua/write.lua) is told every key it touches:
// the plan knows each check's and each write's keys.
//
// Example:
//   WritePlan plan;
//   plan.IdempotencyKey("CreateInstitution", request.request_id());
//   plan.ExpectAbsent(key, AlreadyExists(...));
//   plan.PutRecord(key, institution.SerializeAsString(), etag, false);
//   plan.Write({"ZADD", "accord:institutions:ids", "0", id});
//   plan.Emit(event);
//   plan.Result(institution.SerializeAsString());
//   ACCORD_ASSIGN_OR_RETURN(WriteOutcome outcome, write_path.Commit(plan));

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "accord/events/v1/event.pb.h"
#include "common/redis/client.h"
#include "common/redis/functions.h"
#include "common/redis/keys.h"

namespace accord {

// The keys the write path touches, from the key schema (common/redis/keys.h).
using redis_keys::kAuditStream;
using redis_keys::kEventChannelPrefix;
using redis_keys::kEventStream;
using redis_keys::kRecordData;
using redis_keys::kRecordDeleted;
using redis_keys::kRecordEtag;

class WritePlan {
 public:
  // The Redis key remembering a request's first result.
  static std::string RequestKey(absl::string_view method,
                                absl::string_view request_id);

  // Makes the write idempotent for `request_id` (no-op when empty): a retry
  // within `ttl` gets the first result and writes nothing.
  void IdempotencyKey(absl::string_view method, absl::string_view request_id,
                      absl::Duration ttl = absl::Hours(24));

  // Preconditions, checked in order; the first that fails makes Commit
  // return its `failure` and write nothing.
  void ExpectAbsent(std::string key, absl::Status failure);
  void ExpectEtag(std::string key, std::string etag, absl::Status failure);
  void ExpectLive(std::string key, absl::Status failure);
  // The same, building the failure only if the check fails: a status with
  // details (ErrorWithReason: two protos serialised into payloads, ~15k
  // instructions) costs far more than the check, and most checks pass.
  void ExpectAbsent(std::string key, std::function<absl::Status()> failure);
  void ExpectEtag(std::string key, std::string etag,
                  std::function<absl::Status()> failure);
  void ExpectLive(std::string key, std::function<absl::Status()> failure);
  void ExpectEmptySet(std::string key, absl::Status failure);

  // Stores a record hash {data, etag, deleted}.
  void PutRecord(std::string key, std::string data, std::string etag,
                 bool deleted);
  // Any other write command (ZADD, SADD, SREM, HSET, HDEL, ...) whose
  // `key_count` keys follow the command name (one for all of those).
  void Write(std::vector<std::string> command, int key_count = 1);
  // Sorted-set members to add (score 0) and to remove, as (key, member),
  // sent packed: one write command each, two arguments per member.
  void AddToSortedSets(
      const std::vector<std::pair<std::string, std::string>>& entries);
  void RemoveFromSortedSets(
      const std::vector<std::pair<std::string, std::string>>& entries);
  // The event of this change; its position is filled in by Redis.
  void Emit(const events::v1::Event& event);
  // What a replay of this request returns (usually the stored resource).
  void Result(std::string result);

 private:
  friend class WritePath;
  struct Check {
    std::string kind;
    std::string key;
    std::string argument;
    absl::Status failure;
    std::function<absl::Status()> make_failure;  // if set, instead
  };
  std::string idempotency_key_;
  absl::Duration idempotency_ttl_ = absl::ZeroDuration();
  std::vector<Check> checks_;
  struct WriteCommand {
    std::vector<std::string> command;
    int key_count;
  };
  std::vector<WriteCommand> writes_;
  std::string event_type_;
  std::string event_data_;
  std::string result_;
};

struct WriteOutcome {
  // True when the request_id was seen before and nothing was written.
  bool replayed = false;
  // The event's stream position ("" when the plan had no event).
  std::string position;
  // The plan's result, or the first result on a replay.
  std::string result;
};

class WritePath {
 public:
  explicit WritePath(RedisClient& redis);

  // Installs the Redis Function library once per process (readiness
  // probes may call it every time); it is also loaded on demand when Redis
  // answers that the function is missing.
  absl::Status EnsureFunctionsLoaded();

  // Applies the plan atomically. With RedisOptions::min_replicas_acked,
  // a write (or a replay of one) is acknowledged only once that many
  // replicas confirm it; otherwise UNAVAILABLE with reason
  // REPLICATION_NOT_CONFIRMED, and a retry with the same request_id
  // answers it once they do.
  absl::StatusOr<WriteOutcome> Commit(const WritePlan& plan);

  // The first result of an earlier call with this method and request_id,
  // if any. Lets an update or delete that already succeeded answer a retry
  // before its preconditions (which the first call changed) are judged.
  absl::StatusOr<std::optional<std::string>> PriorResult(
      absl::string_view method, absl::string_view request_id);

 private:
  // The FCALL of the plan: every key it touches in KEYS, in the order the
  // function uses them (common/redis/lua/write.lua).
  std::vector<std::string> ApplyCommand(const WritePlan& plan) const;
  // Sends `command`, followed when writes wait for replicas by a fence
  // write and WAIT on the same connection; the reply to `command` and
  // whether the replicas confirmed everything written before it.
  struct Replicated {
    RedisValue reply;
    absl::Status confirmed;
  };
  absl::StatusOr<Replicated> SendReplicated(
      const std::vector<std::string>& command);

  RedisClient& redis_;
  RedisFunctions functions_;
  const std::string apply_function_;
};

}  // namespace accord

#endif  // ACCORD_COMMON_WRITE_PATH_H_
