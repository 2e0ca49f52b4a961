#include "services/notification/webhook_dispatcher.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/events.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/status_macros.h"
#include "common/write_path.h"
#include "google/protobuf/util/time_util.h"
#include "services/notification/redis_functions.h"
#include "services/notification/webhook_backlog_metrics.h"
#include "services/notification/webhook_message.h"
#include "services/notification/webhook_sender.h"

namespace accord::notification {
namespace {

constexpr int kReadBatch = 100;
constexpr int kDueBatch = 16;
constexpr int kMaxAttemptsKept = 50;
constexpr absl::Duration kPausedRecheck = absl::Seconds(1);
// A parked delivery of an ordered subscription is woken when the one
// before it settles; this only bounds the wait if that wake-up is lost
// (the subscription stopped being ordered, say).
constexpr absl::Duration kOrderedRecheck = absl::Seconds(60);
constexpr absl::Duration kIdlePoll = absl::Milliseconds(200);
// Index entries looked at per subscription and trimming pass.
constexpr int64_t kPruneLimitPerPass = 100'000;

google::protobuf::Timestamp ToProto(absl::Time time) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(time));
}

google::protobuf::Duration ToProtoDuration(absl::Duration duration) {
  return google::protobuf::util::TimeUtil::NanosecondsToDuration(
      absl::ToInt64Nanoseconds(duration));
}

void DescribeWebhookMetrics() {
  static const bool described = [] {
    Metrics& metrics = Metrics::Global();
    metrics.Describe("accord_webhook_attempts_total", "counter",
                     "Webhook HTTP attempts, by outcome class.");
    metrics.Describe("accord_webhook_attempt_seconds", "histogram",
                     "Webhook attempt latency.");
    metrics.Describe("accord_webhook_deliveries_total", "counter",
                     "Webhook deliveries reaching a final state, by state.");
    metrics.Describe("accord_webhook_recorded_total", "counter",
                     "Webhook deliveries recorded from the event stream.");
    metrics.Describe("accord_webhook_subscriptions_failing_total", "counter",
                     "Webhook subscriptions that turned FAILING.");
    metrics.Describe(
        "accord_webhook_dead_letters_total", "counter",
        "Webhook deliveries dead-lettered (every attempt of a round failed, "
        "410 Gone, or the subscription disabled), by subscription, counted "
        "by the replica that settled them (sum over replicas). The first "
        "1,000 subscription names a process sees get their own series, "
        "later ones subscription=\"_other\".");
    metrics.Describe("accord_events_trimmed_total", "counter",
                     "Stream entries removed by the trimmer.");
    return true;
  }();
  (void)described;
}

std::string OutcomeClass(int http_status) {
  if (http_status == 0) return "no_answer";
  return absl::StrCat(http_status / 100, "xx");
}

// The entries part of an XREADGROUP reply ([[stream, entries]]), or nullptr.
const RedisValue* EntriesOf(const RedisValue& reply) {
  if (reply.is_nil() || reply.elements.empty() ||
      reply.elements[0].elements.size() != 2) {
    return nullptr;
  }
  return &reply.elements[0].elements[1];
}

}  // namespace

std::vector<absl::Duration> DefaultRetrySchedule() {
  return {absl::Seconds(5), absl::Minutes(5), absl::Minutes(30), absl::Hours(2),
          absl::Hours(5),   absl::Hours(10),  absl::Hours(10)};
}

absl::StatusOr<std::vector<absl::Duration>> ParseRetrySchedule(
    absl::string_view text) {
  std::vector<absl::Duration> schedule;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    absl::Duration delay;
    if (!absl::ParseDuration(absl::StripAsciiWhitespace(part), &delay) ||
        delay <= absl::ZeroDuration() || delay > absl::Hours(24 * 7)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", part,
          "\" is not a delay between 0 and 168h such as 5s, 5m or 2h"));
    }
    schedule.push_back(delay);
  }
  if (schedule.empty() || schedule.size() > 100) {
    return absl::InvalidArgumentError("give 1 to 100 delays");
  }
  return schedule;
}

int AttemptsPerRound(const WebhookOptions& options) {
  return options.max_attempts > 0
             ? options.max_attempts
             : static_cast<int>(options.retry_schedule.size()) + 1;
}

