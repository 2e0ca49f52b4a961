#ifndef ACCORD_COMMON_SERVER_H_
#define ACCORD_COMMON_SERVER_H_

// What every Accord service binary does around its handlers: common flags,
// gRPC health checking driven by a readiness probe (Redis reachable),
// reflection, per-RPC logs and Prometheus metrics, W3C trace context and
// optional OTLP span export (docs/tracing.md), graceful shutdown on
// SIGTERM/SIGINT (health NOT_SERVING, in-flight calls finish, streams are
// told to end, exit 0), and the answer to a request whose bytes do not
// parse as its request message (strings that are not UTF-8 included):
// INVALID_ARGUMENT "the request could not be decoded as <message>", reason
// UNDECODABLE_REQUEST, on every method of every service, from the server's
// interceptor, before authentication (no handler runs).
//
// Example (a service's main):
//   BlockShutdownSignals();
//   ServerFlags flags;
//   FlagSet flag_set("accord-institution", "...");
//   RegisterServerFlags(flag_set, flags);
//   flag_set.ParseOrExit(argc, argv);
//   ...
//   return RunServer(flags, {&service}, [&] { return redis.Ping(); });

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/config.h"
#include "common/redis/client.h"

namespace accord {

struct ServerFlags {
  std::string service_name;  // "institution", used in logs and metrics
  std::string listen = "127.0.0.1:50051";
  std::string metrics_listen;  // empty: no metrics endpoint
  RedisUrl redis;
  std::string log_format = "kv";
  std::string log_level = "info";
  absl::Duration shutdown_grace = absl::Seconds(10);
  absl::Duration redis_timeout = absl::Seconds(2);
  int64_t redis_pool_size = 16;
  // Replicas that must confirm each write before it is acknowledged (Redis
  // WAIT). 0, the default, suits a single Redis; with a primary, replicas
  // and Sentinel, 1 means a failover loses nothing acknowledged.
  int64_t redis_min_replicas_acked = 0;
  // How long a write waits for them; then UNAVAILABLE (retry with the same
  // request_id). One second rides out a replica's brief stall without
  // holding callers long when a replica is gone.
  absl::Duration redis_replica_ack_timeout = absl::Seconds(1);
  // Threads batching the Get handlers' Redis reads; 0: half the CPUs this
  // process may run on, at least 1.
  int64_t redis_read_lanes = 0;
  int64_t max_message_bytes = 4 << 20;
  // A file holding the Redis password (a mounted Secret); overrides the
  // password in the URL.
  std::string redis_password_file;
  // Where spans go (OTLP/HTTP JSON, <endpoint>/v1/traces), e.g.
  // "http://otel-collector:4318"; empty (the default): no export, since
  // most deployments have no collector and logs carry the trace ids anyway.
  std::string otlp_endpoint;
  AuthFlags auth;
};

void RegisterServerFlags(FlagSet& flag_set, ServerFlags& flags);

// What every call whose request bytes do not parse as its request message
// answers (INVALID_ARGUMENT, reason UNDECODABLE_REQUEST); `method` is the
// full method name, "/accord.institution.v1.InstitutionService/GetInstitution".
grpc::Status UndecodableRequest(absl::string_view method);

// The RedisOptions the flags describe (URL, pool, read lanes, timeout).
RedisOptions RedisOptionsFrom(const ServerFlags& flags);

// Applies log settings and reads secret files named by flags; call right
// after parsing flags. Prints one line and exits 2 if a file is unreadable.
void ApplyLogFlags(ServerFlags& flags);

// Blocks SIGTERM and SIGINT in this thread and every thread it starts later,
// so RunServer can wait for them, and turns off Abseil's mutex deadlock
// detection in release builds. Call first in main.
void BlockShutdownSignals();

struct ServerHooks {
  // Called every second and before reporting SERVING; a non-OK status turns
  // health NOT_SERVING.
  std::function<absl::Status()> readiness;
  // Called once when shutdown begins, before the server drains: end open
  // streams here.
  std::function<void()> on_shutdown;
  // How the server authenticates connections (TLS, mutual TLS); null means
  // plaintext.
  std::shared_ptr<grpc::ServerCredentials> credentials;
};

// Serves until SIGTERM/SIGINT; returns the process exit code.
int RunServer(const ServerFlags& flags,
              const std::vector<grpc::Service*>& services,
              const ServerHooks& hooks);

}  // namespace accord

#endif  // ACCORD_COMMON_SERVER_H_
