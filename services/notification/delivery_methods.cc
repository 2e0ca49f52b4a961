// The NotificationService methods about delivery health and the event
// vocabulary: RedriveDeadLetters, ListEventTypes, and the health shown on
// subscriptions. The rest of the service is in notification_service.cc.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/event_types.h"
#include "common/handler_support.h"
#include "common/redis/keys.h"
#include "common/redis/stream_position.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "common/write_path.h"
#include "google/protobuf/util/time_util.h"
#include "services/notification/delivery_health.h"
#include "services/notification/notification_service.h"

namespace accord::notification {
namespace {

using google::protobuf::util::TimeUtil;
using v1::Delivery;
using v1::Subscription;

constexpr int kDefaultRedrive = 1000;
constexpr int kMaxRedrive = 10000;
constexpr int kRedriveScanBatch = 256;

ChangeContext RedriveContext(const Principal& caller) {
  ChangeContext context;
  context.principal = caller.id;
  context.method =
      "/accord.notification.v1.NotificationService/RedriveDeadLetters";
  context.time = absl::Now();
  return context;
}

// The lexical bound of the delivery index at `time` (positions are
// "<unix ms>-<seq>").
std::string PaddedAt(const google::protobuf::Timestamp& time) {
  return DeliveryStore::PaddedPosition(
      absl::StrCat(TimeUtil::TimestampToMilliseconds(time), "-0"));
}

// Positions are Unix milliseconds: times before 1970 have none.
bool IsUsableTime(const google::protobuf::Timestamp& time) {
  return time.seconds() >= 0 && time.seconds() <= 253402300799 &&
         time.nanos() >= 0 && time.nanos() <= 999999999;
}

// The request's own fields, before anything is read.
absl::Status ValidateRedrive(const v1::RedriveDeadLettersRequest& request) {
  Violations violations;
  for (const FieldViolation& violation : FieldViolationsOf(
           ParseResourceName(request.parent(), "subscriptions", "parent")
               .status())) {
    violations.Add(violation.field, violation.description);
  }
  if (request.max_deliveries() < 0 || request.max_deliveries() > kMaxRedrive) {
    violations.Add("max_deliveries",
                   absl::StrCat("must be between 0 (the default, ",
                                kDefaultRedrive, ") and ", kMaxRedrive));
  }
  if (request.has_start_time() && !IsUsableTime(request.start_time())) {
    violations.Add("start_time", "must be a valid time from 1970 to 9999");
  }
  if (request.has_end_time() && !IsUsableTime(request.end_time())) {
    violations.Add("end_time", "must be a valid time from 1970 to 9999");
  }
  if (violations.empty() && request.has_start_time() &&
      request.has_end_time() && request.end_time() <= request.start_time()) {
    violations.Add("end_time", "must be after start_time");
  }
  return violations.ToStatus();
}

// FAILED_PRECONDITION unless `subscription`'s dead letters may be redriven.
absl::Status CheckRedrivable(const Subscription& subscription,
                             const std::string& parent) {
  if (subscription.has_delete_time()) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat(parent, " is deleted; undelete it first"), "DELETED");
  }
  if (!subscription.has_webhook()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                           absl::StrCat(parent, " has no webhook"),
                           "NOT_WEBHOOK", "parent");
  }
  if (subscription.state() == Subscription::STATE_DISABLED) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat(parent, " is disabled; resume it first"),
        "SUBSCRIPTION_DISABLED", "parent");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::RedriveDeadLettersResponse> NotificationServiceImpl::Redrive(
    const v1::RedriveDeadLettersRequest& request, const Principal& caller) {
  ACCORD_RETURN_IF_ERROR(ValidateRedrive(request));
  ACCORD_ASSIGN_OR_RETURN(Subscription subscription,
                          LoadOwned(caller, request.parent(), "parent"));
  ACCORD_RETURN_IF_ERROR(CheckRedrivable(subscription, request.parent()));
  const int limit = request.max_deliveries() == 0 ? kDefaultRedrive
                                                  : request.max_deliveries();
  const ChangeContext change = RedriveContext(caller);
  v1::RedriveDeadLettersResponse response;
  // Oldest first through the subscription's delivery index, which is in
  // stream order.
  std::string lower = request.has_start_time()
                          ? absl::StrCat("[", PaddedAt(request.start_time()))
                          : "-";
  const std::string upper =
      request.has_end_time() ? absl::StrCat("(", PaddedAt(request.end_time()))
                             : "+";
  std::string last_position;
  while (response.deliveries_size() < limit) {
    ACCORD_ASSIGN_OR_RETURN(
        std::vector<std::string> positions,
        deliveries_.ListPositionsBetween(request.parent(), lower, upper,
                                         kRedriveScanBatch));
    for (const std::string& position : positions) {
      if (response.deliveries_size() >= limit) break;
      const std::string name =
          DeliveryStore::DeliveryName(request.parent(), position);
      ACCORD_ASSIGN_OR_RETURN(std::optional<StoredDelivery> stored,
                              deliveries_.Load(name));
      if (!stored.has_value() ||
          stored->delivery.state() != Delivery::STATE_DEAD_LETTERED) {
        continue;
      }
      const auto now =
          TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(change.time));
      stored->round_start = stored->delivery.attempts_size();
      stored->delivery.set_state(Delivery::STATE_PENDING);
      *stored->delivery.mutable_next_attempt_time() = now;
      *stored->delivery.mutable_update_time() = now;
      // Audited like RetryDelivery, in the same transaction.
      redis_keys::AuditEntry audit;
      audit.principal = change.principal;
      audit.method = change.method;
      audit.resource = name;
      audit.time = change.time;
      ACCORD_RETURN_IF_ERROR(deliveries_.Save(
          *stored, change.time, {redis_keys::AuditEntryCommand(audit)},
          subscription.webhook().ordered()));
      response.add_deliveries(name);
      last_position = position;
    }
    if (positions.size() < static_cast<size_t>(kRedriveScanBatch)) break;
    lower = absl::StrCat("(", DeliveryStore::PaddedPosition(positions.back()));
  }
  if (response.deliveries_size() >= limit && !last_position.empty()) {
    // Resuming at the last one's millisecond sees it again, no longer dead.
    const int64_t ms =
        static_cast<int64_t>(StreamPosition::Parse(last_position).ms);
    *response.mutable_next_start_time() = TimeUtil::MillisecondsToTimestamp(ms);
  }
  if (response.deliveries_size() > 0 && on_delivery_due_) on_delivery_due_();
  return response;
}

grpc::Status NotificationServiceImpl::RedriveDeadLetters(
    grpc::ServerContext* context, const v1::RedriveDeadLettersRequest* request,
    v1::RedriveDeadLettersResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kSubscribe);
  return Respond(Redrive(*request, caller), response);
}

grpc::Status NotificationServiceImpl::ListEventTypes(
    grpc::ServerContext* context, const v1::ListEventTypesRequest*,
    v1::ListEventTypesResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kSubscribe);
  for (const EventTypeInfo& info : EventTypes()) {
    v1::EventType* type = response->add_event_types();
    type->set_type(info.type);
    type->set_description(info.description);
    type->set_payload_type(info.payload);
    type->set_subject_pattern(info.subject);
    type->set_source(info.source);
    for (const std::string& field : info.filter_fields) {
      type->add_filter_fields(field);
    }
  }
  return grpc::Status::OK;
}

}  // namespace accord::notification
