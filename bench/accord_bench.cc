// accord_bench: the suite's request path against baselines measured in the
// same run, on this machine (issue 8; docs/performance.md holds the figures).
//
// It starts everything itself, each on a free loopback port:
//   - redis-server (appendonly yes, appendfsync everysec, in a temp dir;
//     checked through INFO server process_id and CONFIG GET),
//   - the real accord-institution and accord-agreement binaries
//     (--insecure_no_auth, default logging and metrics),
//   - two bare gRPC callback echo servers (bench_echo_server) answering with
//     as many bytes as the institution and agreement responses,
// and measures, in alternating short blocks (baseline, suite, baseline,
// suite ...) after a warm-up, each figure as the median of the blocks with
// min-max and the ratio to the baseline of the same block:
//   1. throughput, closed loop (64 outstanding over 4 channels): Get
//      institution, Get agreement, CreateAgreement, RecordAgreementAction
//      against the echo servers, and Redis's own HMGET / MULTI-EXEC loops;
//   2. latency at one in flight (p50/p99), same arms;
//   3. open loop at a fixed rate (half the Get throughput just measured);
//   4. Redis round trips and institution-service calls per request, read
//      from the services' own /metrics;
//   5. the same throughput with server and client sharing both cores;
//   6. List with filters over 100,000 agreements (loaded through the API);
//   7. server instructions per request under valgrind --tool=callgrind
//      (institution Get, agreement Create and the institution's share of
//      it, echo), counted over runs of N and 2N calls after a warm-up.
// Servers run under `taskset -c 0`, the client's threads on core 1. Each
// throughput block also reads the servers' CPU time (user and kernel) and
// context switches from /proc.
//
// Not run by ctest (bench/instructions_check.sh runs only part 7, short).
// Prints progress on stderr, results on stdout, then a markdown summary.
// Lines "INSTR <name> <instructions>" are for instructions_check.sh.
// ACCORD_BENCH_KEEP_CALLGRIND=1 keeps the callgrind dumps for
// callgrind_annotate.
//
// Usage:
//   accord_bench [--blocks=4] [--block=1s] [--list_agreements=100000]
//                [--shared_core=true] [--instructions=true]
//   accord_bench --instructions_only [--instruction_requests=200]
//                [--instruction_creates=100] [--instruction_repeats=3]

#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <hiredis/hiredis.h>
#include <httplib.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/config.h"
#include "tests/harness/processes.h"

namespace accord::bench {
namespace {

using agreement::v1::Agreement;
using agreement::v1::AgreementAction;
using agreement::v1::AgreementService;
using institution::v1::Institution;
using institution::v1::InstitutionName;
using institution::v1::InstitutionService;
using testing::BinaryPath;
using testing::FreePort;
using testing::MakeTempDir;
using testing::WaitForHealth;

constexpr char kEchoMethod[] = "/accord.bench.Echo/Echo";
constexpr char kGetInstitution[] =
    "/accord.institution.v1.InstitutionService/GetInstitution";
constexpr char kBatchGetInstitutions[] =
    "/accord.institution.v1.InstitutionService/BatchGetInstitutions";
constexpr char kGetAgreement[] =
    "/accord.agreement.v1.AgreementService/GetAgreement";
constexpr char kCreateAgreement[] =
    "/accord.agreement.v1.AgreementService/CreateAgreement";
constexpr char kRecordAction[] =
    "/accord.agreement.v1.AgreementService/RecordAgreementAction";
constexpr char kListAgreements[] =
    "/accord.agreement.v1.AgreementService/ListAgreements";

constexpr int kParties = 20;
constexpr const char* kCountries[] = {"IR", "RU", "FR", "DE", "CN",
                                      "IN", "BR", "ZA", "EG", "TR"};
constexpr int kRecordPool = 2048;
constexpr int kGetPool = 16;

struct Options {
  int64_t blocks = 4;
  absl::Duration block = absl::Seconds(1);
  absl::Duration warmup = absl::Milliseconds(500);
  int64_t outstanding = 64;
  int64_t channels = 4;
  int64_t list_agreements = 100000;
  int64_t list_repeats = 3;
  bool shared_core = true;
  bool instructions = true;
  bool instructions_only = false;
  int64_t instruction_requests = 200;
  int64_t instruction_creates = 100;
  int64_t instruction_repeats = 3;
  int64_t open_loop_rate = 0;  // 0: half the closed-loop Get throughput
  std::string server_cpus = "0";
  std::string client_cpus = "1";
};

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Progress(const std::string& line) {
  std::fprintf(
      stderr, "[%s] %s\n",
      absl::FormatTime("%H:%M:%S", absl::Now(), absl::LocalTimeZone()).c_str(),
      line.c_str());
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "accord_bench: %s\n", message.c_str());
  std::exit(1);
}

// ---------------------------------------------------------------------------
// Statistics

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(
      values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[index];
}

struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};

Spread SpreadOf(const std::vector<double>& values) {
  Spread spread;
  if (values.empty()) return spread;
  spread.median = Percentile(values, 0.5);
  spread.min = *std::min_element(values.begin(), values.end());
  spread.max = *std::max_element(values.begin(), values.end());
  return spread;
}

std::string Format(const Spread& spread, int decimals = 0,
                   absl::string_view unit = "") {
  return absl::StrFormat("%.*f%s (%.*f–%.*f)", decimals, spread.median, unit,
                         decimals, spread.min, decimals, spread.max);
}

// Latencies in microseconds, written from any thread.
class Latencies {
 public:
  explicit Latencies(size_t capacity = 1 << 21) : values_(capacity) {}
  void Add(double micros) {
    const size_t index = next_.fetch_add(1, std::memory_order_relaxed);
    if (index < values_.size()) values_[index] = static_cast<float>(micros);
  }
  std::vector<double> Values() const {
    const size_t count = std::min(next_.load(), values_.size());
    return std::vector<double>(values_.begin(), values_.begin() + count);
  }

 private:
  std::vector<float> values_;
  std::atomic<size_t> next_{0};
};

// One measured block of one arm.
struct Block {
  double qps = 0;
  double p50_us = 0;
  double p99_us = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::string first_error;
  // Of the server processes (Metered): CPU time and context switches per
  // successful call.
  double server_cpu_us = 0;
  double switches = 0;
  std::vector<std::pair<std::string, double>> cpu_us_by_process;
  std::vector<std::pair<std::string, double>> system_us_by_process;
};

// CPU time (all threads, from /proc/<pid>/stat) and context switches (summed
// over the live threads' /proc/<pid>/task/*/status).
struct Usage {
  double cpu_seconds = 0;
  double system_seconds = 0;  // part of cpu_seconds spent in the kernel
  double switches = 0;
};

Usage UsageOf(pid_t pid) {
  Usage usage;
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  std::getline(stat_file, stat);
  const size_t close = stat.rfind(')');
  if (close != std::string::npos) {
    // Fields after the command: state is field 3, utime 14, stime 15.
    std::vector<std::string> fields =
        absl::StrSplit(stat.substr(close + 2), ' ');
    double utime = 0;
    double stime = 0;
    if (fields.size() > 12 && absl::SimpleAtod(fields[11], &utime) &&
        absl::SimpleAtod(fields[12], &stime)) {
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      usage.cpu_seconds = (utime + stime) / ticks;
      usage.system_seconds = stime / ticks;
    }
  }
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(
           absl::StrCat("/proc/", pid, "/task"), error)) {
    std::ifstream status(entry.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      absl::string_view view = line;
      if (absl::ConsumePrefix(&view, "voluntary_ctxt_switches:") ||
          absl::ConsumePrefix(&view, "nonvoluntary_ctxt_switches:")) {
        double count = 0;
        if (absl::SimpleAtod(absl::StripAsciiWhitespace(view), &count)) {
          usage.switches += count;
        }
      }
    }
  }
  return usage;
}

// ---------------------------------------------------------------------------
// CPU pinning

cpu_set_t CpuSet(const std::string& cpus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (absl::string_view cpu : absl::StrSplit(cpus, ',')) {
    int index = 0;
    if (absl::SimpleAtoi(cpu, &index)) CPU_SET(index, &set);
  }
  return set;
}

