#ifndef ACCORD_SERVICES_NOTIFICATION_EVENT_STREAM_H_
#define ACCORD_SERVICES_NOTIFICATION_EVENT_STREAM_H_

// Reading the `accord:events` stream: ranges of decoded events, and what
// the stream still holds, so a caller can tell a position that has expired
// (an entry after it was trimmed) from one that is merely old.
//
// Example:
//   ACCORD_ASSIGN_OR_RETURN(EventStream::Range range,
//                           stream.ReadAfter(position, 256));
//   if (range.expired) return OutOfRange(position, range.info.first_position);

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "accord/events/v1/event.pb.h"
#include "common/redis/client.h"
#include "common/redis/keys.h"

namespace accord::notification {

// A position before every entry.
inline constexpr char kStreamStart[] = "0-0";

// The newest entry ever trimmed from the stream (XTRIM does not move the
// stream's own max-deleted-entry-id); written by TrimStream.
inline constexpr const char* kTrimmedThroughKey = redis_keys::kTrimmedThrough;

// True for `ms-seq` (or `ms`), the form of a stream entry ID.
bool IsValidPosition(absl::string_view position);

// OUT_OF_RANGE for a position whose successors were trimmed, with the
// ErrorInfo reason POSITION_EXPIRED and metadata `oldest_position` (the
// oldest event held) and `resume_position` (the newest position trimmed:
// resuming after it yields every event still held, the oldest first).
absl::Status PositionExpired(absl::string_view position,
                             absl::string_view oldest_position,
                             absl::string_view resume_position);

struct StreamInfo {
  std::string first_position;  // "" when empty
  std::string last_position;   // last ever generated, "0-0" if none
  std::string max_deleted;     // highest trimmed or deleted ID, "0-0"
  long long length = 0;
  long long entries_added = 0;
};

class EventStream {
 public:
  explicit EventStream(RedisClient& redis) : redis_(redis) {}

  struct Range {
    std::vector<events::v1::Event> events;  // positions set; oldest first
    std::string last_position;  // of the last entry read, even undecodable
    int entries = 0;            // entries read (some may not decode)
    bool expired = false;       // entries after `after` were trimmed before
    StreamInfo info;
  };

  // Up to `count` entries strictly after `after`, read atomically with the
  // stream's trim mark.
  absl::StatusOr<Range> ReadAfter(absl::string_view after, int count);

  absl::StatusOr<StreamInfo> Info();

  // The position of the newest entry, or "0-0".
  absl::StatusOr<std::string> Head();

  // Removes the entries before `min_id` and records the newest one removed,
  // so later reads can tell which positions have expired. Returns how many
  // entries went.
  absl::StatusOr<long long> TrimBefore(absl::string_view min_id);

 private:
  RedisClient& redis_;
};

// Decodes an XRANGE/XREADGROUP entry list; undecodable entries are skipped
// (and logged) but still advance `last_position`.
void DecodeEntries(const RedisValue& entries,
                   std::vector<events::v1::Event>& events,
                   std::string& last_position, int& count);

// Parses an XINFO STREAM reply and the trim mark (nil if never trimmed):
// `max_deleted` is the later of XDEL's mark and the trim mark. A stream
// that lost entries without a trim mark (trimmed by someone else) counts
// everything before its first entry as deleted.
StreamInfo ParseStreamInfo(const RedisValue& reply,
                           const RedisValue& trimmed_through);

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_EVENT_STREAM_H_
