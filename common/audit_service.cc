#include "common/audit_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/redis/keys.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace accord {
namespace {

constexpr int kScanBatch = 500;

auth::v1::AuditRecord ToRecord(const RedisValue& reply) {
  const redis_keys::AuditEntry entry = redis_keys::ParseAuditEntry(reply);
  auth::v1::AuditRecord record;
  record.set_position(entry.position);
  record.set_principal(entry.principal);
  record.set_method(entry.method);
  record.set_resource(entry.resource);
  record.set_request_id(entry.request_id);
  record.set_old_etag(entry.old_etag);
  record.set_new_etag(entry.new_etag);
  if (entry.time != absl::InfinitePast()) {
    *record.mutable_time() =
        google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
            absl::ToUnixNanos(entry.time));
  }
  return record;
}

}  // namespace

absl::StatusOr<auth::v1::ListAuditRecordsResponse> AuditServiceImpl::List(
    const auth::v1::ListAuditRecordsRequest& request) {
  ACCORD_ASSIGN_OR_RETURN(int page_size,
                          EffectivePageSize(request.page_size()));
  ACCORD_ASSIGN_OR_RETURN(const PageTokenCodec* codec, codec_.Get());
  const std::string fingerprint = absl::StrCat("audit\x1f", request.resource(),
                                               "\x1f", request.principal());
  // Newest first: continue strictly before the last position returned.
  std::string end = "+";
  if (!request.page_token().empty()) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> cursor,
                            codec->Decode(request.page_token(), fingerprint));
    end = absl::StrCat("(", cursor.front());
  }
  auth::v1::ListAuditRecordsResponse response;
  while (true) {
    ACCORD_ASSIGN_OR_RETURN(
        RedisValue entries,
        redis_.Command({"XREVRANGE", redis_keys::kAuditStream, end, "-",
                        "COUNT", absl::StrCat(kScanBatch)}));
    for (const RedisValue& entry : entries.elements) {
      auth::v1::AuditRecord record = ToRecord(entry);
      end = absl::StrCat("(", record.position());
      if (!request.resource().empty() &&
          record.resource() != request.resource()) {
        continue;
      }
      if (!request.principal().empty() &&
          record.principal() != request.principal()) {
        continue;
      }
      if (response.audit_records_size() == page_size) {
        response.set_next_page_token(codec->Encode(
            fingerprint, {response.audit_records(page_size - 1).position()}));
        return response;
      }
      *response.add_audit_records() = std::move(record);
    }
    if (entries.elements.size() < static_cast<size_t>(kScanBatch)) break;
  }
  return response;
}

grpc::Status AuditServiceImpl::ListAuditRecords(
    grpc::ServerContext* context,
    const auth::v1::ListAuditRecordsRequest* request,
    auth::v1::ListAuditRecordsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kAdmin);
  return Respond(List(*request), response);
}

}  // namespace accord
