// CheckAction on the steps issue 14 added or changed: accession by an
// institution that is not a party, notifications, suspensions of an
// agreement in force by its rule, and entries into force per party.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "accord/agreement/v1/agreement.pb.h"
#include "common/errors.h"
#include "services/agreement/agreement_validation.h"
#include "services/agreement/lifecycle.h"
#include "services/agreement/party_timeline.h"
#include "services/agreement/timeline_test_support.h"

namespace accord::agreement {
namespace {

using testing::Action;
using testing::ApprovalBy;
using testing::Between;
using testing::Record;
using testing::SignAll;
using testing::StatusOf;
using v1::Agreement;
using v1::AgreementAction;

constexpr char kA[] = "institutions/a";
constexpr char kB[] = "institutions/b";
constexpr char kC[] = "institutions/c";
constexpr char kNewcomer[] = "institutions/newcomer";

std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& violation : FieldViolationsOf(status)) {
    fields.push_back(violation.field);
  }
  return fields;
}

void ExpectRefused(const absl::Status& status, absl::StatusCode code,
                   const std::string& field, const std::string& reason = "") {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(FieldsOf(status), std::vector<std::string>{field}) << status;
  if (!reason.empty()) {
    EXPECT_EQ(ReasonOf(status), reason) << status;
  }
}

Agreement SignedBy(std::vector<std::string> parties,
                   Agreement::Kind kind = Agreement::KIND_TREATY) {
  Agreement agreement = Between(kind, parties);
  agreement.set_signing_date("2025-01-10");
  SignAll(agreement, parties, "2025-01-10");
  return agreement;
}

// --- Accession by a newcomer ------------------------------------------------

TEST(AccessionTest, ANewcomerAccedesToAnOpenAgreementInOneStep) {
  Agreement agreement = SignedBy({kA, kB, kC});
  const AgreementAction accession =
      Action(AgreementAction::KIND_ACCESSION, kNewcomer, "2025-06-01");
  ASSERT_TRUE(JoinsAsParty(agreement, accession));
  ASSERT_TRUE(Record(agreement, accession));
  EXPECT_EQ(agreement.parties_size(), 4);
  EXPECT_EQ(agreement.parties(3), kNewcomer);
  const v1::PartyStatus status = StatusOf(agreement, kNewcomer);
  EXPECT_TRUE(status.signed_or_acceded());
  EXPECT_TRUE(status.ratified());
  EXPECT_TRUE(status.acceded());
  EXPECT_EQ(status.latest_step(), AgreementAction::KIND_ACCESSION);
  // Now a party like any other: its later steps and the whole log pass.
  EXPECT_TRUE(CheckActions(agreement).ok()) << CheckActions(agreement);
  ASSERT_TRUE(Record(agreement, Action(AgreementAction::KIND_WITHDRAWAL,
                                       kNewcomer, "2026-01-01")));
}

TEST(AccessionTest, AnAccessionMayPredateTheSigningDateOfTheText) {
  Agreement agreement = SignedBy({kA, kB, kC});
  agreement.set_signing_date("2025-01-10");
  EXPECT_TRUE(CheckAction(agreement,
                          Action(AgreementAction::KIND_ACCESSION, kNewcomer,
                                 "2025-01-09"),
                          "action")
                  .ok());
}

TEST(AccessionTest, AcceptanceOrOwnApprovalJoinsButAChambersApprovalDoesNot) {
  for (const AgreementAction& action :
       {Action(AgreementAction::KIND_ACCEPTANCE, kNewcomer, "2025-06-01"),
        Action(AgreementAction::KIND_APPROVAL, kNewcomer, "2025-06-01")}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(action.kind()));
    Agreement agreement = SignedBy({kA, kB, kC});
    ASSERT_TRUE(Record(agreement, action));
    EXPECT_TRUE(StatusOf(agreement, kNewcomer).acceded());
    EXPECT_TRUE(CheckActions(agreement).ok()) << CheckActions(agreement);
  }
  const Agreement agreement = SignedBy({kA, kB, kC});
  ExpectRefused(
      CheckAction(agreement,
                  ApprovalBy(kNewcomer, "institutions/newcomer-parliament",
                             "2025-06-01"),
                  "action"),
      absl::StatusCode::kInvalidArgument, "action.party");
  for (const AgreementAction::Kind kind :
       {AgreementAction::KIND_SIGNATURE, AgreementAction::KIND_RATIFICATION,
        AgreementAction::KIND_NOTIFICATION, AgreementAction::KIND_WITHDRAWAL}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(kind));
    ExpectRefused(
        CheckAction(agreement, Action(kind, kNewcomer, "2025-06-01"), "action"),
        absl::StatusCode::kInvalidArgument, "action.party");
  }
}

