#include "common/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/support/server_interceptor.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/build_info.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rpc_observation.h"
#include "common/trace_context.h"
#include "common/trace_export.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace accord {
namespace {

constexpr char kLivenessService[] = "liveness";

// The `request_id` field of an Accord request message, if it has one.
std::string RequestIdOf(const google::protobuf::Message& request) {
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr ||
      field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return "";
  }
  return request.GetReflection()->GetString(request, field);
}

// The first value of metadata `key`, or empty.
absl::string_view MetadataValue(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
    absl::string_view key) {
  auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (found == metadata.end()) return "";
  return absl::string_view(found->second.data(), found->second.size());
}

// On every call: starts the call's span from the caller's `traceparent`
// (common/trace_context.h) and makes it current for the handler; answers a
// request that does not decode with INVALID_ARGUMENT
// (UndecodableRequest); and logs and measures the call when its status is
// sent, unless its handler observes itself. A self-observed handler never
// runs for an undecodable request, so that call is observed here too.
class RpcInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcInterceptor(grpc::experimental::ServerRpcInfo* info, bool observe)
      : info_(info),
        // The clock is read only for calls observed here.
        start_(observe ? absl::Now() : absl::InfinitePast()),
        // Only these read their one request before the handler starts; a
        // streaming read's failure ends the stream in the handler's Read.
        request_first_(
            info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY ||
            info->type() ==
                grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING),
        observe_(observe) {}
  ~RpcInterceptor() override { ClearCurrentRpc(&span_); }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      StartSpan(*methods->GetRecvInitialMetadata());
    }
    // gRPC hands the interceptors no message when it failed to parse one.
    if (request_first_ && methods->QueryInterceptionHookPoint(
                              InterceptionHookPoints::POST_RECV_MESSAGE)) {
      void* message = methods->GetRecvMessage();
      if (message == nullptr) {
        undecodable_ = true;
        if (!observe_) start_ = absl::Now();
      } else if (observe_ && absl::StartsWith(info_->method(), "/accord.")) {
        // Accord's methods all take protobuf messages (gRPC's health
        // service does not); the Gets (self-observed) have no request_id.
        span_.request_id =
            RequestIdOf(*static_cast<google::protobuf::Message*>(message));
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      if (undecodable_) {
        methods->ModifySendStatus(UndecodableRequest(info_->method()));
      }
      if (observe_ || undecodable_) {
        ObserveRpc(info_->method(), methods->GetSendStatus(),
                   absl::Now() - start_, info_->server_context()->peer(),
                   &span_);
      }
      ClearCurrentRpc(&span_);
    }
    methods->Proceed();
  }

 private:
  // The caller's span is the parent when its `traceparent` is valid;
  // otherwise this call starts a new trace.
  void StartSpan(
      const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
    std::optional<SpanContext> parent =
        ParseTraceparent(MetadataValue(metadata, "traceparent"));
    if (parent.has_value()) {
      span_.parent_span_id = parent->span_id;
      parent->tracestate =
          CheckedTracestate(MetadataValue(metadata, "tracestate"));
      span_.context = ChildOf(*parent);
    } else {
      span_.context = ChildOf(SpanContext());
    }
    SetCurrentRpc(info_->server_context(), &span_);
  }

  grpc::experimental::ServerRpcInfo* info_;
  absl::Time start_;
  const bool request_first_;
  const bool observe_;
  bool undecodable_ = false;
  RpcSpan span_;
};

class RpcInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // Created for self-observed methods too, which costs their batches
    // gRPC's interceptor machinery: without it, their undecodable requests
    // would answer UNIMPLEMENTED.
    return new RpcInterceptor(info, !IsSelfObserved(info->method()));
  }
};

void DescribeServerMetrics() {
  Metrics& metrics = Metrics::Global();
  metrics.Describe("accord_rpc_requests_total", "counter",
                   "RPCs finished, by method and status code.");
  metrics.Describe("accord_rpc_latency_seconds", "histogram",
                   "RPC latency, by method and status code.");
  metrics.Describe("accord_ready", "gauge",
                   "1 when the service reports SERVING.");
}

