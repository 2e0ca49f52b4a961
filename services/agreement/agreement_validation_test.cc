#include "services/agreement/agreement_validation.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "accord/agreement/v1/agreement.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/errors.h"
#include "services/agreement/institution_directory.h"

namespace accord::agreement {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;
using testing::Pair;
using testing::UnorderedElementsAre;
using v1::Agreement;
using v1::AgreementAction;
using v1::Committee;
using v1::Milestone;
using v1::MilestoneTransition;
using v1::Session;

constexpr char kMouName[] = "agreements/tums-pcgtrc-nmrc-hematology-mou-2025";
constexpr char kPcgtrc[] = "institutions/pediatric-cell-gene-therapy-rc";
constexpr char kNmrc[] = "institutions/nmrc-hematology";
constexpr char kJecSession[] = "committees/iran-russia-jec/sessions/18";

// The violated fields of `status`, in the order they were reported.
std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& violation : FieldViolationsOf(status)) {
    fields.push_back(violation.field);
  }
  return fields;
}

// Expects INVALID_ARGUMENT naming exactly `fields`, in order.
void ExpectInvalid(const absl::Status& status,
                   const std::vector<std::string>& fields) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(FieldsOf(status), fields) << status;
}

// Expects FAILED_PRECONDITION with `reason` about `field`.
void ExpectFailedPrecondition(const absl::Status& status,
                              const std::string& reason,
                              const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_EQ(ReasonOf(status), reason) << status;
  EXPECT_EQ(FieldsOf(status), std::vector<std::string>{field}) << status;
}

void AddText(google::protobuf::RepeatedPtrField<v1::LocalizedText>* texts,
             const std::string& text, const std::string& language) {
  v1::LocalizedText* entry = texts->Add();
  entry->set_text(text);
  entry->set_language_code(language);
}

AgreementAction Signature(const std::string& party, const std::string& date) {
  AgreementAction action;
  action.set_party(party);
  action.set_kind(AgreementAction::KIND_SIGNATURE);
  action.set_action_date(date);
  return action;
}

// The TUMS-NMRC hematology MOU of examples/seed/05-agreements.json.
Agreement SeedMou() {
  Agreement agreement;
  agreement.set_name(kMouName);
  AddText(agreement.mutable_titles(),
          "Memorandum of understanding on scientific cooperation between the "
          "Pediatric Cell and Gene Therapy Research Center of Tehran "
          "University of Medical Sciences and the National Medical Research "
          "Center for Hematology",
          "en");
  agreement.set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
  agreement.add_parties(kPcgtrc);
  agreement.add_parties(kNmrc);
  v1::Signatory* signatory = agreement.add_signatories();
  signatory->set_official("officials/maryam-behfar");
  signatory->set_party(kPcgtrc);
  signatory->set_capacity("Official of Tehran University of Medical Sciences");
  signatory = agreement.add_signatories();
  signatory->set_official("officials/elena-parovichnikova");
  signatory->set_party(kNmrc);
  signatory->set_capacity(
      "Official of the Russian National Research Center for Hematology");
  v1::Witness* witness = agreement.add_witnesses();
  witness->set_official("officials/mohsen-paknejad");
  witness->set_institution("institutions/ministry-petroleum-ir");
  witness->set_capacity("Minister of Petroleum");
  witness = agreement.add_witnesses();
  witness->set_official("officials/sergey-tsivilev");
  witness->set_institution("institutions/ministry-energy-ru");
  witness->set_capacity("Minister of Energy");
  agreement.set_signing_date("2025-04-25");
  agreement.mutable_signing_place()->set_city("Moscow");
  agreement.mutable_signing_place()->set_country_code("RU");
  agreement.set_occasion(kJecSession);
  for (const char* area : {"cell-and-gene-therapy", "medical-research",
                           "medical-knowledge", "science-diplomacy"}) {
    agreement.add_cooperation_areas(area);
  }
  agreement.add_keywords("scientific cooperation");
  agreement.add_keywords("scientific capacities");
  AddText(agreement.mutable_objectives(),
          "Expand joint research on cell and gene therapy", "en");
  AddText(agreement.mutable_objectives(),
          "Improve medical knowledge in the two countries", "en");
  v1::Source* source = agreement.add_sources();
  source->set_publisher("IRNA");
  source->set_publish_date("2025-04-26");
  *agreement.add_actions() = Signature(kPcgtrc, "2025-04-25");
  *agreement.add_actions() = Signature(kNmrc, "2025-04-25");
  return agreement;
}