// Pins every thread of `pid` (threads started later inherit it from their
// creator). Twice, for threads started meanwhile.
void PinProcess(pid_t pid, const std::string& cpus) {
  const cpu_set_t set = CpuSet(cpus);
  for (int pass = 0; pass < 2; ++pass) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(
             absl::StrCat("/proc/", pid, "/task"), error)) {
      int tid = 0;
      if (absl::SimpleAtoi(entry.path().filename().string(), &tid)) {
        sched_setaffinity(tid, sizeof(set), &set);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Child processes

class Process {
 public:
  Process() = default;
  ~Process() { Stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void Start(const std::vector<std::string>& argv, const std::string& log) {
    const pid_t pid = fork();
    if (pid < 0) Die("fork failed");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
      std::vector<char*> args;
      for (const std::string& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
      }
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    pid_ = pid;
    log_ = log;
  }

  pid_t pid() const { return pid_; }
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }
  std::string Log() const {
    std::ifstream file(log_);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }
  void Stop(absl::Duration grace = absl::Seconds(20)) {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const absl::Time deadline = absl::Now() + grace;
    while (absl::Now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

std::vector<std::string> Pinned(const std::string& cpus,
                                std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"taskset", "-c", cpus});
  return argv;
}

// ---------------------------------------------------------------------------
// Redis

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;
struct RedisContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using RedisPtr = std::unique_ptr<redisContext, RedisContextDeleter>;

ReplyPtr RedisCall(redisContext* context,
                   const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return ReplyPtr(static_cast<redisReply*>(redisCommandArgv(
      context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
}

void RedisAppend(redisContext* context, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(),
                         lengths.data());
}

class BenchRedis {
 public:
  explicit BenchRedis(const std::string& cpus)
      : dir_(MakeTempDir("accord-bench-redis")), port_(FreePort()) {
    process_.Start(
        Pinned(cpus, {"redis-server", "--port", absl::StrCat(port_), "--bind",
                      "127.0.0.1", "--dir", dir_, "--appendonly", "yes",
                      "--appendfsync", "everysec", "--save", "", "--daemonize",
                      "no", "--protected-mode", "yes"}),
        dir_ + "/redis.log");
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (true) {
      RedisPtr context = Connect(absl::Milliseconds(200));
      if (context != nullptr) {
        ReplyPtr pong = RedisCall(context.get(), {"PING"});
        if (pong != nullptr && pong->type == REDIS_REPLY_STATUS) break;
      }
      if (absl::Now() > deadline) Die("redis-server did not start");
      absl::SleepFor(absl::Milliseconds(20));
    }
    Verify();
  }
  ~BenchRedis() {
    process_.Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  RedisPtr Connect(absl::Duration timeout = absl::Seconds(2)) const {
    redisContext* context =
        redisConnectWithTimeout("127.0.0.1", port_, absl::ToTimeval(timeout));
    if (context == nullptr || context->err != 0) {
      if (context != nullptr) redisFree(context);
      return nullptr;
    }
    redisSetTimeout(context, absl::ToTimeval(absl::Seconds(30)));
    return RedisPtr(context);
  }
  std::string url() const { return absl::StrCat("redis://127.0.0.1:", port_); }
  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }

 private:
  // The Redis we talk to is the one we started, with the persistence the
  // figures claim.
  void Verify() {
    RedisPtr context = Connect();
    ReplyPtr info = RedisCall(context.get(), {"INFO", "server"});
    if (info == nullptr || info->type != REDIS_REPLY_STRING) {
      Die("INFO server failed");
    }
    const std::string text(info->str, info->len);
    const std::string expected = absl::StrCat("process_id:", process_.pid());
    if (!absl::StrContains(text, expected + "\r\n")) {
      Die(absl::StrCat("port ", port_, " is not the redis-server we started"));
    }
    for (const auto& [name, value] :
         std::vector<std::pair<std::string, std::string>>{
             {"appendonly", "yes"}, {"appendfsync", "everysec"}}) {
      ReplyPtr reply = RedisCall(context.get(), {"CONFIG", "GET", name});
      if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY ||
          reply->elements != 2 ||
          std::string(reply->element[1]->str, reply->element[1]->len) !=
              value) {
        Die(absl::StrCat("redis ", name, " is not ", value));
      }
    }
  }

  std::string dir_;
  int port_;
  Process process_;
};

// ---------------------------------------------------------------------------
// Services

// A server process: an Accord service or the echo server, optionally under
// a wrapper (valgrind).
class Server {
 public:
  // `command` is the binary and its flags; --listen (and for Accord
  // services --metrics_listen and --insecure_no_auth) are added.
  Server(std::string name, std::vector<std::string> command,
         const std::string& cpus, std::vector<std::string> wrapper = {},
         bool accord = true)
      : name_(std::move(name)),
        dir_(MakeTempDir("accord-bench-" + name_)),
        port_(FreePort()),
        metrics_port_(accord ? FreePort() : 0) {
    std::vector<std::string> argv = wrapper;
    argv.push_back(command.front());
    argv.push_back(absl::StrCat("--listen=127.0.0.1:", port_));
    if (accord) {
      argv.push_back(
          absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_));
      argv.push_back("--insecure_no_auth");
    }
    argv.insert(argv.end(), command.begin() + 1, command.end());
    process_.Start(Pinned(cpus, argv), dir_ + "/server.log");
    const absl::Duration timeout =
        wrapper.empty() ? absl::Seconds(20) : absl::Seconds(120);
    if (accord) {
      const absl::Status ready = WaitForHealth(Channel(), true, timeout);
      if (!ready.ok()) {
        Die(absl::StrCat(name_, " did not become SERVING: ", ready.ToString(),
                         "\n", process_.Log()));
      }
    } else {
      WaitForEcho(timeout);
    }
  }
  ~Server() {
    process_.Stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int metrics_port() const { return metrics_port_; }
  pid_t pid() const { return process_.pid(); }
  const std::string& dir() const { return dir_; }
  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }
  void Stop() { process_.Stop(); }

 private:
  void WaitForEcho(absl::Duration timeout) {
    grpc::GenericStub stub(Channel());
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(1));
      grpc::Slice slice(std::string("ping"));
      grpc::ByteBuffer request(&slice, 1);
      grpc::ByteBuffer response;
      std::promise<grpc::Status> done;
      stub.UnaryCall(&context, kEchoMethod, grpc::StubOptions(), &request,
                     &response,
                     [&done](grpc::Status status) { done.set_value(status); });
      if (done.get_future().get().ok()) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    Die(absl::StrCat(name_, " did not answer: ", process_.Log()));
  }

  std::string name_;
  std::string dir_;
  int port_;
  int metrics_port_;
  Process process_;
};

// Counters from a service's /metrics, summed over the series whose labels
// contain `label_filter`.
class MetricsSnapshot {
 public:
  static MetricsSnapshot Scrape(int port) {
    MetricsSnapshot snapshot;
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    auto response = client.Get("/metrics");
    if (!response || response->status != 200) return snapshot;
    for (absl::string_view line : absl::StrSplit(response->body, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      const size_t space = line.rfind(' ');
      if (space == absl::string_view::npos) continue;
      double value = 0;
      if (!absl::SimpleAtod(line.substr(space + 1), &value)) continue;
      snapshot.lines_.emplace_back(std::string(line.substr(0, space)), value);
    }
    return snapshot;
  }
  double Sum(absl::string_view name,
             absl::string_view label_filter = "") const {
    double total = 0;
    for (const auto& [series, value] : lines_) {
      const bool name_matches =
          series == name || absl::StartsWith(series, absl::StrCat(name, "{"));
      if (name_matches && absl::StrContains(series, label_filter)) {
        total += value;
      }
    }
    return total;
  }

 private:
  std::vector<std::pair<std::string, double>> lines_;
};

// ---------------------------------------------------------------------------
// gRPC client: closed and open loops over raw bytes, so the client does the
// same work for the echo baseline and for the suite.

struct Workload {
  std::string method;
  // Serialized request number `seq`.
  std::function<std::string(uint64_t seq)> request;
  std::shared_ptr<std::atomic<uint64_t>> seq =
      std::make_shared<std::atomic<uint64_t>>(0);
};

class Client {
 public:
  Client(const std::string& target, int channels) {
    for (int i = 0; i < channels; ++i) {
      grpc::ChannelArguments args;
      // One TCP connection per channel.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("accord.bench.channel", i);
      auto channel = grpc::CreateCustomChannel(
          target, grpc::InsecureChannelCredentials(), args);
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
      channels_.push_back(std::move(channel));
    }
  }

  // `outstanding` calls at all times, spread over the channels.
  // With `limit` > 0, stops after that many calls instead of after
  // `duration`.
  Block ClosedLoop(const Workload& workload, int outstanding,
                   absl::Duration duration, uint64_t limit = 0) {
    Loop loop(workload, stubs_);
    loop.limit = limit;
    const int64_t start = SteadyNanos();
    int started = 0;
    for (int slot = 0; slot < outstanding; ++slot) {
      if (limit > 0 && loop.issued.fetch_add(1) >= limit) break;
      ++started;
    }
    loop.active = started;
    for (int slot = 0; slot < started; ++slot) loop.Start(slot, 0);
    if (limit == 0) {
      absl::SleepFor(duration);
      loop.stopping = true;
    }
    const uint64_t ok_at_end = loop.ok.load();
    double seconds = (SteadyNanos() - start) / 1e9;
    loop.WaitIdle();
    if (limit > 0) seconds = (SteadyNanos() - start) / 1e9;
    Block block = loop.Result();
    block.qps = (limit > 0 ? block.ok : ok_at_end) / seconds;
    return block;
  }

  // Calls sent at `rate` per second whatever the answers; latency counted
  // from when each call was due, so a stalled server shows in it.
  Block OpenLoop(const Workload& workload, double rate,
                 absl::Duration duration) {
    Loop loop(workload, stubs_);
    loop.open = true;
    const int64_t start = SteadyNanos();
    const int64_t total =
        static_cast<int64_t>(rate * absl::ToDoubleSeconds(duration));
    constexpr int kMaxInFlight = 4096;
    uint64_t skipped = 0;
    for (int64_t i = 0; i < total; ++i) {
      const int64_t due = start + static_cast<int64_t>(i * 1e9 / rate);
      int64_t now = SteadyNanos();
      if (due - now > 200000) {
        absl::SleepFor(absl::Nanoseconds(due - now - 100000));
        now = SteadyNanos();
      }
      while (now < due) {
        std::this_thread::yield();
        now = SteadyNanos();
      }
      if (loop.active.load() >= kMaxInFlight) {
        ++skipped;
        continue;
      }
      loop.active.fetch_add(1);
      loop.Start(static_cast<int>(i), due);
    }
    const double seconds = (SteadyNanos() - start) / 1e9;
    loop.WaitIdle();
    Block block = loop.Result();
    block.qps = block.ok / seconds;
    block.errors += skipped;
    if (skipped > 0 && block.first_error.empty()) {
      block.first_error = "client skipped calls: too many in flight";
    }
    return block;
  }

  // One call, waiting for its answer.
  // `initial_metadata`, when set, receives the server's initial metadata.
  grpc::Status Call(
      const std::string& method, const std::string& request,
      std::string* response,
      std::multimap<std::string, std::string>* initial_metadata = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(60));
    grpc::Slice slice(request);
    grpc::ByteBuffer request_buffer(&slice, 1);
    grpc::ByteBuffer response_buffer;
    std::promise<grpc::Status> done;
    stubs_.front()->UnaryCall(
        &context, method, grpc::StubOptions(), &request_buffer,
        &response_buffer,
        [&done](grpc::Status status) { done.set_value(status); });
    grpc::Status status = done.get_future().get();
    if (initial_metadata != nullptr) {
      for (const auto& [key, value] : context.GetServerInitialMetadata()) {
        initial_metadata->emplace(std::string(key.data(), key.size()),
                                  std::string(value.data(), value.size()));
      }
    }
    if (status.ok() && response != nullptr) {
      std::vector<grpc::Slice> slices;
      (void)response_buffer.Dump(&slices);
      response->clear();
      for (const grpc::Slice& part : slices) {
        response->append(reinterpret_cast<const char*>(part.begin()),
                         part.size());
      }
    }
    return status;
  }

 private:
  struct Loop;
  struct PendingCall {
    grpc::ClientContext context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    int64_t start = 0;
    int slot = 0;
  };

  struct Loop {
    Loop(const Workload& w,
         const std::vector<std::unique_ptr<grpc::GenericStub>>& s)
        : workload(w), stubs(s) {}

    void Start(int slot, int64_t due) {
      auto* call = new PendingCall;
      call->slot = slot;
      const std::string bytes = workload.request(workload.seq->fetch_add(1));
      grpc::Slice slice(bytes);
      call->request = grpc::ByteBuffer(&slice, 1);
      call->context.set_deadline(std::chrono::system_clock::now() +
                                 std::chrono::seconds(60));
      call->start = due != 0 ? due : SteadyNanos();
      stubs[static_cast<size_t>(slot) % stubs.size()]->UnaryCall(
          &call->context, workload.method, grpc::StubOptions(), &call->request,
          &call->response,
          [this, call](grpc::Status status) { Done(call, status); });
    }

    void Done(PendingCall* call, const grpc::Status& status) {
      const int64_t end = SteadyNanos();
      if (status.ok()) {
        ok.fetch_add(1);
        latencies.Add((end - call->start) / 1e3);
      } else {
        errors.fetch_add(1);
        std::lock_guard<std::mutex> lock(mutex);
        if (first_error.empty()) {
          first_error =
              absl::StrCat(status.error_code(), ": ", status.error_message());
        }
      }
      const int slot = call->slot;
      delete call;
      if (!open && !stopping.load() &&
          (limit == 0 || issued.fetch_add(1) < limit)) {
        Start(slot, 0);
        return;
      }
      if (active.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(mutex);
        idle.notify_all();
      }
    }

    void WaitIdle() {
      std::unique_lock<std::mutex> lock(mutex);
      if (!idle.wait_for(lock, std::chrono::seconds(120),
                         [this] { return active.load() == 0; })) {
        Die("calls did not finish within 120 s");
      }
    }

    Block Result() {
      Block block;
      const std::vector<double> values = latencies.Values();
      block.ok = ok.load();
      block.errors = errors.load();
      block.p50_us = Percentile(values, 0.5);
      block.p99_us = Percentile(values, 0.99);
      block.first_error = first_error;
      return block;
    }

    const Workload& workload;
    const std::vector<std::unique_ptr<grpc::GenericStub>>& stubs;
    bool open = false;
    uint64_t limit = 0;
    std::atomic<uint64_t> issued{0};
    std::atomic<bool> stopping{false};
    std::atomic<int> active{0};
    std::atomic<uint64_t> ok{0};
    std::atomic<uint64_t> errors{0};
    Latencies latencies;
    std::mutex mutex;
    std::condition_variable idle;
    std::string first_error;
  };

  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
};

// ---------------------------------------------------------------------------
// Redis's own round trip: hiredis loops, `connections` threads each with
// `depth` requests pipelined.

struct RedisWorkload {
  // Appends the commands of request `seq`; returns how many replies follow.
  std::function<int(redisContext*, uint64_t seq)> append;
  std::shared_ptr<std::atomic<uint64_t>> seq =
      std::make_shared<std::atomic<uint64_t>>(0);
};

Block RedisLoop(const BenchRedis& redis, const RedisWorkload& workload,
                int connections, int depth, absl::Duration duration) {
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> errors{0};
  Latencies latencies;
  std::mutex mutex;
  std::string first_error;
  std::vector<std::thread> threads;
  const int64_t start = SteadyNanos();
  std::atomic<uint64_t> ok_at_end{0};
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      RedisPtr context = redis.Connect();
      if (context == nullptr) Die("cannot connect to redis");
      while (!stopping.load()) {
        const int64_t begin = SteadyNanos();
        int replies = 0;
        for (int d = 0; d < depth; ++d) {
          replies += workload.append(context.get(), workload.seq->fetch_add(1));
        }
        bool failed = false;
        for (int r = 0; r < replies; ++r) {
          void* raw = nullptr;
          if (redisGetReply(context.get(), &raw) != REDIS_OK) {
            Die(absl::StrCat("redis: ", context->errstr));
          }
          ReplyPtr reply(static_cast<redisReply*>(raw));
          if (reply->type == REDIS_REPLY_ERROR) {
            failed = true;
            std::lock_guard<std::mutex> lock(mutex);
            if (first_error.empty()) first_error.assign(reply->str, reply->len);
          }
        }
        const double micros = (SteadyNanos() - begin) / 1e3;
        if (failed) {
          errors.fetch_add(depth);
        } else {
          ok.fetch_add(depth);
          // Per request when one is in flight; per batch otherwise.
          latencies.Add(micros);
        }
      }
    });
  }
  absl::SleepFor(duration);
  ok_at_end = ok.load();
  stopping = true;
  const double seconds = (SteadyNanos() - start) / 1e9;
  for (std::thread& thread : threads) thread.join();
  Block block;
  const std::vector<double> values = latencies.Values();
  block.ok = ok.load();
  block.errors = errors.load();
  block.qps = ok_at_end.load() / seconds;
  block.p50_us = Percentile(values, 0.5);
  block.p99_us = Percentile(values, 0.99);
  block.first_error = first_error;
  return block;
}

