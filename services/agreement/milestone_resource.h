#ifndef ACCORD_SERVICES_AGREEMENT_MILESTONE_RESOURCE_H_
#define ACCORD_SERVICES_AGREEMENT_MILESTONE_RESOURCE_H_

// The Milestone resource, nested under an agreement or a committee: its
// policy for the standard methods (its parent's parties or members own
// it, it is as visible as its parent agreement, the first transition
// recorded at creation, event routing). Its state changes only through
// TransitionMilestone (agreement_service.cc).

#include <string>
#include <vector>

#include "accord/agreement/v1/agreement.pb.h"
#include "common/resource_adapter.h"
#include "services/agreement/resource_support.h"

namespace accord::agreement {

class MilestonePolicy final : public AgreementServicePolicy<v1::Milestone> {
 public:
  using AgreementServicePolicy::AgreementServicePolicy;

  std::string event_prefix() const override { return "accord.milestone.v1"; }
  std::string created_event_type() const override {
    return "accord.milestone.v1.recorded";
  }
  absl::Status CheckName(absl::string_view name,
                         absl::string_view field) const override;
  absl::Status Validate(const v1::Milestone& milestone) const override;
  absl::Status Complete(v1::Milestone& milestone) const override;
  void PlanCompleted(const v1::Milestone& milestone,
                     WritePlan& plan) const override;
  absl::Status PlanChange(const v1::Milestone* before,
                          const v1::Milestone* after,
                          WritePlan& plan) const override;
  absl::StatusOr<std::vector<std::string>> Scope(
      const v1::Milestone& milestone) const override;
  bool restricts_visibility() const override { return true; }
  absl::StatusOr<bool> Visible(const Principal& caller,
                               const v1::Milestone& milestone) const override;
  // Visibility reads the parent agreement from Redis.
  bool async_get() const override { return false; }
  absl::StatusOr<Concerned> Concerns(
      const v1::Milestone& milestone) const override;
  void AnnotateEvent(const v1::Milestone& milestone,
                     events::v1::Event& event) const override;
  absl::Status CheckCreateParent(absl::string_view parent,
                                 const Principal& caller) const override;
  void PrepareCreate(v1::Milestone& milestone,
                     const ChangeContext& change) const override;
  std::vector<std::string> ListOrder() const override {
    return {"name", "create_time", "update_time", "due_date", "state"};
  }
  absl::StatusOr<ListSource> ListSourceOf(
      absl::string_view parent) const override;
};

using MilestoneResource = Registered<MilestonePolicy>;

// Today's date, YYYY-MM-DD (UTC).
std::string Today();

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_MILESTONE_RESOURCE_H_