// The Iran-Russia Joint Economic Committee of the seed, with co-chairs.
Committee SeedCommittee() {
  Committee committee;
  committee.set_name("committees/iran-russia-jec");
  AddText(committee.mutable_names(), "Iran-Russia Joint Economic Committee",
          "en");
  committee.set_kind(Committee::KIND_JOINT_ECONOMIC_COMMITTEE);
  committee.add_member_institutions("institutions/iran");
  committee.add_member_institutions("institutions/russia");
  v1::CoChair* co_chair = committee.add_co_chairs();
  co_chair->set_official("officials/mohsen-paknejad");
  co_chair->set_institution("institutions/iran");
  co_chair = committee.add_co_chairs();
  co_chair->set_official("officials/sergey-tsivilev");
  co_chair->set_institution("institutions/russia");
  committee.set_state(Committee::STATE_ACTIVE);
  v1::Source* source = committee.add_sources();
  source->set_publisher("IRNA");
  source->set_publish_date("2025-04-26");
  return committee;
}

// The 18th session of the JEC, from examples/seed/04-sessions.json.
Session SeedSession() {
  Session session;
  session.set_name(kJecSession);
  session.set_number(18);
  session.set_start_date("2025-04-22");
  session.set_end_date("2025-04-24");
  session.mutable_place()->set_city("Moscow");
  session.mutable_place()->set_country_code("RU");
  v1::Participant* participant = session.add_participants();
  participant->set_official("officials/mohsen-paknejad");
  participant->set_institution("institutions/ministry-petroleum-ir");
  participant->set_role("Minister of Petroleum");
  participant = session.add_participants();
  participant->set_official("officials/sergey-tsivilev");
  participant->set_institution("institutions/ministry-energy-ru");
  participant->set_role("Minister of Energy");
  participant = session.add_participants();
  participant->set_official("officials/kazem-jalali");
  participant->set_role("Ambassador of Iran to Russia");
  session.add_agreements_signed(kMouName);
  AddText(session.mutable_decisions(),
          "Expand bilateral cooperation between the Islamic Republic of Iran "
          "and the Russian Federation",
          "en");
  v1::Source* source = session.add_sources();
  source->set_publisher("IRNA");
  source->set_publish_date("2025-04-26");
  return session;
}

// The university-network milestone of examples/seed/09-milestones.json,
// as stored after creation.
Milestone SeedMilestone() {
  Milestone milestone;
  milestone.set_name(
      "agreements/iran-russia-comprehensive-strategic-partnership/milestones/"
      "launch-university-network");
  AddText(milestone.mutable_titles(), "Launch a university network", "en");
  milestone.add_owners("institutions/ministry-health-ir");
  milestone.add_owners("institutions/ministry-health-ru");
  milestone.add_proposers("officials/mohammad-hossein-niknam");
  milestone.add_proposers("officials/hadi-goudarzi");
  milestone.set_state(Milestone::STATE_PROPOSED);
  milestone.set_record_date("2025-04-26");
  milestone.set_committee("committees/iran-russia-health-pjc");
  v1::Source* source = milestone.add_sources();
  source->set_publisher("Ministry of Health and Medical Education (website)");
  source->set_publish_date("2025-04-26");
  MilestoneTransition* first = milestone.add_transitions();
  first->set_state(Milestone::STATE_PROPOSED);
  first->set_transition_date("2025-04-26");
  return milestone;
}

MilestoneTransition Transition(Milestone::State state,
                               const std::string& date) {
  MilestoneTransition transition;
  transition.set_state(state);
  transition.set_transition_date(date);
  return transition;
}

// --- ValidateAgreement
// --------------------------------------------------------

TEST(ValidateAgreementTest, SeedMouIsValid) {
  const absl::Status status = ValidateAgreement(SeedMou());
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ValidateAgreementTest, MinimalAgreementIsValid) {
  Agreement agreement;
  AddText(agreement.mutable_titles(), "Joint statement", "");
  agreement.set_kind(Agreement::KIND_JOINT_STATEMENT);
  agreement.add_parties("institutions/iran");
  agreement.add_parties("institutions/russia");
  EXPECT_TRUE(ValidateAgreement(agreement).ok())
      << ValidateAgreement(agreement);
}

TEST(ValidateAgreementTest, MissingTitlesAreRejected) {
  Agreement agreement = SeedMou();
  agreement.clear_titles();
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.titles"});
}

TEST(ValidateAgreementTest, BlankTitleTextAndBadLanguageAreRejected) {
  Agreement agreement = SeedMou();
  AddText(agreement.mutable_titles(), "  ", "fa");
  AddText(agreement.mutable_titles(), "Меморандум", "russian");
  ExpectInvalid(
      ValidateAgreement(agreement),
      {"agreement.titles[1].text", "agreement.titles[2].language_code"});
}

TEST(ValidateAgreementTest, UnsetOrUnknownKindIsRejected) {
  Agreement agreement = SeedMou();
  agreement.set_kind(Agreement::KIND_UNSPECIFIED);
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.kind"});
  agreement.set_kind(static_cast<Agreement::Kind>(99));
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.kind"});
}

TEST(ValidateAgreementTest, FewerThanTwoPartiesAreRejected) {
  Agreement agreement = SeedMou();
  agreement.clear_parties();
  agreement.add_parties(kPcgtrc);
  agreement.clear_signatories();
  agreement.clear_actions();
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.parties"});
  agreement.clear_parties();
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.parties"});
}

