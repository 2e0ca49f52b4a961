#include "services/agreement/milestone_resource.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/agreement/agreement_validation.h"

namespace accord::agreement {

using v1::Committee;
using v1::Milestone;

std::string Today() {
  return absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
}

absl::Status MilestonePolicy::CheckName(absl::string_view name,
                                        absl::string_view field) const {
  return CheckMilestoneName(name, field);
}

absl::Status MilestonePolicy::Validate(const Milestone& milestone) const {
  return ValidateMilestone(milestone);
}

absl::Status MilestonePolicy::Complete(Milestone& milestone) const {
  return directory_.Resolve(ReferencesOf(milestone)).status();
}

void MilestonePolicy::PlanCompleted(const Milestone& milestone,
                                    WritePlan& plan) const {
  PlanReferenceChecks(ReferencesOf(milestone), plan);
}

absl::Status MilestonePolicy::PlanChange(const Milestone*,
                                         const Milestone* after,
                                         WritePlan& plan) const {
  if (after == nullptr) return absl::OkStatus();
  const std::string parent = ParentOf(after->name());
  plan.ExpectLive(RecordKey(parent), ParentNotFound(parent));
  if (!after->due_session().empty()) {
    plan.ExpectLive(RecordKey(after->due_session()),
                    NotLive("milestone.due_session", after->due_session()));
  }
  if (!after->committee().empty()) {
    plan.ExpectLive(RecordKey(after->committee()),
                    NotLive("milestone.committee", after->committee()));
  }
  plan.Write({"ZADD", IndexKey(kAllMilestones), "0", after->name()});
  return absl::OkStatus();
}

// A milestone belongs to its parent's parties or members. Its owners are
// data, not authority: naming oneself an owner must not let an editor add
// to or change another agency's agreement or committee.
absl::StatusOr<std::vector<std::string>> MilestonePolicy::Scope(
    const Milestone& milestone) const {
  std::vector<std::string> scope;
  const std::string parent = ParentOf(milestone.name());
  if (absl::StartsWith(parent, "committees/")) {
    ACCORD_ASSIGN_OR_RETURN(
        Committee committee,
        AsParent(ReadResource<Committee>(store_, parent), parent));
    scope.insert(scope.end(), committee.member_institutions().begin(),
                 committee.member_institutions().end());
  } else {
    ACCORD_ASSIGN_OR_RETURN(scope, ParentAgreementParties(store_, parent));
  }
  return scope;
}

// As visible as its parent agreement.
absl::StatusOr<bool> MilestonePolicy::Visible(
    const Principal& caller, const Milestone& milestone) const {
  const std::string parent = ParentOf(milestone.name());
  if (!absl::StartsWith(parent, "agreements/")) return true;
  return VisibleUnderAgreement(store_, caller, parent);
}

void MilestonePolicy::AnnotateEvent(const Milestone& milestone,
                                    events::v1::Event& event) const {
  const std::string parent = ParentOf(milestone.name());
  if (absl::StartsWith(parent, "committees/")) {
    event.add_committees(parent);
  } else {
    AnnotateUnderAgreement(store_, parent, event);
  }
  if (!milestone.committee().empty() && milestone.committee() != parent) {
    event.add_committees(milestone.committee());
  }
}

// Its parent agreement's parties or parent committee's members, its
// owners, and the members of the committee it concerns.
absl::StatusOr<Concerned> MilestonePolicy::Concerns(
    const Milestone& milestone) const {
  Concerned concerned;
  const std::string parent = ParentOf(milestone.name());
  ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> parent_institutions,
                          absl::StartsWith(parent, "committees/")
                              ? MembersOf(store_, parent)
                              : PartiesOf(store_, parent));
  concerned.AddInstitutions(parent_institutions);
  concerned.AddInstitutions(milestone.owners());
  if (!milestone.committee().empty()) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> members,
                            MembersOf(store_, milestone.committee()));
    concerned.AddInstitutions(members);
  }
  return concerned;
}

// A restricted agreement the caller may not see is a missing parent,
// answered exactly as one (not as a missing milestone).
absl::Status MilestonePolicy::CheckCreateParent(absl::string_view parent,
                                                const Principal& caller) const {
  ACCORD_RETURN_IF_ERROR(CheckMilestoneParent(parent, "parent"));
  if (!absl::StartsWith(parent, "agreements/")) return absl::OkStatus();
  return CheckAgreementParent(store_, parent, caller);
}

// The first transition records the state the milestone was born in.
void MilestonePolicy::PrepareCreate(Milestone& milestone,
                                    const ChangeContext& change) const {
  if (milestone.state() == Milestone::STATE_UNSPECIFIED) {
    milestone.set_state(Milestone::STATE_PROPOSED);
  }
  milestone.clear_transitions();
  milestone.clear_done_date();
  v1::MilestoneTransition* first = milestone.add_transitions();
  first->set_state(milestone.state());
  first->set_transition_date(
      milestone.record_date().empty() ? Today() : milestone.record_date());
  *first->mutable_sources() = milestone.sources();
  SetProtoTimestamp(*first->mutable_record_time(), change.time);
  if (milestone.state() == Milestone::STATE_ACHIEVED) {
    milestone.set_done_date(first->transition_date());
  }
}

absl::StatusOr<ListSource> MilestonePolicy::ListSourceOf(
    absl::string_view parent) const {
  if (parent == "agreements/-" || parent == "committees/-") {
    const std::string prefix(parent.substr(0, parent.size() - 1));
    return ListSource{kAllMilestones, [prefix](absl::string_view name) {
                        return absl::StartsWith(name, prefix);
                      }};
  }
  ACCORD_RETURN_IF_ERROR(CheckMilestoneParent(parent, "parent"));
  return ListSource{absl::StrCat(parent, "/milestones"), nullptr};
}

}  // namespace accord::agreement
