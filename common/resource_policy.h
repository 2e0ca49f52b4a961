#ifndef ACCORD_COMMON_RESOURCE_POLICY_H_
#define ACCORD_COMMON_RESOURCE_POLICY_H_

// Everything particular to one resource, behind one interface: its store
// hooks (validation, completion, change planning, event annotation; see
// resource_hooks.h), whom it belongs to and who may see it, and the few
// choices of its standard methods (parent, list order, create defaults).
// A resource's module (e.g. services/agreement/committee_resource.h)
// implements it; ResourceAdapter serves the standard methods with it.
//
// Example:
//   class OfficialPolicy final : public ResourcePolicy<v1::Official> {
//     std::string event_prefix() const override { return "accord.official.v1";
//     }
//     ...
//   };

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/auth.h"
#include "common/errors.h"
#include "common/events.h"
#include "common/resource_hooks.h"
#include "common/resource_schema.h"

namespace accord {

// Which stored records a List reads: a collection (or an index across
// parents) and optionally which of its names to include.
struct ListSource {
  std::string collection;
  std::function<bool(absl::string_view)> include;
};

// One standard write about to run, as ResourcePolicy::BeginWrite sees it.
enum class WriteVerb { kCreate, kUpdate, kDelete, kUndelete };
template <typename T>
struct PendingWrite {
  WriteVerb verb;
  const Principal& caller;
  // The resource of a Create (completed by PrepareCreate) or the patch of
  // an Update, which the policy may change; null for Delete and Undelete.
  T* incoming = nullptr;
  // The resource's name; for a Create, the name it will have if the
  // request chose its id, else empty.
  absl::string_view name;
  // Paths an Update sets (empty: every field set in the patch).
  std::vector<std::string> update_paths;
  absl::string_view request_id;
};

// Whatever a policy holds while one write runs (a lock, a value the change
// plan reads); released when the write is over.
using WriteHold = std::shared_ptr<void>;

template <typename T>
class ResourcePolicy : public StoreHooks<T> {
 public:
  // What a caller needs to read the resource, and to write it.
  virtual Access read_access() const { return Access::kRead; }
  virtual Access write_access() const { return Access::kWrite; }

  // The institutions a record belongs to for authorisation: an editor may
  // change it only if it acts for one of them (before and after the
  // change). May read other records (a session's committee). Resources
  // that are not scoped (scoped() false) are authorised by their handlers.
  virtual bool scoped() const { return true; }
  virtual absl::StatusOr<std::vector<std::string>> Scope(const T&) const {
    return std::vector<std::string>();
  }

  // Whether `caller` may see the record at all; records it may not see are
  // reported as absent (NOT_FOUND), never as forbidden. Only consulted when
  // restricts_visibility().
  virtual bool restricts_visibility() const { return false; }
  virtual absl::StatusOr<bool> Visible(const Principal&, const T&) const {
    return true;
  }

  // The answer when a Create or change would leave the record out of its
  // caller's sight. By default the record is reported absent, as if the
  // caller could not see it in the first place.
  virtual absl::Status RefuseInvisibleResult(const Principal&,
                                             const T& resource) const {
    return ErrorWithReason(absl::StatusCode::kNotFound,
                           absl::StrCat(resource.name(), " does not exist"),
                           "NOT_FOUND");
  }

  // Whether Get is served on gRPC's callback API, answered from the Redis
  // client's batch thread: only if Visible and AddComputedFields read
  // nothing from Redis.
  virtual bool async_get() const { return true; }

  // Fills the fields that are computed at read time, not stored (a
  // webhook's delivery health), of records a Get or List is about to
  // return.
  virtual absl::Status AddComputedFields(std::vector<T*>) const {
    return absl::OkStatus();
  }

  // Called before each standard write, after the caller is authenticated
  // and (for a Create) PrepareCreate ran: checks what the store's own
  // checks cannot (a per-owner cap) and may take input-only fields off
  // `incoming`. The hold it returns lives until the write is over. An
  // error fails the call; nothing is written.
  virtual absl::StatusOr<WriteHold> BeginWrite(PendingWrite<T>&) const {
    return WriteHold();
  }

  // Checks the `parent` of a Create (empty for a top-level resource) for
  // `caller`, before anything else is judged.
  virtual absl::Status CheckCreateParent(absl::string_view,
                                         const Principal&) const {
    return absl::OkStatus();
  }

  // Completes the request's resource before Create: defaults, and output
  // fields that Create derives from the request (a first transition).
  virtual void PrepareCreate(T&, const ChangeContext&) const {}

  // Whether a Create or Update that failed with `status` is tried once
  // more (after the policy refreshed what made it fail, such as a cache).
  virtual bool RetryAfter(const absl::Status&) const { return false; }

  // The fields List may order by.
  virtual std::vector<std::string> ListOrder() const {
    return {"name", "create_time", "update_time"};
  }

  // What a List under `parent` reads (parent empty at the top level).
  virtual absl::StatusOr<ListSource> ListSourceOf(absl::string_view) const {
    return ListSource{SchemaOf<T>().collection, nullptr};
  }
};

}  // namespace accord

#endif  // ACCORD_COMMON_RESOURCE_POLICY_H_
