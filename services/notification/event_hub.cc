#include "services/notification/event_hub.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/events.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/write_path.h"
#include "google/protobuf/util/time_util.h"

namespace accord::notification {

using v1::WatchEventsResponse;
using EventPtr = std::shared_ptr<const events::v1::Event>;
using MessagePtr = std::shared_ptr<const WatchEventsResponse>;

namespace {

constexpr absl::Duration kMinHeartbeat = absl::Milliseconds(100);
constexpr absl::Duration kMaxHeartbeat = absl::Minutes(5);
constexpr absl::Duration kHeartbeatTick = absl::Milliseconds(50);

MessagePtr EventMessage(const events::v1::Event& event) {
  auto message = std::make_shared<WatchEventsResponse>();
  *message->mutable_event() = event;
  return message;
}

void DescribeHubMetrics() {
  static const bool described = [] {
    Metrics& metrics = Metrics::Global();
    metrics.Describe("accord_notification_watchers", "gauge",
                     "Open WatchEvents streams.");
    metrics.Describe("accord_notification_events_dispatched_total", "counter",
                     "Live events fanned out to watchers.");
    metrics.Describe("accord_notification_pubsub_reconnects_total", "counter",
                     "Pub/sub (re)connections, each followed by a catch-up.");
    metrics.Describe("accord_notification_fanout_seconds", "histogram",
                     "Time from a live event's arrival to its hand-off to the "
                     "last watcher of one fan-out thread.");
    metrics.Describe("accord_notification_watcher_fallbacks_total", "counter",
                     "Watchers that fell behind by --watcher_queue events "
                     "and went back to reading the stream.");
    metrics.Describe("accord_notification_replay_reads_total", "counter",
                     "Batches read by watchers catching up, by source: "
                     "`memory` (the recent events, --recent_events) or "
                     "`stream` (Redis).");
    return true;
  }();
  (void)described;
}

}  // namespace

// ---------------------------------------------------------------------------
// WorkerPool

// ---------------------------------------------------------------------------
// Watcher: one WatchEvents stream.

class Watcher : public grpc::ServerWriteReactor<WatchEventsResponse>,
                public std::enable_shared_from_this<Watcher> {
 public:
  Watcher(EventHub* hub, v1::WatchEventsRequest request,
          EventHub::SelectorResolver resolver)
      : hub_(hub),
        request_(std::move(request)),
        resolver_(std::move(resolver)),
        last_write_(absl::Now()) {}

  // Runs on the pool: resolves the selector and start position.
  void Begin() {
    absl::Status status = Prepare();
    if (!status.ok()) {
      End(ToGrpcStatus(status));
      return;
    }
    hub_->pool_.Schedule([self = shared_from_this()] { self->ReplayStep(); });
  }

  // The fan-out thread serving it; set when it registers.
  size_t shard = 0;

  void OnLive(const EventPtr& event, const MessagePtr& message) {
    Action action;
    {
      absl::MutexLock lock(&mutex_);
      if (finish_status_.has_value()) return;
      if (phase_ != Phase::kLive) {
        if (buffer_.size() < static_cast<size_t>(hub_->options_.max_queue)) {
          buffer_.push_back(event);
        } else {
          buffer_overflow_ = true;
        }
        return;
      }
      if (ComparePositions(event->position(), cursor_) <= 0) return;
      if (!selector_.Matches(*event)) {
        cursor_ = event->position();
        return;
      }
      if (queue_.size() >= static_cast<size_t>(hub_->options_.max_queue)) {
        // Too slow for live: read the rest from the stream once the queue
        // drains, rather than buffer without bound.
        phase_ = Phase::kReplay;
        replay_waiting_ = true;
        buffer_.clear();
        buffer_overflow_ = false;
        Metrics::Global().Increment(
            "accord_notification_watcher_fallbacks_total", {});
        return;
      }
      cursor_ = event->position();
      queue_.push_back(message);
      action = NextActionLocked();
    }
    Run(action);
  }

  void MaybeHeartbeat(absl::Time now) {
    Action action;
    {
      absl::MutexLock lock(&mutex_);
      if (phase_ == Phase::kStarting || writing_ || !queue_.empty() ||
          finish_status_.has_value() || now - last_write_ < heartbeat_) {
        return;
      }
      auto message = std::make_shared<WatchEventsResponse>();
      message->mutable_heartbeat()->set_position(cursor_);
      *message->mutable_heartbeat()->mutable_time() =
          google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
              absl::ToUnixNanos(now));
      queue_.push_back(std::move(message));
      action = NextActionLocked();
    }
    Run(action);
  }

