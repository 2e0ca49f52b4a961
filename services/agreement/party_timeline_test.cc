#include "services/agreement/party_timeline.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "accord/agreement/v1/agreement.pb.h"
#include "services/agreement/lifecycle.h"
#include "services/agreement/timeline_test_support.h"

namespace accord::agreement {
namespace {

using testing::Action;
using testing::ApprovalBy;
using testing::Between;
using testing::Record;
using testing::SignAll;
using testing::Standing;
using testing::StatusOf;
using v1::Agreement;
using v1::AgreementAction;
using v1::EntryIntoForceRule;

constexpr char kIran[] = "institutions/iran";
constexpr char kRussia[] = "institutions/russia";
constexpr char kTums[] = "institutions/tums";
constexpr char kNmrc[] = "institutions/nmrc-hematology";
constexpr char kA[] = "institutions/a";
constexpr char kB[] = "institutions/b";
constexpr char kC[] = "institutions/c";
constexpr char kD[] = "institutions/d";
constexpr char kE[] = "institutions/e";

constexpr char kNotBound[] = "STATE_NOT_BOUND";
constexpr char kSigned[] = "STATE_SIGNED";
constexpr char kConsented[] = "STATE_CONSENTED";
constexpr char kInForce[] = "STATE_IN_FORCE";
constexpr char kSuspended[] = "STATE_SUSPENDED";
constexpr char kCeased[] = "STATE_CEASED";

Agreement WithRule(Agreement agreement, EntryIntoForceRule::Kind kind) {
  agreement.mutable_entry_into_force_rule()->set_kind(kind);
  return agreement;
}

void ExpectEntry(const Agreement& agreement, const std::string& party,
                 const std::string& date, bool derived) {
  SCOPED_TRACE(party);
  const v1::PartyStatus status = StatusOf(agreement, party);
  EXPECT_EQ(status.entry_into_force_date(), date);
  EXPECT_EQ(status.entry_into_force_derived(), derived);
}

// --- Defaults ---------------------------------------------------------------

TEST(RuleKindOfTest, MemorandaStatementsAndRoadmapsTakeEffectOnSignature) {
  for (const Agreement::Kind kind :
       {Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING,
        Agreement::KIND_JOINT_STATEMENT, Agreement::KIND_ROADMAP}) {
    SCOPED_TRACE(Agreement::Kind_Name(kind));
    EXPECT_EQ(RuleKindOf(Between(kind, {kA, kB})),
              EntryIntoForceRule::KIND_ON_SIGNATURE);
  }
}

TEST(RuleKindOfTest, TreatiesAndOtherBindingKindsEnterIntoForceAsRecorded) {
  for (const Agreement::Kind kind :
       {Agreement::KIND_TREATY, Agreement::KIND_PROTOCOL,
        Agreement::KIND_AGREEMENT, Agreement::KIND_CONTRACT}) {
    SCOPED_TRACE(Agreement::Kind_Name(kind));
    EXPECT_EQ(RuleKindOf(Between(kind, {kA, kB})),
              EntryIntoForceRule::KIND_RECORDED_ONLY);
  }
}

TEST(RuleKindOfTest, AnExplicitRuleWins) {
  EXPECT_EQ(RuleKindOf(WithRule(
                Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB}),
                EntryIntoForceRule::KIND_RECORDED_ONLY)),
            EntryIntoForceRule::KIND_RECORDED_ONLY);
  EXPECT_EQ(RuleKindOf(WithRule(Between(Agreement::KIND_TREATY, {kA, kB}),
                                EntryIntoForceRule::KIND_ON_LAST_NOTIFICATION)),
            EntryIntoForceRule::KIND_ON_LAST_NOTIFICATION);
}

TEST(OpenToAccessionTest, MultilateralIsOpenAndBilateralClosedByDefault) {
  EXPECT_FALSE(OpenToAccession(Between(Agreement::KIND_TREATY, {kA, kB})));
  EXPECT_TRUE(OpenToAccession(Between(Agreement::KIND_TREATY, {kA, kB, kC})));
  Agreement bilateral = Between(Agreement::KIND_TREATY, {kA, kB});
  bilateral.set_accession(Agreement::ACCESSION_OPEN);
  EXPECT_TRUE(OpenToAccession(bilateral));
  Agreement closed = Between(Agreement::KIND_TREATY, {kA, kB, kC});
  closed.set_accession(Agreement::ACCESSION_CLOSED);
  EXPECT_FALSE(OpenToAccession(closed));
}

