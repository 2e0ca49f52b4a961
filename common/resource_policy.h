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
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth.h"
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

template <typename T>
class ResourcePolicy : public StoreHooks<T> {
 public:
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

  // Whether Get is served on gRPC's callback API, answered from the Redis
  // client's batch thread: only if Visible reads nothing from Redis.
  virtual bool async_get() const { return true; }

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