// ---------------------------------------------------------------------------
// Alternating blocks

struct Arm {
  std::string name;
  std::function<Block(absl::Duration)> run;
};

struct Series {
  std::string name;
  std::vector<Block> blocks;
  std::vector<double> Qps() const {
    std::vector<double> values;
    for (const Block& block : blocks) values.push_back(block.qps);
    return values;
  }
  std::vector<double> P50() const {
    std::vector<double> values;
    for (const Block& block : blocks) values.push_back(block.p50_us);
    return values;
  }
  std::vector<double> P99() const {
    std::vector<double> values;
    for (const Block& block : blocks) values.push_back(block.p99_us);
    return values;
  }
  uint64_t Errors() const {
    uint64_t total = 0;
    for (const Block& block : blocks) total += block.errors;
    return total;
  }
  std::string FirstError() const {
    for (const Block& block : blocks) {
      if (!block.first_error.empty()) return block.first_error;
    }
    return "";
  }
};

// Per-block ratios a[i] / b[i].
std::vector<double> Ratios(const std::vector<double>& a,
                           const std::vector<double>& b) {
  std::vector<double> ratios;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (b[i] > 0) ratios.push_back(a[i] / b[i]);
  }
  return ratios;
}

std::map<std::string, Series> Alternate(const std::string& title,
                                        const std::vector<Arm>& arms,
                                        const Options& options) {
  Progress(absl::StrCat(title, ": warm-up"));
  for (const Arm& arm : arms) arm.run(options.warmup);
  std::map<std::string, Series> series;
  for (const Arm& arm : arms) series[arm.name].name = arm.name;
  for (int b = 0; b < options.blocks; ++b) {
    Progress(absl::StrCat(title, ": block ", b + 1, "/", options.blocks));
    for (const Arm& arm : arms) {
      series[arm.name].blocks.push_back(arm.run(options.block));
    }
  }
  for (const auto& [name, one] : series) {
    if (one.Errors() > 0) {
      Progress(absl::StrCat("  ", name, ": ", one.Errors(),
                            " errors, first: ", one.FirstError()));
    }
  }
  return series;
}

// ---------------------------------------------------------------------------
// Report

struct Row {
  std::string figure;
  std::string measured;
  std::string target;
  std::string verdict;  // "met", "NOT met", "" (no target)
};

