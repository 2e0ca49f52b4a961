#include "services/notification/notification_service.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/events.h"
#include "common/redis/keys.h"
#include "common/redis/stream_position.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "google/protobuf/util/time_util.h"
#include "services/notification/event_selector.h"
#include "services/notification/webhook_message.h"

namespace accord::notification {
namespace {

std::string Method(absl::string_view name) {
  return absl::StrCat("/accord.notification.v1.NotificationService/", name);
}

using v1::Delivery;
using v1::Subscription;

constexpr int kEventReadBatch = 500;
// A ListEvents page reads at most this many entries, so a rare match
// cannot make one call scan the whole stream.
constexpr int kMaxEventsScanned = 20000;
constexpr int kDeliveryReadBatch = 200;

absl::Status NotFound(absl::string_view name, absl::string_view field) {
  return ErrorWithReason(absl::StatusCode::kNotFound,
                         absl::StrCat(name, " does not exist"), "NOT_FOUND",
                         field);
}

// The one cursor of a page token of ListEvents or ListDeliveries.
absl::StatusOr<std::string> CursorIn(const PageTokenCodec& codec,
                                     absl::string_view page_token,
                                     absl::string_view fingerprint) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> token,
                          codec.Decode(page_token, fingerprint));
  if (token.size() != 1) {
    return InvalidField("page_token", "does not fit this request");
  }
  return token[0];
}

}  // namespace

StreamSlots::Slot::~Slot() {
  absl::MutexLock lock(&slots_->mutex_);
  auto it = slots_->open_.find(principal_);
  if (it != slots_->open_.end() && --it->second <= 0) slots_->open_.erase(it);
}

absl::StatusOr<std::shared_ptr<StreamSlots::Slot>> StreamSlots::Acquire(
    const std::string& principal) {
  {
    absl::MutexLock lock(&mutex_);
    int64_t& open = open_[principal];
    if (open >= max_per_principal_) {
      return ErrorWithReason(
          absl::StatusCode::kResourceExhausted,
          absl::StrCat(principal, " already has ", open,
                       " open WatchEvents streams, the most "
                       "--max_watch_streams_per_principal allows; close one "
                       "first"),
          "TOO_MANY_STREAMS");
    }
    ++open;
  }
  return std::make_shared<Slot>(this, principal);
}

NotificationServiceImpl::NotificationServiceImpl(
    RedisClient& redis, const UrlGuard& guard, Authenticator& auth,
    absl::Duration delivery_retention, NotificationLimits limits)
    : redis_(redis),
      guard_(guard),
      auth_(auth),
      store_(redis),
      write_path_(redis),
      stream_(redis),
      deliveries_(redis, delivery_retention),
      health_(redis),
      codec_(redis),
      limits_(limits),
      stream_slots_(limits.max_watch_streams_per_principal) {}

absl::StatusOr<EventSelector> NotificationServiceImpl::ResolveSelector(
    const v1::WatchEventsRequest& request, const Principal& caller) {
  switch (request.selector_case()) {
    case v1::WatchEventsRequest::kSubscription: {
      ACCORD_ASSIGN_OR_RETURN(
          Subscription subscription,
          LoadOwned(caller, request.subscription(), "subscription"));
      if (subscription.has_delete_time()) {
        return NotFound(request.subscription(), "subscription");
      }
      if (!subscription.has_stream()) {
        return ErrorWithReason(
            absl::StatusCode::kFailedPrecondition,
            absl::StrCat(request.subscription(),
                         " delivers by webhook; WatchEvents needs a "
                         "subscription with stream delivery"),
            "NOT_STREAM_DELIVERY", "subscription");
      }
      if (subscription.state() != Subscription::STATE_ACTIVE) {
        return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                               absl::StrCat(request.subscription(),
                                            " is not active; resume it first"),
                               "SUBSCRIPTION_NOT_ACTIVE", "subscription");
      }
      // Checked against the registry when it was written.
      return EventSelector::Create({subscription.event_types().begin(),
                                    subscription.event_types().end()},
                                   subscription.filter(), "",
                                   EventSelector::TypeCheck::kSyntaxOnly);
    }
    case v1::WatchEventsRequest::kInlineSelector:
      return EventSelector::Create(
          {request.inline_selector().event_types().begin(),
           request.inline_selector().event_types().end()},
          request.inline_selector().filter(), "inline_selector");
    default:
      return InvalidField("subscription",
                          "set either `subscription` or `inline_selector`");
  }
}