absl::Duration RetryDelay(const WebhookOptions& options, int attempt_in_round,
                          std::optional<absl::Duration> retry_after,
                          double jitter) {
  const std::vector<absl::Duration>& schedule = options.retry_schedule;
  const absl::Duration base =
      schedule.empty()
          ? absl::Seconds(5)
          : schedule[std::min<size_t>(std::max(attempt_in_round, 1) - 1,
                                      schedule.size() - 1)];
  absl::Duration delay = base * jitter;
  if (retry_after.has_value()) {
    delay = std::max(delay, std::min(*retry_after, options.max_retry_after));
  }
  return delay;
}

WebhookDispatcher::WebhookDispatcher(RedisClient& redis, WebhookOptions options,
                                     const UrlGuard& guard, Disabler disable)
    : redis_(redis),
      options_(std::move(options)),
      guard_(guard),
      disable_(std::move(disable)),
      store_(redis),
      deliveries_(redis, options_.delivery_retention),
      stream_(redis),
      health_(redis) {
  DescribeWebhookMetrics();
}

WebhookDispatcher::~WebhookDispatcher() { Stop(); }

absl::Status WebhookDispatcher::Start() {
  // From 0: a group created after events were recorded still sees them;
  // each subscription only takes events after its own start position.
  absl::StatusOr<RedisValue> created = redis_.Command(
      {"XGROUP", "CREATE", kEventStream, kWebhookGroup, "0", "MKSTREAM"});
  if (!created.ok() &&
      !absl::StrContains(created.status().message(), "BUSYGROUP")) {
    return created.status();
  }
  threads_.emplace_back([this] { ReadLoop(); });
  for (int i = 0; i < options_.workers; ++i) {
    threads_.emplace_back([this] { WorkLoop(); });
  }
  threads_.emplace_back([this] { TrimLoop(); });
  LogInfo("webhook dispatcher started", {{"consumer", options_.consumer}});
  return absl::OkStatus();
}

void WebhookDispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
}

void WebhookDispatcher::Notify() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++wakeups_;
  }
  wake_.notify_all();
}

bool WebhookDispatcher::Sleep(absl::Duration duration) {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t seen = wakeups_;
  wake_.wait_for(lock, absl::ToChronoMilliseconds(duration),
                 [&] { return stopping_ || wakeups_ != seen; });
  return !stopping_;
}

void WebhookDispatcher::ReadLoop() {
  // First the entries this consumer read but never acknowledged (it was
  // killed), then new ones; every so often, the abandoned entries of
  // consumers that are gone.
  std::string own_pending = "0";
  absl::Time next_claim = absl::Now();
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    absl::Status status = absl::OkStatus();
    if (!own_pending.empty()) {
      absl::StatusOr<RedisValue> reply = redis_.Command(
          {"XREADGROUP", "GROUP", kWebhookGroup, options_.consumer, "COUNT",
           absl::StrCat(kReadBatch), "STREAMS", kEventStream, own_pending});
      const RedisValue* entries = reply.ok() ? EntriesOf(*reply) : nullptr;
      if (!reply.ok()) {
        status = reply.status();
      } else if (entries == nullptr || entries->elements.empty()) {
        own_pending.clear();
      } else {
        status = ProcessEntries(*entries);
        if (status.ok())
          own_pending = entries->elements.back().elements[0].text;
      }
    } else if (absl::Now() >= next_claim) {
      std::string cursor = "0-0";
      do {
        absl::StatusOr<RedisValue> reply = redis_.Command(
            {"XAUTOCLAIM", kEventStream, kWebhookGroup, options_.consumer,
             absl::StrCat(absl::ToInt64Milliseconds(options_.claim_idle)),
             cursor, "COUNT", absl::StrCat(kReadBatch)});
        if (!reply.ok() || reply->elements.size() < 2) {
          status = reply.ok() ? absl::InternalError("bad XAUTOCLAIM reply")
                              : reply.status();
          break;
        }
        cursor = reply->elements[0].text;
        if (!reply->elements[1].elements.empty()) {
          LogInfo("claimed abandoned entries",
                  {{"count", reply->elements[1].elements.size()}});
          status = ProcessEntries(reply->elements[1]);
          if (!status.ok()) break;
        }
      } while (cursor != "0-0");
      next_claim =
          absl::Now() + std::max(options_.claim_idle / 2, absl::Seconds(1));
    } else {
      absl::StatusOr<RedisValue> reply =
          redis_.Command({"XREADGROUP", "GROUP", kWebhookGroup,
                          options_.consumer, "COUNT", absl::StrCat(kReadBatch),
                          "BLOCK", "500", "STREAMS", kEventStream, ">"});
      if (!reply.ok()) {
        status = reply.status();
      } else if (const RedisValue* entries = EntriesOf(*reply);
                 entries != nullptr && !entries->elements.empty()) {
        status = ProcessEntries(*entries);
      }
    }
    if (!status.ok()) {
      // NOGROUP: the stream or group was removed (a flushed Redis).
      if (absl::StrContains(status.message(), "NOGROUP")) {
        (void)redis_.Command(
            {"XGROUP", "CREATE", kEventStream, kWebhookGroup, "0", "MKSTREAM"});
      }
      LogWarning("webhook reader", {{"error", status.ToString()}});
      // Entries read but not acknowledged stay in this consumer's pending
      // list; read them from there again rather than wait for a claim.
      own_pending = "0";
      if (!Sleep(backoff)) return;
      backoff = std::min(backoff * 2, absl::Seconds(5));
    } else {
      backoff = absl::Milliseconds(100);
    }
  }
}

