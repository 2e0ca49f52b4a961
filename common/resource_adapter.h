#ifndef ACCORD_COMMON_RESOURCE_ADAPTER_H_
#define ACCORD_COMMON_RESOURCE_ADAPTER_H_

// The standard methods (AIP-131..135, 162, 164) of any resource, served
// once: Create, Get (on gRPC's callback API when the policy allows), List,
// Update, Delete, Undelete and List…Revisions. The adapter authenticates
// the call, applies the policy's scope and visibility (ResourceOps below
// it knows no principals) and answers in gRPC terms. A service registers a
// resource in one member line and forwards its generated overrides with
// ACCORD_STANDARD_METHODS; custom methods use the adapter's Principal-aware
// operations (Get, CheckEditable, CommitCustom…).
//
// Example:
//   ServiceWiring wiring_{"accord.institution.v1.InstitutionService", ...};
//   Registered<OfficialPolicy> officials_{wiring_, ...policy arguments};
//   ACCORD_STANDARD_METHODS(v1, Official, Officials, officials_)

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "common/errors.h"
#include "common/handler_support.h"
#include "common/list.h"
#include "common/record_store.h"
#include "common/resource_ops.h"
#include "common/resource_policy.h"
#include "common/rpc_observation.h"
#include "common/server.h"
#include "common/status_macros.h"
#include "common/write_path.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace accord {

// What every resource of one service shares.
struct ServiceWiring {
  std::string service;  // "accord.agreement.v1.AgreementService"
  RecordStore& store;
  WritePath& write_path;
  Authenticator& auth;
  SharedPageTokenCodec& codec;
};

// A caller's authorisation as ResourceOps applies it (see AccessCheck).
template <typename T>
class CallerAccess final : public AccessCheck<T> {
 public:
  CallerAccess(const ResourcePolicy<T>& policy, const Principal& caller)
      : policy_(policy), caller_(caller) {}

  absl::Status CheckEditable(const T& resource) const override {
    return CheckVisibleAndScope(
        resource, [&] { return ResourceOps<T>::NotFound(resource.name()); });
  }

  absl::Status CheckProposed(const T& resource) const override {
    return CheckVisibleAndScope(resource, [&] {
      return policy_.RefuseInvisibleResult(caller_, resource);
    });
  }

  absl::StatusOr<bool> Visible(const T& resource) const override {
    if (!policy_.restricts_visibility()) return true;
    return policy_.Visible(caller_, resource);
  }

 private:
  // `refusal()` if the caller may not see `resource`; else the scope check.
  template <typename Refusal>
  absl::Status CheckVisibleAndScope(const T& resource, Refusal refusal) const {
    if (policy_.restricts_visibility()) {
      ACCORD_ASSIGN_OR_RETURN(bool visible, policy_.Visible(caller_, resource));
      if (!visible) return refusal();
    }
    if (!policy_.scoped()) return absl::OkStatus();
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> scope,
                            policy_.Scope(resource));
    if (!caller_.CanEdit(scope)) {
      return PermissionDenied(absl::StrCat(
          caller_.id, " may not change ",
          resource.name().empty() ? SchemaOf<T>().singular : resource.name(),
          ": it acts for none of its institutions"));
    }
    return absl::OkStatus();
  }

  const ResourcePolicy<T>& policy_;
  const Principal& caller_;
};

namespace adapter_internal {

// The field of `message_type` in `container` (a request or response):
// the resource of a Create or Update, the items of a List. Aborts if there
// is none: the request does not fit the standard method.
inline const google::protobuf::FieldDescriptor* FieldOfType(
    const google::protobuf::Descriptor& container,
    const google::protobuf::Descriptor* message_type) {
  for (int i = 0; i < container.field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = container.field(i);
    if (field->message_type() == message_type) return field;
  }
  std::fprintf(stderr, "%s has no %s field\n", container.full_name().c_str(),
               message_type->full_name().c_str());
  std::abort();
}

template <typename T, typename Request>
const T& ResourceIn(const Request& request) {
  static const google::protobuf::FieldDescriptor* const field =
      FieldOfType(*Request::descriptor(), T::descriptor());
  return static_cast<const T&>(
      request.GetReflection()->GetMessage(request, field));
}

// `<singular>_id` of a Create request.
template <typename T, typename Request>
std::string IdIn(const Request& request) {
  static const google::protobuf::FieldDescriptor* const field =
      Request::descriptor()->FindFieldByName(
          absl::StrCat(SchemaOf<T>().singular, "_id"));
  return request.GetReflection()->GetString(request, field);
}

template <typename T, typename Response>
void AddItems(ListPage<T> page, Response& response) {
  static const google::protobuf::FieldDescriptor* const field =
      FieldOfType(*Response::descriptor(), T::descriptor());
  const google::protobuf::Reflection* reflection = response.GetReflection();
  for (T& item : page.items) {
    static_cast<T*>(reflection->AddMessage(&response, field))->Swap(&item);
  }
  response.set_next_page_token(page.next_page_token);
}

template <typename Request>
std::string ParentIn(const Request& request) {
  if constexpr (requires { request.parent(); }) {
    return request.parent();
  } else {
    return "";
  }
}

}  // namespace adapter_internal

