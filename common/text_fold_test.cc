#include "common/text_fold.h"

#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace accord {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(FoldForSearchTest, LowercasesLatin) {
  EXPECT_EQ(FoldForSearch("Tehran University of Medical Sciences"),
            "tehran university of medical sciences");
}

TEST(FoldForSearchTest, RemovesLatinDiacritics) {
  EXPECT_EQ(FoldForSearch("Hématologie"), "hematologie");
  EXPECT_EQ(FoldForSearch("Université Paris Cité"), "universite paris cite");
  EXPECT_EQ(FoldForSearch("São Paulo"), "sao paulo");
}

TEST(FoldForSearchTest, FullCaseFolding) {
  EXPECT_EQ(FoldForSearch("Universität Straße"), "universitat strasse");
  EXPECT_EQ(FoldForSearch("İstanbul Üniversitesi"), "istanbul universitesi");
}

TEST(FoldForSearchTest, CompatibilityForms) {
  EXPECT_EQ(FoldForSearch("ＡＢＣ １２３"), "abc 123");  // Fullwidth.
  EXPECT_EQ(FoldForSearch("ﬁnance"), "finance");         // Ligature.
}

TEST(FoldForSearchTest, FoldsCyrillic) {
  const std::string name = FoldForSearch(
      "Национальный медицинский исследовательский центр гематологии");
  EXPECT_EQ(name,
            "национальныи медицинскии исследовательскии центр гематологии");
  EXPECT_EQ(FoldForSearch("Ёлка"), "елка");
  EXPECT_EQ(FoldForSearch("Ёлка"), FoldForSearch("елка"));
  EXPECT_EQ(FoldForSearch("Й"), "и");
}

TEST(FoldForSearchTest, UnifiesPersianAndArabicLetters) {
  // Persian keyboard yeh/keheh vs Arabic yeh/kaf.
  EXPECT_EQ(FoldForSearch("دانشگاه علوم پزشكي تهران"),
            FoldForSearch("دانشگاه علوم پزشکی تهران"));
  EXPECT_EQ(FoldForSearch("دانشگاه علوم پزشکی تهران"),
            "دانشگاه علوم پزشکی تهران");
  EXPECT_EQ(FoldForSearch("مصطفى"), "مصطفی");  // Alef maksura.
  EXPECT_EQ(FoldForSearch("جامعة"), "جامعه");  // Teh marbuta.
  EXPECT_EQ(FoldForSearch("أحمد"), "احمد");    // Alef with hamza above.
  EXPECT_EQ(FoldForSearch("إسلام"), "اسلام");  // Alef with hamza below.
  EXPECT_EQ(FoldForSearch("آزاد"), "ازاد");    // Alef with madda.
  EXPECT_EQ(FoldForSearch("ٱلله"), "الله");    // Alef wasla.
  EXPECT_EQ(FoldForSearch("مؤسسه"), "موسسه");  // Waw with hamza.
  EXPECT_EQ(FoldForSearch("رئیس"), "رییس");    // Yeh with hamza.
  EXPECT_EQ(FoldForSearch("خانۀ"), "خانه");    // Heh with yeh above.
  EXPECT_EQ(FoldForSearch("مُحَمَّد"), "محمد");    // Harakat.
}

TEST(FoldForSearchTest, RemovesTatweelAndZwnj) {
  EXPECT_EQ(FoldForSearch("می\u200Cخواهم"), FoldForSearch("میخواهم"));
  EXPECT_EQ(FoldForSearch("می\u200Cخواهم"), "میخواهم");
  EXPECT_EQ(FoldForSearch("تهـــران"), "تهران");
}

TEST(FoldForSearchTest, MapsDigitsToAscii) {
  EXPECT_EQ(FoldForSearch("۱۴۰۲"), "1402");  // Persian digits.
  EXPECT_EQ(FoldForSearch("٢٠٢٣"), "2023");  // Arabic-Indic digits.
}

TEST(FoldForSearchTest, PunctuationBecomesSingleSpace) {
  EXPECT_EQ(FoldForSearch("“Hematological Research Center”"),
            "hematological research center");
  EXPECT_EQ(FoldForSearch("«Центр» — гематологии..."), "центр гематологии");
  EXPECT_EQ(FoldForSearch("  Smith-Jones,\tInc.\n"), "smith jones inc");
  EXPECT_EQ(FoldForSearch("St. John's"), "st john s");
  EXPECT_EQ(FoldForSearch("دانشگاه، تهران؟"), "دانشگاه تهران");
  EXPECT_EQ(FoldForSearch("..."), "");
  EXPECT_EQ(FoldForSearch(""), "");
}

