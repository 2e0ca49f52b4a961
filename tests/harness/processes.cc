#include "tests/harness/processes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <hiredis/hiredis.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace accord::testing {
namespace {

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool RedisAnswers(int port) {
  timeval timeout{0, 200000};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
  bool ok = false;
  if (context != nullptr && context->err == 0) {
    auto* reply = static_cast<redisReply*>(redisCommand(context, "PING"));
    // NOAUTH: it answers, but only to users (the default user is off).
    ok = reply != nullptr &&
         (reply->type == REDIS_REPLY_STATUS ||
          (reply->type == REDIS_REPLY_ERROR &&
           std::string(reply->str, reply->len).rfind("NOAUTH", 0) == 0));
    if (reply != nullptr) freeReplyObject(reply);
  }
  if (context != nullptr) redisFree(context);
  return ok;
}

}  // namespace

namespace {

// True if nothing listens on (or is bound to) the loopback `port` now.
bool CanBind(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  const bool bound =
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return bound;
}

// The lowest port the kernel hands out to outgoing connections.
int EphemeralLow() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  range >> low;
  return low;
}

// A port is chosen before the process that listens on it starts; until
// then nothing stops another test running beside this one (ctest -j), or
// this process itself, from choosing it too. So a chosen port is reserved:
// in this process by a set, across processes by an advisory lock on a file
// named after it, held until this process ends (scripts/lib.sh's
// free_port takes the same locks). Services never share a port silently
// (they refuse SO_REUSEPORT), so a collision would otherwise fail a test
// at random.
bool Reserve(int port) {
  static std::mutex mutex;
  static std::set<int>* const reserved = new std::set<int>;
  std::lock_guard<std::mutex> lock(mutex);
  if (reserved->count(port) != 0) return false;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "accord-test-ports";
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  std::filesystem::permissions(dir, std::filesystem::perms::all, ignored);
  const int fd = open((dir / std::to_string(port)).c_str(),
                      O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return true;  // No reservation possible: fall back to luck.
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return false;
  }
  // The descriptor stays open, and the lock held, for the process's life.
  reserved->insert(port);
  return true;
}

}  // namespace

int FreePort() {
  // Below the ephemeral range: a service restarted on its old port must
  // not find it taken by some client connection's local port meanwhile
  // (bind(0) picks from the same range outgoing connections use).
  static const int low = EphemeralLow();
  if (low > 12000) {
    absl::BitGen bits;
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const int port = absl::Uniform(bits, 10000, low);
      if (CanBind(port) && Reserve(port)) return port;
    }
  }
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a free port");
  }
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  const int port = ntohs(address.sin_port);
  Reserve(port);
  return port;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  return pattern;
}

std::string BinaryPath(const std::string& name) {
  return absl::StrCat(ACCORD_BIN_DIR, "/", name);
}

ChildProcess::~ChildProcess() {
  if (running()) Kill();
}

void ChildProcess::Start(const std::vector<std::string>& argv,
                         const std::string& log_path) {
  log_path_ = log_path;
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    // The test process may block signals; the child must not inherit that.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (const std::string& arg : argv)
      args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  pid_ = pid;
}

int ChildProcess::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      return ExitCodeOf(status);
    }
    if (absl::Now() > deadline) return -1;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return -1;
}

int ChildProcess::Terminate(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const int code = Wait(timeout);
  if (code == -1) Kill();
  return code;
}

void ChildProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void ChildProcess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

