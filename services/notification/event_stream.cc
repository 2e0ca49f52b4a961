#include "services/notification/event_stream.h"

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/events.h"
#include "common/log.h"
#include "common/redis/stream_position.h"
#include "common/status_macros.h"
#include "common/write_path.h"
#include "google/rpc/error_details.pb.h"
#include "services/notification/redis_functions.h"

namespace accord::notification {
namespace {}  // namespace

bool IsValidPosition(absl::string_view position) {
  return StreamPosition::IsValid(position);
}

absl::Status PositionExpired(absl::string_view position,
                             absl::string_view oldest_position,
                             absl::string_view resume_position) {
  absl::Status status(
      absl::StatusCode::kOutOfRange,
      absl::StrCat("position ", position,
                   " has expired: events after it were trimmed; resume from ",
                   resume_position,
                   " to get everything still held, starting with the oldest "
                   "event (",
                   oldest_position.empty() ? "none is held" : oldest_position,
                   "), and reconcile what was trimmed with your own records"));
  google::rpc::ErrorInfo info;
  info.set_reason("POSITION_EXPIRED");
  info.set_domain("accord");
  (*info.mutable_metadata())["oldest_position"] = std::string(oldest_position);
  (*info.mutable_metadata())["resume_position"] = std::string(resume_position);
  (*info.mutable_metadata())["position"] = std::string(position);
  status.SetPayload("type.googleapis.com/google.rpc.ErrorInfo",
                    absl::Cord(info.SerializeAsString()));
  return status;
}

void DecodeEntries(const RedisValue& entries,
                   std::vector<events::v1::Event>& events,
                   std::string& last_position, int& count) {
  for (const RedisValue& entry : entries.elements) {
    if (entry.elements.size() != 2) continue;
    const std::string& id = entry.elements[0].text;
    last_position = id;
    ++count;
    const RedisValue& fields = entry.elements[1];
    const std::string* data = nullptr;
    for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      if (fields.elements[i].text == "event") {
        data = &fields.elements[i + 1].text;
      }
    }
    if (data == nullptr) continue;
    absl::StatusOr<events::v1::Event> event = DecodeStreamEvent(id, *data);
    if (!event.ok()) {
      LogError("undecodable stream entry",
               {{"position", id}, {"error", event.status().ToString()}});
      continue;
    }
    events.push_back(*std::move(event));
  }
}

StreamInfo ParseStreamInfo(const RedisValue& reply,
                           const RedisValue& trimmed_through) {
  StreamInfo info;
  info.last_position = kStreamStart;
  info.max_deleted = kStreamStart;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    const std::string& key = reply.elements[i].text;
    const RedisValue& value = reply.elements[i + 1];
    if (key == "last-generated-id") {
      info.last_position = value.text;
    } else if (key == "max-deleted-entry-id") {
      info.max_deleted = value.text;
    } else if (key == "length") {
      info.length = value.integer;
    } else if (key == "entries-added") {
      info.entries_added = value.integer;
    } else if (key == "first-entry" && !value.is_nil() &&
               !value.elements.empty()) {
      info.first_position = value.elements[0].text;
    }
  }
  if (!trimmed_through.is_nil()) {
    if (ComparePositions(trimmed_through.text, info.max_deleted) > 0) {
      info.max_deleted = trimmed_through.text;
    }
  } else if (info.entries_added > info.length && !info.first_position.empty()) {
    // Entries went without our mark: assume all before the first one did.
    const std::string before_first =
        StreamPosition::Parse(info.first_position).Previous().ToString();
    if (ComparePositions(before_first, info.max_deleted) > 0) {
      info.max_deleted = before_first;
    }
  }
  return info;
}

absl::StatusOr<EventStream::Range> EventStream::ReadAfter(
    absl::string_view after, int count) {
  // MULTI makes the trim mark and the range one snapshot: a trim between
  // them would otherwise leave a silent gap.
  ACCORD_ASSIGN_OR_RETURN(
      std::vector<RedisValue> replies,
      redis_.Pipeline({{"MULTI"},
                       {"XINFO", "STREAM", kEventStream},
                       {"GET", kTrimmedThroughKey},
                       {"XRANGE", kEventStream, absl::StrCat("(", after), "+",
                        "COUNT", absl::StrCat(count)},
                       {"EXEC"}}));
  const RedisValue& exec = replies.back();
  if (exec.elements.size() != 3) {
    return absl::InternalError("unexpected EXEC reply for a stream read");
  }
  Range range;
  range.info = ParseStreamInfo(exec.elements[0], exec.elements[1]);
  range.last_position = std::string(after);
  DecodeEntries(exec.elements[2], range.events, range.last_position,
                range.entries);
  range.expired = ComparePositions(after, range.info.max_deleted) < 0;
  return range;
}

absl::StatusOr<StreamInfo> EventStream::Info() {
  ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> replies,
                          redis_.Pipeline({{"MULTI"},
                                           {"XINFO", "STREAM", kEventStream},
                                           {"GET", kTrimmedThroughKey},
                                           {"EXEC"}}));
  const RedisValue& exec = replies.back();
  if (exec.elements.size() != 2) {
    return absl::InternalError("unexpected EXEC reply for stream info");
  }
  return ParseStreamInfo(exec.elements[0], exec.elements[1]);
}

absl::StatusOr<long long> EventStream::TrimBefore(absl::string_view min_id) {
  ACCORD_ASSIGN_OR_RETURN(
      std::vector<RedisValue> replies,
      CallFunctions(redis_, {{"FCALL", kTrimEventsFunction, "2", kEventStream,
                              kTrimmedThroughKey, std::string(min_id)}}));
  return replies.at(0).integer;
}

absl::StatusOr<std::string> EventStream::Head() {
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue reply,
      redis_.Command({"XREVRANGE", kEventStream, "+", "-", "COUNT", "1"}));
  if (reply.elements.empty() || reply.elements[0].elements.empty()) {
    return std::string(kStreamStart);
  }
  return reply.elements[0].elements[0].text;
}

}  // namespace accord::notification