// Starts span export when --otlp_endpoint is set. False (and logged) when
// the endpoint is not an http:// or https:// URL.
bool StartTraceExport(const ServerFlags& flags,
                      std::unique_ptr<TraceExporter>* exporter) {
  if (flags.otlp_endpoint.empty()) return true;
  if (!absl::StartsWith(flags.otlp_endpoint, "http://") &&
      !absl::StartsWith(flags.otlp_endpoint, "https://")) {
    LogError("--otlp_endpoint must start with http:// or https://",
             {{"otlp_endpoint", flags.otlp_endpoint}});
    return false;
  }
  TraceExporter::Options options;
  options.endpoint = flags.otlp_endpoint;
  options.service_name = absl::StrCat("accord-", flags.service_name);
  *exporter = std::make_unique<TraceExporter>(std::move(options));
  TraceExporter::SetActive(exporter->get());
  return true;
}

// The gRPC server with `services`, health checking, reflection and the
// RPC interceptor, listening on --listen; null if it cannot listen. Sets
// `*port` to the port bound.
std::unique_ptr<grpc::Server> BuildAndStartServer(
    const ServerFlags& flags, const std::vector<grpc::Service*>& services,
    const ServerHooks& hooks, int* port) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(flags.listen,
                           hooks.credentials != nullptr
                               ? hooks.credentials
                               : grpc::InsecureServerCredentials(),
                           port);
  // gRPC sets SO_REUSEPORT by default: a second process on the same port
  // would then start without an error and take part of the traffic. A
  // port in use must stop the start-up instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(flags.max_message_bytes));
  // The synchronous API's thread manager starts a thread whenever fewer
  // than MIN_POLLERS threads poll and ends one whenever more than
  // MAX_POLLERS do. Its defaults (1 and 2) made every handler that waits
  // for Redis under load start a thread and end it afterwards: half of a
  // Get's CPU went to thread creation (docs/performance.md).
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 2);
  builder.SetSyncServerOption(
      grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 64);
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(std::make_unique<RpcInterceptorFactory>());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  return builder.BuildAndStart();
}

// Serves /metrics on --metrics_listen, if set.
absl::Status StartMetricsServer(const ServerFlags& flags,
                                MetricsServer& metrics_server) {
  if (flags.metrics_listen.empty()) return absl::OkStatus();
  absl::StatusOr<HostPort> address = ParseHostPort(flags.metrics_listen);
  if (!address.ok()) return address.status();
  return metrics_server.Start(address->host, address->port);
}

// Drives the health service from the readiness hook, once a second on a
// thread of its own, from construction until Stop. Readiness ("" and every
// service) follows the hook; the "liveness" name stays SERVING while the
// process runs, so an orchestrator does not restart a healthy process just
// because Redis is away.
class ReadinessProbe {
 public:
  ReadinessProbe(grpc::HealthCheckServiceInterface* health,
                 std::function<absl::Status()> readiness)
      : health_(health), readiness_(std::move(readiness)) {
    SetServing(false);
    thread_ = std::thread([this] { Run(); });
  }
  ~ReadinessProbe() { Stop(); }

  void Stop() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    stopped_.Notify();
    thread_.join();
  }

 private:
  void Run() {
    bool serving = false;
    while (!stopping_.load()) {
      const absl::Status ready = readiness_ ? readiness_() : absl::OkStatus();
      if (!stopping_.load() && ready.ok() != serving) {
        serving = ready.ok();
        SetServing(serving);
        if (serving) {
          LogInfo("serving");
        } else {
          LogWarning("not serving", {{"reason", ready.ToString()}});
        }
      }
      stopped_.WaitForNotificationWithTimeout(absl::Seconds(1));
    }
  }

  // SetServingStatus(bool) covers "" and every registered service name.
  void SetServing(bool serving) {
    health_->SetServingStatus(serving);
    health_->SetServingStatus(kLivenessService, true);
    Metrics::Global().SetGauge("accord_ready", {}, serving ? 1 : 0);
  }

  grpc::HealthCheckServiceInterface* const health_;
  const std::function<absl::Status()> readiness_;
  std::atomic<bool> stopping_{false};
  absl::Notification stopped_;
  std::thread thread_;
};