TEST(FoldForSearchTest, DropsInvalidUtf8) {
  EXPECT_EQ(FoldForSearch("ab\xFF\xFE"
                          "cd"),
            "abcd");
  EXPECT_EQ(FoldForSearch("\xC3"), "");            // Truncated sequence.
  EXPECT_EQ(FoldForSearch("\xED\xA0\x80x"), "x");  // Encoded surrogate.
  EXPECT_EQ(FoldForSearch("\xC0\xAF"
                          "A"),
            "a");  // Overlong '/'.
  EXPECT_EQ(FoldForSearch(std::string("a\0b", 3)), "a b");
}

TEST(FoldForSearchTest, IsIdempotent) {
  for (const char* text :
       {"Tehran University of Medical Sciences", "Hématologie", "Ёлка",
        "دانشگاه علوم پزشكي تهران", "“Hematological Research Center”"}) {
    const std::string once = FoldForSearch(text);
    EXPECT_EQ(FoldForSearch(once), once) << text;
  }
}

TEST(FoldForSearchTest, IsThreadSafe) {
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 200; ++i) {
        if (FoldForSearch("دانشگاه علوم پزشكي «Hématologie» Ёлка") !=
            "دانشگاه علوم پزشکی hematologie елка") {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(SearchTokensTest, SplitsOnSpaces) {
  EXPECT_THAT(SearchTokens("tehran university"),
              ElementsAre("tehran", "university"));
  EXPECT_THAT(SearchTokens(" a  b "), ElementsAre("a", "b"));
  EXPECT_THAT(SearchTokens(""), IsEmpty());
}

class MatchScoreTest : public ::testing::Test {
 protected:
  static double Score(absl::string_view query, absl::string_view name) {
    return MatchScore(FoldForSearch(query), FoldForSearch(name));
  }
};

TEST_F(MatchScoreTest, Levels) {
  const absl::string_view name = "Tehran University of Medical Sciences";
  EXPECT_DOUBLE_EQ(Score("tehran university of medical sciences", name), 1.0);
  EXPECT_DOUBLE_EQ(Score("tehran", name), 0.9);
  EXPECT_DOUBLE_EQ(Score("tehran univ", name), 0.9);
  EXPECT_DOUBLE_EQ(Score("medical tehran", name), 0.8);
  EXPECT_DOUBLE_EQ(Score("univ tehran", name), 0.7);
  EXPECT_DOUBLE_EQ(Score("med sci", name), 0.7);
  EXPECT_DOUBLE_EQ(Score("ersity of med", name), 0.5);
  EXPECT_DOUBLE_EQ(Score("shiraz", name), 0.0);
  EXPECT_DOUBLE_EQ(Score("tehran shiraz", name), 0.0);
}

TEST_F(MatchScoreTest, EmptyQueryMatchesNothing) {
  EXPECT_DOUBLE_EQ(Score("", "Tehran"), 0.0);
  EXPECT_DOUBLE_EQ(Score("“ ”", "Tehran"), 0.0);
  EXPECT_DOUBLE_EQ(MatchScore("", ""), 0.0);
}

TEST_F(MatchScoreTest, Diacritics) {
  EXPECT_DOUBLE_EQ(Score("hematologie", "Hématologie"), 1.0);
  EXPECT_DOUBLE_EQ(Score("HÉMATOLOGIE", "hematologie"), 1.0);
}

TEST_F(MatchScoreTest, Russian) {
  const absl::string_view name =
      "Национальный медицинский исследовательский центр гематологии";
  EXPECT_DOUBLE_EQ(Score("гематологии", name), 0.8);
  EXPECT_DOUBLE_EQ(Score("ЦЕНТР", name), 0.8);
  EXPECT_DOUBLE_EQ(Score("центр гематол", name), 0.7);
  EXPECT_DOUBLE_EQ(Score("национальный", name), 0.9);
  EXPECT_DOUBLE_EQ(Score("ёлка", "Елка"), 1.0);
}

TEST_F(MatchScoreTest, Persian) {
  const absl::string_view name = "دانشگاه علوم پزشکی تهران";
  EXPECT_DOUBLE_EQ(Score("دانشگاه علوم پزشكي تهران", name), 1.0);
  EXPECT_DOUBLE_EQ(Score("پزشكي", name), 0.8);
  EXPECT_DOUBLE_EQ(Score("تهـران", name), 0.8);
  EXPECT_DOUBLE_EQ(Score("می‌خواهم", "میخواهم"), 1.0);
}

TEST_F(MatchScoreTest, QuotedName) {
  EXPECT_DOUBLE_EQ(
      Score("hematological research", "“Hematological Research Center”"), 0.9);
  EXPECT_DOUBLE_EQ(
      Score("\"research center\"", "“Hematological Research Center”"), 0.8);
}

}  // namespace
}  // namespace accord
