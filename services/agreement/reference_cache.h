#ifndef ACCORD_SERVICES_AGREEMENT_REFERENCE_CACHE_H_
#define ACCORD_SERVICES_AGREEMENT_REFERENCE_CACHE_H_

// What the agreement service remembers of the institutions and officials it
// has already checked with the institution service, so a write naming known
// parties makes no call to it.
//
// The cache is never trusted for correctness: every write that names an
// institution or official also asks Redis, inside its atomic write
// function, that each one is still live (see PlanReferenceChecks in
// institution_directory.h). A stale entry for a deleted institution
// therefore costs one refused write attempt (then the cache is dropped and
// the institution service asked), never a write naming it. The cache only
// saves the call and supplies country codes, which the institution events
// keep current.
//
// Entries come only from the institution service's answers (Fill); events
// change or drop entries but never add one, so a name is cached only after
// the institution service itself vouched for it.
//
// Example:
//   ReferenceCache cache;
//   ReferenceFeed feed(redis_url, cache);  // serves once subscribed
//   const uint64_t generation = cache.generation();
//   ... ask the institution service ...
//   cache.Fill(generation, {{"institutions/tums", "IR"}}, {});
//   absl::flat_hash_map<std::string, std::string> countries;
//   cache.Lookup({"institutions/tums"}, {}, countries);  // true; "IR"

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "accord/events/v1/event.pb.h"
#include "common/config.h"
#include "common/redis/subscriber.h"

namespace accord::agreement {

class ReferenceCache {
 public:
  // Beyond this many entries the cache starts over (a bound, not an LRU:
  // a deployment knows a few thousand institutions).
  static constexpr size_t kMaxEntries = 100000;

  // True, with the country code of every institution in `countries`, when
  // every name is cached and the cache is serving. False (and `countries`
  // untouched) otherwise.
  bool Lookup(const std::vector<std::string>& institutions,
              const std::vector<std::string>& officials,
              absl::flat_hash_map<std::string, std::string>& countries) const;

  // Adds to `countries` the country code of each cached institution among
  // `institutions` and returns the others (all of them while the cache is
  // not serving), for an event's country codes: unlike Lookup, a partial
  // answer is useful.
  std::vector<std::string> LookupCountries(
      const std::vector<std::string>& institutions,
      absl::flat_hash_map<std::string, std::string>& countries) const;

  // Changes with every event applied, every Clear, Serve and Suspend.
  uint64_t generation() const;

  // Adds what the institution service answered (name, country code) and
  // the officials it confirmed, unless the cache changed since
  // `generation` was read: an answer read before an event was applied may
  // predate that event, so it is dropped rather than risk undoing it.
  void Fill(
      uint64_t generation,
      const std::vector<std::pair<std::string, std::string>>& institutions,
      const std::vector<std::string>& officials);

  // One `accord.institution.v1.*` or `accord.official.v1.*` event, in the
  // order Redis published them: a deletion drops the entry, any other
  // change of a cached institution takes its new country code from the
  // event's snapshot. Other events are ignored.
  void Apply(const events::v1::Event& event);

  // Empties the cache (it keeps serving): a write found an entry stale.
  void Clear();
  // The feed is subscribed again: start empty and serve.
  void Serve();
  // The feed lost its subscription (and so maybe events): empty, and
  // answer nothing from memory until Serve.
  void Suspend();

  bool serving() const;
  size_t size() const;

 private:
  void ClearLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The gauge accord_institution_cache_entries.
  void PublishSizeLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  mutable absl::Mutex mutex_;
  bool serving_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::flat_hash_map<std::string, std::string> countries_
      ABSL_GUARDED_BY(mutex_);
  absl::flat_hash_set<std::string> officials_ ABSL_GUARDED_BY(mutex_);
};

// Feeds a ReferenceCache from Redis pub/sub on its own thread:
// PSUBSCRIBE accord:events:accord.institution.v1.* and
// accord:events:accord.official.v1.*.
//
// Why pub/sub and not tailing the accord:events stream: the stream carries
// every event of the suite (mostly this service's own agreement events),
// which this service would read back and discard on every write; the
// patterns deliver only institution and official changes. Pub/sub drops
// messages while a subscriber is disconnected, so it can miss an
// invalidation only across a broken connection, and every such break is
// seen here (read error, or no reply to the PING sent each second): the
// cache is then suspended (emptied, serving nothing) and served again,
// empty, only once the new subscription is confirmed, so nothing learnt
// before the gap survives it. Within a connection Redis delivers messages
// in publish order, which is commit order.
class ReferenceFeed {
 public:
  ReferenceFeed(RedisUrl redis, ReferenceCache& cache);
  ~ReferenceFeed();  // stops the thread
  ReferenceFeed(const ReferenceFeed&) = delete;
  ReferenceFeed& operator=(const ReferenceFeed&) = delete;

 private:
  absl::Status OnSubscribed();
  void OnMessage(absl::string_view message);

  ReferenceCache& cache_;
  RedisSubscriber subscriber_;
};

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_REFERENCE_CACHE_H_
