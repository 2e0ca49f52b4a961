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

constexpr int kMaxEventTypes = 100;
constexpr int kEventReadBatch = 500;
// A ListEvents page reads at most this many entries, so a rare match
// cannot make one call scan the whole stream.
constexpr int kMaxEventsScanned = 20000;
constexpr int kDeliveryReadBatch = 200;
constexpr absl::Duration kMinTimeout = absl::Seconds(1);
constexpr absl::Duration kMaxTimeout = absl::Seconds(30);

// The secret of the subscription being written on this thread: the
// resource never carries it, so ResourceOps hands it to the change plan
// this way.
thread_local std::string pending_secret;

class ScopedSecret {
 public:
  explicit ScopedSecret(std::string secret) {
    pending_secret = std::move(secret);
  }
  ~ScopedSecret() { pending_secret.clear(); }
};

ChangeContext ContextFor(absl::string_view request_id) {
  ChangeContext context;
  context.request_id = std::string(request_id);
  context.time = absl::Now();
  return context;
}

template <typename T>
grpc::Status Respond(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

absl::Duration FromProto(const google::protobuf::Duration& duration) {
  return absl::Seconds(duration.seconds()) +
         absl::Nanoseconds(duration.nanos());
}

// Takes the secret off a subscription; checks its form if one was given.
absl::StatusOr<std::string> TakeSecret(Subscription& subscription) {
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

// Admins see every subscription; others those they or their institutions
// own.
bool Owns(const Principal& caller, const Subscription& subscription) {
  return caller.IsAdmin() || subscription.owner() == caller.id ||
         caller.institutions.count(subscription.owner()) > 0;
}

absl::Status NotFound(absl::string_view name, absl::string_view field) {
  return ErrorWithReason(absl::StatusCode::kNotFound,
                         absl::StrCat(name, " does not exist"), "NOT_FOUND",
                         field);
}

// The set of an owner's live subscriptions, for the per-owner cap.
std::string OwnerIndexKey(absl::string_view owner) {
  return absl::StrCat("accord:subscriptions:owner:", owner);
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

absl::Status NotificationServiceImpl::ValidateSubscription(
    const Subscription& subscription) {
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

absl::Status NotificationServiceImpl::PlanSubscriptionChange(
    const Subscription* before, const Subscription* after, WritePlan& plan) {
  // Webhook readers compare this counter to know their cache is stale.
  plan.Write({"INCR", kSubscriptionsVersionKey});
  // Live subscriptions per owner, for the cap.
  if (before != nullptr) {
    plan.Write({"SREM", OwnerIndexKey(before->owner()), before->name()});
  }
  if (after != nullptr) {
    plan.Write({"SADD", OwnerIndexKey(after->owner()), after->name()});
  }
  if (after != nullptr && after->has_webhook()) {
    if (!pending_secret.empty()) {
      plan.Write({"HSET", kSecretsKey, after->name(), pending_secret});
    } else if (before != nullptr && !before->has_webhook()) {
      return InvalidField("subscription.webhook.signing_secret",
                          "is required when switching to webhook delivery");
    }
  }
  if (after != nullptr && !after->has_webhook() && before != nullptr &&
      before->has_webhook()) {
    plan.Write({"HDEL", kSecretsKey, after->name()});
  }
  return absl::OkStatus();
}

absl::Status NotificationServiceImpl::IndexSubscriptionOwners() {
  constexpr char kIndexedKey[] = "accord:subscriptions:owners-indexed";
  ACCORD_ASSIGN_OR_RETURN(RedisValue indexed,
                          redis_.Command({"EXISTS", kIndexedKey}));
  if (indexed.integer == 1) return absl::OkStatus();
  std::vector<std::vector<std::string>> adds;
  ACCORD_RETURN_IF_ERROR(
      store_.Scan("subscriptions", "", [&](const StoredRecord& record) {
        if (record.deleted) return true;
        absl::StatusOr<Subscription> subscription =
            ParseRecord<Subscription>(record);
        if (subscription.ok()) {
          adds.push_back({"SADD", OwnerIndexKey(subscription->owner()),
                          subscription->name()});
        }
        return true;
      }));
  adds.push_back({"SET", kIndexedKey, "1"});
  return redis_.Pipeline(adds).status();
}

absl::Status NotificationServiceImpl::CheckSubscriptionCap(
    absl::string_view owner, absl::string_view name) {
  const std::string key = OwnerIndexKey(owner);
  ACCORD_ASSIGN_OR_RETURN(RedisValue count, redis_.Command({"SCARD", key}));
  if (count.integer < limits_.max_subscriptions_per_principal) {
    return absl::OkStatus();
  }
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

absl::StatusOr<Subscription> NotificationServiceImpl::LoadOwned(
    const Principal& caller, absl::string_view name, absl::string_view field) {
  ACCORD_RETURN_IF_ERROR(subscriptions_.CheckName(name, field));
  ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> record, store_.Get(name));
  if (!record.has_value()) return NotFound(name, field);
  ACCORD_ASSIGN_OR_RETURN(Subscription subscription,
                          ParseRecord<Subscription>(*record));
  if (!Owns(caller, subscription)) return NotFound(name, field);
  return subscription;
}

grpc::Status NotificationServiceImpl::CreateSubscription(
    grpc::ServerContext* context, const v1::CreateSubscriptionRequest* request,
    Subscription* response) {
  auto create = [&]() -> absl::StatusOr<Subscription> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    Subscription subscription = request->subscription();
    if (subscription.owner().empty()) subscription.set_owner(caller.id);
    if (!Owns(caller, subscription)) {
      return PermissionDenied(
          absl::StrCat(caller.id,
                       " may only create subscriptions owned by itself or "
                       "an institution it acts for"),
          "subscription.owner");
    }
    ACCORD_ASSIGN_OR_RETURN(std::string secret, TakeSecret(subscription));
    if (subscription.has_webhook() && secret.empty()) {
      return InvalidField("subscription.webhook.signing_secret",
                          "is required for webhook delivery: \"whsec_\" and "
                          "the base64 of 24 to 64 random bytes");
    }
    subscription.set_state(Subscription::STATE_ACTIVE);
    subscription.clear_state_reason();
    ACCORD_ASSIGN_OR_RETURN(std::string head, stream_.Head());
    subscription.set_start_position(head);
    ScopedSecret scoped(std::move(secret));
    const ChangeContext change =
        ContextFor(caller, Method("CreateSubscription"), request->request_id());
    absl::MutexLock cap_lock(&cap_mutex_);
    // A retry of a request that already created its subscription is not
    // one more.
    if (request->request_id().empty() ||
        !subscriptions_
             .Load(absl::StrCat("subscriptions/", request->subscription_id()))
             .ok()) {
      ACCORD_RETURN_IF_ERROR(CheckSubscriptionCap(subscription.owner(), ""));
    }
    return subscriptions_.Create(std::move(subscription),
                                 request->subscription_id(),
                                 request->request_id(), change);
  };
  return Respond(create(), response);
}

grpc::Status NotificationServiceImpl::GetSubscription(
    grpc::ServerContext* context, const v1::GetSubscriptionRequest* request,
    Subscription* response) {
  auto get = [&]() -> absl::StatusOr<Subscription> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    ACCORD_ASSIGN_OR_RETURN(Subscription subscription,
                            LoadOwned(caller, request->name(), "name"));
    ACCORD_RETURN_IF_ERROR(AttachHealth({&subscription}));
    return subscription;
  };
  return Respond(get(), response);
}

grpc::Status NotificationServiceImpl::ListSubscriptions(
    grpc::ServerContext* context, const v1::ListSubscriptionsRequest* request,
    v1::ListSubscriptionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kSubscribe);
  // Others' subscriptions are left out, as if they did not exist.
  absl::StatusOr<ListPage<Subscription>> page = ListCollection<Subscription>(
      codec_, store_, "subscriptions",
      {request->page_size(), request->page_token(), request->filter(),
       request->order_by(), request->show_deleted(), ""},
      {"name", "create_time", "update_time", "owner"}, nullptr,
      [&caller](const Subscription& subscription) {
        return Owns(caller, subscription);
      });
  if (!page.ok()) return ToGrpcStatus(page.status());
  std::vector<Subscription*> listed;
  for (Subscription& subscription : page->items) {
    listed.push_back(&subscription);
  }
  if (absl::Status health = AttachHealth(listed); !health.ok()) {
    return ToGrpcStatus(health);
  }
  for (Subscription& subscription : page->items) {
    *response->add_subscriptions() = std::move(subscription);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status NotificationServiceImpl::UpdateSubscription(
    grpc::ServerContext* context, const v1::UpdateSubscriptionRequest* request,
    Subscription* response) {
  auto update = [&]() -> absl::StatusOr<Subscription> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    Subscription patch = request->subscription();
    ACCORD_ASSIGN_OR_RETURN(
        Subscription current,
        LoadOwned(caller, patch.name(), "subscription.name"));
    if (!patch.owner().empty() && !Owns(caller, patch)) {
      return PermissionDenied(
          absl::StrCat(caller.id,
                       " may only hand a subscription to itself or an "
                       "institution it acts for"),
          "subscription.owner");
    }
    ACCORD_ASSIGN_OR_RETURN(std::string secret, TakeSecret(patch));
    ScopedSecret scoped(std::move(secret));
    const ChangeContext change =
        ContextFor(caller, Method("UpdateSubscription"), request->request_id());
    absl::MutexLock cap_lock(&cap_mutex_);
    // Handing it to another owner counts against that owner's cap.
    const auto& paths = request->update_mask().paths();
    const bool sets_owner = paths.empty() ||
                            absl::c_linear_search(paths, "owner") ||
                            absl::c_linear_search(paths, "*");
    if (sets_owner && !patch.owner().empty() &&
        patch.owner() != current.owner()) {
      ACCORD_RETURN_IF_ERROR(CheckSubscriptionCap(patch.owner(), patch.name()));
    }
    return subscriptions_.Update(patch, request->update_mask(),
                                 request->request_id(), change);
  };
  return Respond(update(), response);
}

grpc::Status NotificationServiceImpl::DeleteSubscription(
    grpc::ServerContext* context, const v1::DeleteSubscriptionRequest* request,
    Subscription* response) {
  auto remove = [&]() -> absl::StatusOr<Subscription> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    ACCORD_RETURN_IF_ERROR(LoadOwned(caller, request->name(), "name").status());
    const ChangeContext change =
        ContextFor(caller, Method("DeleteSubscription"), request->request_id());
    return subscriptions_.Delete(request->name(), request->etag(),
                                 request->request_id(), change);
  };
  return Respond(remove(), response);
}

grpc::Status NotificationServiceImpl::UndeleteSubscription(
    grpc::ServerContext* context,
    const v1::UndeleteSubscriptionRequest* request, Subscription* response) {
  auto restore = [&]() -> absl::StatusOr<Subscription> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    ACCORD_ASSIGN_OR_RETURN(Subscription current,
                            LoadOwned(caller, request->name(), "name"));
    const ChangeContext change = ContextFor(
        caller, Method("UndeleteSubscription"), request->request_id());
    absl::MutexLock cap_lock(&cap_mutex_);
    ACCORD_RETURN_IF_ERROR(
        CheckSubscriptionCap(current.owner(), request->name()));
    return subscriptions_.Undelete(request->name(), request->etag(),
                                   request->request_id(), change);
  };
  return Respond(restore(), response);
}

