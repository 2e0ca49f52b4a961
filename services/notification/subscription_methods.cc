// The subscription methods of NotificationServiceImpl beyond the standard
// ones (which SubscriptionPolicy and the adapter serve): the state changes
// (pause, resume, disable), the owner index and the ownership check of
// the methods under a subscription.

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

absl::StatusOr<Subscription> NotificationServiceImpl::LoadOwned(
    const Principal& caller, absl::string_view name, absl::string_view field) {
  ACCORD_RETURN_IF_ERROR(subscriptions_.CheckName(name, field));
  ACCORD_ASSIGN_OR_RETURN(
      std::optional<Subscription> subscription,
      subscriptions_.own_policy().LoadVisible(caller, name));
  if (!subscription.has_value()) return NotFound(name, field);
  return *std::move(subscription);
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

absl::StatusOr<Subscription> NotificationServiceImpl::SetStateFor(
    grpc::ServerContext& context, absl::string_view name,
    absl::string_view etag, Subscription::State state,
    absl::string_view method) {
  ACCORD_ASSIGN_OR_RETURN(Principal caller,
                          auth_.Authorize(context, Access::kSubscribe));
  ACCORD_RETURN_IF_ERROR(LoadOwned(caller, name, "name").status());
  const ChangeContext change = ContextFor(caller, Method(method), "");
  return SetState(name, etag, state, "", &change);
}

grpc::Status NotificationServiceImpl::PauseSubscription(
    grpc::ServerContext* context, const v1::PauseSubscriptionRequest* request,
    Subscription* response) {
  return Respond(SetStateFor(*context, request->name(), request->etag(),
                             Subscription::STATE_PAUSED, "PauseSubscription"),
                 response);
}

grpc::Status NotificationServiceImpl::ResumeSubscription(
    grpc::ServerContext* context, const v1::ResumeSubscriptionRequest* request,
    Subscription* response) {
  absl::StatusOr<Subscription> resumed =
      SetStateFor(*context, request->name(), request->etag(),
                  Subscription::STATE_ACTIVE, "ResumeSubscription");
  // Deliveries held back while it was paused are due again.
  if (resumed.ok() && on_delivery_due_) on_delivery_due_();
  return Respond(std::move(resumed), response);
}

}  // namespace accord::notification
