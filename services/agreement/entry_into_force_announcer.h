#ifndef ACCORD_SERVICES_AGREEMENT_ENTRY_INTO_FORCE_ANNOUNCER_H_
#define ACCORD_SERVICES_AGREEMENT_ENTRY_INTO_FORCE_ANNOUNCER_H_

// Records `accord.agreement.v1.entered_into_force` when an agreement's entry
// into force for a party — recorded, or derived from its entry-into-force
// rule (party_timeline.h) — arrives: exactly once per agreement, party and
// date.
//
// Nothing happens on the day itself unless something looks, so every
// replica scans the agreements at start and then every `interval`, and
// announces each date that is today or past and not yet announced. The
// event and a marker key per (agreement, party, date) are written in one
// write-path call that first checks the marker is absent: replicas racing,
// a restart, or a date that fell while the services were down still give
// one event. A corrected date is a new date and is announced again.
//
// Example:
//   EntryIntoForceAnnouncer announcer(redis, write_path, build_event, clock,
//                                     {.interval = absl::Minutes(10)});
//   announcer.Start();
//   ...
//   announcer.Stop();

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "accord/agreement/v1/agreement.pb.h"
#include "accord/events/v1/event.pb.h"
#include "common/record_store.h"
#include "common/redis/client.h"
#include "common/write_path.h"
#include "services/agreement/date_clock.h"
#include "services/agreement/party_timeline.h"

namespace accord::agreement {

inline constexpr char kEnteredIntoForceType[] =
    "accord.agreement.v1.entered_into_force";

class EntryIntoForceAnnouncer {
 public:
  // Builds the event of `type` about `agreement`, with its routing
  // attributes (the agreement's ResourceOps does that for every event).
  using EventBuilder = std::function<absl::StatusOr<events::v1::Event>(
      const v1::Agreement& agreement, absl::string_view type)>;

  struct Options {
    // How often the agreements are scanned; a date is announced at most
    // this long after midnight UTC of its day.
    absl::Duration interval = absl::Minutes(10);
  };

  EntryIntoForceAnnouncer(RedisClient& redis, WritePath& write_path,
                          EventBuilder build_event, const DateClock& clock,
                          Options options);
  ~EntryIntoForceAnnouncer();

  void Start();
  void Stop();

  // One scan with `today` (`YYYY-MM-DD`); the number of events recorded.
  absl::StatusOr<int> AnnounceDue(absl::string_view today);

 private:
  void Loop();
  absl::Status Announce(const v1::Agreement& agreement,
                        const PartyEntryIntoForce& entry,
                        absl::string_view today);

  RedisClient& redis_;
  RecordStore store_;
  WritePath& write_path_;
  EventBuilder build_event_;
  const DateClock& clock_;
  Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_ENTRY_INTO_FORCE_ANNOUNCER_H_
