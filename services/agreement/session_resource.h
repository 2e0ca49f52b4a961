#ifndef ACCORD_SERVICES_AGREEMENT_SESSION_RESOURCE_H_
#define ACCORD_SERVICES_AGREEMENT_SESSION_RESOURCE_H_

// The Session resource, nested under a committee: its policy for the
// standard methods (the committee's members own it, the agreements signed
// checked live, the index of all sessions, event routing).

#include <string>
#include <vector>

#include "accord/agreement/v1/agreement.pb.h"
#include "common/resource_adapter.h"
#include "services/agreement/resource_support.h"

namespace accord::agreement {

class SessionPolicy final : public AgreementServicePolicy<v1::Session> {
 public:
  using AgreementServicePolicy::AgreementServicePolicy;

  std::string event_prefix() const override { return "accord.session.v1"; }
  std::string created_event_type() const override {
    return "accord.committee.v1.session_recorded";
  }
  absl::Status CheckName(absl::string_view name,
                         absl::string_view field) const override;
  absl::Status Validate(const v1::Session& session) const override;
  absl::Status Complete(v1::Session& session) const override;
  void PlanCompleted(const v1::Session& session,
                     WritePlan& plan) const override;
  absl::Status PlanChange(const v1::Session* before, const v1::Session* after,
                          WritePlan& plan) const override;
  absl::StatusOr<std::vector<std::string>> Scope(
      const v1::Session& session) const override;
  absl::StatusOr<Concerned> Concerns(const v1::Session& session) const override;
  void AnnotateEvent(const v1::Session& session,
                     events::v1::Event& event) const override;
  absl::Status CheckCreateParent(absl::string_view parent,
                                 const Principal& caller) const override;
  std::vector<std::string> ListOrder() const override {
    return {"name", "create_time", "update_time", "start_date", "number"};
  }
  absl::StatusOr<ListSource> ListSourceOf(
      absl::string_view parent) const override;
};

using SessionResource = Registered<SessionPolicy>;

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_SESSION_RESOURCE_H_