absl::Status WebhookDispatcher::RefreshSubscriptions(
    absl::string_view position) {
  if (!covered_position_.empty() &&
      ComparePositions(position, covered_position_) <= 0) {
    return absl::OkStatus();
  }
  // Head before version: if the version is unchanged, no subscription was
  // written before the head, so the cache is right for events up to it.
  ACCORD_ASSIGN_OR_RETURN(std::string head, stream_.Head());
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue version,
      redis_.Command({"GET", redis_keys::kSubscriptionsVersion}));
  const std::string version_text = version.is_nil() ? "0" : version.text;
  if (version_text != cached_version_) {
    std::vector<CachedSubscription> loaded;
    ACCORD_RETURN_IF_ERROR(
        store_.Scan("subscriptions", "", [&](const StoredRecord& record) {
          if (record.deleted) return true;
          absl::StatusOr<v1::Subscription> subscription =
              ParseRecord<v1::Subscription>(record);
          if (!subscription.ok() || !subscription->has_webhook()) return true;
          absl::StatusOr<EventSelector> selector =
              EventSelector::Create({subscription->event_types().begin(),
                                     subscription->event_types().end()},
                                    subscription->filter(), "",
                                    EventSelector::TypeCheck::kSyntaxOnly);
          if (!selector.ok()) return true;
          if (receiver_resolver_) {
            std::optional<Principal> receiver;
            if (absl::StartsWith(subscription->owner(), "institutions/")) {
              receiver.emplace();
              receiver->id = subscription->owner();
              receiver->institutions = {subscription->owner()};
            } else {
              receiver = receiver_resolver_(subscription->owner());
            }
            // An owner no longer in the credentials receives nothing
            // restricted.
            selector->SetReceiver(receiver.value_or(Principal{}));
          }
          loaded.push_back({subscription->name(),
                            subscription->start_position(),
                            *std::move(selector)});
          return true;
        }));
    subscriptions_ = std::move(loaded);
    cached_version_ = version_text;
  }
  covered_position_ = head;
  return absl::OkStatus();
}

absl::Status WebhookDispatcher::ProcessEntries(const RedisValue& entries) {
  std::vector<std::string> ids;
  for (const RedisValue& entry : entries.elements) {
    if (!entry.elements.empty()) ids.push_back(entry.elements[0].text);
  }
  std::vector<events::v1::Event> events;
  std::string last;
  int count = 0;
  DecodeEntries(entries, events, last, count);
  std::vector<std::vector<std::string>> commands;
  if (!events.empty()) {
    ACCORD_RETURN_IF_ERROR(RefreshSubscriptions(events.back().position()));
    const absl::Time now = absl::Now();
    for (const events::v1::Event& event : events) {
      for (const CachedSubscription& subscription : subscriptions_) {
        // A subscription's failing endpoint is not told it is failing.
        if (event.type() == kSubscriptionFailingType &&
            event.subject() == subscription.name) {
          continue;
        }
        if (ComparePositions(event.position(), subscription.start_position) >
                0 &&
            subscription.selector.Matches(event)) {
          commands.push_back(
              deliveries_.RecordCommand(subscription.name, event, now));
        }
      }
    }
  }
  if (!commands.empty()) {
    ACCORD_RETURN_IF_ERROR(CallFunctions(redis_, commands).status());
    Metrics::Global().Increment("accord_webhook_recorded_total", {},
                                static_cast<double>(commands.size()));
  }
  // Acknowledged only once every delivery is recorded.
  if (!ids.empty()) {
    std::vector<std::string> ack = {"XACK", kEventStream, kWebhookGroup};
    ack.insert(ack.end(), ids.begin(), ids.end());
    ACCORD_RETURN_IF_ERROR(redis_.Command(ack).status());
  }
  if (!commands.empty()) Notify();
  return absl::OkStatus();
}

