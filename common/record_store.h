#ifndef ACCORD_COMMON_RECORD_STORE_H_
#define ACCORD_COMMON_RECORD_STORE_H_

// Reads of resources kept in Redis. Writes go through WritePath.
//
// Layout, shared by every service:
//   accord:r:<resource name>       hash {data, etag, deleted}
//   accord:index:<collection>      sorted set of resource names (score 0,
//                                  so ZRANGEBYLEX walks them in name order)
//   accord:rev:<resource name>     hash {revision id: the record as it was}
//   accord:revs:<resource name>    sorted set of revision ids, scored by
//                                  revision time in microseconds (strictly
//                                  increasing per record, see ResourceOps)
//
// Example:
//   RecordStore store(redis);
//   ACCORD_ASSIGN_OR_RETURN(auto record, store.Get("institutions/tums"));

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/list.h"
#include "common/redis/client.h"
#include "common/redis/keys.h"
#include "common/status_macros.h"

namespace accord {

struct StoredRecord {
  std::string name;
  std::string data;
  std::string etag;
  bool deleted = false;
};

// The record, index and revision keys (AIP-162) of the key schema
// (common/redis/keys.h).
using redis_keys::IndexKey;
using redis_keys::RecordKey;
using redis_keys::RevisionDataKey;
using redis_keys::RevisionIndexKey;

// One stored revision: its id, its time (microseconds since the epoch) and
// the serialized record as it was.
struct StoredRevision {
  std::string id;
  int64_t micros = 0;
  std::string data;
};

class RecordStore {
 public:
  explicit RecordStore(RedisClient& redis) : redis_(redis) {}

  absl::StatusOr<std::optional<StoredRecord>> Get(absl::string_view name);

  // Get without blocking: `done` runs on the Redis client's batch thread
  // (RedisClient::CommandAsync), so it must not block either.
  using GetCallback =
      std::function<void(absl::StatusOr<std::optional<StoredRecord>>)>;
  void GetAsync(absl::string_view name, GetCallback done);

  // One pipelined round trip for all names; nullopt where absent.
  absl::StatusOr<std::vector<std::optional<StoredRecord>>> GetMany(
      const std::vector<std::string>& names);

  // The stored record of revision `revision_id` of `name`; nullopt if it
  // has no such revision.
  absl::StatusOr<std::optional<std::string>> GetRevision(
      absl::string_view name, absl::string_view revision_id);

  // Up to `count` revisions of `name`, newest first, recorded strictly
  // before `before_micros` (all when nullopt).
  absl::StatusOr<std::vector<StoredRevision>> RevisionsBefore(
      absl::string_view name, std::optional<int64_t> before_micros, int count);

  // For each of `names`, its revision current at `micros` (the latest at or
  // before it); nullopt where there is none. Two pipelined round trips.
  absl::StatusOr<std::vector<std::optional<StoredRevision>>> RevisionsAt(
      const std::vector<std::string>& names, int64_t micros);

  RedisClient& redis() { return redis_; }

  // Visits the records of `collection` in name order, strictly after
  // `after` ("" for the start), until `visit` returns false.
  absl::Status Scan(absl::string_view collection, absl::string_view after,
                    const std::function<bool(const StoredRecord&)>& visit);

 private:
  RedisClient& redis_;
};

// A random secret shared by every replica through Redis, created by
// whichever replica asks first (SET NX), e.g. the page-token signing key.
absl::StatusOr<std::string> LoadOrCreateSecret(RedisClient& redis,
                                               absl::string_view key);

template <typename T>
absl::StatusOr<T> ParseRecord(const StoredRecord& record) {
  T message;
  if (!message.ParseFromString(record.data)) {
    return absl::DataLossError(
        absl::StrCat("stored record ", record.name, " does not decode"));
  }
  return message;
}

template <typename T>
struct ListPage {
  std::vector<T> items;
  std::string next_page_token;
  // What the listing read (ListCandidates::plan); empty for listings
  // without a plan, such as revisions.
  std::string plan;
};

}  // namespace accord

#endif  // ACCORD_COMMON_RECORD_STORE_H_
