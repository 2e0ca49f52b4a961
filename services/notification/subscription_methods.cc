// The subscription methods of NotificationServiceImpl: the standard
// methods with their per-owner cap and webhook secret, and the state
// changes (pause, resume, disable).

#include <optional>
#include <string>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/handler_support.h"
#include "common/redis/keys.h"
#include "common/status_macros.h"
#include "services/notification/notification_service.h"
#include "services/notification/subscription_resource.h"

namespace accord::notification {
namespace {

using v1::Subscription;

std::string Method(absl::string_view name) {
  return absl::StrCat("/accord.notification.v1.NotificationService/", name);
}

absl::Status NotFound(absl::string_view name, absl::string_view field) {
  return ErrorWithReason(absl::StatusCode::kNotFound,
                         absl::StrCat(name, " does not exist"), "NOT_FOUND",
                         field);
}

}  // namespace

absl::Status NotificationServiceImpl::IndexSubscriptionOwners() {
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue indexed,
      redis_.Command({"EXISTS", redis_keys::kSubscriptionOwnersIndexed}));
  if (indexed.integer == 1) return absl::OkStatus();
  std::vector<std::vector<std::string>> adds;
  ACCORD_RETURN_IF_ERROR(
      store_.Scan("subscriptions", "", [&](const StoredRecord& record) {
        if (record.deleted) return true;
        absl::StatusOr<Subscription> subscription =
            ParseRecord<Subscription>(record);
        if (subscription.ok()) {
          adds.push_back(
              {"SADD", redis_keys::SubscriptionOwnerKey(subscription->owner()),
               subscription->name()});
        }
        return true;
      }));
  adds.push_back({"SET", redis_keys::kSubscriptionOwnersIndexed, "1"});
  return redis_.Pipeline(adds).status();
}

absl::Status NotificationServiceImpl::CheckSubscriptionCap(
    absl::string_view owner, absl::string_view name) {
  const std::string key = redis_keys::SubscriptionOwnerKey(owner);
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
  if (!OwnsSubscription(caller, subscription)) return NotFound(name, field);
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
    if (!OwnsSubscription(caller, subscription)) {
      return PermissionDenied(
          absl::StrCat(caller.id,
                       " may only create subscriptions owned by itself or "
                       "an institution it acts for"),
          "subscription.owner");
    }
    ACCORD_ASSIGN_OR_RETURN(std::string secret,
                            TakeWebhookSecret(subscription));
    if (subscription.has_webhook() && secret.empty()) {
      return InvalidField("subscription.webhook.signing_secret",
                          "is required for webhook delivery: \"whsec_\" and "
                          "the base64 of 24 to 64 random bytes");
    }
    subscription.set_state(Subscription::STATE_ACTIVE);
    subscription.clear_state_reason();
    ACCORD_ASSIGN_OR_RETURN(std::string head, stream_.Head());
    subscription.set_start_position(head);
    ScopedWebhookSecret scoped(std::move(secret));
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
        return OwnsSubscription(caller, subscription);
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
    if (!patch.owner().empty() && !OwnsSubscription(caller, patch)) {
      return PermissionDenied(
          absl::StrCat(caller.id,
                       " may only hand a subscription to itself or an "
                       "institution it acts for"),
          "subscription.owner");
    }
    ACCORD_ASSIGN_OR_RETURN(std::string secret, TakeWebhookSecret(patch));
    ScopedWebhookSecret scoped(std::move(secret));
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

}  // namespace accord::notification