std::string ChildProcess::ReadLog() const {
  std::ifstream file(log_path_);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

RedisServer::RedisServer(const std::string& appendfsync,
                         std::vector<std::string> extra_args)
    : dir_(MakeTempDir("accord-redis")),
      appendfsync_(appendfsync),
      extra_args_(std::move(extra_args)),
      port_(FreePort()) {
  Start();
}

RedisServer::~RedisServer() {
  process_.Kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void RedisServer::Start() {
  std::vector<std::string> argv(
      {"redis-server", "--port", absl::StrCat(port_), "--bind", "127.0.0.1",
       "--dir", dir_, "--appendonly", "yes", "--appendfsync", appendfsync_,
       "--save", "", "--daemonize", "no", "--protected-mode", "yes"});
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_.Start(argv, dir_ + "/redis.log");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!RedisAnswers(port_)) {
    if (absl::Now() > deadline) {
      throw std::runtime_error("redis-server did not start: " +
                               process_.ReadLog());
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

void RedisServer::Stop() { process_.Terminate(); }
void RedisServer::Kill() { process_.Kill(); }

std::string RedisServer::url() const {
  return absl::StrCat("redis://127.0.0.1:", port_);
}

std::string RedisServer::url(const std::string& user,
                             const std::string& password) const {
  return absl::StrCat("redis://", user, ":", password, "@127.0.0.1:", port_,
                      "/0");
}

RedisCluster::RedisCluster(int primaries, int replicas_each) {
  std::vector<std::string> create = {"redis-cli", "--cluster", "create"};
  for (int i = 0; i < primaries * (1 + replicas_each); ++i) {
    // The bus port is otherwise the data port + 10000, which may be taken.
    nodes_.push_back(std::make_unique<RedisServer>(
        "always", std::vector<std::string>{
                      "--cluster-enabled", "yes", "--cluster-node-timeout",
                      "1000", "--cluster-port", absl::StrCat(FreePort())}));
    create.push_back(absl::StrCat("127.0.0.1:", nodes_.back()->port()));
  }
  create.insert(create.end(), {"--cluster-replicas",
                               absl::StrCat(replicas_each), "--cluster-yes"});
  ChildProcess creator;
  const std::string log = MakeTempDir("accord-cluster") + "/create.log";
  creator.Start(create, log);
  if (creator.Wait(absl::Seconds(60)) != 0) {
    throw std::runtime_error("redis-cli --cluster create failed: " +
                             creator.ReadLog());
  }
  if (!WaitUntilHealthy(absl::Seconds(30))) {
    throw std::runtime_error("the Redis Cluster did not become healthy");
  }
}

RedisServer* RedisCluster::NodeOnPort(int port) {
  for (const std::unique_ptr<RedisServer>& node : nodes_) {
    if (node->port() == port) return node.get();
  }
  return nullptr;
}

SentinelServer::SentinelServer(int primary_port, const std::string& master_name,
                               int quorum)
    : dir_(MakeTempDir("accord-sentinel")),
      master_name_(master_name),
      port_(FreePort()) {
  // Sentinel rewrites its configuration file, so it gets its own.
  const std::string config = dir_ + "/sentinel.conf";
  {
    std::ofstream file(config);
    file << "port " << port_ << "\nbind 127.0.0.1\ndir " << dir_
         << "\nsentinel monitor " << master_name << " 127.0.0.1 "
         << primary_port << " " << quorum
         << "\nsentinel down-after-milliseconds " << master_name
         << " 1000\nsentinel failover-timeout " << master_name << " 5000\n";
  }
  process_.Start({"redis-server", config, "--sentinel"},
                 dir_ + "/sentinel.log");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!RedisAnswers(port_)) {
    if (absl::Now() > deadline) {
      throw std::runtime_error("redis-server --sentinel did not start: " +
                               process_.ReadLog());
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

SentinelServer::~SentinelServer() {
  process_.Kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

absl::StatusOr<RedisValue> DirectCommand(int port,
                                         const std::vector<std::string>& args) {
  RedisOptions options;
  options.url.port = port;
  options.follow_cluster = false;
  options.pool_size = 1;
  RedisClient node(options);
  return node.Command(args);
}

bool RedisCluster::WaitUntilHealthy(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    bool healthy = true;
    for (const std::unique_ptr<RedisServer>& node : nodes_) {
      if (!RedisAnswers(node->port())) continue;  // killed on purpose
      absl::StatusOr<RedisValue> info =
          DirectCommand(node->port(), {"CLUSTER", "INFO"});
      healthy = healthy && info.ok() &&
                absl::StrContains(info->text, "cluster_state:ok");
      // A replica counts once it has synchronised with its primary.
      absl::StatusOr<RedisValue> replication =
          DirectCommand(node->port(), {"INFO", "replication"});
      healthy = healthy && replication.ok() &&
                (absl::StrContains(replication->text, "role:master") ||
                 absl::StrContains(replication->text, "master_link_status:up"));
    }
    if (healthy) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

int SentinelServer::PrimaryPort() const {
  absl::StatusOr<RedisValue> reply = DirectCommand(
      port_, {"SENTINEL", "get-master-addr-by-name", master_name_});
  int port = 0;
  if (!reply.ok() || reply->elements.size() != 2 ||
      !absl::SimpleAtoi(reply->elements[1].text, &port)) {
    return 0;
  }
  return port;
}

int SentinelServer::KnownReplicas() const {
  absl::StatusOr<RedisValue> reply =
      DirectCommand(port_, {"SENTINEL", "replicas", master_name_});
  if (!reply.ok()) return 0;
  return static_cast<int>(reply->elements.size());
}

ServiceProcess::ServiceProcess(std::string binary, std::string redis_url,
                               std::vector<std::string> extra_flags,
                               bool wait_until_serving)
    : binary_(std::move(binary)),
      redis_url_(std::move(redis_url)),
      extra_flags_(std::move(extra_flags)),
      dir_(MakeTempDir("accord-service")),
      port_(FreePort()),
      metrics_port_(FreePort()) {
  Start(wait_until_serving);
}

ServiceProcess::~ServiceProcess() {
  process_.Kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void ServiceProcess::Start(bool wait_until_serving) {
  std::vector<std::string> argv = {
      BinaryPath(binary_), absl::StrCat("--listen=", address()),
      absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_),
      absl::StrCat("--redis=", redis_url_), "--shutdown_grace=5s"};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  // Tests that are not about authentication run without it.
  const bool has_credentials = std::any_of(
      extra_flags_.begin(), extra_flags_.end(), [](const std::string& flag) {
        return flag.rfind("--credentials_file", 0) == 0 ||
               flag.rfind("--insecure_no_auth", 0) == 0;
      });
  if (!has_credentials) argv.push_back("--insecure_no_auth");
  process_.Start(argv, dir_ + "/service.log");
  if (!wait_until_serving) return;
  absl::Status ready = WaitForHealth(Channel(), true, absl::Seconds(15));
  if (!ready.ok()) {
    throw std::runtime_error(
        absl::StrCat(binary_, " did not become SERVING: ", ready.ToString(),
                     "\n", process_.ReadLog()));
  }
}

int ServiceProcess::Stop() { return process_.Terminate(); }
void ServiceProcess::Kill() { process_.Kill(); }

std::string ServiceProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::shared_ptr<grpc::Channel> ServiceProcess::Channel() const {
  // A process that is just starting refuses the first connections; gRPC's
  // default reconnect backoff (1 s and more) would dominate test time.
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  return grpc::CreateCustomChannel(
      address(), grpc::InsecureChannelCredentials(), arguments);
}

absl::Status WaitForHealth(const std::shared_ptr<grpc::Channel>& channel,
                           bool serving, absl::Duration timeout,
                           const std::string& service) {
  // grpc.health.v1 messages are tiny: a HealthCheckRequest is at most the
  // service name, and the response is field 1 (tag 0x08) holding the
  // enum (1 = SERVING), so raw bytes spare the test a copy of health.proto.
  grpc::GenericStub stub(channel);
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "no answer";
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(500));
    // HealthCheckRequest.service is field 1 (tag 0x0A).
    std::string request_bytes;
    if (!service.empty()) {
      request_bytes =
          std::string("\x0a") + static_cast<char>(service.size()) + service;
    }
    grpc::Slice request_slice(request_bytes);
    grpc::ByteBuffer request(&request_slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check",
                   grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status status) { done.set_value(status); });
    const grpc::Status status = done.get_future().get();
    std::string bytes;
    if (status.ok()) {
      std::vector<grpc::Slice> slices;
      (void)response.Dump(&slices);
      for (const grpc::Slice& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()),
                     slice.size());
      }
    }
    const bool is_serving = status.ok() && bytes == std::string("\x08\x01");
    if (is_serving == serving) return absl::OkStatus();
    last = status.ok() ? "NOT_SERVING" : status.error_message();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(last);
}

double MetricSum(int port, absl::string_view name, absl::string_view filter) {
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) return -1;
  double total = 0;
  for (absl::string_view line : absl::StrSplit(response->body, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    const absl::string_view series = line.substr(0, space);
    double value = 0;
    if ((series == name || absl::StartsWith(series, absl::StrCat(name, "{"))) &&
        absl::StrContains(series, filter) &&
        absl::SimpleAtod(line.substr(space + 1), &value)) {
      total += value;
    }
  }
  return total;
}

}  // namespace accord::testing
