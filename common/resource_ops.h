#ifndef ACCORD_COMMON_RESOURCE_OPS_H_
#define ACCORD_COMMON_RESOURCE_OPS_H_

// The AIP standard methods (Create, Get, Update, soft Delete, Undelete) for
// any resource message with the usual fields (`name`, `create_time`,
// `update_time`, `delete_time`, `etag`), built on RecordStore and WritePath.
// The collection, singular and writable fields come from the proto
// (SchemaOf<T>); what else is particular to a resource from its
// StoreHooks: validation, the preconditions and index updates of a change,
// whom a record concerns, and the event's other routing attributes. Every
// event's `institutions` and `country_codes` are derived here, in
// CommitChange, from the resource's Concerns and Countries, so no event
// type can forget them. Nothing here knows principals: the authorisation
// of a call comes in as an AccessCheck (null for internal use), made by
// the ResourceAdapter that serves the gRPC methods.
//
// Example:
//   ResourceOps<Institution> ops(store, write_path, institution_hooks);
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
#include "common/errors.h"
#include "common/event_types.h"
#include "common/events.h"
#include "common/ids.h"
#include "common/record_store.h"
#include "common/resource_hooks.h"
#include "common/resource_revisions.h"
#include "common/resource_schema.h"
#include "common/secondary_index.h"
#include "common/status_macros.h"
#include "common/write_path.h"
#include "google/protobuf/field_mask.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "google/protobuf/util/time_util.h"

namespace accord {

template <typename T>
class ResourceOps {
 public:
  // Aborts when `hooks` lack what every event needs (Concerns) or name a
  // standard event type that is not registered, or when T's proto schema
  // does not fit (SchemaOf): a wiring fault, found when the service starts
  // rather than by the first subscriber who misses an event.
  ResourceOps(RecordStore& store, WritePath& write_path,
              const StoreHooks<T>& hooks)
      : store_(store),
        write_path_(write_path),
        hooks_(hooks),
        schema_(SchemaOf<T>()),
        indexes_(schema_.collection, *T::descriptor(), hooks.indexed_fields()) {
    CheckHooksOrDie();
  }

  const ResourceSchema& schema() const { return schema_; }
  const SecondaryIndexes& indexes() const { return indexes_; }

  // Adds the records written before an index existed to it (a start-up
  // task); see SecondaryIndexes::Backfill.
  absl::StatusOr<int> BackfillIndexes() {
    return indexes_.Backfill(store_, write_path_, T::default_instance());
  }
  RecordStore& store() { return store_; }

  // The event of `type` about `resource`, with every routing attribute
  // (institutions and countries concerned, annotate_event's fields): what
  // each change emits, and what a service's own announcements about a
  // record (an entry into force) carry.
  absl::StatusOr<events::v1::Event> BuildEvent(
      const T& resource, absl::string_view type,
      const ChangeContext& context) const {
    events::v1::Event event =
        MakeEvent(hooks_.source(), type, resource.name(), resource, context);
    hooks_.AnnotateEvent(resource, event);
    ACCORD_RETURN_IF_ERROR(NameConcerned(resource, event));
    return event;
  }

