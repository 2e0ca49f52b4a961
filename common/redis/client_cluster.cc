// RedisClient's routing: one server, or the nodes of a Redis Cluster.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/redis/client.h"
#include "common/redis/cluster.h"

namespace accord {

using redis_cluster::Redirect;
using redis_cluster::RedirectIn;
using redis_cluster::SlotMap;

namespace {

// Redirects one command may follow before giving up: a slot migrating while
// the map is refreshed takes two.
constexpr int kMaxRedirects = 5;

}  // namespace

void RedisClient::DetectTopology() {
  if (!options_.follow_cluster) {
    topology_ = Topology::kSingle;
    return;
  }
  const absl::Status mapped = RefreshSlotMap("");
  if (mapped.ok()) {
    topology_ = Topology::kCluster;
    LogInfo("redis is a cluster",
            {{"primaries", absl::StrCat(slot_map()->primaries().size())}});
    return;
  }
  // Unreachable, or a cluster still being set up: not known yet, asked
  // again by the next command. Any error reply (cluster support disabled,
  // a user not allowed CLUSTER): one server.
  if (mapped.code() != absl::StatusCode::kUnavailable) {
    topology_ = Topology::kSingle;
  }
}

absl::Status RedisClient::RefreshSlotMap(const std::string& node) {
  static const std::vector<std::string> kClusterSlots = {"CLUSTER", "SLOTS"};
  std::vector<absl::StatusOr<RedisValue>> reply =
      SendTo(node, {&kClusterSlots});
  if (!reply.front().ok()) return reply.front().status();
  absl::StatusOr<SlotMap> map = SlotMap::FromClusterSlots(*reply.front());
  if (!map.ok()) return map.status();
  std::lock_guard<std::mutex> lock(mutex_);
  slot_map_ = std::make_shared<const SlotMap>(*std::move(map));
  return absl::OkStatus();
}

void RedisClient::RefreshSlotMapAvoiding(const std::string& failed) {
  std::vector<std::string> candidates;
  for (const HostPort& node : slot_map()->primaries()) {
    candidates.push_back(node.ToString());
  }
  candidates.push_back("");
  for (const std::string& node : candidates) {
    if (node != failed && RefreshSlotMap(node).ok()) return;
  }
}

std::shared_ptr<const SlotMap> RedisClient::slot_map() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slot_map_;
}

std::vector<std::string> RedisClient::NodesFor(
    const std::vector<const std::vector<std::string>*>& commands,
    const SlotMap& map) const {
  std::vector<std::string> nodes(commands.size());
  std::vector<bool> keyed(commands.size(), false);
  for (size_t i = 0; i < commands.size(); ++i) {
    std::optional<absl::string_view> key =
        redis_cluster::RoutingKey(*commands[i]);
    if (!key.has_value()) continue;
    const HostPort* node = map.NodeFor(redis_cluster::KeySlot(*key));
    // A slot nobody serves goes to the URL's node, which answers for it.
    nodes[i] = node == nullptr ? "" : node->ToString();
    keyed[i] = true;
  }
  // A command without a key (EXEC, WAIT) runs beside the keyed one before
  // it; before the first keyed one (MULTI), beside that one.
  size_t first_keyed = commands.size();
  for (size_t i = 0; i < commands.size(); ++i) {
    if (keyed[i]) {
      if (first_keyed == commands.size()) first_keyed = i;
    } else if (first_keyed < commands.size()) {
      nodes[i] = nodes[i - 1];
    }
  }
  for (size_t i = 0; i < first_keyed && first_keyed < commands.size(); ++i) {
    nodes[i] = nodes[first_keyed];
  }
  return nodes;
}

absl::StatusOr<RedisValue> RedisClient::FollowRedirect(
    const std::vector<std::string>& command, Redirect redirect) {
  static const std::vector<std::string> kAsking = {"ASKING"};
  absl::StatusOr<RedisValue> result = absl::UnavailableError("no redirect");
  for (int attempt = 0; attempt < kMaxRedirects; ++attempt) {
    const std::string node = redirect.node.ToString();
    if (redirect.ask) {
      result = SendTo(node, {&kAsking, &command})[1];
    } else {
      // The map is stale: the new owner tells us the whole of it.
      (void)RefreshSlotMap(node);
      result = SendTo(node, {&command}).front();
    }
    std::optional<Redirect> next = RedirectIn(result.status());
    if (!next.has_value()) return result;
    redirect = *std::move(next);
  }
  return result;
}

std::vector<absl::StatusOr<RedisValue>> RedisClient::Execute(
    const std::vector<const std::vector<std::string>*>& commands) {
  if (topology_.load() == Topology::kUnknown) DetectTopology();
  if (topology_.load() != Topology::kCluster) return SendTo("", commands);
  const std::shared_ptr<const SlotMap> map = slot_map();
  const std::vector<std::string> nodes = NodesFor(commands, *map);
  std::vector<absl::StatusOr<RedisValue>> results;
  results.reserve(commands.size());
  // Consecutive commands for one node share its round trip.
  for (size_t begin = 0; begin < commands.size();) {
    size_t end = begin + 1;
    while (end < commands.size() && nodes[end] == nodes[begin]) ++end;
    std::vector<absl::StatusOr<RedisValue>> group = SendTo(
        nodes[begin], {commands.begin() + begin, commands.begin() + end});
    // The caller retries (a write with its request_id); by then the map
    // names the node that took over, if one did.
    if (group.back().status().code() == absl::StatusCode::kUnavailable) {
      RefreshSlotMapAvoiding(nodes[begin]);
    }
    for (absl::StatusOr<RedisValue>& result : group) {
      results.push_back(std::move(result));
    }
    begin = end;
  }
  for (size_t i = 0; i < results.size(); ++i) {
    std::optional<Redirect> redirect = RedirectIn(results[i].status());
    if (redirect.has_value()) {
      results[i] = FollowRedirect(*commands[i], *std::move(redirect));
    }
  }
  return results;
}

absl::StatusOr<RedisValue> RedisClient::CommandOnEveryPrimary(
    const std::vector<std::string>& args) {
  if (topology_.load() == Topology::kUnknown) DetectTopology();
  if (topology_.load() != Topology::kCluster) return Command(args);
  absl::StatusOr<RedisValue> last = absl::UnavailableError("no primary");
  for (const HostPort& node : slot_map()->primaries()) {
    last = SendTo(node.ToString(), {&args}).front();
    if (!last.ok()) return last;
  }
  return last;
}

}  // namespace accord