// Blocks until SIGTERM or SIGINT (blocked by BlockShutdownSignals) arrives;
// returns its number.
int WaitForShutdownSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  return signal_number;
}

}  // namespace

// What every call whose request bytes do not parse as its request message
// (protobuf 3.21 also refuses proto3 strings that are not UTF-8) answers.
// gRPC's own answer would be INTERNAL (synchronous handlers) or
// UNIMPLEMENTED (callback handlers), and no handler ever runs.
grpc::Status UndecodableRequest(absl::string_view method) {
  // "/accord.institution.v1.InstitutionService/GetInstitution"
  std::string full_name(absl::StripPrefix(method, "/"));
  if (const size_t slash = full_name.rfind('/'); slash != std::string::npos) {
    full_name[slash] = '.';
  }
  const google::protobuf::MethodDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          full_name);
  const std::string message = descriptor != nullptr
                                  ? descriptor->input_type()->full_name()
                                  : "the request message";
  return ToGrpcStatus(ErrorWithReason(
      absl::StatusCode::kInvalidArgument,
      absl::StrCat("the request could not be decoded as ", message,
                   ": its bytes are not that message, or a string field is "
                   "not valid UTF-8"),
      "UNDECODABLE_REQUEST"));
}

void RegisterServerFlags(FlagSet& flag_set, ServerFlags& flags) {
  flag_set.AddHostPort("listen", &flags.listen,
                       "address to serve gRPC on; port 0 picks a free one");
  flag_set.AddHostPort("metrics_listen", &flags.metrics_listen,
                       "address to serve Prometheus /metrics on; empty: off",
                       /*optional=*/true);
  flag_set.AddRedisUrl("redis", &flags.redis,
                       "redis://[user:password@]HOST:PORT[/DB]");
  flag_set.AddDuration("redis_timeout", &flags.redis_timeout,
                       "deadline for one Redis round trip");
  flag_set.AddInt("redis_pool_size", &flags.redis_pool_size, 1, 1024,
                  "Redis connections kept open");
  flag_set.AddInt("redis_min_replicas_acked", &flags.redis_min_replicas_acked,
                  0, 16,
                  "replicas that must confirm a write (Redis WAIT) before it "
                  "is acknowledged; 0: do not wait (a single Redis)");
  flag_set.AddDuration("redis_replica_ack_timeout",
                       &flags.redis_replica_ack_timeout,
                       "how long a write waits for those replicas before "
                       "failing with UNAVAILABLE; below --redis_timeout");
  flag_set.AddInt("redis_read_lanes", &flags.redis_read_lanes, 0, 64,
                  "threads, each with its own Redis connection, that batch "
                  "the Get handlers' reads; 0: half the CPUs, at least 1");
  flag_set.AddDuration("shutdown_grace", &flags.shutdown_grace,
                       "how long in-flight calls may run after SIGTERM");
  flag_set.AddString("redis_password_file", &flags.redis_password_file,
                     "file holding the Redis password (never logged); "
                     "overrides a password in --redis");
  flag_set.AddInt("max_message_bytes", &flags.max_message_bytes, 1024, 64 << 20,
                  "largest request accepted, in bytes");
  flag_set.AddString("otlp_endpoint", &flags.otlp_endpoint,
                     "OpenTelemetry collector to send spans to over OTLP/HTTP "
                     "JSON (http://HOST:PORT; spans go to /v1/traces); "
                     "empty: no export");
  RegisterAuthFlags(flag_set, flags.auth);
  flag_set.AddChoice("log_format", &flags.log_format, {"kv", "json"},
                     "log line format");
  flag_set.AddChoice("log_level", &flags.log_level,
                     {"debug", "info", "warning", "error"},
                     "lowest level logged");
}

RedisOptions RedisOptionsFrom(const ServerFlags& flags) {
  RedisOptions options;
  options.url = flags.redis;
  options.pool_size = static_cast<int>(flags.redis_pool_size);
  options.command_timeout = flags.redis_timeout;
  options.min_replicas_acked = static_cast<int>(flags.redis_min_replicas_acked);
  options.replica_ack_timeout = flags.redis_replica_ack_timeout;
  options.async_lanes = static_cast<int>(flags.redis_read_lanes);
  if (options.async_lanes == 0) {
    cpu_set_t cpus;
    const int usable =
        sched_getaffinity(0, sizeof(cpus), &cpus) == 0
            ? CPU_COUNT(&cpus)
            : static_cast<int>(std::thread::hardware_concurrency());
    options.async_lanes = std::max(1, usable / 2);
  }
  return options;
}

