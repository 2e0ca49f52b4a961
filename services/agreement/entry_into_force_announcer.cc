#include "services/agreement/entry_into_force_announcer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/redis/keys.h"
#include "common/status_macros.h"
#include "services/agreement/lifecycle.h"
#include "services/agreement/party_timeline.h"

namespace accord::agreement {
namespace {

// Kept for good: one short key per announced date.
std::string MarkerKey(absl::string_view agreement, absl::string_view party,
                      absl::string_view date) {
  return redis_keys::EnteredIntoForceKey(agreement, party, date);
}

}  // namespace

EntryIntoForceAnnouncer::EntryIntoForceAnnouncer(RedisClient& redis,
                                                 WritePath& write_path,
                                                 EventBuilder build_event,
                                                 const DateClock& clock,
                                                 Options options)
    : redis_(redis),
      store_(redis),
      write_path_(write_path),
      build_event_(std::move(build_event)),
      clock_(clock),
      options_(options) {}

EntryIntoForceAnnouncer::~EntryIntoForceAnnouncer() { Stop(); }

void EntryIntoForceAnnouncer::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void EntryIntoForceAnnouncer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EntryIntoForceAnnouncer::Loop() {
  while (true) {
    absl::StatusOr<int> announced = AnnounceDue(clock_.Today());
    if (!announced.ok()) {
      LogWarning("entry-into-force announcer",
                 {{"error", announced.status().ToString()}});
    } else if (*announced > 0) {
      LogInfo("announced entries into force", {{"count", *announced}});
    }
    std::unique_lock<std::mutex> lock(mutex_);
    // A failed scan (Redis away) is tried again sooner.
    const absl::Duration wait =
        announced.ok() ? options_.interval
                       : std::min(options_.interval, absl::Seconds(5));
    if (wake_.wait_for(lock, absl::ToChronoMilliseconds(wait),
                       [this] { return stopping_; })) {
      return;
    }
  }
}

absl::Status EntryIntoForceAnnouncer::Announce(const v1::Agreement& agreement,
                                               const PartyEntryIntoForce& entry,
                                               absl::string_view today) {
  ACCORD_ASSIGN_OR_RETURN(events::v1::Event event,
                          build_event_(agreement, kEnteredIntoForceType));
  v1::PartyEnteredIntoForce payload;
  payload.set_agreement(agreement.name());
  payload.set_party(entry.party);
  payload.set_entry_into_force_date(entry.date);
  payload.set_derived(entry.derived);
  *payload.mutable_agreement_snapshot() = agreement;
  event.mutable_payload()->PackFrom(payload);
  // The check and the event in one step: another replica announcing the
  // same date makes this one AlreadyExists and write nothing.
  const std::string marker =
      MarkerKey(agreement.name(), entry.party, entry.date);
  WritePlan plan;
  plan.ExpectAbsent(marker, absl::AlreadyExistsError("already announced"));
  plan.Write({"SET", marker, std::string(today)});
  plan.Emit(event);
  return write_path_.Commit(plan).status();
}

absl::StatusOr<int> EntryIntoForceAnnouncer::AnnounceDue(
    absl::string_view today) {
  int announced = 0;
  absl::Status failure;
  ACCORD_RETURN_IF_ERROR(
      store_.Scan("agreements", "", [&](const StoredRecord& record) {
        if (record.deleted) return true;
        absl::StatusOr<v1::Agreement> agreement =
            ParseRecord<v1::Agreement>(record);
        if (!agreement.ok()) {
          failure = agreement.status();
          return false;
        }
        // Most due dates were announced on an earlier scan: one round trip
        // finds which are left.
        std::vector<PartyEntryIntoForce> due;
        std::vector<std::vector<std::string>> lookups;
        for (PartyEntryIntoForce& entry : EntryIntoForceDates(*agreement)) {
          if (entry.date.empty() || CompareDates(entry.date, today) > 0) {
            continue;
          }
          lookups.push_back({"EXISTS", MarkerKey(agreement->name(), entry.party,
                                                 entry.date)});
          due.push_back(std::move(entry));
        }
        if (due.empty()) return true;
        absl::StatusOr<std::vector<RedisValue>> found =
            redis_.Pipeline(lookups);
        if (!found.ok()) {
          failure = found.status();
          return false;
        }
        for (size_t i = 0; i < due.size(); ++i) {
          if (found->at(i).integer == 1) continue;
          absl::Status status = Announce(*agreement, due[i], today);
          if (status.ok()) {
            ++announced;
          } else if (status.code() != absl::StatusCode::kAlreadyExists) {
            failure = status;
            return false;
          }
        }
        return true;
      }));
  ACCORD_RETURN_IF_ERROR(failure);
  return announced;
}

}  // namespace accord::agreement
