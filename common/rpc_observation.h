#ifndef ACCORD_COMMON_RPC_OBSERVATION_H_
#define ACCORD_COMMON_RPC_OBSERVATION_H_

// What the server records of every finished RPC: one log line (info, or
// warning/error by status code) naming the principal, the request_id when
// the request has one, and the trace and span ids; the
// accord_rpc_requests_total and accord_rpc_latency_seconds metrics; and,
// when trace export is on (common/trace_export.h), a server span. The server's
// interceptor observes every method except those whose handlers observe
// themselves (the hot callback handlers, ServeGet). It still runs on their
// calls, to answer a request that does not decode (common/server.h), and
// observes those calls, which never reach the handler; gRPC's interceptor
// machinery on every batch is the price of that (docs/performance.md).
//
// Example:
//   SelfObservedMethod get_{"/accord.institution.v1.InstitutionService/Get"};
//   ...
//   ObserveRpc(get_.name(), status, absl::Now() - start, context->peer(),
//              CurrentRpc(*context));

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/trace_context.h"

namespace accord {

// Logs and measures one finished RPC. `span` is the call's server span
// (common/trace_context.h); null leaves the trace fields out.
void ObserveRpc(absl::string_view method, const grpc::Status& status,
                absl::Duration latency, absl::string_view peer,
                const RpcSpan* span = nullptr);

// Constructing one tells the interceptor to leave observing `full_name`
// (for example "/accord.institution.v1.InstitutionService/GetInstitution")
// to its handler. Construct it before the server starts (a member of the
// service).
class SelfObservedMethod {
 public:
  explicit SelfObservedMethod(std::string full_name);
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// Whether a SelfObservedMethod names `full_name`.
bool IsSelfObserved(absl::string_view full_name);

}  // namespace accord

#endif  // ACCORD_COMMON_RPC_OBSERVATION_H_
