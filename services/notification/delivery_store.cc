#include "services/notification/delivery_store.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/redis/stream_position.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "services/notification/delivery_health.h"
#include "services/notification/event_stream.h"
#include "services/notification/redis_functions.h"

namespace accord::notification {
namespace {

using redis_keys::DeliveryKey;

std::string IndexKeyOf(absl::string_view subscription_id) {
  return redis_keys::DeliveryIndexKey(subscription_id);
}

std::string IdOf(absl::string_view subscription) {
  return std::string(subscription.substr(subscription.find('/') + 1));
}

google::protobuf::Timestamp ToProto(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(time));
}

}  // namespace

std::string DeliveryStore::DeliveryName(absl::string_view subscription,
                                        absl::string_view position) {
  return absl::StrCat(subscription, "/deliveries/", position);
}

std::string DeliveryStore::UnpadPosition(absl::string_view padded) {
  return StreamPosition::Parse(padded).ToString();
}

std::string DeliveryStore::PaddedPosition(absl::string_view position) {
  return StreamPosition::Parse(position).Padded();
}

absl::StatusOr<std::pair<std::string, std::string>> ParseDeliveryName(
    absl::string_view name, absl::string_view field) {
  const size_t split = name.find("/deliveries/");
  if (split == absl::string_view::npos) {
    return InvalidField(field,
                        "must be subscriptions/{subscription}/deliveries/"
                        "{delivery}");
  }
  absl::StatusOr<std::string> id =
      ParseResourceName(name.substr(0, split), "subscriptions", field);
  if (!id.ok()) return id.status();
  const std::string position(name.substr(split + strlen("/deliveries/")));
  if (!IsValidPosition(position) || position.find('-') == std::string::npos) {
    return InvalidField(field, "the delivery id must be an event position");
  }
  return std::make_pair(*id, position);
}

std::vector<std::string> DeliveryStore::RecordCommand(
    absl::string_view subscription, const events::v1::Event& event,
    absl::Time now) const {
  const std::string id = IdOf(subscription);
  v1::Delivery delivery;
  delivery.set_name(DeliveryName(subscription, event.position()));
  delivery.set_event_id(event.id());
  delivery.set_event_type(event.type());
  delivery.set_event_position(event.position());
  delivery.set_state(v1::Delivery::STATE_PENDING);
  *delivery.mutable_create_time() = ToProto(now);
  *delivery.mutable_update_time() = ToProto(now);
  *delivery.mutable_next_attempt_time() = ToProto(now);
  return {"FCALL", kRecordDeliveryFunction, "4",
          DeliveryKey(id, event.position()), IndexKeyOf(id),
          redis_keys::kDeliveriesDue, DeliveryHealthStore::UndeliveredKey(id),
          delivery.SerializeAsString(), event.SerializeAsString(),
          // No expiry yet: a delivery still to be made must outlive any
          // backlog; the retention starts once it is final (Save).
          "0", PaddedPosition(event.position()),
          absl::StrCat(absl::ToUnixMillis(now)), delivery.name()};
}

absl::StatusOr<std::optional<StoredDelivery>> DeliveryStore::Load(
    absl::string_view name) {
  ACCORD_ASSIGN_OR_RETURN(auto parts, ParseDeliveryName(name, "name"));
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue reply,
      redis_.Command({"HMGET", DeliveryKey(parts.first, parts.second), "data",
                      "event", "round"}));
  if (reply.elements.size() != 3 || reply.elements[0].is_nil()) {
    return std::optional<StoredDelivery>();
  }
  StoredDelivery stored;
  if (!stored.delivery.ParseFromString(reply.elements[0].text) ||
      !stored.event.ParseFromString(reply.elements[1].text)) {
    return absl::DataLossError(
        absl::StrCat("delivery ", name, " does not decode"));
  }
  (void)absl::SimpleAtoi(reply.elements[2].text, &stored.round_start);
  return std::optional<StoredDelivery>(std::move(stored));
}

absl::Status DeliveryStore::Save(const StoredDelivery& stored,
                                 std::optional<absl::Time> due,
                                 std::vector<std::vector<std::string>> also,
                                 bool ordered) {
  ACCORD_ASSIGN_OR_RETURN(auto parts,
                          ParseDeliveryName(stored.delivery.name(), "name"));
  const std::string key = DeliveryKey(parts.first, parts.second);
  const std::string undelivered =
      DeliveryHealthStore::UndeliveredKey(parts.first);
  // One transaction: the record, its due time and whether it is
  // outstanding never disagree, whatever crashes.
  // Kept while due (a retried dead letter included); the retention
  // counts from the final state.
  std::vector<std::vector<std::string>> commands = {
      {"MULTI"},
      {"HSET", key, "data", stored.delivery.SerializeAsString(), "round",
       absl::StrCat(stored.round_start)},
      due.has_value()
          ? std::vector<std::string>{"PERSIST", key}
          : std::vector<std::string>{
                "PEXPIRE", key,
                absl::StrCat(absl::ToInt64Milliseconds(retention_))}};
  const std::string padded = PaddedPosition(parts.second);
  if (due.has_value()) {
    commands.push_back({"ZADD", redis_keys::kDeliveriesDue,
                        absl::StrCat(absl::ToUnixMillis(*due)),
                        stored.delivery.name()});
    commands.push_back({"ZADD", undelivered, "0", padded});
  } else {
    commands.push_back(
        {"ZREM", redis_keys::kDeliveriesDue, stored.delivery.name()});
    const std::string subscription = stored.delivery.name().substr(
        0, stored.delivery.name().find("/deliveries/"));
    commands.push_back({"FCALL", kSettleDeliveryFunction, "2", undelivered,
                        redis_keys::kDeliveriesDue, padded, ordered ? "1" : "0",
                        subscription,
                        absl::StrCat(absl::ToUnixMillis(absl::Now()))});
  }
  // The retry and its audit record happen together.
  for (auto& command : also) commands.push_back(std::move(command));
  commands.push_back({"EXEC"});
  // An error inside EXEC's reply fails the whole call. Without `also`
  // every command is safe to repeat, so a Redis that lost the functions
  // gets them and the transaction again.
  return (also.empty() ? CallFunctions(redis_, commands)
                       : redis_.Pipeline(commands))
      .status();
}

