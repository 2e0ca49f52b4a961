#include "common/secondary_index.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/metrics.h"
#include "common/redis/keys.h"
#include "common/status_macros.h"

namespace accord {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Names per ZRANGEBYLEX of a walk; a batch's records are read in one
// pipeline.
constexpr int kWalkBatch = 256;
// With an order_by on an ordered index, a driving index at most this large
// is read whole and sorted in memory; a larger one is cheaper to check
// name by name (ZMSCORE) while walking the ordered index, which stops
// once the page is full.
constexpr long long kMaterializeLimit = 500;

bool Indexable(const FieldDescriptor& field, bool ordered) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
    case FieldDescriptor::CPPTYPE_ENUM:
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      return !ordered || !field.is_repeated();
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
    case FieldDescriptor::CPPTYPE_BOOL:
      return !ordered;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return ordered && !field.is_repeated() &&
             field.message_type()->full_name() == "google.protobuf.Timestamp";
    default:
      return false;
  }
}

// One value of `field` (element `index` of a repeated one) as the index
// spells it, the same spelling as RequiredComparison::value.
std::string ScalarText(const Message& message, const FieldDescriptor& field,
                       int index) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return repeated ? reflection.GetRepeatedString(message, &field, index)
                      : reflection.GetString(message, &field);
    case FieldDescriptor::CPPTYPE_ENUM:
      return absl::StrCat(
          repeated ? reflection.GetRepeatedEnumValue(message, &field, index)
                   : reflection.GetEnumValue(message, &field));
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(
          repeated ? reflection.GetRepeatedInt32(message, &field, index)
                   : reflection.GetInt32(message, &field));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(
          repeated ? reflection.GetRepeatedInt64(message, &field, index)
                   : reflection.GetInt64(message, &field));
    case FieldDescriptor::CPPTYPE_UINT32:
      return absl::StrCat(
          repeated ? reflection.GetRepeatedUInt32(message, &field, index)
                   : reflection.GetUInt32(message, &field));
    case FieldDescriptor::CPPTYPE_UINT64:
      return absl::StrCat(
          repeated ? reflection.GetRepeatedUInt64(message, &field, index)
                   : reflection.GetUInt64(message, &field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (repeated ? reflection.GetRepeatedBool(message, &field, index)
                       : reflection.GetBool(message, &field))
                 ? "true"
                 : "false";
    default:
      return "";
  }
}

// An ordered index member `<sort key>\0<name>` split at its last NUL
// (names hold none).
std::pair<std::string, std::string> SplitMember(const std::string& member) {
  const size_t nul = member.rfind('\0');
  if (nul == std::string::npos) return {"", member};
  return {member.substr(0, nul), member.substr(nul + 1)};
}

void CountPlan(absl::string_view collection, absl::string_view plan) {
  static const bool described = [] {
    Metrics::Global().Describe(
        "accord_list_queries_total", "counter",
        "List calls by what they read: `scan` (every record of the "
        "collection) or the secondary index they used.");
    return true;
  }();
  (void)described;
  Metrics::Global().Increment("accord_list_queries_total",
                              {{"collection", std::string(collection)},
                               {"plan", plan == "scan" ? "scan" : "index"}});
}

}  // namespace

SecondaryIndexes::SecondaryIndexes(std::string collection,
                                   const Descriptor& descriptor,
                                   std::vector<IndexedField> fields)
    : collection_(std::move(collection)),
      name_field_(descriptor.FindFieldByName("name")) {
  if (!fields.empty() &&
      (name_field_ == nullptr ||
       name_field_->cpp_type() != FieldDescriptor::CPPTYPE_STRING)) {
    std::fprintf(stderr, "%s: %s has no string name to index\n",
                 collection_.c_str(), descriptor.full_name().c_str());
    std::abort();
  }
  for (IndexedField& spec : fields) {
    const FieldDescriptor* field = descriptor.FindFieldByName(spec.field);
    if (field == nullptr || !Indexable(*field, spec.ordered)) {
      std::fprintf(stderr, "%s: cannot index field %s of %s\n",
                   collection_.c_str(), spec.field.c_str(),
                   descriptor.full_name().c_str());
      std::abort();
    }
    fields_.push_back({std::move(spec), field});
  }
}

