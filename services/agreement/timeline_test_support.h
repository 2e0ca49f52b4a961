#ifndef ACCORD_SERVICES_AGREEMENT_TIMELINE_TEST_SUPPORT_H_
#define ACCORD_SERVICES_AGREEMENT_TIMELINE_TEST_SUPPORT_H_

// Builders shared by the unit tests of party timelines and accession:
// actions, agreements, and recording an action the way
// RecordAgreementAction does (check, add a joining party, append, derive).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "accord/agreement/v1/agreement.pb.h"
#include "services/agreement/lifecycle.h"
#include "services/agreement/party_timeline.h"

namespace accord::agreement::testing {

inline v1::AgreementAction Action(v1::AgreementAction::Kind kind,
                                  const std::string& party,
                                  const std::string& action_date,
                                  const std::string& effective_date = "") {
  v1::AgreementAction action;
  action.set_kind(kind);
  action.set_party(party);
  action.set_action_date(action_date);
  action.set_effective_date(effective_date);
  return action;
}

// An approval by `body` (a chamber, say) for `party`.
inline v1::AgreementAction ApprovalBy(const std::string& party,
                                      const std::string& body,
                                      const std::string& action_date) {
  v1::AgreementAction action =
      Action(v1::AgreementAction::KIND_APPROVAL, party, action_date);
  action.set_acting_body(body);
  return action;
}

// An agreement of `kind` between `parties`, named `agreements/{id}`.
inline v1::Agreement Between(v1::Agreement::Kind kind,
                             const std::vector<std::string>& parties,
                             const std::string& id = "test") {
  v1::Agreement agreement;
  agreement.set_name("agreements/" + id);
  agreement.add_titles()->set_text("Test agreement");
  agreement.set_kind(kind);
  for (const std::string& party : parties) agreement.add_parties(party);
  return agreement;
}

// Checks `action`, adds its party if it joins, appends it and derives the
// lifecycle, as RecordAgreementAction does.
inline ::testing::AssertionResult Record(v1::Agreement& agreement,
                                         const v1::AgreementAction& action) {
  const absl::Status status = CheckAction(agreement, action, "action");
  if (!status.ok()) {
    return ::testing::AssertionFailure()
           << v1::AgreementAction::Kind_Name(action.kind()) << " by \""
           << action.party() << "\" on " << action.action_date()
           << " rejected: " << status;
  }
  if (JoinsAsParty(agreement, action)) agreement.add_parties(action.party());
  *agreement.add_actions() = action;
  DeriveLifecycle(agreement);
  return ::testing::AssertionSuccess();
}

// Signature by each of `parties` on `date`.
inline void SignAll(v1::Agreement& agreement,
                    const std::vector<std::string>& parties,
                    const std::string& date) {
  for (const std::string& party : parties) {
    EXPECT_TRUE(Record(
        agreement, Action(v1::AgreementAction::KIND_SIGNATURE, party, date)));
  }
}

// The derived status of `party` (a failure if it has none).
inline v1::PartyStatus StatusOf(const v1::Agreement& agreement,
                                const std::string& party) {
  for (const v1::PartyStatus& status : agreement.party_statuses()) {
    if (status.party() == party) return status;
  }
  ADD_FAILURE() << "no party status for " << party;
  return v1::PartyStatus();
}

// Where `party` stands on `date`, as a name for readable failures.
inline std::string Standing(const v1::Agreement& agreement,
                            const std::string& party, const std::string& date) {
  return v1::PartyStanding::State_Name(
      StandingOn(StatusOf(agreement, party), date));
}

}  // namespace accord::agreement::testing

#endif  // ACCORD_SERVICES_AGREEMENT_TIMELINE_TEST_SUPPORT_H_
