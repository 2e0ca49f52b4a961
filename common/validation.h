#ifndef ACCORD_COMMON_VALIDATION_H_
#define ACCORD_COMMON_VALIDATION_H_

// Collects every field violation of a request, so one INVALID_ARGUMENT names
// all the fields at fault rather than the first.
//
// Example:
//   Violations violations;
//   violations.CheckText("institution.names[0].text", name.text(),
//                        kMaxNameLength, /*required=*/true);
//   ACCORD_RETURN_IF_ERROR(violations.ToStatus());

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"

namespace accord {

inline constexpr size_t kMaxNameLength = 512;   // bytes of UTF-8
inline constexpr size_t kMaxTextLength = 4096;  // descriptions, objectives
inline constexpr size_t kMaxUriLength = 2048;
inline constexpr int kMaxListLength = 100;  // repeated fields

class Violations {
 public:
  void Add(std::string field, std::string description);

  // Non-empty (unless optional), at most `max_bytes`, no control characters.
  void CheckText(const std::string& field, absl::string_view text,
                 size_t max_bytes, bool required);
  // At most `max` elements.
  void CheckCount(const std::string& field, int count, int max);
  // Empty, or an absolute http(s) URL.
  void CheckHttpUrl(const std::string& field, absl::string_view url);
  // Empty, or `YYYY`, `YYYY-MM` or `YYYY-MM-DD` naming a real date.
  void CheckPartialDate(const std::string& field, absl::string_view date);
  // Empty (if optional) or a BCP 47 language tag.
  void CheckLanguage(const std::string& field, absl::string_view tag);

  bool empty() const { return violations_.empty(); }
  // OK, or INVALID_ARGUMENT with every violation.
  absl::Status ToStatus() const;

 private:
  std::vector<FieldViolation> violations_;
};

// True for `YYYY`, `YYYY-MM`, `YYYY-MM-DD` naming a real (partial) date.
bool IsPartialDate(absl::string_view date);

// At most `max_bytes` of the UTF-8 `text`, cut between characters: for
// echoing input in error descriptions, which travel in proto3 strings and
// must stay valid UTF-8 for clients to decode them.
absl::string_view Excerpt(absl::string_view text, size_t max_bytes);

}  // namespace accord

#endif  // ACCORD_COMMON_VALIDATION_H_