const IndexedField* SecondaryIndexes::Find(const FieldDescriptor* field) const {
  for (const Indexed& indexed : fields_) {
    if (indexed.field == field) return &indexed.spec;
  }
  return nullptr;
}

std::string SecondaryIndexes::EqualityKey(const FieldDescriptor& field,
                                          absl::string_view value) const {
  return redis_keys::FieldIndexKey(collection_, field.name(), value);
}

std::string SecondaryIndexes::OrderedKey(const FieldDescriptor& field) const {
  return redis_keys::OrderedIndexKey(collection_, field.name());
}

std::string SecondaryIndexes::ReadyKey(const FieldDescriptor& field) const {
  return redis_keys::IndexReadyKey(collection_, field.name());
}

void SecondaryIndexes::AppendEntries(const Message& record,
                                     const Indexed& indexed,
                                     const std::string& name,
                                     std::vector<Entry>& entries) const {
  const FieldDescriptor& field = *indexed.field;
  if (indexed.spec.ordered) {
    entries.emplace_back(
        OrderedKey(field),
        absl::StrCat(SortKey(record, OrderField{&field, false}),
                     absl::string_view("\0", 1), name));
    return;
  }
  if (!field.is_repeated()) {
    std::string value = ScalarText(record, field, 0);
    // An empty string is "not set": nobody filters on it.
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING && value.empty()) {
      return;
    }
    entries.emplace_back(EqualityKey(field, value), name);
    return;
  }
  const size_t first = entries.size();
  const int size = record.GetReflection()->FieldSize(record, &field);
  for (int i = 0; i < size; ++i) {
    std::string key = EqualityKey(field, ScalarText(record, field, i));
    // Repeated values are indexed once (a handful per record: linear).
    if (std::any_of(
            entries.begin() + static_cast<std::ptrdiff_t>(first), entries.end(),
            [&key](const Entry& entry) { return entry.first == key; })) {
      continue;
    }
    entries.emplace_back(std::move(key), name);
  }
}

std::vector<SecondaryIndexes::Entry> SecondaryIndexes::EntriesOf(
    const Message& record) const {
  std::vector<Entry> entries;
  entries.reserve(fields_.size() + 4);
  const std::string name =
      record.GetReflection()->GetString(record, name_field_);
  for (const Indexed& indexed : fields_) {
    AppendEntries(record, indexed, name, entries);
  }
  return entries;
}

void SecondaryIndexes::PlanChange(const Message* before, const Message* after,
                                  WritePlan& plan) const {
  if (fields_.empty()) return;
  std::vector<Entry> new_entries;
  if (after != nullptr) new_entries = EntriesOf(*after);
  if (before == nullptr) {
    plan.AddToSortedSets(new_entries);
    return;
  }
  // A record's entries are a dozen or so: linear look-ups beat hashing.
  const auto absent_from = [](const std::vector<Entry>& entries) {
    return [&entries](const Entry& entry) {
      return std::find(entries.begin(), entries.end(), entry) == entries.end();
    };
  };
  std::vector<Entry> old_entries = EntriesOf(*before);
  std::vector<Entry> removed;
  std::copy_if(old_entries.begin(), old_entries.end(),
               std::back_inserter(removed), absent_from(new_entries));
  std::vector<Entry> added;
  std::copy_if(new_entries.begin(), new_entries.end(),
               std::back_inserter(added), absent_from(old_entries));
  plan.RemoveFromSortedSets(removed);
  plan.AddToSortedSets(added);
}

