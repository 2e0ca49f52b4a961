#ifndef ACCORD_SERVICES_AGREEMENT_PARTY_TIMELINE_H_
#define ACCORD_SERVICES_AGREEMENT_PARTY_TIMELINE_H_

// Who is bound by an agreement, and since when. Each party has its own
// dates, derived from the action log and the agreement's entry-into-force
// rule: when it consented to be bound, when the agreement entered into
// force for it, when it stopped being bound, and its suspensions. A
// multilateral agreement can be in force between some parties and not
// others on the same day.
//
// Boundaries, on every date question: a party is bound from its
// entry-into-force date on (that day included); a suspension applies from
// its first day to the day before the entry into force that ends it; a
// party has ceased to be bound from the day its withdrawal or denunciation
// (or the termination or expiry) takes effect (that day included). Partial
// dates (`YYYY`, `YYYY-MM`) stand for their first day.
//
// Example:
//   const Timelines timelines = DeriveTimelines(agreement);
//   for (const v1::PartyStatus& party : timelines.parties) {
//     if (StandingOn(party, "2026-01-01") ==
//         v1::PartyStanding::STATE_IN_FORCE) { ... }
//   }

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "accord/agreement/v1/agreement.pb.h"

namespace accord::agreement {

// The entry-into-force rule that applies: the agreement's own, else the
// default of its kind (on signature for memoranda of understanding, joint
// statements and roadmaps; recorded only for the others).
v1::EntryIntoForceRule::Kind RuleKindOf(const v1::Agreement& agreement);

// Whether an institution that is not a party may join by accession: as
// `accession` says, or by default when the agreement has three or more
// parties.
bool OpenToAccession(const v1::Agreement& agreement);

// True for the party's own instrument of approval: an approval without an
// acting body, or with the party itself acting (not a chamber's vote).
bool IsInstrumentOfApproval(const v1::AgreementAction& action);

// True for a step by which an institution that has not signed joins: an
// accession, or an acceptance or instrument of approval in its place.
bool IsJoiningStep(const v1::AgreementAction& action);

// True if recording `action` makes its party a party of `agreement`: a
// joining step by an institution not among `parties`.
bool JoinsAsParty(const v1::Agreement& agreement,
                  const v1::AgreementAction& action);

struct Timelines {
  // One per party, in the order of `parties`, with `party`,
  // `signature_date`, `acceded`, `consent_*`, `entry_into_force_*`,
  // `end_*` and `suspensions` set (progress and country are left to
  // DeriveLifecycle and the service).
  std::vector<v1::PartyStatus> parties;
  // The agreement's own entry-into-force date: a recorded entry into force
  // for all, else the first day on which at least two parties were in
  // force; empty if neither.
  std::string entry_into_force_date;
};

// Derives every party's timeline. Actions naming institutions that are not
// parties are ignored.
Timelines DeriveTimelines(const v1::Agreement& agreement);

// A party's entry into force, for what is built on it (the scheduled
// `entered_into_force` event).
struct PartyEntryIntoForce {
  std::string party;
  std::string date;  // as PartyStatus.entry_into_force_date
  bool derived = false;
};

// Each party's entry-into-force date (recorded, else derived from the
// rule); parties without one are left out.
std::vector<PartyEntryIntoForce> EntryIntoForceDates(
    const v1::Agreement& agreement);

// Where a party stood on `date` (`YYYY-MM-DD`), from its timeline.
v1::PartyStanding::State StandingOn(const v1::PartyStatus& party,
                                    absl::string_view date);

// `date` (a partial date counts as its first day) plus `days`, as
// `YYYY-MM-DD`; "" if `date` is not a date.
std::string AddDays(absl::string_view date, int days);

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_PARTY_TIMELINE_H_
