#include "common/country_codes.h"

#include <string>

#include "gtest/gtest.h"

namespace accord {
namespace {

TEST(IsIsoCountryCodeTest, AcceptsAssignedCodes) {
  for (const char* code : {"AD", "IR", "RU", "US", "GB", "PS", "SS", "CW", "SX",
                           "BQ", "AX", "DE", "FR", "ZW"}) {
    EXPECT_TRUE(IsIsoCountryCode(code)) << code;
  }
}

TEST(IsIsoCountryCodeTest, RejectsUnassignedAndMalformedCodes) {
  for (const char* code : {"XK", "EU", "UK", "AN", "YU", "ZZ", "AA", "QO", "ir",
                           "Ir", "", "I", "IRN", " IR", "I-"}) {
    EXPECT_FALSE(IsIsoCountryCode(code)) << code;
  }
}

TEST(IsIsoCountryCodeTest, CountsAllAssignedCodes) {
  int count = 0;
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      if (IsIsoCountryCode(std::string{a, b})) ++count;
    }
  }
  EXPECT_EQ(count, 249);
}

TEST(IsLanguageTagTest, AcceptsWellFormedTags) {
  for (const char* tag : {"en", "fa", "ru", "fa-IR", "ru-Latn", "sr-Latn",
                          "zh-Hant-TW", "es-419", "EN-us", "ast", "de-1996",
                          "sl-rozaj", "sl-Latn-IT-rozaj", "de-CH-1901"}) {
    EXPECT_TRUE(IsLanguageTag(tag)) << tag;
  }
}

TEST(IsLanguageTagTest, RejectsMalformedTags) {
  for (const char* tag :
       {"", "e", "english", "en_US", "en--US", "-en", "en-", "en-U", "en-USA",
        "en-12", "en-US-Latn", "e1", "en-x-private", "en US", "fa-IR-1",
        "zh-Hant-TW-abcdefghi", "фа"}) {
    EXPECT_FALSE(IsLanguageTag(tag)) << tag;
  }
}

TEST(IsLanguageTagTest, LimitsLength) {
  // 35 characters is the longest accepted.
  const std::string tag = "en-Latn-US-abcdefgh-abcdefgh-abcde";
  ASSERT_EQ(tag.size(), 34u);
  EXPECT_TRUE(IsLanguageTag(tag));
  EXPECT_TRUE(IsLanguageTag(tag + "f"));
  EXPECT_FALSE(IsLanguageTag(tag + "fg"));
}

}  // namespace
}  // namespace accord
