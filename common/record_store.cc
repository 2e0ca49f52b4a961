#include "common/record_store.h"

#include <openssl/rand.h>

#include "absl/strings/numbers.h"

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
  return {"HMGET", RecordKey(name), redis_keys::kRecordData,
          redis_keys::kRecordEtag, redis_keys::kRecordDeleted};
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

absl::StatusOr<std::optional<std::string>> RecordStore::GetRevision(
    absl::string_view name, absl::string_view revision_id) {
  ACCORD_ASSIGN_OR_RETURN(RedisValue reply,
                          redis_.Command({"HGET", RevisionDataKey(name),
                                          std::string(revision_id)}));
  if (reply.is_nil()) return std::nullopt;
  return reply.text;
}

absl::StatusOr<std::vector<StoredRevision>> RecordStore::RevisionsBefore(
    absl::string_view name, std::optional<int64_t> before_micros, int count) {
  const std::string max = before_micros.has_value()
                              ? absl::StrCat("(", *before_micros)
                              : std::string("+inf");
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue ids,
      redis_.Command({"ZRANGE", RevisionIndexKey(name), max, "-inf", "BYSCORE",
                      "REV", "LIMIT", "0", absl::StrCat(count), "WITHSCORES"}));
  std::vector<StoredRevision> revisions;
  if (ids.elements.empty()) return revisions;
  std::vector<std::string> hmget = {"HMGET", RevisionDataKey(name)};
  for (size_t i = 0; i + 1 < ids.elements.size(); i += 2) {
    StoredRevision revision;
    revision.id = ids.elements[i].text;
    if (!absl::SimpleAtoi(ids.elements[i + 1].text, &revision.micros)) {
      return absl::DataLossError(absl::StrCat("revision time of ", name, "@",
                                              revision.id, " does not parse"));
    }
    hmget.push_back(revision.id);
    revisions.push_back(std::move(revision));
  }
  ACCORD_ASSIGN_OR_RETURN(RedisValue data, redis_.Command(hmget));
  std::vector<StoredRevision> stored;
  for (size_t i = 0; i < revisions.size() && i < data.elements.size(); ++i) {
    if (data.elements[i].is_nil()) continue;  // cannot happen via WritePath
    revisions[i].data = data.elements[i].text;
    stored.push_back(std::move(revisions[i]));
  }
  return stored;
}

absl::StatusOr<std::vector<std::optional<StoredRevision>>>
RecordStore::RevisionsAt(const std::vector<std::string>& names,
                         int64_t micros) {
  std::vector<std::optional<StoredRevision>> found(names.size());
  if (names.empty()) return found;
  std::vector<std::vector<std::string>> lookups;
  lookups.reserve(names.size());
  const std::string max = absl::StrCat(micros);
  for (const std::string& name : names) {
    lookups.push_back({"ZRANGE", RevisionIndexKey(name), max, "-inf", "BYSCORE",
                       "REV", "LIMIT", "0", "1", "WITHSCORES"});
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> ids,
                          redis_.Pipeline(lookups));
  std::vector<std::vector<std::string>> reads;
  std::vector<size_t> read_for;
  for (size_t i = 0; i < names.size(); ++i) {
    if (ids[i].elements.size() != 2) continue;
    StoredRevision revision;
    revision.id = ids[i].elements[0].text;
    if (!absl::SimpleAtoi(ids[i].elements[1].text, &revision.micros)) {
      return absl::DataLossError(absl::StrCat(
          "revision time of ", names[i], "@", revision.id, " does not parse"));
    }
    reads.push_back({"HGET", RevisionDataKey(names[i]), revision.id});
    read_for.push_back(i);
    found[i] = std::move(revision);
  }
  if (reads.empty()) return found;
  ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> data, redis_.Pipeline(reads));
  for (size_t r = 0; r < reads.size(); ++r) {
    std::optional<StoredRevision>& revision = found[read_for[r]];
    if (data[r].is_nil()) {
      revision.reset();
    } else {
      revision->data = data[r].text;
    }
  }
  return found;
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
