#ifndef ACCORD_SERVICES_NOTIFICATION_SUBSCRIPTION_RESOURCE_H_
#define ACCORD_SERVICES_NOTIFICATION_SUBSCRIPTION_RESOURCE_H_

// The Subscription resource's own rules: its validation, the writes that
// ride along with a change (owner index, webhook secret, version counter),
// who may see it, the per-owner cap, and how its signing secret is taken
// off before storing. NotificationServiceImpl registers it with the
// standard-method adapter; its custom methods (pause, resume) are in
// subscription_methods.cc.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "accord/notification/v1/notification_service.pb.h"
#include "common/auth.h"
#include "common/record_store.h"
#include "common/redis/client.h"
#include "common/resource_policy.h"
#include "common/write_path.h"
#include "services/notification/delivery_health.h"
#include "services/notification/event_stream.h"
#include "services/notification/url_guard.h"

namespace accord::notification {

// The policy of subscriptions. A subscription belongs to its `owner`:
// the principal itself or one of the institutions it acts for; others
// (except admins) see it as absent. Every method needs the subscriber role
// (or viewer, editor, admin). Its events are internal, so they name nobody
// concerned.
//
// The webhook signing secret is input only: BeginWrite takes it off the
// resource and PlanChange writes it to its own hash in the same atomic
// step. Live subscriptions per owner are capped (counted in Redis; within
// a replica, owner-changing writes run one at a time so that counting and
// writing do not interleave).
class SubscriptionPolicy final : public ResourcePolicy<v1::Subscription> {
 public:
  using Resource = v1::Subscription;

  SubscriptionPolicy(const UrlGuard& guard, RedisClient& redis,
                     RecordStore& store, EventStream& stream,
                     DeliveryHealthStore& health, int64_t max_per_owner)
      : guard_(guard),
        redis_(redis),
        store_(store),
        stream_(stream),
        health_(health),
        max_per_owner_(max_per_owner) {}

  // Store hooks.
  std::string event_prefix() const override { return "accord.subscription.v1"; }
  std::string source() const override { return "//accord/notification"; }
  bool has_concerns() const override { return false; }
  absl::Status Validate(const v1::Subscription& subscription) const override;
  absl::Status PlanChange(const v1::Subscription* before,
                          const v1::Subscription* after,
                          WritePlan& plan) const override;

  // Standard methods.
  Access read_access() const override { return Access::kSubscribe; }
  Access write_access() const override { return Access::kSubscribe; }
  // Owning is seeing: there is no separate editor scope.
  bool scoped() const override { return false; }
  bool restricts_visibility() const override { return true; }
  absl::StatusOr<bool> Visible(
      const Principal& caller,
      const v1::Subscription& subscription) const override;
  absl::Status RefuseInvisibleResult(
      const Principal& caller,
      const v1::Subscription& subscription) const override;
  // Delivery health is read from Redis.
  bool async_get() const override { return false; }
  absl::Status AddComputedFields(
      std::vector<v1::Subscription*> subscriptions) const override;
  void PrepareCreate(v1::Subscription& subscription,
                     const ChangeContext& change) const override;
  absl::StatusOr<WriteHold> BeginWrite(
      PendingWrite<v1::Subscription>& write) const override;
  std::vector<std::string> ListOrder() const override {
    return {"name", "create_time", "update_time", "owner"};
  }

  // The stored subscription `name`, if `caller` may see it; none if the
  // name is malformed, absent or another owner's.
  absl::StatusOr<std::optional<v1::Subscription>> LoadVisible(
      const Principal& caller, absl::string_view name) const;

 private:
  // RESOURCE_EXHAUSTED if `owner` already has the most live subscriptions
  // (`name` aside, when it is one of them).
  absl::Status CheckCap(absl::string_view owner, absl::string_view name) const;
  absl::StatusOr<WriteHold> BeginCreate(
      PendingWrite<v1::Subscription>& write) const;
  absl::StatusOr<WriteHold> BeginUpdate(
      PendingWrite<v1::Subscription>& write) const;

  const UrlGuard& guard_;
  RedisClient& redis_;
  RecordStore& store_;
  EventStream& stream_;
  DeliveryHealthStore& health_;
  const int64_t max_per_owner_;
  mutable absl::Mutex cap_mutex_;
};

// Holds the signing secret of the subscription being written on this
// thread for the change plan (the resource never carries it); clears it
// when destroyed.
class ScopedWebhookSecret {
 public:
  explicit ScopedWebhookSecret(std::string secret);
  ~ScopedWebhookSecret();
  ScopedWebhookSecret(const ScopedWebhookSecret&) = delete;
  ScopedWebhookSecret& operator=(const ScopedWebhookSecret&) = delete;
};

// Takes the secret off a subscription; checks its form if one was given.
absl::StatusOr<std::string> TakeWebhookSecret(v1::Subscription& subscription);

// Admins see every subscription; others those they or their institutions
// own.
bool OwnsSubscription(const Principal& caller,
                      const v1::Subscription& subscription);

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_SUBSCRIPTION_RESOURCE_H_