template <typename T>
class ResourceAdapter {
 public:
  ResourceAdapter(const ServiceWiring& wiring, const ResourcePolicy<T>& policy)
      : wiring_(wiring),
        policy_(policy),
        ops_(wiring.store, wiring.write_path, policy),
        name_(T::descriptor()->name()) {
    if (policy.async_get()) {
      get_method_.emplace(absl::StrCat("/", wiring.service, "/Get", name_));
    }
  }

  // ---- The standard gRPC methods ----

  template <typename Request>
  grpc::Status Create(grpc::ServerContext* context, const Request* request,
                      T* response) {
    ACCORD_AUTHORIZE(caller, wiring_.auth, context, policy_.write_access());
    return Respond(CreateFor(caller, *request), response);
  }

  // Get on the callback API: answered from the Redis client's batch
  // thread, so no gRPC thread waits for Redis and concurrent Gets share
  // round trips. A past revision or an as-of read is read synchronously.
  template <typename Request>
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const Request* request, T* response) {
    return ServeGet(context, request, TypedAnswer{response});
  }

  // The same on gRPC's raw callback API: a record nobody's visibility
  // depends on is answered with its stored bytes, never decoded nor encoded
  // again (the stored record is the resource's wire form).
  template <typename Request>
  grpc::ServerUnaryReactor* GetRaw(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) {
    Request decoded;
    grpc::ByteBuffer copy(*request);  // shares the slices
    const bool parsed =
        grpc::SerializationTraits<Request>::Deserialize(&copy, &decoded).ok();
    return ServeGet(context, parsed ? &decoded : nullptr, RawAnswer{response});
  }

  template <typename Request>
  grpc::Status Get(grpc::ServerContext* context, const Request* request,
                   T* response) {
    ACCORD_AUTHORIZE(caller, wiring_.auth, context, policy_.read_access());
    return Respond(WithComputedFields(Get(request->name(), &caller)), response);
  }

  template <typename Request, typename Response>
  grpc::Status List(grpc::ServerContext* context, const Request* request,
                    Response* response) {
    ACCORD_AUTHORIZE(caller, wiring_.auth, context, policy_.read_access());
    absl::StatusOr<ListPage<T>> page = ListFor(caller, *request);
    if (!page.ok()) return ToGrpcStatus(page.status());
    // Which index the listing used, or "scan" (common/secondary_index.h).
    context->AddInitialMetadata("accord-list-plan", page->plan);
    std::vector<T*> items;
    for (T& item : page->items) items.push_back(&item);
    if (absl::Status computed = policy_.AddComputedFields(std::move(items));
        !computed.ok()) {
      return ToGrpcStatus(computed);
    }
    adapter_internal::AddItems(*std::move(page), *response);
    return grpc::Status::OK;
  }

  template <typename Request, typename Response>
  grpc::Status ListRevisions(grpc::ServerContext* context,
                             const Request* request, Response* response) {
    ACCORD_AUTHORIZE(caller, wiring_.auth, context, policy_.read_access());
    absl::StatusOr<ListPage<T>> page = RevisionsFor(caller, *request);
    if (!page.ok()) return ToGrpcStatus(page.status());
    adapter_internal::AddItems(*std::move(page), *response);
    return grpc::Status::OK;
  }

  template <typename Request>
  grpc::Status Update(grpc::ServerContext* context, const Request* request,
                      T* response) {
    ACCORD_AUTHORIZE(caller, wiring_.auth, context, policy_.write_access());
    const CallerAccess<T> access(policy_, caller);
    return Respond(
        WithRetry([&]() -> absl::StatusOr<T> {
          T patch = adapter_internal::ResourceIn<T>(*request);
          PendingWrite<T> pending{WriteVerb::kUpdate,
                                  caller,
                                  &patch,
                                  patch.name(),
                                  {request->update_mask().paths().begin(),
                                   request->update_mask().paths().end()},
                                  request->request_id()};
          ACCORD_ASSIGN_OR_RETURN(WriteHold hold, policy_.BeginWrite(pending));
          return ops_.Update(
              patch, request->update_mask(), request->request_id(),
              ContextFor(caller, Method("Update"), request->request_id()),
              &access);
        }),
        response);
  }

  template <typename Request>
  grpc::Status Delete(grpc::ServerContext* context, const Request* request,
                      T* response) {
    ACCORD_AUTHORIZE(caller, wiring_.auth, context, policy_.write_access());
    return Respond(ChangeLiveness(caller, *request, WriteVerb::kDelete),
                   response);
  }

  template <typename Request>
  grpc::Status Undelete(grpc::ServerContext* context, const Request* request,
                        T* response) {
    ACCORD_AUTHORIZE(caller, wiring_.auth, context, policy_.write_access());
    return Respond(ChangeLiveness(caller, *request, WriteVerb::kUndelete),
                   response);
  }

  // ---- For custom methods; `caller` null is the service itself ----

  // `name`, or `name@revision_id`; NOT_FOUND if `caller` may not see it.
  absl::StatusOr<T> Get(absl::string_view name,
                        const Principal* caller = nullptr) {
    if (caller == nullptr) return ops_.Get(name);
    const CallerAccess<T> access(policy_, *caller);
    return ops_.Get(name, &access);
  }
  absl::StatusOr<T> GetAsOf(absl::string_view name, absl::Time read_time,
                            const Principal& caller) {
    const CallerAccess<T> access(policy_, caller);
    return ops_.GetAsOf(name, read_time, &access);
  }
  absl::StatusOr<bool> Visible(const Principal& caller, const T& resource) {
    return CallerAccess<T>(policy_, caller).Visible(resource);
  }
  absl::Status CheckEditable(const T& resource, const Principal& caller) {
    return CallerAccess<T>(policy_, caller).CheckEditable(resource);
  }
  absl::Status CheckName(absl::string_view name,
                         absl::string_view field) const {
    return ops_.CheckName(name, field);
  }
  absl::StatusOr<StoredRecord> Load(absl::string_view name) {
    return ops_.Load(name);
  }
  absl::StatusOr<T> ReplayFor(T first, const Principal* caller) {
    if (caller == nullptr) return ResourceOps<T>::ReplayFor(first, nullptr);
    const CallerAccess<T> access(policy_, *caller);
    return ResourceOps<T>::ReplayFor(std::move(first), &access);
  }
  absl::StatusOr<std::optional<T>> ReplayedCustom(
      absl::string_view verb, absl::string_view request_id) {
    return ops_.ReplayedCustom(verb, request_id);
  }
  // See ResourceOps::CommitCustom.
  absl::StatusOr<T> CommitCustom(
      T resource, absl::string_view expected_etag, absl::string_view verb,
      absl::string_view request_id, const ChangeContext& context,
      const T& before, const Principal* caller,
      const std::function<void(WritePlan&)>& plan_extra = nullptr) {
    std::optional<CallerAccess<T>> access;
    if (caller != nullptr) access.emplace(policy_, *caller);
    return ops_.CommitCustom(
        std::move(resource), expected_etag, verb, request_id, context, before,
        access.has_value() ? &*access : nullptr, plan_extra);
  }
  absl::Status EtagMismatch(absl::string_view name) const {
    return ops_.EtagMismatch(name);
  }
  static absl::Status NotFound(absl::string_view name) {
    return ResourceOps<T>::NotFound(name);
  }
  absl::StatusOr<events::v1::Event> BuildEvent(
      const T& resource, absl::string_view type,
      const ChangeContext& context) const {
    return ops_.BuildEvent(resource, type, context);
  }
  absl::StatusOr<int> UpgradeRecordsWithoutRevisions(
      absl::string_view index, const std::function<void(T&)>& refresh) {
    return ops_.UpgradeRecordsWithoutRevisions(index, refresh);
  }
  absl::StatusOr<int> BackfillIndexes() { return ops_.BackfillIndexes(); }
  // Differences between the secondary indexes and the records (none when
  // consistent); see SecondaryIndexes::Verify.
  absl::StatusOr<std::vector<std::string>> VerifyIndexes() {
    return ops_.indexes().Verify(ops_.store(), T::default_instance());
  }
  // A Create on behalf of `caller` (the policy's parent check, defaults
  // and retry included), for handlers that add their own steps.
  template <typename Request>
  absl::StatusOr<T> CreateFor(const Principal& caller, const Request& request);

  ResourceOps<T>& ops() { return ops_; }
  const ResourcePolicy<T>& policy() const { return policy_; }

 private:
  // "/accord.agreement.v1.AgreementService/CreateAgreement" for "Create".
  std::string Method(absl::string_view verb) const {
    return absl::StrCat("/", wiring_.service, "/", verb, name_);
  }

  absl::StatusOr<T> ReadAsOf(absl::string_view name,
                             const google::protobuf::Timestamp& read_time,
                             const Principal& caller) {
    if (absl::StrContains(name, '@')) {
      return InvalidField("read_time",
                          "give either read_time or a name@revision_id, "
                          "not both");
    }
    ACCORD_ASSIGN_OR_RETURN(absl::Time time, ReadTimeOf(read_time));
    return GetAsOf(name, time, caller);
  }

  absl::StatusOr<T> WithComputedFields(absl::StatusOr<T> read) const {
    if (read.ok()) {
      ACCORD_RETURN_IF_ERROR(policy_.AddComputedFields({&*read}));
    }
    return read;
  }

  // Delete or Undelete, after the policy's BeginWrite.
  template <typename Request>
  absl::StatusOr<T> ChangeLiveness(const Principal& caller,
                                   const Request& request, WriteVerb verb) {
    const bool remove = verb == WriteVerb::kDelete;
    PendingWrite<T> pending{verb,           caller, nullptr,
                            request.name(), {},     request.request_id()};
    ACCORD_ASSIGN_OR_RETURN(WriteHold hold, policy_.BeginWrite(pending));
    const CallerAccess<T> access(policy_, caller);
    const ChangeContext change = ContextFor(
        caller, Method(remove ? "Delete" : "Undelete"), request.request_id());
    return remove ? ops_.Delete(request.name(), request.etag(),
                                request.request_id(), change, &access)
                  : ops_.Undelete(request.name(), request.etag(),
                                  request.request_id(), change, &access);
  }

  template <typename Write>
  auto WithRetry(Write write) -> decltype(write()) {
    auto result = write();
    if (!result.ok() && policy_.RetryAfter(result.status())) result = write();
    return result;
  }

  // Where a callback Get puts its answer: a typed response, or its bytes.
  struct TypedAnswer {
    static constexpr bool kTakesStoredBytes = false;
    T* response;
    grpc::Status Resource(absl::StatusOr<T> read) const {
      return Respond(std::move(read), response);
    }
    grpc::Status StoredBytes(const std::string&) const {
      return grpc::Status::OK;
    }
  };
  struct RawAnswer {
    static constexpr bool kTakesStoredBytes = true;
    grpc::ByteBuffer* response;
    grpc::Status Resource(absl::StatusOr<T> read) const {
      if (!read.ok()) return ToGrpcStatus(read.status());
      bool own_buffer = false;
      return grpc::SerializationTraits<T>::Serialize(*read, response,
                                                     &own_buffer);
    }
    grpc::Status StoredBytes(const std::string& data) const {
      grpc::Slice slice(data);
      *response = grpc::ByteBuffer(&slice, 1);
      return grpc::Status::OK;
    }
  };
  // The callback Get; `request` null when the raw request did not decode.
  template <typename Request, typename Answer>
  grpc::ServerUnaryReactor* ServeGet(grpc::CallbackServerContext* context,
                                     const Request* request, Answer answer);

  template <typename Request>
  absl::StatusOr<ListPage<T>> ListFor(const Principal& caller,
                                      const Request& request);
  template <typename Request>
  absl::StatusOr<ListPage<T>> RevisionsFor(const Principal& caller,
                                           const Request& request) {
    ACCORD_ASSIGN_OR_RETURN(const PageTokenCodec* tokens, wiring_.codec.Get());
    const CallerAccess<T> access(policy_, caller);
    return ops_.ListRevisions(request.name(), request.page_size(),
                              request.page_token(), *tokens, &access);
  }

  const ServiceWiring& wiring_;
  const ResourcePolicy<T>& policy_;
  ResourceOps<T> ops_;
  const std::string name_;  // "Agreement"
  // The callback Get observes itself (the interceptor does not).
  std::optional<SelfObservedMethod> get_method_;
};

