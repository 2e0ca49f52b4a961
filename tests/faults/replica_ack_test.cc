// A Redis primary with a replica, and --redis_min_replicas_acked: a write
// is acknowledged only once the replica has it, a write the replica could
// not confirm is answered UNAVAILABLE and confirmed by a retry with the
// same request_id, and a failover to the replica loses no acknowledged
// write. The same failover without the flag is measured, not judged: how
// much it loses depends on timing. The services run as shipped, with
// authentication on; the writers call as an admin.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/errors.h"
#include "common/events.h"
#include "common/redis/keys.h"
#include "tests/harness/credentials.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

using institution::v1::Institution;
using institution::v1::InstitutionService;
using testing::EventLog;
using testing::RedisServer;
using testing::SentinelServer;
using testing::ServiceProcess;

Institution NewInstitution(int n) {
  Institution institution;
  auto* name = institution.add_names();
  name->set_text(absl::StrCat("Replicated University ", n));
  name->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
  institution.set_kind(Institution::KIND_UNIVERSITY);
  institution.set_country_code("IR");
  return institution;
}

// A replica of `primary` on its own port, synchronised when constructed.
class Replica {
 public:
  // `replicas` counts this one and those started before it.
  explicit Replica(const RedisServer& primary, int replicas = 1)
      : server_("always",
                {"--replicaof", "127.0.0.1", absl::StrCat(primary.port())}),
        primary_(primary.url()),
        replicas_(absl::StrCat(replicas)) {
    WaitUntilSynced();
  }
  RedisServer& server() { return server_; }
  // Until the primary counts this replica as connected and caught up.
  void WaitUntilSynced() {
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (absl::Now() < give_up) {
      // A connection that wrote nothing: WAIT counts the replicas that
      // are connected and have acknowledged anything at all.
      absl::StatusOr<RedisValue> acked =
          primary_.redis().Command({"WAIT", replicas_, "200"});
      if (acked.ok() && std::to_string(acked->integer) == replicas_) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL() << "the replica never synchronised";
  }
  bool Holds(const std::string& name) {
    EventLog replica(server_.url());
    absl::StatusOr<RedisValue> exists =
        replica.redis().Command({"EXISTS", redis_keys::RecordKey(name)});
    return exists.ok() && exists->integer == 1;
  }

 private:
  RedisServer server_;
  EventLog primary_;
  const std::string replicas_;
};

// How many of `names` the Redis at `url` does not hold.
int CountMissing(const std::string& url, const std::set<std::string>& names) {
  EventLog log(url);
  std::vector<std::vector<std::string>> checks;
  for (const std::string& name : names) {
    checks.push_back({"EXISTS", redis_keys::RecordKey(name)});
  }
  absl::StatusOr<std::vector<RedisValue>> exists = log.redis().Pipeline(checks);
  if (!exists.ok()) return static_cast<int>(names.size());
  int missing = 0;
  for (const RedisValue& reply : *exists) missing += reply.integer == 1 ? 0 : 1;
  return missing;
}

bool PrimaryHolds(const RedisServer& primary, const std::string& name) {
  EventLog log(primary.url());
  absl::StatusOr<RedisValue> exists =
      log.redis().Command({"EXISTS", redis_keys::RecordKey(name)});
  return exists.ok() && exists->integer == 1;
}

// The credentials every service of these tests is started with, and the
// admin's bearer token.
struct Auth {
  std::string flag;  // --credentials_file=...
  std::string token;
};
const Auth& TestAuth() {
  static const Auth* auth = [] {
    testing::TestCredentials credentials;
    auto* made = new Auth;
    made->token = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    made->flag = credentials.Write(testing::MakeTempDir("replica-ack-auth"));
    return made;
  }();
  return *auth;
}

grpc::Status Create(InstitutionService::Stub& stub,
                    const institution::v1::CreateInstitutionRequest& request,
                    Institution* created) {
  std::unique_ptr<grpc::ClientContext> context =
      testing::AuthorizedContext(TestAuth().token);
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(5));
  return stub.CreateInstitution(context.get(), request, created);
}