TEST(ValidateAgreementTest, DuplicatePartyIsRejectedAtItsIndex) {
  Agreement agreement = SeedMou();
  agreement.add_parties(kPcgtrc);
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.parties[2]"});
}

TEST(ValidateAgreementTest, BadPartyNamesAreRejectedAtTheirIndex) {
  for (const std::string name :
       {"institutions/NMRC", "organisations/nmrc", "institutions/",
        "nmrc-hematology", "institutions/nmrc/units/lab", ""}) {
    SCOPED_TRACE(name);
    Agreement agreement = SeedMou();
    agreement.add_parties(name);
    ExpectInvalid(ValidateAgreement(agreement), {"agreement.parties[2]"});
  }
}

TEST(ValidateAgreementTest, SignatoryForNonPartyIsRejected) {
  Agreement agreement = SeedMou();
  agreement.mutable_signatories(1)->set_party("institutions/tums");
  ExpectInvalid(ValidateAgreement(agreement),
                {"agreement.signatories[1].party"});
}

TEST(ValidateAgreementTest, SignatoryOfficialMustBeAnOfficialName) {
  Agreement agreement = SeedMou();
  agreement.mutable_signatories(0)->set_official("institutions/maryam-behfar");
  ExpectInvalid(ValidateAgreement(agreement),
                {"agreement.signatories[0].official"});
  agreement.mutable_signatories(0)->clear_official();
  ExpectInvalid(ValidateAgreement(agreement),
                {"agreement.signatories[0].official"});
}

TEST(ValidateAgreementTest, WitnessOfficialWithBadNameIsRejected) {
  Agreement agreement = SeedMou();
  agreement.mutable_witnesses(0)->set_official("officials/Mohsen Paknejad");
  ExpectInvalid(ValidateAgreement(agreement),
                {"agreement.witnesses[0].official"});
  agreement.mutable_witnesses(0)->clear_official();
  ExpectInvalid(ValidateAgreement(agreement),
                {"agreement.witnesses[0].official"});
}

TEST(ValidateAgreementTest, WitnessInstitutionIsOptionalButMustBeWellFormed) {
  Agreement agreement = SeedMou();
  agreement.mutable_witnesses(1)->clear_institution();
  EXPECT_TRUE(ValidateAgreement(agreement).ok());
  agreement.mutable_witnesses(1)->set_institution("ministry-energy-ru");
  ExpectInvalid(ValidateAgreement(agreement),
                {"agreement.witnesses[1].institution"});
}

TEST(ValidateAgreementTest, SigningPlaceNeedsIsoCountryCode) {
  for (const std::string code : {"RUS", "ru", "", "Russia", "XY"}) {
    SCOPED_TRACE(code);
    Agreement agreement = SeedMou();
    agreement.mutable_signing_place()->set_country_code(code);
    ExpectInvalid(ValidateAgreement(agreement),
                  {"agreement.signing_place.country_code"});
  }
}

TEST(ValidateAgreementTest, BadSigningDateIsRejected) {
  Agreement agreement = SeedMou();
  agreement.set_signing_date("25.04.2025");
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.signing_date"});
}

TEST(ValidateAgreementTest, OccasionMustBeASessionName) {
  for (const std::string occasion :
       {"committees/iran-russia-jec", "sessions/18",
        "committees/iran-russia-jec/sessions/",
        "agreements/iran-russia-jec/sessions/18",
        "committees/iran-russia-jec/sessions/18/decisions/1"}) {
    SCOPED_TRACE(occasion);
    Agreement agreement = SeedMou();
    agreement.set_occasion(occasion);
    ExpectInvalid(ValidateAgreement(agreement), {"agreement.occasion"});
  }
}

TEST(ValidateAgreementTest, ParentAgreementCannotBeItself) {
  Agreement agreement = SeedMou();
  agreement.set_parent_agreement(kMouName);
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.parent_agreement"});
  agreement.set_parent_agreement(
      "agreements/iran-russia-comprehensive-strategic-partnership");
  EXPECT_TRUE(ValidateAgreement(agreement).ok());
  agreement.set_parent_agreement("committees/iran-russia-jec");
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.parent_agreement"});
}

TEST(ValidateAgreementTest, CooperationAreaOutsideVocabularyIsRejected) {
  Agreement agreement = SeedMou();
  agreement.add_cooperation_areas("hematology");
  ExpectInvalid(ValidateAgreement(agreement),
                {"agreement.cooperation_areas[4]"});
}

TEST(ValidateAgreementTest, RepeatedCooperationAreaIsRejected) {
  Agreement agreement = SeedMou();
  agreement.add_cooperation_areas("medical-research");
  ExpectInvalid(ValidateAgreement(agreement),
                {"agreement.cooperation_areas[4]"});
}

TEST(ValidateAgreementTest, KeywordLongerThan64BytesIsRejected) {
  Agreement agreement = SeedMou();
  agreement.add_keywords(std::string(64, 'k'));
  EXPECT_TRUE(ValidateAgreement(agreement).ok());
  agreement.add_keywords(std::string(65, 'k'));
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.keywords[3]"});
}