class Report {
 public:
  void Section(const std::string& title) {
    rows_.push_back({"## " + title, "", "", ""});
  }
  void Add(Row row) {
    std::printf("  %-58s %s%s%s\n", row.figure.c_str(), row.measured.c_str(),
                row.target.empty() ? "" : ("   target " + row.target).c_str(),
                row.verdict.empty() ? "" : ("   " + row.verdict).c_str());
    std::fflush(stdout);
    rows_.push_back(std::move(row));
  }
  void Note(const std::string& note) {
    std::printf("  note: %s\n", note.c_str());
    notes_.push_back(note);
  }
  void PrintMarkdown() const {
    std::printf("\n=== summary (markdown) ===\n");
    bool open_table = false;
    for (const Row& row : rows_) {
      if (absl::StartsWith(row.figure, "## ")) {
        std::printf("\n**%s**\n\n", row.figure.substr(3).c_str());
        std::printf("| Figure | Measured: median (min–max) | Target | |\n");
        std::printf("| --- | --- | --- | --- |\n");
        open_table = true;
        continue;
      }
      if (!open_table) continue;
      std::printf("| %s | %s | %s | %s |\n", row.figure.c_str(),
                  row.measured.c_str(), row.target.c_str(),
                  row.verdict.c_str());
    }
    if (!notes_.empty()) {
      std::printf("\nNotes:\n");
      for (const std::string& note : notes_) {
        std::printf("- %s\n", note.c_str());
      }
    }
  }

 private:
  std::vector<Row> rows_;
  std::vector<std::string> notes_;
};

std::string Verdict(bool met) { return met ? "met" : "NOT met"; }

// ---------------------------------------------------------------------------
// Data

std::string PartyName(int index) {
  return absl::StrFormat("institutions/bench-p%02d", index % kParties);
}
constexpr char kActingBody[] = "institutions/bench-parliament";

Institution MakeInstitution(int index) {
  Institution institution;
  const std::string country = kCountries[index % std::size(kCountries)];
  auto add_name = [&](const std::string& text, InstitutionName::Type type,
                      const std::string& language) {
    InstitutionName* name = institution.add_names();
    name->set_text(text);
    name->set_type(type);
    name->set_language_code(language);
  };
  add_name(
      absl::StrFormat("Benchmark University of Medical Sciences %02d", index),
      InstitutionName::TYPE_DISPLAY, "en");
  add_name(absl::StrFormat("Университет медицинских наук %02d", index),
           InstitutionName::TYPE_LABEL, "ru");
  add_name(absl::StrFormat("BUMS%02d", index), InstitutionName::TYPE_ACRONYM,
           "en");
  institution.set_kind(Institution::KIND_UNIVERSITY);
  institution.set_country_code(country);
  auto* external = institution.add_external_ids();
  external->set_scheme(institution::v1::ExternalId::SCHEME_WIKIDATA);
  external->set_value(absl::StrCat("Q", 1000000 + index));
  institution.set_website_uri(
      absl::StrFormat("https://bench-p%02d.example.org/", index));
  return institution;
}

std::string SigningDate(uint64_t seq) {
  const absl::CivilDay day =
      absl::CivilDay(2020, 1, 1) + static_cast<int>(seq % 2000);
  return absl::FormatCivilTime(day);
}

constexpr const char* kAreas[] = {"health", "medical-research",
                                  "higher-education", "student-mobility",
                                  "joint-research-projects"};

// A new MOU between two parties, signed by the first on the signing date.
// 1% are treaties, 10% protocols: List filters select on them.
Agreement MakeAgreement(uint64_t seq) {
  Agreement agreement;
  auto* title = agreement.add_titles();
  title->set_text(absl::StrCat(
      "Memorandum of understanding on cooperation in medical research and "
      "education no. ",
      seq));
  title->set_language_code("en");
  auto* title_ru = agreement.add_titles();
  title_ru->set_text(absl::StrCat(
      "Меморандум о взаимопонимании о сотрудничестве в области медицинских "
      "исследований № ",
      seq));
  title_ru->set_language_code("ru");
  agreement.set_kind(seq % 100 == 7 ? Agreement::KIND_TREATY
                     : seq % 10 == 3
                         ? Agreement::KIND_PROTOCOL
                         : Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
  const int first = static_cast<int>(seq % kParties);
  const int second = static_cast<int>((seq + 7) % kParties);
  agreement.add_parties(PartyName(first));
  agreement.add_parties(PartyName(second));
  agreement.set_signing_date(SigningDate(seq));
  agreement.mutable_signing_place()->set_city("Tehran");
  agreement.mutable_signing_place()->set_country_code("IR");
  agreement.add_cooperation_areas(kAreas[seq % std::size(kAreas)]);
  agreement.add_cooperation_areas(kAreas[(seq + 1) % std::size(kAreas)]);
  agreement.add_keywords("benchmark");
  AgreementAction* signature = agreement.add_actions();
  signature->set_party(PartyName(first));
  signature->set_kind(AgreementAction::KIND_SIGNATURE);
  signature->set_action_date(agreement.signing_date());
  return agreement;
}

std::string CreateRequest(uint64_t seq, const std::string& id_prefix,
                          bool with_request_id = true) {
  agreement::v1::CreateAgreementRequest request;
  *request.mutable_agreement() = MakeAgreement(seq);
  if (!id_prefix.empty()) {
    request.set_agreement_id(absl::StrCat(id_prefix, seq));
  }
  if (with_request_id) {
    request.set_request_id(absl::StrCat("bench-", id_prefix, "-", seq, "-",
                                        absl::ToUnixMicros(absl::Now())));
  }
  return request.SerializeAsString();
}

// An approval by the first party's parliament: repeatable, and names an
// institution the agreement service checks with the institution service.
std::string RecordRequest(uint64_t seq, bool with_request_id = true) {
  const uint64_t agreement = seq % kRecordPool;
  agreement::v1::RecordAgreementActionRequest request;
  request.set_agreement(absl::StrCat("agreements/bench-r", agreement));
  AgreementAction* action = request.mutable_action();
  action->set_party(PartyName(static_cast<int>(agreement % kParties)));
  action->set_kind(AgreementAction::KIND_APPROVAL);
  action->set_acting_body(kActingBody);
  action->set_action_date(SigningDate(agreement));
  if (with_request_id) {
    request.set_request_id(absl::StrCat("bench-record-", seq, "-",
                                        absl::ToUnixMicros(absl::Now())));
  }
  return request.SerializeAsString();
}

std::string GetInstitutionRequest(uint64_t seq) {
  institution::v1::GetInstitutionRequest request;
  request.set_name(PartyName(static_cast<int>(seq % kParties)));
  return request.SerializeAsString();
}

std::string GetAgreementRequest(uint64_t seq) {
  agreement::v1::GetAgreementRequest request;
  request.set_name(absl::StrCat("agreements/bench-r", seq % kGetPool));
  return request.SerializeAsString();
}

void CreateInstitutions(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = InstitutionService::NewStub(channel);
  for (int i = 0; i <= kParties; ++i) {
    institution::v1::CreateInstitutionRequest request;
    if (i < kParties) {
      request.set_institution_id(absl::StrFormat("bench-p%02d", i));
      *request.mutable_institution() = MakeInstitution(i);
    } else {
      request.set_institution_id("bench-parliament");
      Institution body = MakeInstitution(0);
      body.set_kind(Institution::KIND_LEGISLATURE);
      body.mutable_names(0)->set_text(
          "Benchmark Islamic Consultative Assembly");
      *request.mutable_institution() = body;
    }
    Institution created;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(120));
    const grpc::Status status =
        stub->CreateInstitution(&context, request, &created);
    if (!status.ok() && status.error_code() != grpc::ALREADY_EXISTS) {
      Die(absl::StrCat("CreateInstitution: ", status.error_message()));
    }
  }
}

// Creates agreements bench-r0 ... bench-r<count-1> (the Record and Get pool).
void CreatePool(Client& client, int count) {
  const Workload pool{kCreateAgreement, [](uint64_t seq) {
                        return CreateRequest(seq, "bench-r");
                      }};
  const Block block = client.ClosedLoop(pool, 32, absl::ZeroDuration(), count);
  if (block.errors > 0) {
    Die(absl::StrCat("creating the agreement pool: ", block.first_error));
  }
}

std::string MedianText(const Spread& spread) {
  return absl::StrFormat("%.0f", spread.median);
}

// ---------------------------------------------------------------------------
// Instructions (callgrind)

std::vector<std::string> CallgrindWrapper(const std::string& out_file) {
  return {"valgrind",
          "--tool=callgrind",
          "--instr-atstart=yes",
          "--compress-strings=no",
          "--compress-pos=no",
          absl::StrCat("--callgrind-out-file=", out_file)};
}

// Dumps the counters of the process under callgrind (which zeroes them) and
// returns the instructions of that dump.
absl::StatusOr<uint64_t> DumpInstructions(pid_t pid,
                                          const std::string& out_file) {
  const std::string dir = std::filesystem::path(out_file).parent_path();
  const std::string base = std::filesystem::path(out_file).filename();
  std::set<std::string> before;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    before.insert(entry.path().string());
  }
  const std::string command =
      absl::StrCat("callgrind_control -d ", pid, " >/dev/null 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` failed"));
  }
  // The dump is written by the target; wait for the new file to hold its
  // totals.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const std::string path = entry.path().string();
      if (before.count(path) > 0 ||
          !absl::StartsWith(entry.path().filename().string(), base)) {
        continue;
      }
      std::ifstream file(path);
      std::string line;
      while (std::getline(file, line)) {
        absl::string_view view = line;
        if (absl::ConsumePrefix(&view, "totals:") ||
            absl::ConsumePrefix(&view, "summary:")) {
          uint64_t total = 0;
          if (absl::SimpleAtoi(absl::StripAsciiWhitespace(view), &total)) {
            return total;
          }
        }
      }
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError("callgrind dump did not appear");
}

