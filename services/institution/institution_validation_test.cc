#include "services/institution/institution_validation.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "accord/institution/v1/institution.pb.h"
#include "common/errors.h"

namespace accord::institution {
namespace {

using v1::ExternalId;
using v1::Institution;
using v1::InstitutionName;
using v1::InstitutionRelation;
using v1::Official;
using v1::PersonName;
using v1::Position;

// The violated fields of `status`, in the order they were reported.
std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& violation : FieldViolationsOf(status)) {
    fields.push_back(violation.field);
  }
  return fields;
}

// Expects INVALID_ARGUMENT naming exactly `fields`, in order.
void ExpectViolations(const absl::Status& status,
                      const std::vector<std::string>& fields) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(FieldsOf(status), fields) << status;
}

// The description of the only violation of `status`, or "" if there is not
// exactly one.
std::string OnlyDescription(const absl::Status& status) {
  const std::vector<FieldViolation> violations = FieldViolationsOf(status);
  return violations.size() == 1 ? violations[0].description : "";
}

void AddName(Institution& institution, const std::string& text,
             InstitutionName::Type type, const std::string& language) {
  InstitutionName* name = institution.add_names();
  name->set_text(text);
  name->set_type(type);
  name->set_language_code(language);
}

void AddExternalId(Institution& institution, ExternalId::Scheme scheme,
                   const std::string& value) {
  ExternalId* id = institution.add_external_ids();
  id->set_scheme(scheme);
  id->set_value(value);
}

void AddRelation(Institution& institution, InstitutionRelation::Type type,
                 const std::string& other) {
  InstitutionRelation* relation = institution.add_relations();
  relation->set_type(type);
  relation->set_institution(other);
}

// Tehran University of Medical Sciences, as the service validates it on
// create: named, with state set.
Institution Tums() {
  Institution institution;
  institution.set_name("institutions/tums");
  AddName(institution, "Tehran University of Medical Sciences",
          InstitutionName::TYPE_DISPLAY, "en");
  AddName(institution, "دانشگاه علوم پزشکی تهران",
          InstitutionName::TYPE_DISPLAY, "fa");
  AddName(institution, "TUMS", InstitutionName::TYPE_ACRONYM, "en");
  institution.set_kind(Institution::KIND_UNIVERSITY);
  institution.set_country_code("IR");
  AddExternalId(institution, ExternalId::SCHEME_ROR, "01c4pz451");
  AddExternalId(institution, ExternalId::SCHEME_WIKIDATA, "Q1434540");
  institution.set_website_uri("https://tums.ac.ir/");
  institution.set_state(Institution::STATE_ACTIVE);
  return institution;
}

// ---- Valid institutions ----

TEST(ValidateInstitutionTest, TumsIsValid) {
  const absl::Status status = ValidateInstitution(Tums());
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ValidateInstitutionTest, MinimalInstitutionIsValid) {
  Institution institution;
  institution.set_name("institutions/nrch");
  AddName(institution, "National Medical Research Center for Hematology",
          InstitutionName::TYPE_DISPLAY, "");
  institution.set_kind(Institution::KIND_RESEARCH_CENTRE);
  institution.set_country_code("RU");
  institution.set_state(Institution::STATE_ACTIVE);
  const absl::Status status = ValidateInstitution(institution);
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ValidateInstitutionTest, ParentRelationsAndIsniAreValid) {
  Institution institution = Tums();
  institution.set_parent("institutions/mohme");
  AddRelation(institution, InstitutionRelation::TYPE_RELATED,
              "institutions/sbmu");
  AddRelation(institution, InstitutionRelation::TYPE_PREDECESSOR,
              "institutions/sbmu");
  AddExternalId(institution, ExternalId::SCHEME_ISNI, "0000 0001 0166 0922");
  institution.set_state(Institution::STATE_WITHDRAWN);
  const absl::Status status = ValidateInstitution(institution);
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ValidateInstitutionTest, DisplayNamesInDifferentLanguagesAreValid) {
  Institution institution = Tums();
  AddName(institution, "Тегеранский медицинский университет",
          InstitutionName::TYPE_DISPLAY, "ru");
  AddName(institution, "TUMS", InstitutionName::TYPE_ACRONYM, "fa");
  EXPECT_TRUE(ValidateInstitution(institution).ok());
}

// ---- Names ----