absl::StatusOr<int> SecondaryIndexes::Backfill(RecordStore& store,
                                               WritePath& write_path,
                                               const Message& prototype) const {
  if (fields_.empty()) return 0;
  std::vector<std::vector<std::string>> ready_reads;
  for (const Indexed& indexed : fields_) {
    ready_reads.push_back({"GET", ReadyKey(*indexed.field)});
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> ready,
                          store.redis().Pipeline(ready_reads));
  std::vector<const Indexed*> missing;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (ready[i].is_nil()) missing.push_back(&fields_[i]);
  }
  if (missing.empty()) return 0;
  int read = 0;
  absl::Status failure;
  const std::unique_ptr<Message> record(prototype.New());
  ACCORD_RETURN_IF_ERROR(
      store.Scan(collection_, "", [&](const StoredRecord& stored) {
        ++read;
        if (!record->ParseFromString(stored.data)) return true;
        WritePlan plan;
        plan.ExpectEtag(RecordKey(stored.name), stored.etag,
                        absl::AbortedError("changed meanwhile"));
        std::vector<Entry> entries;
        for (const Indexed* indexed : missing) {
          AppendEntries(*record, *indexed, stored.name, entries);
        }
        plan.AddToSortedSets(entries);
        const absl::StatusOr<WriteOutcome> outcome = write_path.Commit(plan);
        // Changed meanwhile: that write kept its own entries.
        if (!outcome.ok() &&
            outcome.status().code() != absl::StatusCode::kAborted) {
          failure = outcome.status();
          return false;
        }
        return true;
      }));
  ACCORD_RETURN_IF_ERROR(failure);
  std::vector<std::vector<std::string>> marks;
  for (const Indexed* indexed : missing) {
    marks.push_back({"SET", ReadyKey(*indexed->field), "1"});
  }
  ACCORD_RETURN_IF_ERROR(store.redis().Pipeline(marks).status());
  return read;
}

absl::StatusOr<std::vector<std::string>> SecondaryIndexes::Verify(
    RecordStore& store, const Message& prototype) const {
  absl::flat_hash_set<Entry> expected;
  const std::unique_ptr<Message> record(prototype.New());
  ACCORD_RETURN_IF_ERROR(
      store.Scan(collection_, "", [&](const StoredRecord& stored) {
        if (record->ParseFromString(stored.data)) {
          for (Entry& entry : EntriesOf(*record)) {
            expected.insert(std::move(entry));
          }
        }
        return true;
      }));
  RedisClient& redis = store.redis();
  std::vector<std::string> keys;
  for (const Indexed& indexed : fields_) {
    if (indexed.spec.ordered) {
      keys.push_back(OrderedKey(*indexed.field));
      continue;
    }
    std::string cursor = "0";
    do {
      ACCORD_ASSIGN_OR_RETURN(
          RedisValue reply,
          redis.Command({"SCAN", cursor, "MATCH",
                         redis_keys::FieldIndexPattern(collection_,
                                                       indexed.field->name()),
                         "COUNT", "1000"}));
      if (reply.elements.size() != 2) {
        return absl::InternalError("SCAN: malformed reply");
      }
      cursor = reply.elements[0].text;
      for (const RedisValue& key : reply.elements[1].elements) {
        keys.push_back(key.text);
      }
    } while (cursor != "0");
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<std::string> differences;
  absl::flat_hash_set<Entry> actual;
  for (const std::string& key : keys) {
    ACCORD_ASSIGN_OR_RETURN(RedisValue members,
                            redis.Command({"ZRANGE", key, "0", "-1"}));
    for (const RedisValue& member : members.elements) {
      Entry entry{key, member.text};
      if (!expected.contains(entry)) {
        differences.push_back(absl::StrCat("stale ", key, " ", member.text));
      }
      actual.insert(std::move(entry));
    }
  }
  for (const Entry& entry : expected) {
    if (!actual.contains(entry)) {
      differences.push_back(
          absl::StrCat("missing ", entry.first, " ", entry.second));
    }
  }
  std::sort(differences.begin(), differences.end());
  return differences;
}

absl::StatusOr<ListCandidates::Batch> ListCandidates::Next() {
  Batch batch;
  if (done_) {
    batch.last = true;
    return batch;
  }
  if (fixed_) {
    const size_t end = std::min(names_.size(), next_ + kWalkBatch);
    batch.names.assign(names_.begin() + static_cast<std::ptrdiff_t>(next_),
                       names_.begin() + static_cast<std::ptrdiff_t>(end));
    next_ = end;
    done_ = batch.last = next_ >= names_.size();
    ACCORD_RETURN_IF_ERROR(SemiJoin(batch.names));
    return batch;
  }
  const int size = kWalkBatch;
  const std::string limit = absl::StrCat(size);
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue reply, reverse_ ? redis_->Command({"ZREVRANGEBYLEX", key_, to_,
                                                    from_, "LIMIT", "0", limit})
                                 : redis_->Command({"ZRANGEBYLEX", key_, from_,
                                                    to_, "LIMIT", "0", limit}));
  const std::vector<RedisValue>& members = reply.elements;
  done_ = batch.last = members.size() < static_cast<size_t>(size);
  if (!members.empty()) {
    (reverse_ ? to_ : from_) = absl::StrCat("(", members.back().text);
  }
  batch.names.reserve(members.size());
  for (const RedisValue& member : members) {
    if (!sort_keyed_) {
      batch.names.push_back(member.text);
      continue;
    }
    auto [sort_key, name] = SplitMember(member.text);
    batch.last_sort_key = std::move(sort_key);
    batch.names.push_back(std::move(name));
  }
  ACCORD_RETURN_IF_ERROR(SemiJoin(batch.names));
  return batch;
}