absl::StatusOr<Subscription> NotificationServiceImpl::SetState(
    absl::string_view name, absl::string_view etag, Subscription::State state,
    std::string reason, const ChangeContext* change) {
  ACCORD_RETURN_IF_ERROR(subscriptions_.CheckName(name, "name"));
  const std::string verb = state == Subscription::STATE_PAUSED   ? "paused"
                           : state == Subscription::STATE_ACTIVE ? "resumed"
                                                                 : "disabled";
  // Without a caller etag a lost race is retried on fresh data.
  constexpr int kAttempts = 5;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    ACCORD_ASSIGN_OR_RETURN(StoredRecord record, subscriptions_.Load(name));
    ACCORD_ASSIGN_OR_RETURN(Subscription current,
                            ParseRecord<Subscription>(record));
    if (record.deleted) {
      return ErrorWithReason(
          absl::StatusCode::kFailedPrecondition,
          absl::StrCat(name, " is deleted; undelete it first"), "DELETED");
    }
    if (!etag.empty() && etag != record.etag) {
      return ErrorWithReason(
          absl::StatusCode::kAborted,
          absl::StrCat(name,
                       " was changed since the etag was read; read it again "
                       "and retry"),
          "ETAG_MISMATCH", "etag");
    }
    if (current.state() == state && current.state_reason() == reason) {
      return current;
    }
    Subscription changed = current;
    changed.set_state(state);
    changed.set_state_reason(reason);
    absl::StatusOr<Subscription> result = subscriptions_.CommitCustom(
        std::move(changed), record.etag, verb, "",
        change != nullptr ? *change : ContextFor(""), current, nullptr);
    if (!result.ok() && ReasonOf(result.status()) == "ETAG_MISMATCH" &&
        etag.empty()) {
      continue;
    }
    return result;
  }
  return absl::AbortedError(
      absl::StrCat(name, " changed concurrently too often; try again"));
}