TEST(ReplicaAckTest, AWriteIsAcknowledgedOnlyOnceTheReplicaHasIt) {
  RedisServer primary;
  Replica replica(primary);
  ServiceProcess service("accord-institution", primary.url(),
                         {TestAuth().flag, "--redis_min_replicas_acked=1"});
  auto stub = InstitutionService::NewStub(service.Channel());

  // Each acknowledged write is on the replica the moment it is answered.
  for (int n = 0; n < 20; ++n) {
    institution::v1::CreateInstitutionRequest request;
    *request.mutable_institution() = NewInstitution(n);
    request.set_request_id(NewUuid());
    Institution created;
    const grpc::Status status = Create(*stub, request, &created);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(replica.Holds(created.name())) << created.name();
  }

  // With the replica gone, a write is kept on the primary but not
  // acknowledged.
  replica.server().Kill();
  institution::v1::CreateInstitutionRequest pending;
  *pending.mutable_institution() = NewInstitution(100);
  pending.set_institution_id("awaiting-replica");
  pending.set_request_id(NewUuid());
  Institution created;
  const absl::Time start = absl::Now();
  const grpc::Status refused = Create(*stub, pending, &created);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE)
      << refused.error_message();
  EXPECT_NE(refused.error_message().find("--redis_min_replicas_acked"),
            std::string::npos)
      << refused.error_message();
  // The default --redis_replica_ack_timeout is one second.
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_TRUE(PrimaryHolds(primary, "institutions/awaiting-replica"));

  // Back, the replica catches up, and the retry is confirmed: the same
  // institution, not a second one.
  replica.server().Start();
  replica.WaitUntilSynced();
  const grpc::Status confirmed = Create(*stub, pending, &created);
  ASSERT_TRUE(confirmed.ok()) << confirmed.error_message();
  EXPECT_EQ(created.name(), "institutions/awaiting-replica");
  EXPECT_TRUE(replica.Holds("institutions/awaiting-replica"));
}

TEST(ReplicaAckTest, AnAckTimeoutNotBelowTheRedisTimeoutIsRefusedAtStart) {
  RedisServer primary;
  testing::ChildProcess service;
  const std::string log = testing::MakeTempDir("replica-ack") + "/log";
  service.Start(
      {testing::BinaryPath("accord-institution"),
       absl::StrCat("--redis=", primary.url()), "--listen=127.0.0.1:0",
       "--redis_min_replicas_acked=1", "--redis_timeout=1s",
       "--redis_replica_ack_timeout=1s", TestAuth().flag},
      log);
  EXPECT_EQ(service.Wait(absl::Seconds(10)), 2);
  EXPECT_NE(service.ReadLog().find("--redis_replica_ack_timeout"),
            std::string::npos)
      << service.ReadLog();
}