absl::Status ListCandidates::SemiJoin(std::vector<std::string>& names) const {
  if (semi_join_.empty() || names.empty()) return absl::OkStatus();
  std::vector<std::vector<std::string>> lookups;
  for (const std::string& key : semi_join_) {
    std::vector<std::string> command = {"ZMSCORE", key};
    command.insert(command.end(), names.begin(), names.end());
    lookups.push_back(std::move(command));
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> replies,
                          redis_->Pipeline(lookups));
  std::vector<std::string> kept;
  for (size_t i = 0; i < names.size(); ++i) {
    bool everywhere = true;
    for (const RedisValue& reply : replies) {
      if (i >= reply.elements.size() || reply.elements[i].is_nil()) {
        everywhere = false;
        break;
      }
    }
    if (everywhere) kept.push_back(std::move(names[i]));
  }
  names = std::move(kept);
  return absl::OkStatus();
}

namespace index_internal {

// A candidate index for one List and its size.
struct Candidate {
  const FieldDescriptor* field = nullptr;
  bool range = false;     // a range of an ordered index, else an equality key
  std::string key;        // the sorted set
  std::string low = "-";  // range: ZRANGEBYLEX bounds
  std::string high = "+";
  long long size = 0;
};

// Member-space bounds of the range filters on one ordered string field:
// `key >= v` is `member >= v\0`, `key > v` is `member >= v\1`, `key <= v`
// is `member < v\1`, `key < v` is `member < v\0` (members are
// `<key>\0<name>`; the values hold no NUL).
struct Bounds {
  std::optional<std::string> low;   // inclusive
  std::optional<std::string> high;  // exclusive
  void Raise(std::string value) {
    if (!low.has_value() || value > *low) low = std::move(value);
  }
  void Lower(std::string value) {
    if (!high.has_value() || value < *high) high = std::move(value);
  }
  void Apply(const RequiredComparison& term) {
    using Op = RequiredComparison::Op;
    const std::string nul(1, '\0');
    const std::string one(1, '\1');
    switch (term.op) {
      case Op::kEqual:
        Raise(term.value + nul);
        Lower(term.value + one);
        break;
      case Op::kGreaterOrEqual:
        Raise(term.value + nul);
        break;
      case Op::kGreater:
        Raise(term.value + one);
        break;
      case Op::kLessOrEqual:
        Lower(term.value + one);
        break;
      case Op::kLess:
        Lower(term.value + nul);
        break;
    }
  }
  std::string LowArg() const { return low ? "[" + *low : "-"; }
  std::string HighArg() const { return high ? "(" + *high : "+"; }
  bool Empty() const { return low && high && *low >= *high; }
};

// Plans one List: which indexes the filter and order could use, which of
// them are complete and how large (one round trip), then the walk.
class ListPlanner {
 public:
  ListPlanner(RedisClient& redis, const SecondaryIndexes& indexes,
              const ListQuery& query, ListCandidates& candidates)
      : redis_(redis),
        indexes_(indexes),
        query_(query),
        candidates_(candidates) {}