grpc::ServerWriteReactor<v1::WatchEventsResponse>*
NotificationServiceImpl::WatchEvents(grpc::CallbackServerContext* context,
                                     const v1::WatchEventsRequest* request) {
  // Identifying the caller reads no Redis, so it may run on this thread;
  // the rest waits for the hub's pool.
  absl::StatusOr<Principal> caller =
      auth_.Authorize(*context, Access::kSubscribe);
  // The slot lives in the resolver, which the stream's reactor keeps until
  // the stream is done, however it ends.
  absl::StatusOr<std::shared_ptr<StreamSlots::Slot>> slot = nullptr;
  if (caller.ok() && !auth_.insecure()) {
    slot = stream_slots_.Acquire(caller->id);
  }
  return hub_->Watch(*request,
                     [this, caller = std::move(caller), slot = std::move(slot),
                      request = *request]() -> absl::StatusOr<EventSelector> {
                       if (!caller.ok()) return caller.status();
                       if (!slot.ok()) return slot.status();
                       absl::StatusOr<EventSelector> selector =
                           ResolveSelector(request, *caller);
                       if (selector.ok()) selector->SetReceiver(*caller);
                       return selector;
                     });
}

absl::StatusOr<v1::ListEventsResponse> NotificationServiceImpl::ListEventsPage(
    const v1::ListEventsRequest& request, const Principal& caller) {
  ACCORD_ASSIGN_OR_RETURN(int page_size,
                          EffectivePageSize(request.page_size()));
  ACCORD_ASSIGN_OR_RETURN(
      Filter filter,
      Filter::Parse(request.filter(), *events::v1::Event::descriptor()));
  if (!request.start_position().empty() &&
      !StreamPosition::IsValid(request.start_position())) {
    return InvalidField("start_position",
                        "must be a stream position such as "
                        "\"1745582400000-0\"");
  }
  ACCORD_ASSIGN_OR_RETURN(const PageTokenCodec* codec, codec_.Get());
  const std::string fingerprint = absl::StrCat(
      "events\x1f", request.filter(), "\x1f", request.start_position());
  std::string cursor = kStreamStart;
  // From the very start nothing can have expired; from a position, events
  // after it may have.
  bool check_expired = false;
  if (!request.page_token().empty()) {
    ACCORD_ASSIGN_OR_RETURN(
        cursor, CursorIn(*codec, request.page_token(), fingerprint));
    check_expired = true;
  } else if (!request.start_position().empty()) {
    cursor = request.start_position();
    check_expired = true;
  }
  v1::ListEventsResponse response;
  bool at_end = false;
  bool full = false;
  int scanned = 0;
  while (!full && !at_end && scanned < kMaxEventsScanned) {
    ACCORD_ASSIGN_OR_RETURN(EventStream::Range range,
                            stream_.ReadAfter(cursor, kEventReadBatch));
    if (check_expired && range.expired) {
      return PositionExpired(cursor, range.info.first_position,
                             range.info.max_deleted);
    }
    check_expired = false;
    scanned += range.entries;
    for (const events::v1::Event& event : range.events) {
      if (IsInternalEventType(event.type()) || !caller.CanReceive(event) ||
          !filter.Matches(event)) {
        continue;
      }
      *response.add_events() = event;
      if (response.events_size() >= page_size) {
        cursor = event.position();
        full = true;
        break;
      }
    }
    if (!full) {
      cursor = range.last_position;
      at_end = range.entries < kEventReadBatch;
    }
  }
  if (!at_end) {
    response.set_next_page_token(codec->Encode(fingerprint, {cursor}));
  }
  return response;
}

grpc::Status NotificationServiceImpl::ListEvents(
    grpc::ServerContext* context, const v1::ListEventsRequest* request,
    v1::ListEventsResponse* response) {
  absl::StatusOr<Principal> caller =
      auth_.Authorize(*context, Access::kSubscribe);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Respond(ListEventsPage(*request, *caller), response);
}

