#include "services/agreement/lifecycle.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/agreement/party_timeline.h"

namespace accord::agreement {
namespace {

using v1::Agreement;
using v1::AgreementAction;
using Kind = AgreementAction::Kind;

std::string Padded(absl::string_view date) {
  if (date.size() == 4) return absl::StrCat(date, "-01-01");
  if (date.size() == 7) return absl::StrCat(date, "-01");
  return std::string(date);
}

bool IsPartyStep(Kind kind) {
  switch (kind) {
    case AgreementAction::KIND_SIGNATURE:
    case AgreementAction::KIND_APPROVAL:
    case AgreementAction::KIND_RATIFICATION:
    case AgreementAction::KIND_ACCEPTANCE:
    case AgreementAction::KIND_ACCESSION:
    case AgreementAction::KIND_WITHDRAWAL:
    case AgreementAction::KIND_DENUNCIATION:
    case AgreementAction::KIND_NOTIFICATION:
      return true;
    default:
      return false;
  }
}

std::string KindName(Kind kind) { return AgreementAction::Kind_Name(kind); }

// The facts about the log that the ordering rules need.
struct LogState {
  struct Party {
    bool signed_up = false;  // signed or acceded
    bool ratified = false;
    bool withdrawn = false;
    bool notified = false;
    bool in_force = false;   // an entry into force was recorded for it
    bool suspended = false;  // suspended for it alone
    std::string signature_date;
  };
  std::map<std::string, Party> parties;
  bool in_force = false;   // an entry into force for all was recorded
  bool suspended = false;  // suspended for all
  bool ended = false;      // terminated or expired
  std::string first_signature_date;

  bool AnyRecordedInForce() const {
    if (in_force) return true;
    for (const auto& [name, party] : parties) {
      if (party.in_force) return true;
    }
    return false;
  }