TEST(ValidateInstitutionTest, NoNamesIsInvalidOnNames) {
  Institution institution = Tums();
  institution.clear_names();
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.names"});
  EXPECT_EQ(OnlyDescription(status),
            "must have at least one name of type TYPE_DISPLAY");
}

TEST(ValidateInstitutionTest, NoDisplayNameIsInvalidOnNames) {
  Institution institution = Tums();
  institution.mutable_names(0)->set_type(InstitutionName::TYPE_LABEL);
  institution.mutable_names(1)->set_type(InstitutionName::TYPE_ALIAS);
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.names"});
  EXPECT_EQ(OnlyDescription(status),
            "must have at least one name of type TYPE_DISPLAY");
}

TEST(ValidateInstitutionTest, EmptyNameTextIsInvalidOnThatText) {
  Institution institution = Tums();
  institution.mutable_names(1)->set_text("  ");
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.names[1].text"});
  EXPECT_EQ(OnlyDescription(status), "must not be empty");
}

TEST(ValidateInstitutionTest, TooLongOrControlNameTextIsInvalid) {
  Institution institution = Tums();
  institution.mutable_names(0)->set_text(std::string(513, 'x'));
  institution.mutable_names(2)->set_text("TU\x07MS");
  ExpectViolations(ValidateInstitution(institution),
                   {"institution.names[0].text", "institution.names[2].text"});
}

TEST(ValidateInstitutionTest, UnsetOrUnknownNameTypeIsInvalidOnType) {
  Institution institution = Tums();
  institution.mutable_names(0)->set_type(InstitutionName::TYPE_UNSPECIFIED);
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.names[0].type"});
  EXPECT_EQ(OnlyDescription(status), "must be set to a known name type");

  Institution unknown = Tums();
  unknown.mutable_names(2)->set_type(static_cast<InstitutionName::Type>(99));
  ExpectViolations(ValidateInstitution(unknown), {"institution.names[2].type"});
}

TEST(ValidateInstitutionTest, BadLanguageCodeIsInvalidOnLanguageCode) {
  Institution institution = Tums();
  institution.mutable_names(1)->set_language_code("persian");
  ExpectViolations(ValidateInstitution(institution),
                   {"institution.names[1].language_code"});
}

TEST(ValidateInstitutionTest, SecondDisplayNameForSameLanguageIsInvalid) {
  Institution institution = Tums();
  AddName(institution, "Tehran Medical University",
          InstitutionName::TYPE_DISPLAY, "en");
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.names[3].type"});
  EXPECT_EQ(OnlyDescription(status),
            "a second TYPE_DISPLAY name for language \"en\"");
}

TEST(ValidateInstitutionTest, DisplayLanguageComparisonIgnoresCase) {
  Institution institution = Tums();
  AddName(institution, "Tehran Medical University",
          InstitutionName::TYPE_DISPLAY, "EN");
  ExpectViolations(ValidateInstitution(institution),
                   {"institution.names[3].type"});
}

TEST(ValidateInstitutionTest, RepeatedNameIsInvalidOnThatName) {
  Institution institution = Tums();
  AddName(institution, "TUMS", InstitutionName::TYPE_ACRONYM, "en");
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.names[3]"});
  EXPECT_EQ(OnlyDescription(status), "repeats an earlier name");
}

TEST(ValidateInstitutionTest, SameTextWithOtherTypeOrLanguageIsNotARepeat) {
  Institution institution = Tums();
  AddName(institution, "TUMS", InstitutionName::TYPE_ALIAS, "en");
  AddName(institution, "TUMS", InstitutionName::TYPE_ACRONYM, "fa");
  EXPECT_TRUE(ValidateInstitution(institution).ok());
}

TEST(ValidateInstitutionTest, RepeatedDisplayNameIsBothSecondDisplayAndRepeat) {
  Institution institution = Tums();
  AddName(institution, "Tehran University of Medical Sciences",
          InstitutionName::TYPE_DISPLAY, "en");
  ExpectViolations(ValidateInstitution(institution),
                   {"institution.names[3].type", "institution.names[3]"});
}

TEST(ValidateInstitutionTest, MoreThanFiftyNamesIsInvalidOnNames) {
  Institution institution = Tums();
  for (int i = 0; i < 48; ++i) {
    AddName(institution, absl::StrCat("Alias ", i), InstitutionName::TYPE_ALIAS,
            "en");
  }
  ASSERT_EQ(institution.names_size(), 51);
  ExpectViolations(ValidateInstitution(institution), {"institution.names"});
  institution.mutable_names()->RemoveLast();
  EXPECT_TRUE(ValidateInstitution(institution).ok());
}

