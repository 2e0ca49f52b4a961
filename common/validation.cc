#include "common/validation.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/country_codes.h"

namespace accord {

void Violations::Add(std::string field, std::string description) {
  violations_.push_back({std::move(field), std::move(description)});
}

void Violations::CheckText(const std::string& field, absl::string_view text,
                           size_t max_bytes, bool required) {
  if (absl::StripAsciiWhitespace(text).empty()) {
    if (required) Add(field, "must not be empty");
    return;
  }
  if (text.size() > max_bytes) {
    Add(field, absl::StrCat("must be at most ", max_bytes, " bytes, got ",
                            text.size()));
    return;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    // C0 controls other than tab and newline, DEL, and C1 controls
    // (U+0080..U+009F, in UTF-8 the bytes C2 80..C2 9F).
    const bool c0 = c < 0x20 && c != '\n' && c != '\t';
    const bool c1 = c == 0xC2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (c0 || c == 0x7F || c1) {
      Add(field, "must not contain control characters");
      return;
    }
  }
}

void Violations::CheckCount(const std::string& field, int count, int max) {
  if (count > max) {
    Add(field,
        absl::StrCat("must have at most ", max, " entries, got ", count));
  }
}

void Violations::CheckHttpUrl(const std::string& field, absl::string_view url) {
  if (url.empty()) return;
  if (url.size() > kMaxUriLength) {
    Add(field, absl::StrCat("must be at most ", kMaxUriLength, " bytes"));
    return;
  }
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "https://") &&
      !absl::ConsumePrefix(&rest, "http://")) {
    Add(field, "must be an absolute http:// or https:// URL");
    return;
  }
  const absl::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  if (host.empty() ||
      host.find_first_of(" \t\r\n<>\"") != absl::string_view::npos) {
    Add(field, "must name a host");
  }
}

void Violations::CheckPartialDate(const std::string& field,
                                  absl::string_view date) {
  if (!date.empty() && !IsPartialDate(date)) {
    Add(field, absl::StrCat("\"", Excerpt(date, 32),
                            "\" is not YYYY, YYYY-MM or YYYY-MM-DD"));
  }
}

void Violations::CheckLanguage(const std::string& field,
                               absl::string_view tag) {
  if (!tag.empty() && !IsLanguageTag(tag)) {
    Add(field, absl::StrCat("\"", Excerpt(tag, 40),
                            "\" is not a BCP 47 language tag such as en, fa "
                            "or ru"));
  }
}

absl::Status Violations::ToStatus() const {
  if (violations_.empty()) return absl::OkStatus();
  return InvalidFields(violations_);
}

absl::string_view Excerpt(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to a character's start.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

bool IsPartialDate(absl::string_view date) {
  auto digits = [](absl::string_view part, int* value) {
    for (const char c : part) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
    return absl::SimpleAtoi(part, value);
  };
  int year = 0;
  int month = 0;
  int day = 0;
  if (date.size() != 4 && date.size() != 7 && date.size() != 10) return false;
  if (!digits(date.substr(0, 4), &year) || year < 1) return false;
  if (date.size() == 4) return true;
  if (date[4] != '-' || !digits(date.substr(5, 2), &month) || month < 1 ||
      month > 12) {
    return false;
  }
  if (date.size() == 7) return true;
  if (date[7] != '-' || !digits(date.substr(8, 2), &day) || day < 1) {
    return false;
  }
  static constexpr int kDaysInMonth[] = {31, 29, 31, 30, 31, 30,
                                         31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days = month == 2 && !leap ? 28 : kDaysInMonth[month - 1];
  return day <= days;
}

}  // namespace accord
