// accord-notification: serves accord.notification.v1.NotificationService —
// subscriptions, resumable WatchEvents streams and signed webhooks.

#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/audit_service.h"
#include "common/auth.h"
#include "common/config.h"
#include "common/log.h"
#include "common/redis/client.h"
#include "common/redis/lua_libraries.h"
#include "common/server.h"
#include "common/write_path.h"
#include "services/notification/event_hub.h"
#include "services/notification/notification_service.h"
#include "services/notification/redis_functions.h"
#include "services/notification/url_guard.h"
#include "services/notification/webhook_backlog_metrics.h"
#include "services/notification/webhook_dispatcher.h"

namespace {

// Stable across restarts of one replica (so it finds its own unacknowledged
// entries at once) and distinct between replicas.
std::string DefaultConsumerName(const std::string& listen) {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  const size_t colon = listen.rfind(':');
  return absl::StrCat(
      host, "-",
      colon == std::string::npos ? listen : listen.substr(colon + 1));
}

// Every flag of accord-notification as given, before Finish turns them
// into the options below.
struct NotificationFlags {
  accord::ServerFlags server;
  std::string allow_cidrs;
  std::string consumer;
  int64_t workers = 4;
  int64_t max_attempts = 0;
  int64_t failing_threshold = 5;
  std::string retry_schedule = "5s,5m,30m,2h,5h,10h,10h";
  int64_t replay_threads = 2;
  int64_t fanout_batch = 256;
  int64_t fanout_threads =
      accord::notification::EventHubOptions().fanout_threads;
  int64_t watcher_queue = 1024;
  int64_t recent_events = accord::notification::EventHubOptions().recent_events;
  accord::notification::WebhookOptions webhook;
  accord::notification::EventHubOptions hub_options;
  accord::notification::NotificationLimits limits;
  accord::notification::BacklogMetricsOptions backlog_options;
  int64_t backlog_max_subscriptions =
      accord::notification::BacklogMetricsOptions().max_subscriptions;
};

// The webhook flags (the dispatcher and its backlog metrics).
void AddWebhookFlags(accord::FlagSet& flag_set, NotificationFlags& f) {
  flag_set.AddString("webhook_allow_cidrs", &f.allow_cidrs,
                     "comma-separated CIDR blocks webhooks may reach although "
                     "they are loopback, private or link-local");
  flag_set.AddString("consumer_name", &f.consumer,
                     "this replica's f.consumer name in the f.webhook group; "
                     "default HOSTNAME-PORT");
  flag_set.AddInt("webhook_workers", &f.workers, 1, 256,
                  "concurrent f.webhook attempts");
  flag_set.AddString("webhook_retry_schedule", &f.retry_schedule,
                     "comma-separated delays before each retry of a f.webhook "
                     "delivery (each +-20%, at least a Retry-After); the "
                     "default, Standard Webhooks' practice, spans about 27.5 "
                     "hours before a delivery is dead-lettered");
  flag_set.AddInt("webhook_max_attempts", &f.max_attempts, 0, 100,
                  "attempts per delivery before it is dead-lettered; 0: one "
                  "more than the retry schedule has delays (8 by default)");
  flag_set.AddInt("webhook_failing_threshold", &f.failing_threshold, 1, 1000000,
                  "failed attempts in a row after which a subscription is "
                  "marked FAILING, a warning logged and a "
                  "subscription_failing event recorded");
  flag_set.AddDuration("webhook_claim_idle", &f.webhook.claim_idle,
                       "take over entries another f.consumer left pending "
                       "this long");
  flag_set.AddDuration("webhook_lease", &f.webhook.lease,
                       "how long one attempt holds a delivery before another "
                       "worker may retry it");
  flag_set.AddDuration("delivery_retention", &f.webhook.delivery_retention,
                       "how long delivery records are kept");
  flag_set.AddDuration("event_retention", &f.webhook.event_retention,
                       "events younger than this are never trimmed");
  flag_set.AddDuration("trim_interval", &f.webhook.trim_interval,
                       "how often the event stream is trimmed");
  flag_set.AddString("ca_file", &f.webhook.ca_file,
                     "CA bundle for https f.webhook endpoints");
  flag_set.AddDuration("webhook_metrics_interval", &f.backlog_options.interval,
                       "how often the f.webhook backlog gauges on /metrics are "
                       "recomputed from Redis (only with --metrics_listen)");
  flag_set.AddInt("webhook_metrics_max_subscriptions",
                  &f.backlog_max_subscriptions, 1, 100000,
                  "webhook subscriptions with backlog series of their own "
                  "(the oldest backlogs first); the rest are summed into "
                  "subscription=\"_other\"");
}

// The flags of WatchEvents and subscription limits.
void AddWatchFlags(accord::FlagSet& flag_set, NotificationFlags& f) {
  flag_set.AddDuration("heartbeat_interval", &f.hub_options.default_heartbeat,
                       "heartbeat period of idle WatchEvents streams unless "
                       "the caller asks for another");
  flag_set.AddInt("replay_threads", &f.replay_threads, 1, 64,
                  "threads reading the stream for watchers catching up");
  flag_set.AddInt("watcher_queue", &f.watcher_queue, 1, 1000000,
                  "events queued for one watcher that is not reading before "
                  "it falls back to reading the stream: what bounds a stuck "
                  "client's memory");
  flag_set.AddInt("recent_events", &f.recent_events, 0, 10000000,
                  "newest events kept decoded in memory (about 1.2 KB each) "
                  "for watchers catching up, shared instead of each reading "
                  "Redis; 0 keeps none");
  flag_set.AddInt("fanout_threads", &f.fanout_threads, 1, 64,
                  "threads handing live events to watchers (each watcher is "
                  "served by one, in order)");
  flag_set.AddInt("fanout_batch", &f.fanout_batch, 1, 100000,
                  "watchers handed an event before a fan-out thread pauses");
  flag_set.AddDuration("fanout_pause", &f.hub_options.fanout_pause,
                       "pause between fan-out batches, so unary calls are "
                       "not starved");
  flag_set.AddInt("max_watch_streams_per_principal",
                  &f.limits.max_watch_streams_per_principal, 1, 1000000,
                  "open WatchEvents streams one principal may hold on this "
                  "replica; more get RESOURCE_EXHAUSTED");
  flag_set.AddInt("max_subscriptions_per_principal",
                  &f.limits.max_subscriptions_per_principal, 1, 10000000,
                  "live subscriptions one owner (principal or institution) "
                  "may have; more get RESOURCE_EXHAUSTED");
}

// Fills the options from the flags given; INVALID_ARGUMENT naming the flag
// if one does not parse.
absl::Status Finish(NotificationFlags& f,
                    std::vector<accord::notification::Cidr>& allowed) {
  const accord::ServerFlags& flags = f.server;
  f.backlog_options.max_subscriptions =
      static_cast<int>(f.backlog_max_subscriptions);

  absl::StatusOr<std::vector<accord::notification::Cidr>> cidrs =
      accord::notification::ParseCidrList(f.allow_cidrs);
  if (!cidrs.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--webhook_allow_cidrs: ", cidrs.status().ToString()));
  }
  allowed = *std::move(cidrs);
  f.webhook.consumer =
      f.consumer.empty() ? DefaultConsumerName(flags.listen) : f.consumer;
  f.webhook.workers = static_cast<int>(f.workers);
  f.webhook.max_attempts = static_cast<int>(f.max_attempts);
  f.webhook.failing_threshold = static_cast<int>(f.failing_threshold);
  absl::StatusOr<std::vector<absl::Duration>> schedule =
      accord::notification::ParseRetrySchedule(f.retry_schedule);
  if (!schedule.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--webhook_retry_schedule: ", schedule.status().message()));
  }
  f.webhook.retry_schedule = *std::move(schedule);
  f.hub_options.redis = flags.redis;
  f.hub_options.replay_threads = static_cast<int>(f.replay_threads);
  f.hub_options.fanout_batch = static_cast<int>(f.fanout_batch);
  f.hub_options.fanout_threads = static_cast<int>(f.fanout_threads);
  f.hub_options.max_queue = static_cast<int>(f.watcher_queue);
  f.hub_options.recent_events = static_cast<int>(f.recent_events);
  f.hub_options.event_retention = f.webhook.event_retention;

  return absl::OkStatus();
}

NotificationFlags ParseFlagsOrExit(int argc, char** argv) {
  NotificationFlags parsed;
  parsed.server.service_name = "notification";
  parsed.server.listen = "127.0.0.1:50053";
  accord::FlagSet flag_set("accord-notification",
                           "Delivers Accord events to watchers and webhooks "
                           "(accord.notification.v1).");
  accord::RegisterServerFlags(flag_set, parsed.server);
  AddWebhookFlags(flag_set, parsed);
  AddWatchFlags(flag_set, parsed);
  flag_set.ParseOrExit(argc, argv);
  return parsed;
}

}  // namespace

