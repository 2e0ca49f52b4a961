#include "services/agreement/agreement_validation.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/country_codes.h"
#include "common/ids.h"
#include "common/validation.h"
#include "services/agreement/cooperation_areas.h"
#include "services/agreement/lifecycle.h"

namespace accord::agreement {
namespace {

using v1::Agreement;
using v1::Committee;
using v1::LocalizedText;
using v1::Milestone;
using v1::Session;

constexpr int kMaxKeywordLength = 64;
constexpr int kMaxDaysAfter = 3660;
constexpr int kMaxInstrumentCount = 1000;

// The entry-into-force clause: its kind, and exactly the parameters that
// kind uses.
void CheckEntryIntoForceRule(Violations& violations,
                             const Agreement& agreement) {
  if (!agreement.has_entry_into_force_rule()) return;
  const v1::EntryIntoForceRule& rule = agreement.entry_into_force_rule();
  const std::string path = "agreement.entry_into_force_rule";
  if (rule.kind() == v1::EntryIntoForceRule::KIND_UNSPECIFIED ||
      !v1::EntryIntoForceRule::Kind_IsValid(rule.kind())) {
    violations.Add(path + ".kind", "must be set to a known rule kind");
  }
  if (rule.kind() == v1::EntryIntoForceRule::KIND_ON_FIXED_DATE) {
    if (rule.fixed_date().size() != 10 || !IsPartialDate(rule.fixed_date())) {
      violations.Add(path + ".fixed_date",
                     "must be a date YYYY-MM-DD for KIND_ON_FIXED_DATE");
    }
  } else if (!rule.fixed_date().empty()) {
    violations.Add(path + ".fixed_date", "applies only to KIND_ON_FIXED_DATE");
  }
  if (rule.kind() == v1::EntryIntoForceRule::KIND_AFTER_INSTRUMENTS) {
    if (rule.instrument_count() < 1 ||
        rule.instrument_count() > kMaxInstrumentCount) {
      violations.Add(path + ".instrument_count",
                     absl::StrCat("must be between 1 and ", kMaxInstrumentCount,
                                  " for KIND_AFTER_INSTRUMENTS"));
    }
    if (rule.days_after() < 0 || rule.days_after() > kMaxDaysAfter) {
      violations.Add(path + ".days_after",
                     absl::StrCat("must be between 0 and ", kMaxDaysAfter));
    }
  } else {
    if (rule.instrument_count() != 0) {
      violations.Add(path + ".instrument_count",
                     "applies only to KIND_AFTER_INSTRUMENTS");
    }
    if (rule.days_after() != 0) {
      violations.Add(path + ".days_after",
                     "applies only to KIND_AFTER_INSTRUMENTS");
    }
  }
}

void AddNameViolations(Violations& violations, const absl::Status& status) {
  for (const FieldViolation& violation : FieldViolationsOf(status)) {
    violations.Add(violation.field, violation.description);
  }
}

void CheckReference(Violations& violations, const std::string& field,
                    absl::string_view name, absl::string_view collection,
                    bool required) {
  if (name.empty()) {
    if (required) violations.Add(field, "must be set");
    return;
  }
  AddNameViolations(violations,
                    ParseResourceName(name, collection, field).status());
}

void CheckTexts(Violations& violations, const std::string& field,
                const google::protobuf::RepeatedPtrField<LocalizedText>& texts,
                size_t max_bytes, bool required) {
  if (required && texts.empty()) {
    violations.Add(field, "must have at least one entry");
  }
  violations.CheckCount(field, texts.size(), kMaxListLength);
  for (int i = 0; i < texts.size(); ++i) {
    const std::string path = absl::StrCat(field, "[", i, "]");
    violations.CheckText(path + ".text", texts[i].text(), max_bytes, true);
    violations.CheckLanguage(path + ".language_code", texts[i].language_code());
  }
}

void CheckPlace(Violations& violations, const std::string& field,
                const v1::Place& place) {
  violations.CheckText(field + ".city", place.city(), kMaxNameLength, false);
  if (!IsIsoCountryCode(place.country_code())) {
    violations.Add(field + ".country_code",
                   absl::StrCat("\"", Excerpt(place.country_code(), 8),
                                "\" is not an ISO 3166-1 alpha-2 code"));
  }
}

void CheckDateOrder(Violations& violations, const std::string& field,
                    absl::string_view earlier, absl::string_view later,
                    absl::string_view earlier_name) {
  if (IsPartialDate(earlier) && IsPartialDate(later) &&
      CompareDates(later, earlier) < 0) {
    violations.Add(field, absl::StrCat("is before ", earlier_name));
  }
}

template <typename Repeated>
void CheckUnique(Violations& violations, const std::string& field,
                 const Repeated& values) {
  std::set<std::string> seen;
  for (int i = 0; i < values.size(); ++i) {
    if (!seen.insert(values[i]).second) {
      violations.Add(absl::StrCat(field, "[", i, "]"),
                     "repeats an earlier entry");
    }
  }
}

}  // namespace

void CheckSources(
    Violations& violations, const std::string& field,
    const google::protobuf::RepeatedPtrField<v1::Source>& sources) {
  violations.CheckCount(field, sources.size(), kMaxListLength);
  for (int i = 0; i < sources.size(); ++i) {
    const std::string path = absl::StrCat(field, "[", i, "]");
    violations.CheckText(path + ".publisher", sources[i].publisher(),
                         kMaxNameLength, true);
    violations.CheckText(path + ".title", sources[i].title(), kMaxNameLength,
                         false);
    violations.CheckHttpUrl(path + ".uri", sources[i].uri());
    violations.CheckPartialDate(path + ".publish_date",
                                sources[i].publish_date());
  }
}

absl::Status CheckSessionName(absl::string_view name, absl::string_view field) {
  return ParseNestedResourceName(name, {"committees", "sessions"}, field)
      .status();
}

absl::Status CheckMilestoneParent(absl::string_view parent,
                                  absl::string_view field) {
  if (absl::StartsWith(parent, "committees/")) {
    return ParseResourceName(parent, "committees", field).status();
  }
  return ParseResourceName(parent, "agreements", field).status();
}

absl::Status CheckMilestoneName(absl::string_view name,
                                absl::string_view field) {
  if (absl::StartsWith(name, "committees/")) {
    return ParseNestedResourceName(name, {"committees", "milestones"}, field)
        .status();
  }
  return ParseNestedResourceName(name, {"agreements", "milestones"}, field)
      .status();
}

namespace {

// The parties, and the signatories and witnesses who acted for them.
void CheckPartiesAndPeople(Violations& violations, const Agreement& agreement) {
  if (agreement.parties_size() < 2) {
    violations.Add("agreement.parties", "must name at least two parties");
  }
  violations.CheckCount("agreement.parties", agreement.parties_size(),
                        kMaxListLength);
  for (int i = 0; i < agreement.parties_size(); ++i) {
    CheckReference(violations, absl::StrCat("agreement.parties[", i, "]"),
                   agreement.parties(i), "institutions", true);
  }
  CheckUnique(violations, "agreement.parties", agreement.parties());
  std::set<std::string> parties(agreement.parties().begin(),
                                agreement.parties().end());
  violations.CheckCount("agreement.signatories", agreement.signatories_size(),
                        kMaxListLength);
  for (int i = 0; i < agreement.signatories_size(); ++i) {
    const auto& signatory = agreement.signatories(i);
    const std::string path = absl::StrCat("agreement.signatories[", i, "]");
    CheckReference(violations, path + ".official", signatory.official(),
                   "officials", true);
    if (!parties.count(signatory.party())) {
      violations.Add(path + ".party", "must be one of the agreement's parties");
    }
    violations.CheckText(path + ".capacity", signatory.capacity(),
                         kMaxNameLength, false);
  }
  violations.CheckCount("agreement.witnesses", agreement.witnesses_size(),
                        kMaxListLength);
  for (int i = 0; i < agreement.witnesses_size(); ++i) {
    const auto& witness = agreement.witnesses(i);
    const std::string path = absl::StrCat("agreement.witnesses[", i, "]");
    CheckReference(violations, path + ".official", witness.official(),
                   "officials", true);
    CheckReference(violations, path + ".institution", witness.institution(),
                   "institutions", false);
    violations.CheckText(path + ".capacity", witness.capacity(), kMaxNameLength,
                         false);
  }
}

// Where it was signed, on what occasion, under which framework.
void CheckSigningContext(Violations& violations, const Agreement& agreement) {
  violations.CheckPartialDate("agreement.signing_date",
                              agreement.signing_date());
  if (agreement.has_signing_place()) {
    CheckPlace(violations, "agreement.signing_place",
               agreement.signing_place());
  }
  if (!agreement.occasion().empty()) {
    AddNameViolations(violations, CheckSessionName(agreement.occasion(),
                                                   "agreement.occasion"));
  }
  CheckReference(violations, "agreement.parent_agreement",
                 agreement.parent_agreement(), "agreements", false);
  if (!agreement.parent_agreement().empty() &&
      agreement.parent_agreement() == agreement.name()) {
    violations.Add("agreement.parent_agreement",
                   "an agreement cannot be its own framework");
  }
}

// Cooperation areas (a closed vocabulary) and free keywords.
void CheckSubjects(Violations& violations, const Agreement& agreement) {
  violations.CheckCount("agreement.cooperation_areas",
                        agreement.cooperation_areas_size(), kMaxListLength);
  for (int i = 0; i < agreement.cooperation_areas_size(); ++i) {
    if (!IsCooperationArea(agreement.cooperation_areas(i))) {
      violations.Add(
          absl::StrCat("agreement.cooperation_areas[", i, "]"),
          absl::StrCat("\"", Excerpt(agreement.cooperation_areas(i), 64),
                       "\" is not in the vocabulary (ListCooperationAreas); "
                       "use keywords for other terms"));
    }
  }
  CheckUnique(violations, "agreement.cooperation_areas",
              agreement.cooperation_areas());
  violations.CheckCount("agreement.keywords", agreement.keywords_size(),
                        kMaxListLength);
  for (int i = 0; i < agreement.keywords_size(); ++i) {
    violations.CheckText(absl::StrCat("agreement.keywords[", i, "]"),
                         agreement.keywords(i), kMaxKeywordLength, true);
  }
}

}  // namespace

absl::Status ValidateAgreement(const Agreement& agreement) {
  Violations violations;
  CheckTexts(violations, "agreement.titles", agreement.titles(), kMaxNameLength,
             true);
  if (agreement.kind() == Agreement::KIND_UNSPECIFIED ||
      !Agreement::Kind_IsValid(agreement.kind())) {
    violations.Add("agreement.kind", "must be set to a known kind");
  }
  CheckPartiesAndPeople(violations, agreement);
  CheckSigningContext(violations, agreement);
  CheckSubjects(violations, agreement);
  CheckTexts(violations, "agreement.objectives", agreement.objectives(),
             kMaxTextLength, false);
  CheckSources(violations, "agreement.sources", agreement.sources());
  violations.CheckPartialDate("agreement.expiry_date", agreement.expiry_date());
  CheckDateOrder(violations, "agreement.expiry_date", agreement.signing_date(),
                 agreement.expiry_date(), "signing_date");
  if (!Agreement::Accession_IsValid(agreement.accession())) {
    violations.Add("agreement.accession", "must be a known value");
  }
  CheckEntryIntoForceRule(violations, agreement);
  violations.CheckCount("agreement.actions", agreement.actions_size(), 1000);
  for (int i = 0; i < agreement.actions_size(); ++i) {
    CheckReference(violations, absl::StrCat("agreement.actions[", i, "].party"),
                   agreement.actions(i).party(), "institutions", false);
    CheckReference(violations,
                   absl::StrCat("agreement.actions[", i, "].acting_body"),
                   agreement.actions(i).acting_body(), "institutions", false);
  }
  if (!violations.empty()) return violations.ToStatus();
  return CheckActions(agreement);
}

absl::Status ValidateCommittee(const Committee& committee) {
  Violations violations;
  CheckTexts(violations, "committee.names", committee.names(), kMaxNameLength,
             true);
  if (committee.kind() == Committee::KIND_UNSPECIFIED ||
      !Committee::Kind_IsValid(committee.kind())) {
    violations.Add("committee.kind", "must be set to a known kind");
  }
  if (committee.member_institutions().empty()) {
    violations.Add("committee.member_institutions",
                   "must name at least one member");
  }
  violations.CheckCount("committee.member_institutions",
                        committee.member_institutions_size(), kMaxListLength);
  for (int i = 0; i < committee.member_institutions_size(); ++i) {
    CheckReference(violations,
                   absl::StrCat("committee.member_institutions[", i, "]"),
                   committee.member_institutions(i), "institutions", true);
  }
  CheckUnique(violations, "committee.member_institutions",
              committee.member_institutions());
  std::set<std::string> members(committee.member_institutions().begin(),
                                committee.member_institutions().end());
  for (int i = 0; i < committee.co_chairs_size(); ++i) {
    const std::string path = absl::StrCat("committee.co_chairs[", i, "]");
    CheckReference(violations, path + ".official",
                   committee.co_chairs(i).official(), "officials", true);
    if (!members.count(committee.co_chairs(i).institution())) {
      violations.Add(path + ".institution", "must be one of the members");
    }
  }
  CheckReference(violations, "committee.establishing_agreement",
                 committee.establishing_agreement(), "agreements", false);
  if (committee.state() == Committee::STATE_UNSPECIFIED ||
      !Committee::State_IsValid(committee.state())) {
    violations.Add("committee.state", "must be a known state");
  }
  CheckSources(violations, "committee.sources", committee.sources());
  return violations.ToStatus();
}

absl::Status ValidateSession(const Session& session) {
  Violations violations;
  if (session.number() < 1) {
    violations.Add("session.number", "must be 1 or more");
  }
  if (session.start_date().size() != 10 ||
      !IsPartialDate(session.start_date())) {
    violations.Add("session.start_date", "must be a date YYYY-MM-DD");
  }
  if (!session.end_date().empty() &&
      (session.end_date().size() != 10 || !IsPartialDate(session.end_date()))) {
    violations.Add("session.end_date", "must be a date YYYY-MM-DD");
  }
  if (session.end_date().size() == 10) {
    CheckDateOrder(violations, "session.end_date", session.start_date(),
                   session.end_date(), "start_date");
  }
  if (session.has_place())
    CheckPlace(violations, "session.place", session.place());
  violations.CheckCount("session.participants", session.participants_size(),
                        kMaxListLength);
  for (int i = 0; i < session.participants_size(); ++i) {
    const std::string path = absl::StrCat("session.participants[", i, "]");
    CheckReference(violations, path + ".official",
                   session.participants(i).official(), "officials", true);
    CheckReference(violations, path + ".institution",
                   session.participants(i).institution(), "institutions",
                   false);
    violations.CheckText(path + ".role", session.participants(i).role(),
                         kMaxNameLength, false);
  }
  for (int i = 0; i < session.agreements_signed_size(); ++i) {
    CheckReference(violations,
                   absl::StrCat("session.agreements_signed[", i, "]"),
                   session.agreements_signed(i), "agreements", true);
  }
  CheckUnique(violations, "session.agreements_signed",
              session.agreements_signed());
  CheckTexts(violations, "session.decisions", session.decisions(),
             kMaxTextLength, false);
  CheckSources(violations, "session.sources", session.sources());
  return violations.ToStatus();
}

absl::Status ValidateMilestone(const Milestone& milestone) {
  Violations violations;
  CheckTexts(violations, "milestone.titles", milestone.titles(), kMaxNameLength,
             true);
  CheckTexts(violations, "milestone.descriptions", milestone.descriptions(),
             kMaxTextLength, false);
  for (int i = 0; i < milestone.owners_size(); ++i) {
    CheckReference(violations, absl::StrCat("milestone.owners[", i, "]"),
                   milestone.owners(i), "institutions", true);
  }
  CheckUnique(violations, "milestone.owners", milestone.owners());
  for (int i = 0; i < milestone.proposers_size(); ++i) {
    CheckReference(violations, absl::StrCat("milestone.proposers[", i, "]"),
                   milestone.proposers(i), "officials", true);
  }
  violations.CheckPartialDate("milestone.due_date", milestone.due_date());
  if (!milestone.due_session().empty()) {
    AddNameViolations(violations, CheckSessionName(milestone.due_session(),
                                                   "milestone.due_session"));
  }
  CheckReference(violations, "milestone.committee", milestone.committee(),
                 "committees", false);
  if (milestone.state() == Milestone::STATE_UNSPECIFIED ||
      !Milestone::State_IsValid(milestone.state())) {
    violations.Add("milestone.state", "must be a known state");
  }
  CheckSources(violations, "milestone.sources", milestone.sources());
  violations.CheckPartialDate("milestone.record_date", milestone.record_date());
  return violations.ToStatus();
}

absl::Status ValidateTransition(const Milestone& milestone,
                                const v1::MilestoneTransition& transition) {
  Violations violations;
  if (transition.state() == Milestone::STATE_UNSPECIFIED ||
      !Milestone::State_IsValid(transition.state())) {
    violations.Add("transition.state", "must be a known state");
  }
  if (transition.transition_date().empty()) {
    violations.Add("transition.transition_date", "must be set");
  }
  violations.CheckPartialDate("transition.transition_date",
                              transition.transition_date());
  if (!transition.session().empty()) {
    AddNameViolations(violations, CheckSessionName(transition.session(),
                                                   "transition.session"));
  }
  CheckSources(violations, "transition.sources", transition.sources());
  if (!violations.empty()) return violations.ToStatus();
  if (milestone.state() == Milestone::STATE_ACHIEVED ||
      milestone.state() == Milestone::STATE_CANCELLED) {
    return ErrorWithReason(
        absl::StatusCode::kFailedPrecondition,
        absl::StrCat(milestone.name(), " is already ",
                     Milestone::State_Name(milestone.state())),
        "MILESTONE_CLOSED", "transition.state");
  }
  if (transition.state() == milestone.state()) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                           "the milestone is already in that state",
                           "NO_CHANGE", "transition.state");
  }
  if (!milestone.transitions().empty() &&
      CompareDates(transition.transition_date(),
                   milestone.transitions().rbegin()->transition_date()) < 0) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                           "is before the milestone's last transition",
                           "TRANSITION_OUT_OF_ORDER",
                           "transition.transition_date");
  }
  return absl::OkStatus();
}

