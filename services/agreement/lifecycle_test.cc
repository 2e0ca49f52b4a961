#include "services/agreement/lifecycle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "accord/agreement/v1/agreement.pb.h"
#include "common/errors.h"

namespace accord::agreement {
namespace {

using v1::Agreement;
using v1::AgreementAction;
using v1::PartyStatus;

constexpr char kIran[] = "institutions/iran";
constexpr char kRussia[] = "institutions/russia";
constexpr char kBelarus[] = "institutions/belarus";

// The violated fields of `status`, in the order they were reported.
std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& violation : FieldViolationsOf(status)) {
    fields.push_back(violation.field);
  }
  return fields;
}

// Expects `code` naming exactly `fields`, in order.
void ExpectRejected(const absl::Status& status, absl::StatusCode code,
                    const std::vector<std::string>& fields) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(FieldsOf(status), fields) << status;
}

// An out-of-order step: FAILED_PRECONDITION with reason ACTION_OUT_OF_ORDER
// naming `field`.
void ExpectOutOfOrder(const absl::Status& status, const std::string& field) {
  ExpectRejected(status, absl::StatusCode::kFailedPrecondition, {field});
  EXPECT_EQ(ReasonOf(status), "ACTION_OUT_OF_ORDER") << status;
}

AgreementAction Action(AgreementAction::Kind kind, const std::string& party,
                       const std::string& action_date,
                       const std::string& effective_date = "") {
  AgreementAction action;
  action.set_kind(kind);
  action.set_party(party);
  action.set_action_date(action_date);
  action.set_effective_date(effective_date);
  return action;
}

AgreementAction Approval(const std::string& party, const std::string& body,
                         const std::string& action_date) {
  AgreementAction action =
      Action(AgreementAction::KIND_APPROVAL, party, action_date);
  action.set_acting_body(body);
  return action;
}

// The Iran-Russia treaty of the seed data, before any action.
Agreement Treaty() {
  Agreement agreement;
  agreement.set_name(
      "agreements/iran-russia-comprehensive-strategic-partnership");
  agreement.add_titles()->set_text(
      "Treaty on the Comprehensive Strategic Partnership between the Islamic "
      "Republic of Iran and the Russian Federation");
  agreement.set_kind(Agreement::KIND_TREATY);
  agreement.add_parties(kIran);
  agreement.add_parties(kRussia);
  agreement.set_signing_date("2025-01-17");
  return agreement;
}

// Checks `action` against `agreement`, then appends it and derives the
// lifecycle, as RecordAgreementAction does.
testing::AssertionResult Record(Agreement& agreement,
                                const AgreementAction& action) {
  const absl::Status status = CheckAction(agreement, action, "action");
  if (!status.ok()) {
    return testing::AssertionFailure()
           << AgreementAction::Kind_Name(action.kind()) << " by \""
           << action.party() << "\" on " << action.action_date()
           << " rejected: " << status;
  }
  *agreement.add_actions() = action;
  DeriveLifecycle(agreement);
  return testing::AssertionSuccess();
}

// The treaty signed by both parties on the signing date.
Agreement SignedTreaty() {
  Agreement agreement = Treaty();
  EXPECT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-17")));
  EXPECT_TRUE(Record(agreement, Action(AgreementAction::KIND_SIGNATURE, kRussia,
                                       "2025-01-17")));
  return agreement;
}

// The signed treaty in force from 2025-10-02.
Agreement TreatyInForce() {
  Agreement agreement = SignedTreaty();
  EXPECT_TRUE(Record(agreement, Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                       "", "2025-10-02")));
  return agreement;
}

const PartyStatus& StatusOf(const Agreement& agreement,
                            const std::string& party) {
  for (const PartyStatus& status : agreement.party_statuses()) {
    if (status.party() == party) return status;
  }
  ADD_FAILURE() << "no party status for " << party;
  return PartyStatus::default_instance();
}

void ExpectParty(const Agreement& agreement, const std::string& party,
                 bool signed_or_acceded, bool ratified, bool withdrawn,
                 AgreementAction::Kind latest_step,
                 const std::string& latest_step_date) {
  SCOPED_TRACE(party);
  const PartyStatus& status = StatusOf(agreement, party);
  EXPECT_EQ(status.signed_or_acceded(), signed_or_acceded);
  EXPECT_EQ(status.ratified(), ratified);
  EXPECT_EQ(status.withdrawn(), withdrawn);
  EXPECT_EQ(status.latest_step(), latest_step)
      << AgreementAction::Kind_Name(status.latest_step());
  EXPECT_EQ(status.latest_step_date(), latest_step_date);
}