TEST(AccessionTest, ABilateralAgreementIsClosedByDefault) {
  const Agreement agreement = SignedBy({kA, kB});
  ExpectRefused(CheckAction(agreement,
                            Action(AgreementAction::KIND_ACCESSION, kNewcomer,
                                   "2025-06-01"),
                            "action"),
                absl::StatusCode::kFailedPrecondition, "action.party",
                "ACCESSION_CLOSED");
  Agreement open = agreement;
  open.set_accession(Agreement::ACCESSION_OPEN);
  EXPECT_TRUE(Record(
      open, Action(AgreementAction::KIND_ACCESSION, kNewcomer, "2025-06-01")));
}

TEST(AccessionTest, AClosedAgreementRefusesEveryJoiningStep) {
  Agreement agreement = SignedBy({kA, kB, kC});
  agreement.set_accession(Agreement::ACCESSION_CLOSED);
  for (const AgreementAction::Kind kind :
       {AgreementAction::KIND_ACCESSION, AgreementAction::KIND_ACCEPTANCE,
        AgreementAction::KIND_APPROVAL}) {
    SCOPED_TRACE(AgreementAction::Kind_Name(kind));
    ExpectRefused(CheckAction(agreement, Action(kind, kNewcomer, "2025-06-01"),
                              "request.action"),
                  absl::StatusCode::kFailedPrecondition, "request.action.party",
                  "ACCESSION_CLOSED");
  }
  // A malformed step is INVALID_ARGUMENT first, naming what is wrong.
  ExpectRefused(CheckAction(agreement,
                            Action(AgreementAction::KIND_ACCESSION, kNewcomer,
                                   "2025-02-30"),
                            "action"),
                absl::StatusCode::kInvalidArgument, "action.action_date");
}

TEST(AccessionTest, NoOneJoinsAnAgreementThatHasEnded) {
  Agreement agreement = SignedBy({kA, kB, kC});
  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_TERMINATION, "", "2025-12-31")));
  const absl::Status status = CheckAction(
      agreement,
      Action(AgreementAction::KIND_ACCESSION, kNewcomer, "2026-01-05"),
      "action");
  ExpectRefused(status, absl::StatusCode::kFailedPrecondition, "action.kind",
                "ACTION_OUT_OF_ORDER");
}

TEST(AccessionTest, ALogGivenWholeMustNameOnlyParties) {
  Agreement agreement = SignedBy({kA, kB, kC});
  *agreement.add_actions() =
      Action(AgreementAction::KIND_ACCESSION, kNewcomer, "2025-06-01");
  ExpectRefused(CheckActions(agreement), absl::StatusCode::kInvalidArgument,
                "agreement.actions[3].party");
}

// --- Notifications ----------------------------------------------------------

TEST(NotificationTest, FollowsTheSignatureOnceAndNeedsAParty) {
  Agreement agreement = Between(Agreement::KIND_TREATY, {kA, kB});
  ExpectRefused(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_NOTIFICATION, kA, "2025-02-01"),
                  "action"),
      absl::StatusCode::kFailedPrecondition, "action.kind",
      "ACTION_OUT_OF_ORDER");
  SignAll(agreement, {kA, kB}, "2025-01-10");
  ExpectRefused(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_NOTIFICATION, "", "2025-02-01"),
                  "action"),
      absl::StatusCode::kInvalidArgument, "action.party");
  ExpectRefused(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_NOTIFICATION, kA, "2025-01-09"),
                  "action"),
      absl::StatusCode::kFailedPrecondition, "action.action_date");
  ASSERT_TRUE(Record(
      agreement, Action(AgreementAction::KIND_NOTIFICATION, kA, "2025-02-01")));
  EXPECT_EQ(StatusOf(agreement, kA).consent_step(),
            AgreementAction::KIND_NOTIFICATION);
  ExpectRefused(
      CheckAction(agreement,
                  Action(AgreementAction::KIND_NOTIFICATION, kA, "2025-03-01"),
                  "action"),
      absl::StatusCode::kFailedPrecondition, "action.kind");
}

