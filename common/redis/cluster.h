#ifndef ACCORD_COMMON_REDIS_CLUSTER_H_
#define ACCORD_COMMON_REDIS_CLUSTER_H_

// What a client needs to route commands in a Redis Cluster: the hash slot
// of a key (hash tags included), the key that routes a command, the map of
// slots to primaries (from CLUSTER SLOTS) and the MOVED/ASK redirects a
// node answers when the map is stale. RedisClient uses them; they hold no
// connection.
//
// Example:
//   const int slot = redis_cluster::KeySlot("accord:{agreements/x}:record");
//   const HostPort* node = slot_map.NodeFor(slot);

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config.h"

namespace accord {
struct RedisValue;
}

namespace accord::redis_cluster {

inline constexpr int kSlots = 16384;

// The hash slot of `key`: CRC16 (XMODEM) of the key, or of the part between
// the first `{` and the next `}` when that part is not empty, mod 16384.
int KeySlot(absl::string_view key);
// The slot of `key` hashed whole, without looking for a tag (for tests).
int Crc16ForTest(absl::string_view key);

// The key that decides where `command` runs; none for commands that name
// no key (PING, WAIT, FUNCTION LOAD, MULTI…), which run beside their
// neighbours. FCALL and EVAL name theirs after the key count, XREAD and
// XREADGROUP after STREAMS, XGROUP and XINFO after the subcommand.
std::optional<absl::string_view> RoutingKey(
    const std::vector<std::string>& command);

// Which primary serves each slot.
class SlotMap {
 public:
  // From the reply to CLUSTER SLOTS: ranges with their primary first.
  static absl::StatusOr<SlotMap> FromClusterSlots(const RedisValue& reply);

  // Null for a slot no node serves (a cluster being set up or broken).
  const HostPort* NodeFor(int slot) const;
  const std::vector<HostPort>& primaries() const { return primaries_; }

 private:
  std::vector<HostPort> primaries_;
  // Index into primaries_ per slot; -1 for none.
  std::vector<int16_t> slot_node_;
};

// A node's answer that a slot lives elsewhere: MOVED (for good: refresh the
// map) or ASK (during a migration: ask that node once, after ASKING).
struct Redirect {
  bool ask = false;
  int slot = 0;
  HostPort node;
};

// The redirect an error status carries, if it is one.
std::optional<Redirect> RedirectIn(const absl::Status& status);

}  // namespace accord::redis_cluster

#endif  // ACCORD_COMMON_REDIS_CLUSTER_H_
