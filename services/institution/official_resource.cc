#include "services/institution/official_resource.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "services/institution/institution_validation.h"

namespace accord::institution {

using v1::Official;

absl::Status OfficialPolicy::Validate(const Official& official) const {
  return ValidateOfficial(official);
}

absl::Status OfficialPolicy::PlanChange(const Official*, const Official* after,
                                        WritePlan& plan) const {
  if (after == nullptr) return absl::OkStatus();
  for (int i = 0; i < after->positions_size(); ++i) {
    const std::string field =
        absl::StrCat("official.positions[", i, "].institution");
    plan.ExpectLive(
        RecordKey(after->positions(i).institution()),
        InvalidField(field, absl::StrCat(after->positions(i).institution(),
                                         " is not a live institution")));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> OfficialPolicy::Scope(
    const Official& official) const {
  std::vector<std::string> scope;
  for (const auto& position : official.positions()) {
    scope.push_back(position.institution());
  }
  return scope;
}

// The institutions of its positions.
absl::StatusOr<Concerned> OfficialPolicy::Concerns(
    const Official& official) const {
  Concerned concerned;
  for (const auto& position : official.positions()) {
    concerned.AddInstitution(position.institution());
  }
  return concerned;
}

}  // namespace accord::institution
