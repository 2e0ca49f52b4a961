#include "common/ids.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace accord {
namespace {

constexpr size_t kMaxResourceIdLength = 63;
constexpr size_t kMaxRequestIdLength = 128;
constexpr size_t kRandomIdTail = 19;
// Offending input is echoed in errors, but never more than this much of it.
constexpr size_t kMaxEchoLength = 64;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Shared by both id rules; only the allowed first character differs.
bool IsValidId(absl::string_view id, bool allow_leading_digit) {
  if (id.empty() || id.size() > kMaxResourceIdLength) return false;
  if (!IsLower(id.front()) && !(allow_leading_digit && IsDigit(id.front()))) {
    return false;
  }
  if (id.back() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return IsLower(c) || IsDigit(c) || c == '-';
  });
}

std::vector<absl::string_view> SplitSegments(absl::string_view name) {
  std::vector<absl::string_view> segments;
  size_t start = 0;
  while (true) {
    const size_t end = name.find('/', start);
    if (end == absl::string_view::npos) {
      segments.push_back(name.substr(start));
      return segments;
    }
    segments.push_back(name.substr(start, end - start));
    start = end + 1;
  }
}

// Quoted and C-escaped, so control bytes cannot garble logs.
std::string Quote(absl::string_view text) {
  const bool truncated = text.size() > kMaxEchoLength;
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxEchoLength)),
                      truncated ? "...\"" : "\"");
}

// E.g. `must be "committees/{id}/sessions/{id}"`, so clients see the shape.
std::string Expected(const std::vector<absl::string_view>& collections) {
  std::string pattern;
  for (absl::string_view collection : collections) {
    if (!pattern.empty()) pattern += "/";
    absl::StrAppend(&pattern, collection, "/{id}");
  }
  std::string description =
      absl::StrCat("must be \"", pattern,
                   "\" with id matching [a-z]([a-z0-9-]{0,61}[a-z0-9])?");
  if (collections.size() > 1) {
    description += " (nested ids may also start with a digit)";
  }
  return description;
}

}  // namespace

bool IsValidResourceId(absl::string_view id) {
  return IsValidId(id, /*allow_leading_digit=*/false);
}

std::string NewResourceId() {
  static constexpr char kBase32[] = "abcdefghijklmnopqrstuvwxyz234567";
  // One generator per thread: absl::BitGen is not safe to share.
  thread_local absl::BitGen gen;
  std::string id;
  id.reserve(1 + kRandomIdTail);
  id.push_back(kBase32[absl::Uniform(gen, 0, 26)]);
  for (size_t i = 0; i < kRandomIdTail; ++i) {
    id.push_back(kBase32[absl::Uniform(gen, 0, 32)]);
  }
  return id;
}

absl::StatusOr<std::string> ParseResourceName(absl::string_view name,
                                              absl::string_view collection,
                                              absl::string_view field) {
  absl::StatusOr<std::vector<std::string>> ids =
      ParseNestedResourceName(name, {collection}, field);
  if (!ids.ok()) return ids.status();
  return std::move(ids->front());
}

absl::StatusOr<std::vector<std::string>> ParseNestedResourceName(
    absl::string_view name, std::vector<absl::string_view> collections,
    absl::string_view field) {
  if (collections.empty()) {
    return absl::InternalError("ParseNestedResourceName: no collections");
  }
  // Built only for an error: names are checked on every call.
  auto expected = [&collections] { return Expected(collections); };
  if (name.empty()) {
    return InvalidField(field, absl::StrCat("is required; ", expected()));
  }
  const std::vector<absl::string_view> segments = SplitSegments(name);
  if (segments.size() != 2 * collections.size()) {
    return InvalidField(field,
                        absl::StrCat(expected(), "; got ", segments.size(),
                                     " segments in ", Quote(name)));
  }
  std::vector<std::string> ids;
  ids.reserve(collections.size());
  for (size_t i = 0; i < collections.size(); ++i) {
    const absl::string_view collection = segments[2 * i];
    const absl::string_view id = segments[2 * i + 1];
    if (collection != collections[i]) {
      return InvalidField(
          field,
          absl::StrCat(expected(), "; got collection ", Quote(collection),
                       " instead of \"", collections[i], "\""));
    }
    if (id.empty()) {
      return InvalidField(field, absl::StrCat(expected(), "; the ",
                                              collections[i], " id is empty"));
    }
    if (!IsValidId(id, /*allow_leading_digit=*/i > 0)) {
      return InvalidField(
          field, absl::StrCat(expected(), "; the ", collections[i], " id ",
                              Quote(id), " is invalid"));
    }
    ids.emplace_back(id);
  }
  return ids;
}

bool IsValidChildResourceId(absl::string_view id) {
  return IsValidId(id, /*allow_leading_digit=*/true);
}

bool IsValidRequestId(absl::string_view request_id) {
  if (request_id.empty() || request_id.size() > kMaxRequestIdLength) {
    return false;
  }
  return std::all_of(request_id.begin(), request_id.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
           c == '_' || c == '~' || c == '-';
  });
}

}  // namespace accord
