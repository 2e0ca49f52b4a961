#include "common/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/errors.h"

namespace accord {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The fields named in `violations`, in order.
std::vector<std::string> FieldsOf(const Violations& violations) {
  std::vector<std::string> fields;
  for (const FieldViolation& violation :
       FieldViolationsOf(violations.ToStatus())) {
    fields.push_back(violation.field);
  }
  return fields;
}

// The single description recorded by `violations`, or "" if there is not
// exactly one.
std::string OnlyDescription(const Violations& violations) {
  const std::vector<FieldViolation> list =
      FieldViolationsOf(violations.ToStatus());
  return list.size() == 1 ? list[0].description : "";
}

// ---- CheckText ----

TEST(CheckTextTest, AcceptsOrdinaryTextIncludingNonLatin) {
  Violations violations;
  violations.CheckText("t", "Tehran University of Medical Sciences", 100, true);
  violations.CheckText("t", "دانشگاه علوم پزشکی تهران", 100, true);
  violations.CheckText("t", "Елена Николаевна Паровичникова", 100, true);
  EXPECT_TRUE(violations.empty());
  EXPECT_TRUE(violations.ToStatus().ok());
}

TEST(CheckTextTest, EmptyRequiredTextIsAViolation) {
  for (const char* text : {"", "   ", "\t\n"}) {
    Violations violations;
    violations.CheckText("institution.names[0].text", text, 100, true);
    EXPECT_THAT(FieldsOf(violations), ElementsAre("institution.names[0].text"))
        << "\"" << text << "\"";
    EXPECT_EQ(OnlyDescription(violations), "must not be empty");
  }
}

TEST(CheckTextTest, EmptyOptionalTextIsFine) {
  Violations violations;
  violations.CheckText("t", "", 100, false);
  violations.CheckText("t", "  ", 100, false);
  EXPECT_TRUE(violations.empty());
}

TEST(CheckTextTest, TooLongTextIsAViolationCountingBytes) {
  Violations at_limit;
  at_limit.CheckText("t", std::string(10, 'a'), 10, true);
  EXPECT_TRUE(at_limit.empty());

  Violations too_long;
  too_long.CheckText("t", std::string(11, 'a'), 10, true);
  EXPECT_THAT(FieldsOf(too_long), ElementsAre("t"));
  EXPECT_EQ(OnlyDescription(too_long), "must be at most 10 bytes, got 11");

  // Six Cyrillic letters are twelve bytes of UTF-8.
  Violations multibyte;
  multibyte.CheckText("t", "Москва", 10, true);
  EXPECT_THAT(FieldsOf(multibyte), ElementsAre("t"));
}

TEST(CheckTextTest, ControlCharactersAreAViolation) {
  for (const std::string& text :
       {std::string("a\x01z"), std::string("a\rz"), std::string("a\x1bz"),
        std::string("a\0z", 3), std::string("a\x7fz"),
        std::string("a\xc2\x85z")}) {
    Violations violations;
    violations.CheckText("official.names[0].text", text, 100, true);
    EXPECT_THAT(FieldsOf(violations), ElementsAre("official.names[0].text"))
        << testing::PrintToString(text);
    EXPECT_EQ(OnlyDescription(violations),
              "must not contain control characters");
  }
}

TEST(CheckTextTest, NewlineAndTabAreAllowed) {
  Violations violations;
  violations.CheckText("t", "line one\nline\ttwo", 100, true);
  EXPECT_TRUE(violations.empty());
}

// ---- CheckCount ----

TEST(CheckCountTest, AtMostMaxIsFine) {
  Violations violations;
  violations.CheckCount("institution.relations", 0, 100);
  violations.CheckCount("institution.relations", 100, 100);
  EXPECT_TRUE(violations.empty());
}

TEST(CheckCountTest, MoreThanMaxIsAViolation) {
  Violations violations;
  violations.CheckCount("institution.relations", 101, 100);
  EXPECT_THAT(FieldsOf(violations), ElementsAre("institution.relations"));
  EXPECT_EQ(OnlyDescription(violations),
            "must have at most 100 entries, got 101");
}

// ---- CheckHttpUrl ----

TEST(CheckHttpUrlTest, AcceptsEmptyAndAbsoluteHttpUrls) {
  Violations violations;
  for (const char* url :
       {"", "https://tums.ac.ir", "http://tums.ac.ir/", "https://tums.ac.ir/en",
        "https://example.org:8443/path?q=1#frag", "http://[::1]:8080/"}) {
    violations.CheckHttpUrl("institution.website_uri", url);
  }
  EXPECT_TRUE(violations.empty()) << violations.ToStatus();
}

TEST(CheckHttpUrlTest, RejectsOtherSchemesAndRelativeUrls) {
  for (const char* url :
       {"ftp://tums.ac.ir", "tums.ac.ir", "//tums.ac.ir", "javascript:alert(1)",
        "mailto:info@tums.ac.ir", "https:/tums.ac.ir"}) {
    Violations violations;
    violations.CheckHttpUrl("institution.website_uri", url);
    EXPECT_THAT(FieldsOf(violations), ElementsAre("institution.website_uri"))
        << url;
    EXPECT_EQ(OnlyDescription(violations),
              "must be an absolute http:// or https:// URL");
  }
}

TEST(CheckHttpUrlTest, RejectsMissingOrBadHost) {
  for (const char* url :
       {"https://", "http:///path", "https://?q", "https://#x",
        "https://tums ac.ir/", "https://<tums>/"}) {
    Violations violations;
    violations.CheckHttpUrl("institution.website_uri", url);
    EXPECT_THAT(FieldsOf(violations), ElementsAre("institution.website_uri"))
        << url;
    EXPECT_EQ(OnlyDescription(violations), "must name a host") << url;
  }
}

TEST(CheckHttpUrlTest, RejectsTooLongUrl) {
  Violations violations;
  violations.CheckHttpUrl(
      "institution.website_uri",
      "https://tums.ac.ir/" + std::string(kMaxUriLength, 'a'));
  EXPECT_THAT(FieldsOf(violations), ElementsAre("institution.website_uri"));
  EXPECT_THAT(OnlyDescription(violations), HasSubstr("at most 2048 bytes"));
}

// ---- CheckPartialDate / IsPartialDate ----

TEST(CheckPartialDateTest, AcceptsYearYearMonthAndFullDate) {
  Violations violations;
  for (const char* date :
       {"", "2025", "2025-04", "2025-04-25", "2024-02-29", "2000-02-29",
        "0001-01-01", "2025-12-31", "2025-04-30"}) {
    violations.CheckPartialDate("official.positions[0].start_date", date);
    if (*date != '\0') {
      EXPECT_TRUE(IsPartialDate(date)) << date;
    }
  }
  EXPECT_TRUE(violations.empty()) << violations.ToStatus();
}

TEST(CheckPartialDateTest, RejectsImpossibleAndMalformedDates) {
  for (const char* date :
       {"2025-02-29", "1900-02-29", "2025-04-31", "2025-13", "2025-00",
        "2025-04-00", "2025-04-32", "25-04-01", "0000", "2025-4-1",
        "2025/04/25", "20250425", "2025-04-25T00:00:00Z", "+2025", "2025-+4",
        " 2025", "abcd", "2025-"}) {
    Violations violations;
    violations.CheckPartialDate("official.positions[0].start_date", date);
    EXPECT_THAT(FieldsOf(violations),
                ElementsAre("official.positions[0].start_date"))
        << date;
    EXPECT_THAT(OnlyDescription(violations),
                HasSubstr("is not YYYY, YYYY-MM or YYYY-MM-DD"))
        << date;
    EXPECT_FALSE(IsPartialDate(date)) << date;
  }
}

TEST(CheckPartialDateTest, IsPartialDateRejectsEmpty) {
  EXPECT_FALSE(IsPartialDate(""));
}

// ---- CheckLanguage ----

TEST(CheckLanguageTest, AcceptsEmptyAndBcp47Tags) {
  Violations violations;
  for (const char* tag : {"", "en", "fa", "ru", "fa-IR", "zh-Hant-TW"}) {
    violations.CheckLanguage("institution.names[0].language_code", tag);
  }
  EXPECT_TRUE(violations.empty()) << violations.ToStatus();
}

TEST(CheckLanguageTest, RejectsMalformedTags) {
  for (const char* tag : {"english", "en_US", "e", "фа", "en-"}) {
    Violations violations;
    violations.CheckLanguage("institution.names[0].language_code", tag);
    EXPECT_THAT(FieldsOf(violations),
                ElementsAre("institution.names[0].language_code"))
        << tag;
    EXPECT_THAT(OnlyDescription(violations),
                HasSubstr("is not a BCP 47 language tag"))
        << tag;
  }
}

// ---- ToStatus ----

TEST(ViolationsTest, NoViolationsIsOk) {
  Violations violations;
  EXPECT_TRUE(violations.empty());
  EXPECT_TRUE(violations.ToStatus().ok());
}

TEST(ViolationsTest, ToStatusListsEveryViolationInOrder) {
  Violations violations;
  violations.CheckText("institution.names[0].text", "", kMaxNameLength, true);
  violations.CheckHttpUrl("institution.website_uri", "ftp://x");
  violations.CheckPartialDate("official.positions[0].end_date", "2025-02-29");
  violations.CheckLanguage("institution.names[1].language_code", "en_US");
  violations.CheckCount("institution.external_ids", 21, 20);
  violations.Add("institution.kind", "must be set to a known kind");
  EXPECT_FALSE(violations.empty());

  const absl::Status status = violations.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      FieldViolationsOf(status),
      ElementsAre(
          Field(&FieldViolation::field, "institution.names[0].text"),
          Field(&FieldViolation::field, "institution.website_uri"),
          Field(&FieldViolation::field, "official.positions[0].end_date"),
          Field(&FieldViolation::field, "institution.names[1].language_code"),
          Field(&FieldViolation::field, "institution.external_ids"),
          Field(&FieldViolation::field, "institution.kind")));
  EXPECT_THAT(status.message(), HasSubstr("institution.names[0].text: must "
                                          "not be empty"));
  EXPECT_THAT(status.message(),
              HasSubstr("institution.kind: must be set to a known kind"));
}

TEST(ViolationsTest, AddKeepsFieldAndDescription) {
  Violations violations;
  violations.Add("official.names", "must have at least one name");
  const std::vector<FieldViolation> list =
      FieldViolationsOf(violations.ToStatus());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].field, "official.names");
  EXPECT_EQ(list[0].description, "must have at least one name");
  EXPECT_THAT(FieldViolationsOf(Violations().ToStatus()), IsEmpty());
}

}  // namespace
}  // namespace accord
