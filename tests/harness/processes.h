#ifndef ACCORD_TESTS_HARNESS_PROCESSES_H_
#define ACCORD_TESTS_HARNESS_PROCESSES_H_

// Real processes for integration tests: a private redis-server and the
// Accord service binaries, each on a loopback port chosen free at run time.
//
// Example:
//   RedisServer redis;                 // started, AOF appendfsync always
//   ServiceProcess institution("accord-institution", redis.url());
//   auto stub = InstitutionService::NewStub(institution.Channel());

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/redis/client.h"

namespace accord::testing {

// A loopback TCP port nobody listens on right now.
int FreePort();

// A fresh temporary directory, removed with the harness object.
std::string MakeTempDir(const std::string& prefix);

// A child process with its output captured in a log file.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void Start(const std::vector<std::string>& argv, const std::string& log_path);
  // SIGTERM, then the exit code (or 128+signal); -1 if it did not exit in
  // `timeout`, in which case it is killed.
  int Terminate(absl::Duration timeout = absl::Seconds(15));
  void Kill();
  // Sends `signal` (e.g. SIGSTOP to freeze, SIGCONT to resume).
  void Signal(int signal);
  bool running() const { return pid_ > 0; }
  // Waits for the process to exit by itself; the exit code or -1.
  int Wait(absl::Duration timeout);
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

class RedisServer {
 public:
  // `appendfsync` is "always" or "everysec". `extra_args` go on the
  // redis-server command line after the harness's own, e.g.
  // {"--aclfile", path} to run with ACL users.
  explicit RedisServer(const std::string& appendfsync = "always",
                       std::vector<std::string> extra_args = {});
  ~RedisServer();

  void Stop();   // SIGTERM (clean shutdown)
  void Kill();   // SIGKILL
  void Start();  // again, same port and data directory
  std::string url() const;
  // The URL logging in as an ACL user.
  std::string url(const std::string& user, const std::string& password) const;
  int port() const { return port_; }

 private:
  std::string dir_;
  std::string appendfsync_;
  std::vector<std::string> extra_args_;
  int port_ = 0;
  ChildProcess process_;
};

// One command to the Redis (or Sentinel) on loopback `port` itself, over a
// connection of its own: no pool, no cluster routing, no redirects
// followed (an error reply comes back as INTERNAL, "redis: <its text>").
absl::StatusOr<RedisValue> DirectCommand(int port,
                                         const std::vector<std::string>& args);

// A Redis Sentinel on a free loopback port watching the primary on
// `primary_port` as `master_name`, with failure detection shortened for
// tests (down after 1 s, failover timeout 5 s).
class SentinelServer {
 public:
  SentinelServer(int primary_port, const std::string& master_name, int quorum);
  ~SentinelServer();
  int port() const { return port_; }
  // The port of the primary this Sentinel names now; 0 if it names none.
  int PrimaryPort() const;
  // How many replicas of the primary this Sentinel knows.
  int KnownReplicas() const;

 private:
  std::string dir_;
  std::string master_name_;
  int port_ = 0;
  ChildProcess process_;
};

// A Redis Cluster on loopback: `primaries` primaries with `replicas_each`
// replicas each (redis-cli --cluster create), slots spread evenly, ready
// (cluster_state:ok on every node) when constructed. Node timeout 1 s, so
// a killed primary's replica is promoted within a few seconds.
class RedisCluster {
 public:
  explicit RedisCluster(int primaries = 3, int replicas_each = 1);
  // Any node's URL: the client finds the rest.
  std::string url() const { return nodes_.front()->url(); }
  std::vector<std::unique_ptr<RedisServer>>& nodes() { return nodes_; }
  // The node serving `port`, or null.
  RedisServer* NodeOnPort(int port);
  // Until every live node reports cluster_state:ok and every live replica
  // is in sync with its primary (false on timeout).
  bool WaitUntilHealthy(absl::Duration timeout);

 private:
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

class ServiceProcess {
 public:
  // `binary` is a file name in the build's bin directory.
  // Starts the process; waits for SERVING unless `wait_until_serving` is
  // false (to observe a service that cannot reach Redis).
  ServiceProcess(std::string binary, std::string redis_url,
                 std::vector<std::string> extra_flags = {},
                 bool wait_until_serving = true);
  ~ServiceProcess();

  // Starts and waits until health reports SERVING (or only starts).
  void Start(bool wait_until_serving = true);
  // SIGTERM; returns the exit code.
  int Stop();
  void Kill();
  void Signal(int signal) { process_.Signal(signal); }
  std::string address() const;
  std::shared_ptr<grpc::Channel> Channel() const;
  std::string ReadLog() const { return process_.ReadLog(); }
  int metrics_port() const { return metrics_port_; }

 private:
  std::string binary_;
  std::string redis_url_;
  std::vector<std::string> extra_flags_;
  std::string dir_;
  int port_ = 0;
  int metrics_port_ = 0;
  ChildProcess process_;
};

// Waits until the gRPC health service at `channel` reports SERVING
// (`serving` true) or NOT_SERVING/unreachable (`serving` false).
// `service` "" asks for the overall (readiness) status.
absl::Status WaitForHealth(const std::shared_ptr<grpc::Channel>& channel,
                           bool serving, absl::Duration timeout,
                           const std::string& service = "");

// The path of a binary in the build's bin directory.
std::string BinaryPath(const std::string& name);

// The sum of the /metrics series on loopback `port` called `name` whose
// labels contain `filter`; 0 when there are none, -1 when /metrics does
// not answer.
double MetricSum(int port, absl::string_view name,
                 absl::string_view filter = "");

}  // namespace accord::testing

#endif  // ACCORD_TESTS_HARNESS_PROCESSES_H_
