#ifndef ACCORD_SERVICES_AGREEMENT_COMMITTEE_RESOURCE_H_
#define ACCORD_SERVICES_AGREEMENT_COMMITTEE_RESOURCE_H_

// The Committee resource: its policy for the standard methods (members'
// countries derived on every write, the establishing agreement checked
// live and unrestricted, event routing).

#include <string>
#include <vector>

#include "accord/agreement/v1/agreement.pb.h"
#include "common/resource_adapter.h"
#include "services/agreement/resource_support.h"

namespace accord::agreement {

class CommitteePolicy final : public AgreementServicePolicy<v1::Committee> {
 public:
  using AgreementServicePolicy::AgreementServicePolicy;

  std::string event_prefix() const override { return "accord.committee.v1"; }
  absl::Status Validate(const v1::Committee& committee) const override;
  absl::Status Complete(v1::Committee& committee) const override;
  void PlanCompleted(const v1::Committee& committee,
                     WritePlan& plan) const override;
  absl::Status PlanChange(const v1::Committee* before,
                          const v1::Committee* after,
                          WritePlan& plan) const override;
  absl::StatusOr<std::vector<std::string>> Scope(
      const v1::Committee& committee) const override;
  absl::StatusOr<Concerned> Concerns(
      const v1::Committee& committee) const override;
  void AnnotateEvent(const v1::Committee& committee,
                     events::v1::Event& event) const override;
  void PrepareCreate(v1::Committee& committee,
                     const ChangeContext& change) const override;
  std::vector<std::string> ListOrder() const override {
    return {"name", "create_time", "update_time", "kind", "state"};
  }
};

using CommitteeResource = Registered<CommitteePolicy>;

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_COMMITTEE_RESOURCE_H_
