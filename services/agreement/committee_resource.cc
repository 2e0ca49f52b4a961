#include "services/agreement/committee_resource.h"

#include "services/agreement/agreement_validation.h"

namespace accord::agreement {

using v1::Committee;

absl::Status CommitteePolicy::Validate(const Committee& committee) const {
  return ValidateCommittee(committee);
}

absl::Status CommitteePolicy::Complete(Committee& committee) const {
  ACCORD_ASSIGN_OR_RETURN(auto found,
                          directory_.Resolve(ReferencesOf(committee)));
  committee.clear_member_country_codes();
  for (const std::string& code :
       CountriesOf(committee.member_institutions(), found)) {
    committee.add_member_country_codes(code);
  }
  return absl::OkStatus();
}

void CommitteePolicy::PlanCompleted(const Committee& committee,
                                    WritePlan& plan) const {
  PlanReferenceChecks(ReferencesOf(committee), plan);
}

absl::Status CommitteePolicy::PlanChange(const Committee*,
                                         const Committee* after,
                                         WritePlan& plan) const {
  // Committees are never restricted: they may not point at an agreement
  // that is.
  if (after != nullptr && !after->establishing_agreement().empty()) {
    ACCORD_ASSIGN_OR_RETURN(
        std::string key,
        AgreementReferenceKey(store_, after->establishing_agreement(), false,
                              {}));
    plan.ExpectLive(key, NotLive("committee.establishing_agreement",
                                 after->establishing_agreement()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> CommitteePolicy::Scope(
    const Committee& committee) const {
  return ToVector(committee.member_institutions());
}

absl::StatusOr<Concerned> CommitteePolicy::Concerns(
    const Committee& committee) const {
  Concerned concerned;
  concerned.AddInstitutions(committee.member_institutions());
  return concerned;
}

void CommitteePolicy::AnnotateEvent(const Committee& committee,
                                    events::v1::Event& event) const {
  event.add_committees(committee.name());
  if (!committee.establishing_agreement().empty()) {
    event.add_agreements(committee.establishing_agreement());
  }
}

void CommitteePolicy::PrepareCreate(Committee& committee,
                                    const ChangeContext&) const {
  if (committee.state() == Committee::STATE_UNSPECIFIED) {
    committee.set_state(Committee::STATE_ACTIVE);
  }
}

}  // namespace accord::agreement
