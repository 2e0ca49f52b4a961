#include "common/record_store.h"

#include <openssl/rand.h>

#include "common/write_path.h"

namespace accord {
namespace {

constexpr int kScanBatch = 256;

std::optional<StoredRecord> FromHmget(std::string name,
                                      const RedisValue& reply) {
  if (reply.elements.size() != 3 || reply.elements[0].is_nil()) {
    return std::nullopt;
  }
  StoredRecord record;
  record.name = std::move(name);
  record.data = reply.elements[0].text;
  record.etag = reply.elements[1].text;
  record.deleted = reply.elements[2].text == "1";
  return record;
}

std::vector<std::string> HmgetCommand(absl::string_view name) {
  return {"HMGET", RecordKey(name), kRecordData, kRecordEtag, kRecordDeleted};
}

}  // namespace

absl::StatusOr<std::optional<StoredRecord>> RecordStore::Get(
    absl::string_view name) {
  ACCORD_ASSIGN_OR_RETURN(RedisValue reply, redis_.Command(HmgetCommand(name)));
  return FromHmget(std::string(name), reply);
}

void RecordStore::GetAsync(absl::string_view name, GetCallback done) {
  redis_.CommandAsync(HmgetCommand(name),
                      [name = std::string(name), done = std::move(done)](
                          absl::StatusOr<RedisValue> reply) mutable {
                        if (!reply.ok()) return done(reply.status());
                        done(FromHmget(std::move(name), *reply));
                      });
}

absl::StatusOr<std::vector<std::optional<StoredRecord>>> RecordStore::GetMany(
    const std::vector<std::string>& names) {
  std::vector<std::optional<StoredRecord>> records;
  if (names.empty()) return records;
  std::vector<std::vector<std::string>> commands;
  commands.reserve(names.size());
  for (const std::string& name : names) commands.push_back(HmgetCommand(name));
  ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> replies,
                          redis_.Pipeline(commands));
  records.reserve(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    records.push_back(FromHmget(names[i], replies[i]));
  }
  return records;
}

absl::Status RecordStore::Scan(
    absl::string_view collection, absl::string_view after,
    const std::function<bool(const StoredRecord&)>& visit) {
  std::string from = after.empty() ? "-" : absl::StrCat("(", after);
  const std::string index = IndexKey(collection);
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(
        RedisValue names,
        redis_.Command({"ZRANGEBYLEX", index, from, "+", "LIMIT", "0",
                        absl::StrCat(kScanBatch)}));
    if (names.elements.empty()) return absl::OkStatus();
    std::vector<std::string> batch;
    batch.reserve(names.elements.size());
    for (const RedisValue& name : names.elements) batch.push_back(name.text);
    ACCORD_ASSIGN_OR_RETURN(auto records, GetMany(batch));
    for (const auto& record : records) {
      // A name indexed but without a record cannot happen through
      // WritePath; skip rather than fail a whole listing on it.
      if (!record.has_value()) continue;
      if (!visit(*record)) return absl::OkStatus();
    }
    if (names.elements.size() < static_cast<size_t>(kScanBatch)) {
      return absl::OkStatus();
    }
    from = absl::StrCat("(", batch.back());
  }
}

absl::StatusOr<std::string> LoadOrCreateSecret(RedisClient& redis,
                                               absl::string_view key) {
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 1) {
    return absl::InternalError("no randomness for a new secret");
  }
  ACCORD_RETURN_IF_ERROR(
      redis.Command({"SET", std::string(key), secret, "NX"}).status());
  ACCORD_ASSIGN_OR_RETURN(RedisValue stored,
                          redis.Command({"GET", std::string(key)}));
  if (stored.is_nil() || stored.text.empty()) {
    return absl::UnavailableError("shared secret vanished; retry");
  }
  return stored.text;
}

}  // namespace accord