// Runs `count` calls one at a time.
void Drive(Client& client, const Workload& workload, int count) {
  for (int i = 0; i < count; ++i) {
    const std::string request = workload.request(workload.seq->fetch_add(1));
    const grpc::Status status = client.Call(workload.method, request, nullptr);
    if (!status.ok()) {
      Die(absl::StrCat(workload.method, ": ", status.error_message()));
    }
  }
}

struct InstructionFigures {
  double echo = 0;
  double get = 0;
  double create_agreement = 0;    // agreement server per CreateAgreement
  double create_institution = 0;  // institution server per CreateAgreement
};

// Server instructions per request. After a warm-up (and start-up) the
// counters are zeroed by a dump; then N calls, dump (A), 2N calls, dump (B),
// `repeats` times. Reported: the median of (A + B) / 3N. The fixed cost of
// an interval (the dump itself, timers) is ~20-50k instructions, under 0.2%
// of 3N calls; the difference of the two run lengths, (B - A) / N, cancels
// it exactly but doubles the run-to-run noise (±3% against ±1%), so it is
// printed as a cross-check only.
InstructionFigures MeasureInstructions(const BenchRedis& redis, int n,
                                       int create_n, int repeats) {
  InstructionFigures figures;
  const std::string dir = MakeTempDir("accord-bench-callgrind");
  const std::string echo_out = dir + "/echo.cg";
  const std::string institution_out = dir + "/institution.cg";
  const std::string agreement_out = dir + "/agreement.cg";
  Progress("instructions: starting servers under callgrind");
  auto institution = std::make_unique<Server>(
      "institution-cg",
      std::vector<std::string>{BinaryPath("accord-institution"),
                               absl::StrCat("--redis=", redis.url())},
      "0,1", CallgrindWrapper(institution_out));
  auto agreement = std::make_unique<Server>(
      "agreement-cg",
      std::vector<std::string>{
          BinaryPath("accord-agreement"), absl::StrCat("--redis=", redis.url()),
          absl::StrCat("--institution_target=", institution->address()),
          "--institution_deadline=60s"},
      "0,1", CallgrindWrapper(agreement_out));
  CreateInstitutions(institution->Channel());
  Client institution_client(institution->address(), 1);
  std::string get_response;
  if (!institution_client
           .Call(kGetInstitution, GetInstitutionRequest(0), &get_response)
           .ok()) {
    Die("GetInstitution failed");
  }
  auto echo = std::make_unique<Server>(
      "echo-cg",
      std::vector<std::string>{
          BinaryPath("bench_echo_server"),
          absl::StrCat("--response_bytes=", get_response.size())},
      "0,1", CallgrindWrapper(echo_out), /*accord=*/false);

  Client echo_client(echo->address(), 1);
  Client agreement_client(agreement->address(), 1);

  auto per_call = [&](const char* what, Client& client,
                      const Workload& workload, int calls,
                      const std::vector<std::pair<pid_t, std::string>>& targets)
      -> std::vector<double> {
    Progress(absl::StrCat("instructions: ", what));
    Drive(client, workload, 50);
    auto dump_all = [&targets] {
      std::vector<double> totals;
      for (const auto& [pid, out] : targets) {
        absl::StatusOr<uint64_t> total = DumpInstructions(pid, out);
        if (!total.ok()) Die(total.status().ToString());
        totals.push_back(static_cast<double>(*total));
      }
      return totals;
    };
    std::vector<std::vector<double>> averages(targets.size());
    std::vector<std::vector<double>> slopes(targets.size());
    for (int r = 0; r < repeats; ++r) {
      dump_all();
      Drive(client, workload, calls);
      const std::vector<double> once = dump_all();
      Drive(client, workload, 2 * calls);
      const std::vector<double> twice = dump_all();
      for (size_t t = 0; t < targets.size(); ++t) {
        averages[t].push_back((once[t] + twice[t]) / (3.0 * calls));
        slopes[t].push_back((twice[t] - once[t]) / calls);
      }
    }
    std::vector<double> result;
    for (size_t t = 0; t < targets.size(); ++t) {
      std::string text;
      for (size_t r = 0; r < averages[t].size(); ++r) {
        absl::StrAppend(&text, absl::StrFormat(" %.0f (difference %.0f)",
                                               averages[t][r], slopes[t][r]));
      }
      Progress(absl::StrCat("  ", targets[t].second, " per call:", text));
      result.push_back(Percentile(averages[t], 0.5));
    }
    return result;
  };

  const Workload echo_get{kEchoMethod, GetInstitutionRequest};
  const Workload get{kGetInstitution, GetInstitutionRequest};
  const Workload create{kCreateAgreement, [](uint64_t seq) {
                          return CreateRequest(seq, "bench-cg");
                        }};
  figures.echo =
      per_call("echo", echo_client, echo_get, n, {{echo->pid(), echo_out}})[0];
  figures.get = per_call("institution Get", institution_client, get, n,
                         {{institution->pid(), institution_out}})[0];
  const std::vector<double> create_figures =
      per_call("agreement Create", agreement_client, create, create_n,
               {{agreement->pid(), agreement_out},
                {institution->pid(), institution_out}});
  figures.create_agreement = create_figures[0];
  figures.create_institution = create_figures[1];
  agreement.reset();
  institution.reset();
  echo.reset();
  if (getenv("ACCORD_BENCH_KEEP_CALLGRIND") != nullptr) {
    Progress("callgrind files kept in " + dir);
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  return figures;
}

void PrintInstructions(const InstructionFigures& figures, Report& report) {
  std::printf("INSTR echo_rpc %.0f\n", figures.echo);
  std::printf("INSTR institution_get %.0f\n", figures.get);
  std::printf("INSTR agreement_create %.0f\n", figures.create_agreement);
  std::printf("INSTR institution_per_create %.0f\n",
              figures.create_institution);
  report.Section("Server instructions per request (callgrind, one in flight)");
  report.Add({"bare echo server, per RPC",
              absl::StrFormat("%.1fk", figures.echo / 1e3), "", ""});
  const double get_ratio = figures.get / figures.echo;
  report.Add(
      {"institution server, per Get",
       absl::StrFormat("%.1fk = %.2f× echo", figures.get / 1e3, get_ratio),
       "≤ 1.5× echo", Verdict(get_ratio <= 1.5)});
  const double create_ratio = figures.create_agreement / figures.echo;
  report.Add({"agreement server, per CreateAgreement",
              absl::StrFormat("%.1fk = %.2f× echo",
                              figures.create_agreement / 1e3, create_ratio),
              "≤ 2.5× echo", Verdict(create_ratio <= 2.5)});
  const double both =
      (figures.create_agreement + figures.create_institution) / figures.echo;
  report.Add(
      {"agreement + institution servers, per CreateAgreement",
       absl::StrFormat(
           "%.1fk = %.2f× echo",
           (figures.create_agreement + figures.create_institution) / 1e3, both),
       "", ""});
}

// ---------------------------------------------------------------------------
// The run

int Run(const Options& options) {
  Report report;
  const absl::Time started = absl::Now();
  // The client (this process and every thread it starts) on its core;
  // servers are started under taskset on theirs.
  PinProcess(getpid(), options.client_cpus);
  std::printf(
      "accord_bench: %s, load average at start: %s\n",
      absl::FormatTime(absl::RFC3339_sec, started, absl::UTCTimeZone()).c_str(),
      [] {
        std::ifstream file("/proc/loadavg");
        std::string line;
        std::getline(file, line);
        return line;
      }()
          .c_str());
  std::fflush(stdout);

  BenchRedis redis(options.server_cpus);
  Progress(absl::StrCat("redis-server pid ", redis.pid(), " on port ",
                        redis.port(), " (appendfsync everysec) verified"));

  if (options.instructions_only) {
    PrintInstructions(MeasureInstructions(
                          redis, static_cast<int>(options.instruction_requests),
                          static_cast<int>(options.instruction_creates),
                          static_cast<int>(options.instruction_repeats)),
                      report);
    return 0;
  }

  auto institution = std::make_unique<Server>(
      "institution",
      std::vector<std::string>{BinaryPath("accord-institution"),
                               absl::StrCat("--redis=", redis.url())},
      options.server_cpus);
  auto agreement = std::make_unique<Server>(
      "agreement",
      std::vector<std::string>{
          BinaryPath("accord-agreement"), absl::StrCat("--redis=", redis.url()),
          absl::StrCat("--institution_target=", institution->address())},
      options.server_cpus);
  Progress("services SERVING; creating institutions and the agreement pool");
  CreateInstitutions(institution->Channel());

  const int outstanding = static_cast<int>(options.outstanding);
  const int channels = static_cast<int>(options.channels);
  Client institution_client(institution->address(), channels);
  Client agreement_client(agreement->address(), channels);
  CreatePool(agreement_client, kRecordPool);

  // Response sizes, so the echo servers answer with as many bytes.
  std::string bytes;
  if (!institution_client
           .Call(kGetInstitution, GetInstitutionRequest(0), &bytes)
           .ok()) {
    Die("GetInstitution failed");
  }
  const size_t institution_bytes = bytes.size();
  if (!agreement_client.Call(kGetAgreement, GetAgreementRequest(1), &bytes)
           .ok()) {
    Die("GetAgreement failed");
  }
  const size_t agreement_bytes = bytes.size();
  std::printf(
      "payloads: GetInstitution request %zu B, response %zu B; GetAgreement "
      "response %zu B; CreateAgreement request %zu B; RecordAgreementAction "
      "request %zu B\n",
      GetInstitutionRequest(0).size(), institution_bytes, agreement_bytes,
      CreateRequest(0, "x").size(), RecordRequest(0).size());

  auto echo_institution = std::make_unique<Server>(
      "echo-institution",
      std::vector<std::string>{
          BinaryPath("bench_echo_server"),
          absl::StrCat("--response_bytes=", institution_bytes)},
      options.server_cpus, std::vector<std::string>{}, /*accord=*/false);
  auto echo_agreement = std::make_unique<Server>(
      "echo-agreement",
      std::vector<std::string>{
          BinaryPath("bench_echo_server"),
          absl::StrCat("--response_bytes=", agreement_bytes)},
      options.server_cpus, std::vector<std::string>{}, /*accord=*/false);
  Client echo_i_client(echo_institution->address(), channels);
  Client echo_a_client(echo_agreement->address(), channels);

  // Workloads.
  const Workload echo_get_institution{kEchoMethod, GetInstitutionRequest};
  const Workload get_institution{kGetInstitution, GetInstitutionRequest};
  const Workload echo_get_agreement{kEchoMethod, GetAgreementRequest};
  const Workload get_agreement{kGetAgreement, GetAgreementRequest};
  const Workload echo_create{
      kEchoMethod, [](uint64_t seq) { return CreateRequest(seq, ""); }};
  const Workload create{kCreateAgreement,
                        [](uint64_t seq) { return CreateRequest(seq, ""); }};
  const Workload echo_record{kEchoMethod,
                             [](uint64_t seq) { return RecordRequest(seq); }};
  const Workload record{kRecordAction,
                        [](uint64_t seq) { return RecordRequest(seq); }};

  // Redis's own work for the same requests.
  const RedisWorkload redis_hmget{[](redisContext* context, uint64_t seq) {
    RedisAppend(
        context,
        {"HMGET", absl::StrCat("accord:r:", PartyName(static_cast<int>(seq))),
         "data", "etag", "deleted"});
    return 1;
  }};
  const std::string record_data(agreement_bytes, 'd');
  const std::string event_data(agreement_bytes + 300, 'e');
  const RedisWorkload redis_write{[&record_data, &event_data](
                                      redisContext* context, uint64_t seq) {
    const std::string name = absl::StrCat("agreements/bench-w", seq % 4096);
    RedisAppend(context, {"MULTI"});
    RedisAppend(context,
                {"HSET", absl::StrCat("bench:r:", name), "data", record_data,
                 "etag", "0123456789abcdef", "deleted", "0"});
    RedisAppend(context, {"ZADD", "bench:index", "0", name});
    RedisAppend(context,
                {"XADD", "bench:audit", "*", "principal", "bench", "method",
                 kCreateAgreement, "resource", name, "time",
                 "2025-04-25T00:00:00Z", "new_etag", "0123456789abcdef"});
    RedisAppend(context, {"XADD", "bench:events", "*", "type",
                          "accord.agreement.v1.recorded", "event", event_data});
    RedisAppend(context, {"PUBLISH", "bench:events:recorded", event_data});
    RedisAppend(context, {"EXEC"});
    return 7;
  }};

  // Adds the server processes' CPU and context switches per call.
  using Processes = std::vector<std::pair<std::string, pid_t>>;
  auto metered = [](Processes processes,
                    std::function<Block(absl::Duration)> run) {
    return [processes, run](absl::Duration d) {
      std::vector<Usage> before;
      for (const auto& process : processes) {
        before.push_back(UsageOf(process.second));
      }
      Block block = run(d);
      if (block.ok == 0) return block;
      for (size_t i = 0; i < processes.size(); ++i) {
        const Usage after = UsageOf(processes[i].second);
        const double cpu_us =
            (after.cpu_seconds - before[i].cpu_seconds) * 1e6 / block.ok;
        block.server_cpu_us += cpu_us;
        block.switches += (after.switches - before[i].switches) / block.ok;
        block.cpu_us_by_process.emplace_back(processes[i].first, cpu_us);
        block.system_us_by_process.emplace_back(
            processes[i].first,
            (after.system_seconds - before[i].system_seconds) * 1e6 / block.ok);
      }
      return block;
    };
  };
  auto closed = [outstanding, &metered](Client& client,
                                        const Workload& workload,
                                        Processes processes) {
    return metered(std::move(processes),
                   [&client, &workload, outstanding](absl::Duration d) {
                     return client.ClosedLoop(workload, outstanding, d);
                   });
  };
  auto single = [](Client& client, const Workload& workload) {
    return [&client, &workload](absl::Duration d) {
      return client.ClosedLoop(workload, 1, d);
    };
  };
  auto redis_loop = [&redis, &metered](const RedisWorkload& workload,
                                       int connections, int depth) {
    return metered({{"redis", redis.pid()}},
                   [&redis, &workload, connections, depth](absl::Duration d) {
                     return RedisLoop(redis, workload, connections, depth, d);
                   });
  };
  const std::pair<std::string, pid_t> redis_process{"redis", redis.pid()};
  const std::pair<std::string, pid_t> institution_process{"institution",
                                                          institution->pid()};
  const std::pair<std::string, pid_t> agreement_process{"agreement",
                                                        agreement->pid()};
  const Processes echo_i_process{{"echo", echo_institution->pid()}};
  const Processes echo_a_process{{"echo", echo_agreement->pid()}};

  // ---- 1. Throughput, pinned ----
  auto throughput = [&](const std::string& label, double* get_qps) {
    const std::string arms_label =
        absl::StrCat("throughput (", outstanding, " outstanding over ",
                     channels, " channels, ", label, ")");
    std::map<std::string, Series> reads = Alternate(
        arms_label + " reads",
        {{"echo-i",
          closed(echo_i_client, echo_get_institution, echo_i_process)},
         {"get-i", closed(institution_client, get_institution,
                          {institution_process, redis_process})},
         {"echo-a", closed(echo_a_client, echo_get_agreement, echo_a_process)},
         {"get-a", closed(agreement_client, get_agreement,
                          {agreement_process, redis_process})},
         {"redis-hmget",
          redis_loop(redis_hmget, channels, outstanding / channels)}},
        options);
    std::map<std::string, Series> writes = Alternate(
        arms_label + " writes",
        {{"echo-c", closed(echo_a_client, echo_create, echo_a_process)},
         {"create",
          closed(agreement_client, create,
                 {agreement_process, institution_process, redis_process})},
         {"echo-r", closed(echo_a_client, echo_record, echo_a_process)},
         {"record",
          closed(agreement_client, record,
                 {agreement_process, institution_process, redis_process})},
         {"redis-write",
          redis_loop(redis_write, channels, outstanding / channels)}},
        options);
    report.Section(absl::StrCat("Throughput, closed loop, ", outstanding,
                                " outstanding over ", channels, " channels, ",
                                label));
    // "server CPU 95 µs/call (institution 87 [kernel 40] + redis 8 [...])".
    auto cost = [](const Series& series) {
      std::vector<double> cpu;
      std::vector<double> switches;
      std::map<std::string, std::vector<double>> by_process;
      std::map<std::string, std::vector<double>> system_by_process;
      std::vector<std::string> order;
      for (const Block& block : series.blocks) {
        cpu.push_back(block.server_cpu_us);
        switches.push_back(block.switches);
        for (const auto& [name, value] : block.cpu_us_by_process) {
          if (by_process[name].empty()) order.push_back(name);
          by_process[name].push_back(value);
        }
        for (const auto& [name, value] : block.system_us_by_process) {
          system_by_process[name].push_back(value);
        }
      }
      std::string parts;
      for (const std::string& name : order) {
        absl::StrAppend(
            &parts, parts.empty() ? " (" : " + ", name, " ",
            absl::StrFormat("%.0f [kernel %.0f]",
                            SpreadOf(by_process[name]).median,
                            SpreadOf(system_by_process[name]).median));
      }
      if (!parts.empty()) parts += ")";
      return absl::StrFormat("; server CPU %.0f µs/call%s, %.1f switches/call",
                             SpreadOf(cpu).median, parts,
                             SpreadOf(switches).median) +
             (series.Errors() > 0
                  ? absl::StrCat(", ", series.Errors(), " errors")
                  : "");
    };
    auto qps_row = [&](const std::string& figure, const Series& series) {
      report.Add({figure,
                  Format(SpreadOf(series.Qps()), 0, "/s") + cost(series), "",
                  ""});
    };
    // Also the ratio of server CPU per call: what the throughput ratio would
    // be if the server's core were the only limit (the echo baseline is
    // often limited by the client instead).
    auto ratio_row = [&](const std::string& figure, const Series& suite,
                         const Series& baseline, double target) {
      const Spread ratio = SpreadOf(Ratios(suite.Qps(), baseline.Qps()));
      std::vector<double> suite_cpu;
      std::vector<double> baseline_cpu;
      for (const Block& block : suite.blocks) {
        suite_cpu.push_back(block.server_cpu_us);
      }
      for (const Block& block : baseline.blocks) {
        baseline_cpu.push_back(block.server_cpu_us);
      }
      const Spread cpu_ratio = SpreadOf(Ratios(baseline_cpu, suite_cpu));
      report.Add({figure,
                  absl::StrFormat("%s/s = %s× echo (by server CPU per call: "
                                  "%.2f×)",
                                  MedianText(SpreadOf(suite.Qps())),
                                  Format(ratio, 2), cpu_ratio.median) +
                      cost(suite),
                  target > 0 ? absl::StrFormat("≥ %.1f× echo", target) : "",
                  target > 0 ? Verdict(ratio.median >= target) : ""});
    };
    qps_row("bare echo (institution-sized response)", reads["echo-i"]);
    ratio_row("GetInstitution", reads["get-i"], reads["echo-i"], 0.7);
    qps_row("bare echo (agreement-sized response)", reads["echo-a"]);
    ratio_row("GetAgreement", reads["get-a"], reads["echo-a"], 0.7);
    qps_row("Redis HMGET (hiredis, same outstanding)", reads["redis-hmget"]);
    qps_row("bare echo (Create-sized request)", writes["echo-c"]);
    ratio_row("CreateAgreement (AOF everysec)", writes["create"],
              writes["echo-c"], 0.4);
    qps_row("bare echo (Record-sized request)", writes["echo-r"]);
    ratio_row("RecordAgreementAction (AOF everysec)", writes["record"],
              writes["echo-r"], 0.4);
    qps_row("Redis MULTI HSET+ZADD+XADD+XADD+PUBLISH EXEC",
            writes["redis-write"]);
    if (get_qps != nullptr) *get_qps = SpreadOf(reads["get-i"].Qps()).median;
  };
  double get_qps = 0;
  throughput(absl::StrCat("pinned: servers on CPU ", options.server_cpus,
                          ", client on CPU ", options.client_cpus),
             &get_qps);

  // ---- 2. Latency at one in flight ----
  {
    std::map<std::string, Series> series =
        Alternate("latency at one in flight",
                  {{"echo-i", single(echo_i_client, echo_get_institution)},
                   {"redis-hmget", redis_loop(redis_hmget, 1, 1)},
                   {"get-i", single(institution_client, get_institution)},
                   {"get-a", single(agreement_client, get_agreement)},
                   {"echo-c", single(echo_a_client, echo_create)},
                   {"redis-write", redis_loop(redis_write, 1, 1)},
                   {"create", single(agreement_client, create)},
                   {"record", single(agreement_client, record)}},
                  options);
    report.Section("Latency at one in flight (µs), pinned");
    auto latency_row = [&](const std::string& figure, const Series& one) {
      report.Add({figure,
                  absl::StrCat("p50 ", Format(SpreadOf(one.P50()), 0), "; p99 ",
                               Format(SpreadOf(one.P99()), 0)),
                  "", ""});
    };
    latency_row("bare echo", series["echo-i"]);
    latency_row("Redis HMGET round trip (hiredis)", series["redis-hmget"]);
    // Target per block: echo p50 + Redis p50 + 50 µs.
    std::vector<double> budget;
    std::vector<double> margin;
    for (size_t b = 0; b < series["get-i"].blocks.size(); ++b) {
      const double allowed = series["echo-i"].blocks[b].p50_us +
                             series["redis-hmget"].blocks[b].p50_us + 50;
      budget.push_back(allowed);
      margin.push_back(series["get-i"].blocks[b].p50_us - allowed);
    }
    const Spread get_p50 = SpreadOf(series["get-i"].P50());
    const Spread allowed = SpreadOf(budget);
    const Spread over = SpreadOf(margin);
    report.Add(
        {"GetInstitution",
         absl::StrCat("p50 ", Format(get_p50, 0), "; p99 ",
                      Format(SpreadOf(series["get-i"].P99()), 0),
                      absl::StrFormat("; p50 − budget %+.0f", over.median)),
         absl::StrFormat("p50 ≤ echo p50 + Redis p50 + 50 = %.0f",
                         allowed.median),
         Verdict(over.median <= 0)});
    latency_row("GetAgreement", series["get-a"]);
    latency_row("bare echo (Create-sized)", series["echo-c"]);
    latency_row("Redis MULTI/EXEC write (hiredis)", series["redis-write"]);
    latency_row("CreateAgreement", series["create"]);
    latency_row("RecordAgreementAction", series["record"]);
  }

  // ---- 3. Open loop ----
  {
    const double rate =
        options.open_loop_rate > 0
            ? static_cast<double>(options.open_loop_rate)
            : std::max(500.0, std::floor(get_qps / 2 / 100) * 100);
    auto open = [rate](Client& client, const Workload& workload) {
      return [&client, &workload, rate](absl::Duration d) {
        return client.OpenLoop(workload, rate, d);
      };
    };
    std::map<std::string, Series> series =
        Alternate(absl::StrFormat("open loop at %.0f/s", rate),
                  {{"echo-i", open(echo_i_client, echo_get_institution)},
                   {"get-i", open(institution_client, get_institution)}},
                  options);
    report.Section(absl::StrFormat(
        "Open loop at %.0f calls/s (%s), latency from the due time (µs), "
        "pinned",
        rate,
        options.open_loop_rate > 0 ? "--open_loop_rate"
                                   : "half the Get throughput above"));
    for (const auto& [figure, name] :
         std::vector<std::pair<std::string, std::string>>{
             {"bare echo", "echo-i"}, {"GetInstitution", "get-i"}}) {
      const Series& one = series[name];
      report.Add({figure,
                  absl::StrCat("p50 ", Format(SpreadOf(one.P50()), 0), "; p99 ",
                               Format(SpreadOf(one.P99()), 0), "; achieved ",
                               MedianText(SpreadOf(one.Qps())), "/s",
                               one.Errors() > 0
                                   ? absl::StrCat(", ", one.Errors(), " errors")
                                   : ""),
                  "", ""});
    }
  }

  // ---- 4. Round trips and institution calls per request ----
  {
    report.Section("Work per request, from the services' /metrics");
    auto count = [&](const std::string& what, Client& client,
                     const Workload& workload, int n) {
      const MetricsSnapshot i0 =
          MetricsSnapshot::Scrape(institution->metrics_port());
      const MetricsSnapshot a0 =
          MetricsSnapshot::Scrape(agreement->metrics_port());
      Drive(client, workload, n);
      const MetricsSnapshot i1 =
          MetricsSnapshot::Scrape(institution->metrics_port());
      const MetricsSnapshot a1 =
          MetricsSnapshot::Scrape(agreement->metrics_port());
      auto delta = [n](const MetricsSnapshot& before,
                       const MetricsSnapshot& after, absl::string_view name,
                       absl::string_view filter = "") {
        return (after.Sum(name, filter) - before.Sum(name, filter)) / n;
      };
      const double agreement_trips =
          delta(a0, a1, "accord_redis_round_trips_total");
      const double institution_trips =
          delta(i0, i1, "accord_redis_round_trips_total");
      const double batch_gets =
          delta(i0, i1, "accord_rpc_requests_total", "BatchGet");
      report.Add(
          {what,
           absl::StrFormat("%.2f institution-service calls; Redis round trips: "
                           "%.2f agreement + %.2f institution = %.2f",
                           batch_gets, agreement_trips, institution_trips,
                           agreement_trips + institution_trips),
           "", ""});
      return std::make_pair(batch_gets, agreement_trips + institution_trips);
    };
    const int n = 200;
    count("GetInstitution", institution_client, get_institution, n);
    count("GetAgreement", agreement_client, get_agreement, n);
    const auto create_work =
        count("CreateAgreement (with request_id)", agreement_client, create, n);
    const Workload create_plain{kCreateAgreement, [](uint64_t seq) {
                                  return CreateRequest(seq, "", false);
                                }};
    count("CreateAgreement (no request_id)", agreement_client, create_plain, n);
    const Workload create_signed{
        kCreateAgreement, [](uint64_t seq) {
          agreement::v1::CreateAgreementRequest request;
          *request.mutable_agreement() = MakeAgreement(seq);
          // A signatory: officials are checked too.
          auto* signatory = request.mutable_agreement()->add_signatories();
          signatory->set_official("officials/bench-rector");
          signatory->set_party(request.agreement().parties(0));
          return request.SerializeAsString();
        }};
    {
      auto stub = InstitutionService::NewStub(institution->Channel());
      institution::v1::CreateOfficialRequest request;
      request.set_official_id("bench-rector");
      auto* name = request.mutable_official()->add_names();
      name->set_text("Benchmark Rector");
      name->set_type(institution::v1::PersonName::TYPE_DISPLAY);
      institution::v1::Official created;
      grpc::ClientContext context;
      (void)stub->CreateOfficial(&context, request, &created);
    }
    count("CreateAgreement with a signatory (no request_id)", agreement_client,
          create_signed, n);
    const auto record_work = count("RecordAgreementAction (with request_id)",
                                   agreement_client, record, n);
    const Workload record_plain{
        kRecordAction, [](uint64_t seq) { return RecordRequest(seq, false); }};
    count("RecordAgreementAction (no request_id)", agreement_client,
          record_plain, n);
    report.Add({"institution-service calls per create for known parties",
                absl::StrFormat("%.2f", create_work.first), "0 (cache)",
                Verdict(create_work.first < 0.05)});
    report.Add({"sequential Redis round trips per CreateAgreement",
                absl::StrFormat("%.2f", create_work.second), "≤ 2",
                Verdict(create_work.second <= 2.05)});
    report.Add({"sequential Redis round trips per RecordAgreementAction",
                absl::StrFormat("%.2f", record_work.second), "≤ 2",
                Verdict(record_work.second <= 2.05)});
  }

  // ---- 5. Shared cores ----
  if (options.shared_core) {
    const std::string all = "0,1";
    for (pid_t pid :
         {redis.pid(), institution->pid(), agreement->pid(),
          echo_institution->pid(), echo_agreement->pid(), getpid()}) {
      PinProcess(pid, all);
    }
    throughput("shared: servers and client on both CPUs", nullptr);
    for (pid_t pid : {redis.pid(), institution->pid(), agreement->pid(),
                      echo_institution->pid(), echo_agreement->pid()}) {
      PinProcess(pid, options.server_cpus);
    }
    PinProcess(getpid(), options.client_cpus);
  }

  // ---- 6. List over many agreements ----
  if (options.list_agreements > 0) {
    RedisPtr context = redis.Connect();
    auto agreements_stored = [&context] {
      ReplyPtr reply =
          RedisCall(context.get(), {"ZCARD", "accord:index:agreements"});
      return reply != nullptr ? reply->integer : 0;
    };
    const long long before = agreements_stored();
    Progress(absl::StrCat("loading agreements: ", before, " stored, target ",
                          options.list_agreements));
    const absl::Time load_start = absl::Now();
    const Workload loader{kCreateAgreement, [](uint64_t seq) {
                            return CreateRequest(seq + 10000000, "", false);
                          }};
    uint64_t load_errors = 0;
    while (agreements_stored() < options.list_agreements) {
      const long long missing = options.list_agreements - agreements_stored();
      const int load_outstanding =
          static_cast<int>(std::min<long long>(128, missing));
      const double seconds = std::min(5.0, std::max(0.05, missing / 3000.0));
      Block block = agreement_client.ClosedLoop(loader, load_outstanding,
                                                absl::Seconds(seconds));
      load_errors += block.errors;
      if (block.ok == 0) Die("loading agreements: " + block.first_error);
    }
    const double load_seconds = absl::ToDoubleSeconds(absl::Now() - load_start);
    const long long stored = agreements_stored();
    report.Section(absl::StrFormat(
        "List over %lld agreements (one in flight, %lld repeats, page_size 50)",
        stored, options.list_repeats));
    report.Add(
        {"loading through CreateAgreement (128 outstanding)",
         absl::StrFormat(
             "%lld created in %.1f s = %.0f/s%s", stored - before, load_seconds,
             (stored - before) / load_seconds,
             load_errors > 0 ? absl::StrCat(", ", load_errors, " errors") : ""),
         "", ""});
    // What the records, their indexes, revisions and events cost Redis.
    if (ReplyPtr info = RedisCall(context.get(), {"INFO", "memory"});
        info != nullptr && info->type == REDIS_REPLY_STRING) {
      const std::string text(info->str, info->len);
      const size_t at = text.find("used_memory:");
      if (at != std::string::npos && stored > 0) {
        const double used = std::strtod(text.c_str() + at + 12, nullptr);
        report.Add({"Redis memory per stored agreement (all keys)",
                    absl::StrFormat("%.0f bytes (%.0f MB for %lld)",
                                    used / stored, used / 1e6, stored),
                    "report", ""});
      }
    }
    // Every indexed filter (common/secondary_index.h), matching many, few
    // or nothing, and the order_by signing_date walk; targets from issue
    // 19: 5 ms p50 per indexed filter, 10 ms with order_by signing_date.
    struct ListCase {
      std::string figure;
      std::string filter;
      std::string order_by;
      double target_ms = 0;  // 0: reported, no target
    };
    const std::string party = PartyName(3);
    const std::vector<ListCase> cases = {
        {"no filter (first page)", "", "", 5},
        {"party_country_codes: \"ZA\" (20% match)",
         "party_country_codes: \"ZA\"", "", 5},
        {"kind = KIND_TREATY (1% match)", "kind = KIND_TREATY", "", 5},
        {"kind = KIND_CONTRACT (no match)", "kind = KIND_CONTRACT", "", 5},
        {"state = STATE_PENDING_SIGNATURE (all match)",
         "state = STATE_PENDING_SIGNATURE", "", 5},
        {"state = STATE_IN_FORCE (no match)", "state = STATE_IN_FORCE", "", 5},
        {"parties: <one of 20> (10% match)",
         absl::StrCat("parties: \"", party, "\""), "", 5},
        {"cooperation_areas: \"health\" (40% match)",
         "cooperation_areas: \"health\"", "", 5},
        {"signing_date in January 2021 (1.5% match)",
         "signing_date >= \"2021-01-01\" AND signing_date < \"2021-02-01\"", "",
         5},
        {"parent_agreement = <absent> (no match)",
         "parent_agreement = \"agreements/none\"", "", 5},
        {"occasion = <absent> (no match)",
         "occasion = \"committees/none/sessions/none\"", "", 5},
        {"kind = KIND_TREATY AND party_country_codes: \"ZA\" (0.2%)",
         "kind = KIND_TREATY AND party_country_codes: \"ZA\"", "", 5},
        {"kind = KIND_CONTRACT, order_by signing_date desc (no match)",
         "kind = KIND_CONTRACT", "signing_date desc", 10},
        {"kind = KIND_TREATY, order_by signing_date desc", "kind = KIND_TREATY",
         "signing_date desc", 10},
        {"party_country_codes: \"ZA\", order_by signing_date",
         "party_country_codes: \"ZA\"", "signing_date", 10},
        {"order_by signing_date desc (no filter)", "", "signing_date desc", 10},
        {"titles.text: \"no. 12345\" (not indexable: scan)",
         "titles.text: \"no. 12345\"", "", 0},
    };
    for (const ListCase& list_case : cases) {
      Progress("list: " + list_case.figure);
      agreement::v1::ListAgreementsRequest request;
      request.set_page_size(50);
      request.set_filter(list_case.filter);
      request.set_order_by(list_case.order_by);
      const std::string request_bytes = request.SerializeAsString();
      std::vector<double> millis;
      int items = 0;
      std::string error;
      std::string plan = "plan unknown";
      for (int r = 0; r < options.list_repeats; ++r) {
        std::string response_bytes;
        std::multimap<std::string, std::string> metadata;
        const int64_t begin = SteadyNanos();
        const grpc::Status status = agreement_client.Call(
            kListAgreements, request_bytes, &response_bytes, &metadata);
        if (const auto it = metadata.find("accord-list-plan");
            it != metadata.end()) {
          plan = it->second;
        }
        const double elapsed = (SteadyNanos() - begin) / 1e6;
        if (!status.ok()) {
          error = status.error_message();
          break;
        }
        agreement::v1::ListAgreementsResponse response;
        response.ParseFromString(response_bytes);
        items = response.agreements_size();
        millis.push_back(elapsed);
      }
      const Spread spread = SpreadOf(millis);
      const bool has_target = list_case.target_ms > 0;
      report.Add(
          {list_case.figure,
           error.empty() ? absl::StrCat(Format(spread, 1, " ms"), ", ", items,
                                        " items, ", plan)
                         : "failed: " + error,
           has_target ? absl::StrFormat("p50 <= %.0f ms", list_case.target_ms)
                      : "report",
           has_target
               ? Verdict(error.empty() && spread.median <= list_case.target_ms)
               : ""});
    }
  }

  // ---- 7. Instructions ----
  if (options.instructions) {
    // The measured servers run alone: stop the others.
    echo_institution.reset();
    echo_agreement.reset();
    agreement.reset();
    institution.reset();
    PrintInstructions(MeasureInstructions(
                          redis, static_cast<int>(options.instruction_requests),
                          static_cast<int>(options.instruction_creates),
                          static_cast<int>(options.instruction_repeats)),
                      report);
  }

  std::ifstream loadavg("/proc/loadavg");
  std::string load;
  std::getline(loadavg, load);
  report.Note(absl::StrFormat("whole run: %.0f s; load average at the end: %s",
                              absl::ToDoubleSeconds(absl::Now() - started),
                              load));
  report.PrintMarkdown();
  return 0;
}

}  // namespace
}  // namespace accord::bench

