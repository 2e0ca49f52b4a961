// accord-notification: will serve accord.notification.v1 (subscriptions,
// resumable watch, signed webhooks). Until that API lands it runs the
// common server with health checking, reflection, metrics and graceful
// shutdown.

#include "common/config.h"
#include "common/redis_client.h"
#include "common/server.h"

int main(int argc, char** argv) {
  accord::BlockShutdownSignals();
  accord::ServerFlags flags;
  flags.service_name = "notification";
  flags.listen = "127.0.0.1:50053";
  accord::FlagSet flag_set("accord-notification",
                           "Delivers Accord events to watchers and webhooks "
                           "(accord.notification.v1).");
  accord::RegisterServerFlags(flag_set, flags);
  flag_set.ParseOrExit(argc, argv);
  accord::ApplyLogFlags(flags);

  accord::RedisClient redis(
      {.url = flags.redis,
       .pool_size = static_cast<int>(flags.redis_pool_size),
       .command_timeout = flags.redis_timeout});
  return accord::RunServer(
      flags, {},
      {.readiness = [&] { return redis.Ping(); }, .on_shutdown = nullptr});
}