void ExpectState(const Agreement& agreement, Agreement::State state) {
  EXPECT_EQ(agreement.state(), state)
      << Agreement::State_Name(agreement.state());
}

// --- The whole lifecycle ----------------------------------------------------

TEST(LifecycleTest, WellOrderedSequenceIsAcceptedAndDerivesEachState) {
  Agreement agreement = Treaty();
  DeriveLifecycle(agreement);
  ExpectState(agreement, Agreement::STATE_PENDING_SIGNATURE);
  ASSERT_EQ(agreement.party_statuses_size(), 2);
  EXPECT_EQ(agreement.party_statuses(0).party(), kIran);
  EXPECT_EQ(agreement.party_statuses(1).party(), kRussia);
  ExpectParty(agreement, kIran, false, false, false,
              AgreementAction::KIND_UNSPECIFIED, "");
  EXPECT_EQ(agreement.effective_date(), "");

  // Signature by each party.
  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-17")));
  ExpectState(agreement, Agreement::STATE_PENDING_SIGNATURE);
  ExpectParty(agreement, kIran, true, false, false,
              AgreementAction::KIND_SIGNATURE, "2025-01-17");
  ExpectParty(agreement, kRussia, false, false, false,
              AgreementAction::KIND_UNSPECIFIED, "");

  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_SIGNATURE, kRussia,
                                       "2025-01-17")));
  ExpectState(agreement, Agreement::STATE_SIGNED);
  ExpectParty(agreement, kRussia, true, false, false,
              AgreementAction::KIND_SIGNATURE, "2025-01-17");

  // Approvals by named bodies (partial dates, as in the seed).
  ASSERT_TRUE(Record(
      agreement, Approval(kRussia, "institutions/state-duma-ru", "2025-04")));
  ASSERT_TRUE(Record(
      agreement,
      Approval(kRussia, "institutions/federation-council-ru", "2025-04-16")));
  ExpectState(agreement, Agreement::STATE_SIGNED);
  ExpectParty(agreement, kRussia, true, false, false,
              AgreementAction::KIND_APPROVAL, "2025-04-16");
  ASSERT_TRUE(Record(agreement,
                     Approval(kIran, "institutions/majlis-ir", "2025-05-21")));
  ExpectParty(agreement, kIran, true, false, false,
              AgreementAction::KIND_APPROVAL, "2025-05-21");

  // Ratification: one party, then the other.
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_RATIFICATION,
                                       kRussia, "2025-04-21")));
  ExpectState(agreement, Agreement::STATE_SIGNED);
  ExpectParty(agreement, kRussia, true, true, false,
              AgreementAction::KIND_RATIFICATION, "2025-04-21");
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_RATIFICATION,
                                       kIran, "2025-06-11")));
  ExpectState(agreement, Agreement::STATE_RATIFIED);
  ExpectParty(agreement, kIran, true, true, false,
              AgreementAction::KIND_RATIFICATION, "2025-06-11");
  EXPECT_EQ(agreement.effective_date(), "");

  // Entry into force for all, effective later than the exchange.
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                       "", "2025-09-02", "2025-10-02")));
  ExpectState(agreement, Agreement::STATE_IN_FORCE);
  EXPECT_EQ(agreement.effective_date(), "2025-10-02");
  // Whole-agreement steps leave the parties' own progress alone.
  ExpectParty(agreement, kIran, true, true, false,
              AgreementAction::KIND_RATIFICATION, "2025-06-11");

  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_SUSPENSION, "", "2026-03-01")));
  ExpectState(agreement, Agreement::STATE_SUSPENDED);
  EXPECT_EQ(agreement.effective_date(), "2025-10-02");

  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                       "", "2026-06-01")));
  ExpectState(agreement, Agreement::STATE_IN_FORCE);
  // The first entry into force stays the agreement's effective date.
  EXPECT_EQ(agreement.effective_date(), "2025-10-02");

  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_TERMINATION, "", "2027-01-01")));
  ExpectState(agreement, Agreement::STATE_TERMINATED);
  ExpectParty(agreement, kRussia, true, true, false,
              AgreementAction::KIND_RATIFICATION, "2025-04-21");
  ExpectParty(agreement, kIran, true, true, false,
              AgreementAction::KIND_RATIFICATION, "2025-06-11");

  // The same log, given whole on create, passes too.
  EXPECT_TRUE(CheckActions(agreement).ok()) << CheckActions(agreement);
}

