#include "common/filter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "accord/events/v1/event.pb.h"
#include "accord/institution/v1/institution.pb.h"
#include "common/errors.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/wrappers.pb.h"

namespace accord {
namespace {

using ::accord::events::v1::Event;
using ::accord::institution::v1::ExternalId;
using ::accord::institution::v1::Institution;
using ::accord::institution::v1::InstitutionName;
using ::accord::institution::v1::InstitutionRelation;

void SetTime(google::protobuf::Timestamp* timestamp,
             absl::string_view rfc3339) {
  absl::Time time;
  std::string error;
  ASSERT_TRUE(
      absl::ParseTime(absl::RFC3339_full, std::string(rfc3339), &time, &error))
      << error;
  timestamp->set_seconds(absl::ToUnixSeconds(time));
}

Institution Tums() {
  Institution institution;
  institution.set_name("institutions/tums");
  auto add_name = [&](std::string text, InstitutionName::Type type,
                      std::string language_code) {
    InstitutionName* name = institution.add_names();
    name->set_text(std::move(text));
    name->set_type(type);
    name->set_language_code(std::move(language_code));
  };
  add_name("Tehran University of Medical Sciences",
           InstitutionName::TYPE_DISPLAY, "en");
  add_name("TUMS", InstitutionName::TYPE_ACRONYM, "en");
  add_name("دانشگاه علوم پزشکی تهران", InstitutionName::TYPE_DISPLAY, "fa");
  add_name("say \"hi\" it's", InstitutionName::TYPE_ALIAS, "");
  institution.set_kind(Institution::KIND_UNIVERSITY);
  institution.set_country_code("IR");
  InstitutionRelation* relation = institution.add_relations();
  relation->set_type(InstitutionRelation::TYPE_SUCCESSOR);
  relation->set_institution("institutions/old-tums");
  ExternalId* external_id = institution.add_external_ids();
  external_id->set_scheme(ExternalId::SCHEME_ROR);
  external_id->set_value("01c4pz451");
  institution.set_website_uri("https://tums.ac.ir");
  institution.set_state(Institution::STATE_ACTIVE);
  SetTime(institution.mutable_create_time(), "2025-04-25T00:00:00Z");
  SetTime(institution.mutable_update_time(), "2025-05-01T12:00:00Z");
  return institution;
}

Event InstitutionCreated() {
  Event event;
  event.set_id("e1");
  event.set_type("accord.institution.v1.created");
  event.set_subject("institutions/tums");
  SetTime(event.mutable_time(), "2025-04-25T00:00:00Z");
  event.add_institutions("institutions/tums");
  event.add_institutions("institutions/msu");
  event.add_country_codes("IR");
  event.add_country_codes("RU");
  event.mutable_payload()->PackFrom(Tums());
  return event;
}

// Parses `filter` for `message`'s type and evaluates it; parse errors fail
// the test and count as no match.
bool FilterMatches(absl::string_view filter,
                   const google::protobuf::Message& message) {
  absl::StatusOr<Filter> parsed =
      Filter::Parse(filter, *message.GetDescriptor());
  EXPECT_TRUE(parsed.ok()) << filter << ": " << parsed.status();
  return parsed.ok() && parsed->Matches(message);
}

bool InstitutionMatches(absl::string_view filter) {
  return FilterMatches(filter, Tums());
}

// The description of the single field violation of a rejected filter.
std::string ParseError(absl::string_view filter,
                       const google::protobuf::Descriptor& descriptor =
                           *Institution::descriptor()) {
  absl::StatusOr<Filter> parsed = Filter::Parse(filter, descriptor);
  if (parsed.ok()) {
    ADD_FAILURE() << "parsed: " << filter;
    return "";
  }
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<FieldViolation> violations =
      FieldViolationsOf(parsed.status());
  if (violations.size() != 1) {
    ADD_FAILURE() << "violations: " << violations.size();
    return "";
  }
  EXPECT_EQ(violations[0].field, "filter");
  return violations[0].description;
}

TEST(FilterTest, EmptyFilterMatchesEverything) {
  EXPECT_TRUE(Filter().empty());
  EXPECT_TRUE(Filter().Matches(Tums()));
  for (absl::string_view text : {"", "   ", " \t\r\n "}) {
    absl::StatusOr<Filter> filter =
        Filter::Parse(text, *Institution::descriptor());
    ASSERT_TRUE(filter.ok()) << filter.status();
    EXPECT_TRUE(filter->empty());
    EXPECT_TRUE(filter->Matches(Institution()));
  }
}

TEST(FilterTest, StringEqualityIsExactAndCaseSensitive) {
  EXPECT_TRUE(InstitutionMatches(R"(country_code = "IR")"));
  EXPECT_TRUE(InstitutionMatches("country_code = 'IR'"));
  EXPECT_TRUE(InstitutionMatches("country_code=IR"));
  EXPECT_FALSE(InstitutionMatches(R"(country_code = "ir")"));
  EXPECT_FALSE(InstitutionMatches(R"(country_code = "I")"));
  EXPECT_TRUE(InstitutionMatches(R"(country_code != "RU")"));
  EXPECT_FALSE(InstitutionMatches(R"(country_code != "IR")"));
  EXPECT_TRUE(InstitutionMatches(R"(parent = "")"));
}

TEST(FilterTest, StringWildcardsAtEitherEnd) {
  EXPECT_TRUE(InstitutionMatches(R"(name = "institutions/*")"));
  EXPECT_TRUE(InstitutionMatches("name = institutions/*"));
  EXPECT_TRUE(InstitutionMatches(R"(name = "*/tums")"));
  EXPECT_TRUE(InstitutionMatches(R"(name = "*ions/tu*")"));
  EXPECT_TRUE(InstitutionMatches(R"(name = "*")"));
  EXPECT_FALSE(InstitutionMatches(R"(name = "officials/*")"));
  EXPECT_FALSE(InstitutionMatches(R"(name = "*/msu")"));
  EXPECT_FALSE(InstitutionMatches(R"(name = "*TUMS*")"));
  // A `*` in the middle is literal.
  EXPECT_FALSE(InstitutionMatches(R"(name = "institutions*tums")"));
  EXPECT_TRUE(InstitutionMatches(R"(name != "officials/*")"));
}

TEST(FilterTest, StringOrderingIsLexicographic) {
  EXPECT_TRUE(InstitutionMatches(R"(country_code < "JP")"));
  EXPECT_FALSE(InstitutionMatches(R"(country_code < "IR")"));
  EXPECT_TRUE(InstitutionMatches(R"(country_code <= "IR")"));
  EXPECT_TRUE(InstitutionMatches(R"(country_code > "IQ")"));
  EXPECT_FALSE(InstitutionMatches(R"(country_code > "IR")"));
  EXPECT_TRUE(InstitutionMatches(R"(country_code >= "IR")"));
  // Ordering does not treat `*` as a wildcard.
  EXPECT_TRUE(InstitutionMatches(R"(country_code > "I*")"));
}

TEST(FilterTest, HasOnSingularStringIsCaseInsensitiveSubstring) {
  EXPECT_TRUE(InstitutionMatches(R"(names.text:"tehran")"));
  EXPECT_TRUE(InstitutionMatches(R"(names.text:"MEDICAL sci")"));
  EXPECT_TRUE(InstitutionMatches("names.text:tums"));
  EXPECT_TRUE(InstitutionMatches(R"(names.text:"علوم")"));
  EXPECT_FALSE(InstitutionMatches(R"(names.text:"oxford")"));
  EXPECT_TRUE(InstitutionMatches(R"(website_uri:"TUMS.AC")"));
}

TEST(FilterTest, QuotedStringsHonourEscapes) {
  EXPECT_TRUE(InstitutionMatches(R"(names.text = "say \"hi\" it's")"));
  EXPECT_TRUE(InstitutionMatches(R"(names.text = 'say "hi" it\'s')"));
  Institution institution;
  institution.set_country_code(R"(a\b)");
  EXPECT_TRUE(FilterMatches(R"(country_code = "a\\b")", institution));
}

TEST(FilterTest, EnumsTakeNamesOrNumbers) {
  EXPECT_TRUE(InstitutionMatches("kind = KIND_UNIVERSITY"));
  EXPECT_TRUE(InstitutionMatches(R"(kind = "KIND_UNIVERSITY")"));
  EXPECT_TRUE(InstitutionMatches("kind = 1"));
  EXPECT_TRUE(InstitutionMatches("kind:KIND_UNIVERSITY"));
  EXPECT_FALSE(InstitutionMatches("kind = KIND_HOSPITAL"));
  EXPECT_TRUE(InstitutionMatches("kind != KIND_HOSPITAL"));
  EXPECT_FALSE(InstitutionMatches("kind != KIND_UNIVERSITY"));
  EXPECT_TRUE(InstitutionMatches("state = STATE_ACTIVE"));
  EXPECT_TRUE(InstitutionMatches("names.type = TYPE_ACRONYM"));
  EXPECT_FALSE(InstitutionMatches("names.type = TYPE_LABEL"));
  EXPECT_TRUE(InstitutionMatches("relations.type = TYPE_SUCCESSOR"));
  EXPECT_TRUE(InstitutionMatches("external_ids.scheme = SCHEME_ROR"));
}

TEST(FilterTest, IntegerComparisons) {
  google::protobuf::Int64Value int64;
  int64.set_value(-3);
  EXPECT_TRUE(FilterMatches("value = -3", int64));
  EXPECT_TRUE(FilterMatches("value:-3", int64));
  EXPECT_TRUE(FilterMatches(R"(value = "-3")", int64));
  EXPECT_TRUE(FilterMatches("value != 3", int64));
  EXPECT_TRUE(FilterMatches("value < -2", int64));
  EXPECT_FALSE(FilterMatches("value < -3", int64));
  EXPECT_TRUE(FilterMatches("value <= -3", int64));
  EXPECT_TRUE(FilterMatches("value > -4", int64));
  EXPECT_TRUE(FilterMatches("value >= -3", int64));
  EXPECT_FALSE(FilterMatches("value >= 0", int64));

  google::protobuf::Int32Value int32;
  int32.set_value(7);
  EXPECT_TRUE(FilterMatches("value > 6 value < 8", int32));
  // Out of int32 range, but still ordered correctly.
  EXPECT_TRUE(FilterMatches("value < 9999999999", int32));

  google::protobuf::UInt64Value uint64;
  uint64.set_value(UINT64_MAX);
  EXPECT_TRUE(FilterMatches("value = 18446744073709551615", uint64));
  EXPECT_TRUE(FilterMatches("value > 0", uint64));

  google::protobuf::UInt32Value uint32;
  uint32.set_value(5);
  EXPECT_TRUE(FilterMatches("value >= 5 AND value <= 5", uint32));

  EXPECT_TRUE(InstitutionMatches("create_time.seconds = 1745539200"));
  EXPECT_TRUE(InstitutionMatches("create_time.nanos = 0"));
  EXPECT_FALSE(InstitutionMatches("delete_time.seconds = 0"));
}

TEST(FilterTest, FloatingPointComparisons) {
  google::protobuf::DoubleValue number;
  number.set_value(2.5);
  EXPECT_TRUE(FilterMatches("value = 2.5", number));
  EXPECT_TRUE(FilterMatches("value:2.5", number));
  EXPECT_TRUE(FilterMatches("value != 2", number));
  EXPECT_TRUE(FilterMatches("value < 3", number));
  EXPECT_TRUE(FilterMatches("value <= 2.5", number));
  EXPECT_TRUE(FilterMatches("value > -1e3", number));
  EXPECT_TRUE(FilterMatches("value >= .5", number));
  EXPECT_FALSE(FilterMatches("value > 2.5", number));

  google::protobuf::FloatValue single;
  single.set_value(0.5f);
  EXPECT_TRUE(FilterMatches("value = 0.5", single));
  EXPECT_TRUE(FilterMatches("value < 1", single));
}

TEST(FilterTest, BoolComparisons) {
  google::protobuf::BoolValue flag;
  flag.set_value(true);
  EXPECT_TRUE(FilterMatches("value = true", flag));
  EXPECT_TRUE(FilterMatches(R"(value = "true")", flag));
  EXPECT_TRUE(FilterMatches("value:true", flag));
  EXPECT_TRUE(FilterMatches("value != false", flag));
  EXPECT_FALSE(FilterMatches("value = false", flag));
  EXPECT_FALSE(FilterMatches("value:false", flag));
}

TEST(FilterTest, RepeatedFieldsMatchIfAnyElementMatches) {
  EXPECT_TRUE(InstitutionMatches(R"(names.language_code = "fa")"));
  EXPECT_TRUE(InstitutionMatches(R"(names.text = "TUMS")"));
  EXPECT_FALSE(InstitutionMatches(R"(names.language_code = "de")"));
  EXPECT_TRUE(InstitutionMatches(R"(names.language_code > "e")"));
  EXPECT_FALSE(InstitutionMatches(R"(names.language_code > "fa")"));
  // Each comparison picks its own element.
  EXPECT_TRUE(
      InstitutionMatches(R"(names.text = "TUMS" names.language_code = "fa")"));
  EXPECT_TRUE(
      InstitutionMatches(R"(relations.institution = "institutions/old-tums")"));
  EXPECT_FALSE(FilterMatches(R"(names.text:"a")", Institution()));
}

TEST(FilterTest, NotEqualOnRepeatedMeansNoElementEquals) {
  EXPECT_FALSE(InstitutionMatches(R"(names.language_code != "fa")"));
  EXPECT_TRUE(InstitutionMatches(R"(names.language_code != "de")"));
  EXPECT_FALSE(InstitutionMatches("names.type != TYPE_DISPLAY"));
  const Event event = InstitutionCreated();
  EXPECT_FALSE(FilterMatches(R"(country_codes != "RU")", event));
  EXPECT_TRUE(FilterMatches(R"(country_codes != "CN")", event));
  EXPECT_TRUE(FilterMatches(R"(country_codes != "CN")", Event()));
}

TEST(FilterTest, HasOnRepeatedStringIsElementEquality) {
  const Event event = InstitutionCreated();
  EXPECT_TRUE(FilterMatches(R"(institutions:"institutions/tums")", event));
  EXPECT_TRUE(FilterMatches("country_codes:RU", event));
  EXPECT_FALSE(FilterMatches(R"(institutions:"tums")", event));
  EXPECT_FALSE(FilterMatches("country_codes:ru", event));
  EXPECT_TRUE(FilterMatches(R"(institutions = "institutions/msu")", event));
}

TEST(FilterTest, PresenceWithStar) {
  EXPECT_TRUE(InstitutionMatches("name:*"));
  EXPECT_FALSE(InstitutionMatches("parent:*"));
  EXPECT_TRUE(InstitutionMatches("-parent:*"));
  EXPECT_TRUE(InstitutionMatches("names:*"));
  EXPECT_TRUE(InstitutionMatches("relations:*"));
  EXPECT_TRUE(InstitutionMatches("kind:*"));
  EXPECT_TRUE(InstitutionMatches("create_time:*"));
  EXPECT_FALSE(InstitutionMatches("delete_time:*"));
  EXPECT_TRUE(InstitutionMatches("names.language_code:*"));
  EXPECT_TRUE(InstitutionMatches("create_time.seconds:*"));
  EXPECT_FALSE(InstitutionMatches("delete_time.seconds:*"));

  const Event event = InstitutionCreated();
  EXPECT_TRUE(FilterMatches("country_codes:* payload:*", event));
  EXPECT_FALSE(FilterMatches("country_codes:*", Event()));
  EXPECT_FALSE(FilterMatches("payload:*", Event()));
  EXPECT_FALSE(FilterMatches("kind:*", Institution()));
}

TEST(FilterTest, TimestampsCompareWithRfc3339) {
  EXPECT_TRUE(InstitutionMatches(R"(create_time = "2025-04-25T00:00:00Z")"));
  EXPECT_TRUE(
      InstitutionMatches(R"(create_time = "2025-04-25T03:30:00+03:30")"));
  EXPECT_TRUE(InstitutionMatches(R"(create_time:"2025-04-25T00:00:00Z")"));
  EXPECT_TRUE(InstitutionMatches(R"(create_time != "2025-04-25T00:00:01Z")"));
  EXPECT_TRUE(InstitutionMatches(R"(create_time < "2025-04-25T00:00:01Z")"));
  EXPECT_FALSE(InstitutionMatches(R"(create_time < "2025-04-25T00:00:00Z")"));
  EXPECT_TRUE(InstitutionMatches(R"(create_time <= "2025-04-25T00:00:00Z")"));
  EXPECT_TRUE(InstitutionMatches(R"(create_time > "2025-04-24T23:59:59.5Z")"));
  EXPECT_TRUE(InstitutionMatches(R"(create_time >= "2025-04-25T00:00:00Z")"));
  EXPECT_TRUE(InstitutionMatches(R"(update_time > "2025-05-01T00:00:00Z" AND )"
                                 R"(update_time < "2025-05-02T00:00:00Z")"));
  // An unset timestamp is neither before nor after anything.
  EXPECT_FALSE(InstitutionMatches(R"(delete_time < "3000-01-01T00:00:00Z")"));
  EXPECT_FALSE(InstitutionMatches(R"(delete_time > "1000-01-01T00:00:00Z")"));
  EXPECT_TRUE(InstitutionMatches(R"(delete_time != "1970-01-01T00:00:00Z")"));
  EXPECT_TRUE(
      FilterMatches(R"(time >= "2025-04-25T00:00:00Z")", InstitutionCreated()));
}

TEST(FilterTest, OrBindsTighterThanAnd) {
  // AIP-160 reads this as HOSPITAL AND (RU OR IR), which is false here;
  // the usual precedence would read (HOSPITAL AND RU) OR IR, which is true.
  EXPECT_FALSE(InstitutionMatches(
      R"(kind = KIND_HOSPITAL AND country_code = "RU" OR country_code = "IR")"));
  EXPECT_FALSE(InstitutionMatches(
      R"(country_code = "IR" OR country_code = "RU" AND kind = KIND_HOSPITAL)"));
  // The same holds for juxtaposition.
  EXPECT_FALSE(InstitutionMatches(
      R"(kind = KIND_HOSPITAL country_code = "RU" OR country_code = "IR")"));
  EXPECT_TRUE(InstitutionMatches(
      R"(kind = KIND_UNIVERSITY AND country_code = "RU" OR country_code = "IR")"));
}

TEST(FilterTest, ParenthesesGroup) {
  EXPECT_TRUE(InstitutionMatches(
      R"((kind = KIND_HOSPITAL AND country_code = "RU") OR country_code = "IR")"));
  EXPECT_TRUE(InstitutionMatches(
      R"(((kind = KIND_HOSPITAL) OR (kind = KIND_UNIVERSITY)) (name:*))"));
  EXPECT_FALSE(InstitutionMatches(
      R"(( kind = KIND_HOSPITAL OR kind = KIND_STATE ) AND name:*)"));
}

TEST(FilterTest, ImplicitAndByJuxtaposition) {
  EXPECT_TRUE(
      InstitutionMatches(R"(country_code = "IR" kind = KIND_UNIVERSITY)"));
  EXPECT_FALSE(InstitutionMatches(R"(country_code = "IR" kind = KIND_STATE)"));
  EXPECT_FALSE(
      InstitutionMatches(R"(country_code = "RU" kind = KIND_UNIVERSITY)"));
}

TEST(FilterTest, NotAndMinusNegate) {
  EXPECT_TRUE(InstitutionMatches("NOT kind = KIND_HOSPITAL"));
  EXPECT_FALSE(InstitutionMatches("NOT kind = KIND_UNIVERSITY"));
  EXPECT_TRUE(InstitutionMatches("-kind = KIND_HOSPITAL"));
  EXPECT_FALSE(InstitutionMatches("-kind = KIND_UNIVERSITY"));
  EXPECT_FALSE(InstitutionMatches(
      R"(NOT (kind = KIND_HOSPITAL OR country_code = "IR"))"));
  EXPECT_TRUE(
      InstitutionMatches(R"(-(kind = KIND_HOSPITAL AND country_code = "IR"))"));
  EXPECT_TRUE(InstitutionMatches(R"(NOT(country_code = "RU"))"));
  EXPECT_TRUE(
      InstitutionMatches(R"(country_code = "IR" NOT kind = KIND_STATE)"));
  EXPECT_TRUE(InstitutionMatches(R"(country_code = "IR" -kind = KIND_STATE)"));
}

TEST(FilterTest, NestedMessagePathsThroughAny) {
  const Event event = InstitutionCreated();
  EXPECT_TRUE(FilterMatches(R"(payload.type_url = "*.Institution")", event));
  EXPECT_TRUE(FilterMatches(
      R"(type = "accord.institution.v1.*" subject = "institutions/tums")",
      event));
}

TEST(FilterTest, FiltersAreCopyableAndMovable) {
  Filter copy;
  {
    absl::StatusOr<Filter> parsed =
        Filter::Parse(R"(country_code = "IR")", *Institution::descriptor());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    copy = *parsed;
    EXPECT_FALSE(parsed->empty());
  }
  EXPECT_FALSE(copy.empty());
  EXPECT_TRUE(copy.Matches(Tums()));
  Filter moved = std::move(copy);
  EXPECT_TRUE(moved.Matches(Tums()));
  EXPECT_FALSE(moved.Matches(Institution()));
}

TEST(FilterTest, MessageOfAnotherTypeNeverMatches) {
  absl::StatusOr<Filter> filter = Filter::Parse("id:*", *Event::descriptor());
  ASSERT_TRUE(filter.ok()) << filter.status();
  EXPECT_FALSE(filter->Matches(Tums()));
}

struct BadFilter {
  std::string filter;
  std::string token;  // Must appear in the error description.
};

TEST(FilterTest, RejectsBadFiltersNamingTheToken) {
  const std::vector<BadFilter> cases = {
      {"foo = 1", "\"foo\""},
      {"names.bogus = 1", "\"bogus\""},
      {"kind.sub = 1", "\"kind\""},
      {"names..text = 1", "names..text"},
      {"kind < KIND_UNIVERSITY", "\"<\""},
      {"kind >= 1", "\">=\""},
      {"kind = KIND_NOPE", "KIND_NOPE"},
      {"kind = TYPE_DISPLAY", "TYPE_DISPLAY"},
      {R"(names.text = "abc)", "unterminated string \"\\\"abc\""},
      {"names.text = 'abc", "unterminated string"},
      {R"(country_code = "a\nb")", "invalid escape"},
      {"kind = KIND_UNIVERSITY )", "\")\""},
      {"kind = KIND_UNIVERSITY garbage", "\"garbage\""},
      {"tehran", "bare value not supported, use field:value"},
      {R"("tehran")", "bare value not supported, use field:value"},
      {R"(create_time > "yesterday")", "yesterday"},
      {R"(create_time > "2025-02-30T00:00:00Z")", "2025-02-30T00:00:00Z"},
      {"create_time > 2025", "2025"},
      {R"(create_time < "infinite-future")", "infinite-future"},
      {"create_time.seconds = abc", "\"abc\""},
      {"create_time.seconds = 1.5", "\"1.5\""},
      {R"(names = "x")", "\"names\""},
      {"names:x", "\"names\""},
      {"country_code = *", "\"*\""},
      {"country_code ! IR", "\"!\""},
      {"AND kind = 1", "\"AND\""},
      {"kind = 1 AND", "end of filter"},
      {"kind = 1 OR OR kind = 2", "\"OR\""},
      {"(kind = 1", "expected \")\""},
      {"()", "\")\""},
      {"NOT NOT kind = 1", "\"NOT\""},
      {"- kind = 1", "\"-\""},
      {"kind =", "end of filter"},
      {"kind = = 1", "\"=\""},
      {"kind = AND", "\"AND\""},
      {"country_code = IR = IR", "\"=\""},
      {R"(country_code = "IR"kind = 1)", "\"kind\""},
      {R"("IR" = country_code)", "\"\\\"IR\\\"\""},
      {"1abc = 1", "\"1abc\""},
      {"\xff = 1", "\\xff"},
  };
  for (const BadFilter& bad : cases) {
    SCOPED_TRACE(bad.filter);
    const std::string description = ParseError(bad.filter);
    EXPECT_NE(description.find(bad.token), std::string::npos) << description;
    EXPECT_NE(description.find("column"), std::string::npos) << description;
  }
}

TEST(FilterTest, ErrorsGiveOneBasedColumns) {
  EXPECT_NE(ParseError("kind = KIND_UNIVERSITY )").find("at column 24"),
            std::string::npos);
  EXPECT_NE(ParseError("foo = 1").find("at column 1"), std::string::npos);
  EXPECT_NE(ParseError("kind = 1 AND kind < 2").find("at column 19"),
            std::string::npos);
  EXPECT_NE(
      ParseError(R"(name = "x" OR create_time = "bad")").find("at column 29"),
      std::string::npos);
}

TEST(FilterTest, RejectsBadNumbersAndBools) {
  EXPECT_NE(
      ParseError("value = 1.5", *google::protobuf::Int64Value::descriptor())
          .find("\"1.5\""),
      std::string::npos);
  EXPECT_NE(
      ParseError("value = -1", *google::protobuf::UInt64Value::descriptor())
          .find("\"-1\""),
      std::string::npos);
  EXPECT_NE(ParseError("value = 99999999999999999999",
                       *google::protobuf::Int64Value::descriptor())
                .find("99999999999999999999"),
            std::string::npos);
  for (const char* bad : {"nan", "inf", "0x10", "1e", "-", "."}) {
    EXPECT_NE(ParseError(absl::StrCat("value = ", bad),
                         *google::protobuf::DoubleValue::descriptor())
                  .find("column 9"),
              std::string::npos)
        << bad;
  }
  EXPECT_NE(
      ParseError("value < true", *google::protobuf::BoolValue::descriptor())
          .find("\"<\""),
      std::string::npos);
  EXPECT_NE(
      ParseError("value = yes", *google::protobuf::BoolValue::descriptor())
          .find("\"yes\""),
      std::string::npos);
}

TEST(FilterTest, RejectsMapFields) {
  EXPECT_NE(ParseError("fields:*", *google::protobuf::Struct::descriptor())
                .find("map field \"fields\""),
            std::string::npos);
}

TEST(FilterTest, EnforcesLengthLimit) {
  std::string at_limit = R"(country_code = "IR")";
  at_limit.resize(4096, ' ');
  EXPECT_TRUE(InstitutionMatches(at_limit));
  const std::string too_long = at_limit + " ";
  EXPECT_NE(ParseError(too_long).find("4096"), std::string::npos);
}

TEST(FilterTest, EnforcesDepthLimit) {
  auto nested = [](int depth) {
    std::string text(depth, '(');
    text += R"(country_code = "IR")";
    text += std::string(depth, ')');
    return text;
  };
  EXPECT_TRUE(InstitutionMatches(nested(32)));
  EXPECT_NE(ParseError(nested(33)).find("deeper than 32"), std::string::npos);
  // Far past the limit, parsing still stops early instead of recursing.
  EXPECT_NE(ParseError(std::string(4000, '(')).find("at column 33"),
            std::string::npos);
}

TEST(FilterTest, EnforcesComparisonLimit) {
  auto comparisons = [](int count) {
    // Short comparisons, so that the length limit is not reached first.
    std::string text = "kind:1";
    for (int i = 1; i < count; ++i) text += " OR kind:1";
    return text;
  };
  EXPECT_TRUE(InstitutionMatches(comparisons(200)));
  EXPECT_NE(ParseError(comparisons(201)).find("more than 200 comparisons"),
            std::string::npos);
}

// Random input must give either a filter or INVALID_ARGUMENT, never a crash;
// run under the sanitizers to catch undefined behaviour too.
TEST(FilterTest, SurvivesRandomInput) {
  const std::vector<std::string> pieces = {"(",
                                           ")",
                                           " ",
                                           "AND",
                                           "OR",
                                           "NOT",
                                           "-",
                                           "=",
                                           "!=",
                                           "<",
                                           "<=",
                                           ">",
                                           ">=",
                                           ":",
                                           "*",
                                           "\"",
                                           "'",
                                           "\\",
                                           "names",
                                           ".",
                                           "text",
                                           "kind",
                                           "KIND_STATE",
                                           "1",
                                           "-2.5",
                                           "true",
                                           "\"x*\"",
                                           "create_time",
                                           "\"2025-04-25T00:00:00Z\"",
                                           "\xff",
                                           "country_code"};
  std::mt19937 random(160);
  const Institution institution = Tums();
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int length = std::uniform_int_distribution<int>(0, 24)(random);
    for (int i = 0; i < length; ++i) {
      if (round % 4 == 0) {
        text += static_cast<char>(
            std::uniform_int_distribution<int>(0, 255)(random));
      } else {
        text += pieces[std::uniform_int_distribution<size_t>(
            0, pieces.size() - 1)(random)];
      }
    }
    absl::StatusOr<Filter> filter =
        Filter::Parse(text, *Institution::descriptor());
    if (filter.ok()) {
      ++parsed;
      filter->Matches(institution);
    } else {
      ASSERT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument)
          << text;
      ASSERT_EQ(FieldViolationsOf(filter.status()).size(), 1u) << text;
    }
  }
  EXPECT_GT(parsed, 0);
}

// What an index may answer: top-level conjuncts only, never under OR or
// NOT, never negated, wildcards or substring tests.
TEST(FilterTest, RequiredComparisonsAreTheTopLevelConjuncts) {
  using Op = RequiredComparison::Op;
  const auto required = [](absl::string_view text) {
    absl::StatusOr<Filter> filter =
        Filter::Parse(text, *Institution::descriptor());
    EXPECT_TRUE(filter.ok()) << filter.status();
    std::vector<std::string> spelled;
    for (const RequiredComparison& term : filter->RequiredComparisons()) {
      spelled.push_back(absl::StrCat(
          term.field->name(), " ", static_cast<int>(term.op), " ", term.value));
    }
    return spelled;
  };
  EXPECT_EQ(
      required("kind = KIND_UNIVERSITY AND country_code = \"IR\""),
      (std::vector<std::string>{
          absl::StrCat("kind ", static_cast<int>(Op::kEqual), " ",
                       static_cast<int>(Institution::KIND_UNIVERSITY)),
          absl::StrCat("country_code ", static_cast<int>(Op::kEqual), " IR")}));
  // Juxtaposition is AND too; nested ANDs are flattened.
  EXPECT_EQ(required("(country_code >= \"A\" website_uri < \"h\")").size(), 2u);
  EXPECT_EQ(
      required("country_code > \"M\"").front(),
      absl::StrCat("country_code ", static_cast<int>(Op::kGreater), " M"));
  EXPECT_TRUE(required("").empty());
  EXPECT_TRUE(
      required("kind = KIND_UNIVERSITY OR country_code = \"IR\"").empty());
  EXPECT_TRUE(required("NOT country_code = \"IR\"").empty());
  EXPECT_TRUE(required("country_code != \"IR\"").empty());
  EXPECT_TRUE(required("country_code = \"I*\"").empty());
  EXPECT_TRUE(required("website_uri: \"example\"").empty());
  EXPECT_TRUE(required("website_uri:*").empty());
  EXPECT_TRUE(required("names.text = \"Tehran\"").empty());
  // One indexable conjunct beside others that are not.
  EXPECT_EQ(required("names.text: \"x\" AND country_code = \"IR\" AND (kind = "
                     "KIND_UNIVERSITY OR kind = KIND_UNIVERSITY)")
                .size(),
            1u);
}

}  // namespace
}  // namespace accord
