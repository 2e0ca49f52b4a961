#ifndef ACCORD_COMMON_REDIS_HIREDIS_UTIL_H_
#define ACCORD_COMMON_REDIS_HIREDIS_UTIL_H_

// Owning pointers for hiredis objects and a binary-safe command call, for
// the files of accord_redis that talk hiredis directly (internal: nothing
// outside common/redis/ includes hiredis).

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

namespace accord::redis_internal {

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* context) const { redisFree(context); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

// Sends `args` (binary safe) and waits for the reply; null if the
// connection broke (context->errstr says why).
inline ReplyPtr CommandArgv(redisContext* context,
                            const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return ReplyPtr(static_cast<redisReply*>(redisCommandArgv(
      context, static_cast<int>(argv.size()), argv.data(), lengths.data())));
}

}  // namespace accord::redis_internal

#endif  // ACCORD_COMMON_REDIS_HIREDIS_UTIL_H_