// Writers that create institutions, each retried with its request_id
// until acknowledged (for up to 30 s), through whatever channel
// `channel()` gives at the time.
class Writers {
 public:
  Writers(int count, std::function<std::shared_ptr<grpc::Channel>()> channel)
      : channel_(std::move(channel)) {
    for (int w = 0; w < count; ++w) threads_.emplace_back([this] { Run(); });
  }
  ~Writers() { Stop(); }
  // Stops them; the names of every acknowledged institution.
  std::set<std::string> Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return acknowledged_;
  }
  int acknowledged() {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(acknowledged_.size());
  }

 private:
  void Run() {
    while (!stop_.load()) {
      institution::v1::CreateInstitutionRequest request;
      *request.mutable_institution() = NewInstitution(counter_.fetch_add(1));
      request.set_request_id(NewUuid());
      const absl::Time give_up = absl::Now() + absl::Seconds(30);
      while (absl::Now() < give_up) {
        Institution created;
        if (Create(*InstitutionService::NewStub(channel_()), request, &created)
                .ok()) {
          std::lock_guard<std::mutex> lock(mutex_);
          acknowledged_.insert(created.name());
          break;
        }
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
  }

  std::function<std::shared_ptr<grpc::Channel>()> channel_;
  std::atomic<bool> stop_{false};
  std::atomic<int> counter_{0};
  std::mutex mutex_;
  std::set<std::string> acknowledged_;
  std::vector<std::thread> threads_;
};

struct FailoverOutcome {
  int acknowledged = 0;
  int lost = 0;
};

// Writers create institutions; the primary is SIGKILLed, the replica
// promoted by hand and the service restarted on it (what Sentinel and a
// rollout would do; SentinelFailover below lets Sentinel do it).
FailoverOutcome RunFailover(int min_replicas_acked) {
  RedisServer primary;
  Replica replica(primary);
  auto service = std::make_unique<ServiceProcess>(
      "accord-institution", primary.url(),
      std::vector<std::string>{
          TestAuth().flag,
          absl::StrCat("--redis_min_replicas_acked=", min_replicas_acked),
          "--redis_timeout=1s", "--redis_replica_ack_timeout=500ms"});
  std::mutex mutex;
  std::shared_ptr<grpc::Channel> channel = service->Channel();
  Writers writers(4, [&] {
    std::lock_guard<std::mutex> lock(mutex);
    return channel;
  });
  absl::SleepFor(absl::Seconds(1));
  primary.Kill();
  {
    EventLog promoted(replica.server().url());
    EXPECT_TRUE(promoted.redis().Command({"REPLICAOF", "NO", "ONE"}).ok());
  }
  // The writers keep retrying until the service is back on the new primary
  // (no replica is left, so it waits for none).
  service->Kill();
  service = std::make_unique<ServiceProcess>(
      "accord-institution", replica.server().url(),
      std::vector<std::string>{TestAuth().flag, "--redis_timeout=1s"});
  {
    std::lock_guard<std::mutex> lock(mutex);
    channel = service->Channel();
  }
  absl::SleepFor(absl::Seconds(1));
  const std::set<std::string> acknowledged = writers.Stop();
  return {static_cast<int>(acknowledged.size()),
          CountMissing(replica.server().url(), acknowledged)};
}

TEST(ReplicaAckTest, FailoverToTheReplicaLosesNoAcknowledgedWrite) {
  const FailoverOutcome outcome = RunFailover(/*min_replicas_acked=*/1);
  std::printf(
      "failover with --redis_min_replicas_acked=1: %d acknowledged, "
      "%d lost\n",
      outcome.acknowledged, outcome.lost);
  EXPECT_GT(outcome.acknowledged, 20);
  EXPECT_EQ(outcome.lost, 0);
}

TEST(ReplicaAckTest, FailoverWithoutWaitingIsMeasured) {
  // Asynchronous replication: what the primary acknowledged in its last
  // moments may not have reached the replica. Reported, not judged.
  const FailoverOutcome outcome = RunFailover(/*min_replicas_acked=*/0);
  std::printf(
      "failover with --redis_min_replicas_acked=0: %d acknowledged, "
      "%d lost\n",
      outcome.acknowledged, outcome.lost);
  EXPECT_GT(outcome.acknowledged, 20);
}

TEST(ReplicaAckTest, SentinelFailoverLosesNoAcknowledgedWrite) {
  // One primary, two replicas, three Sentinels (quorum 2): the set-up
  // deploy/ describes, on loopback.
  RedisServer primary;
  Replica first(primary, 1);
  Replica second(primary, 2);
  std::vector<std::unique_ptr<SentinelServer>> sentinels;
  std::vector<std::string> addresses;
  for (int i = 0; i < 3; ++i) {
    sentinels.push_back(
        std::make_unique<SentinelServer>(primary.port(), "accord", 2));
    addresses.push_back(absl::StrCat("127.0.0.1:", sentinels.back()->port()));
  }
  const absl::Time known_by = absl::Now() + absl::Seconds(20);
  for (const auto& sentinel : sentinels) {
    while (sentinel->KnownReplicas() < 2 && absl::Now() < known_by) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    ASSERT_EQ(sentinel->KnownReplicas(), 2);
  }
  ServiceProcess service(
      "accord-institution",
      absl::StrCat("redis+sentinel://", absl::StrJoin(addresses, ","),
                   "/accord"),
      {TestAuth().flag, "--redis_min_replicas_acked=1", "--redis_timeout=1s",
       "--redis_replica_ack_timeout=500ms"});
  const std::shared_ptr<grpc::Channel> channel = service.Channel();
  Writers writers(4, [&] { return channel; });
  absl::SleepFor(absl::Seconds(1));
  const int before_failover = writers.acknowledged();
  primary.Kill();
  const absl::Time promoted_by = absl::Now() + absl::Seconds(30);
  while (sentinels[0]->PrimaryPort() == primary.port() &&
         absl::Now() < promoted_by) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const int new_primary = sentinels[0]->PrimaryPort();
  ASSERT_NE(new_primary, primary.port()) << "Sentinel promoted no replica";
  // The same service, never restarted, finds the new primary and goes on.
  const int at_failover = writers.acknowledged();
  const absl::Time resumed_by = absl::Now() + absl::Seconds(30);
  while (writers.acknowledged() < at_failover + 50 &&
         absl::Now() < resumed_by) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::set<std::string> acknowledged = writers.Stop();
  const int lost = CountMissing(absl::StrCat("redis://127.0.0.1:", new_primary),
                                acknowledged);
  std::printf(
      "Sentinel failover with --redis_min_replicas_acked=1: %d "
      "acknowledged (%d before the kill, %d after the promotion), "
      "%d lost\n",
      static_cast<int>(acknowledged.size()), before_failover,
      static_cast<int>(acknowledged.size()) - at_failover, lost);
  EXPECT_GT(before_failover, 20);
  EXPECT_GE(static_cast<int>(acknowledged.size()), at_failover + 50);
  EXPECT_EQ(lost, 0);
}

}  // namespace
}  // namespace accord
