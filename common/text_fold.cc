#include "common/text_fold.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <climits>
#include <cstddef>
#include <cstdint>

#include "absl/strings/match.h"

namespace accord {
namespace {

// ICU's Normalizer2 instances are immutable singletons owned by ICU and safe
// to share between threads, unlike icu::Transliterator.
struct Normalizers {
  const icu::Normalizer2* nfkd = nullptr;
  const icu::Normalizer2* nfc = nullptr;
};

const Normalizers& GetNormalizers() {
  static const Normalizers normalizers = [] {
    Normalizers n;
    UErrorCode status = U_ZERO_ERROR;
    n.nfkd = icu::Normalizer2::getNFKDInstance(status);
    status = U_ZERO_ERROR;
    n.nfc = icu::Normalizer2::getNFCInstance(status);
    return n;
  }();
  return normalizers;
}

// Decodes UTF-8, dropping invalid sequences so that garbage input cannot
// inject U+FFFD into indexes. UnicodeString lengths are int32_t, so longer
// inputs are truncated (no search text gets anywhere near that).
icu::UnicodeString DecodeUtf8(absl::string_view utf8) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(utf8.data());
  const int32_t length = utf8.size() > static_cast<size_t>(INT32_MAX / 2)
                             ? INT32_MAX / 2
                             : static_cast<int32_t>(utf8.size());
  icu::UnicodeString out;
  int32_t i = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) continue;
    // Heh with yeh above decomposes to U+06D5 (a distinct Kurdish letter),
    // so map it to heh before NFKD rather than after.
    if (c == 0x06C0) c = 0x0647;
    out.append(c);
  }
  return out;
}

// Maps Arabic-script variants that Persian and Arabic keyboards produce for
// the same letter; returns U_SENTINEL for characters to delete.
UChar32 MapArabicVariant(UChar32 c) {
  switch (c) {
    case 0x064A:      // ARABIC LETTER YEH
    case 0x0649:      // ARABIC LETTER ALEF MAKSURA
    case 0x0626:      // YEH WITH HAMZA ABOVE (normally decomposed by NFKD)
      return 0x06CC;  // ARABIC LETTER FARSI YEH
    case 0x0643:      // ARABIC LETTER KAF
      return 0x06A9;  // ARABIC LETTER KEHEH
    case 0x0629:      // ARABIC LETTER TEH MARBUTA
      return 0x0647;  // ARABIC LETTER HEH
    case 0x0622:      // ALEF WITH MADDA ABOVE (normally decomposed by NFKD)
    case 0x0623:      // ALEF WITH HAMZA ABOVE (normally decomposed by NFKD)
    case 0x0625:      // ALEF WITH HAMZA BELOW (normally decomposed by NFKD)
    case 0x0671:      // ALEF WASLA: has no decomposition
      return 0x0627;  // ARABIC LETTER ALEF
    case 0x0624:      // WAW WITH HAMZA ABOVE (normally decomposed by NFKD)
      return 0x0648;  // ARABIC LETTER WAW
    case 0x0640:      // TATWEEL: only stretches the baseline
      return U_SENTINEL;
    default:
      return c;
  }
}

// Drops combining marks (diacritics, harakat) and unifies Arabic variants.
icu::UnicodeString StripMarks(const icu::UnicodeString& in) {
  icu::UnicodeString out;
  for (int32_t i = 0; i < in.length();) {
    const UChar32 c = in.char32At(i);
    i += U16_LENGTH(c);
    const int8_t type = u_charType(c);
    if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK) continue;
    const UChar32 mapped = MapArabicVariant(c);
    if (mapped != U_SENTINEL) out.append(mapped);
  }
  return out;
}

// Punctuation, symbols, separators and controls all split words.
bool IsSeparator(int8_t type) {
  switch (type) {
    case U_SPACE_SEPARATOR:
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
    case U_CONTROL_CHAR:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_CONNECTOR_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_MATH_SYMBOL:
    case U_CURRENCY_SYMBOL:
    case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL:
      return true;
    default:
      return false;
  }
}

void AppendUtf8(UChar32 c, std::string& out) {
  char buffer[U8_MAX_LENGTH];
  int32_t length = 0;
  UBool error = false;
  U8_APPEND(buffer, length, U8_MAX_LENGTH, c, error);
  if (!error) out.append(buffer, static_cast<size_t>(length));
}

}  // namespace

std::string FoldForSearch(absl::string_view utf8) {
  const Normalizers& normalizers = GetNormalizers();
  if (normalizers.nfkd == nullptr || normalizers.nfc == nullptr) return "";

  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString text =
      StripMarks(normalizers.nfkd->normalize(DecodeUtf8(utf8), status));
  text.foldCase(U_FOLD_CASE_DEFAULT);
  // Full case folding can yield new marks or compatibility characters
  // (e.g. U+0130 -> "i" U+0307), so decompose and strip once more.
  text = StripMarks(normalizers.nfkd->normalize(text, status));
  // Recompose what marks removal left decomposed (e.g. Hangul jamo).
  text = normalizers.nfc->normalize(text, status);
  if (U_FAILURE(status)) return "";

  std::string out;
  out.reserve(static_cast<size_t>(text.length()));
  bool pending_space = false;
  for (int32_t i = 0; i < text.length();) {
    const UChar32 c = text.char32At(i);
    i += U16_LENGTH(c);
    const int8_t type = u_charType(c);
    // Format characters (ZWNJ, ZWJ, bidi marks, soft hyphen) sit inside
    // words, so they vanish instead of splitting: "می‌خواهم" ==
    // "میخواهم".
    if (type == U_FORMAT_CHAR || type == U_SURROGATE) continue;
    if (IsSeparator(type)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    const int32_t digit =
        type == U_DECIMAL_DIGIT_NUMBER ? u_charDigitValue(c) : -1;
    if (digit >= 0 && digit <= 9) {
      out.push_back(static_cast<char>('0' + digit));
    } else {
      AppendUtf8(c, out);
    }
  }
  return out;
}

std::vector<std::string> SearchTokens(absl::string_view folded) {
  // Split by hand: Debian's Abseil has its own absl::string_view, which does
  // not convert from absl::string_view.
  std::vector<std::string> tokens;
  size_t start = 0;
  while (start < folded.size()) {
    size_t end = folded.find(' ', start);
    if (end == absl::string_view::npos) end = folded.size();
    if (end > start) tokens.emplace_back(folded.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

double MatchScore(absl::string_view folded_query,
                  absl::string_view folded_name) {
  const std::vector<std::string> query_tokens = SearchTokens(folded_query);
  if (query_tokens.empty()) return 0.0;
  if (folded_query == folded_name) return 1.0;
  if (absl::StartsWith(folded_name, folded_query)) return 0.9;

  const std::vector<std::string> name_tokens = SearchTokens(folded_name);
  bool all_whole = true;
  bool all_prefix = true;
  for (const std::string& query_token : query_tokens) {
    bool whole = false;
    bool prefix = false;
    for (const std::string& name_token : name_tokens) {
      if (name_token == query_token) {
        whole = true;
        prefix = true;
        break;
      }
      if (name_token.starts_with(query_token)) prefix = true;
    }
    all_whole = all_whole && whole;
    all_prefix = all_prefix && prefix;
    if (!all_prefix) break;
  }
  if (all_whole) return 0.8;
  if (all_prefix) return 0.7;
  if (folded_name.find(folded_query) != absl::string_view::npos) return 0.5;
  return 0.0;
}

}  // namespace accord
