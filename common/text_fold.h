#ifndef ACCORD_COMMON_TEXT_FOLD_H_
#define ACCORD_COMMON_TEXT_FOLD_H_

// Search folding: institution names are stored and queried in many scripts
// (Latin, Cyrillic, Arabic/Persian), typed on keyboards that disagree about
// letter variants, so both sides are folded to one canonical form before
// comparison.

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace accord {

// Folds UTF-8 text so that search ignores case, diacritics and common
// keyboard variants:
//  - NFKD, removal of nonspacing/enclosing marks, full case folding, NFC
//    ("Hématologie" -> "hematologie", "Ёлка" -> "елка", "й" -> "и").
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
//   FoldForSearch("دانشگاه علوم پزشكي") == FoldForSearch("دانشگاه علوم پزشکی");
std::string FoldForSearch(absl::string_view utf8);

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

}  // namespace accord

#endif  // ACCORD_COMMON_TEXT_FOLD_H_
