#include "common/redis/cluster.h"

#include <array>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/redis/client.h"

namespace accord::redis_cluster {
namespace {

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as Redis
// Cluster specifies.
constexpr std::array<uint16_t, 256> MakeCrcTable() {
  std::array<uint16_t, 256> table{};
  for (int byte = 0; byte < 256; ++byte) {
    uint16_t crc = static_cast<uint16_t>(byte << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
    table[byte] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrcTable = MakeCrcTable();

uint16_t Crc16(absl::string_view data) {
  uint16_t crc = 0;
  for (const char c : data) {
    crc = static_cast<uint16_t>(
        (crc << 8) ^ kCrcTable[((crc >> 8) ^ static_cast<uint8_t>(c)) & 0xff]);
  }
  return crc;
}

bool IsOneOf(absl::string_view name,
             std::initializer_list<absl::string_view> names) {
  for (absl::string_view candidate : names) {
    if (absl::EqualsIgnoreCase(name, candidate)) return true;
  }
  return false;
}

}  // namespace

int KeySlot(absl::string_view key) {
  const size_t open = key.find('{');
  if (open != absl::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != absl::string_view::npos && close > open + 1) {
      key = key.substr(open + 1, close - open - 1);
    }
  }
  return Crc16(key) % kSlots;
}

int Crc16ForTest(absl::string_view key) { return Crc16(key) % kSlots; }

std::optional<absl::string_view> RoutingKey(
    const std::vector<std::string>& command) {
  if (command.size() < 2) return std::nullopt;
  const std::string& name = command[0];
  if (IsOneOf(name, {"PING",   "WAIT",     "FUNCTION", "SCRIPT", "CLUSTER",
                     "INFO",   "CLIENT",   "CONFIG",   "ACL",    "DBSIZE",
                     "SCAN",   "KEYS",     "MULTI",    "EXEC",   "DISCARD",
                     "AUTH",   "SELECT",   "HELLO",    "ROLE",   "TIME",
                     "ASKING", "READONLY", "FLUSHALL", "FLUSHDB"})) {
    return std::nullopt;
  }
  if (IsOneOf(name, {"FCALL", "FCALL_RO", "EVAL", "EVALSHA", "EVAL_RO",
                     "EVALSHA_RO"})) {
    int keys = 0;
    if (command.size() < 4 || !absl::SimpleAtoi(command[2], &keys) ||
        keys < 1) {
      return std::nullopt;
    }
    return command[3];
  }
  if (IsOneOf(name, {"XREAD", "XREADGROUP"})) {
    for (size_t i = 1; i + 1 < command.size(); ++i) {
      if (absl::EqualsIgnoreCase(command[i], "STREAMS")) return command[i + 1];
    }
    return std::nullopt;
  }
  if (IsOneOf(name, {"XGROUP", "XINFO", "OBJECT", "MEMORY"})) {
    if (command.size() < 3) return std::nullopt;
    return command[2];
  }
  return command[1];
}

absl::StatusOr<SlotMap> SlotMap::FromClusterSlots(const RedisValue& reply) {
  if (reply.type != RedisValue::Type::kArray || reply.elements.empty()) {
    return absl::UnavailableError("CLUSTER SLOTS named no slot");
  }
  SlotMap map;
  map.slot_node_.assign(kSlots, -1);
  for (const RedisValue& range : reply.elements) {
    // [first slot, last slot, [primary ip, port, id…], [replica…]…]
    if (range.type != RedisValue::Type::kArray || range.elements.size() < 3 ||
        range.elements[2].type != RedisValue::Type::kArray ||
        range.elements[2].elements.size() < 2) {
      return absl::UnavailableError("CLUSTER SLOTS: malformed range");
    }
    const long long first = range.elements[0].integer;
    const long long last = range.elements[1].integer;
    if (first < 0 || last >= kSlots || first > last) {
      return absl::UnavailableError("CLUSTER SLOTS: slot out of range");
    }
    const RedisValue& primary = range.elements[2];
    HostPort node{primary.elements[0].text,
                  static_cast<int>(primary.elements[1].integer)};
    int index = -1;
    for (size_t i = 0; i < map.primaries_.size(); ++i) {
      if (map.primaries_[i].host == node.host &&
          map.primaries_[i].port == node.port) {
        index = static_cast<int>(i);
      }
    }
    if (index < 0) {
      index = static_cast<int>(map.primaries_.size());
      map.primaries_.push_back(node);
    }
    for (long long slot = first; slot <= last; ++slot) {
      map.slot_node_[slot] = static_cast<int16_t>(index);
    }
  }
  return map;
}

const HostPort* SlotMap::NodeFor(int slot) const {
  if (slot < 0 || slot >= kSlots || slot_node_.empty()) return nullptr;
  const int index = slot_node_[slot];
  return index < 0 ? nullptr : &primaries_[index];
}

std::optional<Redirect> RedirectIn(const absl::Status& status) {
  absl::string_view message = status.message();
  if (!absl::ConsumePrefix(&message, "redis: ")) return std::nullopt;
  Redirect redirect;
  if (absl::ConsumePrefix(&message, "ASK ")) {
    redirect.ask = true;
  } else if (!absl::ConsumePrefix(&message, "MOVED ")) {
    return std::nullopt;
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(message, ' ');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &redirect.slot)) {
    return std::nullopt;
  }
  absl::StatusOr<HostPort> node = ParseHostPort(parts[1]);
  if (!node.ok()) return std::nullopt;
  redirect.node = *std::move(node);
  return redirect;
}

}  // namespace accord::redis_cluster