// A resource's policy and adapter in one member, so that a service
// registers a resource in one line:
//   Registered<CommitteePolicy> committees_{wiring_, directory_};
// (the policy is built from the arguments after the wiring).
template <typename Policy>
struct PolicyHolder {
  Policy policy;
};

template <typename Policy>
class Registered : private PolicyHolder<Policy>,
                   public ResourceAdapter<typename Policy::Resource> {
 public:
  template <typename... Args>
  explicit Registered(const ServiceWiring& wiring, Args&&... args)
      : PolicyHolder<Policy>{Policy(std::forward<Args>(args)...)},
        ResourceAdapter<typename Policy::Resource>(
            wiring, PolicyHolder<Policy>::policy) {}

  // The policy itself, for what a custom method shares with it.
  const Policy& own_policy() const { return PolicyHolder<Policy>::policy; }
};

template <typename T>
template <typename Request>
absl::StatusOr<T> ResourceAdapter<T>::CreateFor(const Principal& caller,
                                                const Request& request) {
  const std::string parent = adapter_internal::ParentIn(request);
  ACCORD_RETURN_IF_ERROR(policy_.CheckCreateParent(parent, caller));
  const ChangeContext change =
      ContextFor(caller, Method("Create"), request.request_id());
  const CallerAccess<T> access(policy_, caller);
  // The name it will have when the request chose its id.
  const std::string id = adapter_internal::IdIn<T>(request);
  std::string name;
  if (!id.empty()) {
    name = absl::StrCat(parent, parent.empty() ? "" : "/",
                        SchemaOf<T>().collection, "/", id);
  }
  return WithRetry([&]() -> absl::StatusOr<T> {
    T resource = adapter_internal::ResourceIn<T>(request);
    policy_.PrepareCreate(resource, change);
    PendingWrite<T> pending{WriteVerb::kCreate,  caller, &resource, name, {},
                            request.request_id()};
    ACCORD_ASSIGN_OR_RETURN(WriteHold hold, policy_.BeginWrite(pending));
    return ops_.Create(std::move(resource), id, request.request_id(), change,
                       parent, &access);
  });
}