void ApplyLogFlags(ServerFlags& flags) {
  if (!flags.redis_password_file.empty()) {
    std::ifstream file(flags.redis_password_file);
    std::stringstream contents;
    contents << file.rdbuf();
    if (!file) {
      std::fprintf(stderr, "accord-%s: cannot read --redis_password_file %s\n",
                   flags.service_name.c_str(),
                   flags.redis_password_file.c_str());
      std::exit(2);
    }
    flags.redis.password =
        std::string(absl::StripTrailingAsciiWhitespace(contents.str()));
  }
  // A WAIT that outlasts the socket's deadline would be cut off as a
  // broken connection instead of answered.
  if (flags.redis_min_replicas_acked > 0 &&
      (flags.redis_replica_ack_timeout <= absl::ZeroDuration() ||
       flags.redis_replica_ack_timeout >= flags.redis_timeout)) {
    std::fprintf(stderr,
                 "accord-%s: --redis_replica_ack_timeout must be above 0 and "
                 "below --redis_timeout (%s)\n",
                 flags.service_name.c_str(),
                 absl::FormatDuration(flags.redis_timeout).c_str());
    std::exit(2);
  }
  SetLogService(flags.service_name);
  SetLogFormat(flags.log_format == "json" ? LogFormat::kJson
                                          : LogFormat::kKeyValue);
  SetLogLevel(flags.log_level == "debug"     ? LogLevel::kDebug
              : flags.log_level == "warning" ? LogLevel::kWarning
              : flags.log_level == "error"   ? LogLevel::kError
                                             : LogLevel::kInfo);
}

void BlockShutdownSignals() {
#ifdef NDEBUG
  // Mutex deadlock detection is a debugging aid that Debian's Abseil leaves
  // on; it costs every lock, gRPC's included: 11% of the instructions of a
  // Get (docs/performance.md).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

int RunServer(const ServerFlags& flags,
              const std::vector<grpc::Service*>& services,
              const ServerHooks& hooks) {
  DescribeServerMetrics();
  ExportBuildInfoMetric(flags.service_name);
  std::unique_ptr<TraceExporter> trace_exporter;
  if (!StartTraceExport(flags, &trace_exporter)) return 2;

  int port = 0;
  std::unique_ptr<grpc::Server> server =
      BuildAndStartServer(flags, services, hooks, &port);
  if (server == nullptr || port == 0) {
    LogError("cannot listen", {{"address", flags.listen}});
    return 1;
  }
  MetricsServer metrics_server;
  if (absl::Status started = StartMetricsServer(flags, metrics_server);
      !started.ok()) {
    LogError("cannot serve metrics", {{"error", started.ToString()}});
    return 1;
  }
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  ReadinessProbe probe(health, hooks.readiness);

  HostPort bound;
  if (absl::StatusOr<HostPort> listen = ParseHostPort(flags.listen);
      listen.ok()) {
    bound = {listen->host, port};
  }
  LogInfo("listening", {{"address", bound.ToString()},
                        {"metrics_port", metrics_server.port()},
                        {"redis", flags.redis.Redacted()}});

  const int signal_number = WaitForShutdownSignal();
  LogInfo("shutting down",
          {{"signal", signal_number},
           {"grace", absl::FormatDuration(flags.shutdown_grace)}});
  probe.Stop();
  // Load balancers and probes see NOT_SERVING while calls drain.
  health->SetServingStatus(false);
  if (hooks.on_shutdown) hooks.on_shutdown();
  server->Shutdown(std::chrono::system_clock::now() +
                   absl::ToChronoMilliseconds(flags.shutdown_grace));
  server->Wait();
  // The last spans go out before exit (one try, bounded by its timeout).
  TraceExporter::SetActive(nullptr);
  trace_exporter.reset();
  metrics_server.Stop();
  LogInfo("stopped");
  return 0;
}

}  // namespace accord