TEST(JoiningStepTest, AccessionAcceptanceAndOwnApprovalJoinAChambersDoesNot) {
  EXPECT_TRUE(
      IsJoiningStep(Action(AgreementAction::KIND_ACCESSION, kD, "2025-01-01")));
  EXPECT_TRUE(IsJoiningStep(
      Action(AgreementAction::KIND_ACCEPTANCE, kD, "2025-01-01")));
  EXPECT_TRUE(
      IsJoiningStep(Action(AgreementAction::KIND_APPROVAL, kD, "2025-01-01")));
  EXPECT_TRUE(IsJoiningStep(ApprovalBy(kD, kD, "2025-01-01")));
  EXPECT_FALSE(
      IsJoiningStep(ApprovalBy(kD, "institutions/d-parliament", "2025-01-01")));
  EXPECT_FALSE(IsJoiningStep(
      Action(AgreementAction::KIND_RATIFICATION, kD, "2025-01-01")));
  EXPECT_FALSE(
      IsJoiningStep(Action(AgreementAction::KIND_SIGNATURE, kD, "2025-01-01")));

  const Agreement agreement = Between(Agreement::KIND_TREATY, {kA, kB, kC});
  EXPECT_TRUE(JoinsAsParty(
      agreement, Action(AgreementAction::KIND_ACCESSION, kD, "2025-01-01")));
  EXPECT_FALSE(JoinsAsParty(
      agreement, Action(AgreementAction::KIND_ACCESSION, kC, "2025-01-01")));
  EXPECT_FALSE(JoinsAsParty(
      agreement, Action(AgreementAction::KIND_ACCESSION, "", "2025-01-01")));
}

// --- On signature -----------------------------------------------------------

TEST(OnSignatureTest, MemorandumSignedByAllOnOneDayIsInForceThatDay) {
  // The seed's MOU: no entry into force recorded, none needed.
  Agreement mou = Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING,
                          {kTums, kNmrc}, "mou");
  SignAll(mou, {kTums, kNmrc}, "2025-04-25");
  EXPECT_EQ(mou.state(), Agreement::STATE_IN_FORCE)
      << Agreement::State_Name(mou.state());
  EXPECT_EQ(mou.effective_date(), "2025-04-25");
  for (const char* party : {kTums, kNmrc}) {
    SCOPED_TRACE(party);
    ExpectEntry(mou, party, "2025-04-25", true);
    EXPECT_EQ(StatusOf(mou, party).consent_date(), "2025-04-25");
    EXPECT_EQ(StatusOf(mou, party).consent_step(),
              AgreementAction::KIND_SIGNATURE);
    EXPECT_EQ(StatusOf(mou, party).signature_date(), "2025-04-25");
    EXPECT_EQ(Standing(mou, party, "2025-04-24"), kNotBound);
    EXPECT_EQ(Standing(mou, party, "2025-04-25"), kInForce);
    EXPECT_EQ(Standing(mou, party, "2025-04-26"), kInForce);
  }
  EXPECT_FALSE(InForceOn(mou, "2025-04-24"));
  EXPECT_TRUE(InForceOn(mou, "2025-04-25"));
}

TEST(OnSignatureTest, EntersIntoForceOnTheLastSignature) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB, kC});
  SignAll(mou, {kA}, "2025-03-01");
  SignAll(mou, {kB}, "2025-03-05");
  EXPECT_EQ(mou.state(), Agreement::STATE_PENDING_SIGNATURE);
  ExpectEntry(mou, kA, "", false);
  EXPECT_EQ(Standing(mou, kA, "2025-03-02"), kConsented);
  EXPECT_EQ(Standing(mou, kC, "2025-03-02"), kNotBound);
  SignAll(mou, {kC}, "2025-03-10");
  for (const char* party : {kA, kB, kC}) {
    ExpectEntry(mou, party, "2025-03-10", true);
    EXPECT_EQ(Standing(mou, party, "2025-03-09"),
              party == std::string(kC) ? kNotBound : kConsented);
    EXPECT_EQ(Standing(mou, party, "2025-03-10"), kInForce);
  }
}

TEST(OnSignatureTest, PartialSignatureDateStandsForItsFirstDay) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB});
  SignAll(mou, {kA, kB}, "2025-04");
  ExpectEntry(mou, kA, "2025-04", true);
  EXPECT_EQ(Standing(mou, kA, "2025-03-31"), kNotBound);
  EXPECT_EQ(Standing(mou, kA, "2025-04-01"), kInForce);
}

