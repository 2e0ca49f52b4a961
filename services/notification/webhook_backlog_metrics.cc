#include "services/notification/webhook_backlog_metrics.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "accord/notification/v1/notification.pb.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/redis/stream_position.h"
#include "common/status_macros.h"
#include "common/write_path.h"
#include "services/notification/delivery_health.h"
#include "services/notification/webhook_dispatcher.h"

namespace accord::notification {
namespace {

constexpr size_t kMaxDeadLetterLabels = 1000;
// Commands per pipelined round trip, so a large subscription count does
// not build one huge request.
constexpr size_t kPipelineChunk = 500;

constexpr char kBacklog[] = "accord_webhook_backlog";
constexpr char kOldestAge[] = "accord_webhook_oldest_undelivered_age_seconds";
constexpr char kUnrecorded[] = "accord_webhook_unrecorded_events";
constexpr char kRefreshErrors[] = "accord_webhook_backlog_refresh_errors_total";

void DescribeBacklogMetrics() {
  static const bool described = [] {
    Metrics& metrics = Metrics::Global();
    metrics.Describe(
        kBacklog, "gauge",
        "Outstanding (pending or retrying) webhook deliveries per "
        "subscription, from Redis every refresh interval; every replica "
        "reports the same value (aggregate with max). At most "
        "--webhook_metrics_max_subscriptions subscriptions have their own "
        "series, the oldest backlogs first; the rest are summed into "
        "subscription=\"_other\".");
    metrics.Describe(
        kOldestAge, "gauge",
        "Seconds since the oldest outstanding webhook event of a "
        "subscription was recorded (0: none outstanding), from Redis every "
        "refresh interval; aggregate with max. Capped like "
        "accord_webhook_backlog (subscription=\"_other\": the oldest of the "
        "rest).");
    metrics.Describe(kUnrecorded, "gauge",
                     "Events in accord:events that the webhook consumer "
                     "group has not yet turned into deliveries (XINFO GROUPS "
                     "lag plus pending).");
    metrics.Describe(kRefreshErrors, "counter",
                     "Refreshes of the webhook backlog gauges that failed "
                     "(the gauges keep their previous values).");
    return true;
  }();
  (void)described;
}

std::string StateLabel(v1::Subscription::State state) {
  switch (state) {
    case v1::Subscription::STATE_PAUSED:
      return "paused";
    case v1::Subscription::STATE_DISABLED:
      return "disabled";
    default:
      return "active";
  }
}

struct Backlog {
  std::string name;
  std::string state;
  int64_t outstanding = 0;
  double oldest_age_seconds = 0;
};

// Every webhook subscription with its outstanding deliveries and the age
// of the oldest, as of `now`.
absl::StatusOr<std::vector<Backlog>> ReadBacklogs(RecordStore& store,
                                                  RedisClient& redis,
                                                  absl::Time now) {
  std::vector<Backlog> backlogs;
  ACCORD_RETURN_IF_ERROR(
      store.Scan("subscriptions", "", [&](const StoredRecord& record) {
        if (record.deleted) return true;
        absl::StatusOr<v1::Subscription> subscription =
            ParseRecord<v1::Subscription>(record);
        if (!subscription.ok() || !subscription->has_webhook()) return true;
        backlogs.push_back(
            {subscription->name(), StateLabel(subscription->state())});
        return true;
      }));

  for (size_t start = 0; start < backlogs.size(); start += kPipelineChunk) {
    const size_t end = std::min(backlogs.size(), start + kPipelineChunk);
    std::vector<std::vector<std::string>> commands;
    for (size_t i = start; i < end; ++i) {
      const std::string& name = backlogs[i].name;
      const std::string key =
          DeliveryHealthStore::UndeliveredKey(name.substr(name.find('/') + 1));
      commands.push_back({"ZCARD", key});
      commands.push_back({"ZRANGE", key, "0", "0"});
    }
    ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> replies,
                            redis.Pipeline(commands));
    for (size_t i = start; i < end && 2 * (i - start) + 1 < replies.size();
         ++i) {
      Backlog& backlog = backlogs[i];
      backlog.outstanding = replies[2 * (i - start)].integer;
      const RedisValue& oldest = replies[2 * (i - start) + 1];
      // A padded position: its time is the event's.
      if (!oldest.elements.empty() &&
          StreamPosition::IsValid(oldest.elements[0].text)) {
        const absl::Time added =
            StreamPosition::Parse(oldest.elements[0].text).time();
        backlog.oldest_age_seconds =
            std::max(0.0, absl::ToDoubleSeconds(now - added));
      }
    }
  }

