// RedisClient against a real redis-server: the blocking pipeline and the
// batching CommandAsync path the Get handlers use.

#include "common/redis/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/metrics.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

RedisOptions OptionsFor(const testing::RedisServer& redis) {
  RedisOptions options;
  options.url = *ParseRedisUrl(redis.url());
  options.command_timeout = absl::Milliseconds(500);
  options.connect_timeout = absl::Milliseconds(500);
  return options;
}

// Collects CommandAsync results by call index.
class AsyncResults {
 public:
  explicit AsyncResults(int expected) : expected_(expected) {
    results_.resize(expected);
  }
  RedisClient::AsyncCallback For(int index) {
    return [this, index](absl::StatusOr<RedisValue> result) {
      absl::MutexLock lock(&mutex_);
      results_[index] = std::move(result);
      if (++done_ == expected_) all_done_.Notify();
    };
  }
  bool Wait(absl::Duration timeout) {
    return all_done_.WaitForNotificationWithTimeout(timeout);
  }
  absl::StatusOr<RedisValue> Get(int index) {
    absl::MutexLock lock(&mutex_);
    return results_[index];
  }

 private:
  const int expected_;
  absl::Mutex mutex_;
  int done_ ABSL_GUARDED_BY(mutex_) = 0;
  std::vector<absl::StatusOr<RedisValue>> results_ ABSL_GUARDED_BY(mutex_);
  absl::Notification all_done_;
};

TEST(RedisClientTest, PipelineFailsWholeOnAnErrorReplyAndStaysUsable) {
  testing::RedisServer redis;
  RedisClient client(OptionsFor(redis));
  ASSERT_TRUE(client.Command({"SET", "k", "v"}).ok());
  absl::StatusOr<std::vector<RedisValue>> mixed =
      client.Pipeline({{"GET", "k"}, {"INCR", "k"}, {"GET", "k"}});
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kInternal);
  // The connection read every reply, so it is still in step.
  absl::StatusOr<RedisValue> value = client.Command({"GET", "k"});
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->text, "v");
}

TEST(RedisClientTest, ArgumentsAreBinarySafe) {
  testing::RedisServer redis;
  RedisClient client(OptionsFor(redis));
  // The client encodes RESP itself: lengths, not delimiters, must frame
  // each argument, whatever bytes it holds, empty and large ones included.
  const std::vector<std::string> values = {
      std::string("a\r\n$3\r\nbad\r\n*1\r\n\0tail", 21), "", "\xff\xfe",
      std::string(100000, 'x')};
  std::vector<std::vector<std::string>> writes;
  for (size_t i = 0; i < values.size(); ++i) {
    writes.push_back({"SET", absl::StrCat("binary:", i), values[i]});
  }
  ASSERT_TRUE(client.Pipeline(writes).ok());
  for (size_t i = 0; i < values.size(); ++i) {
    absl::StatusOr<RedisValue> read =
        client.Command({"GET", absl::StrCat("binary:", i)});
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(read->text, values[i]) << i;
  }
  absl::StatusOr<RedisValue> count = client.Command({"DBSIZE"});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->integer, static_cast<long long>(values.size()));
}

TEST(RedisClientTest, CommandAsyncAnswersEveryCallerWithItsOwnReply) {
  testing::RedisServer redis;
  RedisOptions options = OptionsFor(redis);
  options.async_lanes = 3;  // calls spread over three lanes
  RedisClient client(options);
  constexpr int kKeys = 500;
  std::vector<std::vector<std::string>> sets;
  for (int i = 0; i < kKeys; ++i) {
    sets.push_back({"SET", absl::StrCat("key:", i), absl::StrCat("value:", i)});
  }
  ASSERT_TRUE(client.Pipeline(sets).ok());

  // Four threads submit at once, so batches mix callers; one command in
  // each 50 gets an error reply, which must fail only that command.
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  AsyncResults results(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int index = t * kPerThread + i;
        std::vector<std::string> args =
            index % 50 == 0 ? std::vector<std::string>{"INCR", "key:0"}
                            : std::vector<std::string>{
                                  "GET", absl::StrCat("key:", index % kKeys)};
        client.CommandAsync(std::move(args), results.For(index));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(results.Wait(absl::Seconds(30)));
  for (int index = 0; index < kThreads * kPerThread; ++index) {
    absl::StatusOr<RedisValue> result = results.Get(index);
    if (index % 50 == 0) {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal) << index;
      continue;
    }
    ASSERT_TRUE(result.ok()) << index << ": " << result.status();
    EXPECT_EQ(result->text, absl::StrCat("value:", index % kKeys)) << index;
  }
}

// accord_redis_round_trips_total from this process's metrics.
double RoundTripsSoFar() {
  const std::string text = Metrics::Global().RenderPrometheus();
  const std::string prefix = "\naccord_redis_round_trips_total ";
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return 0;
  return std::stod(text.substr(at + prefix.size()));
}

