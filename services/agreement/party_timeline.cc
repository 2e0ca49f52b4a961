#include "services/agreement/party_timeline.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/agreement/lifecycle.h"

namespace accord::agreement {
namespace {

using v1::Agreement;
using v1::AgreementAction;
using v1::EntryIntoForceRule;
using v1::PartyStanding;
using v1::PartyStatus;
using Kind = AgreementAction::Kind;
using RuleKind = EntryIntoForceRule::Kind;

std::string EffectiveDateOf(const AgreementAction& action) {
  return action.effective_date().empty() ? action.action_date()
                                         : action.effective_date();
}

// Of two dates, the later; an empty one is unknown, so the result is too.
std::string LaterOf(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return "";
  return CompareDates(a, b) >= 0 ? a : b;
}

// Keeps the earlier of `date` and `current` in `current` (empty: none yet).
template <typename Step>
void KeepEarlier(const std::string& date, Step step, std::string& current,
                 Step& current_step) {
  if (date.empty()) return;
  if (current.empty() || CompareDates(date, current) < 0) {
    current = date;
    current_step = step;
  }
}

bool IsInstrument(const AgreementAction& action) {
  switch (action.kind()) {
    case AgreementAction::KIND_RATIFICATION:
    case AgreementAction::KIND_ACCEPTANCE:
    case AgreementAction::KIND_ACCESSION:
      return true;
    case AgreementAction::KIND_APPROVAL:
      return IsInstrumentOfApproval(action);
    default:
      return false;
  }
}

// What the log says about one party, replayed in recording order.
struct Facts {
  std::string signature;
  bool acceded = false;
  std::string join;  // the joining step's date, when acceded
  Kind join_step = AgreementAction::KIND_UNSPECIFIED;
  std::string instrument;  // first ratification, acceptance, approval or
                           // accession
  Kind instrument_step = AgreementAction::KIND_UNSPECIFIED;
  std::string notification;
  std::string recorded_entry;  // its own entry into force (not a resumption)
  std::string end;
  Kind end_step = AgreementAction::KIND_UNSPECIFIED;
  std::vector<v1::SuspensionPeriod> suspensions;
  bool suspended = false;  // a period is open

  // The step by which it became a party: signature or joining.
  const std::string& entry_step() const { return acceded ? join : signature; }

