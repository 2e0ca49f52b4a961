#ifndef ACCORD_COMMON_TEXT_FOLD_H_
#define ACCORD_COMMON_TEXT_FOLD_H_

// Search folding: institution names are stored and queried in many scripts
// (Latin, Cyrillic, Arabic/Persian), typed on keyboards that disagree about
// letter variants, so both sides are folded to one canonical form before
// comparison; to find a name written in another script than the query, both
// are also compared written in Latin letters, and as consonant skeletons.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace accord {

// Folds UTF-8 text so that search ignores case, diacritics and common
// keyboard variants:
//  - NFKD, removal of nonspacing/enclosing marks, full case folding, NFC
//    ("Hématologie" -> "hematologie", "Ёлка" -> "елка", "й" -> "и").
//  - Letters with no decomposition become their base letter: the Turkic
//    ı -> i and ə -> e (İ and I fold to i as well), ø -> o, ł -> l, đ -> d,
//    æ -> ae, ...; the extra Cyrillic letters of Kazakh, Uzbek, Tatar and
//    Tajik become their Russian counterparts (ә -> а, ғ -> г, қ -> к,
//    ң -> н, ө -> о, ұ ү -> у, һ ҳ -> х, і -> и, ...).
//  - The Uzbek apostrophe letters o‘ and g‘, however typed (‘ ʻ ’ ' `),
//    become o and g; the modifier letters ʻ and ʼ vanish.
//  - Arabic/Persian letter variants unified: ي ى ئ -> ی, ك -> ک, ة ۀ -> ه,
//    أ إ آ ٱ -> ا, ؤ -> و; tatweel and format characters (ZWNJ, ZWJ, bidi
//    marks, soft hyphen) removed.
//  - Every decimal digit (Arabic-Indic, Persian, ...) becomes an ASCII digit.
//  - Every run of punctuation, symbols, whitespace or control characters
//    becomes one ASCII space; the result is trimmed.
//  - Invalid UTF-8 sequences are dropped.
// Thread-safe.
// Example:
//   FoldForSearch("“Hématologie” – Centre");  // "hematologie centre"
//   FoldForSearch("Bakı Dövlət Universiteti");  // "baki dovlet universiteti"
//   FoldForSearch("O‘zbekiston");               // "ozbekiston"
//   FoldForSearch("دانشگاه علوم پزشكي") == FoldForSearch("دانشگاه علوم پزشکی");
std::string FoldForSearch(absl::string_view utf8);

// A folded text (from FoldForSearch) written in Latin letters: Cyrillic by
// BGN/PCGN (the spelling English texts use: "ташкент" -> "tashkent"), every
// other script by ICU's Any-Latin, then reduced to ASCII and folded again.
// Arabic script, which does not write short vowels, comes out without them:
// "تهران" -> "thran". Text already in ASCII is returned as is.
// Thread-safe.
// Example:
//   LatinSearchKey(FoldForSearch("Әл-Фараби"));  // "al farabi"
std::string LatinSearchKey(absl::string_view folded);

// A consonant skeleton of a Latin key (from LatinSearchKey), so that
// spellings of one name in different transliterations meet: vowels and the
// glides y j w v are dropped; sh ch zh kh gh ph ts become s k z h h f k;
// c q become k, g x become h (Russian writes the h of foreign names as г:
// "Тегеран", "Гарвард"); doubled letters become one. Empty words vanish.
// Coarse by design: it is the last resort of SearchScore.
// Example:
//   SkeletonSearchKey("tehran") == SkeletonSearchKey("tegeran");    // "thrn"
//   SkeletonSearchKey("moskovskiy") == SkeletonSearchKey("moskovskij");
std::string SkeletonSearchKey(absl::string_view latin);

// The three keys under which a name is searched.
struct SearchKeys {
  std::string folded;    // FoldForSearch
  std::string latin;     // LatinSearchKey(folded)
  std::string skeleton;  // SkeletonSearchKey(latin)
};

// Computes every key of `text` (raw, or already folded: folding is
// idempotent). Thread-safe.
SearchKeys MakeSearchKeys(absl::string_view text);

// The same keys, borrowed (e.g. from a stored search index entry).
struct SearchKeysView {
  absl::string_view folded;
  absl::string_view latin;
  absl::string_view skeleton;
};

inline SearchKeysView ViewOf(const SearchKeys& keys) {
  return {keys.folded, keys.latin, keys.skeleton};
}

// Splits an already folded string on spaces, skipping empty tokens.
// Example:
//   SearchTokens("tehran university");  // {"tehran", "university"}
std::vector<std::string> SearchTokens(absl::string_view folded);

// Relevance of `folded_name` for `folded_query` (both from FoldForSearch),
// in [0, 1]; 0 means no match:
//   1.0  equal
//   0.9  the name starts with the query
//   0.8  every query token is a whole token of the name
//   0.7  every query token is a prefix of some name token
//   0.5  the query is a substring of the name
// An empty query matches nothing.
// Example:
//   MatchScore("tehran univ", "tehran university of medical sciences");  // 0.9
//   MatchScore("medical tehran", "tehran university of medical sciences");
//   // 0.8
double MatchScore(absl::string_view folded_query,
                  absl::string_view folded_name);

// Relevance of a name for a query across scripts, in [0, 1]; 0 means no
// match. A match in the name's own script always outranks one through
// transliteration:
//   [0.5, 1]      MatchScore of the folded forms;
//   [0.225, 0.45] 0.45 x MatchScore of the Latin keys ("al-farabi" finds
//                 "Әл-Фараби", "назарбаев" finds "Nazarbayev");
//   [0.14, 0.2]   0.2 x MatchScore of the skeletons, whole words or word
//                 prefixes only, for a query of three consonants or more
//                 ("tehran" finds "تهران", "moskovskij" finds "Московский").
// Example:
//   SearchScore(ViewOf(MakeSearchKeys("tehran")),
//               ViewOf(MakeSearchKeys("دانشگاه تهران")));  // 0.16
double SearchScore(const SearchKeysView& query, const SearchKeysView& name);

}  // namespace accord

#endif  // ACCORD_COMMON_TEXT_FOLD_H_