TEST(ValidateAgreementTest, BlankKeywordIsRejected) {
  Agreement agreement = SeedMou();
  agreement.add_keywords(" ");
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.keywords[2]"});
}

TEST(ValidateAgreementTest, SourceUriMustBeHttpOrHttps) {
  for (const std::string uri :
       {"ftp://irna.ir/en/news", "irna.ir/en/news", "https://", "mailto:x@y"}) {
    SCOPED_TRACE(uri);
    Agreement agreement = SeedMou();
    agreement.mutable_sources(0)->set_uri(uri);
    ExpectInvalid(ValidateAgreement(agreement), {"agreement.sources[0].uri"});
  }
  Agreement agreement = SeedMou();
  agreement.mutable_sources(0)->set_uri("https://en.irna.ir/news/85812345");
  EXPECT_TRUE(ValidateAgreement(agreement).ok());
}

TEST(ValidateAgreementTest, SourceNeedsPublisher) {
  Agreement agreement = SeedMou();
  agreement.mutable_sources(0)->clear_publisher();
  ExpectInvalid(ValidateAgreement(agreement),
                {"agreement.sources[0].publisher"});
}

TEST(ValidateAgreementTest, ExpiryBeforeSigningIsRejected) {
  Agreement agreement = SeedMou();
  agreement.set_expiry_date("2025-04-24");
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.expiry_date"});
  agreement.set_expiry_date("2025-04");  // the first of April
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.expiry_date"});
  agreement.set_expiry_date("2030-04-25");
  EXPECT_TRUE(ValidateAgreement(agreement).ok());
}

TEST(ValidateAgreementTest, ActionForNonPartyIsRejectedAtItsIndex) {
  Agreement agreement = SeedMou();
  *agreement.add_actions() = Signature("institutions/tums", "2025-04-25");
  ExpectInvalid(ValidateAgreement(agreement), {"agreement.actions[2].party"});
}

TEST(ValidateAgreementTest, ActionWithMalformedNamesIsRejected) {
  Agreement agreement = SeedMou();
  agreement.mutable_actions(0)->set_party("pediatric-cell-gene-therapy-rc");
  agreement.mutable_actions(1)->set_acting_body("institutions/NMRC");
  ExpectInvalid(
      ValidateAgreement(agreement),
      {"agreement.actions[0].party", "agreement.actions[1].acting_body"});
}

TEST(ValidateAgreementTest, ActionsOutOfOrderAreFailedPrecondition) {
  Agreement agreement = SeedMou();
  *agreement.add_actions() = Signature(kNmrc, "2025-04-26");
  ExpectFailedPrecondition(ValidateAgreement(agreement), "ACTION_OUT_OF_ORDER",
                           "agreement.actions[2].kind");
}

TEST(ValidateAgreementTest, ReportsEveryViolatedFieldAtOnce) {
  Agreement agreement = SeedMou();
  agreement.clear_titles();
  agreement.set_kind(Agreement::KIND_UNSPECIFIED);
  agreement.mutable_signing_place()->set_country_code("");
  agreement.set_expiry_date("2024");
  ExpectInvalid(
      ValidateAgreement(agreement),
      {"agreement.titles", "agreement.kind",
       "agreement.signing_place.country_code", "agreement.expiry_date"});
}

// --- ValidateCommittee
// --------------------------------------------------------

TEST(ValidateCommitteeTest, SeedCommitteeIsValid) {
  EXPECT_TRUE(ValidateCommittee(SeedCommittee()).ok())
      << ValidateCommittee(SeedCommittee());
}

TEST(ValidateCommitteeTest, EmptyMembersAreRejected) {
  Committee committee = SeedCommittee();
  committee.clear_co_chairs();
  committee.clear_member_institutions();
  ExpectInvalid(ValidateCommittee(committee),
                {"committee.member_institutions"});
}

TEST(ValidateCommitteeTest, CoChairInstitutionMustBeAMember) {
  Committee committee = SeedCommittee();
  committee.mutable_co_chairs(1)->set_institution(
      "institutions/ministry-energy-ru");
  ExpectInvalid(ValidateCommittee(committee),
                {"committee.co_chairs[1].institution"});
}

TEST(ValidateCommitteeTest, CoChairOfficialMustBeAnOfficialName) {
  Committee committee = SeedCommittee();
  committee.mutable_co_chairs(0)->set_official("officials/");
  ExpectInvalid(ValidateCommittee(committee),
                {"committee.co_chairs[0].official"});
}

TEST(ValidateCommitteeTest, UnsetOrUnknownStateIsRejected) {
  Committee committee = SeedCommittee();
  committee.set_state(Committee::STATE_UNSPECIFIED);
  ExpectInvalid(ValidateCommittee(committee), {"committee.state"});
  committee.set_state(static_cast<Committee::State>(9));
  ExpectInvalid(ValidateCommittee(committee), {"committee.state"});
  committee.set_state(Committee::STATE_PROPOSED);
  EXPECT_TRUE(ValidateCommittee(committee).ok());
}

