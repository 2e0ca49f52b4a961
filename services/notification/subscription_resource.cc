#include "services/notification/subscription_resource.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/redis/keys.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/notification/event_selector.h"
#include "services/notification/webhook_message.h"

namespace accord::notification {
namespace {

using v1::Subscription;

constexpr int kMaxEventTypes = 100;
constexpr absl::Duration kMinTimeout = absl::Seconds(1);
constexpr absl::Duration kMaxTimeout = absl::Seconds(30);

// The secret of the subscription being written on this thread: the
// resource never carries it, so ResourceOps hands it to the change plan
// this way.
thread_local std::string pending_secret;

// What a subscription write holds while it runs: the owner cap's lock and
// the signing secret for the change plan.
struct SubscriptionWriteHold {
  SubscriptionWriteHold(absl::Mutex* cap_mutex, std::string secret)
      : cap_lock(cap_mutex), scoped_secret(std::move(secret)) {}
  absl::MutexLock cap_lock;
  ScopedWebhookSecret scoped_secret;
};

absl::Duration FromProto(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) +
         absl::Nanoseconds(duration.nanos());
}

}  // namespace

ScopedWebhookSecret::ScopedWebhookSecret(std::string secret) {
  pending_secret = std::move(secret);
}

ScopedWebhookSecret::~ScopedWebhookSecret() { pending_secret.clear(); }

absl::StatusOr<std::string> TakeWebhookSecret(Subscription& subscription) {
  if (!subscription.has_webhook()) return std::string();
  std::string secret = subscription.webhook().signing_secret();
  subscription.mutable_webhook()->clear_signing_secret();
  if (!secret.empty()) {
    absl::StatusOr<std::string> key = DecodeSigningSecret(secret);
    if (!key.ok()) {
      return InvalidField("subscription.webhook.signing_secret",
                          key.status().message());
    }
  }
  return secret;
}

bool OwnsSubscription(const Principal& caller,
                      const Subscription& subscription) {
  return caller.IsAdmin() || subscription.owner() == caller.id ||
         caller.institutions.count(subscription.owner()) > 0;
}

absl::Status SubscriptionPolicy::Validate(
    const Subscription& subscription) const {
  Violations violations;
  violations.CheckText("subscription.display_name", subscription.display_name(),
                       kMaxNameLength, false);
  violations.CheckText("subscription.owner", subscription.owner(),
                       kMaxNameLength, true);
  if (subscription.event_types_size() == 0) {
    violations.Add("subscription.event_types",
                   "must name at least one event type or prefix");
  }
  violations.CheckCount("subscription.event_types",
                        subscription.event_types_size(), kMaxEventTypes);
  absl::StatusOr<EventSelector> selector = EventSelector::Create(
      {subscription.event_types().begin(), subscription.event_types().end()},
      subscription.filter(), "subscription");
  if (!selector.ok()) {
    for (const FieldViolation& violation :
         FieldViolationsOf(selector.status())) {
      violations.Add(violation.field, violation.description);
    }
  }
  bool check_uri = false;
  switch (subscription.delivery_case()) {
    case Subscription::kStream:
      break;
    case Subscription::kWebhook: {
      const v1::WebhookDelivery& webhook = subscription.webhook();
      if (webhook.uri().empty()) {
        violations.Add("subscription.webhook.uri", "is required");
      } else {
        Violations uri;
        uri.CheckHttpUrl("subscription.webhook.uri", webhook.uri());
        if (uri.empty()) {
          check_uri = true;
        } else {
          violations.CheckHttpUrl("subscription.webhook.uri", webhook.uri());
        }
      }
      if (webhook.has_timeout()) {
        const absl::Duration timeout = FromProto(webhook.timeout());
        if (timeout < kMinTimeout || timeout > kMaxTimeout) {
          violations.Add("subscription.webhook.timeout",
                         "must be between 1 and 30 seconds");
        }
      }
      break;
    }
    default:
      violations.Add("subscription.delivery",
                     "set either `stream` or `webhook`");
  }
  ACCORD_RETURN_IF_ERROR(violations.ToStatus());
  if (check_uri) {
    absl::StatusOr<WebhookTarget> target =
        guard_.Resolve(subscription.webhook().uri());
    if (!target.ok()) {
      return InvalidField("subscription.webhook.uri",
                          target.status().message());
    }
  }
  return absl::OkStatus();
}

