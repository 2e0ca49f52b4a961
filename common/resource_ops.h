#ifndef ACCORD_COMMON_RESOURCE_OPS_H_
#define ACCORD_COMMON_RESOURCE_OPS_H_

// The AIP standard methods (Create, Get, Update, soft Delete, Undelete) for
// any resource message with the usual fields (`name`, `create_time`,
// `update_time`, `delete_time`, `etag`), built on RecordStore and WritePath.
// A service supplies what is particular to a resource through
// ResourceTraits: validation, the preconditions and index updates of a
// change, whom a record concerns, and the event's other routing attributes.
// Every event's `institutions` and `country_codes` are derived here, in
// CommitChange, from the resource's `concerns` hook and the service's
// `countries` resolver, so no event type can forget them.
//
// Example:
//   ResourceOps<Institution> ops(store, write_path, InstitutionTraits());
//   ACCORD_ASSIGN_OR_RETURN(Institution created,
//                           ops.Create(request.institution(),
//                                      request.institution_id(),
//                                      request.request_id(), context));

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/auth.h"
#include "common/errors.h"
#include "common/event_types.h"
#include "common/events.h"
#include "common/ids.h"
#include "common/record_store.h"
#include "common/status_macros.h"
#include "common/write_path.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"

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

template <typename T>
struct ResourceTraits {
  std::string collection;    // "institutions", or "sessions" when nested
  std::string singular;      // "institution": request field and error paths
  std::string event_prefix;  // "accord.institution.v1"
  std::string source;        // "//accord/institution"
  // Fields that Update may change (top-level names); `*` means all of them.
  std::vector<std::string> writable_fields;

  // Checks a resource name (and returns INVALID_ARGUMENT on `field`).
  // Unset: `collection/{id}` at the top level.
  std::function<absl::Status(absl::string_view name, absl::string_view field)>
      check_name;

  // Checks a complete resource before anything is written. Field paths in
  // errors start with `singular`.
  std::function<absl::Status(const T&)> validate;

  // Optional. Runs after `validate` on the resource about to be written:
  // checks that need other services and fills derived output-only fields.
  std::function<absl::Status(T&)> complete;

  // Optional. The event type of a creation, when it is not
  // `<event_prefix>.created` (e.g. `accord.agreement.v1.recorded`).
  std::string created_event_type;

  // Adds the preconditions and index writes of a change. `before` is the
  // live resource before the change (nullptr if it was absent or deleted),
  // `after` the live resource after it (nullptr if the change deletes it).
  std::function<absl::Status(const T* before, const T* after, WritePlan& plan)>
      plan_change;

  // Optional. Adds the preconditions of what `complete` checked outside the
  // write (referenced records still live), so the write is refused if they
  // changed since. Called by Create and Update, which run `complete`.
  std::function<void(const T& after, WritePlan& plan)> plan_completed;

  // The institutions a record belongs to for authorisation: an editor may
  // change it only if it acts for one of them (before and after the
  // change). May read other records (a session's committee).
  std::function<absl::StatusOr<std::vector<std::string>>(const T&)> scope;

  // Optional. Whether `caller` may see the record at all; records it may
  // not see are reported as absent (NOT_FOUND), never as forbidden.
  std::function<absl::StatusOr<bool>(const Principal&, const T&)> visible;

  // Required, unless the resource's events are internal: whom the record
  // concerns (see Concerned), for every event about it. May read other
  // records (a session's committee). ResourceOps refuses to be built
  // without it.
  std::function<absl::StatusOr<Concerned>(const T&)> concerns;

  // Required with `concerns`: the service's resolver of institution names
  // to country codes (its own store, or the agreement service's cached
  // view of the institution service).
  CountryResolver countries;

  // Optional. Fills the event's other routing attributes (agreements,
  // committees, cooperation areas, restricted_to). `institutions` and
  // `country_codes` are replaced afterwards from `concerns`.
  std::function<void(const T&, events::v1::Event&)> annotate_event;
};

// Resources that keep revisions (AIP-162): every accepted change stores an
// immutable copy of the record, with its revision id, time and principal.
template <typename T>
concept HasRevisions = requires(T resource) {
  resource.set_revision_id("");
  resource.mutable_revision_create_time();
  resource.set_revision_principal("");
};

template <typename T>
class ResourceOps {
 public:
  // Aborts when `traits` lack what every event needs (`concerns` and
  // `countries`) or name a standard event type that is not registered: a
  // wiring fault, found when the service starts rather than by the first
  // subscriber who misses an event.
  ResourceOps(RecordStore& store, WritePath& write_path,
              ResourceTraits<T> traits)
      : store_(store), write_path_(write_path), traits_(std::move(traits)) {
    CheckTraitsOrDie();
  }

