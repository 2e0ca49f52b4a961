#ifndef ACCORD_COMMON_RESOURCE_REVISIONS_H_
#define ACCORD_COMMON_RESOURCE_REVISIONS_H_

// Revisions (AIP-162) of resources that keep them: the revision id, the
// stamp each accepted change puts on the record, the copy written beside
// it in the same atomic step, and the one-off upgrade of records from
// before revisions were kept. Used by ResourceOps.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/record_store.h"
#include "common/status_macros.h"
#include "common/write_path.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace accord {

// Resources that keep revisions (AIP-162): every accepted change stores an
// immutable copy of the record, with its revision id, time and principal.
template <typename T>
concept HasRevisions = requires(T resource) {
  resource.set_revision_id("");
  resource.mutable_revision_create_time();
  resource.set_revision_principal("");
};

inline void SetProtoTimestamp(google::protobuf::Timestamp& timestamp,
                              absl::Time time) {
  timestamp = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(time));
}

// A revision id (AIP-162): 8 random characters of a-z and 0-9.
inline std::string NewRevisionId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local absl::BitGen bits;
  std::string id(8, 'a');
  for (char& c : id) c = kAlphabet[absl::Uniform(bits, 0u, 36u)];
  return id;
}

inline bool IsValidRevisionId(absl::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

// Makes `resource` a new revision made at `when` by `principal`; returns
// its time in microseconds. That time is strictly after the revision it
// replaces (the record's stored one, still on `resource`), so revisions
// stay in order even across replicas whose clocks disagree by a little.
template <typename T>
int64_t StampRevision(T& resource, absl::Time when,
                      absl::string_view principal) {
  int64_t micros = absl::ToUnixMicros(when);
  if constexpr (HasRevisions<T>) {
    google::protobuf::Timestamp time;
    SetProtoTimestamp(time, when);
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
template <typename T>
void PlanRevision(const T& resource, int64_t micros,
                  const std::string& serialized, WritePlan& plan) {
  if constexpr (HasRevisions<T>) {
    plan.Write({"HSET", RevisionDataKey(resource.name()),
                resource.revision_id(), serialized});
    plan.Write({"ZADD", RevisionIndexKey(resource.name()), absl::StrCat(micros),
                resource.revision_id()});
  }
}

// Gives every record of `index` (a collection, or an index of all of a
// nested kind) written before revisions were kept its first revision,
// after `refresh` (optional) re-derives its output-only fields. The
// revision is dated at the record's last update and has no principal;
// the record keeps its etag (nothing a client wrote changed) and no event
// is emitted. A record changed meanwhile is left for its writer, whose
// change makes a revision anyway. Returns how many were upgraded.
template <typename T>
absl::StatusOr<int> UpgradeRecordsWithoutRevisions(
    RecordStore& store, WritePath& write_path, absl::string_view index,
    const std::function<void(T&)>& refresh) {
  int upgraded = 0;
  if constexpr (HasRevisions<T>) {
    std::vector<std::pair<StoredRecord, T>> legacy;
    absl::Status parse_status;
    ACCORD_RETURN_IF_ERROR(
        store.Scan(index, "", [&](const StoredRecord& record) {
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
      absl::StatusOr<WriteOutcome> outcome = write_path.Commit(plan);
      if (outcome.ok()) {
        ++upgraded;
      } else if (outcome.status().code() != absl::StatusCode::kAborted) {
        return outcome.status();
      }
    }
  }
  return upgraded;
}

}  // namespace accord

#endif  // ACCORD_COMMON_RESOURCE_REVISIONS_H_
