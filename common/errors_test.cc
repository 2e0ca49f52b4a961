#include "common/errors.h"

#include <gmock/gmock.h>
#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/time/time.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace accord {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

// Matches a FieldViolation with the given field and description.
auto Violation(const std::string& field, const std::string& description) {
  return ::testing::AllOf(Field(&FieldViolation::field, field),
                          Field(&FieldViolation::description, description));
}

// The google.rpc.Status carried in the binary details of `status`.
google::rpc::Status DetailsOf(const grpc::Status& status) {
  google::rpc::Status proto;
  EXPECT_TRUE(proto.ParseFromString(status.error_details()));
  return proto;
}

// The detail of type `T` in `proto`; fails the test if there is none.
template <typename T>
T FindDetail(const google::rpc::Status& proto) {
  T detail;
  for (const auto& any : proto.details()) {
    if (any.Is<T>()) {
      EXPECT_TRUE(any.UnpackTo(&detail));
      return detail;
    }
  }
  ADD_FAILURE() << "no " << T::descriptor()->full_name() << " detail";
  return detail;
}

template <typename T>
bool HasDetail(const google::rpc::Status& proto) {
  for (const auto& any : proto.details()) {
    if (any.Is<T>()) return true;
  }
  return false;
}

TEST(InvalidFieldTest, IsInvalidArgumentWithOneViolation) {
  const absl::Status status =
      InvalidField("institution.country_code", "not an ISO 3166-1 code");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "institution.country_code: not an ISO 3166-1 code");
  EXPECT_THAT(FieldViolationsOf(status),
              ElementsAre(Violation("institution.country_code",
                                    "not an ISO 3166-1 code")));
  EXPECT_EQ(ReasonOf(status), "");
}

TEST(InvalidFieldsTest, NamesEveryFieldInOrderInMessageAndDetails) {
  const absl::Status status = InvalidFields({
      {"institution.names[1].text", "must not be empty"},
      {"institution.kind", "must be set to a known kind"},
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "institution.names[1].text: must not be empty; "
            "institution.kind: must be set to a known kind");
  EXPECT_THAT(
      FieldViolationsOf(status),
      ElementsAre(
          Violation("institution.names[1].text", "must not be empty"),
          Violation("institution.kind", "must be set to a known kind")));
}

TEST(ErrorWithFieldsTest, KeepsCodeMessageAndViolations) {
  const absl::Status status =
      ErrorWithFields(absl::StatusCode::kNotFound, "2 names not found",
                      {{"names[0]", "institutions/a not found"},
                       {"names[2]", "institutions/c not found"}});
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "2 names not found");
  EXPECT_THAT(FieldViolationsOf(status),
              ElementsAre(Violation("names[0]", "institutions/a not found"),
                          Violation("names[2]", "institutions/c not found")));
  EXPECT_EQ(ReasonOf(status), "");
}

TEST(ErrorWithReasonTest, CarriesReasonWithoutField) {
  const absl::Status status = ErrorWithReason(
      absl::StatusCode::kFailedPrecondition,
      "institutions/tums has live child institutions", "HAS_CHILDREN");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(status.message(), "institutions/tums has live child institutions");
  EXPECT_EQ(ReasonOf(status), "HAS_CHILDREN");
  EXPECT_THAT(FieldViolationsOf(status), IsEmpty());
}

TEST(ErrorWithReasonTest, CarriesReasonAndFieldViolation) {
  const absl::Status status = ErrorWithReason(
      absl::StatusCode::kAlreadyExists, "institutions/tums already exists",
      "ALREADY_EXISTS", "institution_id");
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReasonOf(status), "ALREADY_EXISTS");
  EXPECT_THAT(FieldViolationsOf(status),
              ElementsAre(Violation("institution_id",
                                    "institutions/tums already exists")));
}

TEST(ErrorWithRetryTest, KeepsCodeAndMessageWithoutOtherDetails) {
  const absl::Status status =
      ErrorWithRetry(absl::StatusCode::kUnavailable, "Redis is unreachable",
                     absl::Milliseconds(1500));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "Redis is unreachable");
  EXPECT_THAT(FieldViolationsOf(status), IsEmpty());
  EXPECT_EQ(ReasonOf(status), "");
}

TEST(FieldViolationsOfTest, EmptyForPlainStatusAndOk) {
  EXPECT_THAT(FieldViolationsOf(absl::InvalidArgumentError("bad")), IsEmpty());
  EXPECT_THAT(FieldViolationsOf(absl::OkStatus()), IsEmpty());
  EXPECT_EQ(ReasonOf(absl::InternalError("boom")), "");
  EXPECT_EQ(ReasonOf(absl::OkStatus()), "");
}

TEST(FieldViolationsOfTest, EmptyForCorruptPayload) {
  absl::Status status = absl::InvalidArgumentError("bad");
  status.SetPayload("type.googleapis.com/google.rpc.BadRequest",
                    absl::Cord("\xff\xff\xff"));
  status.SetPayload("type.googleapis.com/google.rpc.ErrorInfo",
                    absl::Cord("\xff\xff\xff"));
  EXPECT_THAT(FieldViolationsOf(status), IsEmpty());
  EXPECT_EQ(ReasonOf(status), "");
}

TEST(ToGrpcStatusTest, OkMapsToOk) {
  const grpc::Status status = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(status.error_details(), "");
}