  // Ends the stream as soon as no write is in flight; later events are
  // dropped.
  void End(const grpc::Status& status) {
    Action action;
    {
      absl::MutexLock lock(&mutex_);
      if (!finish_status_.has_value()) finish_status_ = status;
      queue_.clear();
      buffer_.clear();
      action = NextActionLocked();
    }
    Run(action);
  }

  void EndForShutdown() {
    std::string cursor;
    {
      absl::MutexLock lock(&mutex_);
      cursor = cursor_;
    }
    End(grpc::Status(
        grpc::StatusCode::UNAVAILABLE,
        cursor.empty()
            ? "the server is shutting down; retry"
            : absl::StrCat(
                  "the server is shutting down; resume after position ",
                  cursor)));
  }

  void OnWriteDone(bool ok) override {
    Action action;
    bool resume_replay = false;
    {
      absl::MutexLock lock(&mutex_);
      writing_ = false;
      in_flight_.reset();
      if (!ok && !finish_status_.has_value()) {
        finish_status_ =
            grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
        queue_.clear();
      }
      if (replay_waiting_ && !finish_status_.has_value() &&
          queue_.size() <= static_cast<size_t>(hub_->options_.max_queue / 4)) {
        replay_waiting_ = false;
        resume_replay = true;
      }
      action = NextActionLocked();
    }
    Run(action);
    if (resume_replay) {
      hub_->pool_.Schedule([self = shared_from_this()] { self->ReplayStep(); });
    }
  }

  void OnCancel() override {
    End(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    // May destroy this watcher: nothing may follow.
    hub_->Remove(this);
  }

 private:
  enum class Phase { kStarting, kReplay, kLive };
  struct Action {
    const WatchEventsResponse* write = nullptr;
    std::optional<grpc::Status> finish;
  };

  absl::Status Prepare() {
    {
      absl::MutexLock lock(&hub_->mutex_);
      if (hub_->stopping_) {
        return absl::UnavailableError("the server is shutting down; retry");
      }
      if (!hub_->started_) {
        return absl::UnavailableError("the server is not ready yet; retry");
      }
    }
    heartbeat_ = hub_->options_.default_heartbeat;
    if (request_.has_heartbeat_interval()) {
      heartbeat_ = absl::Seconds(request_.heartbeat_interval().seconds()) +
                   absl::Nanoseconds(request_.heartbeat_interval().nanos());
      if (heartbeat_ < kMinHeartbeat || heartbeat_ > kMaxHeartbeat) {
        return InvalidField("heartbeat_interval",
                            "must be between 100ms and 5 minutes");
      }
    }
    const std::string& start = request_.start_position();
    if (start != "" && start != "now" && start != "earliest" &&
        !IsValidPosition(start)) {
      return InvalidField("start_position",
                          "must be a stream position such as "
                          "\"1745582400000-0\", \"now\" or \"earliest\"");
    }
    absl::StatusOr<EventSelector> selector = resolver_();
    if (!selector.ok()) return selector.status();
    std::string cursor;
    if (start.empty() || start == "now") {
      absl::StatusOr<std::string> head = hub_->stream_.Head();
      if (!head.ok()) return head.status();
      cursor = *head;
    } else if (start == "earliest") {
      absl::StatusOr<StreamInfo> info = hub_->stream_.Info();
      if (!info.ok()) return info.status();
      cursor = info->max_deleted;
    } else {
      cursor = start;
    }
    absl::MutexLock lock(&mutex_);
    selector_ = *std::move(selector);
    cursor_ = cursor;
    phase_ = Phase::kReplay;
    return absl::OkStatus();
  }

  struct ReplayBatch {
    std::vector<EventHub::Recent> events;
    std::string last_position;  // of the last entry read
    int entries = 0;            // entries read (some may not decode)
  };

  // The next batch after `from`: from memory when the hub still holds
  // every event after it (shared with every other watcher there), else
  // from the stream. False when the stream ended the watch.
  bool ReadBatch(const std::string& from, int batch, ReplayBatch& read) {
    const bool from_memory =
        hub_->ReadRecent(from, batch, read.events, read.last_position);
    Metrics::Global().Increment(
        "accord_notification_replay_reads_total",
        {{"source", from_memory ? "memory" : "stream"}});
    if (from_memory) {
      read.entries = static_cast<int>(read.events.size());
      return true;
    }
    absl::StatusOr<EventStream::Range> range =
        hub_->stream_.ReadAfter(from, batch);
    if (!range.ok()) {
      End(ToGrpcStatus(absl::UnavailableError(absl::StrCat(
          "cannot read the event stream (", range.status().message(),
          "); resume after position ", from))));
      return false;
    }
    if (range->expired) {
      End(ToGrpcStatus(PositionExpired(from, range->info.first_position,
                                       range->info.max_deleted)));
      return false;
    }
    for (events::v1::Event& event : range->events) {
      auto shared = std::make_shared<const events::v1::Event>(std::move(event));
      read.events.push_back({shared, EventMessage(*shared)});
    }
    read.entries = range->entries;
    read.last_position = range->last_position;
    return true;
  }

  void ReplayStep() {
    std::string from;
    {
      absl::MutexLock lock(&mutex_);
      if (finish_status_.has_value()) return;
      from = cursor_;
    }
    const int batch = hub_->options_.replay_batch;
    ReplayBatch batch_read;
    if (!ReadBatch(from, batch, batch_read)) return;
    const std::vector<EventHub::Recent>& recent = batch_read.events;
    const std::string& last_read = batch_read.last_position;
    const int entries = batch_read.entries;
    Action action;
    bool again = false;
    {
      absl::MutexLock lock(&mutex_);
      if (finish_status_.has_value()) return;
      // First, before any event: the watch is registered (live events are
      // being buffered) and its start is known to be still held.
      if (!started_sent_) {
        started_sent_ = true;
        auto started = std::make_shared<WatchEventsResponse>();
        started->mutable_started()->set_position(from);
        *started->mutable_started()->mutable_time() =
            google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
                absl::ToUnixNanos(absl::Now()));
        queue_.push_back(std::move(started));
      }
      for (const EventHub::Recent& read : recent) {
        if (ComparePositions(read.event->position(), cursor_) > 0 &&
            selector_.Matches(*read.event)) {
          queue_.push_back(read.message);
        }
      }
      if (ComparePositions(last_read, cursor_) > 0) cursor_ = last_read;
      if (entries >= batch) {
        if (queue_.size() >=
            static_cast<size_t>(hub_->options_.max_queue / 2)) {
          replay_waiting_ = true;
        } else {
          again = true;
        }
      } else if (buffer_overflow_) {
        buffer_.clear();
        buffer_overflow_ = false;
        again = true;
      } else {
        phase_ = Phase::kLive;
        for (const EventPtr& event : buffer_) {
          if (ComparePositions(event->position(), cursor_) <= 0) continue;
          cursor_ = event->position();
          if (selector_.Matches(*event)) queue_.push_back(EventMessage(*event));
        }
        buffer_.clear();
      }
      action = NextActionLocked();
    }
    Run(action);
    if (again) {
      hub_->pool_.Schedule([self = shared_from_this()] { self->ReplayStep(); });
    }
  }