void WebhookDispatcher::WorkLoop() {
  absl::BitGen bits;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    absl::StatusOr<std::vector<std::string>> due =
        deliveries_.Due(absl::Now(), kDueBatch);
    if (!due.ok()) {
      LogWarning("webhook worker", {{"error", due.status().ToString()}});
      if (!Sleep(absl::Milliseconds(500))) return;
      continue;
    }
    if (due->empty()) {
      if (!Sleep(kIdlePoll)) return;
      continue;
    }
    // Workers start at different places so they rarely race for one.
    std::shuffle(due->begin(), due->end(), bits);
    bool failed = false;
    for (const std::string& name : *due) {
      absl::StatusOr<bool> claimed =
          deliveries_.Claim(name, absl::Now(), options_.lease);
      if (!claimed.ok()) {
        // Back off as after a failed read: the names stay due, and retrying
        // at once would spin (e.g. on NOPERM).
        LogWarning("webhook claim", {{"delivery", name},
                                     {"error", claimed.status().ToString()}});
        failed = true;
        break;
      }
      if (*claimed) Attempt(name);
    }
    if (failed && !Sleep(absl::Milliseconds(500))) return;
  }
}

// One attempt in progress: the delivery as loaded and what it belongs to.
struct WebhookDispatcher::AttemptState {
  std::string name;
  std::string subscription_name;
  StoredDelivery stored;
  absl::Time now;
  bool ordered = false;
};

void WebhookDispatcher::Finish(AttemptState& attempt, v1::Delivery::State state,
                               std::optional<absl::Time> due) {
  v1::Delivery& delivery = attempt.stored.delivery;
  delivery.set_state(state);
  *delivery.mutable_update_time() = ToProto(absl::Now());
  if (due.has_value()) {
    *delivery.mutable_next_attempt_time() = ToProto(*due);
  } else {
    delivery.clear_next_attempt_time();
    Metrics::Global().Increment("accord_webhook_deliveries_total",
                                {{"state", v1::Delivery::State_Name(state)}});
    if (state == v1::Delivery::STATE_DEAD_LETTERED) {
      Metrics::Global().Increment(
          "accord_webhook_dead_letters_total",
          {{"subscription", SubscriptionLabel(attempt.subscription_name)}});
    }
  }
  absl::Status saved =
      deliveries_.Save(attempt.stored, due, {}, attempt.ordered);
  if (!saved.ok()) {
    LogWarning("webhook save",
               {{"delivery", attempt.name}, {"error", saved.ToString()}});
  }
}

void WebhookDispatcher::FinishNotSent(AttemptState& attempt,
                                      absl::string_view why,
                                      v1::Delivery::State state) {
  v1::DeliveryAttempt* record = attempt.stored.delivery.add_attempts();
  *record->mutable_attempt_time() = ToProto(attempt.now);
  record->set_error(absl::StrCat("not sent: ", why));
  Finish(attempt, state, std::nullopt);
}

std::optional<v1::Subscription> WebhookDispatcher::SubscriptionToAttempt(
    AttemptState& attempt) {
  absl::StatusOr<std::optional<StoredRecord>> record =
      store_.Get(attempt.subscription_name);
  if (!record.ok()) return std::nullopt;
  if (!record->has_value()) {
    FinishNotSent(attempt, "the subscription was deleted",
                  v1::Delivery::STATE_CANCELLED);
    return std::nullopt;
  }
  absl::StatusOr<v1::Subscription> subscription =
      ParseRecord<v1::Subscription>(**record);
  if (!subscription.ok()) return std::nullopt;
  attempt.ordered =
      subscription->has_webhook() && subscription->webhook().ordered();
  if ((*record)->deleted) {
    FinishNotSent(attempt, "the subscription was deleted",
                  v1::Delivery::STATE_CANCELLED);
    return std::nullopt;
  }
  if (subscription->state() == v1::Subscription::STATE_PAUSED) {
    Finish(attempt, attempt.stored.delivery.state(),
           attempt.now + kPausedRecheck);
    return std::nullopt;
  }
  if (subscription->state() == v1::Subscription::STATE_DISABLED) {
    FinishNotSent(attempt,
                  absl::StrCat("the subscription is disabled: ",
                               subscription->state_reason()),
                  v1::Delivery::STATE_DEAD_LETTERED);
    return std::nullopt;
  }
  if (!subscription->has_webhook()) {
    FinishNotSent(attempt, "the subscription no longer has a webhook",
                  v1::Delivery::STATE_CANCELLED);
    return std::nullopt;
  }
  if (attempt.ordered) {
    absl::StatusOr<bool> turn =
        deliveries_.OrderedTurn(attempt.name, attempt.now + kOrderedRecheck);
    if (!turn.ok()) {
      LogWarning("webhook order check", {{"delivery", attempt.name},
                                         {"error", turn.status().ToString()}});
      return std::nullopt;  // the lease runs out and it is tried again
    }
    if (!*turn) return std::nullopt;  // parked behind an earlier event
  }
  return *std::move(subscription);
}

