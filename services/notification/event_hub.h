#ifndef ACCORD_SERVICES_NOTIFICATION_EVENT_HUB_H_
#define ACCORD_SERVICES_NOTIFICATION_EVENT_HUB_H_

// Serves WatchEvents streams with the gRPC callback API, so an idle watcher
// costs memory but no thread.
//
// One thread reads Redis pub/sub (PSUBSCRIBE accord:events:*) and hands each
// event to the fan-out threads, each serving its share of the watchers in
// order, pausing between batches of watchers so unary calls are not
// starved. After any (re)connection it first reads the stream
// from the last event it dispatched, so a dropped pub/sub connection leaves
// no gap.
//
// A watcher starts in replay: it reads the stream after its start position
// in batches (on a small worker pool) while live events are buffered; when
// a read comes back short it switches to live and takes from the buffer
// only events after the last position it read. Registration precedes the
// first read, so every event is either read or buffered: no gap, and the
// position comparison rules out duplicates. A watcher that falls too far
// behind in live mode drops back to replay instead of buffering without
// bound. Each watcher remembers the last position it considered (matching
// or not) and sends it in heartbeats when idle.
//
// Example:
//   EventHub hub(redis, options);
//   ACCORD_RETURN_IF_ERROR(hub.Start());
//   // in the service: return hub.Watch(*request, resolve_selector);
//   // on shutdown:    hub.Shutdown();

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "accord/events/v1/event.pb.h"
#include "accord/notification/v1/notification_service.pb.h"
#include "common/config.h"
#include "common/redis/client.h"
#include "common/redis/subscriber.h"
#include "services/notification/event_selector.h"
#include "services/notification/event_stream.h"
#include "services/notification/worker_pool.h"

namespace accord::notification {

struct EventHubOptions {
  RedisUrl redis;  // for the dedicated pub/sub connection
  // Threads handing live events to watchers; each watcher is served by
  // one of them (so its events stay in order) and the watchers are spread
  // over them. Two: the fan-out uses both cores of the manifests' pods
  // while the pub/sub thread reads on.
  int fanout_threads = 2;
  // Watchers handed an event before a fan-out thread pauses.
  int fanout_batch = 256;
  absl::Duration fanout_pause = absl::Microseconds(100);
  int replay_threads = 2;
  int replay_batch = 256;
  // Events queued for one watcher before it drops back to replay.
  int max_queue = 1024;
  // The newest events fanned out, kept decoded in memory so that watchers
  // replaying (new ones, and those that fell behind under load) read them
  // from here, shared, instead of each reading Redis and decoding its own
  // copies. 8,192 events is about 10 MB and covers 8 s at 1,000 events/s;
  // a watcher further behind reads the stream.
  int recent_events = 8192;
  // How long the stream keeps events (--event_retention): a position older
  // than that is read from the stream, which tells whether it expired.
  absl::Duration event_retention = absl::Hours(168);
  absl::Duration default_heartbeat = absl::Seconds(15);
};

class Watcher;

class EventHub {
 public:
  // Gives the selector one call applies (it may read a stored
  // subscription); runs on the worker pool, never on a gRPC thread.
  using SelectorResolver = std::function<absl::StatusOr<EventSelector>()>;

  EventHub(RedisClient& redis, EventHubOptions options);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Reads the current head and starts the pub/sub and heartbeat threads.
  absl::Status Start();

  // Ends every stream with UNAVAILABLE (telling where to resume) and stops
  // the threads. New calls are refused the same way.
  void Shutdown();

  // The reactor for one WatchEvents call.
  grpc::ServerWriteReactor<v1::WatchEventsResponse>* Watch(
      const v1::WatchEventsRequest& request, SelectorResolver resolver);

  int watcher_count();
  // The last position fanned out (for tests and benchmarks).
  std::string last_position();

 private:
  friend class Watcher;

  void Remove(Watcher* watcher);
  // Subscribed to every event channel: catch up from the stream, then fan
  // out each published event.
  absl::Status OnSubscribed();
  void OnMessage(absl::string_view message);
  void HeartbeatLoop();
  // Reads the stream after the last dispatched position and fans out.
  absl::Status CatchUp();
  void Dispatch(const events::v1::Event& event);

  // One recent event: decoded, and as the response every watcher writes.
  struct Recent {
    std::shared_ptr<const events::v1::Event> event;
    std::shared_ptr<const v1::WatchEventsResponse> message;
  };
  // Up to `count` events strictly after `from` from the recent events, if
  // they hold every event after it; false otherwise (read the stream).
  bool ReadRecent(absl::string_view from, int count, std::vector<Recent>& out,
                  std::string& last_position);
  // Forgets the recent events: the stream holds an entry that could not be
  // decoded, so they would not be contiguous.
  void ForgetRecent();

  RedisClient& redis_;
  EventStream stream_;
  EventHubOptions options_;
  WorkerPool pool_;

  absl::Mutex mutex_;
  absl::flat_hash_map<Watcher*, std::shared_ptr<Watcher>> watchers_
      ABSL_GUARDED_BY(mutex_);
  std::string last_position_ ABSL_GUARDED_BY(mutex_);
  // Every event after `recent_after_` up to `last_position_`, oldest
  // first (`recent_after_` empty: none yet; after ForgetRecent, the next
  // event dispatched starts them again).
  std::deque<Recent> recent_ ABSL_GUARDED_BY(mutex_);
  std::string recent_after_ ABSL_GUARDED_BY(mutex_);
  bool recent_restart_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  // Live fan-out runs; before that a watcher could miss the events
  // between its replay and the hub's first position.
  bool started_ ABSL_GUARDED_BY(mutex_) = false;

  // The fan-out threads, and the next one a new watcher joins.
  std::vector<std::unique_ptr<WorkerPool>> shards_;
  size_t next_shard_ ABSL_GUARDED_BY(mutex_) = 0;

  std::atomic<bool> threads_stop_{false};
  std::unique_ptr<RedisSubscriber> subscriber_;
  std::thread heartbeat_thread_;
};

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_EVENT_HUB_H_