// ---- Kind, country, state ----

TEST(ValidateInstitutionTest, UnsetOrUnknownKindIsInvalidOnKind) {
  Institution institution = Tums();
  institution.set_kind(Institution::KIND_UNSPECIFIED);
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.kind"});
  EXPECT_EQ(OnlyDescription(status), "must be set to a known kind");

  institution.set_kind(static_cast<Institution::Kind>(42));
  ExpectViolations(ValidateInstitution(institution), {"institution.kind"});
}

TEST(ValidateInstitutionTest, BadCountryCodeIsInvalidOnCountryCode) {
  for (const char* code : {"XX", "ir", "", "IRN", "XK", "UK"}) {
    Institution institution = Tums();
    institution.set_country_code(code);
    const absl::Status status = ValidateInstitution(institution);
    ExpectViolations(status, {"institution.country_code"});
    EXPECT_EQ(OnlyDescription(status),
              absl::StrCat("\"", code,
                           "\" is not an ISO 3166-1 alpha-2 code such as IR "
                           "or RU"));
  }
}

TEST(ValidateInstitutionTest, UnsetOrUnknownStateIsInvalidOnState) {
  Institution institution = Tums();
  institution.set_state(Institution::STATE_UNSPECIFIED);
  ExpectViolations(ValidateInstitution(institution), {"institution.state"});
  institution.set_state(static_cast<Institution::State>(7));
  ExpectViolations(ValidateInstitution(institution), {"institution.state"});
}

// ---- Parent and relations ----

TEST(ValidateInstitutionTest, MalformedParentIsInvalidOnParent) {
  for (const char* parent :
       {"mohme", "universities/mohme", "institutions/", "institutions/MOHME",
        "institutions/mohme/extra", "institutions/mohme-"}) {
    Institution institution = Tums();
    institution.set_parent(parent);
    ExpectViolations(ValidateInstitution(institution), {"institution.parent"});
  }
}

TEST(ValidateInstitutionTest, OwnParentIsInvalidOnParent) {
  Institution institution = Tums();
  institution.set_parent("institutions/tums");
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.parent"});
  EXPECT_EQ(OnlyDescription(status), "an institution cannot be its own parent");
}

TEST(ValidateInstitutionTest, BadRelatedInstitutionIsInvalidOnIt) {
  for (const char* other :
       {"", "sbmu", "officials/sbmu", "institutions/SBMU"}) {
    Institution institution = Tums();
    AddRelation(institution, InstitutionRelation::TYPE_RELATED, other);
    ExpectViolations(ValidateInstitution(institution),
                     {"institution.relations[0].institution"});
  }
}

TEST(ValidateInstitutionTest, MissingRelatedInstitutionIsReportedOnce) {
  // Also before the record has a name: an empty reference is missing, not
  // a relation to itself.
  Institution institution = Tums();
  institution.clear_name();
  AddRelation(institution, InstitutionRelation::TYPE_RELATED, "");
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.relations[0].institution"});
  EXPECT_EQ(OnlyDescription(status), "must name an institution");
}

TEST(ValidateInstitutionTest, RelationToItselfIsInvalidOnIt) {
  Institution institution = Tums();
  AddRelation(institution, InstitutionRelation::TYPE_RELATED,
              "institutions/tums");
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.relations[0].institution"});
  EXPECT_EQ(OnlyDescription(status),
            "an institution cannot be related to itself");
}

TEST(ValidateInstitutionTest, UnsetRelationTypeIsInvalidOnType) {
  Institution institution = Tums();
  AddRelation(institution, InstitutionRelation::TYPE_UNSPECIFIED,
              "institutions/sbmu");
  ExpectViolations(ValidateInstitution(institution),
                   {"institution.relations[0].type"});
}

TEST(ValidateInstitutionTest, RepeatedRelationIsInvalidOnIt) {
  Institution institution = Tums();
  AddRelation(institution, InstitutionRelation::TYPE_SUCCESSOR,
              "institutions/sbmu");
  AddRelation(institution, InstitutionRelation::TYPE_SUCCESSOR,
              "institutions/sbmu");
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.relations[1]"});
  EXPECT_EQ(OnlyDescription(status), "repeats an earlier relation");
}

