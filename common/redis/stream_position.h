#ifndef ACCORD_COMMON_REDIS_STREAM_POSITION_H_
#define ACCORD_COMMON_REDIS_STREAM_POSITION_H_

// The position of an entry in a Redis stream: the entry ID "<ms>-<seq>",
// <ms> the Unix time in milliseconds when it was added. Event positions,
// resume points and delivery ids are all stream positions; this is the one
// place that reads and writes them. Header-only (absl only), so code built
// without the Redis component (the fuzz targets) may use it.
//
// Example:
//   const StreamPosition position = StreamPosition::Parse("1700000000000-3");
//   position.Padded();    // "00000001700000000000-00000000000000000003"
//   position.time();      // 2023-11-14T22:13:20Z

#include <compare>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace accord {

struct StreamPosition {
  uint64_t ms = 0;
  uint64_t seq = 0;

  // "<ms>-<seq>" or "<ms>" (seq 0), zero-padded or not. Lenient: a part
  // that is not a number reads as 0 (check IsValid first where that
  // matters).
  static StreamPosition Parse(absl::string_view text) {
    StreamPosition position;
    const size_t dash = text.find('-');
    (void)absl::SimpleAtoi(text.substr(0, dash), &position.ms);
    if (dash != absl::string_view::npos) {
      (void)absl::SimpleAtoi(text.substr(dash + 1), &position.seq);
    }
    return position;
  }

  // True for "<ms>-<seq>" or "<ms>", 1 to 20 digits each, the forms Redis
  // accepts.
  static bool IsValid(absl::string_view text) {
    const size_t dash = text.find('-');
    if (dash == absl::string_view::npos) return AllDigits(text);
    return AllDigits(text.substr(0, dash)) && AllDigits(text.substr(dash + 1));
  }

  // "<ms>-<seq>", as Redis writes it.
  std::string ToString() const { return absl::StrCat(ms, "-", seq); }
  // Both parts zero-padded to 20 digits: sorts lexically in stream order
  // (sorted-set members compared with ZRANGEBYLEX).
  std::string Padded() const { return absl::StrFormat("%020d-%020d", ms, seq); }
  // The greatest position below this one; 0-0 for 0-0.
  StreamPosition Previous() const {
    if (seq > 0) return {ms, seq - 1};
    if (ms == 0) return {0, 0};
    return {ms - 1, UINT64_MAX};
  }
  // When the entry was added.
  absl::Time time() const {
    return absl::FromUnixMillis(static_cast<int64_t>(ms));
  }

  friend auto operator<=>(const StreamPosition&,
                          const StreamPosition&) = default;

 private:
  static bool AllDigits(absl::string_view text) {
    if (text.empty() || text.size() > 20) return false;
    for (const char c : text) {
      if (!absl::ascii_isdigit(c)) return false;
    }
    return true;
  }
};

}  // namespace accord

#endif  // ACCORD_COMMON_REDIS_STREAM_POSITION_H_
