#ifndef ACCORD_FUZZ_FUZZ_SUPPORT_H_
#define ACCORD_FUZZ_FUZZ_SUPPORT_H_

// What the fuzz targets share: a check that stops the run like a crash
// does, the error-shape checks every parser and validator must pass, and
// fixed records to evaluate filters against.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "accord/events/v1/event.pb.h"
#include "accord/institution/v1/institution.pb.h"
#include "common/errors.h"
#include "google/protobuf/stubs/common.h"

namespace accord::fuzz {

// Stops the fuzzer with a message when `condition` does not hold; libFuzzer
// then saves the input that broke it.
#define ACCORD_FUZZ_CHECK(condition, message)                           \
  do {                                                                  \
    if (!(condition)) {                                                 \
      std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", __FILE__,   \
                   __LINE__, #condition, std::string(message).c_str()); \
      std::abort();                                                     \
    }                                                                   \
  } while (false)

// Protobuf logs every string field that is not valid UTF-8 on parse; the
// fuzzers produce plenty, and the log would only slow them down.
inline const bool kProtobufLogsDiscarded =
    (google::protobuf::SetLogHandler(nullptr), true);

// True if `text` could arrive in a proto3 string field: protobuf refuses
// to parse one that is not valid UTF-8, so the text fuzzers skip such
// input (the byte-level fuzzers get it from protobuf itself).
inline bool IsProtoString(absl::string_view text) {
  return google::protobuf::internal::IsStructurallyValidUTF8(
      text.data(), static_cast<int>(text.size()));
}

// A rejected input must be INVALID_ARGUMENT (or `also`, for validators
// that report ordering as FAILED_PRECONDITION) naming at least one field,
// every one of them under `field_prefix`: never INTERNAL, never an error
// the client cannot act on. (FieldViolationsOf finds none when the details
// do not decode, e.g. a description that is not valid UTF-8.)
inline void CheckRejection(const absl::Status& status,
                           absl::string_view field_prefix,
                           absl::StatusCode also = absl::StatusCode::kOk) {
  ACCORD_FUZZ_CHECK(
      status.code() == absl::StatusCode::kInvalidArgument ||
          (also != absl::StatusCode::kOk && status.code() == also),
      status.ToString());
  const std::vector<FieldViolation> violations = FieldViolationsOf(status);
  ACCORD_FUZZ_CHECK(!violations.empty(), status.ToString());
  for (const FieldViolation& violation : violations) {
    ACCORD_FUZZ_CHECK(
        absl::StartsWith(violation.field, field_prefix),
        violation.field + " outside " + std::string(field_prefix));
    ACCORD_FUZZ_CHECK(!violation.description.empty(), violation.field);
  }
}

// The page-token secret of the fuzz targets (and of the seeds made for
// them by make_seeds.cc).
inline constexpr char kPageTokenSecret[] = "fuzz-secret-0123456789abcdef";

// A well-filled institution, as stored (cf. common/filter_test.cc).
inline institution::v1::Institution SampleInstitution() {
  using institution::v1::ExternalId;
  using institution::v1::Institution;
  using institution::v1::InstitutionName;
  using institution::v1::InstitutionRelation;
  Institution institution;
  institution.set_name("institutions/tums");
  const auto add_name = [&](const char* text, InstitutionName::Type type,
                            const char* language_code) {
    InstitutionName* name = institution.add_names();
    name->set_text(text);
    name->set_type(type);
    name->set_language_code(language_code);
  };
  add_name("Tehran University of Medical Sciences",
           InstitutionName::TYPE_DISPLAY, "en");
  add_name("TUMS", InstitutionName::TYPE_ACRONYM, "en");
  add_name("\xd8\xaf\xd8\xa7\xd9\x86\xd8\xb4\xda\xaf\xd8\xa7\xd9\x87",
           InstitutionName::TYPE_DISPLAY, "fa");
  institution.set_kind(Institution::KIND_UNIVERSITY);
  institution.set_country_code("IR");
  institution.set_parent("institutions/mohme");
  InstitutionRelation* relation = institution.add_relations();
  relation->set_type(InstitutionRelation::TYPE_SUCCESSOR);
  relation->set_institution("institutions/old-tums");
  ExternalId* external_id = institution.add_external_ids();
  external_id->set_scheme(ExternalId::SCHEME_ROR);
  external_id->set_value("01c4pz451");
  institution.set_website_uri("https://tums.ac.ir");
  institution.set_state(Institution::STATE_ACTIVE);
  institution.mutable_create_time()->set_seconds(1745539200);  // 2025-04-25
  institution.mutable_update_time()->set_seconds(1746100800);
  institution.mutable_update_time()->set_nanos(500000000);
  institution.set_etag("W/\"1\"");
  return institution;
}

// The event of that institution's creation, payload included.
inline events::v1::Event SampleEvent() {
  events::v1::Event event;
  event.set_id("0b0d3f4e-6a61-4c7e-9a53-0d2b8f4e7a11");
  event.set_source("//accord/institution");
  event.set_type("accord.institution.v1.created");
  event.set_subject("institutions/tums");
  event.mutable_time()->set_seconds(1745539200);
  event.set_principal("anonymous");
  event.set_position("1745539200000-0");
  event.set_request_id("seed-institution-tums");
  event.mutable_payload()->PackFrom(SampleInstitution());
  event.add_institutions("institutions/tums");
  event.add_institutions("institutions/mohme");
  event.add_country_codes("IR");
  event.add_cooperation_areas("health");
  return event;
}

}  // namespace accord::fuzz

#endif  // ACCORD_FUZZ_FUZZ_SUPPORT_H_