TEST(RedisClientTest, CommandAsyncSharesRoundTripsUnderConcurrency) {
  testing::RedisServer redis;
  RedisClient client(OptionsFor(redis));
  ASSERT_TRUE(client.Command({"SET", "k", "v"}).ok());
  // Submitted far faster than one round trip each, so the batch thread
  // must send them together.
  constexpr int kCalls = 2000;
  const double before = RoundTripsSoFar();
  AsyncResults results(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    client.CommandAsync({"GET", "k"}, results.For(i));
  }
  ASSERT_TRUE(results.Wait(absl::Seconds(30)));
  const double round_trips = RoundTripsSoFar() - before;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(results.Get(i).ok()) << i;
    EXPECT_EQ(results.Get(i)->text, "v");
  }
  EXPECT_GE(round_trips, kCalls / 256);  // at most 256 per batch
  EXPECT_LT(round_trips, kCalls / 2);
}

TEST(RedisClientTest, CommandAsyncFailsFastWhileRedisIsDownAndRecovers) {
  testing::RedisServer redis;
  RedisClient client(OptionsFor(redis));
  {
    AsyncResults warm(1);
    client.CommandAsync({"PING"}, warm.For(0));
    ASSERT_TRUE(warm.Wait(absl::Seconds(5)));
    ASSERT_TRUE(warm.Get(0).ok());
  }
  redis.Kill();
  constexpr int kCalls = 200;
  AsyncResults down(kCalls);
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCalls; ++i) client.CommandAsync({"PING"}, down.For(i));
  ASSERT_TRUE(down.Wait(absl::Seconds(10)));
  // Every caller hears UNAVAILABLE within about one timeout, not one per
  // batch.
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_EQ(down.Get(i).status().code(), absl::StatusCode::kUnavailable);
  }

  redis.Start();
  absl::StatusOr<RedisValue> pong = absl::UnavailableError("not yet");
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (!pong.ok() && absl::Now() < deadline) {
    AsyncResults again(1);
    client.CommandAsync({"PING"}, again.For(0));
    ASSERT_TRUE(again.Wait(absl::Seconds(5)));
    pong = again.Get(0);
    if (!pong.ok()) absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->text, "PONG");
}

TEST(RedisClientTest, DestructionAnswersCommandsStillQueued) {
  testing::RedisServer redis;
  constexpr int kCalls = 1000;
  AsyncResults results(kCalls);
  {
    RedisClient client(OptionsFor(redis));
    for (int i = 0; i < kCalls; ++i) {
      client.CommandAsync({"PING"}, results.For(i));
    }
  }
  // Nothing is dropped: each callback ran, with PONG.
  ASSERT_TRUE(results.Wait(absl::Seconds(1)));
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(results.Get(i).ok()) << i;
    EXPECT_EQ(results.Get(i)->text, "PONG");
  }
}

// ---- Redis Cluster: 3 primaries, 3 replicas, started by the test ----

RedisOptions ClusterOptions(const testing::RedisCluster& cluster) {
  RedisOptions options;
  absl::StatusOr<RedisUrl> url = ParseRedisUrl(cluster.url());
  EXPECT_TRUE(url.ok());
  options.url = *url;
  options.pool_size = 8;
  return options;
}

using testing::DirectCommand;

// The node id of the Redis on `port`.
std::string NodeId(int port) {
  absl::StatusOr<RedisValue> id = DirectCommand(port, {"CLUSTER", "MYID"});
  EXPECT_TRUE(id.ok()) << id.status();
  return id.ok() ? id->text : "";
}

// A key whose slot the primary on `port` serves (it answers for it
// instead of redirecting).
std::string KeyServedBy(int port) {
  for (int i = 0;; ++i) {
    std::string key = absl::StrCat("key-", i);
    if (DirectCommand(port, {"GET", key}).ok()) return key;
  }
}

TEST(RedisClusterClientTest, RoutesKeysAndPipelinesAcrossEveryPrimary) {
  testing::RedisCluster cluster;
  RedisClient client(ClusterOptions(cluster));
  std::vector<std::vector<std::string>> sets;
  for (int i = 0; i < 300; ++i) {
    sets.push_back({"SET", absl::StrCat("k", i), absl::StrCat("v", i)});
  }
  ASSERT_TRUE(client.Pipeline(sets).ok());
  EXPECT_TRUE(client.cluster());
  // Read back one by one, in one pipeline, and without blocking.
  for (int i = 0; i < 300; i += 37) {
    absl::StatusOr<RedisValue> value =
        client.Command({"GET", absl::StrCat("k", i)});
    ASSERT_TRUE(value.ok()) << value.status();
    EXPECT_EQ(value->text, absl::StrCat("v", i));
  }
  std::vector<std::vector<std::string>> gets;
  for (int i = 0; i < 300; ++i) gets.push_back({"GET", absl::StrCat("k", i)});
  absl::StatusOr<std::vector<RedisValue>> values = client.Pipeline(gets);
  ASSERT_TRUE(values.ok()) << values.status();
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ((*values)[i].text, absl::StrCat("v", i));
  }
  absl::Mutex mutex;
  int answered = 0;
  for (int i = 0; i < 300; ++i) {
    client.CommandAsync(
        {"GET", absl::StrCat("k", i)},
        [&, i](absl::StatusOr<RedisValue> value) {
          EXPECT_TRUE(value.ok() && value->text == absl::StrCat("v", i));
          absl::MutexLock lock(&mutex);
          ++answered;
        });
  }
  absl::MutexLock lock(&mutex);
  mutex.AwaitWithTimeout(absl::Condition(
                             +[](int* n) { return *n == 300; }, &answered),
                         absl::Seconds(10));
  EXPECT_EQ(answered, 300);
  // Every primary holds some of them: the keys were spread, not all sent
  // to the node the URL names.
  int primaries_with_keys = 0;
  for (const auto& node : cluster.nodes()) {
    absl::StatusOr<RedisValue> role = DirectCommand(node->port(), {"ROLE"});
    absl::StatusOr<RedisValue> size = DirectCommand(node->port(), {"DBSIZE"});
    if (role.ok() && role->elements[0].text == "master" && size.ok() &&
        size->integer > 0) {
      ++primaries_with_keys;
    }
  }
  EXPECT_EQ(primaries_with_keys, 3);
}