TEST(ToGrpcStatusTest, DetailsAreGoogleRpcStatusWithBadRequest) {
  const grpc::Status status =
      ToGrpcStatus(InvalidField("institution.country_code", "\"XX\" is bad"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "institution.country_code: \"XX\" is bad");

  const google::rpc::Status proto = DetailsOf(status);
  EXPECT_EQ(proto.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(proto.message(), status.error_message());
  ASSERT_EQ(proto.details_size(), 1);
  const auto bad_request = FindDetail<google::rpc::BadRequest>(proto);
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(),
            "institution.country_code");
  EXPECT_EQ(bad_request.field_violations(0).description(), "\"XX\" is bad");
}

TEST(ToGrpcStatusTest, DetailsCarryErrorInfoWithDomainAndField) {
  const grpc::Status status = ToGrpcStatus(ErrorWithReason(
      absl::StatusCode::kAlreadyExists, "institutions/tums already exists",
      "ALREADY_EXISTS", "institution_id"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  const google::rpc::Status proto = DetailsOf(status);
  EXPECT_EQ(proto.code(), static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
  const auto info = FindDetail<google::rpc::ErrorInfo>(proto);
  EXPECT_EQ(info.reason(), "ALREADY_EXISTS");
  EXPECT_EQ(info.domain(), "accord");
  ASSERT_EQ(info.metadata().count("field"), 1u);
  EXPECT_EQ(info.metadata().at("field"), "institution_id");
  const auto bad_request = FindDetail<google::rpc::BadRequest>(proto);
  ASSERT_EQ(bad_request.field_violations_size(), 1);
  EXPECT_EQ(bad_request.field_violations(0).field(), "institution_id");
}

TEST(ToGrpcStatusTest, ErrorInfoWithoutFieldHasNoMetadataOrBadRequest) {
  const google::rpc::Status proto = DetailsOf(ToGrpcStatus(ErrorWithReason(
      absl::StatusCode::kFailedPrecondition, "deleted", "DELETED")));
  const auto info = FindDetail<google::rpc::ErrorInfo>(proto);
  EXPECT_EQ(info.reason(), "DELETED");
  EXPECT_TRUE(info.metadata().empty());
  EXPECT_FALSE(HasDetail<google::rpc::BadRequest>(proto));
}

TEST(ToGrpcStatusTest, DetailsCarryRetryInfoDelay) {
  const grpc::Status status = ToGrpcStatus(
      ErrorWithRetry(absl::StatusCode::kResourceExhausted, "slow down",
                     absl::Seconds(2) + absl::Milliseconds(250)));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status.error_message(), "slow down");
  const auto retry = FindDetail<google::rpc::RetryInfo>(DetailsOf(status));
  EXPECT_EQ(retry.retry_delay().seconds(), 2);
  EXPECT_EQ(retry.retry_delay().nanos(), 250000000);
}

TEST(ToGrpcStatusTest, PlainErrorHasStatusDetailsWithoutAny) {
  const grpc::Status status = ToGrpcStatus(absl::NotFoundError("missing"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "missing");
  const google::rpc::Status proto = DetailsOf(status);
  EXPECT_EQ(proto.code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_EQ(proto.message(), "missing");
  EXPECT_EQ(proto.details_size(), 0);
}

TEST(ToGrpcStatusTest, CodesMapOneToOne) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status status(static_cast<absl::StatusCode>(code), "x");
    EXPECT_EQ(static_cast<int>(ToGrpcStatus(status).error_code()), code);
  }
}

TEST(FromGrpcStatusTest, OkMapsToOk) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(FromGrpcStatusTest, RoundTripKeepsCodeMessageAndViolations) {
  const absl::Status original = InvalidFields({
      {"institution.names[0].type", "must be set to a known name type"},
      {"institution.website_uri", "must name a host"},
  });
  const absl::Status back = FromGrpcStatus(ToGrpcStatus(original));
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), original.message());
  EXPECT_THAT(
      FieldViolationsOf(back),
      ElementsAre(Violation("institution.names[0].type",
                            "must be set to a known name type"),
                  Violation("institution.website_uri", "must name a host")));
  EXPECT_EQ(back, original);
}

TEST(FromGrpcStatusTest, RoundTripKeepsReasonAndRetry) {
  const absl::Status with_reason = ErrorWithReason(
      absl::StatusCode::kAborted, "etag mismatch", "ETAG_MISMATCH", "etag");
  const absl::Status back = FromGrpcStatus(ToGrpcStatus(with_reason));
  EXPECT_EQ(back.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(back.message(), "etag mismatch");
  EXPECT_EQ(ReasonOf(back), "ETAG_MISMATCH");
  EXPECT_THAT(FieldViolationsOf(back),
              ElementsAre(Violation("etag", "etag mismatch")));

  const absl::Status with_retry = ErrorWithRetry(absl::StatusCode::kUnavailable,
                                                 "try later", absl::Seconds(1));
  EXPECT_EQ(FromGrpcStatus(ToGrpcStatus(with_retry)), with_retry);
}

TEST(FromGrpcStatusTest, KeepsCodeAndMessageWhenDetailsAreMissingOrCorrupt) {
  const absl::Status plain = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no access"));
  EXPECT_EQ(plain.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(plain.message(), "no access");
  EXPECT_THAT(FieldViolationsOf(plain), IsEmpty());

  const absl::Status corrupt = FromGrpcStatus(grpc::Status(
      grpc::StatusCode::INTERNAL, "broken", std::string("\xff\xff\xff")));
  EXPECT_EQ(corrupt.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(corrupt.message(), "broken");
  EXPECT_THAT(FieldViolationsOf(corrupt), IsEmpty());
}

}  // namespace
}  // namespace accord
