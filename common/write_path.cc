#include "common/write_path.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/metrics.h"
#include "common/redis/lua_libraries.h"
#include "common/status_macros.h"

namespace accord {
void WritePlan::IdempotencyKey(absl::string_view method,
                               absl::string_view request_id,
                               absl::Duration ttl) {
  if (request_id.empty()) return;
  idempotency_key_ = RequestKey(method, request_id);
  idempotency_ttl_ = ttl;
}

std::string WritePlan::RequestKey(absl::string_view method,
                                  absl::string_view request_id) {
  return redis_keys::RequestKey(method, request_id);
}

void WritePlan::ExpectAbsent(std::string key, absl::Status failure) {
  checks_.push_back(
      {"absent", std::move(key), "", std::move(failure), nullptr});
}

void WritePlan::ExpectEtag(std::string key, std::string etag,
                           absl::Status failure) {
  checks_.push_back(
      {"etag", std::move(key), std::move(etag), std::move(failure), nullptr});
}

void WritePlan::ExpectLive(std::string key, absl::Status failure) {
  checks_.push_back({"live", std::move(key), "", std::move(failure), nullptr});
}

void WritePlan::ExpectAbsent(std::string key,
                             std::function<absl::Status()> failure) {
  checks_.push_back(
      {"absent", std::move(key), "", absl::OkStatus(), std::move(failure)});
}

void WritePlan::ExpectEtag(std::string key, std::string etag,
                           std::function<absl::Status()> failure) {
  checks_.push_back({"etag", std::move(key), std::move(etag), absl::OkStatus(),
                     std::move(failure)});
}

void WritePlan::ExpectLive(std::string key,
                           std::function<absl::Status()> failure) {
  checks_.push_back(
      {"live", std::move(key), "", absl::OkStatus(), std::move(failure)});
}

void WritePlan::ExpectEmptySet(std::string key, absl::Status failure) {
  checks_.push_back({"empty", std::move(key), "", std::move(failure), nullptr});
}

void WritePlan::PutRecord(std::string key, std::string data, std::string etag,
                          bool deleted) {
  writes_.push_back(
      {{"HSET", std::move(key), kRecordData, std::move(data), kRecordEtag,
        std::move(etag), kRecordDeleted, deleted ? "1" : "0"},
       1});
}

void WritePlan::Write(std::vector<std::string> command, int key_count) {
  writes_.push_back({std::move(command), key_count});
}

namespace {

// The packed form write.lua expands: `op`, the keys, then the members.
std::vector<std::string> PackedSortedSetWrite(
    const char* op,
    const std::vector<std::pair<std::string, std::string>>& entries) {
  std::vector<std::string> command;
  command.reserve(1 + 2 * entries.size());
  command.emplace_back(op);
  for (const auto& entry : entries) command.push_back(entry.first);
  for (const auto& entry : entries) command.push_back(entry.second);
  return command;
}

}  // namespace

void WritePlan::AddToSortedSets(
    const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty()) return;
  writes_.push_back({PackedSortedSetWrite("ZADD*", entries),
                     static_cast<int>(entries.size())});
}

void WritePlan::RemoveFromSortedSets(
    const std::vector<std::pair<std::string, std::string>>& entries) {
  if (entries.empty()) return;
  writes_.push_back({PackedSortedSetWrite("ZREM*", entries),
                     static_cast<int>(entries.size())});
}

void WritePlan::Emit(const events::v1::Event& event) {
  event_type_ = event.type();
  event_data_ = event.SerializeAsString();
}

void WritePlan::Result(std::string result) { result_ = std::move(result); }

WritePath::WritePath(RedisClient& redis)
    : redis_(redis),
      functions_(redis, redis_lua::kWriteLibrary),
      apply_function_(functions_.Function("accord_apply")) {}

absl::Status WritePath::EnsureFunctionsLoaded() {
  return functions_.EnsureLoaded();
}

std::vector<std::string> WritePath::ApplyCommand(const WritePlan& plan) const {
  const bool idempotent = !plan.idempotency_key_.empty();
  size_t key_count = 1 + (idempotent ? 1 : 0) + plan.checks_.size();
  for (const WritePlan::WriteCommand& write : plan.writes_) {
    key_count += write.key_count;
  }
  std::vector<std::string> command = {"FCALL", apply_function_,
                                      absl::StrCat(key_count), kEventStream};
  if (idempotent) command.push_back(plan.idempotency_key_);
  for (const WritePlan::Check& check : plan.checks_) {
    command.push_back(check.key);
  }
  for (const WritePlan::WriteCommand& write : plan.writes_) {
    command.insert(command.end(), write.command.begin() + 1,
                   write.command.begin() + 1 + write.key_count);
  }
  command.push_back(idempotent ? "1" : "0");
  command.push_back(absl::StrCat(absl::ToInt64Seconds(plan.idempotency_ttl_)));
  command.push_back(absl::StrCat(plan.checks_.size()));
  for (const WritePlan::Check& check : plan.checks_) {
    command.push_back(check.kind);
    command.push_back(check.argument);
  }
  command.push_back(absl::StrCat(plan.writes_.size()));
  for (const WritePlan::WriteCommand& write : plan.writes_) {
    command.push_back(write.command.front());
    command.push_back(absl::StrCat(write.key_count));
    command.push_back(absl::StrCat(write.command.size() - 1 - write.key_count));
    command.insert(command.end(), write.command.begin() + 1 + write.key_count,
                   write.command.end());
  }
  command.push_back(plan.event_type_);
  command.push_back(plan.event_data_);
  command.push_back(plan.result_);
  return command;
}

