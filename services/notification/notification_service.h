#ifndef ACCORD_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
#define ACCORD_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_

// The handlers of accord.notification.v1.NotificationService. Unary
// methods are synchronous (they block on Redis); WatchEvents uses the
// callback API through EventHub so idle streams hold no thread. The class
// owns no connection and no thread of its own: main wires it to a
// RedisClient, an EventHub and a WebhookDispatcher.
//
// Example:
//   NotificationServiceImpl service(redis, guard, auth, retention);
//   EventHub hub(redis, hub_options);
//   service.AttachHub(&hub);
//
// Every method needs a principal with the subscriber role (or viewer,
// editor, admin). Subscriptions are served by the standard-method adapter
// with SubscriptionPolicy (who owns and sees them, the webhook secret,
// the per-owner cap).
//
// Per-principal caps bound what one caller can hold: open WatchEvents
// streams per principal (counted by this replica; a stream's slot is freed
// when it ends for any reason) and live subscriptions per owner (counted in
// Redis). Beyond them calls get RESOURCE_EXHAUSTED naming the limit. With
// --insecure_no_auth every caller is the same anonymous admin, so the
// stream cap is not applied there.

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "common/auth.h"
#include "common/handler_support.h"
#include "common/list.h"
#include "common/record_store.h"
#include "common/redis/client.h"
#include "common/resource_adapter.h"
#include "common/write_path.h"
#include "services/notification/delivery_health.h"
#include "services/notification/delivery_store.h"
#include "services/notification/event_hub.h"
#include "services/notification/event_stream.h"
#include "services/notification/subscription_resource.h"
#include "services/notification/url_guard.h"

namespace accord::notification {

struct NotificationLimits {
  int64_t max_watch_streams_per_principal = 100;
  int64_t max_subscriptions_per_principal = 1000;
};

// Counts open streams per principal.
class StreamSlots {
 public:
  // Held for as long as the stream lives; frees its slot when destroyed.
  class Slot {
   public:
    Slot(StreamSlots* slots, std::string principal)
        : slots_(slots), principal_(std::move(principal)) {}
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    StreamSlots* slots_;
    std::string principal_;
  };

  explicit StreamSlots(int64_t max_per_principal)
      : max_per_principal_(max_per_principal) {}
  // A slot for `principal`, or RESOURCE_EXHAUSTED when it holds the most.
  absl::StatusOr<std::shared_ptr<Slot>> Acquire(const std::string& principal);