  // `parent` is the parent's resource name for nested collections
  // ("committees/jec" for sessions), "" at the top level; the caller has
  // checked it.
  absl::StatusOr<T> Create(T resource, absl::string_view id,
                           absl::string_view request_id,
                           const ChangeContext& context,
                           absl::string_view parent = "",
                           const AccessCheck<T>* access = nullptr) {
    ACCORD_RETURN_IF_ERROR(CheckRequestId(request_id));
    std::string resource_id(id);
    if (resource_id.empty()) {
      resource_id = NewResourceId();
    } else if (parent.empty() ? !IsValidResourceId(resource_id)
                              : !IsValidChildResourceId(resource_id)) {
      return InvalidField(
          absl::StrCat(schema_.singular, "_id"),
          absl::StrCat("must be 1-63 characters of a-z, 0-9 and '-', "
                       "starting with a letter",
                       parent.empty() ? "" : " or digit",
                       " and not ending with '-'"));
    }
    const std::string collection =
        parent.empty() ? schema_.collection
                       : absl::StrCat(parent, "/", schema_.collection);
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
    ACCORD_RETURN_IF_ERROR(hooks_.Validate(resource));
    ACCORD_RETURN_IF_ERROR(CheckProposed(resource, access));
    ACCORD_RETURN_IF_ERROR(hooks_.Complete(resource));

    SetTimestamp(*resource.mutable_create_time(), context.time);
    SetTimestamp(*resource.mutable_update_time(), context.time);
    resource.set_etag(NewEtag());

    WritePlan plan;
    plan.IdempotencyKey(absl::StrCat("create:", schema_.collection),
                        request_id);
    plan.ExpectAbsent(RecordKey(name), [name, this] {
      return ErrorWithReason(absl::StatusCode::kAlreadyExists,
                             absl::StrCat(name, " already exists"),
                             "ALREADY_EXISTS",
                             absl::StrCat(schema_.singular, "_id"));
    });
    ACCORD_RETURN_IF_ERROR(hooks_.PlanChange(nullptr, &resource, plan));
    hooks_.PlanCompleted(resource, plan);
    plan.Write({"ZADD", IndexKey(collection), "0", name});
    return CommitChange(resource, nullptr, "created", context, plan, access);
  }

  // `access` null reads without visibility checks (internal use).
  // `name@revision_id` reads that revision (resources with revisions).
  absl::StatusOr<T> Get(absl::string_view name,
                        const AccessCheck<T>* access = nullptr) {
    if constexpr (HasRevisions<T>) {
      if (absl::StrContains(name, '@')) return GetRevision(name, access);
    }
    ACCORD_RETURN_IF_ERROR(CheckName(name, "name"));
    ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> record,
                            store_.Get(name));
    return FromStored(name, record, access);
  }

  // What Get answers for the stored `record` of `name`: NOT_FOUND when it
  // is absent or, with `access` set, invisible to its caller.
  absl::StatusOr<T> FromStored(absl::string_view name,
                               const std::optional<StoredRecord>& record,
                               const AccessCheck<T>* access) {
    if (!record.has_value()) return NotFound(name);
    ACCORD_ASSIGN_OR_RETURN(T resource, ParseRecord<T>(*record));
    if (access != nullptr) {
      ACCORD_ASSIGN_OR_RETURN(bool visible, access->Visible(resource));
      if (!visible) return NotFound(name);
    }
    return resource;
  }

  // Revision `revision_id` of the resource, from `name@revision_id`.
  // NOT_FOUND when there is no such revision, or when `access` (if set)
  // may not see the record as it is now or as it was in that revision.
  absl::StatusOr<T> GetRevision(absl::string_view name_at_revision,
                                const AccessCheck<T>* access) {
    const size_t at = name_at_revision.find('@');
    const absl::string_view name = name_at_revision.substr(0, at);
    const absl::string_view revision_id = name_at_revision.substr(at + 1);
    ACCORD_RETURN_IF_ERROR(CheckName(name, "name"));
    if (!IsValidRevisionId(revision_id)) {
      return InvalidField("name",
                          "a revision id after '@' is 1-63 characters of "
                          "a-z and 0-9");
    }
    ACCORD_RETURN_IF_ERROR(Get(name, access).status());
    ACCORD_ASSIGN_OR_RETURN(std::optional<std::string> data,
                            store_.GetRevision(name, revision_id));
    if (!data.has_value()) return NotFound(name_at_revision);
    ACCORD_ASSIGN_OR_RETURN(T revision, ParseRevision(name, *data));
    if (access != nullptr) {
      ACCORD_ASSIGN_OR_RETURN(bool visible, access->Visible(revision));
      if (!visible) return NotFound(name_at_revision);
    }
    return revision;
  }