void WebhookDispatcher::Attempt(const std::string& name) {
  absl::StatusOr<std::optional<StoredDelivery>> loaded = deliveries_.Load(name);
  if (!loaded.ok()) {
    LogWarning("webhook load",
               {{"delivery", name}, {"error", loaded.status().ToString()}});
    return;  // the lease runs out and it is tried again
  }
  if (!loaded->has_value()) {
    (void)redis_.Command({"ZREM", redis_keys::kDeliveriesDue, name});
    return;
  }
  AttemptState attempt{name, name.substr(0, name.find("/deliveries/")),
                       **std::move(loaded), absl::Now(), false};
  std::optional<v1::Subscription> subscription = SubscriptionToAttempt(attempt);
  if (!subscription.has_value()) return;
  absl::StatusOr<RedisValue> secret = redis_.Command(
      {"HGET", redis_keys::kWebhookSecrets, attempt.subscription_name});
  if (!secret.ok()) return;

  v1::Delivery& delivery = attempt.stored.delivery;
  const absl::Time started = absl::Now();
  const AttemptOutcome outcome =
      secret->is_nil()
          ? AttemptOutcome{0, "no signing secret is stored", std::nullopt}
          : PostWebhook(guard_, options_.ca_file, *subscription, secret->text,
                        attempt.stored.event);
  const absl::Duration latency = absl::Now() - started;
  v1::DeliveryAttempt* record = delivery.add_attempts();
  *record->mutable_attempt_time() = ToProto(started);
  record->set_http_status(outcome.http_status);
  *record->mutable_latency() = ToProtoDuration(latency);
  record->set_error(outcome.error);
  if (delivery.attempts_size() > kMaxAttemptsKept) {
    const int drop = delivery.attempts_size() - kMaxAttemptsKept;
    delivery.mutable_attempts()->DeleteSubrange(0, drop);
    attempt.stored.round_start = std::max(0, attempt.stored.round_start - drop);
  }
  Metrics::Global().Increment("accord_webhook_attempts_total",
                              {{"outcome", OutcomeClass(outcome.http_status)}});
  Metrics::Global().Observe("accord_webhook_attempt_seconds", {},
                            absl::ToDoubleSeconds(latency));
  RecordHealth(*subscription, outcome, started);
  const int in_round = delivery.attempts_size() - attempt.stored.round_start;
  LogInfo("webhook attempt",
          {{"delivery", name},
           {"http_status", outcome.http_status},
           {"attempt", in_round},
           {"latency_ms", absl::ToDoubleMilliseconds(latency)},
           {"error", outcome.error}});
  Settle(attempt, outcome, in_round);
}

void WebhookDispatcher::Settle(AttemptState& attempt,
                               const AttemptOutcome& outcome, int in_round) {
  if (outcome.http_status >= 200 && outcome.http_status <= 299) {
    Finish(attempt, v1::Delivery::STATE_SUCCEEDED, std::nullopt);
  } else if (outcome.http_status == 410) {
    // Disabled first: whoever sees the dead letter also sees why.
    absl::Status disabled =
        disable_(attempt.subscription_name, "the endpoint answered 410 Gone");
    if (!disabled.ok()) {
      LogWarning("cannot disable subscription",
                 {{"subscription", attempt.subscription_name},
                  {"error", disabled.ToString()}});
    }
    Finish(attempt, v1::Delivery::STATE_DEAD_LETTERED, std::nullopt);
  } else if (in_round >= AttemptsPerRound(options_)) {
    Finish(attempt, v1::Delivery::STATE_DEAD_LETTERED, std::nullopt);
  } else {
    thread_local absl::BitGen bits;
    const absl::Duration delay = RetryDelay(
        options_, in_round, outcome.retry_after, absl::Uniform(bits, 0.8, 1.2));
    Finish(attempt, v1::Delivery::STATE_RETRYING, absl::Now() + delay);
  }
}