  Action NextActionLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    Action action;
    if (finished_ || writing_) return action;
    if (finish_status_.has_value()) {
      finished_ = true;
      action.finish = *finish_status_;
      return action;
    }
    if (queue_.empty()) return action;
    in_flight_ = std::move(queue_.front());
    queue_.pop_front();
    writing_ = true;
    last_write_ = absl::Now();
    action.write = in_flight_.get();
    return action;
  }

  // Outside the lock: gRPC may run reactions inline.
  void Run(const Action& action) {
    if (action.write != nullptr) StartWrite(action.write);
    if (action.finish.has_value()) Finish(*action.finish);
  }

  EventHub* const hub_;
  const v1::WatchEventsRequest request_;
  const EventHub::SelectorResolver resolver_;
  absl::Duration heartbeat_ = absl::Seconds(15);

  absl::Mutex mutex_;
  Phase phase_ ABSL_GUARDED_BY(mutex_) = Phase::kStarting;
  EventSelector selector_ ABSL_GUARDED_BY(mutex_);
  // The last stream position considered, delivered or not.
  std::string cursor_ ABSL_GUARDED_BY(mutex_);
  std::deque<MessagePtr> queue_ ABSL_GUARDED_BY(mutex_);
  MessagePtr in_flight_ ABSL_GUARDED_BY(mutex_);
  bool writing_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Time last_write_ ABSL_GUARDED_BY(mutex_);
  // Live events that arrived during replay.
  std::vector<EventPtr> buffer_ ABSL_GUARDED_BY(mutex_);
  bool buffer_overflow_ ABSL_GUARDED_BY(mutex_) = false;
  bool replay_waiting_ ABSL_GUARDED_BY(mutex_) = false;
  std::optional<grpc::Status> finish_status_ ABSL_GUARDED_BY(mutex_);
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;
  bool started_sent_ ABSL_GUARDED_BY(mutex_) = false;
};

