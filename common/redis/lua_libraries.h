#ifndef ACCORD_COMMON_REDIS_LUA_LIBRARIES_H_
#define ACCORD_COMMON_REDIS_LUA_LIBRARIES_H_

// The Redis Function libraries of Accord, written in common/redis/lua/*.lua
// and embedded at build time (cmake/embed_lua.cmake) with a content-hash
// version in every name. Call them through RedisFunctions
// (common/redis/functions.h).

#include "common/redis/functions.h"

namespace accord::redis_lua {

// lua/write.lua: accord_apply, the atomic write path (common/write_path.h).
extern const FunctionLibrary kWriteLibrary;

// lua/notification.lua: the notification service's deliveries, health and
// stream trimming (services/notification/redis_functions.h).
extern const FunctionLibrary kNotificationLibrary;

}  // namespace accord::redis_lua

#endif  // ACCORD_COMMON_REDIS_LUA_LIBRARIES_H_