absl::Status SubscriptionPolicy::PlanChange(const Subscription* before,
                                            const Subscription* after,
                                            WritePlan& plan) const {
  // Webhook readers compare this counter to know their cache is stale.
  plan.Write({"INCR", redis_keys::kSubscriptionsVersion});
  // Live subscriptions per owner, for the cap.
  if (before != nullptr) {
    plan.Write({"SREM", redis_keys::SubscriptionOwnerKey(before->owner()),
                before->name()});
  }
  if (after != nullptr) {
    plan.Write({"SADD", redis_keys::SubscriptionOwnerKey(after->owner()),
                after->name()});
  }
  if (after != nullptr && after->has_webhook()) {
    if (!pending_secret.empty()) {
      plan.Write(
          {"HSET", redis_keys::kWebhookSecrets, after->name(), pending_secret});
    } else if (before != nullptr && !before->has_webhook()) {
      return InvalidField("subscription.webhook.signing_secret",
                          "is required when switching to webhook delivery");
    }
  }
  if (after != nullptr && !after->has_webhook() && before != nullptr &&
      before->has_webhook()) {
    plan.Write({"HDEL", redis_keys::kWebhookSecrets, after->name()});
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SubscriptionPolicy::Visible(
    const Principal& caller, const Subscription& subscription) const {
  return OwnsSubscription(caller, subscription);
}

absl::Status SubscriptionPolicy::RefuseInvisibleResult(
    const Principal& caller, const Subscription&) const {
  return PermissionDenied(
      absl::StrCat(caller.id,
                   " may only give a subscription to itself or an "
                   "institution it acts for"),
      "subscription.owner");
}

absl::Status SubscriptionPolicy::AddComputedFields(
    std::vector<Subscription*> subscriptions) const {
  std::vector<std::string> names;
  std::vector<Subscription*> webhooks;
  for (Subscription* subscription : subscriptions) {
    if (!subscription->has_webhook()) continue;
    names.push_back(subscription->name());
    webhooks.push_back(subscription);
  }
  if (webhooks.empty()) return absl::OkStatus();
  ACCORD_ASSIGN_OR_RETURN(std::vector<v1::DeliveryHealth> health,
                          health_.Read(names));
  for (size_t i = 0; i < webhooks.size() && i < health.size(); ++i) {
    *webhooks[i]->mutable_delivery_health() = std::move(health[i]);
  }
  return absl::OkStatus();
}

void SubscriptionPolicy::PrepareCreate(Subscription& subscription,
                                       const ChangeContext& change) const {
  if (subscription.owner().empty()) subscription.set_owner(change.principal);
  subscription.set_state(Subscription::STATE_ACTIVE);
  subscription.clear_state_reason();
}

absl::StatusOr<WriteHold> SubscriptionPolicy::BeginWrite(
    PendingWrite<Subscription>& write) const {
  switch (write.verb) {
    case WriteVerb::kCreate:
      return BeginCreate(write);
    case WriteVerb::kUpdate:
      return BeginUpdate(write);
    case WriteVerb::kUndelete: {
      ACCORD_ASSIGN_OR_RETURN(std::optional<Subscription> current,
                              LoadVisible(write.caller, write.name));
      // Absent or not the caller's: the store's own check answers.
      if (!current.has_value()) return WriteHold();
      auto hold = std::make_shared<SubscriptionWriteHold>(&cap_mutex_, "");
      ACCORD_RETURN_IF_ERROR(CheckCap(current->owner(), write.name));
      return hold;
    }
    case WriteVerb::kDelete:
      break;
  }
  return WriteHold();
}

absl::StatusOr<WriteHold> SubscriptionPolicy::BeginCreate(
    PendingWrite<Subscription>& write) const {
  Subscription& subscription = *write.incoming;
  // Whose it may be is judged before anything about its content.
  if (!OwnsSubscription(write.caller, subscription)) {
    return RefuseInvisibleResult(write.caller, subscription);
  }
  ACCORD_ASSIGN_OR_RETURN(std::string secret, TakeWebhookSecret(subscription));
  if (subscription.has_webhook() && secret.empty()) {
    return InvalidField("subscription.webhook.signing_secret",
                        "is required for webhook delivery: \"whsec_\" and "
                        "the base64 of 24 to 64 random bytes");
  }
  // Delivery starts with the events recorded after this point.
  ACCORD_ASSIGN_OR_RETURN(std::string head, stream_.Head());
  subscription.set_start_position(head);
  auto hold =
      std::make_shared<SubscriptionWriteHold>(&cap_mutex_, std::move(secret));
  // A retry of a request that already created its subscription is not one
  // more.
  bool replay = false;
  if (!write.request_id.empty() && !write.name.empty()) {
    ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> existing,
                            store_.Get(write.name));
    replay = existing.has_value();
  }
  if (!replay) ACCORD_RETURN_IF_ERROR(CheckCap(subscription.owner(), ""));
  return hold;
}

absl::StatusOr<WriteHold> SubscriptionPolicy::BeginUpdate(
    PendingWrite<Subscription>& write) const {
  Subscription& patch = *write.incoming;
  ACCORD_ASSIGN_OR_RETURN(std::optional<Subscription> current,
                          LoadVisible(write.caller, patch.name()));
  // Absent or not the caller's: the store's own check answers NOT_FOUND.
  if (!current.has_value()) return WriteHold();
  if (!patch.owner().empty() && !OwnsSubscription(write.caller, patch)) {
    return RefuseInvisibleResult(write.caller, patch);
  }
  ACCORD_ASSIGN_OR_RETURN(std::string secret, TakeWebhookSecret(patch));
  auto hold =
      std::make_shared<SubscriptionWriteHold>(&cap_mutex_, std::move(secret));
  // Handing it to another owner counts against that owner's cap.
  const std::vector<std::string>& paths = write.update_paths;
  const bool sets_owner = paths.empty() ||
                          absl::c_linear_search(paths, "owner") ||
                          absl::c_linear_search(paths, "*");
  if (sets_owner && !patch.owner().empty() &&
      patch.owner() != current->owner()) {
    ACCORD_RETURN_IF_ERROR(CheckCap(patch.owner(), patch.name()));
  }
  return hold;
}

absl::StatusOr<std::optional<Subscription>> SubscriptionPolicy::LoadVisible(
    const Principal& caller, absl::string_view name) const {
  if (!CheckName(name, "name").ok()) return std::nullopt;
  ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> record, store_.Get(name));
  if (!record.has_value()) return std::nullopt;
  ACCORD_ASSIGN_OR_RETURN(Subscription subscription,
                          ParseRecord<Subscription>(*record));
  if (!OwnsSubscription(caller, subscription)) return std::nullopt;
  return subscription;
}

absl::Status SubscriptionPolicy::CheckCap(absl::string_view owner,
                                          absl::string_view name) const {
  const std::string key = redis_keys::SubscriptionOwnerKey(owner);
  ACCORD_ASSIGN_OR_RETURN(RedisValue count, redis_.Command({"SCARD", key}));
  if (count.integer < max_per_owner_) return absl::OkStatus();
  if (!name.empty()) {
    ACCORD_ASSIGN_OR_RETURN(
        RedisValue member,
        redis_.Command({"SISMEMBER", key, std::string(name)}));
    if (member.integer == 1) return absl::OkStatus();
  }
  return ErrorWithReason(
      absl::StatusCode::kResourceExhausted,
      absl::StrCat(owner, " already owns ", count.integer,
                   " subscriptions, the most "
                   "--max_subscriptions_per_principal allows; delete one "
                   "first"),
      "TOO_MANY_SUBSCRIPTIONS", "subscription.owner");
}

}  // namespace accord::notification