TEST(OnSignatureTest, AccessionAfterEntryIntoForceTakesEffectOnItsDate) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB, kC});
  SignAll(mou, {kA, kB, kC}, "2025-03-01");
  ASSERT_TRUE(
      Record(mou, Action(AgreementAction::KIND_ACCESSION, kD, "2025-09-15")));
  ASSERT_EQ(mou.parties_size(), 4);
  const v1::PartyStatus d = StatusOf(mou, kD);
  EXPECT_TRUE(d.acceded());
  EXPECT_EQ(d.signature_date(), "");
  EXPECT_EQ(d.consent_date(), "2025-09-15");
  EXPECT_EQ(d.consent_step(), AgreementAction::KIND_ACCESSION);
  ExpectEntry(mou, kD, "2025-09-15", true);
  ExpectEntry(mou, kA, "2025-03-01", true);
  EXPECT_EQ(Standing(mou, kD, "2025-09-14"), kNotBound);
  EXPECT_EQ(Standing(mou, kD, "2025-09-15"), kInForce);
}

TEST(OnSignatureTest, AnAcceptanceInPlaceOfAccessionJoinsToo) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB, kC});
  SignAll(mou, {kA, kB, kC}, "2025-03-01");
  ASSERT_TRUE(
      Record(mou, Action(AgreementAction::KIND_ACCEPTANCE, kD, "2025-06-01")));
  EXPECT_TRUE(StatusOf(mou, kD).acceded());
  EXPECT_EQ(StatusOf(mou, kD).consent_step(), AgreementAction::KIND_ACCEPTANCE);
  ExpectEntry(mou, kD, "2025-06-01", true);
}

TEST(OnSignatureTest, AnEarlyAcceptanceWaitsForTheSignatories) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB, kC});
  SignAll(mou, {kA}, "2025-03-01");
  ASSERT_TRUE(
      Record(mou, Action(AgreementAction::KIND_ACCESSION, kD, "2025-03-02")));
  ExpectEntry(mou, kD, "", false);
  EXPECT_EQ(Standing(mou, kD, "2025-03-03"), kConsented);
  SignAll(mou, {kB, kC}, "2025-03-10");
  ExpectEntry(mou, kD, "2025-03-10", true);
}

// --- On a fixed date --------------------------------------------------------

TEST(OnFixedDateTest, InForceOnTheDateForThoseWhoConsentedByThen) {
  Agreement agreement =
      WithRule(Between(Agreement::KIND_AGREEMENT, {kA, kB, kC}),
               EntryIntoForceRule::KIND_ON_FIXED_DATE);
  agreement.mutable_entry_into_force_rule()->set_fixed_date("2026-01-01");
  SignAll(agreement, {kA, kB}, "2025-05-01");
  EXPECT_EQ(agreement.effective_date(), "2026-01-01");
  for (const char* party : {kA, kB}) {
    ExpectEntry(agreement, party, "2026-01-01", true);
    EXPECT_EQ(Standing(agreement, party, "2025-12-31"), kConsented);
    EXPECT_EQ(Standing(agreement, party, "2026-01-01"), kInForce);
    EXPECT_EQ(Standing(agreement, party, "2026-01-02"), kInForce);
  }
  ExpectEntry(agreement, kC, "", false);
  // A later signature takes effect on its own date.
  SignAll(agreement, {kC}, "2026-02-10");
  ExpectEntry(agreement, kC, "2026-02-10", true);
  EXPECT_EQ(Standing(agreement, kC, "2026-02-09"), kNotBound);
  EXPECT_EQ(Standing(agreement, kC, "2026-02-10"), kInForce);
}

TEST(OnFixedDateTest, OneConsentAloneIsNotAnAgreementInForce) {
  Agreement agreement = WithRule(Between(Agreement::KIND_AGREEMENT, {kA, kB}),
                                 EntryIntoForceRule::KIND_ON_FIXED_DATE);
  agreement.mutable_entry_into_force_rule()->set_fixed_date("2026-01-01");
  SignAll(agreement, {kA}, "2025-05-01");
  ExpectEntry(agreement, kA, "2026-01-01", true);
  EXPECT_EQ(agreement.effective_date(), "");
  EXPECT_FALSE(InForceOn(agreement, "2026-06-01"));
}

