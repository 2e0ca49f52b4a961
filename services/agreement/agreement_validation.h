#ifndef ACCORD_SERVICES_AGREEMENT_AGREEMENT_VALIDATION_H_
#define ACCORD_SERVICES_AGREEMENT_AGREEMENT_VALIDATION_H_

// Checks of complete agreement-service records, run before anything is
// written and before the institution service is asked about references.
// Each also lists the institutions and officials its record names, with the
// field they came from, for InstitutionDirectory::Resolve.

#include <string>

#include "absl/status/status.h"
#include "accord/agreement/v1/agreement.pb.h"
#include "common/validation.h"
#include "services/agreement/institution_directory.h"

namespace accord::agreement {

absl::Status ValidateAgreement(const v1::Agreement& agreement);
absl::Status ValidateCommittee(const v1::Committee& committee);
absl::Status ValidateSession(const v1::Session& session);
absl::Status ValidateMilestone(const v1::Milestone& milestone);
// A transition appended to `milestone`; field paths start `transition`.
absl::Status ValidateTransition(const v1::Milestone& milestone,
                                const v1::MilestoneTransition& transition);

References ReferencesOf(const v1::Agreement& agreement);
References ReferencesOf(const v1::Committee& committee);
References ReferencesOf(const v1::Session& session);
References ReferencesOf(const v1::Milestone& milestone);
References ReferencesOf(const v1::AgreementAction& action,
                        absl::string_view field);

// Sources of a record (publisher required, http(s) URLs, partial dates),
// added to `violations` under `field`.
void CheckSources(
    Violations& violations, const std::string& field,
    const google::protobuf::RepeatedPtrField<v1::Source>& sources);

// Resource-name checks shared with the handlers.
absl::Status CheckSessionName(absl::string_view name, absl::string_view field);
absl::Status CheckMilestoneName(absl::string_view name,
                                absl::string_view field);
// "agreements/x" or "committees/x".
absl::Status CheckMilestoneParent(absl::string_view parent,
                                  absl::string_view field);

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_AGREEMENT_VALIDATION_H_
