#include "services/notification/event_stream.h"

#include <gtest/gtest.h>

#include "common/errors.h"

namespace accord::notification {
namespace {

RedisValue Text(const std::string& text) {
  RedisValue value;
  value.type = RedisValue::Type::kString;
  value.text = text;
  return value;
}

RedisValue Integer(long long number) {
  RedisValue value;
  value.type = RedisValue::Type::kInteger;
  value.integer = number;
  return value;
}

RedisValue XinfoStream(long long length, long long added,
                       const std::string& first) {
  RedisValue reply;
  reply.type = RedisValue::Type::kArray;
  RedisValue first_entry;
  first_entry.type = RedisValue::Type::kArray;
  first_entry.elements = {Text(first), RedisValue()};
  reply.elements = {Text("length"),
                    Integer(length),
                    Text("last-generated-id"),
                    Text("9-0"),
                    Text("max-deleted-entry-id"),
                    Text("0-0"),
                    Text("entries-added"),
                    Integer(added),
                    Text("first-entry"),
                    first_entry};
  return reply;
}

TEST(EventStreamTest, PositionsAreStreamIds) {
  EXPECT_TRUE(IsValidPosition("1745582400000-0"));
  EXPECT_TRUE(IsValidPosition("1745582400000"));
  EXPECT_FALSE(IsValidPosition(""));
  EXPECT_FALSE(IsValidPosition("now-1"));
  EXPECT_FALSE(IsValidPosition("1-"));
  EXPECT_FALSE(IsValidPosition("+"));
}

TEST(EventStreamTest, TrimMarkMovesTheExpiryLine) {
  const StreamInfo untouched =
      ParseStreamInfo(XinfoStream(3, 3, "1-0"), RedisValue());
  EXPECT_EQ(untouched.max_deleted, "0-0");
  EXPECT_EQ(untouched.first_position, "1-0");
  EXPECT_EQ(untouched.last_position, "9-0");

  const StreamInfo trimmed =
      ParseStreamInfo(XinfoStream(2, 5, "7-0"), Text("6-3"));
  EXPECT_EQ(trimmed.max_deleted, "6-3");

  // Trimmed by someone else: everything before the first entry counts.
  const StreamInfo foreign =
      ParseStreamInfo(XinfoStream(2, 5, "7-0"), RedisValue());
  EXPECT_EQ(foreign.max_deleted, "6-18446744073709551615");
  const StreamInfo foreign_seq =
      ParseStreamInfo(XinfoStream(2, 5, "7-4"), RedisValue());
  EXPECT_EQ(foreign_seq.max_deleted, "7-3");
}

TEST(EventStreamTest, ExpiredPositionCarriesTheOldest) {
  const absl::Status status = PositionExpired("1-0", "7-0", "6-18");
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ReasonOf(status), "POSITION_EXPIRED");
  // The message names where to resume, not the oldest event itself: resuming
  // from that would skip it.
  EXPECT_NE(status.message().find("resume from 6-18"), absl::string_view::npos)
      << status.message();
}

}  // namespace
}  // namespace accord::notification
