#include "services/notification/webhook_sender.h"

#include <httplib.h>

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/notification/webhook_message.h"

namespace accord::notification {
namespace {

constexpr absl::Duration kDefaultTimeout = absl::Seconds(5);
// Open webhook connections one worker keeps; beyond, it starts afresh.
constexpr size_t kMaxCachedClientsPerWorker = 64;
constexpr absl::Duration kMaxIdleReuse = absl::Seconds(2);

// What goes out: where, the signed headers and the body, in how long.
struct WebhookRequest {
  WebhookTarget target;
  httplib::Headers headers;
  std::string body;
  absl::Duration timeout = kDefaultTimeout;
};

absl::StatusOr<WebhookRequest> PrepareRequest(
    const UrlGuard& guard, const v1::Subscription& subscription,
    const std::string& secret, const events::v1::Event& event) {
  absl::StatusOr<WebhookTarget> target =
      guard.Resolve(subscription.webhook().uri());
  if (!target.ok()) return target.status();
  absl::StatusOr<std::string> key = DecodeSigningSecret(secret);
  if (!key.ok()) {
    return absl::FailedPreconditionError(
        "the stored signing secret is unusable");
  }
  absl::StatusOr<std::string> body = CloudEventJson(event);
  if (!body.ok()) return body.status();
  WebhookRequest request;
  request.target = *std::move(target);
  request.body = *std::move(body);
  const WebhookHeaders signed_headers =
      SignWebhook(*key, event.id(), absl::Now(), request.body);
  if (subscription.webhook().has_timeout()) {
    request.timeout =
        absl::Seconds(subscription.webhook().timeout().seconds()) +
        absl::Nanoseconds(subscription.webhook().timeout().nanos());
  }
  request.headers = {{"webhook-id", signed_headers.id},
                     {"webhook-timestamp", signed_headers.timestamp},
                     {"webhook-signature", signed_headers.signature},
                     {"User-Agent", "accord-notification/1"}};
  // The trace of the call that made the change, so the receiver's work
  // joins it (W3C Trace Context over HTTP).
  if (!event.traceparent().empty()) {
    request.headers.emplace("traceparent", event.traceparent());
  }
  return request;
}

// Each worker keeps its connections open between attempts (a TCP and TLS
// handshake per event would cap throughput), one per endpoint and checked
// address: a changed DNS answer gets a new, re-checked client. A
// connection idle longer than kMaxIdleReuse is not reused: servers close
// idle ones (5 s is common) and a request on a closed one fails.
class ClientCache {
 public:
  static ClientCache& ForThisThread() {
    thread_local ClientCache cache;
    return cache;
  }

  // The client for `target`, and whether it was kept from earlier.
  std::pair<httplib::Client*, bool> Get(const WebhookTarget& target,
                                        const std::string& ca_file) {
    const std::string origin =
        absl::StrCat(target.scheme, "://", target.host, ":", target.port);
    const std::string key = KeyOf(target);
    const absl::Time now = absl::Now();
    Cached* cached = &clients_[key];
    const bool reused =
        cached->client != nullptr && now - cached->last_used < kMaxIdleReuse;
    if (!reused) {
      if (clients_.size() > kMaxCachedClientsPerWorker) {
        clients_.clear();
        cached = &clients_[key];
      }
      cached->client = NewClient(origin, target, ca_file);
    }
    cached->last_used = now;
    return {cached->client.get(), reused};
  }

  void Forget(const WebhookTarget& target) { clients_.erase(KeyOf(target)); }

 private:
  struct Cached {
    std::unique_ptr<httplib::Client> client;
    absl::Time last_used;
  };

  static std::string KeyOf(const WebhookTarget& target) {
    return absl::StrCat(target.scheme, "://", target.host, ":", target.port,
                        " ", target.address);
  }

  static std::unique_ptr<httplib::Client> NewClient(
      const std::string& origin, const WebhookTarget& target,
      const std::string& ca_file) {
    auto client = std::make_unique<httplib::Client>(origin);
    // Connect to the address that passed the check, whatever DNS says now.
    client->set_hostname_addr_map({{target.host, target.address}});
    client->set_keep_alive(true);
    // Headers and body go out in separate writes: without this, Nagle's
    // algorithm holds the body for the server's delayed ACK (~40 ms) on
    // every request of a kept connection.
    client->set_tcp_nodelay(true);
    client->set_follow_location(false);
    if (target.scheme == "https") client->set_ca_cert_path(ca_file);
    return client;
  }

  std::map<std::string, Cached> clients_;
};

AttemptOutcome OutcomeOf(const httplib::Result& result) {
  AttemptOutcome outcome;
  outcome.http_status = result->status;
  if (result->status < 200 || result->status > 299) {
    outcome.error = absl::StrCat("HTTP ", result->status);
    int64_t seconds = 0;
    if (result->has_header("Retry-After") &&
        absl::SimpleAtoi(result->get_header_value("Retry-After"), &seconds) &&
        seconds >= 0) {
      outcome.retry_after = absl::Seconds(seconds);
    }
  }
  return outcome;
}

}  // namespace

AttemptOutcome PostWebhook(const UrlGuard& guard, const std::string& ca_file,
                           const v1::Subscription& subscription,
                           const std::string& secret,
                           const events::v1::Event& event) {
  absl::StatusOr<WebhookRequest> request =
      PrepareRequest(guard, subscription, secret, event);
  if (!request.ok()) {
    return {0, std::string(request.status().message()), std::nullopt};
  }
  ClientCache& cache = ClientCache::ForThisThread();
  while (true) {
    auto [client, reused] = cache.Get(request->target, ca_file);
    const auto timeout = absl::ToChronoMicroseconds(request->timeout);
    client->set_connection_timeout(timeout);
    client->set_read_timeout(timeout);
    client->set_write_timeout(timeout);
    httplib::Result result =
        client->Post(request->target.path.c_str(), request->headers,
                     request->body, "application/cloudevents+json");
    if (!result && reused && result.error() == httplib::Error::Write) {
      // The endpoint closed the kept connection before the request went
      // out: once more on a new one.
      cache.Forget(request->target);
      continue;
    }
    if (!result) {
      cache.Forget(request->target);
      return {0,
              absl::StrCat("no answer: ", httplib::to_string(result.error())),
              std::nullopt};
    }
    return OutcomeOf(result);
  }
}

}  // namespace accord::notification