TEST(LifecycleTest, ExpiryActionDerivesExpired) {
  Agreement agreement = TreatyInForce();
  ASSERT_TRUE(Record(agreement,
                     Action(AgreementAction::KIND_EXPIRY, "", "2045-01-17")));
  ExpectState(agreement, Agreement::STATE_EXPIRED);
  EXPECT_EQ(agreement.effective_date(), "2025-10-02");
}

TEST(LifecycleTest, AcceptanceCountsAsRatification) {
  Agreement agreement = SignedTreaty();
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_ACCEPTANCE, kIran,
                                       "2025-03-01")));
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_RATIFICATION,
                                       kRussia, "2025-04-21")));
  ExpectState(agreement, Agreement::STATE_RATIFIED);
  ExpectParty(agreement, kIran, true, true, false,
              AgreementAction::KIND_ACCEPTANCE, "2025-03-01");
}

TEST(LifecycleTest, AccessionWithoutSignatureCountsAsSignedAndRatified) {
  Agreement agreement = SignedTreaty();
  agreement.add_parties(kBelarus);
  DeriveLifecycle(agreement);
  ExpectState(agreement, Agreement::STATE_PENDING_SIGNATURE);
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_ACCESSION,
                                       kBelarus, "2025-07-01")));
  ExpectParty(agreement, kBelarus, true, true, false,
              AgreementAction::KIND_ACCESSION, "2025-07-01");
  ExpectState(agreement, Agreement::STATE_SIGNED);
}

TEST(LifecycleTest, EntryIntoForceWithoutRatificationIsInForce) {
  // Like an MOU that takes effect once signed, with no ratification.
  Agreement agreement = TreatyInForce();
  ExpectState(agreement, Agreement::STATE_IN_FORCE);
  EXPECT_EQ(agreement.effective_date(), "2025-10-02");
}

TEST(LifecycleTest, DeriveLifecycleIsIdempotent) {
  Agreement agreement = SignedTreaty();
  DeriveLifecycle(agreement);
  DeriveLifecycle(agreement);
  EXPECT_EQ(agreement.party_statuses_size(), 2);
  ExpectState(agreement, Agreement::STATE_SIGNED);
}

TEST(LifecycleTest, DeriveLifecycleClearsStaleEffectiveDate) {
  Agreement agreement = SignedTreaty();
  agreement.set_effective_date("2020-01-01");
  agreement.set_state(Agreement::STATE_IN_FORCE);
  DeriveLifecycle(agreement);
  EXPECT_EQ(agreement.effective_date(), "");
  ExpectState(agreement, Agreement::STATE_SIGNED);
}

// --- Withdrawal
// ---------------------------------------------------------------

TEST(LifecycleTest, OnePartyWithdrawingLeavesAgreementInForce) {
  Agreement agreement = TreatyInForce();
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_WITHDRAWAL, kIran,
                                       "2026-01-01")));
  ExpectState(agreement, Agreement::STATE_IN_FORCE);
  ExpectParty(agreement, kIran, true, false, true,
              AgreementAction::KIND_WITHDRAWAL, "2026-01-01");
  ExpectParty(agreement, kRussia, true, false, false,
              AgreementAction::KIND_SIGNATURE, "2025-01-17");
}

TEST(LifecycleTest, WithdrawalOfAllPartiesDerivesTerminated) {
  Agreement agreement = TreatyInForce();
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_WITHDRAWAL, kIran,
                                       "2026-01-01")));
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_DENUNCIATION,
                                       kRussia, "2026-02-01")));
  ExpectState(agreement, Agreement::STATE_TERMINATED);
  ExpectParty(agreement, kRussia, true, false, true,
              AgreementAction::KIND_DENUNCIATION, "2026-02-01");
}