  return backlogs;
}

// The webhook consumer group's lag plus pending, if Redis can tell.
absl::StatusOr<std::optional<double>> ReadUnrecorded(RedisClient& redis) {
  ACCORD_ASSIGN_OR_RETURN(RedisValue groups,
                          redis.Command({"XINFO", "GROUPS", kEventStream}));
  std::optional<double> unrecorded;
  for (const RedisValue& group : groups.elements) {
    bool ours = false;
    double lag = 0;
    double pending = 0;
    bool lag_known = false;
    for (size_t i = 0; i + 1 < group.elements.size(); i += 2) {
      const std::string& key = group.elements[i].text;
      const RedisValue& value = group.elements[i + 1];
      if (key == "name") ours = value.text == kWebhookGroup;
      if (key == "pending") pending = static_cast<double>(value.integer);
      // Nil when Redis cannot tell (entries deleted from the middle).
      if (key == "lag" && !value.is_nil()) {
        lag = static_cast<double>(value.integer);
        lag_known = true;
      }
    }
    if (ours && lag_known) unrecorded = lag + pending;
  }

  return unrecorded;
}

// Sets the backlog and age gauges: the `max_subscriptions` oldest backlogs
// with series of their own, the rest summed per state.
void PublishBacklogs(std::vector<Backlog> backlogs, int max_subscriptions) {
  // The oldest backlogs keep their own series; ties by size, then name.
  std::sort(backlogs.begin(), backlogs.end(),
            [](const Backlog& a, const Backlog& b) {
              if (a.oldest_age_seconds != b.oldest_age_seconds) {
                return a.oldest_age_seconds > b.oldest_age_seconds;
              }
              if (a.outstanding != b.outstanding) {
                return a.outstanding > b.outstanding;
              }
              return a.name < b.name;
            });
  std::vector<std::pair<MetricLabels, double>> outstanding;
  std::vector<std::pair<MetricLabels, double>> ages;
  std::map<std::string, Backlog> others;  // by state
  for (size_t i = 0; i < backlogs.size(); ++i) {
    const Backlog& backlog = backlogs[i];
    if (i < static_cast<size_t>(max_subscriptions)) {
      const MetricLabels labels = {{"subscription", backlog.name},
                                   {"state", backlog.state}};
      outstanding.emplace_back(labels,
                               static_cast<double>(backlog.outstanding));
      ages.emplace_back(labels, backlog.oldest_age_seconds);
      // Present from the start at 0, so increase() sees the first dead
      // letter (a counter that appears at 1 looks unchanged to it).
      Metrics::Global().Counter(
          "accord_webhook_dead_letters_total",
          {{"subscription", SubscriptionLabel(backlog.name)}});
      continue;
    }
    Backlog& other = others[backlog.state];
    other.outstanding += backlog.outstanding;
    other.oldest_age_seconds =
        std::max(other.oldest_age_seconds, backlog.oldest_age_seconds);
  }
  for (const auto& [state, other] : others) {
    const MetricLabels labels = {{"subscription", kOtherSubscriptionsLabel},
                                 {"state", state}};
    outstanding.emplace_back(labels, static_cast<double>(other.outstanding));
    ages.emplace_back(labels, other.oldest_age_seconds);
  }
  Metrics::Global().ReplaceGauges(kBacklog, outstanding);
  Metrics::Global().ReplaceGauges(kOldestAge, ages);
}

}  // namespace

std::string SubscriptionLabel(absl::string_view name) {
  static absl::Mutex* mutex = new absl::Mutex();
  static auto* seen = new absl::flat_hash_set<std::string>();
  absl::MutexLock lock(mutex);
  if (seen->contains(name)) return std::string(name);
  if (seen->size() >= kMaxDeadLetterLabels) return kOtherSubscriptionsLabel;
  seen->insert(std::string(name));
  return std::string(name);
}

WebhookBacklogMetrics::WebhookBacklogMetrics(RedisClient& redis,
                                             BacklogMetricsOptions options)
    : redis_(redis), options_(options), store_(redis) {
  DescribeBacklogMetrics();
}

WebhookBacklogMetrics::~WebhookBacklogMetrics() { Stop(); }

void WebhookBacklogMetrics::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void WebhookBacklogMetrics::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WebhookBacklogMetrics::Loop() {
  // A zero interval would spin against Redis.
  const absl::Duration interval =
      std::max(options_.interval, absl::Milliseconds(100));
  while (true) {
    absl::Status refreshed = RefreshOnce(absl::Now());
    if (!refreshed.ok()) {
      Metrics::Global().Increment(kRefreshErrors, {});
      LogWarning("webhook backlog metrics", {{"error", refreshed.ToString()}});
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (wake_.wait_for(lock, absl::ToChronoMilliseconds(interval),
                       [this] { return stopping_; })) {
      return;
    }
  }
}

absl::Status WebhookBacklogMetrics::RefreshOnce(absl::Time now) {
  ACCORD_ASSIGN_OR_RETURN(std::vector<Backlog> backlogs,
                          ReadBacklogs(store_, redis_, now));
  ACCORD_ASSIGN_OR_RETURN(std::optional<double> unrecorded,
                          ReadUnrecorded(redis_));
  PublishBacklogs(std::move(backlogs), options_.max_subscriptions);
  if (unrecorded.has_value()) {
    Metrics::Global().SetGauge(kUnrecorded, {}, *unrecorded);
  }
  return absl::OkStatus();
}

}  // namespace accord::notification