TEST(ValidateInstitutionTest, MoreThanHundredRelationsIsInvalidOnRelations) {
  Institution institution = Tums();
  for (int i = 0; i <= 100; ++i) {
    AddRelation(institution, InstitutionRelation::TYPE_RELATED,
                absl::StrCat("institutions/r", i));
  }
  ExpectViolations(ValidateInstitution(institution), {"institution.relations"});
}

// ---- External ids ----

TEST(ValidateInstitutionTest, BadExternalIdValueIsInvalidOnValue) {
  Institution institution = Tums();
  institution.mutable_external_ids(0)->set_value("01C4PZ451");
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {"institution.external_ids[0].value"});
  EXPECT_EQ(OnlyDescription(status),
            "\"01C4PZ451\" is not a valid SCHEME_ROR identifier");

  Institution wikidata = Tums();
  wikidata.mutable_external_ids(1)->set_value("1434540");
  ExpectViolations(ValidateInstitution(wikidata),
                   {"institution.external_ids[1].value"});
}

TEST(ValidateInstitutionTest, UnsetOrUnknownSchemeIsInvalidOnScheme) {
  Institution institution = Tums();
  institution.mutable_external_ids(0)->set_scheme(
      ExternalId::SCHEME_UNSPECIFIED);
  institution.mutable_external_ids(1)->set_scheme(
      static_cast<ExternalId::Scheme>(9));
  ExpectViolations(ValidateInstitution(institution),
                   {"institution.external_ids[0].scheme",
                    "institution.external_ids[1].scheme"});
}

TEST(ValidateInstitutionTest, MoreThanTwentyExternalIdsIsInvalid) {
  Institution institution = Tums();
  for (int i = 0; i < 19; ++i) {
    AddExternalId(institution, ExternalId::SCHEME_WIKIDATA,
                  absl::StrCat("Q", 100 + i));
  }
  ASSERT_EQ(institution.external_ids_size(), 21);
  ExpectViolations(ValidateInstitution(institution),
                   {"institution.external_ids"});
}

TEST(IsValidExternalIdTest, AcceptsRorIds) {
  for (const char* value : {"01c4pz451", "05a28rw58", "00f54p054"}) {
    EXPECT_TRUE(IsValidExternalId(ExternalId::SCHEME_ROR, value)) << value;
  }
}

TEST(IsValidExternalIdTest, RejectsMalformedRorIds) {
  for (const char* value :
       {"", "01c4pz45", "01c4pz4511", "11c4pz451", "01C4PZ451", "01c4pi451",
        "01c4pl451", "01c4po451", "01c4pu451", "01c4pz4a1",
        "https://ror.org/01c4pz451", "01c4-z451"}) {
    EXPECT_FALSE(IsValidExternalId(ExternalId::SCHEME_ROR, value)) << value;
  }
}

TEST(IsValidExternalIdTest, AcceptsAndRejectsWikidataIds) {
  for (const char* value : {"Q1434540", "Q1", "Q12345678901"}) {
    EXPECT_TRUE(IsValidExternalId(ExternalId::SCHEME_WIKIDATA, value)) << value;
  }
  for (const char* value : {"", "Q", "Q0", "Q01434540", "q1434540", "P31",
                            "Q123456789012", "Q14345a0", "1434540"}) {
    EXPECT_FALSE(IsValidExternalId(ExternalId::SCHEME_WIKIDATA, value))
        << value;
  }
}

TEST(IsValidExternalIdTest, AcceptsAndRejectsIsniIds) {
  for (const char* value :
       {"0000000121032683", "0000 0001 2103 2683", "000000012146438X"}) {
    EXPECT_TRUE(IsValidExternalId(ExternalId::SCHEME_ISNI, value)) << value;
  }
  for (const char* value :
       {"", "000000012103268", "00000001210326831", "000000012146438x",
        "X000000121464380", "0000-0001-2103-2683"}) {
    EXPECT_FALSE(IsValidExternalId(ExternalId::SCHEME_ISNI, value)) << value;
  }
}

TEST(IsValidExternalIdTest, UnspecifiedSchemeAcceptsNothing) {
  EXPECT_FALSE(IsValidExternalId(ExternalId::SCHEME_UNSPECIFIED, "01c4pz451"));
  EXPECT_FALSE(IsValidExternalId(ExternalId::SCHEME_UNSPECIFIED, "Q1434540"));
}

// ---- Website ----

TEST(ValidateInstitutionTest, BadWebsiteIsInvalidOnWebsiteUri) {
  for (const char* uri : {"tums.ac.ir", "ftp://tums.ac.ir", "https://"}) {
    Institution institution = Tums();
    institution.set_website_uri(uri);
    ExpectViolations(ValidateInstitution(institution),
                     {"institution.website_uri"});
  }
}