  // The resource as Accord knew it at `read_time`: its revision current
  // then, deleted or not. NOT_FOUND if it had none yet, or if `access`
  // does not let it see the record now or that revision.
  absl::StatusOr<T> GetAsOf(absl::string_view name, absl::Time read_time,
                            const AccessCheck<T>* access) {
    ACCORD_RETURN_IF_ERROR(Get(name, access).status());
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
    if (access != nullptr) {
      ACCORD_ASSIGN_OR_RETURN(bool visible, access->Visible(revision));
      if (!visible) return NotFound(name);
    }
    return revision;
  }

  // One page of the revisions of `name`, newest first; those `access` does
  // not let it see are left out, and all of them if it may not see the record
  // as it is now (NOT_FOUND).
  absl::StatusOr<ListPage<T>> ListRevisions(absl::string_view name,
                                            int32_t requested_page_size,
                                            absl::string_view page_token,
                                            const PageTokenCodec& codec,
                                            const AccessCheck<T>* access) {
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
    ACCORD_RETURN_IF_ERROR(Get(name, access).status());
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
        if (access != nullptr) {
          ACCORD_ASSIGN_OR_RETURN(bool visible, access->Visible(revision));
          if (!visible) continue;
        }
        page.items.push_back(std::move(revision));
      }
      if (static_cast<int>(batch.size()) < page_size + 1) return page;
    }
  }

  // See UpgradeRecordsWithoutRevisions in resource_revisions.h.
  absl::StatusOr<int> UpgradeRecordsWithoutRevisions(
      absl::string_view index, const std::function<void(T&)>& refresh) {
    return accord::UpgradeRecordsWithoutRevisions<T>(store_, write_path_, index,
                                                     refresh);
  }

  // PERMISSION_DENIED (or NOT_FOUND) unless `access`, if set, lets its
  // caller edit `resource`.
  static absl::Status CheckEditable(const T& resource,
                                    const AccessCheck<T>* access) {
    if (access == nullptr) return absl::OkStatus();
    return access->CheckEditable(resource);
  }
  // The same for `resource` as a write would leave it.
  static absl::Status CheckProposed(const T& resource,
                                    const AccessCheck<T>* access) {
    if (access == nullptr) return absl::OkStatus();
    return access->CheckProposed(resource);
  }

  // `patch` carries the name, the new values and optionally the etag the
  // caller last saw. An empty mask means every field set in `patch`.
  absl::StatusOr<T> Update(const T& patch,
                           const google::protobuf::FieldMask& update_mask,
                           absl::string_view request_id,
                           const ChangeContext& context,
                           const AccessCheck<T>* access = nullptr) {
    ACCORD_RETURN_IF_ERROR(CheckRequestId(request_id));
    const std::string name_field = absl::StrCat(schema_.singular, ".name");
    ACCORD_RETURN_IF_ERROR(CheckName(patch.name(), name_field));
    ACCORD_ASSIGN_OR_RETURN(google::protobuf::FieldMask mask,
                            EffectiveMask(patch, update_mask));
    const std::string scope = absl::StrCat("update:", schema_.collection);
    ACCORD_ASSIGN_OR_RETURN(std::optional<T> replay,
                            Replayed(scope, request_id));
    if (replay.has_value()) return ReplayFor(*std::move(replay), access);
    // Without a caller etag a lost race is retried on fresh data; with one,
    // it is the caller's conflict to resolve.
    constexpr int kAttempts = 5;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
      ACCORD_ASSIGN_OR_RETURN(StoredRecord record, Load(patch.name()));
      ACCORD_ASSIGN_OR_RETURN(T current, ParseRecord<T>(record));
      // Authorised first: a caller who may not change the record learns
      // nothing of its state (a restricted one stays NOT_FOUND).
      ACCORD_RETURN_IF_ERROR(CheckEditable(current, access));
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
      ACCORD_RETURN_IF_ERROR(hooks_.Validate(updated));
      ACCORD_RETURN_IF_ERROR(CheckProposed(updated, access));
      ACCORD_RETURN_IF_ERROR(hooks_.Complete(updated));
      SetTimestamp(*updated.mutable_update_time(), context.time);
      updated.set_etag(NewEtag());

      WritePlan plan;
      plan.IdempotencyKey(scope, request_id);
      plan.ExpectEtag(
          RecordKey(patch.name()), record.etag,
          [this, name = patch.name()] { return EtagMismatch(name); });
      ACCORD_RETURN_IF_ERROR(hooks_.PlanChange(&current, &updated, plan));
      hooks_.PlanCompleted(updated, plan);
      absl::StatusOr<T> result =
          CommitChange(updated, &current, "updated", context, plan, access,
                       false, record.etag);
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
                           const ChangeContext& context,
                           const AccessCheck<T>* access = nullptr) {
    return ChangeLiveness(name, etag, request_id, context, access,
                          /*delete_it=*/true);
  }

  absl::StatusOr<T> Undelete(absl::string_view name, absl::string_view etag,
                             absl::string_view request_id,
                             const ChangeContext& context,
                             const AccessCheck<T>* access = nullptr) {
    return ChangeLiveness(name, etag, request_id, context, access,
                          /*delete_it=*/false);
  }

  // OK if `name` names a resource of this collection.
  absl::Status CheckName(absl::string_view name,
                         absl::string_view field) const {
    return hooks_.CheckName(name, field);
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
      const T& before, const AccessCheck<T>* access,
      const std::function<void(WritePlan&)>& plan_extra = nullptr) {
    const std::string scope = absl::StrCat(verb, ":", schema_.collection);
    ACCORD_RETURN_IF_ERROR(CheckEditable(before, access));
    ACCORD_RETURN_IF_ERROR(CheckProposed(resource, access));
    SetTimestamp(*resource.mutable_update_time(), context.time);
    resource.set_etag(NewEtag());
    WritePlan plan;
    plan.IdempotencyKey(scope, request_id);
    plan.ExpectEtag(
        RecordKey(resource.name()), std::string(expected_etag),
        [this, name = resource.name()] { return EtagMismatch(name); });
    ACCORD_RETURN_IF_ERROR(hooks_.PlanChange(&before, &resource, plan));
    if (plan_extra) plan_extra(plan);
    return CommitChange(resource, &before, verb, context, plan, access, false,
                        std::string(expected_etag));
  }

  // The first result of an earlier custom call with this request_id.
  absl::StatusOr<std::optional<T>> ReplayedCustom(
      absl::string_view verb, absl::string_view request_id) {
    ACCORD_RETURN_IF_ERROR(CheckRequestId(request_id));
    return Replayed(absl::StrCat(verb, ":", schema_.collection), request_id);
  }

  // The first result of an earlier call with the same request_id, for the
  // caller of this one. Request ids are not per principal, so a caller who
  // may not change that record (another agency reusing or guessing the id)
  // gets an error that names nothing rather than the record.
  static absl::StatusOr<T> ReplayFor(T first, const AccessCheck<T>* access) {
    const absl::Status allowed = CheckEditable(first, access);
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
    SetProtoTimestamp(timestamp, time);
  }

  absl::Status EtagMismatch(absl::string_view name) const {
    return ErrorWithReason(
        absl::StatusCode::kAborted,
        absl::StrCat(name,
                     " was changed since the etag was read; read it "
                     "again and retry"),
        "ETAG_MISMATCH", absl::StrCat(schema_.singular, ".etag"));
  }

 private:
  static std::string NewEtag() {
    thread_local absl::BitGen bits;
    return absl::StrFormat("%016x", absl::Uniform<uint64_t>(bits));
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
      for (const std::string& field_name : schema_.writable_fields) {
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
      if (std::find(schema_.writable_fields.begin(),
                    schema_.writable_fields.end(),
                    top) == schema_.writable_fields.end()) {
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
                                   const AccessCheck<T>* access,
                                   bool delete_it) {
    ACCORD_RETURN_IF_ERROR(CheckRequestId(request_id));
    ACCORD_RETURN_IF_ERROR(CheckName(name, "name"));
    const std::string scope =
        absl::StrCat(delete_it ? "delete:" : "undelete:", schema_.collection);
    // A retried call finds the record already changed: answer from the
    // request_id record before judging the state.
    ACCORD_ASSIGN_OR_RETURN(std::optional<T> replay,
                            Replayed(scope, request_id));
    if (replay.has_value()) return ReplayFor(*std::move(replay), access);
    ACCORD_ASSIGN_OR_RETURN(StoredRecord record, Load(name));
    ACCORD_ASSIGN_OR_RETURN(T current, ParseRecord<T>(record));
    ACCORD_RETURN_IF_ERROR(CheckEditable(current, access));
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
    ACCORD_RETURN_IF_ERROR(hooks_.PlanChange(
        delete_it ? &current : nullptr, delete_it ? nullptr : &changed, plan));
    return CommitChange(changed, &current, delete_it ? "deleted" : "undeleted",
                        context, plan, access, /*deleted=*/delete_it,
                        record.etag);
  }

  std::string EventTypeOf(absl::string_view verb) const {
    return verb == "created" && !hooks_.created_event_type().empty()
               ? hooks_.created_event_type()
               : absl::StrCat(hooks_.event_prefix(), ".", verb);
  }

  bool Internal() const {
    return IsInternalEventType(absl::StrCat(hooks_.event_prefix(), "."));
  }

  void CheckHooksOrDie() const {
    if (Internal()) return;
    std::vector<std::string> faults;
    if (!hooks_.has_concerns()) faults.push_back("no `Concerns` hook");
    for (const char* verb : {"created", "updated", "deleted", "undeleted"}) {
      const std::string type = EventTypeOf(verb);
      if (FindEventType(type) == nullptr) {
        faults.push_back(absl::StrCat(type, " is not a registered event type"));
      }
    }
    if (faults.empty()) return;
    std::fprintf(stderr, "StoreHooks of %s: %s\n", schema_.collection.c_str(),
                 absl::StrJoin(faults, "; ").c_str());
    std::abort();
  }

  // Names on `event` every institution `resource` concerns, with their
  // countries.
  absl::Status NameConcerned(const T& resource,
                             events::v1::Event& event) const {
    if (!hooks_.has_concerns()) return absl::OkStatus();  // internal only
    ACCORD_ASSIGN_OR_RETURN(Concerned concerned, hooks_.Concerns(resource));
    absl::flat_hash_map<std::string, std::string> resolved;
    const std::vector<std::string> names = concerned.ToResolve();
    if (!names.empty()) {
      ACCORD_ASSIGN_OR_RETURN(resolved, hooks_.Countries(names));
    }
    concerned.Fill(resolved, event);
    return absl::OkStatus();
  }

  // `before` is the stored record the change replaces (null on create).
  absl::StatusOr<T> CommitChange(T resource, const T* before,
                                 absl::string_view verb,
                                 const ChangeContext& context, WritePlan& plan,
                                 const AccessCheck<T>* access,
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
    // So are the secondary indexes.
    indexes_.PlanChange(before, &resource, plan);
    // The audit trail is written in the same atomic step as the change.
    redis_keys::AuditEntry audit;
    audit.principal = context.principal;
    audit.method = context.method;
    audit.resource = resource.name();
    audit.time = context.time;
    audit.request_id = context.request_id;
    audit.old_etag = old_etag;
    audit.new_etag = resource.etag();
    plan.Write(redis_keys::AuditEntryCommand(audit));
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
    return ReplayFor(std::move(first), access);
  }

  RecordStore& store_;
  WritePath& write_path_;
  const StoreHooks<T>& hooks_;
  const ResourceSchema& schema_;
  const SecondaryIndexes indexes_;
};

}  // namespace accord

#endif  // ACCORD_COMMON_RESOURCE_OPS_H_