grpc::Status NotificationServiceImpl::GetEvent(
    grpc::ServerContext* context, const v1::GetEventRequest* request,
    events::v1::Event* response) {
  auto get = [&]() -> absl::StatusOr<events::v1::Event> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    absl::string_view position = request->name();
    if (!absl::ConsumePrefix(&position, "events/") ||
        !StreamPosition::IsValid(position) ||
        position.find('-') == absl::string_view::npos) {
      return InvalidField("name",
                          "must be events/{position}, for example "
                          "events/1745582400000-0");
    }
    ACCORD_ASSIGN_OR_RETURN(
        RedisValue reply,
        redis_.Command({"XRANGE", kEventStream, std::string(position),
                        std::string(position), "COUNT", "1"}));
    std::vector<events::v1::Event> found;
    std::string last;
    int count = 0;
    DecodeEntries(reply, found, last, count);
    // Restricted events are absent to those who may not receive them.
    if (found.empty() || IsInternalEventType(found[0].type()) ||
        !caller.CanReceive(found[0])) {
      return ErrorWithReason(
          absl::StatusCode::kNotFound,
          absl::StrCat(request->name(), " does not exist or has been trimmed"),
          "NOT_FOUND");
    }
    return found[0];
  };
  return Respond(get(), response);
}

absl::StatusOr<v1::ListDeliveriesResponse>
NotificationServiceImpl::ListDeliveriesPage(
    const v1::ListDeliveriesRequest& request) {
  ACCORD_RETURN_IF_ERROR(subscriptions_.CheckName(request.parent(), "parent"));
  ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> record,
                          store_.Get(request.parent()));
  if (!record.has_value()) {
    return ErrorWithReason(absl::StatusCode::kNotFound,
                           absl::StrCat(request.parent(), " does not exist"),
                           "NOT_FOUND", "parent");
  }
  ACCORD_ASSIGN_OR_RETURN(int page_size,
                          EffectivePageSize(request.page_size()));
  ACCORD_ASSIGN_OR_RETURN(
      Filter filter, Filter::Parse(request.filter(), *Delivery::descriptor()));
  ACCORD_ASSIGN_OR_RETURN(const PageTokenCodec* codec, codec_.Get());
  const std::string fingerprint = absl::StrCat(
      "deliveries\x1f", request.parent(), "\x1f", request.filter());
  std::string cursor;
  if (!request.page_token().empty()) {
    ACCORD_ASSIGN_OR_RETURN(
        cursor, CursorIn(*codec, request.page_token(), fingerprint));
  }
  v1::ListDeliveriesResponse response;
  bool at_end = false;
  bool full = false;
  while (!full && !at_end) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> positions,
                            deliveries_.ListPositions(request.parent(), cursor,
                                                      kDeliveryReadBatch));
    at_end = positions.size() < static_cast<size_t>(kDeliveryReadBatch);
    for (const std::string& position : positions) {
      cursor = DeliveryStore::PaddedPosition(position);
      ACCORD_ASSIGN_OR_RETURN(std::optional<StoredDelivery> stored,
                              deliveries_.Load(DeliveryStore::DeliveryName(
                                  request.parent(), position)));
      if (!stored.has_value()) {
        ACCORD_RETURN_IF_ERROR(deliveries_.Forget(request.parent(), position));
        continue;
      }
      if (!filter.Matches(stored->delivery)) continue;
      *response.add_deliveries() = std::move(stored->delivery);
      if (response.deliveries_size() >= page_size) {
        full = true;
        break;
      }
    }
  }
  if (full) {
    // One more look tells whether anything older remains.
    ACCORD_ASSIGN_OR_RETURN(
        std::vector<std::string> more,
        deliveries_.ListPositions(request.parent(), cursor, 1));
    if (!more.empty()) {
      response.set_next_page_token(codec->Encode(fingerprint, {cursor}));
    }
  }
  return response;
}

grpc::Status NotificationServiceImpl::ListDeliveries(
    grpc::ServerContext* context, const v1::ListDeliveriesRequest* request,
    v1::ListDeliveriesResponse* response) {
  auto list = [&]() -> absl::StatusOr<v1::ListDeliveriesResponse> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    ACCORD_RETURN_IF_ERROR(
        LoadOwned(caller, request->parent(), "parent").status());
    return ListDeliveriesPage(*request);
  };
  return Respond(list(), response);
}

