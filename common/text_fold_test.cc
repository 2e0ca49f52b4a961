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

TEST(FoldForSearchTest, TurkicLatinLetters) {
  // Azerbaijani: dotless i and schwa have no decomposition.
  EXPECT_EQ(FoldForSearch("Bakı Dövlət Universiteti"),
            "baki dovlet universiteti");
  EXPECT_EQ(FoldForSearch("AZƏRBAYCAN TİBB"), "azerbaycan tibb");
  // Turkish: İ, I and ı all become i, whichever case folding the writer
  // expected.
  EXPECT_EQ(FoldForSearch("İstanbul Teknik Üniversitesi"),
            "istanbul teknik universitesi");
  EXPECT_EQ(FoldForSearch("ISTANBUL"), FoldForSearch("İstanbul"));
  EXPECT_EQ(FoldForSearch("ILIK ılık"), "ilik ilik");
  EXPECT_EQ(FoldForSearch("Orta Doğu Teknik Üniversitesi"),
            "orta dogu teknik universitesi");
  // Kazakh (Latin alphabet of 2021), Turkmen, Uzbek and the rest.
  EXPECT_EQ(FoldForSearch("Äl-Farabi atyndağy Qazaq ulttyq"),
            "al farabi atyndagy qazaq ulttyq");
  EXPECT_EQ(FoldForSearch("Türkmen döwlet uniwersiteti Türkmenistanyň"),
            "turkmen dowlet uniwersiteti turkmenistanyn");
  EXPECT_EQ(FoldForSearch("ğ ş ç ö ü ñ ä ž ý ň ō ū ġ Ğ Ş Ç Ž Ý Ň Ō Ū Ġ"),
            "g s c o u n a z y n o u g g s c z y n o u g");
}

TEST(FoldForSearchTest, UzbekApostropheLetters) {
  for (const char* spelling :
       {"O‘zbekiston", "Oʻzbekiston", "O'zbekiston", "O’zbekiston",
        "O`zbekiston", "Ozbekiston", "OʻZBEKISTON"}) {
    EXPECT_EQ(FoldForSearch(spelling), "ozbekiston") << spelling;
  }
  EXPECT_EQ(FoldForSearch("Mirzo Ulug‘bek nomidagi"), "mirzo ulugbek nomidagi");
  EXPECT_EQ(FoldForSearch("Farg'ona"), "fargona");
  EXPECT_EQ(FoldForSearch("Maʼnaviyat"), "manaviyat");  // Tutuq belgisi.
  // Other apostrophes still split words.
  EXPECT_EQ(FoldForSearch("l'Université"), "l universite");
  EXPECT_EQ(FoldForSearch("İstanbul'da"), "istanbul da");
  EXPECT_EQ(FoldForSearch("go' on"), "go on");
}

TEST(FoldForSearchTest, KazakhAndOtherCyrillicLetters) {
  EXPECT_EQ(FoldForSearch("Әл-Фараби атындағы Қазақ ұлттық университеті"),
            "ал фараби атындагы казак улттык университети");
  EXPECT_EQ(FoldForSearch("ӘҒҚҢӨҰҮҺІ әғқңөұүһі"), "агкноуухи агкноуухи");
  EXPECT_EQ(FoldForSearch("Ўзбекистон Ҳукумати"), "узбекистон хукумати");
  EXPECT_EQ(FoldForSearch("Җ Ҷ Ҙ Ҫ Ҡ Ґ Є Ї"), "ж ч з с к г е и");
}