grpc::Status NotificationServiceImpl::PauseSubscription(
    grpc::ServerContext* context, const v1::PauseSubscriptionRequest* request,
    Subscription* response) {
  auto pause = [&]() -> absl::StatusOr<Subscription> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    ACCORD_RETURN_IF_ERROR(LoadOwned(caller, request->name(), "name").status());
    const ChangeContext change =
        ContextFor(caller, Method("PauseSubscription"), "");
    return SetState(request->name(), request->etag(),
                    Subscription::STATE_PAUSED, "", &change);
  };
  return Respond(pause(), response);
}

grpc::Status NotificationServiceImpl::ResumeSubscription(
    grpc::ServerContext* context, const v1::ResumeSubscriptionRequest* request,
    Subscription* response) {
  auto resume = [&]() -> absl::StatusOr<Subscription> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    ACCORD_RETURN_IF_ERROR(LoadOwned(caller, request->name(), "name").status());
    const ChangeContext change =
        ContextFor(caller, Method("ResumeSubscription"), "");
    return SetState(request->name(), request->etag(),
                    Subscription::STATE_ACTIVE, "", &change);
  };
  absl::StatusOr<Subscription> resumed = resume();
  if (resumed.ok() && on_delivery_due_) on_delivery_due_();
  return Respond(std::move(resumed), response);
}

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
      !IsValidPosition(request.start_position())) {
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
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> token,
                            codec->Decode(request.page_token(), fingerprint));
    if (token.size() != 1) {
      return InvalidField("page_token", "does not fit this request");
    }
    cursor = token[0];
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
        !IsValidPosition(position) ||
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
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> token,
                            codec->Decode(request.page_token(), fingerprint));
    if (token.size() != 1) {
      return InvalidField("page_token", "does not fit this request");
    }
    cursor = token[0];
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