absl::StatusOr<Principal> NotificationServiceImpl::DeliveryCaller(
    grpc::ServerContext& context, absl::string_view name) {
  ACCORD_ASSIGN_OR_RETURN(Principal caller,
                          auth_.Authorize(context, Access::kSubscribe));
  ACCORD_ASSIGN_OR_RETURN(auto parts, ParseDeliveryName(name, "name"));
  ACCORD_RETURN_IF_ERROR(
      LoadOwned(caller, absl::StrCat("subscriptions/", parts.first), "name")
          .status());
  return caller;
}

grpc::Status NotificationServiceImpl::GetDelivery(
    grpc::ServerContext* context, const v1::GetDeliveryRequest* request,
    Delivery* response) {
  auto get = [&]() -> absl::StatusOr<Delivery> {
    ACCORD_RETURN_IF_ERROR(DeliveryCaller(*context, request->name()).status());
    ACCORD_ASSIGN_OR_RETURN(std::optional<StoredDelivery> stored,
                            deliveries_.Load(request->name()));
    if (!stored.has_value()) {
      return ErrorWithReason(absl::StatusCode::kNotFound,
                             absl::StrCat(request->name(), " does not exist"),
                             "NOT_FOUND");
    }
    return stored->delivery;
  };
  return Respond(get(), response);
}

absl::StatusOr<Delivery> NotificationServiceImpl::Retry(
    absl::string_view name, const ChangeContext& change) {
  ACCORD_ASSIGN_OR_RETURN(std::optional<StoredDelivery> stored,
                          deliveries_.Load(name));
  if (!stored.has_value()) {
    return ErrorWithReason(absl::StatusCode::kNotFound,
                           absl::StrCat(name, " does not exist"), "NOT_FOUND");
  }
  const std::string subscription_name(
      name.substr(0, name.find("/deliveries/")));
  ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> record,
                          store_.Get(subscription_name));
  if (!record.has_value() || record->deleted) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat(subscription_name, " is deleted; undelete it first"),
        "DELETED");
  }
  ACCORD_ASSIGN_OR_RETURN(Subscription subscription,
                          ParseRecord<Subscription>(*record));
  if (!subscription.has_webhook()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                           absl::StrCat(subscription_name, " has no webhook"),
                           "NOT_WEBHOOK");
  }
  if (subscription.state() == Subscription::STATE_DISABLED) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat(subscription_name, " is disabled; resume it first"),
        "SUBSCRIPTION_DISABLED");
  }
  const absl::Time now = absl::Now();
  Delivery& delivery = stored->delivery;
  // A new round: the attempt budget starts again.
  if (delivery.state() != Delivery::STATE_PENDING &&
      delivery.state() != Delivery::STATE_RETRYING) {
    stored->round_start = delivery.attempts_size();
    delivery.set_state(Delivery::STATE_PENDING);
  }
  const auto timestamp =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(now));
  *delivery.mutable_next_attempt_time() = timestamp;
  *delivery.mutable_update_time() = timestamp;
  // Audited like every other change (a delivery has no etag).
  redis_keys::AuditEntry audit;
  audit.principal = change.principal;
  audit.method = change.method;
  audit.resource = delivery.name();
  audit.time = change.time;
  audit.request_id = change.request_id;
  ACCORD_RETURN_IF_ERROR(
      deliveries_.Save(*stored, now, {redis_keys::AuditEntryCommand(audit)}));
  if (on_delivery_due_) on_delivery_due_();
  return delivery;
}

grpc::Status NotificationServiceImpl::RetryDelivery(
    grpc::ServerContext* context, const v1::RetryDeliveryRequest* request,
    Delivery* response) {
  auto retry = [&]() -> absl::StatusOr<Delivery> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            DeliveryCaller(*context, request->name()));
    return Retry(request->name(),
                 ContextFor(caller, Method("RetryDelivery"), ""));
  };
  return Respond(retry(), response);
}

}  // namespace accord::notification
