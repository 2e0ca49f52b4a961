#include "services/agreement/session_resource.h"

#include "absl/strings/str_cat.h"
#include "services/agreement/agreement_validation.h"

namespace accord::agreement {

using v1::Committee;
using v1::Session;

absl::Status SessionPolicy::CheckName(absl::string_view name,
                                      absl::string_view field) const {
  return CheckSessionName(name, field);
}

absl::Status SessionPolicy::Validate(const Session& session) const {
  return ValidateSession(session);
}

absl::Status SessionPolicy::Complete(Session& session) const {
  return directory_.Resolve(ReferencesOf(session)).status();
}

void SessionPolicy::PlanCompleted(const Session& session,
                                  WritePlan& plan) const {
  PlanReferenceChecks(ReferencesOf(session), plan);
}

absl::Status SessionPolicy::PlanChange(const Session*, const Session* after,
                                       WritePlan& plan) const {
  if (after == nullptr) return absl::OkStatus();
  const std::string committee = ParentOf(after->name());
  plan.ExpectLive(RecordKey(committee), ParentNotFound(committee));
  // Sessions are never restricted (see AgreementReferenceKey).
  for (int i = 0; i < after->agreements_signed_size(); ++i) {
    ACCORD_ASSIGN_OR_RETURN(
        std::string key,
        AgreementReferenceKey(store_, after->agreements_signed(i), false, {}));
    plan.ExpectLive(key,
                    NotLive(absl::StrCat("session.agreements_signed[", i, "]"),
                            after->agreements_signed(i)));
  }
  plan.Write({"ZADD", IndexKey(kAllSessions), "0", after->name()});
  return absl::OkStatus();
}

// A session belongs to its committee's members.
absl::StatusOr<std::vector<std::string>> SessionPolicy::Scope(
    const Session& session) const {
  const std::string parent = ParentOf(session.name());
  ACCORD_ASSIGN_OR_RETURN(
      Committee committee,
      AsParent(ReadResource<Committee>(store_, parent), parent));
  return ToVector(committee.member_institutions());
}

// Its committee's members, the institutions its participants came from,
// and the country it met in.
absl::StatusOr<Concerned> SessionPolicy::Concerns(
    const Session& session) const {
  Concerned concerned;
  ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> members,
                          MembersOf(store_, ParentOf(session.name())));
  concerned.AddInstitutions(members);
  for (const auto& participant : session.participants()) {
    concerned.AddInstitution(participant.institution());
  }
  if (session.has_place()) {
    concerned.AddCountry(session.place().country_code());
  }
  return concerned;
}

void SessionPolicy::AnnotateEvent(const Session& session,
                                  events::v1::Event& event) const {
  event.add_committees(ParentOf(session.name()));
  AddUnique(session.agreements_signed(), event.mutable_agreements());
}

absl::Status SessionPolicy::CheckCreateParent(absl::string_view parent,
                                              const Principal&) const {
  return ParseResourceName(parent, "committees", "parent").status();
}

absl::StatusOr<ListSource> SessionPolicy::ListSourceOf(
    absl::string_view parent) const {
  if (parent == "committees/-") return ListSource{kAllSessions, nullptr};
  ACCORD_RETURN_IF_ERROR(
      ParseResourceName(parent, "committees", "parent").status());
  return ListSource{absl::StrCat(parent, "/sessions"), nullptr};
}

}  // namespace accord::agreement