  const ResourceTraits<T>& traits() const { return traits_; }

  // The event of `type` about `resource`, with every routing attribute
  // (institutions and countries concerned, annotate_event's fields): what
  // each change emits, and what a service's own announcements about a
  // record (an entry into force) carry.
  absl::StatusOr<events::v1::Event> BuildEvent(
      const T& resource, absl::string_view type,
      const ChangeContext& context) const {
    events::v1::Event event =
        MakeEvent(traits_.source, type, resource.name(), resource, context);
    if (traits_.annotate_event) traits_.annotate_event(resource, event);
    ACCORD_RETURN_IF_ERROR(NameConcerned(resource, event));
    return event;
  }

  // `parent` is the parent's resource name for nested collections
  // ("committees/jec" for sessions), "" at the top level; the caller has
  // checked it.
  absl::StatusOr<T> Create(T resource, absl::string_view id,
                           absl::string_view request_id,
                           const ChangeContext& context,
                           absl::string_view parent = "") {
    ACCORD_RETURN_IF_ERROR(CheckRequestId(request_id));
    std::string resource_id(id);
    if (resource_id.empty()) {
      resource_id = NewResourceId();
    } else if (parent.empty() ? !IsValidResourceId(resource_id)
                              : !IsValidChildResourceId(resource_id)) {
      return InvalidField(
          absl::StrCat(traits_.singular, "_id"),
          absl::StrCat("must be 1-63 characters of a-z, 0-9 and '-', "
                       "starting with a letter",
                       parent.empty() ? "" : " or digit",
                       " and not ending with '-'"));
    }
    const std::string collection =
        parent.empty() ? traits_.collection
                       : absl::StrCat(parent, "/", traits_.collection);
    const std::string name = absl::StrCat(collection, "/", resource_id);
    resource.set_name(name);
    resource.clear_create_time();
    resource.clear_update_time();
    resource.clear_delete_time();
    resource.clear_etag();
    if constexpr (HasRevisions<T>) {
      resource.clear_revision_id();
      resource.clear_revision_create_time();
      resource.clear_revision_principal();
    }
    ACCORD_RETURN_IF_ERROR(traits_.validate(resource));
    ACCORD_RETURN_IF_ERROR(CheckEditable(resource, context));
    if (traits_.complete) ACCORD_RETURN_IF_ERROR(traits_.complete(resource));

    SetTimestamp(*resource.mutable_create_time(), context.time);
    SetTimestamp(*resource.mutable_update_time(), context.time);
    resource.set_etag(NewEtag());

    WritePlan plan;
    plan.IdempotencyKey(absl::StrCat("create:", traits_.collection),
                        request_id);
    plan.ExpectAbsent(RecordKey(name), [name, this] {
      return ErrorWithReason(absl::StatusCode::kAlreadyExists,
                             absl::StrCat(name, " already exists"),
                             "ALREADY_EXISTS",
                             absl::StrCat(traits_.singular, "_id"));
    });
    ACCORD_RETURN_IF_ERROR(traits_.plan_change(nullptr, &resource, plan));
    if (traits_.plan_completed) traits_.plan_completed(resource, plan);
    plan.Write({"ZADD", IndexKey(collection), "0", name});
    return CommitChange(resource, "created", context, plan);
  }

