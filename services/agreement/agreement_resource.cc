#include "services/agreement/agreement_resource.h"

#include "services/agreement/agreement_validation.h"
#include "services/agreement/lifecycle.h"

namespace accord::agreement {

using v1::Agreement;

std::vector<IndexedField> AgreementIndexedFields() {
  return {{"kind"},
          {"state"},
          {"parties"},
          {"party_country_codes"},
          {"cooperation_areas"},
          {"parent_agreement"},
          {"occasion"},
          {"signing_date", /*ordered=*/true}};
}

void StampActions(Agreement& agreement, absl::Time now) {
  for (auto& action : *agreement.mutable_actions()) {
    if (!action.has_record_time()) {
      SetProtoTimestamp(*action.mutable_record_time(), now);
    }
  }
}

absl::Status AgreementPolicy::Validate(const Agreement& agreement) const {
  return ValidateAgreement(agreement);
}

absl::Status AgreementPolicy::Complete(Agreement& agreement) const {
  ACCORD_ASSIGN_OR_RETURN(auto found,
                          directory_.Resolve(ReferencesOf(agreement)));
  agreement.clear_party_country_codes();
  for (const std::string& code : CountriesOf(agreement.parties(), found)) {
    agreement.add_party_country_codes(code);
  }
  DeriveLifecycle(agreement);
  // Each party's country as the institution service answered just now
  // (never what the request said: party_statuses is output only).
  for (v1::PartyStatus& status : *agreement.mutable_party_statuses()) {
    const auto it = found.find(status.party());
    status.set_country_code(it == found.end() ? "" : it->second.country_code());
  }
  return absl::OkStatus();
}

void AgreementPolicy::PlanCompleted(const Agreement& agreement,
                                    WritePlan& plan) const {
  PlanReferenceChecks(ReferencesOf(agreement), plan);
}

absl::Status AgreementPolicy::PlanChange(const Agreement*,
                                         const Agreement* after,
                                         WritePlan& plan) const {
  if (after == nullptr) return absl::OkStatus();
  if (!after->parent_agreement().empty()) {
    ACCORD_ASSIGN_OR_RETURN(
        std::string key,
        AgreementReferenceKey(store_, after->parent_agreement(),
                              after->restricted(), ToVector(after->parties())));
    plan.ExpectLive(
        key, NotLive("agreement.parent_agreement", after->parent_agreement()));
  }
  if (!after->occasion().empty()) {
    plan.ExpectLive(RecordKey(after->occasion()),
                    NotLive("agreement.occasion", after->occasion()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> AgreementPolicy::Scope(
    const Agreement& agreement) const {
  return ToVector(agreement.parties());
}

absl::StatusOr<bool> AgreementPolicy::Visible(
    const Principal& caller, const Agreement& agreement) const {
  return caller.CanSee(agreement.restricted(), ToVector(agreement.parties()));
}

// The parties, and whoever acted in its log: a party, or a body such as a
// chamber that approved it.
absl::StatusOr<Concerned> AgreementPolicy::Concerns(
    const Agreement& agreement) const {
  Concerned concerned;
  concerned.AddInstitutions(agreement.parties());
  for (const auto& action : agreement.actions()) {
    concerned.AddInstitution(action.party());
    concerned.AddInstitution(action.acting_body());
  }
  return concerned;
}

void AgreementPolicy::AnnotateEvent(const Agreement& agreement,
                                    events::v1::Event& event) const {
  if (agreement.restricted()) {
    *event.mutable_restricted_to() = agreement.parties();
  }
  AddUnique(agreement.cooperation_areas(), event.mutable_cooperation_areas());
  AddUnique(
      std::vector<std::string>{agreement.name(), agreement.parent_agreement()},
      event.mutable_agreements());
  if (!agreement.occasion().empty()) {
    event.add_committees(ParentOf(agreement.occasion()));
  }
}

void AgreementPolicy::PrepareCreate(Agreement& agreement,
                                    const ChangeContext& change) const {
  StampActions(agreement, change.time);
}

}  // namespace accord::agreement