// --- On the last notification -----------------------------------------------

// The seed's treaty: in force on the date of the last notification that
// internal procedures are complete.
Agreement SeedTreaty() {
  Agreement treaty =
      WithRule(Between(Agreement::KIND_TREATY, {kIran, kRussia}, "treaty"),
               EntryIntoForceRule::KIND_ON_LAST_NOTIFICATION);
  treaty.set_signing_date("2025-01-17");
  SignAll(treaty, {kIran, kRussia}, "2025-01-17");
  EXPECT_TRUE(Record(
      treaty, ApprovalBy(kRussia, "institutions/state-duma-ru", "2025-04")));
  EXPECT_TRUE(Record(
      treaty,
      ApprovalBy(kRussia, "institutions/federation-council-ru", "2025-04")));
  return treaty;
}

TEST(OnLastNotificationTest, ChambersApprovingIsNeitherConsentNorEntry) {
  const Agreement treaty = SeedTreaty();
  EXPECT_EQ(treaty.state(), Agreement::STATE_SIGNED);
  for (const char* party : {kIran, kRussia}) {
    ExpectEntry(treaty, party, "", false);
    EXPECT_EQ(StatusOf(treaty, party).consent_date(), "");
    EXPECT_EQ(Standing(treaty, party, "2025-06-01"), kSigned);
  }
}

TEST(OnLastNotificationTest, InForceOnTheLastNotificationNotOnRatification) {
  Agreement treaty = SeedTreaty();
  ASSERT_TRUE(Record(treaty, Action(AgreementAction::KIND_RATIFICATION, kRussia,
                                    "2025-04-21")));
  ASSERT_TRUE(Record(
      treaty, Action(AgreementAction::KIND_RATIFICATION, kIran, "2025-06-11")));
  EXPECT_EQ(StatusOf(treaty, kRussia).consent_date(), "2025-04-21");
  EXPECT_EQ(StatusOf(treaty, kRussia).consent_step(),
            AgreementAction::KIND_RATIFICATION);
  ASSERT_TRUE(Record(treaty, Action(AgreementAction::KIND_NOTIFICATION, kRussia,
                                    "2025-09-10")));
  ExpectEntry(treaty, kRussia, "", false);
  ASSERT_TRUE(Record(
      treaty, Action(AgreementAction::KIND_NOTIFICATION, kIran, "2025-10-02")));
  for (const char* party : {kIran, kRussia}) {
    ExpectEntry(treaty, party, "2025-10-02", true);
    EXPECT_EQ(Standing(treaty, party, "2025-10-01"), kConsented);
    EXPECT_EQ(Standing(treaty, party, "2025-10-02"), kInForce);
  }
  EXPECT_EQ(treaty.state(), Agreement::STATE_IN_FORCE);
  EXPECT_EQ(treaty.effective_date(), "2025-10-02");
}

// --- On the last ratification -----------------------------------------------

TEST(OnLastRatificationTest, InForceOnTheLastInstrumentOfTheSignatories) {
  Agreement treaty = WithRule(Between(Agreement::KIND_TREATY, {kA, kB, kC}),
                              EntryIntoForceRule::KIND_ON_LAST_RATIFICATION);
  SignAll(treaty, {kA, kB, kC}, "2025-01-10");
  ASSERT_TRUE(Record(
      treaty, Action(AgreementAction::KIND_RATIFICATION, kA, "2025-02-01")));
  ASSERT_TRUE(Record(
      treaty, Action(AgreementAction::KIND_ACCEPTANCE, kB, "2025-03-01")));
  ExpectEntry(treaty, kA, "", false);
  // An approval of the party's own counts as its instrument.
  ASSERT_TRUE(
      Record(treaty, Action(AgreementAction::KIND_APPROVAL, kC, "2025-04-01")));
  for (const char* party : {kA, kB, kC}) {
    ExpectEntry(treaty, party, "2025-04-01", true);
    EXPECT_EQ(Standing(treaty, party, "2025-03-31"),
              party == std::string(kC) ? kSigned : kConsented);
    EXPECT_EQ(Standing(treaty, party, "2025-04-01"), kInForce);
  }
  EXPECT_EQ(StatusOf(treaty, kC).consent_step(),
            AgreementAction::KIND_APPROVAL);
}

// --- N days after the M-th instrument ---------------------------------------

