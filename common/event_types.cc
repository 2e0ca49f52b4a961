#include "common/event_types.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace accord {
namespace {

constexpr char kInstitutionSource[] = "//accord/institution";
constexpr char kAgreementSource[] = "//accord/agreement";
constexpr char kNotificationSource[] = "//accord/notification";

// The four standard changes of a resource: created (or the resource's own
// word for it), updated, deleted and undeleted.
void AddStandard(std::vector<EventTypeInfo>& types, absl::string_view prefix,
                 absl::string_view created_verb, absl::string_view noun,
                 absl::string_view payload, absl::string_view subject,
                 absl::string_view source,
                 const std::vector<std::string>& fields) {
  const std::string article =
      absl::StrContains("aeiou", noun.substr(0, 1)) ? "An " : "A ";
  const std::pair<std::string, std::string> verbs[] = {
      {std::string(created_verb),
       absl::StrCat("A new ", noun, " was recorded.")},
      {"updated", absl::StrCat(article, noun, " was changed.")},
      {"deleted", absl::StrCat(article, noun,
                               " was soft-deleted (the payload is the record "
                               "as deleted).")},
      {"undeleted", absl::StrCat("A soft-deleted ", noun, " was restored.")}};
  for (const auto& [verb, description] : verbs) {
    types.push_back({absl::StrCat(prefix, ".", verb), description,
                     std::string(payload), std::string(subject),
                     std::string(source), fields});
  }
}

// The institution service's: institutions and officials.
void AddInstitutionTypes(std::vector<EventTypeInfo>& types) {
  const std::vector<std::string> people = {"institutions", "country_codes"};
  AddStandard(types, "accord.institution.v1", "created", "institution",
              "accord.institution.v1.Institution", "institutions/{institution}",
              kInstitutionSource, people);
  AddStandard(types, "accord.official.v1", "created", "official",
              "accord.institution.v1.Official", "officials/{official}",
              kInstitutionSource, people);
}

// Agreements, their lifecycle actions and their entries into force.
void AddAgreementTypes(std::vector<EventTypeInfo>& types) {
  const std::vector<std::string> agreement_fields = {
      "institutions",      "country_codes", "agreements",
      "cooperation_areas", "committees",    "restricted_to"};
  AddStandard(types, "accord.agreement.v1", "recorded",
              "agreement (MOU, treaty, protocol)",
              "accord.agreement.v1.Agreement", "agreements/{agreement}",
              kAgreementSource, agreement_fields);
  types.push_back(
      {"accord.agreement.v1.action_recorded",
       "A step of an agreement's lifecycle (signature, approval, "
       "ratification, accession, entry into force, withdrawal...) was "
       "recorded for a party; the payload is the agreement with the action "
       "appended.",
       "accord.agreement.v1.Agreement", "agreements/{agreement}",
       kAgreementSource, agreement_fields});
  types.push_back(
      {"accord.agreement.v1.entered_into_force",
       "The agreement entered into force for a party today (or on a day "
       "that passed while the services were down): a recorded entry into "
       "force, or one derived from the agreement's entry-into-force rule. "
       "Recorded once per agreement, party and date; the payload names the "
       "party and the date.",
       "accord.agreement.v1.PartyEnteredIntoForce", "agreements/{agreement}",
       kAgreementSource, agreement_fields});
}

// Joint committees and their sessions.
void AddCommitteeTypes(std::vector<EventTypeInfo>& types) {
  const std::vector<std::string> committee_fields = {
      "institutions", "country_codes", "committees", "agreements"};
  AddStandard(types, "accord.committee.v1", "created", "joint committee",
              "accord.agreement.v1.Committee", "committees/{committee}",
              kAgreementSource, committee_fields);
  types.push_back({"accord.committee.v1.session_recorded",
                   "A new session of a committee was recorded.",
                   "accord.agreement.v1.Session",
                   "committees/{committee}/sessions/{session}",
                   kAgreementSource, committee_fields});
  for (const auto& [verb, description] :
       std::vector<std::pair<std::string, std::string>>{
           {"updated", "A committee session was changed."},
           {"deleted", "A committee session was soft-deleted."},
           {"undeleted", "A soft-deleted committee session was restored."}}) {
    types.push_back({absl::StrCat("accord.session.v1.", verb), description,
                     "accord.agreement.v1.Session",
                     "committees/{committee}/sessions/{session}",
                     kAgreementSource, committee_fields});
  }
}

// Milestones of agreements and committees.
void AddMilestoneTypes(std::vector<EventTypeInfo>& types) {
  const std::vector<std::string> milestone_fields = {
      "institutions", "country_codes", "agreements", "committees",
      "restricted_to"};
  const std::string milestone_subject =
      "agreements/{agreement}/milestones/{milestone} or "
      "committees/{committee}/milestones/{milestone}";
  AddStandard(types, "accord.milestone.v1", "recorded",
              "milestone of a committee or an agreement",
              "accord.agreement.v1.Milestone", milestone_subject,
              kAgreementSource, milestone_fields);
  types.push_back(
      {"accord.milestone.v1.state_changed",
       "A milestone moved to a new state (planned, in progress, achieved, "
       "cancelled...); the payload holds every transition.",
       "accord.agreement.v1.Milestone", milestone_subject, kAgreementSource,
       milestone_fields});
}

// The texts of agreements, each in one language.
void AddAgreementTextTypes(std::vector<EventTypeInfo>& types) {
  AddStandard(types, "accord.agreement_text.v1", "created",
              "text of an agreement", "accord.agreement.v1.AgreementText",
              "agreements/{agreement}/texts/{text}", kAgreementSource,
              {"institutions", "country_codes", "agreements", "restricted_to"});
}

// The notification service's: the health of webhook subscriptions.
void AddNotificationTypes(std::vector<EventTypeInfo>& types) {
  types.push_back(
      {"accord.notification.v1.subscription_failing",
       "A webhook subscription's endpoint has failed its deliveries past the "
       "failing threshold; the payload is the subscription with its delivery "
       "health. Never delivered to that subscription's own endpoint.",
       "accord.notification.v1.Subscription",
       "subscriptions/{subscription}",
       kNotificationSource,
       {"institutions", "restricted_to"}});
  types.push_back(
      {"accord.notification.v1.subscription_recovered",
       "A failing webhook subscription delivered successfully again.",
       "accord.notification.v1.Subscription",
       "subscriptions/{subscription}",
       kNotificationSource,
       {"institutions", "restricted_to"}});
}

std::vector<EventTypeInfo> BuildRegistry() {
  std::vector<EventTypeInfo> types;
  AddInstitutionTypes(types);
  AddAgreementTypes(types);
  AddCommitteeTypes(types);
  AddMilestoneTypes(types);
  AddAgreementTextTypes(types);
  AddNotificationTypes(types);
  return types;
}

}  // namespace

const std::vector<EventTypeInfo>& EventTypes() {
  static const auto* const types =
      new std::vector<EventTypeInfo>(BuildRegistry());
  return *types;
}

const EventTypeInfo* FindEventType(absl::string_view type) {
  for (const EventTypeInfo& info : EventTypes()) {
    if (info.type == type) return &info;
  }
  return nullptr;
}

bool MatchesAnyEventType(absl::string_view pattern) {
  if (!absl::EndsWith(pattern, ".*")) return FindEventType(pattern) != nullptr;
  const absl::string_view stem = pattern.substr(0, pattern.size() - 1);
  for (const EventTypeInfo& info : EventTypes()) {
    if (absl::StartsWith(info.type, stem)) return true;
  }
  return false;
}

bool IsInternalEventType(absl::string_view type) {
  return absl::StartsWith(type, kInternalEventPrefix);
}

std::string EventTypeList() {
  std::vector<absl::string_view> names;
  for (const EventTypeInfo& info : EventTypes()) names.push_back(info.type);
  return absl::StrJoin(names, ", ");
}

}  // namespace accord