int main(int argc, char** argv) {
  accord::BlockShutdownSignals();
  NotificationFlags parsed = ParseFlagsOrExit(argc, argv);
  accord::ServerFlags& flags = parsed.server;
  accord::ApplyLogFlags(flags);
  std::vector<accord::notification::Cidr> allowed;
  if (absl::Status finished = Finish(parsed, allowed); !finished.ok()) {
    std::fprintf(stderr, "accord-notification: %s\n",
                 std::string(finished.message()).c_str());
    return 2;
  }
  const accord::notification::WebhookOptions& webhook = parsed.webhook;
  const accord::notification::BacklogMetricsOptions& backlog_options =
      parsed.backlog_options;

  accord::RedisClient redis(accord::RedisOptionsFrom(flags));
  accord::WritePath write_path(redis);
  absl::StatusOr<std::unique_ptr<accord::Authenticator>> auth =
      accord::Authenticator::Create(flags.auth);
  if (!auth.ok()) {
    std::fprintf(stderr, "accord-notification: %s\n",
                 std::string(auth.status().message()).c_str());
    return 2;
  }
  const accord::notification::UrlGuard guard(std::move(allowed));
  accord::notification::NotificationServiceImpl service(
      redis, guard, **auth, webhook.delivery_retention, parsed.limits);
  accord::notification::EventHub hub(redis, parsed.hub_options);
  service.AttachHub(&hub);
  accord::notification::WebhookDispatcher dispatcher(
      redis, webhook, guard,
      [&service](const std::string& name, std::string reason) {
        return service
            .SetState(name, "",
                      accord::notification::v1::Subscription::STATE_DISABLED,
                      std::move(reason))
            .status();
      });
  service.OnDeliveryDue([&dispatcher] { dispatcher.Notify(); });
  dispatcher.SetReceiverResolver([&auth](const std::string& owner) {
    return (*auth)->FindPrincipal(owner);
  });

  accord::notification::WebhookBacklogMetrics backlog(redis, backlog_options);

  // Background work starts once Redis answers; until then health reports
  // NOT_SERVING and the probe keeps trying.
  bool started = false;
  // Loaded once per process here, and again whenever Redis lost them.
  accord::RedisFunctions notification_functions(
      redis, accord::redis_lua::kNotificationLibrary);
  accord::AuditServiceImpl audit(redis, **auth);
  const int code =
      accord::RunServer(flags, {&service, &audit},
                        {.readiness = [&]() -> absl::Status {
                           absl::Status status = redis.Ping();
                           if (status.ok())
                             status = write_path.EnsureFunctionsLoaded();
                           if (status.ok())
                             status = notification_functions.EnsureLoaded();
                           if (status.ok() && !started) {
                             status = service.IndexSubscriptionOwners();
                             if (status.ok())
                               status = dispatcher.Start();  // stream and group
                             if (status.ok()) status = hub.Start();
                             if (status.ok()) started = true;
                             // Only worth its Redis round trips when someone
                             // scrapes.
                             if (started && !flags.metrics_listen.empty())
                               backlog.Start();
                           }
                           return status;
                         },
                         .on_shutdown = [&] { hub.Shutdown(); },
                         .credentials = (*auth)->ServerCredentials()});
  backlog.Stop();
  dispatcher.Stop();
  return code;
}
