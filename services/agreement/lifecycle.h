#ifndef ACCORD_SERVICES_AGREEMENT_LIFECYCLE_H_
#define ACCORD_SERVICES_AGREEMENT_LIFECYCLE_H_

// An agreement's lifecycle as a per-party action log, after the depositary
// model: signature → approval by named bodies → ratification (or
// acceptance, or accession without signature) → entry into force →
// suspension, withdrawal, denunciation, termination or expiry. The state is
// always derived from the log, never stored on its own; each party's own
// dates come from party_timeline.h.
//
// Example:
//   ACCORD_RETURN_IF_ERROR(CheckAction(agreement, action, "action"));
//   *agreement.add_actions() = action;
//   DeriveLifecycle(agreement);  // state, party_statuses, effective_date

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "accord/agreement/v1/agreement.pb.h"

namespace accord::agreement {

// Checks that `action` can be appended to `agreement`'s log. INVALID_ARGUMENT
// for a malformed action or one that names a non-party or predates the
// signing; FAILED_PRECONDITION for a step out of order (ratifying before
// signing, signing twice, acting after termination). A joining step by an
// institution that is not a party (JoinsAsParty) is accepted as if it were
// one, if the agreement is open to accession (else FAILED_PRECONDITION,
// reason ACCESSION_CLOSED, on `field`.party); the caller then adds it to
// `parties`. Field paths start with `field`.
absl::Status CheckAction(const v1::Agreement& agreement,
                         const v1::AgreementAction& action,
                         absl::string_view field);

// Checks a whole log in order, as given on create: every action's party
// must be among `parties`.
absl::Status CheckActions(const v1::Agreement& agreement);

// Recomputes state, party_statuses (keeping their country codes) and
// effective_date from the actions and the entry-into-force rule.
void DeriveLifecycle(v1::Agreement& agreement);

// True if the agreement is in force on `date` (`YYYY-MM-DD`) for at least
// two parties (see party_timeline.h for the boundaries).
bool InForceOn(const v1::Agreement& agreement, absl::string_view date);

// Orders partial dates: `YYYY` and `YYYY-MM` stand for their first day.
int CompareDates(absl::string_view a, absl::string_view b);

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_LIFECYCLE_H_