  // False when no index applies (the caller scans).
  absl::StatusOr<bool> Plan() {
    Gather();
    if (equalities_.empty() && range_field_ == nullptr &&
        order_field_ == nullptr) {
      return false;
    }
    ACCORD_RETURN_IF_ERROR(AskSizes());
    if (usable_.empty() && order_field_ == nullptr) return false;
    const auto smallest = std::min_element(
        usable_.begin(), usable_.end(),
        [](const Candidate& a, const Candidate& b) { return a.size < b.size; });
    const Candidate* driver = smallest == usable_.end() ? nullptr : &*smallest;
    if (driver != nullptr && driver->size == 0) {
      candidates_.fixed_ = true;
      candidates_.plan_ =
          absl::StrCat("index:", driver->field->name(), ":empty");
      return true;
    }
    if (query_.ordered_by_name()) {
      ACCORD_RETURN_IF_ERROR(
          ReadDriver(*driver, ListCandidates::Order::kByName));
    } else if (order_field_ != nullptr &&
               (driver == nullptr || driver->size > kMaterializeLimit)) {
      WalkOrder();
    } else if (driver != nullptr) {
      ACCORD_RETURN_IF_ERROR(ReadDriver(*driver, ListCandidates::Order::kAny));
    } else {
      return false;
    }
    return true;
  }

 private:
  // The indexed conjuncts of the filter, and the order's ordered index.
  void Gather() {
    for (const RequiredComparison& term : query_.filter.RequiredComparisons()) {
      const IndexedField* indexed = indexes_.Find(term.field);
      if (indexed == nullptr) continue;
      if (!indexed->ordered) {
        // `x = ""` asks for records without x, which are not indexed.
        const bool unset =
            term.field->cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
            term.value.empty();
        if (term.op == RequiredComparison::Op::kEqual && !unset) {
          equalities_.push_back(
              {term.field, false,
               indexes_.EqualityKey(*term.field, term.value)});
        }
        continue;
      }
      if (term.field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) continue;
      if (range_field_ != nullptr && range_field_ != term.field) continue;
      range_field_ = term.field;
      bounds_.Apply(term);
    }
    if (query_.order.size() == 1) {
      const IndexedField* indexed = indexes_.Find(query_.order[0].field);
      if (indexed != nullptr && indexed->ordered) {
        order_field_ = query_.order[0].field;
      }
    }
  }

  // Which candidates are complete (backfilled), and their sizes.
  absl::Status AskSizes() {
    std::vector<std::vector<std::string>> asks;
    for (const Candidate& equality : equalities_) {
      asks.push_back({"GET", indexes_.ReadyKey(*equality.field)});
      asks.push_back({"ZCARD", equality.key});
    }
    if (range_field_ != nullptr) {
      asks.push_back({"GET", indexes_.ReadyKey(*range_field_)});
      if (!bounds_.Empty()) {
        asks.push_back({"ZLEXCOUNT", indexes_.OrderedKey(*range_field_),
                        bounds_.LowArg(), bounds_.HighArg()});
      }
    }
    if (order_field_ != nullptr) {
      asks.push_back({"GET", indexes_.ReadyKey(*order_field_)});
    }
    ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> replies,
                            redis_.Pipeline(asks));
    size_t reply = 0;
    for (Candidate& equality : equalities_) {
      const bool ready = !replies[reply++].is_nil();
      equality.size = replies[reply++].integer;
      if (ready) usable_.push_back(std::move(equality));
    }
    if (range_field_ != nullptr) {
      const bool ready = !replies[reply++].is_nil();
      // Contradictory bounds (`d > "2021" AND d < "2020"`) match nothing.
      const long long size = bounds_.Empty() ? 0 : replies[reply++].integer;
      if (ready) {
        usable_.push_back({range_field_, true,
                           indexes_.OrderedKey(*range_field_), bounds_.LowArg(),
                           bounds_.HighArg(), size});
      }
    }
    if (order_field_ != nullptr && replies[reply].is_nil()) {
      order_field_ = nullptr;
    }
    return absl::OkStatus();
  }