TEST(LifecycleTest, WithdrawnPartyCannotActAgain) {
  Agreement agreement = SignedTreaty();
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_WITHDRAWAL, kIran,
                                       "2025-02-01")));
  ExpectOutOfOrder(CheckAction(agreement,
                               Action(AgreementAction::KIND_RATIFICATION, kIran,
                                      "2025-03-01"),
                               "action"),
                   "action.kind");
  ExpectOutOfOrder(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_WITHDRAWAL, kIran, "2025-03-01"),
                  "action"),
      "action.kind");
}

TEST(LifecycleTest, WholeAgreementStepsAfterEveryPartyWithdrewAreRejected) {
  Agreement agreement = TreatyInForce();
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_WITHDRAWAL, kIran,
                                       "2026-01-01")));
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_WITHDRAWAL,
                                       kRussia, "2026-01-01")));
  ExpectState(agreement, Agreement::STATE_TERMINATED);
  for (const AgreementAction::Kind kind :
       {AgreementAction::KIND_SUSPENSION, AgreementAction::KIND_TERMINATION,
        AgreementAction::KIND_EXPIRY}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(kind));
    ExpectOutOfOrder(
        CheckAction(agreement, Action(kind, "", "2026-06-01"), "action"),
        "action.kind");
  }
}

// --- Rejections -------------------------------------------------------------

TEST(CheckActionTest, RatifyingBeforeSigningIsFailedPrecondition) {
  Agreement agreement = Treaty();
  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-17")));
  ExpectOutOfOrder(CheckAction(agreement,
                               Action(AgreementAction::KIND_RATIFICATION,
                                      kRussia, "2025-04-21"),
                               "action"),
                   "action.kind");
}

TEST(CheckActionTest, ChamberApprovalAndWithdrawalBeforeSigningAreRejected) {
  const Agreement agreement = Treaty();
  for (const AgreementAction::Kind kind :
       {AgreementAction::KIND_RATIFICATION, AgreementAction::KIND_WITHDRAWAL,
        AgreementAction::KIND_DENUNCIATION,
        AgreementAction::KIND_NOTIFICATION}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(kind));
    ExpectOutOfOrder(
        CheckAction(agreement, Action(kind, kIran, "2025-02-01"), "action"),
        "action.kind");
  }
  // A chamber's approval is a domestic step; it needs the signature first.
  ExpectOutOfOrder(
      CheckAction(agreement,
                  Approval(kIran, "institutions/majlis-ir", "2025-02-01"),
                  "action"),
      "action.kind");
}

TEST(CheckActionTest, AcceptanceOrOwnApprovalWithoutSignatureIsAnAccession) {
  for (const AgreementAction& action :
       {Action(AgreementAction::KIND_ACCEPTANCE, kIran, "2025-02-01"),
        Action(AgreementAction::KIND_APPROVAL, kIran, "2025-02-01"),
        Approval(kIran, kIran, "2025-02-01")}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(action.kind()));
    Agreement agreement = Treaty();
    ASSERT_TRUE(Record(agreement, action));
    ExpectParty(agreement, kIran, true, true, false, action.kind(),
                "2025-02-01");
    EXPECT_TRUE(CheckActions(agreement).ok()) << CheckActions(agreement);
  }
}

TEST(CheckActionTest, SigningTwiceIsFailedPrecondition) {
  const Agreement agreement = SignedTreaty();
  ExpectOutOfOrder(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-18"),
                  "action"),
      "action.kind");
}

TEST(CheckActionTest, RatifyingTwiceIsFailedPrecondition) {
  Agreement agreement = SignedTreaty();
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_RATIFICATION,
                                       kRussia, "2025-04-21")));
  ExpectOutOfOrder(CheckAction(agreement,
                               Action(AgreementAction::KIND_ACCEPTANCE, kRussia,
                                      "2025-05-01"),
                               "action"),
                   "action.kind");
}

TEST(CheckActionTest, AccessionByPartyThatSignedIsFailedPrecondition) {
  const Agreement agreement = SignedTreaty();
  ExpectOutOfOrder(CheckAction(agreement,
                               Action(AgreementAction::KIND_ACCESSION, kRussia,
                                      "2025-05-01"),
                               "action"),
                   "action.kind");
}