 private:
  const int64_t max_per_principal_;
  absl::Mutex mutex_;
  absl::flat_hash_map<std::string, int64_t> open_ ABSL_GUARDED_BY(mutex_);
};

class NotificationServiceImpl final
    : public v1::NotificationService::WithCallbackMethod_WatchEvents<
          v1::NotificationService::Service> {
 public:
  NotificationServiceImpl(RedisClient& redis, const UrlGuard& guard,
                          Authenticator& auth,
                          absl::Duration delivery_retention,
                          NotificationLimits limits = {});

  // Counts, once per Redis, the subscriptions written before the per-owner
  // index existed (later writes keep it current). Idempotent; run before
  // serving.
  absl::Status IndexSubscriptionOwners();

  // WatchEvents is served by `hub` (which must outlive the server).
  void AttachHub(EventHub* hub) { hub_ = hub; }
  // Called after a delivery is made due, to wake the webhook workers.
  void OnDeliveryDue(std::function<void()> callback) {
    on_delivery_due_ = std::move(callback);
  }

  // Sets the state of a subscription (pause, resume, disable after 410).
  // `change` names who asked (the audit record's principal and method);
  // without it the change is the service's own.
  absl::StatusOr<v1::Subscription> SetState(
      absl::string_view name, absl::string_view etag,
      v1::Subscription::State state, std::string reason,
      const ChangeContext* change = nullptr);

  // The standard methods of subscriptions (SubscriptionPolicy); pause and
  // resume are in subscription_methods.cc.
  ACCORD_CRUD_METHODS(v1, Subscription, Subscriptions, subscriptions_)
  ACCORD_SYNC_GET(v1, Subscription, subscriptions_)
  grpc::Status PauseSubscription(grpc::ServerContext* context,
                                 const v1::PauseSubscriptionRequest* request,
                                 v1::Subscription* response) override;
  grpc::Status ResumeSubscription(grpc::ServerContext* context,
                                  const v1::ResumeSubscriptionRequest* request,
                                  v1::Subscription* response) override;
  grpc::ServerWriteReactor<v1::WatchEventsResponse>* WatchEvents(
      grpc::CallbackServerContext* context,
      const v1::WatchEventsRequest* request) override;
  grpc::Status ListEvents(grpc::ServerContext* context,
                          const v1::ListEventsRequest* request,
                          v1::ListEventsResponse* response) override;
  grpc::Status GetEvent(grpc::ServerContext* context,
                        const v1::GetEventRequest* request,
                        events::v1::Event* response) override;
  grpc::Status ListDeliveries(grpc::ServerContext* context,
                              const v1::ListDeliveriesRequest* request,
                              v1::ListDeliveriesResponse* response) override;
  grpc::Status GetDelivery(grpc::ServerContext* context,
                           const v1::GetDeliveryRequest* request,
                           v1::Delivery* response) override;
  grpc::Status RetryDelivery(grpc::ServerContext* context,
                             const v1::RetryDeliveryRequest* request,
                             v1::Delivery* response) override;
  // In delivery_methods.cc.
  grpc::Status RedriveDeadLetters(
      grpc::ServerContext* context,
      const v1::RedriveDeadLettersRequest* request,
      v1::RedriveDeadLettersResponse* response) override;
  grpc::Status ListEventTypes(grpc::ServerContext* context,
                              const v1::ListEventTypesRequest* request,
                              v1::ListEventTypesResponse* response) override;

 private:
  // The subscription `name` if `caller` may see it; NOT_FOUND on `field`
  // otherwise, exactly as if it did not exist.
  absl::StatusOr<v1::Subscription> LoadOwned(const Principal& caller,
                                             absl::string_view name,
                                             absl::string_view field);
  // SetState on behalf of the caller of `method` ("PauseSubscription"),
  // if the subscription is the caller's.
  absl::StatusOr<v1::Subscription> SetStateFor(grpc::ServerContext& context,
                                               absl::string_view name,
                                               absl::string_view etag,
                                               v1::Subscription::State state,
                                               absl::string_view method);
  // The caller of a method on delivery `name`, if the delivery's
  // subscription is the caller's (NOT_FOUND otherwise).
  absl::StatusOr<Principal> DeliveryCaller(grpc::ServerContext& context,
                                           absl::string_view name);
  absl::StatusOr<EventSelector> ResolveSelector(
      const v1::WatchEventsRequest& request, const Principal& caller);
  absl::StatusOr<v1::ListEventsResponse> ListEventsPage(
      const v1::ListEventsRequest& request, const Principal& caller);
  absl::StatusOr<v1::ListDeliveriesResponse> ListDeliveriesPage(
      const v1::ListDeliveriesRequest& request);
  absl::StatusOr<v1::Delivery> Retry(absl::string_view name,
                                     const ChangeContext& change);
  absl::StatusOr<v1::RedriveDeadLettersResponse> Redrive(
      const v1::RedriveDeadLettersRequest& request, const Principal& caller);
  RedisClient& redis_;
  const UrlGuard& guard_;
  Authenticator& auth_;
  RecordStore store_;
  WritePath write_path_;
  EventStream stream_;
  DeliveryStore deliveries_;
  DeliveryHealthStore health_;
  SharedPageTokenCodec codec_;
  const NotificationLimits limits_;
  ServiceWiring wiring_{"accord.notification.v1.NotificationService", store_,
                        write_path_, auth_, codec_};
  Registered<SubscriptionPolicy> subscriptions_{
      wiring_,
      guard_,
      redis_,
      store_,
      stream_,
      health_,
      limits_.max_subscriptions_per_principal};
  EventHub* hub_ = nullptr;
  std::function<void()> on_delivery_due_;
  StreamSlots stream_slots_;
};

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_NOTIFICATION_SERVICE_H_
