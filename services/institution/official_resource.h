#ifndef ACCORD_SERVICES_INSTITUTION_OFFICIAL_RESOURCE_H_
#define ACCORD_SERVICES_INSTITUTION_OFFICIAL_RESOURCE_H_

// The Official resource: its policy for the standard methods (positions
// at live institutions, editors acting for one of them).

#include <string>
#include <vector>

#include "accord/institution/v1/institution.pb.h"
#include "common/record_store.h"
#include "common/resource_adapter.h"
#include "services/institution/institution_resource.h"

namespace accord::institution {

class OfficialPolicy final : public ResourcePolicy<v1::Official> {
 public:
  using Resource = v1::Official;
  explicit OfficialPolicy(RecordStore& store) : store_(store) {}

  std::string event_prefix() const override { return "accord.official.v1"; }
  std::string source() const override { return "//accord/institution"; }
  absl::Status Validate(const v1::Official& official) const override;
  absl::Status PlanChange(const v1::Official* before, const v1::Official* after,
                          WritePlan& plan) const override;
  absl::StatusOr<std::vector<std::string>> Scope(
      const v1::Official& official) const override;
  absl::StatusOr<Concerned> Concerns(
      const v1::Official& official) const override;
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> Countries(
      const std::vector<std::string>& names) const override {
    return CountriesOfInstitutions(store_, names);
  }

 private:
  RecordStore& store_;
};

using OfficialResource = Registered<OfficialPolicy>;

}  // namespace accord::institution

#endif  // ACCORD_SERVICES_INSTITUTION_OFFICIAL_RESOURCE_H_