TEST(CheckActionTest, ActingForNonPartyIsInvalidArgument) {
  const Agreement agreement = SignedTreaty();
  const absl::Status status =
      CheckAction(agreement,
                  Action(AgreementAction::KIND_SIGNATURE, "institutions/china",
                         "2025-02-01"),
                  "action");
  ExpectRejected(status, absl::StatusCode::kInvalidArgument, {"action.party"});
  // Whole-agreement kinds may not name a non-party either.
  ExpectRejected(CheckAction(agreement,
                             Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                    "institutions/china", "2025-10-02"),
                             "action"),
                 absl::StatusCode::kInvalidArgument, {"action.party"});
}

TEST(CheckActionTest, DateBeforeSigningDateIsInvalidArgument) {
  const Agreement agreement = Treaty();
  ExpectRejected(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-16"),
                  "action"),
      absl::StatusCode::kInvalidArgument, {"action.action_date"});
  // A partial date stands for its first day, so it is before too.
  ExpectRejected(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01"),
                  "action"),
      absl::StatusCode::kInvalidArgument, {"action.action_date"});
  EXPECT_TRUE(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-17"),
                  "action")
          .ok());
}

TEST(CheckActionTest, ApprovalDatedBeforePartysSignatureIsFailedPrecondition) {
  Agreement agreement = Treaty();
  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-02-10")));
  ExpectOutOfOrder(
      CheckAction(agreement,
                  Approval(kIran, "institutions/majlis-ir", "2025-02-09"),
                  "action"),
      "action.action_date");
  EXPECT_TRUE(
      CheckAction(agreement,
                  Approval(kIran, "institutions/majlis-ir", "2025-02-10"),
                  "action")
          .ok());
}

TEST(CheckActionTest, PerPartyKindsWithoutPartyAreInvalidArgument) {
  const Agreement agreement = SignedTreaty();
  for (const AgreementAction::Kind kind :
       {AgreementAction::KIND_SIGNATURE, AgreementAction::KIND_APPROVAL,
        AgreementAction::KIND_RATIFICATION, AgreementAction::KIND_ACCEPTANCE,
        AgreementAction::KIND_ACCESSION, AgreementAction::KIND_WITHDRAWAL,
        AgreementAction::KIND_DENUNCIATION}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(kind));
    ExpectRejected(
        CheckAction(agreement, Action(kind, "", "2025-03-01"), "action"),
        absl::StatusCode::kInvalidArgument, {"action.party"});
  }
}

TEST(CheckActionTest, WholeAgreementKindsNeedNoParty) {
  const Agreement agreement = SignedTreaty();
  EXPECT_TRUE(CheckAction(agreement,
                          Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "",
                                 "2025-10-02"),
                          "action")
                  .ok());
  EXPECT_TRUE(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_TERMINATION, "", "2025-10-02"),
                  "action")
          .ok());
}

TEST(CheckActionTest, EffectiveDateBeforeActionDateIsInvalidArgument) {
  const Agreement agreement = SignedTreaty();
  ExpectRejected(CheckAction(agreement,
                             Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "",
                                    "2025-10-02", "2025-10-01"),
                             "action"),
                 absl::StatusCode::kInvalidArgument, {"action.effective_date"});
  EXPECT_TRUE(CheckAction(agreement,
                          Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "",
                                 "2025-10-02", "2025-10-02"),
                          "action")
                  .ok());
}

TEST(CheckActionTest, UnknownKindIsInvalidArgument) {
  const Agreement agreement = SignedTreaty();
  ExpectRejected(CheckAction(agreement,
                             Action(AgreementAction::KIND_UNSPECIFIED, kIran,
                                    "2025-03-01"),
                             "action"),
                 absl::StatusCode::kInvalidArgument, {"action.kind"});
  ExpectRejected(CheckAction(agreement,
                             Action(static_cast<AgreementAction::Kind>(42),
                                    kIran, "2025-03-01"),
                             "action"),
                 absl::StatusCode::kInvalidArgument, {"action.kind"});
}

