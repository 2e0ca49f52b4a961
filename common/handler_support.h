#ifndef ACCORD_COMMON_HANDLER_SUPPORT_H_
#define ACCORD_COMMON_HANDLER_SUPPORT_H_

// Small pieces every gRPC handler class uses: turning a StatusOr into the
// response and a gRPC status, the change context of a call, and the page
// token codec whose key is shared by all replicas through Redis.
//
// Example:
//   return Respond(Transition(*request, caller), response);

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "common/errors.h"
#include "common/events.h"
#include "common/list.h"
#include "common/list_resources.h"
#include "common/record_store.h"
#include "common/redis/client.h"
#include "common/rpc_observation.h"
#include "common/status_macros.h"
#include "common/trace_context.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace accord {

template <typename T>
grpc::Status Respond(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

// An internal change, made by the service itself.
inline ChangeContext ContextFor(absl::string_view request_id) {
  ChangeContext context;
  context.request_id = std::string(request_id);
  context.time = absl::Now();
  return context;
}

// A change made by an authenticated caller through `method`.
inline ChangeContext ContextFor(const Principal& caller,
                                absl::string_view method,
                                absl::string_view request_id) {
  ChangeContext context = ContextFor(request_id);
  context.principal = caller.id;
  context.method = std::string(method);
  // The handler runs on the thread that serves its call's span.
  context.traceparent = CurrentTraceparent();
  return context;
}

// Authenticates and authorises the call, or returns its gRPC error.
// Example:
//   ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
#define ACCORD_AUTHORIZE(principal, authenticator, server_context, access) \
  absl::StatusOr<::accord::Principal> principal##_or_error =               \
      (authenticator).Authorize(*(server_context), (access));              \
  if (!principal##_or_error.ok()) {                                        \
    return ::accord::ToGrpcStatus(principal##_or_error.status());          \
  }                                                                        \
  [[maybe_unused]] const ::accord::Principal& principal = *principal##_or_error

// The page-token codec, created on first use (Redis may be down at start).
class SharedPageTokenCodec {
 public:
  explicit SharedPageTokenCodec(RedisClient& redis) : redis_(redis) {}
  absl::StatusOr<const PageTokenCodec*> Get();

 private:
  RedisClient& redis_;
  absl::Mutex mutex_;
  std::unique_ptr<PageTokenCodec> codec_ ABSL_GUARDED_BY(mutex_);
};

// One page of a List method over `collection`.
// Example:
//   ACCORD_ASSIGN_OR_RETURN(auto page, ListCollection<Institution>(
//       codec_, store_, "institutions", {request->page_size(), ...},
//       {"name", "create_time"}));
template <typename T>
absl::StatusOr<ListPage<T>> ListCollection(
    SharedPageTokenCodec& codec, RecordStore& store,
    absl::string_view collection, const ListRequestFields& request,
    const std::vector<std::string>& allowed_order,
    const SecondaryIndexes* indexes = nullptr,
    const std::function<bool(absl::string_view)>& include = nullptr,
    const std::function<bool(const T&)>& visible = nullptr) {
  ACCORD_ASSIGN_OR_RETURN(const PageTokenCodec* tokens, codec.Get());
  ACCORD_ASSIGN_OR_RETURN(
      ListQuery query,
      ParseListQuery(*tokens, *T::descriptor(), request, allowed_order));
  return ListResources<T>(store, *tokens, collection, query, indexes, include,
                          visible);
}

// The `read_time` of an as-of read, checked: INVALID_ARGUMENT on
// `read_time` if it is not a valid timestamp.
inline absl::StatusOr<absl::Time> ReadTimeOf(
    const google::protobuf::Timestamp& read_time) {
  // From the epoch to 9999-12-31T23:59:59Z, as google.protobuf.Timestamp
  // allows (earlier than the epoch predates every record anyway).
  constexpr int64_t kMaxSeconds = 253402300799;
  if (read_time.seconds() < 0 || read_time.seconds() > kMaxSeconds ||
      read_time.nanos() < 0 || read_time.nanos() > 999999999) {
    return InvalidField("read_time", "is not a valid timestamp");
  }
  return absl::FromUnixNanos(
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(read_time));
}

}  // namespace accord

#endif  // ACCORD_COMMON_HANDLER_SUPPORT_H_