TEST(FoldForSearchTest, OtherLatinLettersWithoutDecomposition) {
  EXPECT_EQ(FoldForSearch("Øresund Łódź Đakovo Æbeltoft Œuvre Þór Ħamrun"),
            "oresund lodz dakovo aebeltoft oeuvre thor hamrun");
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
        "دانشگاه علوم پزشكي تهران", "“Hematological Research Center”",
        "Bakı Dövlət Universiteti", "O‘zbekiston Milliy universiteti",
        "Әл-Фараби атындағы Қазақ ұлттық университеті", "İSTANBUL"}) {
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

TEST(LatinSearchKeyTest, CyrillicBySpellingOfEnglishTexts) {
  auto latin = [](absl::string_view text) {
    return LatinSearchKey(FoldForSearch(text));
  };
  EXPECT_EQ(latin("Ташкент"), "tashkent");
  EXPECT_EQ(latin("Назарбаев"), "nazarbayev");
  EXPECT_EQ(latin("Московский государственный университет"),
            "moskovskii gosudarstvennyi universitet");
  // Soft and hard signs leave no apostrophe that would split the word.
  EXPECT_EQ(latin("Национальный центр"), "natsionalnyi tsentr");
  EXPECT_EQ(latin("объём"), "obyem");
  // Kazakh letters were folded to Russian ones first.
  EXPECT_EQ(latin("Әл-Фараби атындағы Қазақ ұлттық университеті"),
            "al farabi atyndagy kazak ulttyk universiteti");
  EXPECT_EQ(latin("Ўзбекистон"), "uzbekiston");
}

TEST(LatinSearchKeyTest, ArabicScriptWithoutShortVowels) {
  auto latin = [](absl::string_view text) {
    return LatinSearchKey(FoldForSearch(text));
  };
  EXPECT_EQ(latin("دانشگاه تهران"), "danshgah thran");
  // Ayn leaves no apostrophe; Arabic-keyboard variants agree.
  EXPECT_EQ(latin("علوم پزشكي"), latin("علوم پزشکی"));
  EXPECT_EQ(latin("علوم"), "lwm");
}

TEST(LatinSearchKeyTest, AsciiIsUnchanged) {
  EXPECT_EQ(LatinSearchKey("tehran university"), "tehran university");
  EXPECT_EQ(LatinSearchKey(""), "");
}

TEST(LatinSearchKeyTest, IsThreadSafe) {
  const std::string expected = LatinSearchKey("московскии тегеран تهران");
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &failures, &expected] {
      for (int i = 0; i < 200; ++i) {
        if (LatinSearchKey("московскии тегеран تهران") != expected) {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  EXPECT_EQ(expected, "moskovskii tegeran thran");
}

TEST(SkeletonSearchKeyTest, SpellingsMeet) {
  EXPECT_EQ(SkeletonSearchKey("tehran"), "thrn");
  EXPECT_EQ(SkeletonSearchKey("tegeran"), "thrn");  // Russian Тегеран.
  EXPECT_EQ(SkeletonSearchKey("thran"), "thrn");    // Persian تهران.
  EXPECT_EQ(SkeletonSearchKey("moskovskiy"), "msksk");
  EXPECT_EQ(SkeletonSearchKey("moskovskij"), "msksk");
  EXPECT_EQ(SkeletonSearchKey("moskovskii"), "msksk");
  EXPECT_EQ(SkeletonSearchKey("moscow"), SkeletonSearchKey("moskva"));
  EXPECT_EQ(SkeletonSearchKey("harvard"), SkeletonSearchKey("garvard"));
  EXPECT_EQ(SkeletonSearchKey("qazaq ulttyq"),
            SkeletonSearchKey("kazak ultyk"));
  EXPECT_EQ(SkeletonSearchKey("tashkent"), SkeletonSearchKey("toshkent"));
  EXPECT_EQ(SkeletonSearchKey("center"), SkeletonSearchKey("tsentr"));
  EXPECT_EQ(SkeletonSearchKey("khorezm"), SkeletonSearchKey("xorazm"));
  EXPECT_EQ(SkeletonSearchKey("daneshgah"), SkeletonSearchKey("danshgah"));
}

TEST(SkeletonSearchKeyTest, KeepsDigitsDropsEmptyWords) {
  EXPECT_EQ(SkeletonSearchKey("a 1402 i oya"), "1402");
  EXPECT_EQ(SkeletonSearchKey("university of tehran"), "nrst f thrn");
  EXPECT_EQ(SkeletonSearchKey(""), "");
}

class SearchScoreTest : public ::testing::Test {
 protected:
  static double Score(absl::string_view query, absl::string_view name) {
    const SearchKeys query_keys = MakeSearchKeys(query);
    const SearchKeys name_keys = MakeSearchKeys(name);
    return SearchScore(ViewOf(query_keys), ViewOf(name_keys));
  }
};

TEST_F(SearchScoreTest, OwnScriptKeepsMatchScore) {
  EXPECT_DOUBLE_EQ(Score("baki dovlet", "Bakı Dövlət Universiteti"), 0.9);
  EXPECT_DOUBLE_EQ(
      Score("İSTANBUL TEKNİK ÜNİVERSİTESİ", "İstanbul Teknik Üniversitesi"),
      1.0);
  EXPECT_DOUBLE_EQ(Score("ozbekiston", "O‘zbekiston Milliy universiteti"), 0.9);
  EXPECT_DOUBLE_EQ(Score("әл-фараби", "Әл-Фараби атындағы Қазақ университеті"),
                   0.9);
  EXPECT_DOUBLE_EQ(Score("тегеран", "Тегеранский университет"), 0.9);
}

TEST_F(SearchScoreTest, LatinKeysAcrossScripts) {
  const absl::string_view kaznu =
      "Әл-Фараби атындағы Қазақ ұлттық университеті";
  EXPECT_DOUBLE_EQ(Score("al-farabi", kaznu), 0.45 * 0.9);
  EXPECT_DOUBLE_EQ(Score("назарбаев", "Nazarbayev University"), 0.45 * 0.9);
  EXPECT_DOUBLE_EQ(Score("lomonosov", "Московский университет им. Ломоносова"),
                   0.45 * 0.7);
}

TEST_F(SearchScoreTest, SkeletonsAcrossScriptsAndSpellings) {
  EXPECT_DOUBLE_EQ(Score("tehran", "دانشگاه تهران"), 0.2 * 0.8);
  EXPECT_DOUBLE_EQ(Score("тегеран", "Tehran University of Medical Sciences"),
                   0.2 * 0.9);
  EXPECT_DOUBLE_EQ(Score("moskovskij", "Московский университет"), 0.2 * 0.9);
  EXPECT_DOUBLE_EQ(Score("гарвард", "Harvard University"), 0.2 * 0.9);
  EXPECT_DOUBLE_EQ(Score("qazaq ulttyq", "Қазақ ұлттық университеті"),
                   0.2 * 0.9);
}

TEST_F(SearchScoreTest, TransliteratedMatchesRankBelowOwnScript) {
  // The weakest match in the name's own script, a fragment of a word,
  // outranks the best through transliteration.
  EXPECT_GT(Score("ерситет", "Московский университет"),
            Score("moskovskii universitet", "Московский университет"));
  EXPECT_GT(Score("al farabi", "Al-Farabi Avenue"),
            Score("al farabi", "Әл-Фараби"));
  EXPECT_GT(Score("al farabi", "Әл-Фараби"), Score("tehran", "تهران"));
}

TEST_F(SearchScoreTest, SkeletonsNeedWholeWordsAndThreeConsonants) {
  // "te" and "ira" have skeletons of one and two letters.
  EXPECT_DOUBLE_EQ(Score("te", "تهران"), 0.0);
  EXPECT_DOUBLE_EQ(Score("ira", "ایران"), 0.0);
  // "hrn" sits inside the word "thrn", not at its start.
  EXPECT_DOUBLE_EQ(Score("hrun", "تهران"), 0.0);
  EXPECT_DOUBLE_EQ(Score("shiraz", "دانشگاه تهران"), 0.0);
}

}  // namespace
}  // namespace accord
