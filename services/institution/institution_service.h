#ifndef ACCORD_SERVICES_INSTITUTION_INSTITUTION_SERVICE_H_
#define ACCORD_SERVICES_INSTITUTION_INSTITUTION_SERVICE_H_

// The handlers of accord.institution.v1.InstitutionService. The class holds
// no connection of its own: it is given a RedisClient, so tests can run it
// in-process as well as behind the real binary.

#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "common/auth.h"
#include "common/handler_support.h"
#include "common/list.h"
#include "common/record_store.h"
#include "common/redis/client.h"
#include "common/resource_adapter.h"
#include "common/write_path.h"
#include "services/institution/institution_resource.h"
#include "services/institution/official_resource.h"

namespace accord::institution {

class InstitutionServiceImpl final
    : public v1::InstitutionService::WithRawCallbackMethod_GetOfficial<
          v1::InstitutionService::WithRawCallbackMethod_GetInstitution<
              v1::InstitutionService::Service>> {
 public:
  InstitutionServiceImpl(RedisClient& redis, Authenticator& auth);

  // Rewrites, from their records, the search index entries written in an
  // older format (search_index.h), so that names stored before search
  // learnt transliteration are found through it without a per-query cost.
  // Each entry is rewritten only if its record did not change meanwhile.
  // Idempotent and cheap when nothing is stale; run before serving.
  absl::Status RebuildSearchIndex();

  // Gives every record written before revisions were kept its first
  // revision (ResourceOps::UpgradeRecordsWithoutRevisions). Run once at
  // start.
  absl::Status UpgradeRecordsWithoutRevisions();

  // The standard methods, served by each resource's adapter.
  ACCORD_STANDARD_METHODS(v1, Institution, Institutions, institutions_)
  ACCORD_RAW_CALLBACK_GET(v1, Institution, institutions_)
  ACCORD_STANDARD_METHODS(v1, Official, Officials, officials_)
  ACCORD_RAW_CALLBACK_GET(v1, Official, officials_)

  grpc::Status BatchGetInstitutions(
      grpc::ServerContext* context,
      const v1::BatchGetInstitutionsRequest* request,
      v1::BatchGetInstitutionsResponse* response) override;
  grpc::Status SearchInstitutions(
      grpc::ServerContext* context,
      const v1::SearchInstitutionsRequest* request,
      v1::SearchInstitutionsResponse* response) override;

  grpc::Status BatchGetOfficials(
      grpc::ServerContext* context, const v1::BatchGetOfficialsRequest* request,
      v1::BatchGetOfficialsResponse* response) override;

 private:
  absl::StatusOr<v1::SearchInstitutionsResponse> Search(
      const v1::SearchInstitutionsRequest& request);

  RedisClient& redis_;
  Authenticator& auth_;
  RecordStore store_;
  WritePath write_path_;
  SharedPageTokenCodec codec_;
  ServiceWiring wiring_{"accord.institution.v1.InstitutionService", store_,
                        write_path_, auth_, codec_};
  // The resources, one line each (see common/resource_adapter.h).
  InstitutionResource institutions_{wiring_, store_};
  OfficialResource officials_{wiring_, store_};
};

}  // namespace accord::institution

#endif  // ACCORD_SERVICES_INSTITUTION_INSTITUTION_SERVICE_H_
