#ifndef ACCORD_SERVICES_NOTIFICATION_WEBHOOK_DISPATCHER_H_
#define ACCORD_SERVICES_NOTIFICATION_WEBHOOK_DISPATCHER_H_

// Pushes events to webhook subscriptions, at least once.
//
// A reader thread consumes `accord:events` in the consumer group
// `notification-webhooks` (created at position 0, so a group created late
// still sees every entry the stream holds; subscriptions only take events
// after their own creation). For each entry it records one delivery per
// matching webhook subscription and only then XACKs, so a crash before the
// record leaves the entry pending: on restart the consumer re-reads its own
// pending entries, and XAUTOCLAIM takes over those of consumers that died.
//
// Worker threads take due deliveries (with a lease) and POST the signed
// CloudEvents body. 2xx succeeds; 410 disables the subscription; anything
// else, or no answer in time, is retried on the retry schedule with jitter
// (at least as long as a Retry-After in seconds asks), and after the last
// attempt of a round the delivery is dead-lettered until RetryDelivery or
// RedriveDeadLetters starts a new round. Every attempt is recorded, and
// counted in the subscription's delivery health (delivery_health.h).
//
// An ordered subscription's deliveries go out one at a time in stream
// order: a delivery that is not the oldest outstanding one of its
// subscription is parked, and settling the oldest one makes the next due.
//
// A trimmer keeps the stream from growing without bound: it XTRIMs by
// MINID up to the oldest entry that every consumer group has acknowledged,
// and never past the retention window watchers rely on to resume.
//
// Example:
//   WebhookDispatcher dispatcher(redis, options, guard, disable);
//   ACCORD_RETURN_IF_ERROR(dispatcher.Start());
//   ...
//   dispatcher.Stop();

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "accord/notification/v1/notification.pb.h"
#include "common/record_store.h"
#include "common/redis/client.h"
#include "services/notification/delivery_health.h"
#include "services/notification/delivery_store.h"
#include "services/notification/event_selector.h"
#include "services/notification/event_stream.h"
#include "services/notification/url_guard.h"
#include "services/notification/webhook_sender.h"

namespace accord::notification {

inline constexpr char kWebhookGroup[] = "notification-webhooks";

// 5s, 5m, 30m, 2h, 5h, 10h, 10h: after the first attempt, seven retries.
std::vector<absl::Duration> DefaultRetrySchedule();

// Parses "5s,5m,30m,2h" (at least one delay, each above zero).
absl::StatusOr<std::vector<absl::Duration>> ParseRetrySchedule(
    absl::string_view text);

struct WebhookOptions {
  std::string consumer;  // unique per replica, stable across restarts
  int workers = 4;
  // Delays before the second, third, ... attempt of a round. The default is
  // Standard Webhooks' practice, about 27.5 hours in all, so a receiver down
  // for a night or a long weekend day still gets every event without an
  // operator's help.
  std::vector<absl::Duration> retry_schedule = DefaultRetrySchedule();
  // Attempts per round; 0: one more than the schedule has delays. When
  // larger, the schedule's last delay repeats.
  int max_attempts = 0;
  // Failed attempts in a row after which a subscription is FAILING.
  int failing_threshold = 5;
  // Longest Retry-After honoured.
  absl::Duration max_retry_after = absl::Hours(1);
  // Pending entries idle this long at another consumer are taken over.
  absl::Duration claim_idle = absl::Seconds(60);
  absl::Duration delivery_retention = absl::Hours(168);
  // How long a delivery attempt may hold a due entry before others retry.
  absl::Duration lease = absl::Seconds(60);
  // Trimming: run every `trim_interval`; keep `event_retention` of events.
  absl::Duration trim_interval = absl::Seconds(60);
  absl::Duration event_retention = absl::Hours(168);
  // CA bundle for https endpoints.
  std::string ca_file = "/etc/ssl/certs/ca-certificates.crt";
};

// Attempts in one round under `options`.
int AttemptsPerRound(const WebhookOptions& options);

// The delay before attempt `attempt_in_round + 1` (attempt_in_round >= 1):
// the schedule's entry for it (its last entry beyond its end), times a
// jitter factor in [0.8, 1.2], and at least the Retry-After the endpoint
// asked for.
absl::Duration RetryDelay(const WebhookOptions& options, int attempt_in_round,
                          std::optional<absl::Duration> retry_after,
                          double jitter);

class WebhookDispatcher {
 public:
  // The principal a subscription's owner stands for, deciding which
  // restricted events its webhook may carry; nullopt: none of them.
  using ReceiverResolver =
      std::function<std::optional<Principal>(const std::string& owner)>;

  // Marks a subscription disabled (after a 410).
  using Disabler =
      std::function<absl::Status(const std::string& name, std::string reason)>;

  WebhookDispatcher(RedisClient& redis, WebhookOptions options,
                    const UrlGuard& guard, Disabler disable);
  // Set before Start(); without it every event may reach every webhook
  // (for --insecure_no_auth).
  void SetReceiverResolver(ReceiverResolver resolver) {
    receiver_resolver_ = std::move(resolver);
  }

  ~WebhookDispatcher();

  // Creates the group (and the stream) if needed and starts the threads.
  absl::Status Start();
  // Stops the threads; unfinished work stays in Redis for the next start.
  void Stop();

  // Wakes the workers (a delivery was made due).
  void Notify();

  // One trimming pass; returns the MINID used ("" when nothing to trim).
  absl::StatusOr<std::string> TrimOnce();

  // Drops every subscription's index entries whose delivery records have
  // expired; returns how many. Part of each trimming pass.
  absl::StatusOr<int64_t> PruneDeliveryIndexes();

 private:
  ReceiverResolver receiver_resolver_;

  struct CachedSubscription {
    std::string name;
    std::string start_position;
    EventSelector selector;
  };

  void ReadLoop();
  void WorkLoop();
  void TrimLoop();
  absl::Status ProcessEntries(const RedisValue& entries);
  absl::Status RefreshSubscriptions(absl::string_view position);
  struct AttemptState;
  void Attempt(const std::string& name);
  // The subscription when the delivery may be sent now; otherwise nullopt,
  // the delivery settled, parked or left for its lease to run out.
  std::optional<v1::Subscription> SubscriptionToAttempt(AttemptState& attempt);
  // Records the delivery's new state (due again at `due`, or final).
  void Finish(AttemptState& attempt, v1::Delivery::State state,
              std::optional<absl::Time> due);
  // Final without an HTTP attempt, saying why.
  void FinishNotSent(AttemptState& attempt, absl::string_view why,
                     v1::Delivery::State state);
  // After an HTTP attempt: succeeded, dead-lettered or retried later.
  void Settle(AttemptState& attempt, const AttemptOutcome& outcome,
              int in_round);
  // Counts an attempt in the subscription's health; logs a turn to FAILING.
  void RecordHealth(const v1::Subscription& subscription,
                    const AttemptOutcome& outcome, absl::Time when);
  bool Sleep(absl::Duration duration);

  RedisClient& redis_;
  WebhookOptions options_;
  const UrlGuard& guard_;
  Disabler disable_;
  RecordStore store_;
  DeliveryStore deliveries_;
  EventStream stream_;
  DeliveryHealthStore health_;

  // Reader-thread state.
  std::vector<CachedSubscription> subscriptions_;
  std::string covered_position_ = "";  // cache valid for events up to here
  std::string cached_version_ = "-";

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  uint64_t wakeups_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_WEBHOOK_DISPATCHER_H_
