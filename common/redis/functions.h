#ifndef ACCORD_COMMON_REDIS_FUNCTIONS_H_
#define ACCORD_COMMON_REDIS_FUNCTIONS_H_

// Calling a Redis Function library (lua/*.lua, common/redis/lua_libraries.h)
// from C++. A library is loaded once per process (EnsureLoaded, from the
// readiness probe) and again whenever Redis answers "Function not found" (a
// restart without persistence, a new primary), then the call is sent once
// more, so functions must be safe to repeat. Loading never replaces another
// version: the version is part of every name.
//
// Example:
//   RedisFunctions functions(redis, redis_lua::kNotificationLibrary);
//   ACCORD_ASSIGN_OR_RETURN(
//       RedisValue reply,
//       functions.Call({"FCALL", functions.Function("accord_claim_delivery"),
//                       "1", due_key, name, now, until}));

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/redis/client.h"

namespace accord {

// One library as embedded by cmake/embed_lua.cmake.
struct FunctionLibrary {
  const char* name;     // "<library>_<version>", as FUNCTION LOAD names it
  const char* version;  // "_<version>", the suffix of every function name
  const char* code;     // the FUNCTION LOAD text

  // The name of one of its functions: "accord_apply" -> "accord_apply_<v>".
  std::string Function(absl::string_view base) const {
    return absl::StrCat(base, version);
  }
};

class RedisFunctions {
 public:
  RedisFunctions(RedisClient& redis, const FunctionLibrary& library)
      : redis_(redis), library_(library) {}

  // Loads the library unless this object already did; cheap to repeat.
  absl::Status EnsureLoaded();
  // Loads the library now (FUNCTION LOAD REPLACE of this version only).
  absl::Status Load();

  // Sends one FCALL (or any command), loading the library and retrying once
  // on "Function not found".
  absl::StatusOr<RedisValue> Call(const std::vector<std::string>& command);
  // The same for several commands in one pipeline.
  absl::StatusOr<std::vector<RedisValue>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  std::string Function(absl::string_view base) const {
    return library_.Function(base);
  }
  const FunctionLibrary& library() const { return library_; }

 private:
  RedisClient& redis_;
  const FunctionLibrary& library_;
  std::atomic<bool> loaded_{false};
};

// True for Redis's answer to an FCALL of a function it does not hold.
bool IsFunctionNotFound(const absl::Status& status);

}  // namespace accord

#endif  // ACCORD_COMMON_REDIS_FUNCTIONS_H_