TEST(ValidateCommitteeTest, NamesKindAndDuplicateMemberAreRejected) {
  Committee committee = SeedCommittee();
  committee.clear_names();
  committee.set_kind(Committee::KIND_UNSPECIFIED);
  committee.add_member_institutions("institutions/iran");
  ExpectInvalid(ValidateCommittee(committee),
                {"committee.names", "committee.kind",
                 "committee.member_institutions[2]"});
}

TEST(ValidateCommitteeTest, EstablishingAgreementMustBeAnAgreementName) {
  Committee committee = SeedCommittee();
  committee.set_establishing_agreement(
      "agreements/iran-russia-comprehensive-strategic-partnership");
  EXPECT_TRUE(ValidateCommittee(committee).ok());
  committee.set_establishing_agreement("iran-russia-treaty");
  ExpectInvalid(ValidateCommittee(committee),
                {"committee.establishing_agreement"});
}

// --- ValidateSession
// ----------------------------------------------------------

TEST(ValidateSessionTest, SeedSessionIsValid) {
  EXPECT_TRUE(ValidateSession(SeedSession()).ok())
      << ValidateSession(SeedSession());
}

TEST(ValidateSessionTest, NumberMustBeAtLeastOne) {
  Session session = SeedSession();
  session.set_number(0);
  ExpectInvalid(ValidateSession(session), {"session.number"});
  session.set_number(-18);
  ExpectInvalid(ValidateSession(session), {"session.number"});
}

TEST(ValidateSessionTest, PartialOrMissingStartDateIsRejected) {
  for (const std::string date : {"2025-04", "2025", "", "2025-04-31"}) {
    SCOPED_TRACE(date);
    Session session = SeedSession();
    session.set_start_date(date);
    ExpectInvalid(ValidateSession(session), {"session.start_date"});
  }
}

TEST(ValidateSessionTest, PartialEndDateIsRejected) {
  Session session = SeedSession();
  session.set_end_date("2025-05");
  ExpectInvalid(ValidateSession(session), {"session.end_date"});
  session.clear_end_date();
  EXPECT_TRUE(ValidateSession(session).ok());
}

TEST(ValidateSessionTest, EndBeforeStartIsRejected) {
  Session session = SeedSession();
  session.set_end_date("2025-04-21");
  ExpectInvalid(ValidateSession(session), {"session.end_date"});
  session.set_end_date("2025-04-22");
  EXPECT_TRUE(ValidateSession(session).ok());
}

TEST(ValidateSessionTest, ParticipantOfficialMustBeAnOfficialName) {
  Session session = SeedSession();
  session.mutable_participants(2)->set_official("kazem-jalali");
  ExpectInvalid(ValidateSession(session), {"session.participants[2].official"});
  session.mutable_participants(2)->clear_official();
  ExpectInvalid(ValidateSession(session), {"session.participants[2].official"});
}

TEST(ValidateSessionTest, ParticipantInstitutionMustBeWellFormed) {
  Session session = SeedSession();
  session.mutable_participants(0)->set_institution("officials/mohsen-paknejad");
  ExpectInvalid(ValidateSession(session),
                {"session.participants[0].institution"});
}

TEST(ValidateSessionTest, PlaceAndSignedAgreementsAreChecked) {
  Session session = SeedSession();
  session.mutable_place()->set_country_code("SU");
  session.add_agreements_signed(kMouName);
  session.add_agreements_signed("agreements/");
  ExpectInvalid(ValidateSession(session),
                {"session.place.country_code", "session.agreements_signed[2]",
                 "session.agreements_signed[1]"});
}

// --- ValidateMilestone
// --------------------------------------------------------

TEST(ValidateMilestoneTest, SeedMilestoneIsValid) {
  EXPECT_TRUE(ValidateMilestone(SeedMilestone()).ok())
      << ValidateMilestone(SeedMilestone());
}

TEST(ValidateMilestoneTest, MissingTitlesAreRejected) {
  Milestone milestone = SeedMilestone();
  milestone.clear_titles();
  ExpectInvalid(ValidateMilestone(milestone), {"milestone.titles"});
}

TEST(ValidateMilestoneTest, BadOrRepeatedOwnersAreRejected) {
  Milestone milestone = SeedMilestone();
  milestone.set_owners(1, "ministry-health-ru");
  ExpectInvalid(ValidateMilestone(milestone), {"milestone.owners[1]"});
  milestone.set_owners(1, "institutions/ministry-health-ir");
  ExpectInvalid(ValidateMilestone(milestone), {"milestone.owners[1]"});
}

TEST(ValidateMilestoneTest, BadProposerIsRejected) {
  Milestone milestone = SeedMilestone();
  milestone.set_proposers(0, "institutions/ministry-health-ir");
  ExpectInvalid(ValidateMilestone(milestone), {"milestone.proposers[0]"});
}