template <typename T>
template <typename Request, typename Answer>
grpc::ServerUnaryReactor* ResourceAdapter<T>::ServeGet(
    grpc::CallbackServerContext* context, const Request* request,
    Answer answer) {
  const absl::Time start = absl::Now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Taken here: the answer comes on another thread. The span lives until
  // the call ends, after Finish.
  const RpcSpan* span = CurrentRpc(*context);
  const std::string& method = get_method_->name();
  auto finish = [reactor, context, &method, start, span](grpc::Status status) {
    ObserveRpc(method, status, absl::Now() - start, context->peer(), span);
    reactor->Finish(std::move(status));
  };
  absl::StatusOr<Principal> caller =
      wiring_.auth.Authorize(*context, policy_.read_access());
  if (!caller.ok()) {
    finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (request == nullptr) {
    finish(UndecodableRequest(method));
    return reactor;
  }
  const std::string& name = request->name();
  bool as_of = false;
  if constexpr (requires { request->has_read_time(); }) {
    as_of = request->has_read_time();
  }
  // A past revision or an as-of read takes more than one round trip and is
  // rare: read on this thread.
  if (as_of || absl::StrContains(name, '@')) {
    absl::StatusOr<T> read;
    if constexpr (requires { request->has_read_time(); }) {
      if (as_of) {
        read = ReadAsOf(name, request->read_time(), *caller);
      } else {
        read = Get(name, &*caller);
      }
    } else {
      read = Get(name, &*caller);
    }
    finish(answer.Resource(std::move(read)));
    return reactor;
  }
  if (absl::Status valid = ops_.CheckName(name, "name"); !valid.ok()) {
    finish(ToGrpcStatus(valid));
    return reactor;
  }
  std::optional<Principal> viewer;
  if (policy_.restricts_visibility()) viewer = *std::move(caller);
  ops_.store().GetAsync(
      name, [this, name, viewer = std::move(viewer), finish,
             answer](absl::StatusOr<std::optional<StoredRecord>> record) {
        if (!record.ok()) return finish(ToGrpcStatus(record.status()));
        if constexpr (Answer::kTakesStoredBytes) {
          if (!viewer.has_value() && record->has_value()) {
            return finish(answer.StoredBytes((*record)->data));
          }
        }
        std::optional<CallerAccess<T>> access;
        if (viewer.has_value()) access.emplace(policy_, *viewer);
        finish(answer.Resource(ops_.FromStored(
            name, *record, access.has_value() ? &*access : nullptr)));
      });
  return reactor;
}

template <typename T>
template <typename Request>
absl::StatusOr<ListPage<T>> ResourceAdapter<T>::ListFor(
    const Principal& caller, const Request& request) {
  const std::string parent = adapter_internal::ParentIn(request);
  ACCORD_ASSIGN_OR_RETURN(ListSource source, policy_.ListSourceOf(parent));
  std::function<bool(const T&)> visible;
  if (policy_.restricts_visibility()) {
    visible = [this, &caller](const T& resource) {
      const absl::StatusOr<bool> seen = policy_.Visible(caller, resource);
      return seen.ok() && *seen;
    };
  }
  return ListCollection<T>(
      wiring_.codec, wiring_.store, source.collection,
      {request.page_size(), request.page_token(), request.filter(),
       request.order_by(), request.show_deleted(), parent},
      policy_.ListOrder(), &ops_.indexes(), source.include, visible);
}

// Forwards the generated overrides of Create, List, Update, Delete and
// Undelete of `Resource` to `adapter`, inside a service class.
#define ACCORD_CRUD_METHODS(ns, Resource, Plural, adapter)                    \
  grpc::Status Create##Resource(grpc::ServerContext* context,                 \
                                const ns::Create##Resource##Request* request, \
                                ns::Resource* response) override {            \
    return adapter.Create(context, request, response);                        \
  }                                                                           \
  grpc::Status List##Plural(grpc::ServerContext* context,                     \
                            const ns::List##Plural##Request* request,         \
                            ns::List##Plural##Response* response) override {  \
    return adapter.List(context, request, response);                          \
  }                                                                           \
  grpc::Status Update##Resource(grpc::ServerContext* context,                 \
                                const ns::Update##Resource##Request* request, \
                                ns::Resource* response) override {            \
    return adapter.Update(context, request, response);                        \
  }                                                                           \
  grpc::Status Delete##Resource(grpc::ServerContext* context,                 \
                                const ns::Delete##Resource##Request* request, \
                                ns::Resource* response) override {            \
    return adapter.Delete(context, request, response);                        \
  }                                                                           \
  grpc::Status Undelete##Resource(                                            \
      grpc::ServerContext* context,                                           \
      const ns::Undelete##Resource##Request* request, ns::Resource* response) \
      override {                                                              \
    return adapter.Undelete(context, request, response);                      \
  }