TEST(ValidateInstitutionTest, EmptyWebsiteIsValid) {
  Institution institution = Tums();
  institution.clear_website_uri();
  EXPECT_TRUE(ValidateInstitution(institution).ok());
}

// ---- Several at once ----

TEST(ValidateInstitutionTest, ReportsEveryViolationAtOnceInFieldOrder) {
  Institution institution = Tums();
  institution.mutable_names(1)->set_text("");
  institution.mutable_names(2)->set_type(InstitutionName::TYPE_UNSPECIFIED);
  institution.set_kind(Institution::KIND_UNSPECIFIED);
  institution.set_country_code("XX");
  institution.set_parent("institutions/tums");
  AddRelation(institution, InstitutionRelation::TYPE_RELATED, "nowhere");
  institution.mutable_external_ids(0)->set_value("not-a-ror");
  institution.set_website_uri("mailto:info@tums.ac.ir");
  institution.set_state(Institution::STATE_UNSPECIFIED);
  const absl::Status status = ValidateInstitution(institution);
  ExpectViolations(status, {
                               "institution.names[1].text",
                               "institution.names[2].type",
                               "institution.kind",
                               "institution.country_code",
                               "institution.parent",
                               "institution.relations[0].institution",
                               "institution.external_ids[0].value",
                               "institution.website_uri",
                               "institution.state",
                           });
  // The message names every field too.
  EXPECT_NE(status.message().find("institution.names[1].text: "),
            absl::string_view::npos);
  EXPECT_NE(status.message().find("institution.state: "),
            absl::string_view::npos);
}

// ---- Officials ----

void AddPersonName(Official& official, const std::string& text,
                   PersonName::Type type, const std::string& language) {
  PersonName* name = official.add_names();
  name->set_text(text);
  name->set_type(type);
  name->set_language_code(language);
}

Position* AddPosition(Official& official, const std::string& institution,
                      const std::string& title, const std::string& start,
                      const std::string& end) {
  Position* position = official.add_positions();
  position->set_institution(institution);
  position->set_title(title);
  position->set_start_date(start);
  position->set_end_date(end);
  return position;
}

Official Parovichnikova() {
  Official official;
  official.set_name("officials/parovichnikova");
  AddPersonName(official, "Elena Nikolaevna Parovichnikova",
                PersonName::TYPE_DISPLAY, "en");
  AddPersonName(official, "Елена Николаевна Паровичникова",
                PersonName::TYPE_DISPLAY, "ru");
  AddPosition(official, "institutions/nrch", "Director General", "2023", "");
  return official;
}

TEST(ValidateOfficialTest, ParovichnikovaIsValid) {
  const absl::Status status = ValidateOfficial(Parovichnikova());
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ValidateOfficialTest, NoPositionsAndPastPositionsAreValid) {
  Official official = Parovichnikova();
  official.clear_positions();
  EXPECT_TRUE(ValidateOfficial(official).ok());

  official = Parovichnikova();
  AddPersonName(official, "Parovichnikova E. N.", PersonName::TYPE_ALIAS, "en");
  AddPersonName(official, "Паровичникова Елена Николаевна",
                PersonName::TYPE_FULL, "ru");
  AddPosition(official, "institutions/nrch", "Head of Department", "2010-09-01",
              "2023-02");
  EXPECT_TRUE(ValidateOfficial(official).ok());
}

TEST(ValidateOfficialTest, NoNamesIsInvalidOnNames) {
  Official official = Parovichnikova();
  official.clear_names();
  ExpectViolations(ValidateOfficial(official), {"official.names"});
}

TEST(ValidateOfficialTest, NameRulesUseOfficialPaths) {
  Official official = Parovichnikova();
  official.mutable_names(0)->set_text("");
  official.mutable_names(1)->set_type(static_cast<PersonName::Type>(17));
  AddPersonName(official, "E. Parovichnikova", PersonName::TYPE_DISPLAY, "ru");
  // names[1] has no known type, so it does not count as a DISPLAY name and
  // names[2] is the first DISPLAY name for "ru".
  ExpectViolations(ValidateOfficial(official),
                   {"official.names[0].text", "official.names[1].type"});
}

