#ifndef ACCORD_SERVICES_INSTITUTION_INSTITUTION_RESOURCE_H_
#define ACCORD_SERVICES_INSTITUTION_INSTITUTION_RESOURCE_H_

// The Institution resource: its policy for the standard methods (the
// parent chain without cycles, the child sets and the search index kept
// in the same write, editors acting for an institution or its parent).

#include <string>
#include <vector>

#include "accord/institution/v1/institution.pb.h"
#include "common/record_store.h"
#include "common/resource_adapter.h"

namespace accord::institution {

// The search-index entry of `institution` (its names).
std::string SearchEntry(const v1::Institution& institution);
// Country codes of live institutions, from the service's own store.
absl::StatusOr<absl::flat_hash_map<std::string, std::string>>
CountriesOfInstitutions(RecordStore& store,
                        const std::vector<std::string>& names);

class InstitutionPolicy final : public ResourcePolicy<v1::Institution> {
 public:
  using Resource = v1::Institution;
  explicit InstitutionPolicy(RecordStore& store) : store_(store) {}

  std::string event_prefix() const override { return "accord.institution.v1"; }
  std::string source() const override { return "//accord/institution"; }
  absl::Status Validate(const v1::Institution& institution) const override;
  absl::Status PlanChange(const v1::Institution* before,
                          const v1::Institution* after,
                          WritePlan& plan) const override;
  absl::StatusOr<std::vector<std::string>> Scope(
      const v1::Institution& institution) const override;
  absl::StatusOr<Concerned> Concerns(
      const v1::Institution& institution) const override;
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> Countries(
      const std::vector<std::string>& names) const override {
    return CountriesOfInstitutions(store_, names);
  }
  void PrepareCreate(v1::Institution& institution,
                     const ChangeContext& change) const override;
  std::vector<std::string> ListOrder() const override {
    return {"name", "create_time", "update_time", "country_code"};
  }

 private:
  absl::Status CheckNoCycle(const v1::Institution& institution) const;

  RecordStore& store_;
};

using InstitutionResource = Registered<InstitutionPolicy>;

}  // namespace accord::institution

#endif  // ACCORD_SERVICES_INSTITUTION_INSTITUTION_RESOURCE_H_