  void Apply(const AgreementAction& action) {
    Party& party = parties[action.party()];
    // An acceptance or approval by a party that has not signed stands in
    // for accession.
    const bool joins = IsJoiningStep(action) && !party.signed_up;
    switch (action.kind()) {
      case AgreementAction::KIND_SIGNATURE:
        party.signed_up = true;
        party.signature_date = action.action_date();
        break;
      case AgreementAction::KIND_ACCESSION:
      case AgreementAction::KIND_ACCEPTANCE:
      case AgreementAction::KIND_APPROVAL:
        if (joins) {
          party.signed_up = true;
          party.ratified = true;
          party.signature_date = action.action_date();
        } else if (action.kind() == AgreementAction::KIND_ACCEPTANCE) {
          party.ratified = true;
        }
        break;
      case AgreementAction::KIND_RATIFICATION:
        party.ratified = true;
        break;
      case AgreementAction::KIND_NOTIFICATION:
        party.notified = true;
        break;
      case AgreementAction::KIND_WITHDRAWAL:
      case AgreementAction::KIND_DENUNCIATION:
        party.withdrawn = true;
        break;
      case AgreementAction::KIND_ENTRY_INTO_FORCE:
        if (!action.party().empty()) {
          party.in_force = true;
          party.suspended = false;
        } else if (suspended) {
          // Resumes the agreement for everyone.
          suspended = false;
          for (auto& [name, each] : parties) each.suspended = false;
        } else {
          in_force = true;
        }
        break;
      case AgreementAction::KIND_SUSPENSION:
        if (action.party().empty()) {
          suspended = true;
        } else {
          party.suspended = true;
        }
        break;
      case AgreementAction::KIND_TERMINATION:
      case AgreementAction::KIND_EXPIRY:
        ended = true;
        break;
      default:
        break;
    }
    if (action.kind() == AgreementAction::KIND_SIGNATURE || joins) {
      if (first_signature_date.empty() ||
          CompareDates(action.action_date(), first_signature_date) < 0) {
        first_signature_date = action.action_date();
      }
    }
  }
};

LogState StateOf(const Agreement& agreement, int upto) {
  LogState state;
  for (int i = 0; i < upto && i < agreement.actions_size(); ++i) {
    state.Apply(agreement.actions(i));
  }
  return state;
}

// Whether the first `upto` actions bring the agreement into force between
// at least two parties, recorded or derived from its rule.
bool InForceByThen(const Agreement& agreement, const LogState& log, int upto) {
  if (log.AnyRecordedInForce()) return true;
  Agreement so_far = agreement;
  so_far.mutable_actions()->DeleteSubrange(upto, so_far.actions_size() - upto);
  return !DeriveTimelines(so_far).entry_into_force_date.empty();
}

absl::Status OutOfOrder(const std::string& field, const std::string& why) {
  return ErrorWithReason(absl::StatusCode::kFailedPrecondition, why,
                         "ACTION_OUT_OF_ORDER", field);
}

// What `log` knows of `name`; a party with no action yet if nothing.
LogState::Party PartyIn(const LogState& log, const std::string& name) {
  const auto found = log.parties.find(name);
  return found == log.parties.end() ? LogState::Party() : found->second;
}

// The action's own fields (kind, dates, party, sources), every problem at
// once. `joins`: the action makes a non-party a party.
absl::Status CheckActionFields(const Agreement& agreement,
                               const AgreementAction& action,
                               const LogState::Party& party,
                               const std::string& field, bool joins) {
  Violations violations;
  const Kind kind = action.kind();
  if (kind == AgreementAction::KIND_UNSPECIFIED ||
      !AgreementAction::Kind_IsValid(kind)) {
    violations.Add(field + ".kind", "must be set to a known action kind");
  }
  if (action.action_date().empty()) {
    violations.Add(field + ".action_date", "must be set");
  }
  violations.CheckPartialDate(field + ".action_date", action.action_date());
  violations.CheckPartialDate(field + ".effective_date",
                              action.effective_date());
  if (IsPartialDate(action.action_date()) &&
      IsPartialDate(action.effective_date()) &&
      CompareDates(action.effective_date(), action.action_date()) < 0) {
    violations.Add(field + ".effective_date", "is before action_date");
  }
  const bool is_party =
      std::find(agreement.parties().begin(), agreement.parties().end(),
                action.party()) != agreement.parties().end();
  if (action.party().empty()) {
    if (IsPartyStep(kind)) {
      violations.Add(field + ".party",
                     absl::StrCat("is required for ", KindName(kind)));
    }
  } else if (!is_party && !joins) {
    violations.Add(field + ".party",
                   absl::StrCat(action.party(), " is not a party of ",
                                agreement.name().empty() ? "the agreement"
                                                         : agreement.name()));
  }
  if (!agreement.signing_date().empty() &&
      IsPartialDate(action.action_date()) &&
      CompareDates(action.action_date(), agreement.signing_date()) < 0 &&
      !(IsJoiningStep(action) && !party.signed_up)) {
    violations.Add(
        field + ".action_date",
        absl::StrCat(action.action_date(), " is before the signing date ",
                     agreement.signing_date()));
  }
  for (int i = 0; i < action.sources_size(); ++i) {
    const std::string path = absl::StrCat(field, ".sources[", i, "]");
    violations.CheckText(path + ".publisher", action.sources(i).publisher(),
                         kMaxNameLength, true);
    violations.CheckHttpUrl(path + ".uri", action.sources(i).uri());
    violations.CheckPartialDate(path + ".publish_date",
                                action.sources(i).publish_date());
  }
  if (violations.empty()) return absl::OkStatus();
  return violations.ToStatus();
}

// A non-party joining an agreement that does not take accessions.
absl::Status AccessionClosed(const Agreement& agreement,
                             const AgreementAction& action,
                             const std::string& field) {
  return ErrorWithReason(
      absl::StatusCode::kFailedPrecondition,
      absl::StrCat(
          agreement.name().empty() ? "the agreement" : agreement.name(),
          agreement.accession() == Agreement::ACCESSION_CLOSED
              ? " is closed to accession"
              : " is bilateral and not open to accession (set accession "
                "to ACCESSION_OPEN)",
          "; ", action.party(), " is not a party"),
      "ACCESSION_CLOSED", field + ".party");
}

// Approval, ratification, acceptance, withdrawal, denunciation and
// notification: a party's own steps, after its signature.
absl::Status CheckPartyStepOrder(const AgreementAction& action,
                                 const LogState::Party& party,
                                 const std::string& field) {
  const Kind kind = action.kind();
  // Acceptance or approval without signature: in place of accession.
  if (!party.signed_up && IsJoiningStep(action)) return absl::OkStatus();
  if (!party.signed_up) {
    return OutOfOrder(field + ".kind",
                      absl::StrCat(KindName(kind), " by ", action.party(),
                                   " before it signed"));
  }
  if (CompareDates(action.action_date(), party.signature_date) < 0) {
    return OutOfOrder(
        field + ".action_date",
        absl::StrCat(action.action_date(), " is before ", action.party(),
                     "'s signature on ", party.signature_date));
  }
  if (party.withdrawn) {
    return OutOfOrder(field + ".kind",
                      absl::StrCat(action.party(), " has withdrawn"));
  }
  if ((kind == AgreementAction::KIND_RATIFICATION ||
       kind == AgreementAction::KIND_ACCEPTANCE) &&
      party.ratified) {
    return OutOfOrder(field + ".kind",
                      absl::StrCat(action.party(), " has already ratified"));
  }
  if (kind == AgreementAction::KIND_NOTIFICATION && party.notified) {
    return OutOfOrder(field + ".kind",
                      absl::StrCat(action.party(), " has already notified"));
  }
  return absl::OkStatus();
}

// An entry into force, for all or for one party: after the first
// signature, and not while already in force.
absl::Status CheckEntryIntoForceOrder(const LogState& log,
                                      const AgreementAction& action,
                                      const LogState::Party& party,
                                      const std::string& field) {
  if (log.first_signature_date.empty()) {
    return OutOfOrder(field + ".kind", "entry into force before any signature");
  }
  if (action.party().empty() && log.in_force && !log.suspended) {
    return OutOfOrder(field + ".kind", "the agreement is already in force");
  }
  if (!action.party().empty() && party.in_force && !party.suspended &&
      !log.suspended) {
    return OutOfOrder(
        field + ".kind",
        absl::StrCat("the agreement is already in force for ", action.party()));
  }
  if (CompareDates(action.action_date(), log.first_signature_date) < 0) {
    return OutOfOrder(field + ".action_date",
                      "entry into force is before the first signature");
  }
  return absl::OkStatus();
}

// The ordering rules, judged against the first `upto` actions (`log`).
absl::Status CheckOrder(const Agreement& agreement, const LogState& log,
                        int upto, const AgreementAction& action,
                        const LogState::Party& party,
                        const std::string& field) {
  if (log.ended) {
    return OutOfOrder(field + ".kind",
                      "the agreement has been terminated or has expired");
  }
  // Every party having withdrawn terminates the agreement too (see
  // DeriveLifecycle), so nothing may follow.
  if (!agreement.parties().empty() &&
      std::all_of(agreement.parties().begin(), agreement.parties().end(),
                  [&log](const std::string& name) {
                    const auto it = log.parties.find(name);
                    return it != log.parties.end() && it->second.withdrawn;
                  })) {
    return OutOfOrder(field + ".kind", "every party has withdrawn");
  }
  const Kind kind = action.kind();
  switch (kind) {
    case AgreementAction::KIND_SIGNATURE:
    case AgreementAction::KIND_ACCESSION:
      if (party.signed_up) {
        return OutOfOrder(
            field + ".kind",
            absl::StrCat(action.party(), " has already signed or acceded"));
      }
      return absl::OkStatus();
    case AgreementAction::KIND_APPROVAL:
    case AgreementAction::KIND_RATIFICATION:
    case AgreementAction::KIND_ACCEPTANCE:
    case AgreementAction::KIND_WITHDRAWAL:
    case AgreementAction::KIND_DENUNCIATION:
    case AgreementAction::KIND_NOTIFICATION:
      return CheckPartyStepOrder(action, party, field);
    case AgreementAction::KIND_ENTRY_INTO_FORCE:
      return CheckEntryIntoForceOrder(log, action, party, field);
    case AgreementAction::KIND_SUSPENSION:
      if (log.suspended || party.suspended ||
          !InForceByThen(agreement, log, upto)) {
        return OutOfOrder(field + ".kind",
                          "only an agreement in force can be suspended");
      }
      return absl::OkStatus();
    case AgreementAction::KIND_TERMINATION:
    case AgreementAction::KIND_EXPIRY:
      if (log.first_signature_date.empty()) {
        return OutOfOrder(
            field + ".kind",
            absl::StrCat(KindName(kind), " before any signature"));
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

// `upto`: how many of the agreement's actions `log` holds. `may_join`: an
// institution that is not a party may join by this action (recorded alone,
// not in a log given whole).
absl::Status CheckActionAgainst(const Agreement& agreement, const LogState& log,
                                int upto, const AgreementAction& action,
                                const std::string& field, bool may_join) {
  const bool joins = may_join && JoinsAsParty(agreement, action);
  const LogState::Party party = PartyIn(log, action.party());
  ACCORD_RETURN_IF_ERROR(
      CheckActionFields(agreement, action, party, field, joins));
  if (joins && !OpenToAccession(agreement)) {
    return AccessionClosed(agreement, action, field);
  }
  return CheckOrder(agreement, log, upto, action, party, field);
}

}  // namespace

int CompareDates(absl::string_view a, absl::string_view b) {
  const std::string left = Padded(a);
  const std::string right = Padded(b);
  return left < right ? -1 : (left > right ? 1 : 0);
}

absl::Status CheckAction(const Agreement& agreement,
                         const AgreementAction& action,
                         absl::string_view field) {
  return CheckActionAgainst(
      agreement, StateOf(agreement, agreement.actions_size()),
      agreement.actions_size(), action, std::string(field), true);
}

absl::Status CheckActions(const Agreement& agreement) {
  LogState log;
  for (int i = 0; i < agreement.actions_size(); ++i) {
    const absl::Status status =
        CheckActionAgainst(agreement, log, i, agreement.actions(i),
                           absl::StrCat("agreement.actions[", i, "]"), false);
    if (!status.ok()) return status;
    log.Apply(agreement.actions(i));
  }
  return absl::OkStatus();
}

void DeriveLifecycle(Agreement& agreement) {
  const LogState log = StateOf(agreement, agreement.actions_size());
  // Countries come from the institution service, not from the log: keep
  // what the service set.
  std::map<std::string, std::string> countries;
  for (const v1::PartyStatus& status : agreement.party_statuses()) {
    countries[status.party()] = status.country_code();
  }
  Timelines timelines = DeriveTimelines(agreement);
  agreement.clear_party_statuses();
  bool all_signed = agreement.parties_size() > 0;
  bool all_ratified = agreement.parties_size() > 0;
  bool all_withdrawn = agreement.parties_size() > 0;
  for (v1::PartyStatus& timeline : timelines.parties) {
    v1::PartyStatus* status = agreement.add_party_statuses();
    *status = std::move(timeline);
    const std::string& party = status->party();
    status->set_country_code(countries[party]);
    const auto found = log.parties.find(party);
    if (found != log.parties.end()) {
      status->set_signed_or_acceded(found->second.signed_up);
      status->set_ratified(found->second.ratified);
      status->set_withdrawn(found->second.withdrawn);
    }
    for (const AgreementAction& action : agreement.actions()) {
      if (action.party() == party) {
        status->set_latest_step(action.kind());
        status->set_latest_step_date(action.action_date());
      }
    }
    all_signed = all_signed && status->signed_or_acceded();
    all_ratified = all_ratified && status->ratified();
    all_withdrawn = all_withdrawn && status->withdrawn();
  }
  bool expired = false;
  bool terminated = false;
  for (const AgreementAction& action : agreement.actions()) {
    if (action.kind() == AgreementAction::KIND_EXPIRY) expired = true;
    if (action.kind() == AgreementAction::KIND_TERMINATION) terminated = true;
  }
  agreement.set_effective_date(timelines.entry_into_force_date);
  Agreement::State state = Agreement::STATE_PENDING_SIGNATURE;
  if (expired) {
    state = Agreement::STATE_EXPIRED;
  } else if (terminated || all_withdrawn) {
    state = Agreement::STATE_TERMINATED;
  } else if (log.in_force || !agreement.effective_date().empty()) {
    state =
        log.suspended ? Agreement::STATE_SUSPENDED : Agreement::STATE_IN_FORCE;
  } else if (all_ratified) {
    state = Agreement::STATE_RATIFIED;
  } else if (all_signed) {
    state = Agreement::STATE_SIGNED;
  }
  agreement.set_state(state);
}

bool InForceOn(const Agreement& agreement, absl::string_view date) {
  int in_force = 0;
  for (const v1::PartyStatus& party : DeriveTimelines(agreement).parties) {
    if (StandingOn(party, date) == v1::PartyStanding::STATE_IN_FORCE) {
      ++in_force;
    }
  }
  return in_force >= 2;
}

}  // namespace accord::agreement
