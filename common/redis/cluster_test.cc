#include "common/redis/cluster.h"

#include <gtest/gtest.h>

#include "common/redis/client.h"

namespace accord::redis_cluster {
namespace {

TEST(KeySlotTest, MatchesRedisClusterSpecification) {
  // The specification's check value: CRC16("123456789") = 0x31C3.
  EXPECT_EQ(KeySlot("123456789"), 0x31C3 % kSlots);
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot(""), 0);
}

TEST(KeySlotTest, HashTagsHashOnlyTheFirstNonEmptyTag) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("{user1000}.followers"));
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("user1000"));
  EXPECT_EQ(KeySlot("foo{bar}{zap}"), KeySlot("bar"));
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
  // An empty tag is no tag: the whole key is hashed.
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16ForTest("foo{}{bar}"));
  EXPECT_EQ(KeySlot("{}"), Crc16ForTest("{}"));
  EXPECT_EQ(KeySlot("no-close{tag"), Crc16ForTest("no-close{tag"));
}

TEST(RoutingKeyTest, FindsTheKeyOfEveryKindOfCommand) {
  EXPECT_EQ(RoutingKey({"GET", "a"}), "a");
  EXPECT_EQ(RoutingKey({"HSET", "h", "f", "v"}), "h");
  EXPECT_EQ(RoutingKey({"FCALL", "fn", "2", "k1", "k2", "arg"}), "k1");
  EXPECT_EQ(RoutingKey({"fcall", "fn", "0", "arg"}), std::nullopt);
  EXPECT_EQ(RoutingKey({"EVALSHA", "sha", "1", "k"}), "k");
  EXPECT_EQ(RoutingKey({"XREADGROUP", "GROUP", "g", "c", "COUNT", "10", "BLOCK",
                        "100", "STREAMS", "s", ">"}),
            "s");
  EXPECT_EQ(RoutingKey({"XREAD", "COUNT", "1", "STREAMS", "s", "0"}), "s");
  EXPECT_EQ(RoutingKey({"XGROUP", "CREATE", "s", "g", "$"}), "s");
  EXPECT_EQ(RoutingKey({"XINFO", "STREAM", "s"}), "s");
  EXPECT_EQ(RoutingKey({"WAIT", "1", "100"}), std::nullopt);
  EXPECT_EQ(RoutingKey({"PING"}), std::nullopt);
  EXPECT_EQ(RoutingKey({"MULTI"}), std::nullopt);
  EXPECT_EQ(RoutingKey({"FUNCTION", "LOAD", "code"}), std::nullopt);
}

RedisValue Integer(long long value) {
  RedisValue v;
  v.type = RedisValue::Type::kInteger;
  v.integer = value;
  return v;
}

RedisValue Text(std::string text) {
  RedisValue v;
  v.type = RedisValue::Type::kString;
  v.text = std::move(text);
  return v;
}

RedisValue Array(std::vector<RedisValue> elements) {
  RedisValue v;
  v.type = RedisValue::Type::kArray;
  v.elements = std::move(elements);
  return v;
}

TEST(SlotMapTest, MapsEverySlotToItsPrimary) {
  const RedisValue reply = Array({
      Array({Integer(0), Integer(5460),
             Array({Text("127.0.0.1"), Integer(7000), Text("id-a")}),
             Array({Text("127.0.0.1"), Integer(7003), Text("id-d")})}),
      Array({Integer(5461), Integer(10922),
             Array({Text("127.0.0.1"), Integer(7001), Text("id-b")})}),
      Array({Integer(10923), Integer(16383),
             Array({Text("127.0.0.1"), Integer(7002), Text("id-c")})}),
  });
  absl::StatusOr<SlotMap> map = SlotMap::FromClusterSlots(reply);
  ASSERT_TRUE(map.ok()) << map.status();
  ASSERT_EQ(map->primaries().size(), 3u);
  EXPECT_EQ(map->NodeFor(0)->port, 7000);
  EXPECT_EQ(map->NodeFor(5460)->port, 7000);
  EXPECT_EQ(map->NodeFor(5461)->port, 7001);
  EXPECT_EQ(map->NodeFor(16383)->port, 7002);
  EXPECT_EQ(map->NodeFor(16384), nullptr);
  EXPECT_EQ(map->NodeFor(-1), nullptr);
}

TEST(SlotMapTest, LeavesUnservedSlotsWithoutANodeAndRefusesGarbage) {
  const RedisValue partial =
      Array({Array({Integer(0), Integer(99),
                    Array({Text("10.0.0.1"), Integer(6379), Text("id")})})});
  absl::StatusOr<SlotMap> map = SlotMap::FromClusterSlots(partial);
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->NodeFor(99)->host, "10.0.0.1");
  EXPECT_EQ(map->NodeFor(100), nullptr);
  EXPECT_FALSE(SlotMap::FromClusterSlots(Array({})).ok());
  EXPECT_FALSE(SlotMap::FromClusterSlots(Array({Array({Integer(0)})})).ok());
  EXPECT_FALSE(SlotMap::FromClusterSlots(
                   Array({Array({Integer(5), Integer(16384),
                                 Array({Text("h"), Integer(1)})})}))
                   .ok());
}

TEST(RedirectInTest, ParsesMovedAndAskAndNothingElse) {
  std::optional<Redirect> moved =
      RedirectIn(absl::InternalError("redis: MOVED 3999 127.0.0.1:6381"));
  ASSERT_TRUE(moved.has_value());
  EXPECT_FALSE(moved->ask);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->node.port, 6381);
  std::optional<Redirect> ask =
      RedirectIn(absl::InternalError("redis: ASK 12 10.1.2.3:7000"));
  ASSERT_TRUE(ask.has_value());
  EXPECT_TRUE(ask->ask);
  EXPECT_EQ(ask->node.host, "10.1.2.3");
  EXPECT_FALSE(RedirectIn(absl::InternalError("redis: ERR wrong")).has_value());
  EXPECT_FALSE(RedirectIn(absl::OkStatus()).has_value());
  EXPECT_FALSE(RedirectIn(absl::InternalError("redis: MOVED x 127.0.0.1:1"))
                   .has_value());
}

}  // namespace
}  // namespace accord::redis_cluster