TEST(ValidateMilestoneTest, DueSessionMustBeASessionName) {
  Milestone milestone = SeedMilestone();
  milestone.set_due_session("committees/iran-russia-jec/sessions/19");
  EXPECT_TRUE(ValidateMilestone(milestone).ok());
  milestone.set_due_session("committees/iran-russia-jec");
  ExpectInvalid(ValidateMilestone(milestone), {"milestone.due_session"});
}

TEST(ValidateMilestoneTest, UnsetOrUnknownStateIsRejected) {
  Milestone milestone = SeedMilestone();
  milestone.set_state(Milestone::STATE_UNSPECIFIED);
  ExpectInvalid(ValidateMilestone(milestone), {"milestone.state"});
  milestone.set_state(static_cast<Milestone::State>(17));
  ExpectInvalid(ValidateMilestone(milestone), {"milestone.state"});
}

TEST(ValidateMilestoneTest, DatesAndCommitteeAreChecked) {
  Milestone milestone = SeedMilestone();
  milestone.set_due_date("next year");
  milestone.set_committee("committees/Health");
  milestone.set_record_date("2025-02-29");
  ExpectInvalid(
      ValidateMilestone(milestone),
      {"milestone.due_date", "milestone.committee", "milestone.record_date"});
}

// --- ValidateTransition
// -------------------------------------------------------

TEST(ValidateTransitionTest, ForwardTransitionIsValid) {
  const Milestone milestone = SeedMilestone();
  EXPECT_TRUE(ValidateTransition(
                  milestone, Transition(Milestone::STATE_PLANNED, "2025-05-01"))
                  .ok());
  // The same day as the last transition is not before it.
  EXPECT_TRUE(
      ValidateTransition(milestone,
                         Transition(Milestone::STATE_IN_PROGRESS, "2025-04-26"))
          .ok());
}

TEST(ValidateTransitionTest, ClosedMilestoneIsFailedPrecondition) {
  for (const Milestone::State closed :
       {Milestone::STATE_ACHIEVED, Milestone::STATE_CANCELLED}) {
    SCOPED_TRACE(Milestone::State_Name(closed));
    Milestone milestone = SeedMilestone();
    milestone.set_state(closed);
    ExpectFailedPrecondition(
        ValidateTransition(milestone,
                           Transition(Milestone::STATE_PLANNED, "2025-06-01")),
        "MILESTONE_CLOSED", "transition.state");
  }
}

TEST(ValidateTransitionTest, SameStateIsFailedPrecondition) {
  ExpectFailedPrecondition(
      ValidateTransition(SeedMilestone(),
                         Transition(Milestone::STATE_PROPOSED, "2025-06-01")),
      "NO_CHANGE", "transition.state");
}

TEST(ValidateTransitionTest, DateBeforeLastTransitionIsFailedPrecondition) {
  const Milestone milestone = SeedMilestone();
  ExpectFailedPrecondition(
      ValidateTransition(milestone,
                         Transition(Milestone::STATE_PLANNED, "2025-04-25")),
      "TRANSITION_OUT_OF_ORDER", "transition.transition_date");
  // A partial date stands for its first day.
  ExpectFailedPrecondition(
      ValidateTransition(milestone,
                         Transition(Milestone::STATE_PLANNED, "2025-04")),
      "TRANSITION_OUT_OF_ORDER", "transition.transition_date");
}

TEST(ValidateTransitionTest, MalformedTransitionIsInvalidArgument) {
  Milestone milestone = SeedMilestone();
  MilestoneTransition transition = Transition(Milestone::STATE_UNSPECIFIED, "");
  transition.set_session("committees/iran-russia-jec");
  ExpectInvalid(
      ValidateTransition(milestone, transition),
      {"transition.state", "transition.transition_date", "transition.session"});
  // Malformed input is reported even on a closed milestone.
  milestone.set_state(Milestone::STATE_ACHIEVED);
  ExpectInvalid(
      ValidateTransition(milestone,
                         Transition(Milestone::STATE_PLANNED, "2025-13-01")),
      {"transition.transition_date"});
}

// --- Resource names
// -----------------------------------------------------------

TEST(CheckSessionNameTest, AcceptsCommitteeSessions) {
  EXPECT_TRUE(CheckSessionName(kJecSession, "session.name").ok());
  EXPECT_TRUE(
      CheckSessionName("committees/iran-russia-jec/sessions/first", "name")
          .ok());
}

TEST(CheckSessionNameTest, RejectsOtherShapes) {
  for (const std::string name :
       {"committees/iran-russia-jec", "committees/iran-russia-jec/sessions/",
        "committees/18/sessions/18", "committees/Jec/sessions/18",
        "agreements/iran-russia-jec/sessions/18",
        "committees/iran-russia-jec/meetings/18",
        "committees/iran-russia-jec/sessions/18/x/y", ""}) {
    SCOPED_TRACE(name);
    ExpectInvalid(CheckSessionName(name, "agreement.occasion"),
                  {"agreement.occasion"});
  }
}

