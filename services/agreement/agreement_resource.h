#ifndef ACCORD_SERVICES_AGREEMENT_AGREEMENT_RESOURCE_H_
#define ACCORD_SERVICES_AGREEMENT_AGREEMENT_RESOURCE_H_

// The Agreement resource: its policy for the standard methods (validation
// in agreement_validation.cc, the parties' countries and lifecycle derived
// on every write, visibility of restricted agreements, event routing).

#include <string>
#include <vector>

#include "accord/agreement/v1/agreement.pb.h"
#include "common/resource_adapter.h"
#include "services/agreement/resource_support.h"

namespace accord::agreement {

// The agreement fields kept in secondary indexes: the filters people use
// (kind, state, party, country, cooperation area, parent, occasion), and
// signing_date for ranges and order_by.
std::vector<IndexedField> AgreementIndexedFields();

class AgreementPolicy final : public AgreementServicePolicy<v1::Agreement> {
 public:
  using AgreementServicePolicy::AgreementServicePolicy;

  std::string event_prefix() const override { return "accord.agreement.v1"; }
  std::string created_event_type() const override {
    return "accord.agreement.v1.recorded";
  }
  absl::Status Validate(const v1::Agreement& agreement) const override;
  absl::Status Complete(v1::Agreement& agreement) const override;
  void PlanCompleted(const v1::Agreement& agreement,
                     WritePlan& plan) const override;
  absl::Status PlanChange(const v1::Agreement* before,
                          const v1::Agreement* after,
                          WritePlan& plan) const override;
  absl::StatusOr<std::vector<std::string>> Scope(
      const v1::Agreement& agreement) const override;
  bool restricts_visibility() const override { return true; }
  absl::StatusOr<bool> Visible(const Principal& caller,
                               const v1::Agreement& agreement) const override;
  absl::StatusOr<Concerned> Concerns(
      const v1::Agreement& agreement) const override;
  void AnnotateEvent(const v1::Agreement& agreement,
                     events::v1::Event& event) const override;
  void PrepareCreate(v1::Agreement& agreement,
                     const ChangeContext& change) const override;
  std::vector<IndexedField> indexed_fields() const override {
    return AgreementIndexedFields();
  }
  std::vector<std::string> ListOrder() const override {
    return {"name",         "create_time", "update_time",
            "signing_date", "kind",        "state"};
  }
};

using AgreementResource = Registered<AgreementPolicy>;

// Stamps the record time of actions that have none with `now`.
void StampActions(v1::Agreement& agreement, absl::Time now);

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_AGREEMENT_RESOURCE_H_
