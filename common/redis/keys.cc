#include "common/redis/keys.h"

namespace accord::redis_keys {

std::vector<std::string> AuditEntryCommand(const AuditEntry& entry) {
  return {"XADD",
          kAuditStream,
          "*",
          "principal",
          entry.principal,
          "method",
          entry.method,
          "resource",
          entry.resource,
          "time",
          absl::FormatTime(absl::RFC3339_full, entry.time, absl::UTCTimeZone()),
          "request_id",
          entry.request_id,
          "old_etag",
          entry.old_etag,
          "new_etag",
          entry.new_etag};
}

AuditEntry ParseAuditEntry(const RedisValue& entry) {
  AuditEntry parsed;
  if (entry.elements.size() < 2) return parsed;
  parsed.position = entry.elements[0].text;
  const RedisValue& fields = entry.elements[1];
  for (size_t i = 0; i + 1 < fields.elements.size(); i += 2) {
    const std::string& key = fields.elements[i].text;
    const std::string& value = fields.elements[i + 1].text;
    if (key == "principal") parsed.principal = value;
    if (key == "method") parsed.method = value;
    if (key == "resource") parsed.resource = value;
    if (key == "request_id") parsed.request_id = value;
    if (key == "old_etag") parsed.old_etag = value;
    if (key == "new_etag") parsed.new_etag = value;
    if (key == "time") {
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, value, &parsed.time, &error)) {
        parsed.time = absl::InfinitePast();
      }
    }
  }
  return parsed;
}

}  // namespace accord::redis_keys