// The standard methods of a resource with revisions (AIP-162): the CRUD
// methods and List…Revisions. Get is separate, see below.
#define ACCORD_STANDARD_METHODS(ns, Resource, Plural, adapter)    \
  ACCORD_CRUD_METHODS(ns, Resource, Plural, adapter)              \
  grpc::Status List##Resource##Revisions(                         \
      grpc::ServerContext* context,                               \
      const ns::List##Resource##RevisionsRequest* request,        \
      ns::List##Resource##RevisionsResponse* response) override { \
    return adapter.ListRevisions(context, request, response);     \
  }

// Get on the callback API (the service class derives from
// WithCallbackMethod_Get<Resource>).
#define ACCORD_CALLBACK_GET(ns, Resource, adapter)                       \
  grpc::ServerUnaryReactor* Get##Resource(                               \
      grpc::CallbackServerContext* context,                              \
      const ns::Get##Resource##Request* request, ns::Resource* response) \
      override {                                                         \
    return adapter.Get(context, request, response);                      \
  }

// Get on the raw callback API (the service class derives from
// WithRawCallbackMethod_Get<Resource>): for resources without visibility
// rules, answered with the stored bytes.
#define ACCORD_RAW_CALLBACK_GET(ns, Resource, adapter)                       \
  grpc::ServerUnaryReactor* Get##Resource(                                   \
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request, \
      grpc::ByteBuffer* response) override {                                 \
    return adapter.template GetRaw<ns::Get##Resource##Request>(              \
        context, request, response);                                         \
  }

// Get on the synchronous API, for resources whose visibility reads Redis.
#define ACCORD_SYNC_GET(ns, Resource, adapter)                          \
  grpc::Status Get##Resource(grpc::ServerContext* context,              \
                             const ns::Get##Resource##Request* request, \
                             ns::Resource* response) override {         \
    return adapter.Get(context, request, response);                     \
  }

}  // namespace accord

#endif  // ACCORD_COMMON_RESOURCE_ADAPTER_H_