// ---------------------------------------------------------------------------
// EventHub

EventHub::EventHub(RedisClient& redis, EventHubOptions options)
    : redis_(redis),
      stream_(redis),
      options_(std::move(options)),
      pool_(options_.replay_threads) {
  DescribeHubMetrics();
  // One thread each, so a watcher's events stay in order. A fan-out
  // thread this far behind makes the pub/sub thread wait: Redis buffers,
  // and a subscriber connection it drops is caught up from the stream.
  constexpr size_t kMaxFanoutBacklog = 4096;
  for (int i = 0; i < std::max(1, options_.fanout_threads); ++i) {
    shards_.push_back(std::make_unique<WorkerPool>(1, kMaxFanoutBacklog));
  }
}

EventHub::~EventHub() {
  Shutdown();
  pool_.Stop();
}

absl::Status EventHub::Start() {
  absl::StatusOr<std::string> head = stream_.Head();
  if (!head.ok()) return head.status();
  {
    absl::MutexLock lock(&mutex_);
    last_position_ = *head;
    recent_after_ = *head;
    started_ = true;
  }
  subscriber_ = std::make_unique<RedisSubscriber>(
      RedisSubscriber::Options{
          .url = options_.redis,
          .name = "event hub pub/sub",
          .patterns = {absl::StrCat(kEventChannelPrefix, "*")}},
      RedisSubscriber::Callbacks{
          .on_subscribed = [this] { return OnSubscribed(); },
          .on_message =
              [this](absl::string_view, absl::string_view message) {
                OnMessage(message);
              }});
  subscriber_->Start();
  heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  return absl::OkStatus();
}

void EventHub::Shutdown() {
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    for (auto& [key, watcher] : watchers_) watchers.push_back(watcher);
  }
  for (const auto& watcher : watchers) watcher->EndForShutdown();
  threads_stop_ = true;
  if (subscriber_ != nullptr) subscriber_->Stop();
  for (const auto& shard : shards_) shard->Stop();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
}

grpc::ServerWriteReactor<WatchEventsResponse>* EventHub::Watch(
    const v1::WatchEventsRequest& request, SelectorResolver resolver) {
  auto watcher = std::make_shared<Watcher>(this, request, std::move(resolver));
  bool stopping = false;
  size_t count = 0;
  {
    // Registered before the first stream read: see the header.
    absl::MutexLock lock(&mutex_);
    watcher->shard = next_shard_++ % shards_.size();
    watchers_[watcher.get()] = watcher;
    stopping = stopping_;
    count = watchers_.size();
  }
  Metrics::Global().SetGauge("accord_notification_watchers", {},
                             static_cast<double>(count));
  if (stopping) {
    watcher->EndForShutdown();
  } else {
    pool_.Schedule([watcher] { watcher->Begin(); });
  }
  return watcher.get();
}

void EventHub::Remove(Watcher* watcher) {
  std::shared_ptr<Watcher> last_reference;
  size_t count = 0;
  {
    absl::MutexLock lock(&mutex_);
    auto it = watchers_.find(watcher);
    if (it == watchers_.end()) return;
    last_reference = std::move(it->second);
    watchers_.erase(it);
    count = watchers_.size();
  }
  Metrics::Global().SetGauge("accord_notification_watchers", {},
                             static_cast<double>(count));
}

int EventHub::watcher_count() {
  absl::MutexLock lock(&mutex_);
  return static_cast<int>(watchers_.size());
}

std::string EventHub::last_position() {
  absl::MutexLock lock(&mutex_);
  return last_position_;
}

void EventHub::Dispatch(const events::v1::Event& event) {
  const absl::Time start = absl::Now();
  std::vector<std::vector<std::shared_ptr<Watcher>>> by_shard(shards_.size());
  auto shared_event = std::make_shared<const events::v1::Event>(event);
  MessagePtr message = EventMessage(event);
  {
    absl::MutexLock lock(&mutex_);
    if (ComparePositions(event.position(), last_position_) <= 0) return;
    last_position_ = event.position();
    if (recent_restart_) {
      recent_restart_ = false;
      recent_.clear();
      recent_after_ = event.position();
    } else if (options_.recent_events > 0) {
      recent_.push_back({shared_event, message});
      if (recent_.size() > static_cast<size_t>(options_.recent_events)) {
        recent_after_ = recent_.front().event->position();
        recent_.pop_front();
      }
    }
    for (auto& [key, watcher] : watchers_) {
      by_shard[watcher->shard].push_back(watcher);
    }
  }
  for (size_t i = 0; i < shards_.size(); ++i) {
    if (by_shard[i].empty()) continue;
    shards_[i]->Schedule([this, shared_event, message, start,
                          watchers = std::move(by_shard[i])] {
      int handed = 0;
      for (const auto& watcher : watchers) {
        watcher->OnLive(shared_event, message);
        if (++handed % options_.fanout_batch == 0) {
          absl::SleepFor(options_.fanout_pause);
        }
      }
      Metrics::Global().Observe("accord_notification_fanout_seconds", {},
                                absl::ToDoubleSeconds(absl::Now() - start));
    });
  }
  Metrics::Global().Increment("accord_notification_events_dispatched_total",
                              {});
}

