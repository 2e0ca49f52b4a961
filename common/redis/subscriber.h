#ifndef ACCORD_COMMON_REDIS_SUBSCRIBER_H_
#define ACCORD_COMMON_REDIS_SUBSCRIBER_H_

// A Redis pub/sub subscriber on a dedicated connection and thread: SUBSCRIBE
// and PSUBSCRIBE, reconnecting with exponential backoff, and a PING while
// the connection is quiet so a Redis that stopped answering (a half-open
// TCP connection, a failed-over primary) is noticed within a few seconds
// instead of never. A message published while it is disconnected is lost:
// `on_subscribed` is where a user catches up from a stream.
//
// Example:
//   RedisSubscriber subscriber(
//       {.url = url, .name = "event feed", .patterns = {"accord:events:*"}},
//       {.on_subscribed = [&] { return CatchUp(); },
//        .on_message = [&](absl::string_view, absl::string_view data) {...},
//        .on_disconnected = [&] { cache.Suspend(); }});
//   subscriber.Start();

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/config.h"

struct redisContext;

namespace accord {

class RedisSubscriber {
 public:
  struct Options {
    RedisUrl url = {};
    std::string name = {};  // names the subscriber in log lines
    std::vector<std::string> channels = {};  // SUBSCRIBE
    std::vector<std::string> patterns = {};  // PSUBSCRIBE
    absl::Duration connect_timeout = absl::Seconds(1);
    // A PING goes out after `ping_every` of quiet; `silence_limit` without
    // any reply (message or PONG) ends the connection.
    absl::Duration ping_every = absl::Seconds(1);
    absl::Duration silence_limit = absl::Seconds(3);
    absl::Duration min_backoff = absl::Milliseconds(50);
    absl::Duration max_backoff = absl::Seconds(2);
  };

  // All run on the subscriber's thread, one at a time. Any may be empty.
  struct Callbacks {
    // After every (re)subscription, before the first message is handed
    // over. An error ends the connection, retried after a backoff.
    std::function<absl::Status()> on_subscribed = nullptr;
    // A message on a channel (or one matching a pattern).
    std::function<void(absl::string_view channel, absl::string_view message)>
        on_message = nullptr;
    // After every connection attempt that ended, subscribed or not.
    std::function<void()> on_disconnected = nullptr;
  };

  RedisSubscriber(Options options, Callbacks callbacks);
  ~RedisSubscriber();  // Stop()
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  // Starts the thread (once).
  void Start();
  // Ends the connection and joins the thread within ~200ms; idempotent.
  void Stop();

 private:
  void Run();
  // Serves one connection until it breaks or Stop; false if it did not get
  // as far as a successful on_subscribed.
  bool Session();
  // Connects, authenticates and subscribes; nullptr (logged) on failure.
  redisContext* Subscribe();
  // Reads messages until the connection breaks, goes silent or Stop.
  void Listen(redisContext* context);
  // At most one warning a minute while (re)subscribing keeps failing.
  void Warn(absl::string_view what, absl::string_view error);

  const Options options_;
  const Callbacks callbacks_;
  std::atomic<bool> stop_{false};
  absl::Time quiet_until_ = absl::InfinitePast();  // subscriber thread only
  std::thread thread_;
};

}  // namespace accord

#endif  // ACCORD_COMMON_REDIS_SUBSCRIBER_H_