grpc::Status NotificationServiceImpl::GetDelivery(
    grpc::ServerContext* context, const v1::GetDeliveryRequest* request,
    Delivery* response) {
  auto get = [&]() -> absl::StatusOr<Delivery> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    ACCORD_ASSIGN_OR_RETURN(auto parts,
                            ParseDeliveryName(request->name(), "name"));
    ACCORD_RETURN_IF_ERROR(
        LoadOwned(caller, absl::StrCat("subscriptions/", parts.first), "name")
            .status());
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
  ACCORD_RETURN_IF_ERROR(deliveries_.Save(
      *stored, now,
      {{"XADD", kAuditStream, "*", "principal", change.principal, "method",
        change.method, "resource", delivery.name(), "time",
        absl::FormatTime(absl::RFC3339_full, change.time, absl::UTCTimeZone()),
        "request_id", change.request_id, "old_etag", "", "new_etag", ""}}));
  if (on_delivery_due_) on_delivery_due_();
  return delivery;
}

grpc::Status NotificationServiceImpl::RetryDelivery(
    grpc::ServerContext* context, const v1::RetryDeliveryRequest* request,
    Delivery* response) {
  auto retry = [&]() -> absl::StatusOr<Delivery> {
    ACCORD_ASSIGN_OR_RETURN(Principal caller,
                            auth_.Authorize(*context, Access::kSubscribe));
    ACCORD_ASSIGN_OR_RETURN(auto parts,
                            ParseDeliveryName(request->name(), "name"));
    ACCORD_RETURN_IF_ERROR(
        LoadOwned(caller, absl::StrCat("subscriptions/", parts.first), "name")
            .status());
    return Retry(request->name(),
                 ContextFor(caller, Method("RetryDelivery"), ""));
  };
  return Respond(retry(), response);
}

}  // namespace accord::notification
