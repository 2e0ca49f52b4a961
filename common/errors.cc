#include "common/errors.h"

#include <utility>

#include "absl/strings/cord.h"
#include "google/protobuf/duration.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace accord {
namespace {

// Payload type URLs follow google.protobuf.Any, so the details travel as is.
constexpr char kBadRequestUrl[] = "type.googleapis.com/google.rpc.BadRequest";
constexpr char kErrorInfoUrl[] = "type.googleapis.com/google.rpc.ErrorInfo";
constexpr char kRetryInfoUrl[] = "type.googleapis.com/google.rpc.RetryInfo";
constexpr char kErrorDomain[] = "accord";

void AttachBadRequest(absl::Status& status,
                      const std::vector<FieldViolation>& violations) {
  google::rpc::BadRequest bad_request;
  for (const FieldViolation& violation : violations) {
    auto* proto = bad_request.add_field_violations();
    proto->set_field(violation.field);
    proto->set_description(violation.description);
  }
  status.SetPayload(kBadRequestUrl,
                    absl::Cord(bad_request.SerializeAsString()));
}

}  // namespace

absl::Status InvalidField(absl::string_view field,
                          absl::string_view description) {
  return InvalidFields({{std::string(field), std::string(description)}});
}

absl::Status ErrorWithFields(absl::StatusCode code, absl::string_view message,
                             const std::vector<FieldViolation>& violations) {
  absl::Status status(code, message);
  AttachBadRequest(status, violations);
  return status;
}

absl::Status InvalidFields(const std::vector<FieldViolation>& violations) {
  std::string message;
  for (const FieldViolation& violation : violations) {
    if (!message.empty()) message += "; ";
    message += violation.field + ": " + violation.description;
  }
  absl::Status status = absl::InvalidArgumentError(message);
  AttachBadRequest(status, violations);
  return status;
}

absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view message,
                             absl::string_view reason,
                             absl::string_view field) {
  absl::Status status(code, std::string(message));
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  if (!field.empty()) (*info.mutable_metadata())["field"] = std::string(field);
  status.SetPayload(kErrorInfoUrl, absl::Cord(info.SerializeAsString()));
  if (!field.empty()) {
    AttachBadRequest(status, {{std::string(field), std::string(message)}});
  }
  return status;
}

absl::Status ErrorWithRetry(absl::StatusCode code, absl::string_view message,
                            absl::Duration retry_delay) {
  absl::Status status(code, std::string(message));
  google::rpc::RetryInfo retry;
  const int64_t nanos = absl::ToInt64Nanoseconds(retry_delay);
  retry.mutable_retry_delay()->set_seconds(nanos / 1000000000);
  retry.mutable_retry_delay()->set_nanos(
      static_cast<int32_t>(nanos % 1000000000));
  status.SetPayload(kRetryInfoUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status) {
  std::vector<FieldViolation> violations;
  auto payload = status.GetPayload(kBadRequestUrl);
  if (!payload.has_value()) return violations;
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) return violations;
  for (const auto& violation : bad_request.field_violations()) {
    violations.push_back({violation.field(), violation.description()});
  }
  return violations;
}

std::string ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoUrl);
  if (!payload.has_value()) return "";
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return "";
  return info.reason();
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status proto;
  proto.set_code(static_cast<int>(status.code()));
  proto.set_message(std::string(status.message()));
  status.ForEachPayload(
      [&proto](absl::string_view type_url, const absl::Cord& payload) {
        auto* any = proto.add_details();
        any->set_type_url(std::string(type_url));
        any->set_value(std::string(payload));
      });
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()), proto.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
  google::rpc::Status proto;
  if (!status.error_details().empty() &&
      proto.ParseFromString(status.error_details())) {
    for (const auto& any : proto.details()) {
      result.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return result;
}

}  // namespace accord
