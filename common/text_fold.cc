#include "common/text_fold.h"

#include <unicode/normalizer2.h>
#include <unicode/translit.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"

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

// Characters typed for the apostrophe of the Uzbek letters o‘ and g‘.
bool IsApostrophe(UChar32 c) {
  switch (c) {
    case 0x0027:  // APOSTROPHE
    case 0x0060:  // GRAVE ACCENT
    case 0x00B4:  // ACUTE ACCENT
    case 0x2018:  // LEFT SINGLE QUOTATION MARK: the official o‘ and g‘
    case 0x2019:  // RIGHT SINGLE QUOTATION MARK
      return true;
    default:
      return false;
  }
}

// Joins the Uzbek letters o‘ and g‘ (an apostrophe after o or g, before a
// letter) so that "O‘zbekiston", "Oʻzbekiston", "O'zbekiston" and
// "Ozbekiston" fold alike, instead of splitting the word. Elsewhere an
// apostrophe still splits words (French "l'Université", Turkish
// "İstanbul'da"). The modifier letters ʻ and ʼ only ever sit inside a word,
// so they vanish.
icu::UnicodeString JoinUzbekLetters(const icu::UnicodeString& in) {
  icu::UnicodeString out;
  UChar32 previous = 0;
  for (int32_t i = 0; i < in.length();) {
    const UChar32 c = in.char32At(i);
    i += U16_LENGTH(c);
    if (c == 0x02BB || c == 0x02BC) continue;  // ʻ ʼ
    if (IsApostrophe(c) &&
        (previous == 'o' || previous == 'O' || previous == 'g' ||
         previous == 'G') &&
        i < in.length() && u_isalpha(in.char32At(i))) {
      continue;
    }
    out.append(c);
    previous = c;
  }
  return out;
}

// Letters that neither decompose nor case-fold to a base letter, mapped
// after case folding (so only lower case appears): the Turkic dotless i and
// schwa, a few other Latin letters, and the Cyrillic letters of Kazakh,
// Uzbek, Tatar, Bashkir and Tajik to their Russian counterparts.
struct BaseLetter {
  UChar32 letter;
  const char16_t* base;
};
constexpr BaseLetter kBaseLetters[] = {
    {0x0131, u"i"},       // ı dotless i (Turkish, Azerbaijani, Kazakh)
    {0x0268, u"i"},       // ɨ
    {0x0259, u"e"},       // ə schwa (Azerbaijani)
    {0x01DD, u"e"},       // ǝ turned e
    {0x00F8, u"o"},       // ø
    {0x0111, u"d"},       // đ
    {0x00F0, u"d"},       // ð
    {0x0142, u"l"},       // ł
    {0x0127, u"h"},       // ħ
    {0x0167, u"t"},       // ŧ
    {0x00E6, u"ae"},      // æ
    {0x0153, u"oe"},      // œ
    {0x00FE, u"th"},      // þ
    {0x014B, u"ng"},      // ŋ
    {0x04D9, u"\u0430"},  // ә -> а (Kazakh, Tatar)
    {0x0493, u"\u0433"},  // ғ -> г (Kazakh, Uzbek)
    {0x0491, u"\u0433"},  // ґ -> г (Ukrainian)
    {0x049B, u"\u043A"},  // қ -> к (Kazakh, Uzbek)
    {0x04A1, u"\u043A"},  // ҡ -> к (Bashkir)
    {0x04A3, u"\u043D"},  // ң -> н
    {0x04E9, u"\u043E"},  // ө -> о
    {0x04B1, u"\u0443"},  // ұ -> у
    {0x04AF, u"\u0443"},  // ү -> у
    {0x04BB, u"\u0445"},  // һ -> х
    {0x04B3, u"\u0445"},  // ҳ -> х (Uzbek, Tajik)
    {0x0456, u"\u0438"},  // і -> и (Kazakh, Ukrainian, Belarusian)
    {0x0454, u"\u0435"},  // є -> е (Ukrainian)
    {0x0497, u"\u0436"},  // җ -> ж (Tatar)
    {0x04B7, u"\u0447"},  // ҷ -> ч (Tajik)
    {0x0499, u"\u0437"},  // ҙ -> з (Bashkir)
    {0x04AB, u"\u0441"},  // ҫ -> с (Bashkir, Chuvash)
};