TEST(CheckActionTest, BadOrMissingDatesAreInvalidArgument) {
  const Agreement agreement = Treaty();
  for (const std::string date :
       {"2025-02-30", "17/01/2025", "2025-1-17", "2025-13", "", "0000"}) {
    SCOPED_TRACE(date);
    ExpectRejected(
        CheckAction(agreement,
                    Action(AgreementAction::KIND_SIGNATURE, kIran, date),
                    "action"),
        absl::StatusCode::kInvalidArgument, {"action.action_date"});
  }
  ExpectRejected(CheckAction(agreement,
                             Action(AgreementAction::KIND_SIGNATURE, kIran,
                                    "2025-01-17", "2025-02-29"),
                             "action"),
                 absl::StatusCode::kInvalidArgument, {"action.effective_date"});
}

TEST(CheckActionTest, ReportsEveryMalformedFieldAtOnce) {
  const Agreement agreement = Treaty();
  AgreementAction action =
      Action(AgreementAction::KIND_UNSPECIFIED, "", "2025-02-30", "soon");
  action.add_sources()->set_uri("ftp://irna.ir/x");
  ExpectRejected(CheckAction(agreement, action, "action"),
                 absl::StatusCode::kInvalidArgument,
                 {"action.kind", "action.action_date", "action.effective_date",
                  "action.sources[0].publisher", "action.sources[0].uri"});
}

TEST(CheckActionTest, FieldPathsStartWithGivenField) {
  const Agreement agreement = Treaty();
  ExpectRejected(CheckAction(agreement,
                             Action(AgreementAction::KIND_SIGNATURE,
                                    "institutions/china", "2025-01-17"),
                             "request.action"),
                 absl::StatusCode::kInvalidArgument, {"request.action.party"});
}

TEST(CheckActionTest, AnythingAfterTerminationIsFailedPrecondition) {
  Agreement agreement = TreatyInForce();
  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_TERMINATION, "", "2027-01-01")));
  for (const AgreementAction& action :
       {Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "", "2027-02-01"),
        Action(AgreementAction::KIND_SUSPENSION, "", "2027-02-01"),
        Action(AgreementAction::KIND_TERMINATION, "", "2027-02-01"),
        Action(AgreementAction::KIND_EXPIRY, "", "2027-02-01"),
        Action(AgreementAction::KIND_RATIFICATION, kIran, "2027-02-01"),
        Action(AgreementAction::KIND_WITHDRAWAL, kRussia, "2027-02-01")}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(action.kind()));
    ExpectOutOfOrder(CheckAction(agreement, action, "action"), "action.kind");
  }
}

TEST(CheckActionTest, AnythingAfterExpiryIsFailedPrecondition) {
  Agreement agreement = TreatyInForce();
  ASSERT_TRUE(Record(agreement,
                     Action(AgreementAction::KIND_EXPIRY, "", "2045-01-17")));
  for (const AgreementAction& action :
       {Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "", "2045-02-01"),
        Action(AgreementAction::KIND_TERMINATION, "", "2045-02-01"),
        Action(AgreementAction::KIND_DENUNCIATION, kIran, "2045-02-01")}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(action.kind()));
    ExpectOutOfOrder(CheckAction(agreement, action, "action"), "action.kind");
  }
}

TEST(CheckActionTest, SuspensionWhenNotInForceIsFailedPrecondition) {
  const Agreement signed_treaty = SignedTreaty();
  ExpectOutOfOrder(
      CheckAction(signed_treaty,
                  Action(AgreementAction::KIND_SUSPENSION, "", "2025-03-01"),
                  "action"),
      "action.kind");

  Agreement suspended = TreatyInForce();
  ASSERT_TRUE(Record(
      suspended, Action(AgreementAction::KIND_SUSPENSION, "", "2026-03-01")));
  ExpectOutOfOrder(
      CheckAction(suspended,
                  Action(AgreementAction::KIND_SUSPENSION, "", "2026-04-01"),
                  "action"),
      "action.kind");
}

TEST(CheckActionTest, EntryIntoForceBeforeAnySignatureIsFailedPrecondition) {
  const Agreement agreement = Treaty();
  ExpectOutOfOrder(CheckAction(agreement,
                               Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                      "", "2025-10-02"),
                               "action"),
                   "action.kind");
}

TEST(CheckActionTest, EntryIntoForceWhileInForceIsFailedPrecondition) {
  const Agreement agreement = TreatyInForce();
  ExpectOutOfOrder(CheckAction(agreement,
                               Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                      "", "2026-01-01"),
                               "action"),
                   "action.kind");
}