int main(int argc, char** argv) {
  accord::bench::Options options;
  accord::FlagSet flags("accord_bench",
                        "Measures the Accord suite against same-run baselines "
                        "(docs/performance.md).");
  flags.AddInt("blocks", &options.blocks, 1, 100, "measured blocks per arm");
  flags.AddDuration("block", &options.block, "length of one block");
  flags.AddDuration("warmup", &options.warmup, "warm-up per arm");
  flags.AddInt("outstanding", &options.outstanding, 1, 4096,
               "calls in flight in the closed loop");
  flags.AddInt("channels", &options.channels, 1, 64, "gRPC channels");
  flags.AddInt("list_agreements", &options.list_agreements, 0, 10000000,
               "agreements stored before the List figures (0: skip)");
  flags.AddInt("list_repeats", &options.list_repeats, 1, 100,
               "calls per List case");
  flags.AddBool("shared_core", &options.shared_core,
                "also measure throughput with server and client unpinned");
  flags.AddBool("instructions", &options.instructions,
                "measure instructions per request under callgrind");
  flags.AddBool("instructions_only", &options.instructions_only,
                "only the callgrind figures (bench/instructions_check.sh)");
  flags.AddInt("instruction_requests", &options.instruction_requests, 10,
               100000, "N: the run lengths compared are N and 2N calls");
  flags.AddInt("instruction_creates", &options.instruction_creates, 10, 100000,
               "N for CreateAgreement (slower under callgrind)");
  flags.AddInt("instruction_repeats", &options.instruction_repeats, 1, 100,
               "pairs of runs; the median is reported");
  flags.AddInt("open_loop_rate", &options.open_loop_rate, 0, 1000000,
               "calls/s of the open-loop scenario; 0: half the Get "
               "throughput measured just before");
  flags.AddString("server_cpus", &options.server_cpus,
                  "CPUs of the server processes (taskset -c)");
  flags.AddString("client_cpus", &options.client_cpus, "CPUs of this client");
  flags.ParseOrExit(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  return accord::bench::Run(options);
}
