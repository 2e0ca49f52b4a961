#include "common/write_path.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/metrics.h"
#include "common/status_macros.h"

namespace accord {
namespace {

constexpr char kFunctionName[] = "accord_apply_v1";

// Arguments, all positional so every value stays binary-safe:
//   idempotency key, ttl seconds,
//   number of checks, then (kind, key, argument) per check,
//   number of writes, then (argc, args...) per write,
//   event type, event bytes (type "" for none), result bytes.
// Returns {"ok", position} | {"replay", result, position} | {"fail", index}.
//
// The published message is the stored event with its position appended as
// protobuf field 7 (tag 0x3A): appending a field to a serialized message is
// how protobuf merges, so subscribers decode one Event with the position set.
constexpr char kLibrary[] = R"lua(#!lua name=accord_v1
local function apply(keys, args)
  local idem_key = args[1]
  if idem_key ~= '' then
    local prior = redis.call('HMGET', idem_key, 'result', 'position')
    if prior[1] then return {'replay', prior[1], prior[2] or ''} end
  end
  local i = 3
  local check_count = tonumber(args[i]); i = i + 1
  for c = 1, check_count do
    local kind, key, arg = args[i], args[i + 1], args[i + 2]
    i = i + 3
    local ok
    if kind == 'absent' then
      ok = redis.call('EXISTS', key) == 0
    elseif kind == 'etag' then
      ok = redis.call('HGET', key, 'etag') == arg
    elseif kind == 'live' then
      ok = redis.call('HGET', key, 'deleted') == '0'
    elseif kind == 'empty' then
      ok = redis.call('SCARD', key) == 0
    else
      return redis.error_reply('accord: unknown check ' .. kind)
    end
    if not ok then return {'fail', tostring(c)} end
  end
  local write_count = tonumber(args[i]); i = i + 1
  for w = 1, write_count do
    local argc = tonumber(args[i]); i = i + 1
    redis.call(unpack(args, i, i + argc - 1))
    i = i + argc
  end
  local event_type, event_data = args[i], args[i + 1]
  local result = args[i + 2]
  local position = ''
  if event_type ~= '' then
    position = redis.call('XADD', 'accord:events', '*',
                          'type', event_type, 'event', event_data)
    redis.call('PUBLISH', 'accord:events:' .. event_type,
               event_data .. string.char(0x3A, #position) .. position)
  end
  if idem_key ~= '' then
    redis.call('HSET', idem_key, 'result', result, 'position', position)
    redis.call('EXPIRE', idem_key, tonumber(args[2]))
  end
  return {'ok', position}
end
redis.register_function('accord_apply_v1', apply)
)lua";

}  // namespace

void WritePlan::IdempotencyKey(absl::string_view method,
                               absl::string_view request_id,
                               absl::Duration ttl) {
  if (request_id.empty()) return;
  idempotency_key_ = RequestKey(method, request_id);
  idempotency_ttl_ = ttl;
}

std::string WritePlan::RequestKey(absl::string_view method,
                                  absl::string_view request_id) {
  return absl::StrCat("accord:request:", method, ":", request_id);
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
  writes_.push_back({"HSET", std::move(key), kRecordData, std::move(data),
                     kRecordEtag, std::move(etag), kRecordDeleted,
                     deleted ? "1" : "0"});
}

void WritePlan::Write(std::vector<std::string> command) {
  writes_.push_back(std::move(command));
}

void WritePlan::Emit(const events::v1::Event& event) {
  event_type_ = event.type();
  event_data_ = event.SerializeAsString();
}

void WritePlan::Result(std::string result) { result_ = std::move(result); }

absl::Status WritePath::LoadFunctions() {
  absl::StatusOr<RedisValue> reply =
      redis_.Command({"FUNCTION", "LOAD", "REPLACE", kLibrary});
  return reply.status();
}

absl::StatusOr<WriteOutcome> WritePath::Commit(const WritePlan& plan) {
  std::vector<std::string> command = {"FCALL", kFunctionName, "0"};
  command.push_back(plan.idempotency_key_);
  command.push_back(absl::StrCat(absl::ToInt64Seconds(plan.idempotency_ttl_)));
  command.push_back(absl::StrCat(plan.checks_.size()));
  for (const WritePlan::Check& check : plan.checks_) {
    command.push_back(check.kind);
    command.push_back(check.key);
    command.push_back(check.argument);
  }
  command.push_back(absl::StrCat(plan.writes_.size()));
  for (const std::vector<std::string>& write : plan.writes_) {
    command.push_back(absl::StrCat(write.size()));
    command.insert(command.end(), write.begin(), write.end());
  }
  command.push_back(plan.event_type_);
  command.push_back(plan.event_data_);
  command.push_back(plan.result_);

  absl::StatusOr<RedisValue> reply = redis_.Command(command);
  // A Redis that lost its data (or a new one) has no functions yet.
  if (!reply.ok() &&
      absl::StrContains(reply.status().message(), "Function not found")) {
    ACCORD_RETURN_IF_ERROR(LoadFunctions());
    reply = redis_.Command(command);
  }
  if (!reply.ok()) return reply.status();
  if (reply->type != RedisValue::Type::kArray || reply->elements.empty()) {
    return absl::InternalError("accord_apply_v1: malformed reply");
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
  return absl::InternalError("accord_apply_v1: unexpected reply");
}

absl::StatusOr<std::optional<std::string>> WritePath::PriorResult(
    absl::string_view method, absl::string_view request_id) {
  if (request_id.empty()) return std::nullopt;
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue reply,
      redis_.Command(
          {"HGET", WritePlan::RequestKey(method, request_id), "result"}));
  if (reply.is_nil()) return std::nullopt;
  return reply.text;
}

}  // namespace accord
