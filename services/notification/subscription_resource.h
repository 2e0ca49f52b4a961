#ifndef ACCORD_SERVICES_NOTIFICATION_SUBSCRIPTION_RESOURCE_H_
#define ACCORD_SERVICES_NOTIFICATION_SUBSCRIPTION_RESOURCE_H_

// The Subscription resource's own rules: its validation, the writes that
// ride along with a change (owner index, webhook secret, version counter),
// who may see it, and how its signing secret is taken off before storing.
// The handlers that use them are in subscription_methods.cc.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "accord/notification/v1/notification_service.pb.h"
#include "common/auth.h"
#include "common/resource_ops.h"
#include "common/write_path.h"
#include "services/notification/url_guard.h"

namespace accord::notification {

// The store hooks of subscriptions; their events are internal, so they
// name nobody concerned. Authorisation is the handlers' (LoadOwned).
class SubscriptionHooks final : public StoreHooks<v1::Subscription> {
 public:
  explicit SubscriptionHooks(const UrlGuard& guard) : guard_(guard) {}
  std::string event_prefix() const override { return "accord.subscription.v1"; }
  std::string source() const override { return "//accord/notification"; }
  bool has_concerns() const override { return false; }
  absl::Status Validate(const v1::Subscription& subscription) const override;
  absl::Status PlanChange(const v1::Subscription* before,
                          const v1::Subscription* after,
                          WritePlan& plan) const override;

 private:
  const UrlGuard& guard_;
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
