#include "common/country_codes.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"

namespace accord {
namespace {

// ISO 3166-1 alpha-2, officially assigned codes (249), sorted so that lookups
// can binary search.
constexpr std::array<absl::string_view, 249> kCountryCodes = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT",
    "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI",
    "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY",
    "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK",
    "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL",
    "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR",
    "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS",
    "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW",
    "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP",
    "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM",
    "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF",
    "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"};

static_assert(std::is_sorted(kCountryCodes.begin(), kCountryCodes.end()),
              "kCountryCodes must stay sorted for binary search");

constexpr size_t kMaxLanguageTagLength = 35;

bool AllOf(absl::string_view s, bool (*predicate)(unsigned char)) {
  return std::all_of(s.begin(), s.end(), [predicate](char c) {
    return predicate(static_cast<unsigned char>(c));
  });
}

bool IsAlpha(absl::string_view s) { return AllOf(s, absl::ascii_isalpha); }
bool IsDigit(absl::string_view s) { return AllOf(s, absl::ascii_isdigit); }
bool IsAlnum(absl::string_view s) { return AllOf(s, absl::ascii_isalnum); }

bool IsVariant(absl::string_view s) {
  if (s.size() >= 5 && s.size() <= 8) return IsAlnum(s);
  // Four-character variants must start with a digit, e.g. "de-1996".
  return s.size() == 4 &&
         absl::ascii_isdigit(static_cast<unsigned char>(s[0])) && IsAlnum(s);
}

// Keeps empty pieces so that "en--US" is rejected. Hand-written because
// Debian's absl::string_view is not absl::string_view.
std::vector<absl::string_view> SplitSubtags(absl::string_view tag) {
  std::vector<absl::string_view> subtags;
  size_t start = 0;
  while (true) {
    const size_t end = tag.find('-', start);
    if (end == absl::string_view::npos) {
      subtags.push_back(tag.substr(start));
      return subtags;
    }
    subtags.push_back(tag.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

bool IsIsoCountryCode(absl::string_view code) {
  return std::binary_search(kCountryCodes.begin(), kCountryCodes.end(), code);
}

bool IsLanguageTag(absl::string_view tag) {
  if (tag.empty() || tag.size() > kMaxLanguageTagLength) return false;
  // Empty subtags (leading, trailing or doubled '-') fail every check below.
  const std::vector<absl::string_view> subtags = SplitSubtags(tag);
  size_t i = 0;
  const absl::string_view language = subtags[i++];
  if (language.size() < 2 || language.size() > 3 || !IsAlpha(language)) {
    return false;
  }
  if (i < subtags.size() && subtags[i].size() == 4 && IsAlpha(subtags[i])) {
    ++i;  // Script, e.g. "Latn".
  }
  if (i < subtags.size() && ((subtags[i].size() == 2 && IsAlpha(subtags[i])) ||
                             (subtags[i].size() == 3 && IsDigit(subtags[i])))) {
    ++i;  // Region, e.g. "IR" or "419".
  }
  for (; i < subtags.size(); ++i) {
    if (!IsVariant(subtags[i])) return false;
  }
  return true;
}

}  // namespace accord