TEST(RedisClusterClientTest, FollowsAskDuringAMigrationAndMovedAfterIt) {
  testing::RedisCluster cluster;
  RedisClient client(ClusterOptions(cluster));
  const int source = cluster.nodes()[0]->port();
  const int target = cluster.nodes()[1]->port();
  const std::string key = KeyServedBy(source);
  ASSERT_TRUE(client.Command({"SET", key, "before"}).ok());
  absl::StatusOr<RedisValue> slot = client.Command({"CLUSTER", "KEYSLOT", key});
  ASSERT_TRUE(slot.ok());
  const std::string slot_text = absl::StrCat(slot->integer);
  const std::string source_id = NodeId(source);
  const std::string target_id = NodeId(target);
  // Move the slot's key by hand, as redis-cli --cluster reshard does.
  ASSERT_TRUE(DirectCommand(target, {"CLUSTER", "SETSLOT", slot_text,
                                     "IMPORTING", source_id})
                  .ok());
  ASSERT_TRUE(DirectCommand(source, {"CLUSTER", "SETSLOT", slot_text,
                                     "MIGRATING", target_id})
                  .ok());
  ASSERT_TRUE(
      DirectCommand(source, {"MIGRATE", "127.0.0.1", absl::StrCat(target), "",
                             "0", "5000", "KEYS", key})
          .ok());
  // Mid-migration the source answers ASK for a key it no longer has.
  absl::StatusOr<RedisValue> asked = client.Command({"GET", key});
  ASSERT_TRUE(asked.ok()) << asked.status();
  EXPECT_EQ(asked->text, "before");
  for (const auto& node : cluster.nodes()) {
    (void)DirectCommand(node->port(),
                        {"CLUSTER", "SETSLOT", slot_text, "NODE", target_id});
  }
  // Now the source answers MOVED; the client refreshes its map and writes
  // to the new owner.
  absl::StatusOr<RedisValue> moved = client.Command({"SET", key, "after"});
  ASSERT_TRUE(moved.ok()) << moved.status();
  absl::StatusOr<RedisValue> direct = DirectCommand(target, {"GET", key});
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(direct->text, "after");
}

TEST(RedisClusterClientTest, LoadsFunctionsOnEveryPrimary) {
  testing::RedisCluster cluster;
  RedisClient client(ClusterOptions(cluster));
  ASSERT_TRUE(client
                  .CommandOnEveryPrimary(
                      {"FUNCTION", "LOAD", "REPLACE",
                       "#!lua name=cluster_test\n"
                       "redis.register_function('put', function(keys, args) "
                       "return redis.call('SET', keys[1], args[1]) end)"})
                  .ok());
  // Keys on every primary: each FCALL runs where its key lives.
  for (int i = 0; i < 30; ++i) {
    const std::string key = absl::StrCat("f", i);
    absl::StatusOr<RedisValue> put =
        client.Command({"FCALL", "put", "1", key, absl::StrCat(i)});
    ASSERT_TRUE(put.ok()) << key << ": " << put.status();
  }
}

TEST(RedisClusterClientTest, ReachesAKeyAgainAfterItsPrimaryFails) {
  testing::RedisCluster cluster;
  RedisClient client(ClusterOptions(cluster));
  const int doomed = cluster.nodes()[2]->port();
  const std::string key = KeyServedBy(doomed);
  // WAIT goes beside the SET, to the key's primary.
  absl::StatusOr<std::vector<RedisValue>> written =
      client.Pipeline({{"SET", key, "kept"}, {"WAIT", "1", "1000"}});
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ((*written)[1].integer, 1);
  cluster.NodeOnPort(doomed)->Kill();
  // The replica is promoted after the node timeout (1 s); until then the
  // slot is unreachable and calls fail fast.
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  absl::StatusOr<RedisValue> value = absl::UnavailableError("not tried");
  while (absl::Now() < give_up) {
    value = client.Command({"GET", key});
    if (value.ok()) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->text, "kept");
}

}  // namespace
}  // namespace accord
