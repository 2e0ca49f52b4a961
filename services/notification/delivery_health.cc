#include "services/notification/delivery_health.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/events.h"
#include "common/redis/keys.h"
#include "common/redis/stream_position.h"
#include "common/status_macros.h"
#include "common/write_path.h"
#include "google/protobuf/util/time_util.h"
#include "services/notification/delivery_store.h"
#include "services/notification/redis_functions.h"

namespace accord::notification {
namespace {

constexpr char kSource[] = "//accord/notification";
constexpr char kPrincipal[] = "accord-notification";

std::string IdOf(absl::string_view subscription) {
  return std::string(subscription.substr(subscription.find('/') + 1));
}

google::protobuf::Timestamp FromMillis(int64_t ms) {
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(ms);
}

// The event about `subscription` whose health is now `health`: routed to
// its owner (and admins) only, since it names the owner's endpoint trouble.
std::string HealthEvent(absl::string_view type,
                        const v1::Subscription& subscription,
                        const v1::DeliveryHealth& health, absl::Time now) {
  v1::Subscription payload = subscription;
  *payload.mutable_delivery_health() = health;
  ChangeContext context;
  context.principal = kPrincipal;
  context.time = now;
  events::v1::Event event =
      MakeEvent(kSource, type, subscription.name(), payload, context);
  if (absl::StartsWith(subscription.owner(), "institutions/")) {
    event.add_institutions(subscription.owner());
  }
  event.add_restricted_to(subscription.owner());
  return event.SerializeAsString();
}

}  // namespace

std::string DeliveryHealthStore::HealthKey(absl::string_view subscription_id) {
  return redis_keys::DeliveryHealthKey(subscription_id);
}

std::string DeliveryHealthStore::UndeliveredKey(
    absl::string_view subscription_id) {
  return redis_keys::UndeliveredKey(subscription_id);
}

absl::StatusOr<std::vector<v1::DeliveryHealth>> DeliveryHealthStore::Read(
    const std::vector<std::string>& subscription_names) {
  std::vector<std::vector<std::string>> commands;
  for (const std::string& name : subscription_names) {
    const std::string id = IdOf(name);
    commands.push_back({"HMGET", HealthKey(id), "failures", "failing",
                        "failing_since_ms", "last_failure_ms",
                        "last_failure_reason", "last_success_ms"});
    commands.push_back({"ZRANGE", UndeliveredKey(id), "0", "0"});
    commands.push_back({"ZCARD", UndeliveredKey(id)});
  }
  std::vector<v1::DeliveryHealth> result;
  if (commands.empty()) return result;
  ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> replies,
                          redis_.Pipeline(commands));
  for (size_t i = 0; i + 2 < replies.size(); i += 3) {
    v1::DeliveryHealth health;
    const RedisValue& fields = replies[i];
    auto field = [&fields](size_t index) -> const RedisValue* {
      if (index >= fields.elements.size() || fields.elements[index].is_nil()) {
        return nullptr;
      }
      return &fields.elements[index];
    };
    auto millis = [&field](size_t index) -> std::optional<int64_t> {
      int64_t ms = 0;
      const RedisValue* value = field(index);
      if (value == nullptr || !absl::SimpleAtoi(value->text, &ms)) {
        return std::nullopt;
      }
      return ms;
    };
    int64_t failures = 0;
    if (field(0) != nullptr) (void)absl::SimpleAtoi(field(0)->text, &failures);
    const bool attempted = field(0) != nullptr;
    const bool failing = field(1) != nullptr && field(1)->text == "1";
    health.set_state(!attempted ? v1::DeliveryHealth::STATE_UNSPECIFIED
                     : failing  ? v1::DeliveryHealth::STATE_FAILING
                                : v1::DeliveryHealth::STATE_HEALTHY);
    health.set_consecutive_failures(static_cast<int32_t>(failures));
    if (failing && millis(2).has_value()) {
      *health.mutable_failing_since() = FromMillis(*millis(2));
    }
    if (millis(3).has_value()) {
      *health.mutable_last_failure_time() = FromMillis(*millis(3));
    }
    if (field(4) != nullptr) health.set_last_failure_reason(field(4)->text);
    if (millis(5).has_value()) {
      *health.mutable_last_success_time() = FromMillis(*millis(5));
    }
    const RedisValue& oldest = replies[i + 1];
    if (!oldest.elements.empty()) {
      const StreamPosition position =
          StreamPosition::Parse(oldest.elements[0].text);
      health.set_oldest_undelivered_position(position.ToString());
      *health.mutable_oldest_undelivered_time() =
          FromMillis(static_cast<int64_t>(position.ms));
    }
    health.set_undelivered_count(replies[i + 2].integer);
    result.push_back(std::move(health));
  }
  return result;
}

absl::StatusOr<HealthChange> DeliveryHealthStore::RecordAttempt(
    const v1::Subscription& subscription, bool succeeded,
    absl::string_view failure_reason, absl::Time now, int threshold) {
  const std::string id = IdOf(subscription.name());
  const int64_t now_ms = absl::ToUnixMillis(now);
  // The payloads say what the health becomes if the state flips; built
  // before knowing whether it will, which costs a serialisation per
  // attempt, nothing next to the HTTP request.
  std::string failing_event;
  std::string recovered_event;
  if (succeeded) {
    v1::DeliveryHealth health;
    health.set_state(v1::DeliveryHealth::STATE_HEALTHY);
    *health.mutable_last_success_time() = FromMillis(now_ms);
    recovered_event =
        HealthEvent(kSubscriptionRecoveredType, subscription, health, now);
  } else {
    v1::DeliveryHealth health;
    health.set_state(v1::DeliveryHealth::STATE_FAILING);
    health.set_consecutive_failures(threshold);
    *health.mutable_last_failure_time() = FromMillis(now_ms);
    health.set_last_failure_reason(std::string(failure_reason));
    *health.mutable_failing_since() = FromMillis(now_ms);
    failing_event =
        HealthEvent(kSubscriptionFailingType, subscription, health, now);
  }
  ACCORD_ASSIGN_OR_RETURN(
      std::vector<RedisValue> replies,
      CallFunctions(redis_,
                    {{"FCALL", kDeliveryOutcomeFunction, "2", HealthKey(id),
                      kEventStream, succeeded ? "ok" : "fail",
                      absl::StrCat(now_ms), std::string(failure_reason),
                      absl::StrCat(threshold), failing_event, recovered_event,
                      kSubscriptionFailingType, kSubscriptionRecoveredType}}));
  switch (replies.at(0).integer) {
    case 1:
      return HealthChange::kTurnedFailing;
    case 2:
      return HealthChange::kRecovered;
    default:
      return HealthChange::kNone;
  }
}

}  // namespace accord::notification
