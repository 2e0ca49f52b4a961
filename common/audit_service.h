#ifndef ACCORD_COMMON_AUDIT_SERVICE_H_
#define ACCORD_COMMON_AUDIT_SERVICE_H_

// accord.auth.v1.AuditService: the audit trail (`accord:audit`) for admins,
// served by every Accord binary.

#include "accord/auth/v1/auth.grpc.pb.h"
#include "common/auth.h"
#include "common/handler_support.h"
#include "common/redis/client.h"

namespace accord {

class AuditServiceImpl final : public auth::v1::AuditService::Service {
 public:
  AuditServiceImpl(RedisClient& redis, Authenticator& auth)
      : redis_(redis), auth_(auth), codec_(redis) {}

  grpc::Status ListAuditRecords(
      grpc::ServerContext* context,
      const auth::v1::ListAuditRecordsRequest* request,
      auth::v1::ListAuditRecordsResponse* response) override;

 private:
  absl::StatusOr<auth::v1::ListAuditRecordsResponse> List(
      const auth::v1::ListAuditRecordsRequest& request);

  RedisClient& redis_;
  Authenticator& auth_;
  SharedPageTokenCodec codec_;
};

}  // namespace accord

#endif  // ACCORD_COMMON_AUDIT_SERVICE_H_
