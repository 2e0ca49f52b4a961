#ifndef ACCORD_COMMON_REDIS_KEYS_H_
#define ACCORD_COMMON_REDIS_KEYS_H_

// The whole Redis key schema of Accord in one place: every key and channel
// name the services read or write, with its Redis type and its writer, and
// the layout of an audit trail entry. Names change only together with a
// migration: replicas of two versions share the same Redis.
//
// Example:
//   plan.Write({"ZADD", redis_keys::IndexKey("institutions"), "0", name});
//   plan.Write(redis_keys::AuditEntryCommand(entry));

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/redis/client.h"

namespace accord::redis_keys {

// --- Events and audit (written by the write path's Lua, common/redis/lua) --

// Stream: every event, fields `type` and `event` (accord.events.v1.Event
// bytes); XADD by accord_apply and the notification library's emit.
inline constexpr char kEventStream[] = "accord:events";
// Pub/sub channels `accord:events:<event type>`: each event with its
// position appended, published by the same Lua that appends it.
inline constexpr char kEventChannelPrefix[] = "accord:events:";
// Stream: the append-only audit trail, one entry per accepted change
// (layout: AuditEntry below); written in the change's own write plan.
inline constexpr char kAuditStream[] = "accord:audit";

// Counter: incremented by the write path after each write when writes
// wait for replicas (--redis_min_replicas_acked), so that WAIT on that
// connection also covers a write an earlier connection made (a replayed
// request's first attempt).
inline constexpr char kReplicationFence[] = "accord:replication:fence";

// Hash {result, position}: the first outcome of an idempotent request,
// expiring after its TTL; written by accord_apply.
inline std::string RequestKey(absl::string_view method,
                              absl::string_view request_id) {
  return absl::StrCat("accord:request:", method, ":", request_id);
}

// --- Records (common/record_store, written by every service's plans) ------

// Hash {data, etag, deleted}: a resource by name ("institutions/x").
inline std::string RecordKey(absl::string_view name) {
  return absl::StrCat("accord:r:", name);
}
// Field names of a record hash: the serialized resource, its etag, and
// "1"/"0" for soft-deleted or live.
inline constexpr char kRecordData[] = "data";
inline constexpr char kRecordEtag[] = "etag";
inline constexpr char kRecordDeleted[] = "deleted";
// Sorted set (score 0, members names): the names of a collection
// ("institutions", "committees/jec/sessions"); read by List.
inline std::string IndexKey(absl::string_view collection) {
  return absl::StrCat("accord:index:", collection);
}
// Never written: the key a reference check (ExpectLive) names for a
// restricted record the caller may not cite, so the check fails exactly as
// for an absent record and nothing reveals that the record exists.
inline std::string WithheldRecordKey(absl::string_view name) {
  return absl::StrCat(RecordKey(name), ":withheld");
}
// Hash revision id -> serialized record: a resource's revisions (AIP-162).
inline std::string RevisionDataKey(absl::string_view name) {
  return absl::StrCat("accord:rev:", name);
}
// Sorted set (score micros, members revision ids): the same, in time order.
inline std::string RevisionIndexKey(absl::string_view name) {
  return absl::StrCat("accord:revs:", name);
}
// Sorted set (score 0, members names): the records of `collection` whose
// `field` has `value` (any element, for a repeated field), soft-deleted
// ones included; written in each record's plan (common/secondary_index.h).
inline std::string FieldIndexKey(absl::string_view collection,
                                 absl::string_view field,
                                 absl::string_view value) {
  return absl::StrCat("accord:idx:", collection, ":", field, "=", value);
}
// The SCAN pattern of every FieldIndexKey of a field (collection and field
// names hold no glob characters).
inline std::string FieldIndexPattern(absl::string_view collection,
                                     absl::string_view field) {
  return absl::StrCat("accord:idx:", collection, ":", field, "=*");
}
// Sorted set (score 0, members `<sort key>\0<name>`): the records of
// `collection` in the order of `field`; written like FieldIndexKey.
inline std::string OrderedIndexKey(absl::string_view collection,
                                   absl::string_view field) {
  return absl::StrCat("accord:ord:", collection, ":", field);
}
// String "1": the index of `field` holds every record of `collection`;
// set by the index backfill (a start-up task), read before an index is
// used.
inline std::string IndexReadyKey(absl::string_view collection,
                                 absl::string_view field) {
  return absl::StrCat("accord:idx-ready:", collection, ":", field);
}
// String: the page token signing secret shared by every replica (SET NX by
// the first replica that needs it, common/handler_support).
inline constexpr char kPageTokenSecret[] = "accord:secret:page_tokens";

// --- Institution service ---------------------------------------------------

// Set of names: the live children of an institution; written by the
// institution service's plans.
inline std::string ChildrenKey(absl::string_view parent) {
  return absl::StrCat("accord:children:", parent);
}
// Hash name -> folded search entry: the institution search index; written
// by the institution service's plans and its start-up backfill.
inline constexpr char kInstitutionSearchIndex[] = "accord:search:institutions";

// --- Agreement service -----------------------------------------------------

// String "1", kept for good: an entry into force already announced for a
// party on a date; set by EntryIntoForceAnnouncer in the announcing plan.
inline std::string EnteredIntoForceKey(absl::string_view agreement,
                                       absl::string_view party,
                                       absl::string_view date) {
  return absl::StrCat("accord:agreement:entered-into-force:", agreement, ":",
                      party, ":", date);
}

// --- Notification service --------------------------------------------------

// Set of subscription names: an owner's live subscriptions (per-owner cap);
// written by the notification service's plans.
inline std::string SubscriptionOwnerKey(absl::string_view owner) {
  return absl::StrCat("accord:subscriptions:owner:", owner);
}
// String: present once the owner sets were backfilled (start-up, once).
inline constexpr char kSubscriptionOwnersIndexed[] =
    "accord:subscriptions:owners-indexed";
// Hash subscription name -> webhook signing secret; written with the
// subscription's plans.
inline constexpr char kWebhookSecrets[] = "accord:notification:secrets";
// Sorted set (score due ms, members delivery names): deliveries due for an
// attempt; written by DeliveryStore and the notification Lua.
inline constexpr char kDeliveriesDue[] = "accord:notification:due";
// String counter: incremented by every subscription write so readers know
// when their cached subscriptions are stale.
inline constexpr char kSubscriptionsVersion[] =
    "accord:notification:subscriptions:version";
// String: the newest event ever trimmed from kEventStream (XTRIM does not
// move the stream's max-deleted-entry-id); written by accord_trim_events.
inline constexpr char kTrimmedThrough[] = "accord:notification:trimmed_through";
// Hash {data, event, round}: one delivery of an event to a subscription
// (by subscription id and stream position); written by DeliveryStore.
inline std::string DeliveryKey(absl::string_view subscription_id,
                               absl::string_view position) {
  return absl::StrCat("accord:notification:delivery:", subscription_id, ":",
                      position);
}
// Sorted set (score 0, members padded positions): a subscription's
// deliveries in stream order; written by DeliveryStore.
inline std::string DeliveryIndexKey(absl::string_view subscription_id) {
  return absl::StrCat("accord:notification:deliveries:", subscription_id);
}
// Hash {failures, failing, last_*}: a subscription's delivery health;
// written by accord_delivery_outcome.
inline std::string DeliveryHealthKey(absl::string_view subscription_id) {
  return absl::StrCat("accord:notification:health:", subscription_id);
}
// Sorted set (score 0, members padded positions): a subscription's
// deliveries not yet final; written by the notification Lua.
inline std::string UndeliveredKey(absl::string_view subscription_id) {
  return absl::StrCat("accord:notification:undelivered:", subscription_id);
}

// --- The audit entry -------------------------------------------------------

// One entry of kAuditStream. A field without a value is stored as "".
struct AuditEntry {
  std::string position;  // the stream ID; set by ParseAuditEntry only
  std::string principal;
  std::string method;  // the RPC, e.g. "CreateInstitution"
  std::string resource;
  absl::Time time = absl::InfinitePast();  // InfinitePast: unreadable
  std::string request_id;
  std::string old_etag;
  std::string new_etag;
};

// The XADD appending `entry` to kAuditStream (its time in RFC 3339, UTC);
// a write of the change's own plan, so the trail cannot miss a change.
std::vector<std::string> AuditEntryCommand(const AuditEntry& entry);

// An entry of an XRANGE/XREVRANGE reply ([id, [field, value, ...]]);
// unknown fields are ignored.
AuditEntry ParseAuditEntry(const RedisValue& entry);

}  // namespace accord::redis_keys

#endif  // ACCORD_COMMON_REDIS_KEYS_H_
