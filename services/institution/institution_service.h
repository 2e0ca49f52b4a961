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
#include "common/resource_ops.h"
#include "common/rpc_observation.h"
#include "common/write_path.h"

namespace accord::institution {

class InstitutionServiceImpl final
    : public v1::InstitutionService::WithCallbackMethod_GetOfficial<
          v1::InstitutionService::WithCallbackMethod_GetInstitution<
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

  grpc::Status CreateInstitution(grpc::ServerContext* context,
                                 const v1::CreateInstitutionRequest* request,
                                 v1::Institution* response) override;
  grpc::ServerUnaryReactor* GetInstitution(
      grpc::CallbackServerContext* context,
      const v1::GetInstitutionRequest* request,
      v1::Institution* response) override;
  grpc::Status ListInstitutions(
      grpc::ServerContext* context, const v1::ListInstitutionsRequest* request,
      v1::ListInstitutionsResponse* response) override;
  grpc::Status ListInstitutionRevisions(
      grpc::ServerContext* context,
      const v1::ListInstitutionRevisionsRequest* request,
      v1::ListInstitutionRevisionsResponse* response) override;
  grpc::Status UpdateInstitution(grpc::ServerContext* context,
                                 const v1::UpdateInstitutionRequest* request,
                                 v1::Institution* response) override;
  grpc::Status DeleteInstitution(grpc::ServerContext* context,
                                 const v1::DeleteInstitutionRequest* request,
                                 v1::Institution* response) override;
  grpc::Status UndeleteInstitution(
      grpc::ServerContext* context,
      const v1::UndeleteInstitutionRequest* request,
      v1::Institution* response) override;
  grpc::Status BatchGetInstitutions(
      grpc::ServerContext* context,
      const v1::BatchGetInstitutionsRequest* request,
      v1::BatchGetInstitutionsResponse* response) override;
  grpc::Status SearchInstitutions(
      grpc::ServerContext* context,
      const v1::SearchInstitutionsRequest* request,
      v1::SearchInstitutionsResponse* response) override;

  grpc::Status CreateOfficial(grpc::ServerContext* context,
                              const v1::CreateOfficialRequest* request,
                              v1::Official* response) override;
  grpc::ServerUnaryReactor* GetOfficial(grpc::CallbackServerContext* context,
                                        const v1::GetOfficialRequest* request,
                                        v1::Official* response) override;
  grpc::Status ListOfficials(grpc::ServerContext* context,
                             const v1::ListOfficialsRequest* request,
                             v1::ListOfficialsResponse* response) override;
  grpc::Status ListOfficialRevisions(
      grpc::ServerContext* context,
      const v1::ListOfficialRevisionsRequest* request,
      v1::ListOfficialRevisionsResponse* response) override;
  grpc::Status UpdateOfficial(grpc::ServerContext* context,
                              const v1::UpdateOfficialRequest* request,
                              v1::Official* response) override;
  grpc::Status DeleteOfficial(grpc::ServerContext* context,
                              const v1::DeleteOfficialRequest* request,
                              v1::Official* response) override;
  grpc::Status UndeleteOfficial(grpc::ServerContext* context,
                                const v1::UndeleteOfficialRequest* request,
                                v1::Official* response) override;
  grpc::Status BatchGetOfficials(
      grpc::ServerContext* context, const v1::BatchGetOfficialsRequest* request,
      v1::BatchGetOfficialsResponse* response) override;

 private:
  // The Gets observe themselves (ServeGet).
  SelfObservedMethod get_institution_{
      "/accord.institution.v1.InstitutionService/GetInstitution"};
  SelfObservedMethod get_official_{
      "/accord.institution.v1.InstitutionService/GetOfficial"};
  // Country codes of live institutions, from this service's own store.
  CountryResolver CountriesOfInstitutions();
  ResourceTraits<v1::Institution> InstitutionTraits();
  absl::StatusOr<v1::SearchInstitutionsResponse> Search(
      const v1::SearchInstitutionsRequest& request);
  absl::Status PlanInstitutionChange(const v1::Institution* before,
                                     const v1::Institution* after,
                                     WritePlan& plan);
  absl::Status CheckNoCycle(const v1::Institution& institution);

  RedisClient& redis_;
  Authenticator& auth_;
  RecordStore store_;
  WritePath write_path_;
  ResourceOps<v1::Institution> institutions_;
  ResourceOps<v1::Official> officials_;
  SharedPageTokenCodec codec_;
};

}  // namespace accord::institution

#endif  // ACCORD_SERVICES_INSTITUTION_INSTITUTION_SERVICE_H_