absl::StatusOr<WritePath::Replicated> WritePath::SendReplicated(
    const std::vector<std::string>& command) {
  const RedisOptions& options = redis_.options();
  // A Redis that lost its data (or a new one) has no functions yet: the
  // call loads them and sends the command again.
  if (options.min_replicas_acked <= 0) {
    ACCORD_ASSIGN_OR_RETURN(RedisValue reply, functions_.Call(command));
    return Replicated{std::move(reply), absl::OkStatus()};
  }
  // WAIT covers what this connection wrote; the fence is a write of its
  // own, after any earlier write of the same request on another
  // connection, so a replayed answer is confirmed too.
  const std::string wanted = absl::StrCat(options.min_replicas_acked);
  ACCORD_ASSIGN_OR_RETURN(
      std::vector<RedisValue> replies,
      functions_.Pipeline(
          {command,
           {"INCR", redis_keys::kReplicationFence},
           {"WAIT", wanted,
            absl::StrCat(absl::ToInt64Milliseconds(std::max(
                options.replica_ack_timeout, absl::Milliseconds(1))))}}));
  Replicated result{std::move(replies[0]), absl::OkStatus()};
  const int64_t acked = replies[2].integer;
  if (acked < options.min_replicas_acked) {
    static const bool described = [] {
      Metrics::Global().Describe(
          "accord_replication_unconfirmed_total", "counter",
          "Writes answered UNAVAILABLE because fewer replicas than "
          "--redis_min_replicas_acked confirmed them in time.");
      return true;
    }();
    (void)described;
    Metrics::Global().Increment("accord_replication_unconfirmed_total", {});
    result.confirmed = ErrorWithReason(
        absl::StatusCode::kUnavailable,
        absl::StrCat("the change is recorded on the Redis primary but only ",
                     acked, " of the ", wanted,
                     " replicas required (--redis_min_replicas_acked) "
                     "confirmed it in time; retry with the same request_id "
                     "to have it confirmed"),
        "REPLICATION_NOT_CONFIRMED");
  }
  return result;
}

absl::StatusOr<WriteOutcome> WritePath::Commit(const WritePlan& plan) {
  ACCORD_ASSIGN_OR_RETURN(Replicated sent, SendReplicated(ApplyCommand(plan)));
  const RedisValue* reply = &sent.reply;
  // A failed precondition wrote nothing: that is the answer whatever the
  // replicas say.
  if (reply->type == RedisValue::Type::kArray && !reply->elements.empty() &&
      reply->elements[0].text != "fail") {
    ACCORD_RETURN_IF_ERROR(sent.confirmed);
  }
  if (reply->type != RedisValue::Type::kArray || reply->elements.empty()) {
    return absl::InternalError("accord_apply: malformed reply");
  }
  const std::string& verdict = reply->elements[0].text;
  WriteOutcome outcome;
  if (verdict == "ok" && reply->elements.size() == 2) {
    outcome.position = reply->elements[1].text;
    outcome.result = plan.result_;
    if (!plan.event_type_.empty()) {
      static const bool described = [] {
        Metrics::Global().Describe("accord_events_written_total", "counter",
                                   "Events appended to accord:events.");
        return true;
      }();
      (void)described;
      Metrics::Global().Increment("accord_events_written_total",
                                  {{"type", plan.event_type_}});
    }
    return outcome;
  }
  if (verdict == "replay" && reply->elements.size() == 3) {
    outcome.replayed = true;
    outcome.result = reply->elements[1].text;
    outcome.position = reply->elements[2].text;
    return outcome;
  }
  size_t failed = 0;
  if (verdict == "fail" && reply->elements.size() == 2 &&
      absl::SimpleAtoi(reply->elements[1].text, &failed) && failed >= 1 &&
      failed <= plan.checks_.size()) {
    const WritePlan::Check& check = plan.checks_[failed - 1];
    return check.make_failure ? check.make_failure() : check.failure;
  }
  return absl::InternalError("accord_apply: unexpected reply");
}

absl::StatusOr<std::optional<std::string>> WritePath::PriorResult(
    absl::string_view method, absl::string_view request_id) {
  if (request_id.empty()) return std::nullopt;
  ACCORD_ASSIGN_OR_RETURN(
      Replicated sent,
      SendReplicated(
          {"HGET", WritePlan::RequestKey(method, request_id), "result"}));
  if (sent.reply.is_nil()) return std::nullopt;
  // An earlier attempt's outcome is an acknowledgement too.
  ACCORD_RETURN_IF_ERROR(sent.confirmed);
  return sent.reply.text;
}

}  // namespace accord