// --- Suspension and entry into force ---------------------------------------

TEST(SuspensionCheckTest, AnAgreementInForceByItsRuleCanBeSuspended) {
  Agreement mou =
      SignedBy({kA, kB}, Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
  EXPECT_TRUE(
      CheckAction(mou,
                  Action(AgreementAction::KIND_SUSPENSION, "", "2025-06-01"),
                  "action")
          .ok());
  // A treaty only signed is not in force.
  const Agreement treaty = SignedBy({kA, kB});
  ExpectRefused(
      CheckAction(treaty,
                  Action(AgreementAction::KIND_SUSPENSION, "", "2025-06-01"),
                  "action"),
      absl::StatusCode::kFailedPrecondition, "action.kind");
}

TEST(SuspensionCheckTest, SuspendingAPartyTwiceOrDuringASuspensionIsRefused) {
  Agreement mou =
      SignedBy({kA, kB, kC}, Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
  ASSERT_TRUE(
      Record(mou, Action(AgreementAction::KIND_SUSPENSION, kA, "2025-06-01")));
  ExpectRefused(
      CheckAction(mou,
                  Action(AgreementAction::KIND_SUSPENSION, kA, "2025-07-01"),
                  "action"),
      absl::StatusCode::kFailedPrecondition, "action.kind");
  ASSERT_TRUE(
      Record(mou, Action(AgreementAction::KIND_SUSPENSION, "", "2025-08-01")));
  ExpectRefused(
      CheckAction(mou,
                  Action(AgreementAction::KIND_SUSPENSION, kB, "2025-09-01"),
                  "action"),
      absl::StatusCode::kFailedPrecondition, "action.kind");
  EXPECT_TRUE(CheckActions(mou).ok()) << CheckActions(mou);
}

TEST(EntryIntoForceCheckTest, OnePartysEntryMayFollowTheEntryForAll) {
  Agreement treaty = SignedBy({kA, kB, kC});
  ASSERT_TRUE(Record(treaty, Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "",
                                    "2025-06-01")));
  ASSERT_TRUE(Record(treaty, Action(AgreementAction::KIND_ENTRY_INTO_FORCE, kC,
                                    "2025-07-01")));
  EXPECT_EQ(StatusOf(treaty, kC).entry_into_force_date(), "2025-07-01");
  EXPECT_EQ(StatusOf(treaty, kA).entry_into_force_date(), "2025-06-01");
  ExpectRefused(CheckAction(treaty,
                            Action(AgreementAction::KIND_ENTRY_INTO_FORCE, kC,
                                   "2025-08-01"),
                            "action"),
                absl::StatusCode::kFailedPrecondition, "action.kind");
  EXPECT_TRUE(CheckActions(treaty).ok()) << CheckActions(treaty);
}

// --- The new fields on create and update -----------------------------------

Agreement WithRule(const v1::EntryIntoForceRule& rule) {
  Agreement agreement = Between(Agreement::KIND_TREATY, {kA, kB});
  *agreement.mutable_entry_into_force_rule() = rule;
  return agreement;
}

v1::EntryIntoForceRule Rule(v1::EntryIntoForceRule::Kind kind) {
  v1::EntryIntoForceRule rule;
  rule.set_kind(kind);
  return rule;
}

TEST(ValidateRuleTest, EachKindWithItsOwnParametersIsAccepted) {
  for (const v1::EntryIntoForceRule::Kind kind :
       {v1::EntryIntoForceRule::KIND_RECORDED_ONLY,
        v1::EntryIntoForceRule::KIND_ON_SIGNATURE,
        v1::EntryIntoForceRule::KIND_ON_LAST_NOTIFICATION,
        v1::EntryIntoForceRule::KIND_ON_LAST_RATIFICATION}) {
    SCOPED_TRACE(v1::EntryIntoForceRule::Kind_Name(kind));
    EXPECT_TRUE(ValidateAgreement(WithRule(Rule(kind))).ok());
  }
  v1::EntryIntoForceRule fixed =
      Rule(v1::EntryIntoForceRule::KIND_ON_FIXED_DATE);
  fixed.set_fixed_date("2026-01-01");
  EXPECT_TRUE(ValidateAgreement(WithRule(fixed)).ok());
  v1::EntryIntoForceRule after =
      Rule(v1::EntryIntoForceRule::KIND_AFTER_INSTRUMENTS);
  after.set_instrument_count(20);
  after.set_days_after(90);
  EXPECT_TRUE(ValidateAgreement(WithRule(after)).ok());
  after.set_days_after(0);
  EXPECT_TRUE(ValidateAgreement(WithRule(after)).ok());
}

TEST(ValidateRuleTest, EveryFaultNamesItsField) {
  const std::string rule = "agreement.entry_into_force_rule";
  ExpectRefused(ValidateAgreement(WithRule(v1::EntryIntoForceRule())),
                absl::StatusCode::kInvalidArgument, rule + ".kind");
  ExpectRefused(ValidateAgreement(WithRule(
                    Rule(static_cast<v1::EntryIntoForceRule::Kind>(42)))),
                absl::StatusCode::kInvalidArgument, rule + ".kind");
  for (const std::string date : {"", "2026-01", "2026-02-30", "soon"}) {
    SCOPED_TRACE(date);
    v1::EntryIntoForceRule fixed =
        Rule(v1::EntryIntoForceRule::KIND_ON_FIXED_DATE);
    fixed.set_fixed_date(date);
    ExpectRefused(ValidateAgreement(WithRule(fixed)),
                  absl::StatusCode::kInvalidArgument, rule + ".fixed_date");
  }
  v1::EntryIntoForceRule after =
      Rule(v1::EntryIntoForceRule::KIND_AFTER_INSTRUMENTS);
  ExpectRefused(ValidateAgreement(WithRule(after)),
                absl::StatusCode::kInvalidArgument, rule + ".instrument_count");
  after.set_instrument_count(1001);
  ExpectRefused(ValidateAgreement(WithRule(after)),
                absl::StatusCode::kInvalidArgument, rule + ".instrument_count");
  after.set_instrument_count(3);
  after.set_days_after(-1);
  ExpectRefused(ValidateAgreement(WithRule(after)),
                absl::StatusCode::kInvalidArgument, rule + ".days_after");
  after.set_days_after(3661);
  ExpectRefused(ValidateAgreement(WithRule(after)),
                absl::StatusCode::kInvalidArgument, rule + ".days_after");
  // Parameters of another kind are refused, not ignored.
  v1::EntryIntoForceRule signature =
      Rule(v1::EntryIntoForceRule::KIND_ON_SIGNATURE);
  signature.set_fixed_date("2026-01-01");
  ExpectRefused(ValidateAgreement(WithRule(signature)),
                absl::StatusCode::kInvalidArgument, rule + ".fixed_date");
  signature.clear_fixed_date();
  signature.set_days_after(30);
  ExpectRefused(ValidateAgreement(WithRule(signature)),
                absl::StatusCode::kInvalidArgument, rule + ".days_after");
  signature.clear_days_after();
  signature.set_instrument_count(2);
  ExpectRefused(ValidateAgreement(WithRule(signature)),
                absl::StatusCode::kInvalidArgument, rule + ".instrument_count");
}

TEST(ValidateRuleTest, AnUnknownAccessionValueIsRefused) {
  Agreement agreement = Between(Agreement::KIND_TREATY, {kA, kB});
  agreement.set_accession(Agreement::ACCESSION_CLOSED);
  EXPECT_TRUE(ValidateAgreement(agreement).ok());
  agreement.set_accession(static_cast<Agreement::Accession>(7));
  ExpectRefused(ValidateAgreement(agreement),
                absl::StatusCode::kInvalidArgument, "agreement.accession");
}

}  // namespace
}  // namespace accord::agreement
