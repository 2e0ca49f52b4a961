#ifndef ACCORD_COMMON_RESOURCE_HOOKS_H_
#define ACCORD_COMMON_RESOURCE_HOOKS_H_

// What the generic store operations (ResourceOps) need to know of one
// resource: its checks, the preconditions and index writes of a change,
// and whom its events concern. A resource's module implements these in its
// ResourcePolicy (resource_policy.h), which adds authorisation; nothing
// here knows principals. The authorisation of one call reaches ResourceOps
// only as an AccessCheck, made by the ResourceAdapter.

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/events.h"
#include "common/ids.h"
#include "common/resource_schema.h"
#include "common/secondary_index.h"
#include "common/write_path.h"

namespace accord {

// Whom a record concerns: what every event about it carries in
// `institutions` and `country_codes`, so that a subscriber filtering on an
// institution or a country hears of every change that involves it.
//
// Example (a session):
//   Concerned concerned;
//   concerned.AddInstitutions(committee.member_institutions());
//   concerned.AddCountry(session.place().country_code());
class Concerned {
 public:
  // An institution whose country the service's resolver looks up. Empty
  // names and repeats are ignored.
  void AddInstitution(absl::string_view name) {
    if (name.empty()) return;
    for (const std::string& known : institutions_) {
      if (known == name) return;
    }
    institutions_.emplace_back(name);
  }
  template <typename Names>
  void AddInstitutions(const Names& names) {
    for (const auto& name : names) AddInstitution(name);
  }
  // An institution whose country the record itself gives: an institution's
  // own, which its stored record may not hold yet (created) or may hold as
  // it was before this change.
  void AddInstitution(absl::string_view name, absl::string_view country_code) {
    AddInstitution(name);
    if (!name.empty()) stated_[name] = std::string(country_code);
  }
  // A country concerned without an institution, such as a session's place.
  void AddCountry(absl::string_view country_code) {
    if (!country_code.empty()) places_.emplace_back(country_code);
  }

  const std::vector<std::string>& institutions() const { return institutions_; }

  // The institutions whose country the resolver must find.
  std::vector<std::string> ToResolve() const {
    std::vector<std::string> names;
    for (const std::string& name : institutions_) {
      if (!stated_.contains(name)) names.push_back(name);
    }
    return names;
  }

  // Replaces the event's `institutions` and `country_codes`: every
  // institution, then the country of each (stated, else `resolved`; none
  // for one that was not found) and the places', without repeats.
  void Fill(const absl::flat_hash_map<std::string, std::string>& resolved,
            events::v1::Event& event) const {
    event.clear_institutions();
    event.clear_country_codes();
    std::vector<std::string> codes;
    auto add_code = [&codes](const std::string& code) {
      if (code.empty()) return;
      if (std::find(codes.begin(), codes.end(), code) == codes.end()) {
        codes.push_back(code);
      }
    };
    for (const std::string& name : institutions_) {
      event.add_institutions(name);
      const auto stated = stated_.find(name);
      if (stated != stated_.end()) {
        add_code(stated->second);
        continue;
      }
      const auto found = resolved.find(name);
      if (found != resolved.end()) add_code(found->second);
    }
    for (const std::string& code : places_) add_code(code);
    for (std::string& code : codes) event.add_country_codes(std::move(code));
  }

 private:
  std::vector<std::string> institutions_;
  absl::flat_hash_map<std::string, std::string> stated_;
  std::vector<std::string> places_;
};

// A service's answer to "in which country is each of these institutions":
// the ISO code of every one it can find. Unknown and deleted institutions
// are left out, never an error (an event about an agreement still names a
// party that was deleted since, without its country); an error means the
// answer could not be had at all (UNAVAILABLE), and fails the write rather
// than emit an event that a country's subscribers would miss.
using CountryResolver =
    std::function<absl::StatusOr<absl::flat_hash_map<std::string, std::string>>(
        const std::vector<std::string>& institutions)>;

// The authorisation of one call as ResourceOps applies it, without knowing
// who the caller is. Null where ResourceOps takes one: the service's own
// internal reads and writes, which skip per-object checks.
template <typename T>
class AccessCheck {
 public:
  virtual ~AccessCheck() = default;
  // OK if the caller may change `resource`; NOT_FOUND if it may not even
  // see it, PERMISSION_DENIED otherwise.
  virtual absl::Status CheckEditable(const T& resource) const = 0;
  // OK if the caller may write `resource` as a Create or change would
  // leave it; by default the same answer as CheckEditable.
  virtual absl::Status CheckProposed(const T& resource) const {
    return CheckEditable(resource);
  }
  // Whether the caller may see `resource`; records it may not see are
  // reported as absent, never as forbidden.
  virtual absl::StatusOr<bool> Visible(const T& resource) const = 0;
};

// The store-level half of a resource's policy. The collection, singular
// and writable fields come from the proto (SchemaOf<T>), not from here.
template <typename T>
class StoreHooks {
 public:
  virtual ~StoreHooks() = default;

  // "accord.institution.v1": standard events are `<prefix>.<verb>`.
  virtual std::string event_prefix() const = 0;
  // "//accord/institution".
  virtual std::string source() const = 0;
  // The event type of a creation, when it is not `<prefix>.created` (e.g.
  // `accord.agreement.v1.recorded`).
  virtual std::string created_event_type() const { return ""; }

  // Checks a resource name, INVALID_ARGUMENT on `field`. By default
  // `collection/{id}` at the top level.
  virtual absl::Status CheckName(absl::string_view name,
                                 absl::string_view field) const {
    return ParseResourceName(name, SchemaOf<T>().collection, field).status();
  }

  // Checks a complete resource before anything is written. Field paths in
  // errors start with the singular.
  virtual absl::Status Validate(const T& resource) const = 0;

  // Runs after Validate on the resource about to be written: checks that
  // need other services, fills derived output-only fields.
  virtual absl::Status Complete(T&) const { return absl::OkStatus(); }

  // Adds the preconditions of what Complete checked outside the write
  // (referenced records still live), so the write is refused if they
  // changed since. Called by Create and Update, which run Complete.
  virtual void PlanCompleted(const T&, WritePlan&) const {}

  // Adds the preconditions and index writes of a change. `before` is the
  // live resource before the change (nullptr if it was absent or deleted),
  // `after` the live resource after it (nullptr if the change deletes it).
  virtual absl::Status PlanChange(const T* before, const T* after,
                                  WritePlan& plan) const = 0;

  // Whom the record concerns (see Concerned), for every event about it.
  // May read other records (a session's committee). Only resources whose
  // events are internal may leave it out (has_concerns false).
  virtual bool has_concerns() const { return true; }
  virtual absl::StatusOr<Concerned> Concerns(const T&) const {
    return Concerned();
  }

  // The service's resolver of institution names to country codes.
  virtual absl::StatusOr<absl::flat_hash_map<std::string, std::string>>
  Countries(const std::vector<std::string>&) const {
    return absl::flat_hash_map<std::string, std::string>();
  }

  // Fills the event's other routing attributes (agreements, committees,
  // cooperation areas, restricted_to). `institutions` and `country_codes`
  // are replaced afterwards from Concerns.
  // Fields of the records kept in secondary indexes for List's filters
  // and order_by (common/secondary_index.h).
  virtual std::vector<IndexedField> indexed_fields() const { return {}; }
  virtual void AnnotateEvent(const T&, events::v1::Event&) const {}
};

}  // namespace accord

#endif  // ACCORD_COMMON_RESOURCE_HOOKS_H_
