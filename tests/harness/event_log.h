#ifndef ACCORD_TESTS_HARNESS_EVENT_LOG_H_
#define ACCORD_TESTS_HARNESS_EVENT_LOG_H_

// Reads the `accord:events` stream of a test Redis, so tests can assert one
// event per acknowledged change and none for a rejected one.

#include <string>
#include <vector>

#include "accord/events/v1/event.pb.h"
#include "common/redis/client.h"

namespace accord::testing {

class EventLog {
 public:
  explicit EventLog(const std::string& redis_url);

  // Number of entries in the stream now.
  int64_t Count();
  // Every event in the stream, oldest first, with positions filled in.
  std::vector<events::v1::Event> All();
  // Events after `position` ("" for all).
  std::vector<events::v1::Event> After(const std::string& position);

  RedisClient& redis() { return redis_; }

 private:
  RedisClient redis_;
};

}  // namespace accord::testing

#endif  // ACCORD_TESTS_HARNESS_EVENT_LOG_H_