// Appends the base letter of `c`; false when `c` has none in kBaseLetters.
bool AppendBaseLetter(UChar32 c, icu::UnicodeString& out) {
  if (c < 0x00E6) return false;  // ASCII and most of Latin-1: none
  for (const BaseLetter& entry : kBaseLetters) {
    if (entry.letter == c) {
      out.append(icu::UnicodeString(entry.base));
      return true;
    }
  }
  return false;
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

// Drops combining marks (diacritics, harakat) and unifies Arabic variants;
// with `base_letters`, also maps the letters of AppendBaseLetter.
icu::UnicodeString StripMarks(const icu::UnicodeString& in, bool base_letters) {
  icu::UnicodeString out;
  for (int32_t i = 0; i < in.length();) {
    const UChar32 c = in.char32At(i);
    i += U16_LENGTH(c);
    const int8_t type = u_charType(c);
    if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK) continue;
    if (base_letters && AppendBaseLetter(c, out)) continue;
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
  icu::UnicodeString text = StripMarks(
      normalizers.nfkd->normalize(JoinUzbekLetters(DecodeUtf8(utf8)), status),
      false);
  // Default (not Turkic) folding: both I and İ become i, and ı is mapped
  // below, so Turkish and non-Turkish spellings meet.
  text.foldCase(U_FOLD_CASE_DEFAULT);
  // Full case folding can yield new marks or compatibility characters
  // (e.g. U+0130 -> "i" U+0307), so decompose and strip once more.
  text = StripMarks(normalizers.nfkd->normalize(text, status), true);
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

namespace {

// Calls `visit` with each space-separated token of `text` until it returns
// false; returns whether it never did. No allocation: search scores every
// indexed name for every query.
template <typename Visit>
bool ForEachToken(absl::string_view text, Visit visit) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == absl::string_view::npos) end = text.size();
    if (end > start && !visit(text.substr(start, end - start))) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

double MatchScore(absl::string_view folded_query,
                  absl::string_view folded_name) {
  // Every level below needs each query token somewhere in the name, and
  // most names lack the first one: reject those before anything else.
  bool has_token = false;
  const bool all_found = ForEachToken(folded_query, [&](absl::string_view t) {
    has_token = true;
    return folded_name.find(t) != absl::string_view::npos;
  });
  if (!has_token || !all_found) return 0.0;
  if (folded_query == folded_name) return 1.0;
  if (absl::StartsWith(folded_name, folded_query)) return 0.9;

  bool all_whole = true;
  const bool all_prefix = ForEachToken(folded_query, [&](absl::string_view q) {
    bool whole = false;
    bool prefix = false;
    ForEachToken(folded_name, [&](absl::string_view n) {
      if (n == q) {
        whole = true;
        prefix = true;
        return false;
      }
      if (absl::StartsWith(n, q)) prefix = true;
      return true;
    });
    all_whole = all_whole && whole;
    return prefix;
  });
  if (all_prefix && all_whole) return 0.8;
  if (all_prefix) return 0.7;
  if (folded_name.find(folded_query) != absl::string_view::npos) return 0.5;
  return 0.0;
}

namespace {

// Cyrillic by BGN/PCGN (sh, zh, kh, ts, y: how English texts spell Russian
// names), the rest by Any-Latin; the apostrophes transliteration leaves for
// soft and hard signs or ayn and hamza are dropped so words stay whole.
constexpr char kLatinRules[] =
    "::NFC;"
    "::[:Cyrillic:] Russian-Latin/BGN;"
    "::Any-Latin;"
    "[\\u02B9-\\u02BF\\u0027\\u0022\\u2018\\u2019] > ;"
    "::Latin-ASCII;";

// icu::Transliterator::transliterate is not safe on an instance shared
// between threads, and building one from rules takes milliseconds, so each
// thread borrows an idle clone of one prototype.
class LatinTransliterators {
 public:
  static LatinTransliterators& Get() {
    static LatinTransliterators* const instance = new LatinTransliterators;
    return *instance;
  }

  // Transliterates `text` in place; false if ICU could not build the rules.
  bool Transliterate(icu::UnicodeString& text) {
    if (prototype_ == nullptr) return false;
    std::unique_ptr<icu::Transliterator> transliterator;
    {
      absl::MutexLock lock(&mu_);
      if (idle_.empty()) {
        transliterator.reset(prototype_->clone());
      } else {
        transliterator = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (transliterator == nullptr) return false;
    transliterator->transliterate(text);
    absl::MutexLock lock(&mu_);
    idle_.push_back(std::move(transliterator));
    return true;
  }

 private:
  LatinTransliterators() {
    UParseError parse_error;
    UErrorCode status = U_ZERO_ERROR;
    prototype_.reset(icu::Transliterator::createFromRules(
        "accord-search-latin", icu::UnicodeString::fromUTF8(kLatinRules),
        UTRANS_FORWARD, parse_error, status));
    if (U_FAILURE(status)) prototype_.reset();
  }

  std::unique_ptr<icu::Transliterator> prototype_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<icu::Transliterator>> idle_ ABSL_GUARDED_BY(mu_);
};

bool IsAscii(absl::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// The skeleton letter of one ASCII letter: 0 for vowels and glides.
char SkeletonLetter(char c) {
  switch (c) {
    case 'a':
    case 'e':
    case 'i':
    case 'o':
    case 'u':
    case 'y':
    case 'j':
    case 'w':
    case 'v':
      return 0;
    case 'c':
    case 'q':
      return 'k';
    case 'g':
    case 'x':
      return 'h';
    default:
      return c;
  }
}

// The skeleton letter of a digraph starting with `c`, 0 if `c` and `next`
// are not one.
char SkeletonDigraph(char c, char next) {
  if (next == 'h') {
    switch (c) {
      case 's':
        return 's';
      case 'c':
        return 'k';
      case 'z':
        return 'z';
      case 'k':
      case 'g':
        return 'h';
      case 'p':
        return 'f';
      default:
        return 0;
    }
  }
  return c == 't' && next == 's' ? 'k' : 0;
}

// Non-space characters of `text`.
size_t LetterCount(absl::string_view text) {
  size_t count = 0;
  for (const char c : text) count += c != ' ';
  return count;
}

constexpr double kLatinWeight = 0.45;
constexpr double kSkeletonWeight = 0.2;
constexpr size_t kMinSkeletonQuery = 3;

}  // namespace

std::string LatinSearchKey(absl::string_view folded) {
  if (IsAscii(folded)) return std::string(folded);
  icu::UnicodeString text = DecodeUtf8(folded);
  if (!LatinTransliterators::Get().Transliterate(text)) {
    return std::string(folded);
  }
  std::string latin;
  text.toUTF8String(latin);
  return FoldForSearch(latin);
}

std::string SkeletonSearchKey(absl::string_view latin) {
  std::string out;
  ForEachToken(latin, [&out](absl::string_view token) {
    std::string skeleton;
    char last = 0;
    for (size_t i = 0; i < token.size();) {
      const char c = token[i];
      const char next = i + 1 < token.size() ? token[i + 1] : 0;
      if (static_cast<unsigned char>(c) >= 0x80 || (c >= '0' && c <= '9')) {
        // Digits and letters beyond ASCII are kept as they are.
        skeleton.push_back(c);
        last = 0;
        ++i;
        continue;
      }
      char letter = SkeletonDigraph(c, next);
      if (letter != 0) {
        i += 2;
      } else {
        letter = SkeletonLetter(c);
        ++i;
      }
      if (letter == 0 || letter == last) continue;
      skeleton.push_back(letter);
      last = letter;
    }
    if (!skeleton.empty()) {
      if (!out.empty()) out.push_back(' ');
      out += skeleton;
    }
    return true;
  });
  return out;
}

SearchKeys MakeSearchKeys(absl::string_view text) {
  SearchKeys keys;
  keys.folded = FoldForSearch(text);
  keys.latin = LatinSearchKey(keys.folded);
  keys.skeleton = SkeletonSearchKey(keys.latin);
  return keys;
}

double SearchScore(const SearchKeysView& query, const SearchKeysView& name) {
  const double original = MatchScore(query.folded, name.folded);
  if (original > 0) return original;
  // Both already Latin: the Latin keys are the folded forms just compared.
  if (query.latin != query.folded || name.latin != name.folded) {
    const double latin = MatchScore(query.latin, name.latin);
    if (latin > 0) return kLatinWeight * latin;
  }
  // A skeleton of one or two consonants, or a fragment inside a word, would
  // match nearly anything.
  if (LetterCount(query.skeleton) < kMinSkeletonQuery) return 0.0;
  const double skeleton = MatchScore(query.skeleton, name.skeleton);
  return skeleton >= 0.7 ? kSkeletonWeight * skeleton : 0.0;
}

}  // namespace accord
