#ifndef ACCORD_COMMON_SECONDARY_INDEX_H_
#define ACCORD_COMMON_SECONDARY_INDEX_H_

// Secondary indexes of a collection, so that a List with a filter or an
// `order_by` reads the records that can match instead of all of them.
//
// A resource declares the fields to index (StoreHooks::indexed_fields).
// Each is kept in Redis beside the records, in the same atomic write as the
// record (ResourceOps::CommitChange), soft-deleted records included:
//   equality index   one sorted set per value, members the names of the
//                    records having that value (any element of a repeated
//                    field): `kind = KIND_TREATY`, `parties: "…"`
//   ordered index    one sorted set per field, members `<sort key>\0<name>`
//                    (SortKey of common/list.h): range filters
//                    (`signing_date >= "2021"`) and `order_by` that field
// Both are scored 0 and read with ZRANGEBYLEX, so a walk can start after a
// page token's cursor.
//
// PlanList chooses where a List's candidates come from: the smallest
// applicable index (sizes asked in one round trip), the other equality
// indexes checked for each candidate with ZMSCORE before any record is
// read, or the whole collection (a scan) when no index applies. The filter
// is always evaluated in full over the records read, so an index only has
// to hold every record that can match. The plan is named in the List's
// response metadata (`accord-list-plan`) and counted in
// accord_list_queries_total.
//
// An index is used only once its backfill marked it complete (Backfill,
// a start-up task): records written before the index existed are added
// first. VerifyIndexes compares every index with a full scan (tests and
// operators).
//
// Example:
//   SecondaryIndexes indexes("agreements", *Agreement::descriptor(),
//                            {{"kind"}, {"signing_date", true}});
//   indexes.PlanChange(&before, &after, plan);  // in the record's plan
//   ACCORD_ASSIGN_OR_RETURN(ListCandidates candidates,
//                           PlanList(redis, &indexes, "agreements", query));

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/list.h"
#include "common/record_store.h"
#include "common/redis/client.h"
#include "common/write_path.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace accord {

// A field of a collection's records to index.
struct IndexedField {
  // A top-level field: string, enum, integer or bool, singular or
  // repeated; an ordered field is singular (string, enum, integer or
  // Timestamp).
  std::string field;
  // Kept in value order (range filters and order_by on the field) rather
  // than by value (equality filters).
  bool ordered = false;
};

// The indexes of one collection. Immutable after construction, so safe to
// share between threads.
class SecondaryIndexes {
 public:
  // No indexes.
  SecondaryIndexes() = default;
  // Aborts when a field is not one of `descriptor`'s or has a type it
  // cannot index: a wiring fault, found when the service starts.
  SecondaryIndexes(std::string collection,
                   const google::protobuf::Descriptor& descriptor,
                   std::vector<IndexedField> fields);

  bool empty() const { return fields_.empty(); }
  const std::string& collection() const { return collection_; }

  // The index writes turning `before`'s entries into `after`'s (either
  // null for a record created or gone), for the record's own plan.
  void PlanChange(const google::protobuf::Message* before,
                  const google::protobuf::Message* after,
                  WritePlan& plan) const;

  // Adds every record of the collection to the indexes not yet marked
  // complete, then marks them; each record's entries are written only if
  // the record is unchanged since it was read (a concurrent write keeps
  // its own entries). Returns the number of records read.
  absl::StatusOr<int> Backfill(
      RecordStore& store, WritePath& write_path,
      const google::protobuf::Message& prototype) const;

  // Every difference between the indexes and the records, found by a full
  // scan: "missing <key> <member>" or "stale <key> <member>"; empty when
  // they agree.
  absl::StatusOr<std::vector<std::string>> Verify(
      RecordStore& store, const google::protobuf::Message& prototype) const;

  // An index entry: the sorted set and the member.
  using Entry = std::pair<std::string, std::string>;
  std::vector<Entry> EntriesOf(const google::protobuf::Message& record) const;

  // Of a field, the index key: per value for an equality index.
  std::string EqualityKey(const google::protobuf::FieldDescriptor& field,
                          absl::string_view value) const;
  std::string OrderedKey(const google::protobuf::FieldDescriptor& field) const;
  std::string ReadyKey(const google::protobuf::FieldDescriptor& field) const;

  // The indexed field `field` is, or null.
  const IndexedField* Find(
      const google::protobuf::FieldDescriptor* field) const;

 private:
  struct Indexed {
    IndexedField spec;
    const google::protobuf::FieldDescriptor* field = nullptr;
  };
  // Appends `record`'s entries in the index of `indexed`.
  void AppendEntries(const google::protobuf::Message& record,
                     const Indexed& indexed, const std::string& name,
                     std::vector<Entry>& entries) const;

  std::string collection_;
  const google::protobuf::FieldDescriptor* name_field_ = nullptr;
  std::vector<Indexed> fields_;
};

namespace index_internal {
class ListPlanner;
}  // namespace index_internal

// The candidates of one List, in batches, from PlanList.
class ListCandidates {
 public:
  // The order names come in: the query's when it is by name or by the
  // walked ordered field (so the listing may stop once its page is full),
  // or any (every candidate is read and sorted).
  enum class Order { kByName, kBySortKey, kAny };

  struct Batch {
    std::vector<std::string> names;
    // kBySortKey: the sort key of the last entry walked (every entry before
    // it in the walk's direction has been returned).
    std::string last_sort_key;
    bool last = false;  // nothing comes after this batch
  };
  absl::StatusOr<Batch> Next();

  Order order() const { return order_; }
  // What the listing reads: "scan", "index:<field>", "index:<field>:order"
  // or "index:<field>:empty".
  const std::string& plan() const { return plan_; }

 private:
  friend absl::StatusOr<ListCandidates> PlanList(RedisClient&,
                                                 const SecondaryIndexes*,
                                                 absl::string_view,
                                                 const ListQuery&);
  friend class index_internal::ListPlanner;
  explicit ListCandidates(RedisClient& redis) : redis_(&redis) {}
  // Keeps the names present in every semi-join index.
  absl::Status SemiJoin(std::vector<std::string>& names) const;

  RedisClient* redis_;
  Order order_ = Order::kByName;
  std::string plan_ = "scan";
  // A lexicographic walk of `key_` from `from_` to `to_` (ZRANGEBYLEX
  // bounds), backwards when `reverse_`; members are `<sort key>\0<name>`
  // when `sort_keyed_`.
  std::string key_;
  std::string from_ = "-";
  std::string to_ = "+";
  bool reverse_ = false;
  bool sort_keyed_ = false;
  // Instead of a walk: these names (already in order), from `next_`.
  bool fixed_ = false;
  std::vector<std::string> names_;
  size_t next_ = 0;
  bool done_ = false;
  std::vector<std::string> semi_join_;
};

// Where the List `query` over `collection` finds its candidates: an index
// of `indexes` (null: none) when one applies and is complete, else the
// collection's name index.
absl::StatusOr<ListCandidates> PlanList(RedisClient& redis,
                                        const SecondaryIndexes* indexes,
                                        absl::string_view collection,
                                        const ListQuery& query);

}  // namespace accord

#endif  // ACCORD_COMMON_SECONDARY_INDEX_H_
