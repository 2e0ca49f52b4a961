#ifndef ACCORD_SERVICES_INSTITUTION_INSTITUTION_VALIDATION_H_
#define ACCORD_SERVICES_INSTITUTION_INSTITUTION_VALIDATION_H_

// Checks of complete Institution and Official records, run before anything
// is written. They read nothing from Redis: references to other records are
// checked in the atomic write step itself.

#include "absl/status/status.h"
#include "accord/institution/v1/institution.pb.h"

namespace accord::institution {

// INVALID_ARGUMENT naming every bad field, paths starting `institution.`.
absl::Status ValidateInstitution(const v1::Institution& institution);

// INVALID_ARGUMENT naming every bad field, paths starting `official.`.
absl::Status ValidateOfficial(const v1::Official& official);

// True if `value` has the format of an identifier in `scheme`.
bool IsValidExternalId(v1::ExternalId::Scheme scheme, absl::string_view value);

}  // namespace accord::institution

#endif  // ACCORD_SERVICES_INSTITUTION_INSTITUTION_VALIDATION_H_
