#include "tests/harness/event_log.h"

#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/events.h"
#include "common/write_path.h"

namespace accord::testing {
namespace {

RedisOptions OptionsFor(const std::string& url) {
  absl::StatusOr<RedisUrl> parsed = ParseRedisUrl(url);
  if (!parsed.ok()) throw std::runtime_error(parsed.status().ToString());
  RedisOptions options;
  options.url = *parsed;
  options.pool_size = 2;
  return options;
}

}  // namespace

EventLog::EventLog(const std::string& redis_url)
    : redis_(OptionsFor(redis_url)) {}

int64_t EventLog::Count() {
  absl::StatusOr<RedisValue> reply = redis_.Command({"XLEN", kEventStream});
  if (!reply.ok()) throw std::runtime_error(reply.status().ToString());
  return reply->integer;
}

std::vector<events::v1::Event> EventLog::All() { return After(""); }

std::vector<events::v1::Event> EventLog::After(const std::string& position) {
  absl::StatusOr<RedisValue> reply = redis_.Command(
      {"XRANGE", kEventStream, position.empty() ? "-" : "(" + position, "+"});
  if (!reply.ok()) throw std::runtime_error(reply.status().ToString());
  std::vector<events::v1::Event> events;
  for (const RedisValue& entry : reply->elements) {
    const std::string& id = entry.elements[0].text;
    const RedisValue& fields = entry.elements[1];
    for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
      if (fields.elements[i].text != "event") continue;
      absl::StatusOr<events::v1::Event> event =
          DecodeStreamEvent(id, fields.elements[i + 1].text);
      if (!event.ok()) throw std::runtime_error(event.status().ToString());
      events.push_back(*std::move(event));
    }
  }
  return events;
}

}  // namespace accord::testing
