#ifndef ACCORD_COMMON_COUNTRY_CODES_H_
#define ACCORD_COMMON_COUNTRY_CODES_H_

// Validation of country codes and language tags carried in requests, so that
// stored records only use identifiers other systems can interpret.

#include "absl/strings/string_view.h"

namespace accord {

// True only for the 249 officially assigned ISO 3166-1 alpha-2 codes, in
// upper case. User-assigned or reserved codes (XK, EU, UK) are rejected.
// Example:
//   IsIsoCountryCode("IR");  // true
//   IsIsoCountryCode("ir");  // false
//   IsIsoCountryCode("XK");  // false
bool IsIsoCountryCode(absl::string_view code);

// Syntactic BCP 47 check (no registry lookup), case-insensitive, at most 35
// characters, subtags separated by '-':
//   language  2-3 letters
//   script    4 letters            (optional)
//   region    2 letters or 3 digits (optional)
//   variants  5-8 alphanumerics, or a digit and 3 alphanumerics (any number)
// Extension and private-use subtags ("-u-...", "-x-...") are not accepted.
// Example:
//   IsLanguageTag("zh-Hant-TW");  // true
//   IsLanguageTag("en_US");       // false
bool IsLanguageTag(absl::string_view tag);

}  // namespace accord

#endif  // ACCORD_COMMON_COUNTRY_CODES_H_
