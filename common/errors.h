#ifndef ACCORD_COMMON_ERRORS_H_
#define ACCORD_COMMON_ERRORS_H_

// Errors a program can act on: canonical codes plus google.rpc details
// (BadRequest field violations, ErrorInfo reasons, RetryInfo) carried in the
// absl::Status payload and turned into gRPC status details at the edge.

#include <grpcpp/support/status.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace accord {

// One field at fault: `field` is a path such as `institution.names[1].text`.
struct FieldViolation {
  std::string field;
  std::string description;
};

// INVALID_ARGUMENT naming the field at fault.
// Example:
//   return InvalidField("institution.country_code", "not an ISO 3166-1 code");
absl::Status InvalidField(absl::string_view field,
                          absl::string_view description);

// Any code with field violations attached, e.g. NOT_FOUND naming the
// missing entries of a batch.
absl::Status ErrorWithFields(absl::StatusCode code, absl::string_view message,
                             const std::vector<FieldViolation>& violations);

// INVALID_ARGUMENT naming several fields at once.
absl::Status InvalidFields(const std::vector<FieldViolation>& violations);

// A status with a machine-readable reason (google.rpc.ErrorInfo, domain
// `accord`) and, optionally, the field it is about (google.rpc.BadRequest).
absl::Status ErrorWithReason(absl::StatusCode code, absl::string_view message,
                             absl::string_view reason,
                             absl::string_view field = "");

// RESOURCE_EXHAUSTED or UNAVAILABLE with a google.rpc.RetryInfo delay.
absl::Status ErrorWithRetry(absl::StatusCode code, absl::string_view message,
                            absl::Duration retry_delay);

// The field violations attached to `status`, if any.
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);

// The ErrorInfo reason attached to `status`, or "".
std::string ReasonOf(const absl::Status& status);

// Converts to a grpc::Status whose binary details are a google.rpc.Status
// holding every detail attached to `status`.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Converts back, keeping the details (used by clients of other services).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace accord

#endif  // ACCORD_COMMON_ERRORS_H_