Agreement AfterThirdInstrument() {
  Agreement convention =
      WithRule(Between(Agreement::KIND_TREATY, {kA, kB, kC, kD}),
               EntryIntoForceRule::KIND_AFTER_INSTRUMENTS);
  convention.mutable_entry_into_force_rule()->set_instrument_count(3);
  convention.mutable_entry_into_force_rule()->set_days_after(30);
  SignAll(convention, {kA, kB, kC, kD}, "2025-01-10");
  return convention;
}

TEST(AfterInstrumentsTest, DaysAfterTheMthInstrumentAndLaterOnesTheirOwn) {
  Agreement convention = AfterThirdInstrument();
  ASSERT_TRUE(Record(convention, Action(AgreementAction::KIND_RATIFICATION, kA,
                                        "2025-02-01")));
  ASSERT_TRUE(Record(convention, Action(AgreementAction::KIND_RATIFICATION, kB,
                                        "2025-02-15")));
  ExpectEntry(convention, kA, "", false);
  EXPECT_EQ(convention.state(), Agreement::STATE_SIGNED);
  ASSERT_TRUE(Record(convention, Action(AgreementAction::KIND_RATIFICATION, kC,
                                        "2025-03-01")));
  // 30 days after 2025-03-01.
  for (const char* party : {kA, kB, kC}) {
    ExpectEntry(convention, party, "2025-03-31", true);
    EXPECT_EQ(Standing(convention, party, "2025-03-30"), kConsented);
    EXPECT_EQ(Standing(convention, party, "2025-03-31"), kInForce);
  }
  EXPECT_EQ(convention.effective_date(), "2025-03-31");
  EXPECT_EQ(convention.state(), Agreement::STATE_IN_FORCE);
  ExpectEntry(convention, kD, "", false);
  EXPECT_EQ(Standing(convention, kD, "2025-04-01"), kSigned);

  // A later ratification, and an accession: each 30 days after its own.
  ASSERT_TRUE(Record(convention, Action(AgreementAction::KIND_RATIFICATION, kD,
                                        "2025-05-20")));
  ExpectEntry(convention, kD, "2025-06-19", true);
  ASSERT_TRUE(Record(
      convention, Action(AgreementAction::KIND_ACCESSION, kE, "2025-12-15")));
  ExpectEntry(convention, kE, "2026-01-14", true);
  EXPECT_EQ(Standing(convention, kE, "2026-01-13"), kConsented);
  EXPECT_EQ(Standing(convention, kE, "2026-01-14"), kInForce);
}

TEST(AfterInstrumentsTest, AnAccessionCountsTowardsTheInstruments) {
  Agreement convention = AfterThirdInstrument();
  ASSERT_TRUE(Record(convention, Action(AgreementAction::KIND_RATIFICATION, kA,
                                        "2025-02-01")));
  ASSERT_TRUE(Record(convention, Action(AgreementAction::KIND_RATIFICATION, kB,
                                        "2025-02-15")));
  ASSERT_TRUE(Record(
      convention, Action(AgreementAction::KIND_ACCESSION, kE, "2025-02-20")));
  for (const char* party : {kA, kB, kE}) {
    ExpectEntry(convention, party, "2025-03-22", true);
  }
}

TEST(AfterInstrumentsTest, InstrumentsRecordedOutOfDateOrderAreSortedByDate) {
  Agreement convention = AfterThirdInstrument();
  ASSERT_TRUE(Record(convention, Action(AgreementAction::KIND_RATIFICATION, kD,
                                        "2025-06-01")));
  ASSERT_TRUE(Record(convention, Action(AgreementAction::KIND_RATIFICATION, kA,
                                        "2025-02-01")));
  ASSERT_TRUE(Record(convention, Action(AgreementAction::KIND_RATIFICATION, kB,
                                        "2025-03-01")));
  // The third instrument by date is D's.
  for (const char* party : {kA, kB, kD}) {
    ExpectEntry(convention, party, "2025-07-01", true);
  }
}

// --- Recorded entries win ---------------------------------------------------

TEST(RecordedEntryTest, ARecordedEntryForAllWinsOverTheDerivedDate) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB});
  SignAll(mou, {kA, kB}, "2025-04-25");
  ASSERT_TRUE(Record(mou, Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "",
                                 "2025-06-10", "2025-07-01")));
  for (const char* party : {kA, kB}) {
    ExpectEntry(mou, party, "2025-07-01", false);
    EXPECT_EQ(Standing(mou, party, "2025-06-30"), kConsented);
    EXPECT_EQ(Standing(mou, party, "2025-07-01"), kInForce);
  }
  EXPECT_EQ(mou.effective_date(), "2025-07-01");
}

