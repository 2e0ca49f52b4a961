#include "common/ids.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "common/errors.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace accord {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST(IsValidResourceIdTest, AcceptsValidIds) {
  for (const char* id :
       {"a", "tums", "tehran-university", "a1", "a-1", "x0-9"}) {
    EXPECT_TRUE(IsValidResourceId(id)) << id;
  }
  EXPECT_TRUE(IsValidResourceId(std::string(63, 'a')));
}

TEST(IsValidResourceIdTest, RejectsInvalidIds) {
  for (const char* id :
       {"", "1abc", "-abc", "abc-", "Abc", "a_b", "a.b", "a/b", "a b", "é"}) {
    EXPECT_FALSE(IsValidResourceId(id)) << id;
  }
  EXPECT_FALSE(IsValidResourceId(std::string(64, 'a')));
}

TEST(NewResourceIdTest, ProducesValidDistinctIds) {
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewResourceId();
    ASSERT_THAT(id, SizeIs(20));
    EXPECT_TRUE(IsValidResourceId(id)) << id;
    EXPECT_EQ(id.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567"),
              std::string::npos)
        << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(ParseResourceNameTest, ReturnsId) {
  absl::StatusOr<std::string> id =
      ParseResourceName("institutions/tums", "institutions", "name");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "tums");
}

void ExpectInvalidName(const absl::StatusOr<std::string>& result,
                       absl::string_view what) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  const std::vector<FieldViolation> violations =
      FieldViolationsOf(result.status());
  ASSERT_THAT(violations, SizeIs(1));
  EXPECT_EQ(violations[0].field, "institution.name");
  EXPECT_THAT(violations[0].description,
              HasSubstr("must be \"institutions/{id}\""));
  EXPECT_THAT(violations[0].description, HasSubstr(what));
}

TEST(ParseResourceNameTest, RejectsBadNames) {
  const absl::string_view field = "institution.name";
  ExpectInvalidName(ParseResourceName("", "institutions", field),
                    "is required");
  ExpectInvalidName(ParseResourceName("agreements/tums", "institutions", field),
                    "got collection \"agreements\"");
  ExpectInvalidName(ParseResourceName("institutions/", "institutions", field),
                    "id is empty");
  ExpectInvalidName(
      ParseResourceName("institutions/Tums", "institutions", field),
      "\"Tums\" is invalid");
  ExpectInvalidName(ParseResourceName("institutions/18", "institutions", field),
                    "\"18\" is invalid");
  ExpectInvalidName(
      ParseResourceName("institutions/tums/x", "institutions", field),
      "3 segments");
  ExpectInvalidName(ParseResourceName("tums", "institutions", field),
                    "1 segments");
  ExpectInvalidName(
      ParseResourceName("/institutions/tums", "institutions", field),
      "3 segments");
}

TEST(ParseResourceNameTest, TruncatesEchoedInput) {
  const std::string name = "institutions/" + std::string(1000, 'X');
  absl::StatusOr<std::string> id =
      ParseResourceName(name, "institutions", "name");
  ASSERT_FALSE(id.ok());
  EXPECT_LT(id.status().message().size(), 400u);
}

TEST(ParseNestedResourceNameTest, ReturnsIds) {
  absl::StatusOr<std::vector<std::string>> ids = ParseNestedResourceName(
      "committees/jec/sessions/18", {"committees", "sessions"}, "name");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_THAT(*ids, ElementsAre("jec", "18"));
}

TEST(ParseNestedResourceNameTest, FirstIdUsesStrictRule) {
  absl::StatusOr<std::vector<std::string>> ids = ParseNestedResourceName(
      "committees/18/sessions/18", {"committees", "sessions"}, "name");
  ASSERT_FALSE(ids.ok());
  EXPECT_THAT(std::string(ids.status().message()),
              HasSubstr("must be \"committees/{id}/sessions/{id}\""));
  EXPECT_THAT(std::string(ids.status().message()),
              HasSubstr("committees id \"18\""));
}

TEST(ParseNestedResourceNameTest, RejectsBadNames) {
  const std::vector<absl::string_view> collections = {"committees", "sessions"};
  for (const char* name :
       {"", "committees/jec", "committees/jec/sessions",
        "committees/jec/sessions/", "committees/jec/meetings/18",
        "committees/jec/sessions/18-", "committees/jec/sessions/-18",
        "committees/jec/sessions/A", "committees/jec/sessions/18/x",
        "boards/jec/sessions/18"}) {
    absl::StatusOr<std::vector<std::string>> ids =
        ParseNestedResourceName(name, collections, "session.name");
    ASSERT_FALSE(ids.ok()) << name;
    EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument) << name;
    ASSERT_THAT(FieldViolationsOf(ids.status()), SizeIs(1)) << name;
    EXPECT_EQ(FieldViolationsOf(ids.status())[0].field, "session.name");
  }
}

TEST(ParseNestedResourceNameTest, RequiresCollections) {
  EXPECT_FALSE(ParseNestedResourceName("a/b", {}, "name").ok());
}

TEST(IsValidRequestIdTest, AcceptsValidIds) {
  for (const char* id :
       {"3f1c2d9e-6b1a-4c7e-9a53-0d2b8f4e7a11", "a", "req_1.2~3-4", "ABCxyz"}) {
    EXPECT_TRUE(IsValidRequestId(id)) << id;
  }
  EXPECT_TRUE(IsValidRequestId(std::string(128, 'r')));
}

TEST(IsValidRequestIdTest, RejectsInvalidIds) {
  for (const char* id : {"", "a b", "a/b", "a+b", "a=b", "é", "a\nb"}) {
    EXPECT_FALSE(IsValidRequestId(id)) << id;
  }
  EXPECT_FALSE(IsValidRequestId(std::string(129, 'r')));
}

}  // namespace
}  // namespace accord