  void Suspend(const std::string& date) {
    if (suspended) return;
    suspended = true;
    suspensions.emplace_back().set_start_date(date);
  }
  // True if this ended a suspension.
  bool Resume(const std::string& date) {
    if (!suspended) return false;
    suspended = false;
    suspensions.back().set_end_date(date);
    return true;
  }
};

struct Log {
  std::map<std::string, Facts> parties;
  std::string general_entry;  // recorded entry into force for all
  bool suspended_for_all = false;
  std::string end;  // termination, expiry action or expiry_date
  Kind end_step = AgreementAction::KIND_UNSPECIFIED;
};

Log Replay(const Agreement& agreement) {
  Log log;
  for (const std::string& party : agreement.parties()) log.parties[party];
  for (const AgreementAction& action : agreement.actions()) {
    const std::string effective = EffectiveDateOf(action);
    const auto found = log.parties.find(action.party());
    if (!action.party().empty() && found == log.parties.end()) continue;
    Facts* party = action.party().empty() ? nullptr : &found->second;
    const bool whole =
        action.kind() == AgreementAction::KIND_ENTRY_INTO_FORCE ||
        action.kind() == AgreementAction::KIND_SUSPENSION ||
        action.kind() == AgreementAction::KIND_TERMINATION ||
        action.kind() == AgreementAction::KIND_EXPIRY;
    if (party == nullptr && !whole) continue;  // a party's step without one
    switch (action.kind()) {
      case AgreementAction::KIND_SIGNATURE:
        if (party->signature.empty() && !party->acceded) {
          party->signature = action.action_date();
        }
        break;
      case AgreementAction::KIND_ACCESSION:
      case AgreementAction::KIND_ACCEPTANCE:
      case AgreementAction::KIND_APPROVAL:
      case AgreementAction::KIND_RATIFICATION:
        if (IsJoiningStep(action) && party->signature.empty() &&
            !party->acceded) {
          party->acceded = true;
          party->join = action.action_date();
          party->join_step = action.kind();
        }
        if (IsInstrument(action)) {
          KeepEarlier(action.action_date(), action.kind(), party->instrument,
                      party->instrument_step);
        }
        break;
      case AgreementAction::KIND_NOTIFICATION:
        if (party->notification.empty()) {
          party->notification = action.action_date();
        }
        break;
      case AgreementAction::KIND_ENTRY_INTO_FORCE:
        if (party != nullptr) {
          if (!party->Resume(effective) && party->recorded_entry.empty()) {
            party->recorded_entry = effective;
          }
        } else if (log.suspended_for_all) {
          log.suspended_for_all = false;
          for (auto& [name, facts] : log.parties) facts.Resume(effective);
        } else if (log.general_entry.empty()) {
          log.general_entry = effective;
        }
        break;
      case AgreementAction::KIND_SUSPENSION:
        if (party != nullptr) {
          party->Suspend(effective);
        } else {
          log.suspended_for_all = true;
          for (auto& [name, facts] : log.parties) facts.Suspend(effective);
        }
        break;
      case AgreementAction::KIND_WITHDRAWAL:
      case AgreementAction::KIND_DENUNCIATION:
        KeepEarlier(effective, action.kind(), party->end, party->end_step);
        break;
      case AgreementAction::KIND_TERMINATION:
      case AgreementAction::KIND_EXPIRY:
        KeepEarlier(effective, action.kind(), log.end, log.end_step);
        break;
      default:
        break;
    }
  }
  KeepEarlier(agreement.expiry_date(), AgreementAction::KIND_EXPIRY, log.end,
              log.end_step);
  return log;
}

// The party's own step that the rule waits for.
std::string RuleStep(RuleKind rule, const Facts& facts,
                     const std::string& consent) {
  switch (rule) {
    case EntryIntoForceRule::KIND_ON_FIXED_DATE:
      return consent;
    case EntryIntoForceRule::KIND_ON_LAST_NOTIFICATION:
      return facts.acceded ? facts.join : facts.notification;
    case EntryIntoForceRule::KIND_ON_LAST_RATIFICATION:
    case EntryIntoForceRule::KIND_AFTER_INSTRUMENTS:
      return facts.instrument;
    default:  // on signature, recorded only
      return facts.entry_step();
  }
}

// A party's consent to be bound (its date and the step that gave it) and
// its own step the rule waits for.
struct PartySteps {
  std::string consent;
  Kind consent_step = AgreementAction::KIND_UNSPECIFIED;
  std::string rule_step;
};

std::map<std::string, PartySteps> StepsOf(const Log& log, RuleKind rule) {
  const bool signature_binds = rule == EntryIntoForceRule::KIND_ON_SIGNATURE ||
                               rule == EntryIntoForceRule::KIND_ON_FIXED_DATE;
  std::map<std::string, PartySteps> steps;
  for (const auto& [name, facts] : log.parties) {
    PartySteps& party = steps[name];
    if (facts.acceded) {
      party.consent = facts.join;
      party.consent_step = facts.join_step;
    } else {
      if (signature_binds) {
        KeepEarlier(facts.signature, AgreementAction::KIND_SIGNATURE,
                    party.consent, party.consent_step);
      }
      KeepEarlier(facts.instrument, facts.instrument_step, party.consent,
                  party.consent_step);
      KeepEarlier(facts.notification, AgreementAction::KIND_NOTIFICATION,
                  party.consent, party.consent_step);
    }
    party.rule_step = RuleStep(rule, facts, party.consent);
  }
  return steps;
}

// The general entry into force the rule derives: when it happens, and the
// last day a party's own step may fall on to be carried by it.
struct General {
  std::string date;
  std::string trigger;
  bool derived = false;
};

General GeneralEntry(const Agreement& agreement, RuleKind rule,
                     const std::map<std::string, PartySteps>& steps,
                     const Log& log) {
  General general;
  if (!log.general_entry.empty()) {
    general.date = general.trigger = log.general_entry;
    return general;
  }
  general.derived = true;
  switch (rule) {
    case EntryIntoForceRule::KIND_ON_SIGNATURE:
    case EntryIntoForceRule::KIND_ON_LAST_NOTIFICATION:
    case EntryIntoForceRule::KIND_ON_LAST_RATIFICATION: {
      // "By all": every party that did not join by accession; acceding
      // parties never hold the agreement back.
      bool all_acceded = true;
      for (const auto& [name, facts] : log.parties) {
        all_acceded = all_acceded && facts.acceded;
      }
      std::string last;
      for (const auto& [name, facts] : log.parties) {
        if (facts.acceded && !all_acceded) continue;
        const std::string& step = steps.at(name).rule_step;
        if (step.empty()) return General();
        if (last.empty() || CompareDates(step, last) > 0) last = step;
      }
      general.date = general.trigger = last;
      break;
    }
    case EntryIntoForceRule::KIND_ON_FIXED_DATE:
      general.date = general.trigger =
          agreement.entry_into_force_rule().fixed_date();
      break;
    case EntryIntoForceRule::KIND_AFTER_INSTRUMENTS: {
      const int needed = agreement.entry_into_force_rule().instrument_count();
      std::vector<std::string> instruments;
      for (const auto& [name, step] : steps) {
        if (!step.rule_step.empty()) instruments.push_back(step.rule_step);
      }
      std::sort(instruments.begin(), instruments.end(),
                [](const std::string& a, const std::string& b) {
                  return CompareDates(a, b) < 0;
                });
      if (needed < 1 || static_cast<int>(instruments.size()) < needed) break;
      general.trigger = instruments[needed - 1];
      general.date = AddDays(general.trigger,
                             agreement.entry_into_force_rule().days_after());
      break;
    }
    default:
      break;
  }
  return general;
}

// For a party whose step comes after the general entry into force: the
// date the rule gives it on its own.
std::string LateEntry(const Agreement& agreement, RuleKind rule,
                      const std::string& step, const std::string& consent) {
  switch (rule) {
    case EntryIntoForceRule::KIND_ON_SIGNATURE:
    case EntryIntoForceRule::KIND_ON_LAST_NOTIFICATION:
    case EntryIntoForceRule::KIND_ON_LAST_RATIFICATION:
      return step;
    case EntryIntoForceRule::KIND_AFTER_INSTRUMENTS:
      return step.empty()
                 ? ""
                 : AddDays(step,
                           agreement.entry_into_force_rule().days_after());
    default:  // fixed date, recorded only: bound from its consent
      return consent;
  }
}

// A party's entry into force (empty: none) and whether the rule derived
// it rather than an action recording it.
struct Entry {
  std::string date;
  bool derived = false;
};

Entry EntryOf(const Agreement& agreement, RuleKind rule, const General& general,
              const Facts& facts, const PartySteps& steps) {
  if (!facts.recorded_entry.empty()) return {facts.recorded_entry, false};
  if (general.date.empty()) return {};
  // A recorded entry into force for all carries every party that had
  // signed or joined by then; a derived one, every party whose own step
  // the rule counted.
  const std::string& step =
      general.derived ? steps.rule_step : facts.entry_step();
  if (!step.empty() && CompareDates(step, general.trigger) <= 0) {
    return {general.date, general.derived};
  }
  return {LaterOf(general.date,
                  LateEntry(agreement, rule, steps.rule_step, steps.consent)),
          true};
}

// Only the suspensions that fell within the party's time in force, from
// `entry` to its end date.
void AddSuspensionsInForce(const Facts& facts, const std::string& entry,
                           PartyStatus& status) {
  for (const v1::SuspensionPeriod& period : facts.suspensions) {
    if (!period.end_date().empty() &&
        CompareDates(period.end_date(), entry) <= 0) {
      continue;
    }
    if (!status.end_date().empty() &&
        CompareDates(period.start_date(), status.end_date()) >= 0) {
      continue;
    }
    *status.add_suspensions() = period;
  }
}

// The timeline of party `name`, whose actions gave `facts`.
PartyStatus TimelineOf(const Agreement& agreement, RuleKind rule,
                       const General& general, const Log& log,
                       const std::string& name, const Facts& facts,
                       const PartySteps& steps) {
  PartyStatus status;
  status.set_party(name);
  status.set_signature_date(facts.signature);
  status.set_acceded(facts.acceded);
  const Entry entry = EntryOf(agreement, rule, general, facts, steps);
  std::string consent = steps.consent;
  Kind consent_step = steps.consent_step;
  if (consent.empty() && !entry.date.empty() && !facts.signature.empty()) {
    // In force without any other instrument: bound by its signature.
    consent = facts.signature;
    consent_step = AgreementAction::KIND_SIGNATURE;
  }
  status.set_consent_date(consent);
  status.set_consent_step(consent_step);
  status.set_entry_into_force_date(entry.date);
  status.set_entry_into_force_derived(!entry.date.empty() && entry.derived);
  if (!facts.entry_step().empty()) {
    std::string end = facts.end;
    Kind end_step = facts.end_step;
    KeepEarlier(log.end, log.end_step, end, end_step);
    status.set_end_date(end);
    status.set_end_step(end_step);
  }
  if (!entry.date.empty()) AddSuspensionsInForce(facts, entry.date, status);
  return status;
}

}  // namespace

RuleKind RuleKindOf(const Agreement& agreement) {
  const RuleKind kind = agreement.entry_into_force_rule().kind();
  if (kind != EntryIntoForceRule::KIND_UNSPECIFIED) return kind;
  switch (agreement.kind()) {
    case Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING:
    case Agreement::KIND_JOINT_STATEMENT:
    case Agreement::KIND_ROADMAP:
      return EntryIntoForceRule::KIND_ON_SIGNATURE;
    default:
      return EntryIntoForceRule::KIND_RECORDED_ONLY;
  }
}

bool OpenToAccession(const Agreement& agreement) {
  switch (agreement.accession()) {
    case Agreement::ACCESSION_OPEN:
      return true;
    case Agreement::ACCESSION_CLOSED:
      return false;
    default:
      return agreement.parties_size() >= 3;
  }
}

bool IsInstrumentOfApproval(const AgreementAction& action) {
  return action.kind() == AgreementAction::KIND_APPROVAL &&
         (action.acting_body().empty() ||
          action.acting_body() == action.party());
}

bool IsJoiningStep(const AgreementAction& action) {
  return action.kind() == AgreementAction::KIND_ACCESSION ||
         action.kind() == AgreementAction::KIND_ACCEPTANCE ||
         IsInstrumentOfApproval(action);
}

bool JoinsAsParty(const Agreement& agreement, const AgreementAction& action) {
  return !action.party().empty() && IsJoiningStep(action) &&
         std::find(agreement.parties().begin(), agreement.parties().end(),
                   action.party()) == agreement.parties().end();
}

Timelines DeriveTimelines(const Agreement& agreement) {
  const Log log = Replay(agreement);
  const RuleKind rule = RuleKindOf(agreement);
  const std::map<std::string, PartySteps> steps = StepsOf(log, rule);
  const General general = GeneralEntry(agreement, rule, steps, log);

  Timelines timelines;
  std::vector<std::string> entries;
  for (const std::string& name : agreement.parties()) {
    const auto found = log.parties.find(name);
    if (found == log.parties.end()) continue;  // a repeated party
    PartyStatus& status = timelines.parties.emplace_back(TimelineOf(
        agreement, rule, general, log, name, found->second, steps.at(name)));
    if (!status.entry_into_force_date().empty()) {
      entries.push_back(status.entry_into_force_date());
    }
  }
  if (!general.date.empty() && !general.derived) {
    timelines.entry_into_force_date = general.date;
  } else if (entries.size() >= 2) {
    std::sort(entries.begin(), entries.end(),
              [](const std::string& a, const std::string& b) {
                return CompareDates(a, b) < 0;
              });
    timelines.entry_into_force_date = entries[1];
  }
  return timelines;
}

std::vector<PartyEntryIntoForce> EntryIntoForceDates(
    const Agreement& agreement) {
  std::vector<PartyEntryIntoForce> dates;
  for (const PartyStatus& status : DeriveTimelines(agreement).parties) {
    if (status.entry_into_force_date().empty()) continue;
    dates.push_back({status.party(), status.entry_into_force_date(),
                     status.entry_into_force_derived()});
  }
  return dates;
}

PartyStanding::State StandingOn(const PartyStatus& party,
                                absl::string_view date) {
  auto reached = [date](const std::string& day) {
    return !day.empty() && CompareDates(day, date) <= 0;
  };
  if (reached(party.end_date())) return PartyStanding::STATE_CEASED;
  if (reached(party.entry_into_force_date())) {
    for (const v1::SuspensionPeriod& period : party.suspensions()) {
      if (reached(period.start_date()) &&
          (period.end_date().empty() || !reached(period.end_date()))) {
        return PartyStanding::STATE_SUSPENDED;
      }
    }
    return PartyStanding::STATE_IN_FORCE;
  }
  if (reached(party.consent_date())) return PartyStanding::STATE_CONSENTED;
  if (reached(party.signature_date())) return PartyStanding::STATE_SIGNED;
  return PartyStanding::STATE_NOT_BOUND;
}

std::string AddDays(absl::string_view date, int days) {
  std::string full(date);
  if (full.size() == 4) absl::StrAppend(&full, "-01-01");
  if (full.size() == 7) absl::StrAppend(&full, "-01");
  absl::CivilDay day;
  if (!absl::ParseCivilTime(full, &day)) return "";
  return absl::FormatCivilTime(day + days);
}

}  // namespace accord::agreement