TEST(CheckMilestoneNameTest, AcceptsAgreementAndCommitteeMilestones) {
  EXPECT_TRUE(CheckMilestoneName(SeedMilestone().name(), "name").ok());
  EXPECT_TRUE(CheckMilestoneName(
                  "committees/iran-russia-health-pjc/milestones/1", "name")
                  .ok());
}

TEST(CheckMilestoneNameTest, RejectsOtherShapes) {
  for (const std::string name :
       {"institutions/iran/milestones/x", "agreements/x",
        "committees/iran-russia-jec/sessions/18", "agreements/x/milestones/",
        "committees/x/milestones/Y", "milestones/x", ""}) {
    SCOPED_TRACE(name);
    ExpectInvalid(CheckMilestoneName(name, "milestone.name"),
                  {"milestone.name"});
  }
}

TEST(CheckMilestoneParentTest, AcceptsAgreementsAndCommittees) {
  EXPECT_TRUE(CheckMilestoneParent(kMouName, "parent").ok());
  EXPECT_TRUE(
      CheckMilestoneParent("committees/iran-russia-jec", "parent").ok());
}

TEST(CheckMilestoneParentTest, RejectsOtherShapes) {
  for (const std::string parent :
       {"institutions/iran", "committees/", "agreements/x/milestones/y",
        "committees/iran-russia-jec/sessions/18", "agreements", ""}) {
    SCOPED_TRACE(parent);
    ExpectInvalid(CheckMilestoneParent(parent, "parent"), {"parent"});
  }
}

// --- ReferencesOf
// -------------------------------------------------------------
//
// References keeps its entries private to InstitutionDirectory, so these
// tests read them back through Resolve against an in-process fake of the
// institution service that reports every name it is asked about as missing.

// `names[i]` violations for every requested name, as BatchGet* answers.
grpc::Status AllMissing(
    const google::protobuf::RepeatedPtrField<std::string>& names) {
  std::vector<FieldViolation> violations;
  for (int i = 0; i < names.size(); ++i) {
    violations.push_back({absl::StrCat("names[", i, "]"), "not found"});
  }
  return ToGrpcStatus(
      ErrorWithFields(absl::StatusCode::kNotFound, "missing", violations));
}