TEST(RecordedEntryTest, ARecordedEntryForOnePartyWinsForThatParty) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB, kC});
  SignAll(mou, {kA, kB, kC}, "2025-04-25");
  ASSERT_TRUE(Record(
      mou, Action(AgreementAction::KIND_ENTRY_INTO_FORCE, kC, "2025-05-01")));
  ExpectEntry(mou, kA, "2025-04-25", true);
  ExpectEntry(mou, kC, "2025-05-01", false);
  EXPECT_EQ(Standing(mou, kC, "2025-04-30"), kConsented);
}

TEST(RecordedOnlyTest, NothingIsDerivedUntilAnEntryIsRecorded) {
  Agreement treaty = Between(Agreement::KIND_TREATY, {kA, kB, kC});
  SignAll(treaty, {kA, kB, kC}, "2025-01-10");
  ASSERT_TRUE(Record(
      treaty, Action(AgreementAction::KIND_RATIFICATION, kA, "2025-02-01")));
  ExpectEntry(treaty, kA, "", false);
  EXPECT_EQ(Standing(treaty, kA, "2025-03-01"), kConsented);
  EXPECT_EQ(Standing(treaty, kB, "2025-03-01"), kSigned);

  ASSERT_TRUE(Record(treaty, Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "",
                                    "2025-06-01")));
  for (const char* party : {kA, kB, kC}) {
    ExpectEntry(treaty, party, "2025-06-01", false);
  }
  // In force without another instrument: its signature bound it.
  EXPECT_EQ(StatusOf(treaty, kB).consent_date(), "2025-01-10");
  EXPECT_EQ(StatusOf(treaty, kB).consent_step(),
            AgreementAction::KIND_SIGNATURE);
  EXPECT_EQ(StatusOf(treaty, kA).consent_step(),
            AgreementAction::KIND_RATIFICATION);

  // Acceding after the entry into force: bound from its accession.
  ASSERT_TRUE(Record(
      treaty, Action(AgreementAction::KIND_ACCESSION, kD, "2025-11-03")));
  ExpectEntry(treaty, kD, "2025-11-03", true);
  EXPECT_EQ(Standing(treaty, kD, "2025-11-02"), kNotBound);
  EXPECT_EQ(Standing(treaty, kD, "2025-11-03"), kInForce);
}

// --- Ends -------------------------------------------------------------------

Agreement FiveInForce() {
  Agreement mou = Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING,
                          {kA, kB, kC, kD, kE});
  SignAll(mou, {kA, kB, kC, kD, kE}, "2025-03-01");
  return mou;
}

TEST(EndTest, WithdrawalEndsThePartyOnItsEffectiveDateOnly) {
  Agreement mou = FiveInForce();
  ASSERT_TRUE(Record(mou, Action(AgreementAction::KIND_WITHDRAWAL, kB,
                                 "2026-01-15", "2026-07-15")));
  const v1::PartyStatus b = StatusOf(mou, kB);
  EXPECT_EQ(b.end_date(), "2026-07-15");
  EXPECT_EQ(b.end_step(), AgreementAction::KIND_WITHDRAWAL);
  EXPECT_EQ(Standing(mou, kB, "2026-07-14"), kInForce);
  EXPECT_EQ(Standing(mou, kB, "2026-07-15"), kCeased);
  EXPECT_EQ(Standing(mou, kB, "2026-07-16"), kCeased);
  EXPECT_EQ(Standing(mou, kA, "2026-07-15"), kInForce);
  EXPECT_EQ(StatusOf(mou, kA).end_date(), "");
  EXPECT_TRUE(InForceOn(mou, "2026-07-15"));
}

TEST(EndTest, ABilateralAgreementEndsWithOnePartysWithdrawal) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB});
  SignAll(mou, {kA, kB}, "2025-03-01");
  ASSERT_TRUE(Record(mou, Action(AgreementAction::KIND_DENUNCIATION, kA,
                                 "2026-01-01", "2026-04-01")));
  EXPECT_TRUE(InForceOn(mou, "2026-03-31"));
  EXPECT_FALSE(InForceOn(mou, "2026-04-01"));
  EXPECT_EQ(StatusOf(mou, kA).end_step(), AgreementAction::KIND_DENUNCIATION);
  EXPECT_EQ(Standing(mou, kB, "2026-04-01"), kInForce);
}