void WebhookDispatcher::RecordHealth(const v1::Subscription& subscription,
                                     const AttemptOutcome& outcome,
                                     absl::Time when) {
  const bool succeeded =
      outcome.http_status >= 200 && outcome.http_status <= 299;
  absl::StatusOr<HealthChange> change = health_.RecordAttempt(
      subscription, succeeded, outcome.error, when, options_.failing_threshold);
  if (!change.ok()) {
    LogWarning("webhook health", {{"subscription", subscription.name()},
                                  {"error", change.status().ToString()}});
    return;
  }
  if (*change == HealthChange::kTurnedFailing) {
    Metrics::Global().Increment("accord_webhook_subscriptions_failing_total",
                                {});
    LogWarning("webhook subscription failing",
               {{"subscription", subscription.name()},
                {"owner", subscription.owner()},
                {"failures_in_a_row", options_.failing_threshold},
                {"last_error", outcome.error}});
  } else if (*change == HealthChange::kRecovered) {
    LogInfo("webhook subscription recovered",
            {{"subscription", subscription.name()}});
  }
}

void WebhookDispatcher::TrimLoop() {
  while (Sleep(options_.trim_interval)) {
    absl::StatusOr<std::string> trimmed = TrimOnce();
    if (!trimmed.ok()) {
      LogWarning("trim", {{"error", trimmed.status().ToString()}});
    }
    absl::StatusOr<int64_t> pruned = PruneDeliveryIndexes();
    if (!pruned.ok()) {
      LogWarning("prune deliveries", {{"error", pruned.status().ToString()}});
    }
  }
}

absl::StatusOr<int64_t> WebhookDispatcher::PruneDeliveryIndexes() {
  // Every subscription, deleted ones too: their indexes outlive them.
  std::vector<std::string> ids;
  ACCORD_RETURN_IF_ERROR(
      store_.Scan("subscriptions", "", [&](const StoredRecord& record) {
        ids.push_back(record.name.substr(record.name.find('/') + 1));
        return true;
      }));
  int64_t removed = 0;
  for (const std::string& id : ids) {
    ACCORD_ASSIGN_OR_RETURN(int64_t pruned,
                            deliveries_.PruneIndex(id, kPruneLimitPerPass));
    removed += pruned;
  }
  if (removed > 0) {
    LogInfo("pruned expired deliveries", {{"count", removed}});
  }
  return removed;
}

absl::StatusOr<std::string> WebhookDispatcher::TrimOnce() {
  std::string min_id = absl::StrCat(
      absl::ToUnixMillis(absl::Now() - options_.event_retention), "-0");
  ACCORD_ASSIGN_OR_RETURN(RedisValue groups,
                          redis_.Command({"XINFO", "GROUPS", kEventStream}));
  for (const RedisValue& group : groups.elements) {
    std::string name;
    std::string last_delivered = "0-0";
    long long pending = 0;
    for (size_t i = 0; i + 1 < group.elements.size(); i += 2) {
      const std::string& key = group.elements[i].text;
      const RedisValue& value = group.elements[i + 1];
      if (key == "name") name = value.text;
      if (key == "last-delivered-id") last_delivered = value.text;
      if (key == "pending") pending = value.integer;
    }
    // Entries up to the first unacknowledged one (or everything the group
    // has read) may go; nothing after.
    std::string bound = last_delivered;
    if (pending > 0) {
      ACCORD_ASSIGN_OR_RETURN(RedisValue summary,
                              redis_.Command({"XPENDING", kEventStream, name}));
      if (summary.elements.size() >= 2 && !summary.elements[1].is_nil()) {
        bound = summary.elements[1].text;
      } else {
        bound = "0-0";
      }
    }
    if (ComparePositions(bound, min_id) < 0) min_id = bound;
  }
  if (ComparePositions(min_id, "0-1") < 0) return std::string();
  ACCORD_ASSIGN_OR_RETURN(long long trimmed, stream_.TrimBefore(min_id));
  if (trimmed > 0) {
    Metrics::Global().Increment("accord_events_trimmed_total", {},
                                static_cast<double>(trimmed));
    LogInfo("trimmed events", {{"count", trimmed}, {"min_id", min_id}});
  }
  return min_id;
}

}  // namespace accord::notification
