#ifndef ACCORD_SERVICES_AGREEMENT_AGREEMENT_SERVICE_H_
#define ACCORD_SERVICES_AGREEMENT_AGREEMENT_SERVICE_H_

// The handlers of accord.agreement.v1.AgreementService. Given a RedisClient
// and an InstitutionDirectory, so tests can run it in-process or behind the
// real binary.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "common/auth.h"
#include "common/errors.h"
#include "common/handler_support.h"
#include "common/list.h"
#include "common/record_store.h"
#include "common/redis/client.h"
#include "common/resource_ops.h"
#include "common/rpc_observation.h"
#include "common/write_path.h"
#include "services/agreement/institution_directory.h"

namespace accord::agreement {

class AgreementServiceImpl final
    : public v1::AgreementService::WithCallbackMethod_GetSession<
          v1::AgreementService::WithCallbackMethod_GetCommittee<
              v1::AgreementService::WithCallbackMethod_GetAgreement<
                  v1::AgreementService::Service>>> {
 public:
  AgreementServiceImpl(RedisClient& redis, InstitutionDirectory& directory,
                       Authenticator& auth);

  // The event of `type` about `agreement` as the service itself records it
  // (the scheduled entered_into_force), with every routing attribute.
  absl::StatusOr<events::v1::Event> AgreementEvent(
      const v1::Agreement& agreement, absl::string_view type);

  // Gives every record written before revisions were kept its first
  // revision, re-deriving an agreement's per-party dates on the way (see
  // ResourceOps::UpgradeRecordsWithoutRevisions). Run once at start.
  absl::Status UpgradeRecordsWithoutRevisions();

  grpc::Status CreateAgreement(grpc::ServerContext* context,
                               const v1::CreateAgreementRequest* request,
                               v1::Agreement* response) override;
  grpc::ServerUnaryReactor* GetAgreement(grpc::CallbackServerContext* context,
                                         const v1::GetAgreementRequest* request,
                                         v1::Agreement* response) override;
  grpc::Status ListAgreements(grpc::ServerContext* context,
                              const v1::ListAgreementsRequest* request,
                              v1::ListAgreementsResponse* response) override;
  grpc::Status ListAgreementRevisions(
      grpc::ServerContext* context,
      const v1::ListAgreementRevisionsRequest* request,
      v1::ListAgreementRevisionsResponse* response) override;
  grpc::Status UpdateAgreement(grpc::ServerContext* context,
                               const v1::UpdateAgreementRequest* request,
                               v1::Agreement* response) override;
  grpc::Status DeleteAgreement(grpc::ServerContext* context,
                               const v1::DeleteAgreementRequest* request,
                               v1::Agreement* response) override;
  grpc::Status UndeleteAgreement(grpc::ServerContext* context,
                                 const v1::UndeleteAgreementRequest* request,
                                 v1::Agreement* response) override;
  grpc::Status RecordAgreementAction(
      grpc::ServerContext* context,
      const v1::RecordAgreementActionRequest* request,
      v1::Agreement* response) override;
  grpc::Status QueryAgreementsInForce(
      grpc::ServerContext* context,
      const v1::QueryAgreementsInForceRequest* request,
      v1::QueryAgreementsInForceResponse* response) override;
  grpc::Status QueryPartyStatus(
      grpc::ServerContext* context, const v1::QueryPartyStatusRequest* request,
      v1::QueryPartyStatusResponse* response) override;
  grpc::Status ListCooperationAreas(
      grpc::ServerContext* context,
      const v1::ListCooperationAreasRequest* request,
      v1::ListCooperationAreasResponse* response) override;

  grpc::Status CreateCommittee(grpc::ServerContext* context,
                               const v1::CreateCommitteeRequest* request,
                               v1::Committee* response) override;
  grpc::ServerUnaryReactor* GetCommittee(grpc::CallbackServerContext* context,
                                         const v1::GetCommitteeRequest* request,
                                         v1::Committee* response) override;
  grpc::Status ListCommittees(grpc::ServerContext* context,
                              const v1::ListCommitteesRequest* request,
                              v1::ListCommitteesResponse* response) override;
  grpc::Status ListCommitteeRevisions(
      grpc::ServerContext* context,
      const v1::ListCommitteeRevisionsRequest* request,
      v1::ListCommitteeRevisionsResponse* response) override;
  grpc::Status UpdateCommittee(grpc::ServerContext* context,
                               const v1::UpdateCommitteeRequest* request,
                               v1::Committee* response) override;
  grpc::Status DeleteCommittee(grpc::ServerContext* context,
                               const v1::DeleteCommitteeRequest* request,
                               v1::Committee* response) override;
  grpc::Status UndeleteCommittee(grpc::ServerContext* context,
                                 const v1::UndeleteCommitteeRequest* request,
                                 v1::Committee* response) override;

  grpc::Status CreateSession(grpc::ServerContext* context,
                             const v1::CreateSessionRequest* request,
                             v1::Session* response) override;
  grpc::ServerUnaryReactor* GetSession(grpc::CallbackServerContext* context,
                                       const v1::GetSessionRequest* request,
                                       v1::Session* response) override;
  grpc::Status ListSessions(grpc::ServerContext* context,
                            const v1::ListSessionsRequest* request,
                            v1::ListSessionsResponse* response) override;
  grpc::Status ListSessionRevisions(
      grpc::ServerContext* context,
      const v1::ListSessionRevisionsRequest* request,
      v1::ListSessionRevisionsResponse* response) override;
  grpc::Status UpdateSession(grpc::ServerContext* context,
                             const v1::UpdateSessionRequest* request,
                             v1::Session* response) override;
  grpc::Status DeleteSession(grpc::ServerContext* context,
                             const v1::DeleteSessionRequest* request,
                             v1::Session* response) override;
  grpc::Status UndeleteSession(grpc::ServerContext* context,
                               const v1::UndeleteSessionRequest* request,
                               v1::Session* response) override;

  grpc::Status CreateMilestone(grpc::ServerContext* context,
                               const v1::CreateMilestoneRequest* request,
                               v1::Milestone* response) override;
  grpc::Status GetMilestone(grpc::ServerContext* context,
                            const v1::GetMilestoneRequest* request,
                            v1::Milestone* response) override;
  grpc::Status ListMilestones(grpc::ServerContext* context,
                              const v1::ListMilestonesRequest* request,
                              v1::ListMilestonesResponse* response) override;
  grpc::Status ListMilestoneRevisions(
      grpc::ServerContext* context,
      const v1::ListMilestoneRevisionsRequest* request,
      v1::ListMilestoneRevisionsResponse* response) override;
  grpc::Status UpdateMilestone(grpc::ServerContext* context,
                               const v1::UpdateMilestoneRequest* request,
                               v1::Milestone* response) override;
  grpc::Status DeleteMilestone(grpc::ServerContext* context,
                               const v1::DeleteMilestoneRequest* request,
                               v1::Milestone* response) override;
  grpc::Status UndeleteMilestone(grpc::ServerContext* context,
                                 const v1::UndeleteMilestoneRequest* request,
                                 v1::Milestone* response) override;
  grpc::Status TransitionMilestone(
      grpc::ServerContext* context,
      const v1::TransitionMilestoneRequest* request,
      v1::Milestone* response) override;
  grpc::Status QueryDueMilestones(
      grpc::ServerContext* context,
      const v1::QueryDueMilestonesRequest* request,
      v1::QueryDueMilestonesResponse* response) override;

 private:
  // The Gets observe themselves (ServeGet).
  SelfObservedMethod get_agreement_{
      "/accord.agreement.v1.AgreementService/GetAgreement"};
  SelfObservedMethod get_committee_{
      "/accord.agreement.v1.AgreementService/GetCommittee"};
  SelfObservedMethod get_session_{
      "/accord.agreement.v1.AgreementService/GetSession"};
  // The resolver of every resource's event countries: the institution
  // service's answers, through `directory_` and its cache.
  CountryResolver CountriesOfInstitutions();
  ResourceTraits<v1::Agreement> AgreementTraits();
  ResourceTraits<v1::Committee> CommitteeTraits();
  ResourceTraits<v1::Session> SessionTraits();
  ResourceTraits<v1::Milestone> MilestoneTraits();

  // The first result of an earlier `verb` call with `request_id` (if any)
  // and the stored agreement `name` (if any), in one pipelined round trip.
  struct PriorAndRecord {
    std::optional<std::string> prior;
    std::optional<StoredRecord> record;
  };
  absl::StatusOr<PriorAndRecord> ReadPriorAndRecord(
      absl::string_view verb, absl::string_view request_id,
      absl::string_view name);
  absl::StatusOr<v1::Agreement> RecordAction(
      const v1::RecordAgreementActionRequest& request, const Principal& caller);
  absl::StatusOr<v1::Milestone> Transition(
      const v1::TransitionMilestoneRequest& request, const Principal& caller);
  // The two queries of who is bound on a date (in_force_queries.cc).
  // Calls `consider` with each agreement as its revision current at
  // `read_time` was (those not yet recorded or deleted then left out, and
  // those `caller` may not see now), until it returns false.
  absl::Status InForceAsOf(
      absl::Time read_time, const Principal& caller,
      const std::function<bool(const v1::Agreement&)>& consider);
  absl::StatusOr<v1::QueryAgreementsInForceResponse> InForce(
      const v1::QueryAgreementsInForceRequest& request,
      const Principal& caller);
  absl::StatusOr<v1::QueryPartyStatusResponse> PartyStatusOn(
      const v1::QueryPartyStatusRequest& request, const Principal& caller);
  // Sets the country of each party status that has none, as the
  // institution service knows it (records written before party statuses
  // carried countries; a party that just acceded).
  absl::Status FillPartyCountries(v1::Agreement& agreement);
  absl::StatusOr<v1::QueryDueMilestonesResponse> DueMilestones(
      const v1::QueryDueMilestonesRequest& request, const Principal& caller);

  // Runs a write whose references were checked by `directory_`; once more,
  // without the cache, when Redis refused it because a referenced
  // institution or official was no longer live (the cache had not heard
  // yet, or it was deleted meanwhile): the retry then answers exactly as
  // the institution service sees it.
  template <typename Write>
  auto WithFreshReferences(Write write) -> decltype(write()) {
    auto result = write();
    if (!result.ok() && ReasonOf(result.status()) == kReferenceNotLive) {
      directory_.ForgetCached();
      result = write();
    }
    return result;
  }

  RedisClient& redis_;
  Authenticator& auth_;
  InstitutionDirectory& directory_;
  RecordStore store_;
  WritePath write_path_;
  ResourceOps<v1::Agreement> agreements_;
  ResourceOps<v1::Committee> committees_;
  ResourceOps<v1::Session> sessions_;
  ResourceOps<v1::Milestone> milestones_;
  SharedPageTokenCodec codec_;
};

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_AGREEMENT_SERVICE_H_