TEST(EndTest, TerminationAndExpiryEndEveryParty) {
  Agreement terminated = FiveInForce();
  ASSERT_TRUE(Record(terminated, Action(AgreementAction::KIND_TERMINATION, "",
                                        "2027-01-01", "2027-07-01")));
  for (const char* party : {kA, kE}) {
    EXPECT_EQ(StatusOf(terminated, party).end_date(), "2027-07-01");
    EXPECT_EQ(StatusOf(terminated, party).end_step(),
              AgreementAction::KIND_TERMINATION);
    EXPECT_EQ(Standing(terminated, party, "2027-06-30"), kInForce);
    EXPECT_EQ(Standing(terminated, party, "2027-07-01"), kCeased);
  }

  Agreement expiring = FiveInForce();
  expiring.set_expiry_date("2030-03-01");
  DeriveLifecycle(expiring);
  EXPECT_EQ(StatusOf(expiring, kC).end_date(), "2030-03-01");
  EXPECT_EQ(StatusOf(expiring, kC).end_step(), AgreementAction::KIND_EXPIRY);
  EXPECT_EQ(Standing(expiring, kC, "2030-02-28"), kInForce);
  EXPECT_EQ(Standing(expiring, kC, "2030-03-01"), kCeased);
}

TEST(EndTest, AWithdrawalBeforeTheExpiryIsTheEnd) {
  Agreement mou = FiveInForce();
  mou.set_expiry_date("2030-03-01");
  ASSERT_TRUE(
      Record(mou, Action(AgreementAction::KIND_WITHDRAWAL, kD, "2028-01-01")));
  EXPECT_EQ(StatusOf(mou, kD).end_date(), "2028-01-01");
  EXPECT_EQ(StatusOf(mou, kD).end_step(), AgreementAction::KIND_WITHDRAWAL);
}

TEST(EndTest, APartyThatNeverActedHasNoEnd) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB});
  mou.set_expiry_date("2030-03-01");
  SignAll(mou, {kA}, "2025-03-01");
  EXPECT_EQ(StatusOf(mou, kA).end_date(), "2030-03-01");
  EXPECT_EQ(StatusOf(mou, kB).end_date(), "");
  EXPECT_EQ(Standing(mou, kB, "2031-01-01"), kNotBound);
}

// --- Suspensions ------------------------------------------------------------

TEST(SuspensionTest, SuspendedForAllFromItsDayUntilTheDayBeforeResumption) {
  Agreement mou = FiveInForce();
  ASSERT_TRUE(
      Record(mou, Action(AgreementAction::KIND_SUSPENSION, "", "2026-03-01")));
  EXPECT_EQ(mou.state(), Agreement::STATE_SUSPENDED);
  ASSERT_EQ(StatusOf(mou, kA).suspensions_size(), 1);
  EXPECT_EQ(StatusOf(mou, kA).suspensions(0).end_date(), "");
  ASSERT_TRUE(Record(
      mou, Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "", "2026-06-01")));
  EXPECT_EQ(mou.state(), Agreement::STATE_IN_FORCE);
  for (const char* party : {kA, kC}) {
    const v1::PartyStatus status = StatusOf(mou, party);
    ASSERT_EQ(status.suspensions_size(), 1);
    EXPECT_EQ(status.suspensions(0).start_date(), "2026-03-01");
    EXPECT_EQ(status.suspensions(0).end_date(), "2026-06-01");
    // The resumption is not a new entry into force.
    ExpectEntry(mou, party, "2025-03-01", true);
    EXPECT_EQ(Standing(mou, party, "2026-02-28"), kInForce);
    EXPECT_EQ(Standing(mou, party, "2026-03-01"), kSuspended);
    EXPECT_EQ(Standing(mou, party, "2026-05-31"), kSuspended);
    EXPECT_EQ(Standing(mou, party, "2026-06-01"), kInForce);
  }
  EXPECT_FALSE(InForceOn(mou, "2026-04-01"));
}

