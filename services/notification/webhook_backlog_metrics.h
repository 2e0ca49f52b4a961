#ifndef ACCORD_SERVICES_NOTIFICATION_WEBHOOK_BACKLOG_METRICS_H_
#define ACCORD_SERVICES_NOTIFICATION_WEBHOOK_BACKLOG_METRICS_H_

// The webhook backlog as Prometheus gauges, refreshed on an interval from
// what the dispatcher already keeps in Redis, never computed per request:
//
//   accord_webhook_backlog{subscription, state}
//       outstanding (pending or retrying) deliveries: ZCARD of the
//       subscription's undelivered set (delivery_health.h)
//   accord_webhook_oldest_undelivered_age_seconds{subscription, state}
//       now minus the stream time of its oldest outstanding event; 0 when
//       none is outstanding
//   accord_webhook_unrecorded_events
//       stream entries the webhook consumer group has not yet turned into
//       deliveries (XINFO GROUPS: lag plus pending)
//
// One refresh costs a scan of the subscription records and one pipelined
// round trip of two commands per webhook subscription, on every replica
// (all report the same values: aggregate with max, not sum). `state` is
// active, paused or disabled: a paused subscription's backlog grows by
// design.
//
// Label cardinality: at most `max_subscriptions` subscriptions get their
// own series, those with the oldest outstanding event first; the rest are
// summed (backlog) and maxed (age) into subscription="_other", one series
// per state. The dead-letter counter (accord_webhook_dead_letters_total,
// counted by the dispatcher) uses SubscriptionLabel for the same reason.
//
// Example:
//   WebhookBacklogMetrics backlog(redis, {.interval = absl::Seconds(15)});
//   backlog.Start();
//   ...
//   backlog.Stop();

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/record_store.h"
#include "common/redis/client.h"

namespace accord::notification {

// The label of the subscriptions beyond the cap.
inline constexpr char kOtherSubscriptionsLabel[] = "_other";

struct BacklogMetricsOptions {
  // How often the gauges are recomputed: about twice per usual 30 s
  // scrape interval, so a scrape sees values at most 15 s old.
  absl::Duration interval = absl::Seconds(15);
  // Subscriptions with series of their own (see above). 100 keeps a
  // replica's /metrics small while covering every subscription a single
  // agency deployment is expected to have.
  int max_subscriptions = 100;
};

// `name` as the subscription label of accord_webhook_dead_letters_total:
// the name itself for the first 1,000 distinct names this process sees,
// "_other" after that (counters cannot drop series, so this cap is for the
// life of the process).
std::string SubscriptionLabel(absl::string_view name);

class WebhookBacklogMetrics {
 public:
  WebhookBacklogMetrics(RedisClient& redis, BacklogMetricsOptions options);
  ~WebhookBacklogMetrics();

  // Starts refreshing every `interval` (the first refresh at once).
  void Start();
  void Stop();

  // One refresh as of `now`; on an error the previous values stay.
  absl::Status RefreshOnce(absl::Time now);

 private:
  void Loop();

  RedisClient& redis_;
  BacklogMetricsOptions options_;
  RecordStore store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_WEBHOOK_BACKLOG_METRICS_H_
