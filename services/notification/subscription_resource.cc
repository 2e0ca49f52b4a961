#include "services/notification/subscription_resource.h"

#include <utility>

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

absl::Status SubscriptionHooks::Validate(
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

absl::Status SubscriptionHooks::PlanChange(const Subscription* before,
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

}  // namespace accord::notification