TEST(CheckActionTest, EntryIntoForceDatedBeforeFirstSignatureIsRejected) {
  Agreement agreement = Treaty();
  agreement.clear_signing_date();
  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-17")));
  ExpectOutOfOrder(CheckAction(agreement,
                               Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                      "", "2025-01-16"),
                               "action"),
                   "action.action_date");
}

TEST(CheckActionTest, TerminationBeforeAnySignatureIsFailedPrecondition) {
  const Agreement agreement = Treaty();
  ExpectOutOfOrder(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_TERMINATION, "", "2025-10-02"),
                  "action"),
      "action.kind");
}

// --- CheckActions
// ---------------------------------------------------------------

TEST(CheckActionsTest, EmptyLogIsValid) {
  EXPECT_TRUE(CheckActions(Treaty()).ok());
}

TEST(CheckActionsTest,
     RatificationRecordedBeforeSignatureIsRejectedAtItsIndex) {
  Agreement agreement = Treaty();
  *agreement.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-17");
  *agreement.add_actions() =
      Action(AgreementAction::KIND_RATIFICATION, kRussia, "2025-04-21");
  *agreement.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kRussia, "2025-01-17");
  ExpectOutOfOrder(CheckActions(agreement), "agreement.actions[1].kind");
}

TEST(CheckActionsTest, NonPartyIsRejectedAtItsIndex) {
  Agreement agreement = Treaty();
  *agreement.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-17");
  *agreement.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kRussia, "2025-01-17");
  *agreement.add_actions() = Action(AgreementAction::KIND_SIGNATURE,
                                    "institutions/china", "2025-01-17");
  ExpectRejected(CheckActions(agreement), absl::StatusCode::kInvalidArgument,
                 {"agreement.actions[2].party"});
}

TEST(CheckActionsTest, SecondSignatureIsRejectedAtItsIndex) {
  Agreement agreement = Treaty();
  *agreement.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-17");
  *agreement.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-18");
  ExpectOutOfOrder(CheckActions(agreement), "agreement.actions[1].kind");
}

TEST(CheckActionsTest, MalformedActionIsRejectedWithIndexedPaths) {
  Agreement agreement = Treaty();
  *agreement.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kIran, "2025-01-17");
  *agreement.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kRussia, "2025-01-17");
  *agreement.add_actions() = Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "",
                                    "2025-10-02", "2025-10");
  ExpectRejected(CheckActions(agreement), absl::StatusCode::kInvalidArgument,
                 {"agreement.actions[2].effective_date"});
}

TEST(CheckActionsTest, StepAfterTerminationIsRejectedAtItsIndex) {
  Agreement agreement = TreatyInForce();
  *agreement.add_actions() =
      Action(AgreementAction::KIND_TERMINATION, "", "2027-01-01");
  *agreement.add_actions() =
      Action(AgreementAction::KIND_SUSPENSION, "", "2027-02-01");
  ExpectOutOfOrder(CheckActions(agreement), "agreement.actions[4].kind");
}

// --- InForceOn
// ----------------------------------------------------------------

TEST(InForceOnTest, FalseWithoutEntryIntoForce) {
  const Agreement agreement = SignedTreaty();
  EXPECT_FALSE(InForceOn(agreement, "2025-01-17"));
  EXPECT_FALSE(InForceOn(agreement, "2030-01-01"));
}

TEST(InForceOnTest, TrueFromTheEffectiveDateOn) {
  const Agreement agreement = TreatyInForce();
  EXPECT_FALSE(InForceOn(agreement, "2025-01-17"));
  EXPECT_FALSE(InForceOn(agreement, "2025-10-01"));
  EXPECT_TRUE(InForceOn(agreement, "2025-10-02"));
  EXPECT_TRUE(InForceOn(agreement, "2040-12-31"));
}

TEST(InForceOnTest, UsesEffectiveDateRatherThanActionDate) {
  Agreement agreement = SignedTreaty();
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                       "", "2025-09-02", "2025-10-02")));
  EXPECT_FALSE(InForceOn(agreement, "2025-09-02"));
  EXPECT_FALSE(InForceOn(agreement, "2025-10-01"));
  EXPECT_TRUE(InForceOn(agreement, "2025-10-02"));
}