  // The other equality indexes are checked for each candidate.
  void SemiJoinExcept(const Candidate* driver) {
    for (const Candidate& candidate : usable_) {
      if (&candidate != driver && !candidate.range) {
        candidates_.semi_join_.push_back(candidate.key);
      }
    }
  }

  // The whole driver: an equality index walked by name, or the names in
  // the range, sorted by name.
  absl::Status ReadDriver(const Candidate& driver,
                          ListCandidates::Order order) {
    candidates_.order_ = order;
    SemiJoinExcept(&driver);
    candidates_.plan_ = absl::StrCat("index:", driver.field->name());
    const bool after_cursor =
        order == ListCandidates::Order::kByName && !query_.cursor.empty();
    if (!driver.range) {
      candidates_.key_ = driver.key;
      if (after_cursor) {
        candidates_.from_ = absl::StrCat("(", query_.cursor.back());
      }
      return absl::OkStatus();
    }
    ACCORD_ASSIGN_OR_RETURN(
        RedisValue members,
        redis_.Command({"ZRANGEBYLEX", driver.key, driver.low, driver.high}));
    candidates_.fixed_ = true;
    for (const RedisValue& member : members.elements) {
      std::string name = SplitMember(member.text).second;
      if (after_cursor && name <= query_.cursor.back()) continue;
      candidates_.names_.push_back(std::move(name));
    }
    std::sort(candidates_.names_.begin(), candidates_.names_.end());
    return absl::OkStatus();
  }

  // The order's index from the page token's position, the equality
  // indexes checked name by name; the listing stops once its page is full.
  void WalkOrder() {
    const bool descending = query_.order[0].descending;
    candidates_.order_ = ListCandidates::Order::kBySortKey;
    candidates_.key_ = indexes_.OrderedKey(*order_field_);
    candidates_.sort_keyed_ = true;
    candidates_.reverse_ = descending;
    Bounds walk;
    if (range_field_ == order_field_) walk = bounds_;
    if (!query_.cursor.empty()) {
      const std::string& at = query_.cursor.front();
      if (descending) {
        walk.Lower(at + std::string(1, '\1'));
      } else {
        walk.Raise(at + std::string(1, '\0'));
      }
    }
    candidates_.from_ = walk.LowArg();
    candidates_.to_ = walk.HighArg();
    candidates_.done_ = walk.Empty();
    SemiJoinExcept(nullptr);
    candidates_.plan_ = absl::StrCat("index:", order_field_->name(), ":order");
  }

  RedisClient& redis_;
  const SecondaryIndexes& indexes_;
  const ListQuery& query_;
  ListCandidates& candidates_;
  std::vector<Candidate> equalities_;
  const FieldDescriptor* range_field_ = nullptr;
  Bounds bounds_;
  const FieldDescriptor* order_field_ = nullptr;
  std::vector<Candidate> usable_;
};

}  // namespace index_internal

absl::StatusOr<ListCandidates> PlanList(RedisClient& redis,
                                        const SecondaryIndexes* indexes,
                                        absl::string_view collection,
                                        const ListQuery& query) {
  ListCandidates candidates(redis);
  bool indexed = false;
  if (indexes != nullptr && !indexes->empty() &&
      indexes->collection() == collection) {
    index_internal::ListPlanner planner(redis, *indexes, query, candidates);
    ACCORD_ASSIGN_OR_RETURN(indexed, planner.Plan());
  }
  if (!indexed) {
    // Every record of the collection, by name.
    candidates = ListCandidates(redis);
    candidates.key_ = redis_keys::IndexKey(collection);
    candidates.order_ = query.ordered_by_name() ? ListCandidates::Order::kByName
                                                : ListCandidates::Order::kAny;
    if (query.ordered_by_name() && !query.cursor.empty()) {
      candidates.from_ = absl::StrCat("(", query.cursor.back());
    }
    candidates.plan_ = "scan";
  }
  CountPlan(collection, candidates.plan_);
  return candidates;
}

}  // namespace accord