TEST(SuspensionTest, SuspendedForOnePartyLeavesTheOthersInForce) {
  Agreement mou = FiveInForce();
  ASSERT_TRUE(
      Record(mou, Action(AgreementAction::KIND_SUSPENSION, kC, "2026-03-01")));
  EXPECT_EQ(mou.state(), Agreement::STATE_IN_FORCE);
  EXPECT_EQ(Standing(mou, kC, "2026-03-01"), kSuspended);
  EXPECT_EQ(Standing(mou, kA, "2026-03-01"), kInForce);
  EXPECT_EQ(StatusOf(mou, kA).suspensions_size(), 0);
  ASSERT_TRUE(Record(
      mou, Action(AgreementAction::KIND_ENTRY_INTO_FORCE, kC, "2026-04-01")));
  EXPECT_EQ(Standing(mou, kC, "2026-04-01"), kInForce);
  ExpectEntry(mou, kC, "2025-03-01", true);
}

TEST(SuspensionTest, ASuspensionOverBeforeAPartyJoinedIsNotItsOwn) {
  Agreement mou = FiveInForce();
  ASSERT_TRUE(
      Record(mou, Action(AgreementAction::KIND_SUSPENSION, "", "2026-03-01")));
  ASSERT_TRUE(Record(
      mou, Action(AgreementAction::KIND_ENTRY_INTO_FORCE, "", "2026-06-01")));
  ASSERT_TRUE(Record(mou, Action(AgreementAction::KIND_ACCESSION,
                                 "institutions/f", "2026-09-01")));
  EXPECT_EQ(StatusOf(mou, "institutions/f").suspensions_size(), 0);
}

// --- Building blocks --------------------------------------------------------

TEST(EntryIntoForceDatesTest, ListsThePartiesWithADateAndHowItWasFound) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB, kC});
  SignAll(mou, {kA, kB, kC}, "2025-03-01");
  ASSERT_TRUE(Record(
      mou, Action(AgreementAction::KIND_ENTRY_INTO_FORCE, kC, "2025-04-01")));
  mou.add_parties(kD);  // named but not signed: holds the others back
  const std::vector<PartyEntryIntoForce> dates = EntryIntoForceDates(mou);
  ASSERT_EQ(dates.size(), 1u) << "D unsigned holds the others back";
  EXPECT_EQ(dates[0].party, kC);
  EXPECT_EQ(dates[0].date, "2025-04-01");
  EXPECT_FALSE(dates[0].derived);

  mou.mutable_parties()->RemoveLast();
  const std::vector<PartyEntryIntoForce> all = EntryIntoForceDates(mou);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].party, kA);
  EXPECT_EQ(all[0].date, "2025-03-01");
  EXPECT_TRUE(all[0].derived);
}

TEST(DeriveTimelinesTest, ActionsOfNonPartiesAreIgnored) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB});
  *mou.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kA, "2025-03-01");
  *mou.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, kC, "2025-03-01");
  *mou.add_actions() =
      Action(AgreementAction::KIND_SIGNATURE, "", "2025-03-01");
  const Timelines timelines = DeriveTimelines(mou);
  ASSERT_EQ(timelines.parties.size(), 2u);
  EXPECT_EQ(timelines.parties[0].signature_date(), "2025-03-01");
  EXPECT_EQ(timelines.parties[1].signature_date(), "");
  EXPECT_EQ(timelines.entry_into_force_date, "");
}

TEST(DeriveLifecycleTest, KeepsEachPartysCountry) {
  Agreement mou =
      Between(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING, {kA, kB});
  DeriveLifecycle(mou);
  mou.mutable_party_statuses(0)->set_country_code("IR");
  mou.mutable_party_statuses(1)->set_country_code("RU");
  SignAll(mou, {kA, kB}, "2025-03-01");
  EXPECT_EQ(StatusOf(mou, kA).country_code(), "IR");
  EXPECT_EQ(StatusOf(mou, kB).country_code(), "RU");
}

TEST(AddDaysTest, CrossesMonthsYearsAndLeapDays) {
  EXPECT_EQ(AddDays("2025-03-01", 30), "2025-03-31");
  EXPECT_EQ(AddDays("2025-03-01", 31), "2025-04-01");
  EXPECT_EQ(AddDays("2025-12-15", 30), "2026-01-14");
  EXPECT_EQ(AddDays("2024-02-28", 1), "2024-02-29");
  EXPECT_EQ(AddDays("2025-02-28", 1), "2025-03-01");
  EXPECT_EQ(AddDays("2025-04", 0), "2025-04-01");
  EXPECT_EQ(AddDays("2025", 31), "2025-02-01");
  EXPECT_EQ(AddDays("soon", 1), "");
}

}  // namespace
}  // namespace accord::agreement