TEST(InForceOnTest, PartialEffectiveDateStandsForItsFirstDay) {
  Agreement agreement = SignedTreaty();
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                       "", "2025-10")));
  EXPECT_FALSE(InForceOn(agreement, "2025-09-30"));
  EXPECT_TRUE(InForceOn(agreement, "2025-10-01"));
  EXPECT_TRUE(InForceOn(agreement, "2025-10-31"));
}

TEST(InForceOnTest, PartialQueryDateStandsForItsFirstDay) {
  const Agreement agreement = TreatyInForce();  // from 2025-10-02
  EXPECT_FALSE(InForceOn(agreement, "2025-10"));
  EXPECT_TRUE(InForceOn(agreement, "2025-11"));
  EXPECT_FALSE(InForceOn(agreement, "2025"));
  EXPECT_TRUE(InForceOn(agreement, "2026"));
}

TEST(InForceOnTest, FalseFromTheExpiryDateOn) {
  Agreement agreement = TreatyInForce();
  agreement.set_expiry_date("2045-01-17");
  EXPECT_TRUE(InForceOn(agreement, "2045-01-16"));
  EXPECT_FALSE(InForceOn(agreement, "2045-01-17"));
  EXPECT_FALSE(InForceOn(agreement, "2046-01-01"));

  agreement.set_expiry_date("2045");
  EXPECT_TRUE(InForceOn(agreement, "2044-12-31"));
  EXPECT_FALSE(InForceOn(agreement, "2045-01-01"));
}

TEST(InForceOnTest, FalseWhileSuspendedAndTrueAgainAfterReentry) {
  Agreement agreement = TreatyInForce();
  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_SUSPENSION, "", "2026-03-01")));
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_ENTRY_INTO_FORCE,
                                       "", "2026-06-01")));
  EXPECT_TRUE(InForceOn(agreement, "2026-02-28"));
  EXPECT_FALSE(InForceOn(agreement, "2026-03-01"));
  EXPECT_FALSE(InForceOn(agreement, "2026-05-31"));
  EXPECT_TRUE(InForceOn(agreement, "2026-06-01"));
}

TEST(InForceOnTest, FalseFromTerminationOn) {
  Agreement agreement = TreatyInForce();
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_TERMINATION, "",
                                       "2027-01-01", "2027-07-01")));
  EXPECT_TRUE(InForceOn(agreement, "2027-01-01"));
  EXPECT_TRUE(InForceOn(agreement, "2027-06-30"));
  EXPECT_FALSE(InForceOn(agreement, "2027-07-01"));
  EXPECT_FALSE(InForceOn(agreement, "2030-01-01"));
}

TEST(InForceOnTest, FalseFromExpiryActionOn) {
  Agreement agreement = TreatyInForce();
  ASSERT_TRUE(Record(agreement,
                     Action(AgreementAction::KIND_EXPIRY, "", "2045-01-17")));
  EXPECT_TRUE(InForceOn(agreement, "2045-01-16"));
  EXPECT_FALSE(InForceOn(agreement, "2045-01-17"));
}

// --- CompareDates
// -------------------------------------------------------------

TEST(CompareDatesTest, OrdersFullDates) {
  EXPECT_EQ(CompareDates("2025-01-17", "2025-01-17"), 0);
  EXPECT_EQ(CompareDates("2025-01-16", "2025-01-17"), -1);
  EXPECT_EQ(CompareDates("2025-04-25", "2025-01-17"), 1);
  EXPECT_EQ(CompareDates("2024-12-31", "2025-01-01"), -1);
}

TEST(CompareDatesTest, PartialDatesStandForTheirFirstDay) {
  EXPECT_EQ(CompareDates("2025", "2025-01-01"), 0);
  EXPECT_EQ(CompareDates("2025-01", "2025-01-01"), 0);
  EXPECT_EQ(CompareDates("2025", "2025-01"), 0);
  EXPECT_EQ(CompareDates("2025-04", "2025-04-25"), -1);
  EXPECT_EQ(CompareDates("2025-04-25", "2025-04"), 1);
  EXPECT_EQ(CompareDates("2025-05", "2025-04-30"), 1);
  EXPECT_EQ(CompareDates("2025", "2024-12-31"), 1);
  EXPECT_EQ(CompareDates("2025-12", "2026"), -1);
  EXPECT_EQ(CompareDates("2026", "2025-12"), 1);
}

}  // namespace
}  // namespace accord::agreement