References ReferencesOf(const Agreement& agreement) {
  References references;
  for (int i = 0; i < agreement.parties_size(); ++i) {
    references.AddInstitution(agreement.parties(i),
                              absl::StrCat("agreement.parties[", i, "]"));
  }
  for (int i = 0; i < agreement.signatories_size(); ++i) {
    references.AddOfficial(
        agreement.signatories(i).official(),
        absl::StrCat("agreement.signatories[", i, "].official"));
  }
  for (int i = 0; i < agreement.witnesses_size(); ++i) {
    const auto& witness = agreement.witnesses(i);
    references.AddOfficial(
        witness.official(),
        absl::StrCat("agreement.witnesses[", i, "].official"));
    if (!witness.institution().empty()) {
      references.AddInstitution(
          witness.institution(),
          absl::StrCat("agreement.witnesses[", i, "].institution"));
    }
  }
  for (int i = 0; i < agreement.actions_size(); ++i) {
    if (!agreement.actions(i).acting_body().empty()) {
      references.AddInstitution(
          agreement.actions(i).acting_body(),
          absl::StrCat("agreement.actions[", i, "].acting_body"));
    }
  }
  return references;
}

References ReferencesOf(const Committee& committee) {
  References references;
  for (int i = 0; i < committee.member_institutions_size(); ++i) {
    references.AddInstitution(
        committee.member_institutions(i),
        absl::StrCat("committee.member_institutions[", i, "]"));
  }
  for (int i = 0; i < committee.co_chairs_size(); ++i) {
    references.AddOfficial(
        committee.co_chairs(i).official(),
        absl::StrCat("committee.co_chairs[", i, "].official"));
  }
  return references;
}

References ReferencesOf(const Session& session) {
  References references;
  for (int i = 0; i < session.participants_size(); ++i) {
    const auto& participant = session.participants(i);
    references.AddOfficial(
        participant.official(),
        absl::StrCat("session.participants[", i, "].official"));
    if (!participant.institution().empty()) {
      references.AddInstitution(
          participant.institution(),
          absl::StrCat("session.participants[", i, "].institution"));
    }
  }
  return references;
}

References ReferencesOf(const Milestone& milestone) {
  References references;
  for (int i = 0; i < milestone.owners_size(); ++i) {
    references.AddInstitution(milestone.owners(i),
                              absl::StrCat("milestone.owners[", i, "]"));
  }
  for (int i = 0; i < milestone.proposers_size(); ++i) {
    references.AddOfficial(milestone.proposers(i),
                           absl::StrCat("milestone.proposers[", i, "]"));
  }
  return references;
}

References ReferencesOf(const v1::AgreementAction& action,
                        absl::string_view field) {
  References references;
  if (!action.acting_body().empty()) {
    references.AddInstitution(action.acting_body(),
                              absl::StrCat(field, ".acting_body"));
  }
  return references;
}

}  // namespace accord::agreement