TEST(ValidateOfficialTest, SecondDisplayNameForSameLanguageIsInvalid) {
  Official official = Parovichnikova();
  AddPersonName(official, "E. N. Parovichnikova", PersonName::TYPE_DISPLAY,
                "en");
  ExpectViolations(ValidateOfficial(official), {"official.names[2].type"});
}

TEST(ValidateOfficialTest, BadPositionInstitutionIsInvalidOnIt) {
  for (const char* institution :
       {"", "nrch", "officials/nrch", "institutions/NRCH", "institutions/"}) {
    Official official = Parovichnikova();
    official.mutable_positions(0)->set_institution(institution);
    ExpectViolations(ValidateOfficial(official),
                     {"official.positions[0].institution"});
  }
}

TEST(ValidateOfficialTest, EmptyTitleIsInvalidOnTitle) {
  Official official = Parovichnikova();
  official.mutable_positions(0)->set_title("");
  const absl::Status status = ValidateOfficial(official);
  ExpectViolations(status, {"official.positions[0].title"});
  EXPECT_EQ(OnlyDescription(status), "must not be empty");
}

TEST(ValidateOfficialTest, BadDatesAreInvalidOnThem) {
  Official official = Parovichnikova();
  official.mutable_positions(0)->set_start_date("2023-02-29");
  official.mutable_positions(0)->set_end_date("2024-13");
  ExpectViolations(
      ValidateOfficial(official),
      {"official.positions[0].start_date", "official.positions[0].end_date"});

  Official short_year = Parovichnikova();
  short_year.mutable_positions(0)->set_start_date("23-04-01");
  ExpectViolations(ValidateOfficial(short_year),
                   {"official.positions[0].start_date"});
}

TEST(ValidateOfficialTest, EndDateBeforeStartDateIsInvalidOnEndDate) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2023", "2022"},
      {"2023", "2022-12-31"},
      {"2023-05", "2023-04"},
      {"2023-05", "2023-04-30"},
      {"2023-05-10", "2023-05-09"},
      {"2023-05-10", "2023-04"},
      {"2023-05-10", "2022"},
  };
  for (const auto& [start, end] : cases) {
    Official official = Parovichnikova();
    official.mutable_positions(0)->set_start_date(start);
    official.mutable_positions(0)->set_end_date(end);
    const absl::Status status = ValidateOfficial(official);
    ExpectViolations(status, {"official.positions[0].end_date"});
    EXPECT_EQ(OnlyDescription(status), "is before start_date")
        << start << " .. " << end;
  }
}

TEST(ValidateOfficialTest, EndDateOnOrAfterStartDateIsValid) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2023", "2023"},
      {"2023", "2023-01"},
      {"2023", "2024"},
      {"2023-05", "2023-05"},
      {"2023-05", "2023-05-01"},
      {"2023-05-10", "2023-05-10"},
      {"2023-05-10", "2023-05"},
      {"2023-05-10", "2023"},
      {"2023-05-10", "2023-05-11"},
      {"", "2020"},
  };
  for (const auto& [start, end] : cases) {
    Official official = Parovichnikova();
    official.mutable_positions(0)->set_start_date(start);
    official.mutable_positions(0)->set_end_date(end);
    const absl::Status status = ValidateOfficial(official);
    EXPECT_TRUE(status.ok()) << start << " .. " << end << ": " << status;
  }
}

TEST(ValidateOfficialTest, PathsIndexTheOffendingPosition) {
  Official official = Parovichnikova();
  AddPosition(official, "institutions/mohme", "", "2019", "2018");
  ExpectViolations(
      ValidateOfficial(official),
      {"official.positions[1].title", "official.positions[1].end_date"});
}

TEST(ValidateOfficialTest, MoreThanHundredPositionsIsInvalidOnPositions) {
  Official official = Parovichnikova();
  for (int i = 0; i < 100; ++i) {
    AddPosition(official, "institutions/nrch", "Member", "", "");
  }
  ExpectViolations(ValidateOfficial(official), {"official.positions"});
}

TEST(ValidateOfficialTest, ReportsEveryViolationAtOnce) {
  Official official = Parovichnikova();
  official.mutable_names(1)->set_language_code("russian");
  Position* position = official.mutable_positions(0);
  position->set_institution("nrch");
  position->set_title("");
  position->set_start_date("2023-00");
  position->set_end_date("2022");
  ExpectViolations(
      ValidateOfficial(official),
      {"official.names[1].language_code", "official.positions[0].institution",
       "official.positions[0].title", "official.positions[0].start_date"});
}

}  // namespace
}  // namespace accord::institution