  // `caller` null reads without visibility checks (internal use).
  // `name@revision_id` reads that revision (resources with revisions).
  absl::StatusOr<T> Get(absl::string_view name,
                        const Principal* caller = nullptr) {
    if constexpr (HasRevisions<T>) {
      if (absl::StrContains(name, '@')) return GetRevision(name, caller);
    }
    ACCORD_RETURN_IF_ERROR(CheckName(name, "name"));
    ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> record,
                            store_.Get(name));
    return FromStored(name, record, caller);
  }

  // Get without blocking the calling thread: `done` runs on the Redis
  // client's batch thread. Only for resources whose `visible` reads
  // nothing from Redis, since it runs there too.
  void GetAsync(absl::string_view name, const Principal& caller,
                std::function<void(absl::StatusOr<T>)> done) {
    // A past revision is read synchronously: two reads, and rare.
    if (absl::StrContains(name, '@')) return done(Get(name, &caller));
    if (absl::Status valid = CheckName(name, "name"); !valid.ok()) {
      return done(valid);
    }
    std::optional<Principal> viewer;
    if (traits_.visible) viewer = caller;
    store_.GetAsync(name,
                    [this, name = std::string(name), viewer = std::move(viewer),
                     done = std::move(done)](
                        absl::StatusOr<std::optional<StoredRecord>> record) {
                      if (!record.ok()) return done(record.status());
                      done(FromStored(name, *record,
                                      viewer.has_value() ? &*viewer : nullptr));
                    });
  }

  // What Get answers for the stored `record` of `name`: NOT_FOUND when it
  // is absent or, with `caller` set, invisible to the caller.
  absl::StatusOr<T> FromStored(absl::string_view name,
                               const std::optional<StoredRecord>& record,
                               const Principal* caller) {
    if (!record.has_value()) return NotFound(name);
    ACCORD_ASSIGN_OR_RETURN(T resource, ParseRecord<T>(*record));
    if (caller != nullptr) {
      ACCORD_ASSIGN_OR_RETURN(bool visible, Visible(*caller, resource));
      if (!visible) return NotFound(name);
    }
    return resource;
  }

  // Whether `caller` may see `resource` (see ResourceTraits::visible).
  absl::StatusOr<bool> Visible(const Principal& caller, const T& resource) {
    if (!traits_.visible) return true;
    return traits_.visible(caller, resource);
  }

  // Revision `revision_id` of the resource, from `name@revision_id`.
  // NOT_FOUND when there is no such revision, or when `caller` (if set)
  // may not see the record as it is now or as it was in that revision.
  absl::StatusOr<T> GetRevision(absl::string_view name_at_revision,
                                const Principal* caller) {
    const size_t at = name_at_revision.find('@');
    const absl::string_view name = name_at_revision.substr(0, at);
    const absl::string_view revision_id = name_at_revision.substr(at + 1);
    ACCORD_RETURN_IF_ERROR(CheckName(name, "name"));
    if (!IsValidRevisionId(revision_id)) {
      return InvalidField("name",
                          "a revision id after '@' is 1-63 characters of "
                          "a-z and 0-9");
    }
    ACCORD_RETURN_IF_ERROR(Get(name, caller).status());
    ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> data,
                            store_.GetRevision(name, revision_id));
    if (!data.has_value()) return NotFound(name_at_revision);
    ACCORD_ASSIGN_OR_RETURN(T revision, ParseRevision(name, *data));
    if (caller != nullptr) {
      ACCORD_ASSIGN_OR_RETURN(bool visible, Visible(*caller, revision));
      if (!visible) return NotFound(name_at_revision);
    }
    return revision;
  }

  // The resource as Accord knew it at `read_time`: its revision current
  // then, deleted or not. NOT_FOUND if it had none yet, or if `caller`
  // may not see the record now or that revision.
  absl::StatusOr<T> GetAsOf(absl::string_view name, absl::Time read_time,
                            const Principal* caller) {
    ACCORD_RETURN_IF_ERROR(Get(name, caller).status());
    ACCORD_ASSIGN_OR_RETURN(
        std::vector<std::optional<StoredRevision>> found,
        store_.RevisionsAt({std::string(name)}, absl::ToUnixMicros(read_time)));
    if (!found.front().has_value()) {
      return ErrorWithReason(
          absl::StatusCode::kNotFound,
          absl::StrCat(name, " was not recorded yet at read_time"),
          "NOT_FOUND");
    }
    ACCORD_ASSIGN_OR_RETURN(T revision,
                            ParseRevision(name, found.front()->data));
    if (caller != nullptr) {
      ACCORD_ASSIGN_OR_RETURN(bool visible, Visible(*caller, revision));
      if (!visible) return NotFound(name);
    }
    return revision;
  }

  // One page of the revisions of `name`, newest first; those `caller` may
  // not see are left out, and all of them if it may not see the record as
  // it is now (NOT_FOUND).
  absl::StatusOr<ListPage<T>> ListRevisions(absl::string_view name,
                                            int32_t requested_page_size,
                                            absl::string_view page_token,
                                            const PageTokenCodec& codec,
                                            const Principal* caller) {
    ACCORD_ASSIGN_OR_RETURN(int page_size,
                            EffectivePageSize(requested_page_size));
    const std::string fingerprint = absl::StrCat("revisions\x1f", name);
    std::optional<int64_t> before;
    if (!page_token.empty()) {
      ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> cursor,
                              codec.Decode(page_token, fingerprint));
      int64_t micros = 0;
      if (cursor.size() != 1 || !absl::SimpleAtoi(cursor.front(), &micros)) {
        return InvalidField("page_token", "does not fit this request");
      }
      before = micros;
    }
    // After the token, so an oversized one is refused on `page_token`
    // whatever the name.
    ACCORD_RETURN_IF_ERROR(CheckName(name, "name"));
    ACCORD_RETURN_IF_ERROR(Get(name, caller).status());
    ListPage<T> page;
    while (true) {
      // One more than the page needs tells whether another page exists.
      ACCORD_ASSIGN_OR_RETURN(
          std::vector<StoredRevision> batch,
          store_.RevisionsBefore(name, before, page_size + 1));
      for (const StoredRevision& stored : batch) {
        if (static_cast<int>(page.items.size()) == page_size) {
          page.next_page_token =
              codec.Encode(fingerprint, {absl::StrCat(*before)});
          return page;
        }
        before = stored.micros;
        ACCORD_ASSIGN_OR_RETURN(T revision, ParseRevision(name, stored.data));
        if (caller != nullptr) {
          ACCORD_ASSIGN_OR_RETURN(bool visible, Visible(*caller, revision));
          if (!visible) continue;
        }
        page.items.push_back(std::move(revision));
      }
      if (static_cast<int>(batch.size()) < page_size + 1) return page;
    }
  }

  // Gives every record of `index` (a collection, or an index of all of a
  // nested kind) written before revisions were kept its first revision,
  // after `refresh` (optional) re-derives its output-only fields. The
  // revision is dated at the record's last update and has no principal;
  // the record keeps its etag (nothing a client wrote changed) and no event
  // is emitted. A record changed meanwhile is left for its writer, whose
  // change makes a revision anyway. Returns how many were upgraded.
  absl::StatusOr<int> UpgradeRecordsWithoutRevisions(
      absl::string_view index, const std::function<void(T&)>& refresh) {
    int upgraded = 0;
    if constexpr (HasRevisions<T>) {
      std::vector<std::pair<StoredRecord, T>> legacy;
      absl::Status parse_status;
      ACCORD_RETURN_IF_ERROR(
          store_.Scan(index, "", [&](const StoredRecord& record) {
            absl::StatusOr<T> resource = ParseRecord<T>(record);
            if (!resource.ok()) {
              parse_status = resource.status();
              return false;
            }
            if (resource->revision_id().empty()) {
              legacy.emplace_back(record, *std::move(resource));
            }
            return true;
          }));
      ACCORD_RETURN_IF_ERROR(parse_status);
      for (auto& [record, resource] : legacy) {
        if (refresh) refresh(resource);
        const absl::Time when =
            resource.has_update_time()
                ? absl::FromUnixNanos(
                      google::protobuf::util::TimeUtil::TimestampToNanoseconds(
                          resource.update_time()))
                : absl::Now();
        WritePlan plan;
        plan.ExpectEtag(RecordKey(record.name), record.etag,
                        absl::AbortedError("changed meanwhile"));
        const int64_t micros = StampRevision(resource, when, "");
        const std::string serialized = resource.SerializeAsString();
        PlanRevision(resource, micros, serialized, plan);
        plan.PutRecord(RecordKey(record.name), serialized, record.etag,
                       record.deleted);
        absl::StatusOr<WriteOutcome> outcome = write_path_.Commit(plan);
        if (outcome.ok()) {
          ++upgraded;
        } else if (outcome.status().code() != absl::StatusCode::kAborted) {
          return outcome.status();
        }
      }
    }
    return upgraded;
  }

  // PERMISSION_DENIED unless the change's caller may edit `resource`.
  absl::Status CheckEditable(const T& resource,
                             const ChangeContext& context) const {
    if (context.caller == nullptr || !traits_.scope) return absl::OkStatus();
    if (traits_.visible) {
      ACCORD_ASSIGN_OR_RETURN(bool visible,
                              traits_.visible(*context.caller, resource));
      if (!visible) return NotFound(resource.name());
    }
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> scope,
                            traits_.scope(resource));
    if (!context.caller->CanEdit(scope)) {
      return PermissionDenied(absl::StrCat(
          context.caller->id, " may not change ",
          resource.name().empty() ? traits_.singular : resource.name(),
          ": it acts for none of its institutions"));
    }
    return absl::OkStatus();
  }

  // `patch` carries the name, the new values and optionally the etag the
  // caller last saw. An empty mask means every field set in `patch`.
  absl::StatusOr<T> Update(const T& patch,
                           const google::protobuf::FieldMask& update_mask,
                           absl::string_view request_id,
                           const ChangeContext& context) {
    ACCORD_RETURN_IF_ERROR(CheckRequestId(request_id));
    const std::string name_field = absl::StrCat(traits_.singular, ".name");
    ACCORD_RETURN_IF_ERROR(CheckName(patch.name(), name_field));
    ACCORD_ASSIGN_OR_RETURN(google::protobuf::FieldMask mask,
                            EffectiveMask(patch, update_mask));
    const std::string scope = absl::StrCat("update:", traits_.collection);
    ACCORD_ASSIGN_OR_RETURN(std::optional<T> replay,
                            Replayed(scope, request_id));
    if (replay.has_value()) return ReplayFor(*std::move(replay), context);
    // Without a caller etag a lost race is retried on fresh data; with one,
    // it is the caller's conflict to resolve.
    constexpr int kAttempts = 5;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      ACCORD_ASSIGN_OR_RETURN(StoredRecord record, Load(patch.name()));
      ACCORD_ASSIGN_OR_RETURN(T current, ParseRecord<T>(record));
      // Authorised first: a caller who may not change the record learns
      // nothing of its state (a restricted one stays NOT_FOUND).
      ACCORD_RETURN_IF_ERROR(CheckEditable(current, context));
      if (record.deleted) {
        return ErrorWithReason(
            absl::StatusCode::kFailedPrecondition,
            absl::StrCat(patch.name(), " is deleted; undelete it first"),
            "DELETED");
      }
      if (!patch.etag().empty() && patch.etag() != record.etag) {
        return EtagMismatch(patch.name());
      }
      T updated = current;
      google::protobuf::util::FieldMaskUtil::MergeOptions options;
      options.set_replace_message_fields(true);
      options.set_replace_repeated_fields(true);
      google::protobuf::util::FieldMaskUtil::MergeMessageTo(patch, mask,
                                                            options, &updated);
      ACCORD_RETURN_IF_ERROR(traits_.validate(updated));
      ACCORD_RETURN_IF_ERROR(CheckEditable(updated, context));
      if (traits_.complete) ACCORD_RETURN_IF_ERROR(traits_.complete(updated));
      SetTimestamp(*updated.mutable_update_time(), context.time);
      updated.set_etag(NewEtag());

      WritePlan plan;
      plan.IdempotencyKey(scope, request_id);
      plan.ExpectEtag(
          RecordKey(patch.name()), record.etag,
          [this, name = patch.name()] { return EtagMismatch(name); });
      ACCORD_RETURN_IF_ERROR(traits_.plan_change(&current, &updated, plan));
      if (traits_.plan_completed) traits_.plan_completed(updated, plan);
      absl::StatusOr<T> result =
          CommitChange(updated, "updated", context, plan, false, record.etag);
      if (!result.ok() && ReasonOf(result.status()) == "ETAG_MISMATCH" &&
          patch.etag().empty()) {
        continue;
      }
      return result;
    }
    return absl::AbortedError(absl::StrCat(
        patch.name(), " changed concurrently too often; try again"));
  }

  absl::StatusOr<T> Delete(absl::string_view name, absl::string_view etag,
                           absl::string_view request_id,
                           const ChangeContext& context) {
    return ChangeLiveness(name, etag, request_id, context, /*delete=*/true);
  }

  absl::StatusOr<T> Undelete(absl::string_view name, absl::string_view etag,
                             absl::string_view request_id,
                             const ChangeContext& context) {
    return ChangeLiveness(name, etag, request_id, context, /*delete=*/false);
  }

  // OK if `name` names a resource of this collection.
  absl::Status CheckName(absl::string_view name,
                         absl::string_view field) const {
    if (traits_.check_name) return traits_.check_name(name, field);
    return ParseResourceName(name, traits_.collection, field).status();
  }

  // Loads the stored resource; NOT_FOUND if absent (soft-deleted ones are
  // returned, with `deleted` set).
  absl::StatusOr<StoredRecord> Load(absl::string_view name) {
    ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> record,
                            store_.Get(name));
    if (!record.has_value()) return NotFound(name);
    return *std::move(record);
  }

  // The one answer for absent and invisible records alike.
  static absl::Status NotFound(absl::string_view name) {
    return ErrorWithReason(absl::StatusCode::kNotFound,
                           absl::StrCat(name, " does not exist"), "NOT_FOUND");
  }

  // Writes `resource` (already changed by the caller) if its stored etag
  // is still `expected_etag`, with an event of type
  // `<event_prefix>.<verb>`. For custom methods such as
  // RecordAgreementAction. `plan_extra`, when set, adds preconditions.
  absl::StatusOr<T> CommitCustom(
      T resource, absl::string_view expected_etag, absl::string_view verb,
      absl::string_view request_id, const ChangeContext& context,
      const T& before,
      const std::function<void(WritePlan&)>& plan_extra = nullptr) {
    const std::string scope = absl::StrCat(verb, ":", traits_.collection);
    ACCORD_RETURN_IF_ERROR(CheckEditable(before, context));
    ACCORD_RETURN_IF_ERROR(CheckEditable(resource, context));
    SetTimestamp(*resource.mutable_update_time(), context.time);
    resource.set_etag(NewEtag());
    WritePlan plan;
    plan.IdempotencyKey(scope, request_id);
    plan.ExpectEtag(
        RecordKey(resource.name()), std::string(expected_etag),
        [this, name = resource.name()] { return EtagMismatch(name); });
    ACCORD_RETURN_IF_ERROR(traits_.plan_change(&before, &resource, plan));
    if (plan_extra) plan_extra(plan);
    return CommitChange(resource, verb, context, plan, false,
                        std::string(expected_etag));
  }

  // The first result of an earlier custom call with this request_id.
  absl::StatusOr<std::optional<T>> ReplayedCustom(
      absl::string_view verb, absl::string_view request_id) {
    ACCORD_RETURN_IF_ERROR(CheckRequestId(request_id));
    return Replayed(absl::StrCat(verb, ":", traits_.collection), request_id);
  }

  // The first result of an earlier call with the same request_id, for the
  // caller of this one. Request ids are not per principal, so a caller who
  // may not change that record (another agency reusing or guessing the id)
  // gets an error that names nothing rather than the record.
  absl::StatusOr<T> ReplayFor(T first, const ChangeContext& context) const {
    const absl::Status allowed = CheckEditable(first, context);
    if (allowed.code() == absl::StatusCode::kPermissionDenied ||
        allowed.code() == absl::StatusCode::kNotFound) {
      return ErrorWithReason(
          absl::StatusCode::kAlreadyExists,
          "request_id was already used for another change; use a new one",
          "REQUEST_ID_REUSED", "request_id");
    }
    ACCORD_RETURN_IF_ERROR(allowed);
    return first;
  }

  static void SetTimestamp(google::protobuf::Timestamp& timestamp,
                           absl::Time time) {
    timestamp = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
        absl::ToUnixNanos(time));
  }

  absl::Status EtagMismatch(absl::string_view name) const {
    return ErrorWithReason(
        absl::StatusCode::kAborted,
        absl::StrCat(name,
                     " was changed since the etag was read; read it "
                     "again and retry"),
        "ETAG_MISMATCH", absl::StrCat(traits_.singular, ".etag"));
  }

 private:
  static std::string NewEtag() {
    thread_local absl::BitGen bits;
    return absl::StrFormat("%016x", absl::Uniform<uint64_t>(bits));
  }

  // A revision id (AIP-162): 8 random characters of a-z and 0-9.
  static std::string NewRevisionId() {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    thread_local absl::BitGen bits;
    std::string id(8, 'a');
    for (char& c : id) c = kAlphabet[absl::Uniform(bits, 0u, 36u)];
    return id;
  }

  static bool IsValidRevisionId(absl::string_view id) {
    if (id.empty() || id.size() > 63) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    });
  }

  absl::StatusOr<T> ParseRevision(absl::string_view name,
                                  const std::string& data) const {
    T revision;
    if (!revision.ParseFromString(data)) {
      return absl::DataLossError(
          absl::StrCat("stored revision of ", name, " does not decode"));
    }
    return revision;
  }

  // Makes `resource` a new revision made at `when` by `principal`; returns
  // its time in microseconds. That time is strictly after the revision it
  // replaces (the record's stored one, still on `resource`), so revisions
  // stay in order even across replicas whose clocks disagree by a little.
  static int64_t StampRevision(T& resource, absl::Time when,
                               absl::string_view principal) {
    int64_t micros = absl::ToUnixMicros(when);
    if constexpr (HasRevisions<T>) {
      google::protobuf::Timestamp time;
      SetTimestamp(time, when);
      if (resource.has_revision_create_time()) {
        const int64_t previous =
            google::protobuf::util::TimeUtil::TimestampToMicroseconds(
                resource.revision_create_time());
        if (micros <= previous) {
          micros = previous + 1;
          time =
              google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros);
        }
      }
      resource.set_revision_id(NewRevisionId());
      *resource.mutable_revision_create_time() = time;
      resource.set_revision_principal(std::string(principal));
    }
    return micros;
  }

  // Keeps `serialized`, the stamped `resource`, as its revision.
  static void PlanRevision(const T& resource, int64_t micros,
                           const std::string& serialized, WritePlan& plan) {
    if constexpr (HasRevisions<T>) {
      plan.Write({"HSET", RevisionDataKey(resource.name()),
                  resource.revision_id(), serialized});
      plan.Write({"ZADD", RevisionIndexKey(resource.name()),
                  absl::StrCat(micros), resource.revision_id()});
    }
  }

  static absl::Status CheckRequestId(absl::string_view request_id) {
    if (!request_id.empty() && !IsValidRequestId(request_id)) {
      return InvalidField("request_id",
                          "must be 1-128 characters of A-Z, a-z, 0-9, '.', "
                          "'_', '~' and '-' (a UUID is recommended)");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<T>> Replayed(absl::string_view scope,
                                            absl::string_view request_id) {
    ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> prior,
                            write_path_.PriorResult(scope, request_id));
    if (!prior.has_value()) return std::optional<T>();
    T first;
    if (!first.ParseFromString(*prior)) {
      return absl::DataLossError("stored request result does not decode");
    }
    return std::optional<T>(std::move(first));
  }

  absl::StatusOr<google::protobuf::FieldMask> EffectiveMask(
      const T& patch, const google::protobuf::FieldMask& requested) const {
    google::protobuf::FieldMask mask;
    const auto* descriptor = T::descriptor();
    const bool replace_all =
        requested.paths_size() == 1 && requested.paths(0) == "*";
    if (requested.paths_size() == 0 || replace_all) {
      // AIP-134: no mask updates the fields that are set; `*` replaces all
      // writable fields.
      const auto* reflection = patch.GetReflection();
      for (const std::string& field_name : traits_.writable_fields) {
        const auto* field = descriptor->FindFieldByName(field_name);
        const bool present = field->is_repeated()
                                 ? reflection->FieldSize(patch, field) > 0
                                 : reflection->HasField(patch, field);
        if (replace_all || present) mask.add_paths(field_name);
      }
      return mask;
    }
    for (const std::string& path : requested.paths()) {
      const std::string top = path.substr(0, path.find('.'));
      if (std::find(traits_.writable_fields.begin(),
                    traits_.writable_fields.end(),
                    top) == traits_.writable_fields.end()) {
        return InvalidField(
            "update_mask",
            absl::StrCat("\"", path, "\" is not a field that can be updated"));
      }
      if (!google::protobuf::util::FieldMaskUtil::GetFieldDescriptors(
              descriptor, path, nullptr)) {
        return InvalidField("update_mask",
                            absl::StrCat("\"", path, "\" is not a field"));
      }
      mask.add_paths(path);
    }
    return mask;
  }

  absl::StatusOr<T> ChangeLiveness(absl::string_view name,
                                   absl::string_view etag,
                                   absl::string_view request_id,
                                   const ChangeContext& context,
                                   bool delete_it) {
    ACCORD_RETURN_IF_ERROR(CheckRequestId(request_id));
    ACCORD_RETURN_IF_ERROR(CheckName(name, "name"));
    const std::string scope =
        absl::StrCat(delete_it ? "delete:" : "undelete:", traits_.collection);
    // A retried call finds the record already changed: answer from the
    // request_id record before judging the state.
    ACCORD_ASSIGN_OR_RETURN(std::optional<T> replay,
                            Replayed(scope, request_id));
    if (replay.has_value()) return ReplayFor(*std::move(replay), context);
    ACCORD_ASSIGN_OR_RETURN(StoredRecord record, Load(name));
    ACCORD_ASSIGN_OR_RETURN(T current, ParseRecord<T>(record));
    ACCORD_RETURN_IF_ERROR(CheckEditable(current, context));
    if (record.deleted == delete_it) {
      return delete_it
                 ? ErrorWithReason(absl::StatusCode::kNotFound,
                                   absl::StrCat(name, " is already deleted"),
                                   "DELETED")
                 : ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                                   absl::StrCat(name, " is not deleted"),
                                   "NOT_DELETED");
    }
    if (!etag.empty() && etag != record.etag) return EtagMismatch(name);
    T changed = current;
    if (delete_it) {
      SetTimestamp(*changed.mutable_delete_time(), context.time);
    } else {
      changed.clear_delete_time();
    }
    SetTimestamp(*changed.mutable_update_time(), context.time);
    changed.set_etag(NewEtag());
    WritePlan plan;
    plan.IdempotencyKey(scope, request_id);
    plan.ExpectEtag(
        RecordKey(name), record.etag,
        [this, name = std::string(name)] { return EtagMismatch(name); });
    ACCORD_RETURN_IF_ERROR(traits_.plan_change(
        delete_it ? &current : nullptr, delete_it ? nullptr : &changed, plan));
    return CommitChange(changed, delete_it ? "deleted" : "undeleted", context,
                        plan, /*deleted=*/delete_it, record.etag);
  }

  std::string EventTypeOf(absl::string_view verb) const {
    return verb == "created" && !traits_.created_event_type.empty()
               ? traits_.created_event_type
               : absl::StrCat(traits_.event_prefix, ".", verb);
  }

  bool Internal() const {
    return IsInternalEventType(absl::StrCat(traits_.event_prefix, "."));
  }

  void CheckTraitsOrDie() const {
    if (Internal()) return;
    std::vector<std::string> faults;
    if (!traits_.concerns) faults.push_back("no `concerns` hook");
    if (!traits_.countries) faults.push_back("no `countries` resolver");
    for (const char* verb : {"created", "updated", "deleted", "undeleted"}) {
      const std::string type = EventTypeOf(verb);
      if (FindEventType(type) == nullptr) {
        faults.push_back(absl::StrCat(type, " is not a registered event type"));
      }
    }
    if (faults.empty()) return;
    std::fprintf(stderr, "ResourceTraits of %s: %s\n",
                 traits_.collection.c_str(),
                 absl::StrJoin(faults, "; ").c_str());
    std::abort();
  }

  // Names on `event` every institution `resource` concerns, with their
  // countries.
  absl::Status NameConcerned(const T& resource,
                             events::v1::Event& event) const {
    if (!traits_.concerns) return absl::OkStatus();  // internal events only
    ACCORD_ASSIGN_OR_RETURN(Concerned concerned, traits_.concerns(resource));
    absl::flat_hash_map<std::string, std::string> resolved;
    const std::vector<std::string> names = concerned.ToResolve();
    if (!names.empty()) {
      ACCORD_ASSIGN_OR_RETURN(resolved, traits_.countries(names));
    }
    concerned.Fill(resolved, event);
    return absl::OkStatus();
  }

  absl::StatusOr<T> CommitChange(T resource, absl::string_view verb,
                                 const ChangeContext& context, WritePlan& plan,
                                 bool deleted = false,
                                 const std::string& old_etag = "") {
    // Subscribers choose events by registered type: an unregistered one
    // could be neither asked for nor documented.
    const std::string type = EventTypeOf(verb);
    if (FindEventType(type) == nullptr && !IsInternalEventType(type)) {
      return absl::InternalError(absl::StrCat(
          type, " is not a registered event type (common/event_types.cc)"));
    }
    const int64_t revision_micros =
        StampRevision(resource, context.time, context.principal);
    const std::string serialized = resource.SerializeAsString();
    // The revision is kept in the same atomic step as the change.
    PlanRevision(resource, revision_micros, serialized, plan);
    plan.PutRecord(RecordKey(resource.name()), serialized, resource.etag(),
                   deleted);
    // The audit trail is written in the same atomic step as the change.
    plan.Write({"XADD", kAuditStream, "*", "principal", context.principal,
                "method", context.method, "resource", resource.name(), "time",
                absl::FormatTime(absl::RFC3339_full, context.time,
                                 absl::UTCTimeZone()),
                "request_id", context.request_id, "old_etag", old_etag,
                "new_etag", resource.etag()});
    ACCORD_ASSIGN_OR_RETURN(events::v1::Event event,
                            BuildEvent(resource, type, context));
    plan.Emit(event);
    plan.Result(serialized);
    ACCORD_ASSIGN_OR_RETURN(WriteOutcome outcome, write_path_.Commit(plan));
    if (!outcome.replayed) return resource;
    T first;
    if (!first.ParseFromString(outcome.result)) {
      return absl::DataLossError("stored request result does not decode");
    }
    return ReplayFor(std::move(first), context);
  }

  RecordStore& store_;
  WritePath& write_path_;
  ResourceTraits<T> traits_;
};

}  // namespace accord

#endif  // ACCORD_COMMON_RESOURCE_OPS_H_