class FakeInstitutionService final
    : public institution::v1::InstitutionService::Service {
 public:
  // Which batch call reports its names as missing.
  void SetMissing(bool institutions, bool officials) {
    absl::MutexLock lock(&mutex_);
    institutions_missing_ = institutions;
    officials_missing_ = officials;
  }

  grpc::Status BatchGetInstitutions(
      grpc::ServerContext*,
      const institution::v1::BatchGetInstitutionsRequest* request,
      institution::v1::BatchGetInstitutionsResponse* response) override {
    absl::MutexLock lock(&mutex_);
    if (institutions_missing_) return AllMissing(request->names());
    for (const std::string& name : request->names()) {
      response->add_institutions()->set_name(name);
    }
    return grpc::Status::OK;
  }

  grpc::Status BatchGetOfficials(
      grpc::ServerContext*,
      const institution::v1::BatchGetOfficialsRequest* request,
      institution::v1::BatchGetOfficialsResponse* response) override {
    absl::MutexLock lock(&mutex_);
    if (officials_missing_) return AllMissing(request->names());
    for (const std::string& name : request->names()) {
      response->add_officials()->set_name(name);
    }
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mutex_;
  bool institutions_missing_ = false;
  bool officials_missing_ = false;
};

class ReferencesOfTest : public testing::Test {
 protected:
  using FieldAndName = std::pair<std::string, std::string>;

  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    directory_ = std::make_unique<InstitutionDirectory>(
        server_->InProcessChannel(grpc::ChannelArguments()), absl::Seconds(10));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // (field, institution) for every institution `references` names.
  std::vector<FieldAndName> Institutions(const References& references) {
    service_.SetMissing(true, false);
    return Missing(references, " is not a live institution");
  }

  // (field, official) for every official `references` names.
  std::vector<FieldAndName> Officials(const References& references) {
    service_.SetMissing(false, true);
    return Missing(references, " is not a live official");
  }

 private:
  std::vector<FieldAndName> Missing(const References& references,
                                    absl::string_view suffix) {
    std::vector<FieldAndName> found;
    const absl::Status status = directory_->Resolve(references).status();
    if (status.ok()) return found;
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    for (const FieldViolation& violation : FieldViolationsOf(status)) {
      absl::string_view name = violation.description;
      EXPECT_TRUE(absl::EndsWith(name, suffix)) << violation.description;
      name.remove_suffix(std::min(suffix.size(), name.size()));
      found.emplace_back(violation.field, std::string(name));
    }
    return found;
  }

  FakeInstitutionService service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<InstitutionDirectory> directory_;
};

TEST_F(ReferencesOfTest, AgreementNamesPartiesWitnessInstitutionsAndBodies) {
  Agreement agreement = SeedMou();
  agreement.mutable_actions(1)->set_acting_body("institutions/minzdrav-ru");
  EXPECT_THAT(Institutions(ReferencesOf(agreement)),
              UnorderedElementsAre(Pair("agreement.parties[0]", kPcgtrc),
                                   Pair("agreement.parties[1]", kNmrc),
                                   Pair("agreement.witnesses[0].institution",
                                        "institutions/ministry-petroleum-ir"),
                                   Pair("agreement.witnesses[1].institution",
                                        "institutions/ministry-energy-ru"),
                                   Pair("agreement.actions[1].acting_body",
                                        "institutions/minzdrav-ru")));
}

TEST_F(ReferencesOfTest, AgreementNamesSignatoriesAndWitnesses) {
  EXPECT_THAT(
      Officials(ReferencesOf(SeedMou())),
      UnorderedElementsAre(
          Pair("agreement.signatories[0].official", "officials/maryam-behfar"),
          Pair("agreement.signatories[1].official",
               "officials/elena-parovichnikova"),
          Pair("agreement.witnesses[0].official", "officials/mohsen-paknejad"),
          Pair("agreement.witnesses[1].official",
               "officials/sergey-tsivilev")));
}

TEST_F(ReferencesOfTest, AgreementSkipsUnsetWitnessInstitution) {
  Agreement agreement = SeedMou();
  agreement.mutable_witnesses(0)->clear_institution();
  agreement.mutable_witnesses(1)->clear_institution();
  EXPECT_THAT(Institutions(ReferencesOf(agreement)),
              UnorderedElementsAre(Pair("agreement.parties[0]", kPcgtrc),
                                   Pair("agreement.parties[1]", kNmrc)));
}

TEST_F(ReferencesOfTest, NameRepeatedInTwoFieldsIsReportedForBoth) {
  Agreement agreement = SeedMou();
  agreement.mutable_witnesses(0)->set_institution(kPcgtrc);
  agreement.mutable_witnesses(1)->clear_institution();
  EXPECT_THAT(
      Institutions(ReferencesOf(agreement)),
      UnorderedElementsAre(Pair("agreement.parties[0]", kPcgtrc),
                           Pair("agreement.witnesses[0].institution", kPcgtrc),
                           Pair("agreement.parties[1]", kNmrc)));
}

TEST_F(ReferencesOfTest, CommitteeNamesMembersAndCoChairs) {
  const Committee committee = SeedCommittee();
  EXPECT_THAT(
      Institutions(ReferencesOf(committee)),
      UnorderedElementsAre(
          Pair("committee.member_institutions[0]", "institutions/iran"),
          Pair("committee.member_institutions[1]", "institutions/russia")));
  EXPECT_THAT(Officials(ReferencesOf(committee)),
              UnorderedElementsAre(Pair("committee.co_chairs[0].official",
                                        "officials/mohsen-paknejad"),
                                   Pair("committee.co_chairs[1].official",
                                        "officials/sergey-tsivilev")));
}

TEST_F(ReferencesOfTest, SessionNamesParticipantsAndTheirInstitutions) {
  const Session session = SeedSession();
  EXPECT_THAT(Institutions(ReferencesOf(session)),
              UnorderedElementsAre(Pair("session.participants[0].institution",
                                        "institutions/ministry-petroleum-ir"),
                                   Pair("session.participants[1].institution",
                                        "institutions/ministry-energy-ru")));
  EXPECT_THAT(
      Officials(ReferencesOf(session)),
      UnorderedElementsAre(
          Pair("session.participants[0].official", "officials/mohsen-paknejad"),
          Pair("session.participants[1].official", "officials/sergey-tsivilev"),
          Pair("session.participants[2].official", "officials/kazem-jalali")));
}

TEST_F(ReferencesOfTest, MilestoneNamesOwnersAndProposers) {
  const Milestone milestone = SeedMilestone();
  EXPECT_THAT(
      Institutions(ReferencesOf(milestone)),
      UnorderedElementsAre(
          Pair("milestone.owners[0]", "institutions/ministry-health-ir"),
          Pair("milestone.owners[1]", "institutions/ministry-health-ru")));
  EXPECT_THAT(
      Officials(ReferencesOf(milestone)),
      UnorderedElementsAre(
          Pair("milestone.proposers[0]", "officials/mohammad-hossein-niknam"),
          Pair("milestone.proposers[1]", "officials/hadi-goudarzi")));
}

TEST_F(ReferencesOfTest, ActionNamesOnlyItsActingBody) {
  AgreementAction action = Signature("institutions/russia", "2025-04");
  action.set_kind(AgreementAction::KIND_APPROVAL);
  action.set_acting_body("institutions/state-duma-ru");
  EXPECT_THAT(
      Institutions(ReferencesOf(action, "action")),
      ElementsAre(Pair("action.acting_body", "institutions/state-duma-ru")));
  action.clear_acting_body();
  EXPECT_THAT(Institutions(ReferencesOf(action, "action")), IsEmpty());
  EXPECT_THAT(Officials(ReferencesOf(action, "action")), IsEmpty());
}

}  // namespace
}  // namespace accord::agreement