absl::Status EventHub::CatchUp() {
  while (!threads_stop_) {
    const std::string from = last_position();
    absl::StatusOr<EventStream::Range> range =
        stream_.ReadAfter(from, options_.replay_batch);
    if (!range.ok()) return range.status();
    for (const events::v1::Event& event : range->events) Dispatch(event);
    if (range->entries != static_cast<int>(range->events.size())) {
      // An entry that does not decode: the recent events restart after it.
      absl::MutexLock lock(&mutex_);
      if (ComparePositions(range->last_position, last_position_) > 0) {
        last_position_ = range->last_position;
      }
      recent_.clear();
      recent_after_ = last_position_;
    }
    if (range->entries < options_.replay_batch) break;
    // Entries that do not decode still move the hub forward.
    absl::MutexLock lock(&mutex_);
    if (ComparePositions(range->last_position, last_position_) > 0) {
      last_position_ = range->last_position;
    }
  }
  return absl::OkStatus();
}

absl::Status EventHub::OnSubscribed() {
  Metrics::Global().Increment("accord_notification_pubsub_reconnects_total",
                              {});
  // Subscribed first, then read the stream: an event recorded in between
  // arrives both ways and the position check drops the second copy.
  if (absl::Status caught_up = CatchUp(); !caught_up.ok()) {
    return absl::UnavailableError(
        absl::StrCat("catch-up failed: ", caught_up.ToString()));
  }
  LogInfo("pub/sub connected", {{"position", last_position()}});
  return absl::OkStatus();
}

void EventHub::OnMessage(absl::string_view message) {
  events::v1::Event event;
  if (event.ParseFromArray(message.data(), static_cast<int>(message.size())) &&
      !event.position().empty()) {
    Dispatch(event);
  } else {
    LogError("undecodable pub/sub message");
    ForgetRecent();
  }
}

bool EventHub::ReadRecent(absl::string_view from, int count,
                          std::vector<Recent>& out,
                          std::string& last_position) {
  // The trimmer removes entries older than the retention: after a position
  // younger than that nothing was trimmed, so memory may answer for it;
  // an older one goes to the stream, which can tell it expired.
  int64_t from_millis = 0;
  const size_t dash = from.find('-');
  if (!absl::SimpleAtoi(from.substr(0, dash), &from_millis) ||
      from_millis <
          absl::ToUnixMillis(absl::Now() - options_.event_retention)) {
    return false;
  }
  absl::MutexLock lock(&mutex_);
  if (recent_restart_ || recent_after_.empty() ||
      ComparePositions(from, recent_after_) < 0 ||
      ComparePositions(from, last_position_) > 0) {
    return false;
  }
  auto next = std::upper_bound(
      recent_.begin(), recent_.end(), from,
      [](absl::string_view position, const Recent& recent) {
        return ComparePositions(position, recent.event->position()) < 0;
      });
  for (; next != recent_.end() && static_cast<int>(out.size()) < count;
       ++next) {
    out.push_back(*next);
  }
  last_position =
      out.empty() ? std::string(from) : out.back().event->position();
  return true;
}

void EventHub::ForgetRecent() {
  absl::MutexLock lock(&mutex_);
  recent_.clear();
  recent_restart_ = true;
}

void EventHub::HeartbeatLoop() {
  while (!threads_stop_) {
    absl::SleepFor(kHeartbeatTick);
    std::vector<std::shared_ptr<Watcher>> watchers;
    {
      absl::MutexLock lock(&mutex_);
      watchers.reserve(watchers_.size());
      for (auto& [key, watcher] : watchers_) watchers.push_back(watcher);
    }
    const absl::Time now = absl::Now();
    for (const auto& watcher : watchers) watcher->MaybeHeartbeat(now);
  }
}

}  // namespace accord::notification