absl::StatusOr<bool> DeliveryStore::OrderedTurn(absl::string_view name,
                                                absl::Time recheck) {
  ACCORD_ASSIGN_OR_RETURN(auto parts, ParseDeliveryName(name, "name"));
  ACCORD_ASSIGN_OR_RETURN(
      std::vector<RedisValue> replies,
      CallFunctions(redis_, {{"FCALL", kOrderedTurnFunction, "2",
                              DeliveryHealthStore::UndeliveredKey(parts.first),
                              redis_keys::kDeliveriesDue,
                              PaddedPosition(parts.second), std::string(name),
                              absl::StrCat(absl::ToUnixMillis(recheck))}}));
  return replies.at(0).integer == 1;
}

absl::StatusOr<std::vector<std::string>> DeliveryStore::Due(absl::Time now,
                                                            int limit) {
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue reply,
      redis_.Command({"ZRANGEBYSCORE", redis_keys::kDeliveriesDue, "-inf",
                      absl::StrCat(absl::ToUnixMillis(now)), "LIMIT", "0",
                      absl::StrCat(limit)}));
  std::vector<std::string> names;
  for (const RedisValue& element : reply.elements) {
    names.push_back(element.text);
  }
  return names;
}

absl::StatusOr<bool> DeliveryStore::Claim(absl::string_view name,
                                          absl::Time now,
                                          absl::Duration lease) {
  ACCORD_ASSIGN_OR_RETURN(
      std::vector<RedisValue> replies,
      CallFunctions(redis_, {{"FCALL", kClaimDeliveryFunction, "1",
                              redis_keys::kDeliveriesDue, std::string(name),
                              absl::StrCat(absl::ToUnixMillis(now)),
                              absl::StrCat(absl::ToUnixMillis(now + lease))}}));
  return replies.at(0).integer == 1;
}

absl::StatusOr<std::vector<std::string>> DeliveryStore::ListPositions(
    absl::string_view subscription, absl::string_view before_padded,
    int limit) {
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue reply,
      redis_.Command({"ZREVRANGEBYLEX", IndexKeyOf(IdOf(subscription)),
                      before_padded.empty() ? std::string("+")
                                            : absl::StrCat("(", before_padded),
                      "-", "LIMIT", "0", absl::StrCat(limit)}));
  std::vector<std::string> positions;
  for (const RedisValue& element : reply.elements) {
    positions.push_back(UnpadPosition(element.text));
  }
  return positions;
}

absl::StatusOr<std::vector<std::string>> DeliveryStore::ListPositionsBetween(
    absl::string_view subscription, absl::string_view lower,
    absl::string_view upper, int limit) {
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue reply,
      redis_.Command({"ZRANGEBYLEX", IndexKeyOf(IdOf(subscription)),
                      std::string(lower), std::string(upper), "LIMIT", "0",
                      absl::StrCat(limit)}));
  std::vector<std::string> positions;
  for (const RedisValue& element : reply.elements) {
    positions.push_back(UnpadPosition(element.text));
  }
  return positions;
}

absl::StatusOr<int64_t> DeliveryStore::PruneIndex(
    absl::string_view subscription_id, int64_t limit) {
  constexpr int kBatch = 256;
  const std::string index = IndexKeyOf(subscription_id);
  std::string after = "-";
  int64_t removed = 0;
  for (int64_t scanned = 0; scanned < limit; scanned += kBatch) {
    ACCORD_ASSIGN_OR_RETURN(
        RedisValue batch, redis_.Command({"ZRANGEBYLEX", index, after, "+",
                                          "LIMIT", "0", absl::StrCat(kBatch)}));
    if (batch.elements.empty()) break;
    std::vector<std::vector<std::string>> exists;
    for (const RedisValue& member : batch.elements) {
      exists.push_back(
          {"EXISTS", DeliveryKey(subscription_id, UnpadPosition(member.text))});
    }
    ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> found,
                            redis_.Pipeline(exists));
    std::vector<std::string> expired = {"ZREM", index};
    for (size_t i = 0; i < found.size(); ++i) {
      if (found[i].integer == 0) expired.push_back(batch.elements[i].text);
    }
    if (expired.size() > 2) {
      ACCORD_RETURN_IF_ERROR(redis_.Command(expired).status());
      removed += static_cast<int64_t>(expired.size() - 2);
    }
    // Entries are in event order and records expire roughly in that order
    // too: a batch with nothing expired means the rest is live.
    if (expired.size() == 2 ||
        batch.elements.size() < static_cast<size_t>(kBatch)) {
      break;
    }
    after = absl::StrCat("(", batch.elements.back().text);
  }
  return removed;
}

absl::Status DeliveryStore::Forget(absl::string_view subscription,
                                   absl::string_view position) {
  return redis_
      .Command(
          {"ZREM", IndexKeyOf(IdOf(subscription)), PaddedPosition(position)})
      .status();
}

}  // namespace accord::notification
