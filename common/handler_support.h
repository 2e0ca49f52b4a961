#ifndef ACCORD_COMMON_HANDLER_SUPPORT_H_
#define ACCORD_COMMON_HANDLER_SUPPORT_H_

// Small pieces every gRPC handler class uses: turning a StatusOr into the
// response and a gRPC status, the change context of a call, and the page
// token codec whose key is shared by all replicas through Redis.
//
// Example:
//   return Respond(ops_.Get(request->name()), response);

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
#include "common/record_store.h"
#include "common/redis/client.h"
#include "common/resource_ops.h"
#include "common/rpc_observation.h"
#include "common/status_macros.h"
#include "common/trace_context.h"

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
  context.caller = &caller;
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

// Serves a Get on gRPC's callback API: authorises, then answers from the
// Redis client's batch thread, so no gRPC thread waits for Redis and
// concurrent Gets share round trips. Only for resources whose visibility
// reads nothing from Redis (ResourceOps::GetAsync). `method` observes the
// call itself; the server's interceptor observes only a request that does
// not decode, which never reaches this handler.
// Example:
//   return ServeGet(context, get_institution_, auth_, institutions_,
//                   request->name(), response);
template <typename T>
grpc::ServerUnaryReactor* ServeGet(grpc::CallbackServerContext* context,
                                   const SelfObservedMethod& method,
                                   Authenticator& auth, ResourceOps<T>& ops,
                                   absl::string_view name, T* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Taken here: the answer comes on another thread. The span lives until
  // the call ends, after Finish.
  const RpcSpan* span = CurrentRpc(*context);
  auto finish = [reactor, context, &method, start, span](grpc::Status status) {
    ObserveRpc(method.name(), status, absl::Now() - start, context->peer(),
               span);
    reactor->Finish(std::move(status));
  };
  absl::StatusOr<Principal> caller = auth.Authorize(*context, Access::kRead);
  if (!caller.ok()) {
    finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  ops.GetAsync(name, *caller, [finish, response](absl::StatusOr<T> result) {
    finish(Respond(std::move(result), response));
  });
  return reactor;
}

// Serves a Get on gRPC's callback API that reads synchronously on the
// calling thread: a past revision or an as-of read, which take more than
// one round trip and are rare. `read` runs once the caller is authorised.
template <typename T>
grpc::ServerUnaryReactor* ServeGetNow(
    grpc::CallbackServerContext* context, const SelfObservedMethod& method,
    Authenticator& auth,
    const std::function<absl::StatusOr<T>(const Principal&)>& read,
    T* response) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status status;
  absl::StatusOr<Principal> caller = auth.Authorize(*context, Access::kRead);
  if (!caller.ok()) {
    status = ToGrpcStatus(caller.status());
  } else {
    status = Respond(read(*caller), response);
  }
  ObserveRpc(method.name(), status, absl::Now() - start, context->peer(),
             CurrentRpc(*context));
  reactor->Finish(std::move(status));
  return reactor;
}

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
    const std::function<bool(absl::string_view)>& include = nullptr,
    const std::function<bool(const T&)>& visible = nullptr) {
  ACCORD_ASSIGN_OR_RETURN(const PageTokenCodec* tokens, codec.Get());
  ACCORD_ASSIGN_OR_RETURN(
      ListQuery query,
      ParseListQuery(*tokens, *T::descriptor(), request, allowed_order));
  return ListResources<T>(store, *tokens, collection, query, include, visible);
}

// One page of a List…Revisions method (AIP-162), newest first.
// Example:
//   return RespondRevisions(
//       ListRevisionsPage(agreements_, codec_, caller, *request),
//       *response->mutable_agreements(), response);
template <typename T, typename Request>
absl::StatusOr<ListPage<T>> ListRevisionsPage(ResourceOps<T>& ops,
                                              SharedPageTokenCodec& codec,
                                              const Principal& caller,
                                              const Request& request) {
  ACCORD_ASSIGN_OR_RETURN(const PageTokenCodec* tokens, codec.Get());
  return ops.ListRevisions(request.name(), request.page_size(),
                           request.page_token(), *tokens, &caller);
}

template <typename T, typename Response>
grpc::Status RespondRevisions(absl::StatusOr<ListPage<T>> page,
                              google::protobuf::RepeatedPtrField<T>& items,
                              Response* response) {
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (T& item : page->items) items.Add(std::move(item));
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
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
