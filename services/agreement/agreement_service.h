#ifndef ACCORD_SERVICES_AGREEMENT_AGREEMENT_SERVICE_H_
#define ACCORD_SERVICES_AGREEMENT_AGREEMENT_SERVICE_H_

// The handlers of accord.agreement.v1.AgreementService: the wiring of its
// four resources (each a module: *_resource.h) and its custom methods.
// Given a RedisClient and an InstitutionDirectory, so tests can run it
// in-process or behind the real binary.

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
#include "common/resource_adapter.h"
#include "common/write_path.h"
#include "services/agreement/agreement_resource.h"
#include "services/agreement/committee_resource.h"
#include "services/agreement/institution_directory.h"
#include "services/agreement/milestone_resource.h"
#include "services/agreement/session_resource.h"
#include "services/agreement/text_resource.h"

namespace accord::agreement {

class AgreementServiceImpl final
    : public v1::AgreementService::WithRawCallbackMethod_GetSession<
          v1::AgreementService::WithRawCallbackMethod_GetCommittee<
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

  // Adds agreements written before their secondary indexes existed to
  // them (SecondaryIndexes::Backfill). Run at start, after the upgrade
  // above (which may change indexed fields).
  absl::Status BackfillIndexes();

  // The standard methods, served by each resource's adapter.
  ACCORD_STANDARD_METHODS(v1, Agreement, Agreements, agreements_)
  ACCORD_CALLBACK_GET(v1, Agreement, agreements_)
  ACCORD_STANDARD_METHODS(v1, Committee, Committees, committees_)
  ACCORD_RAW_CALLBACK_GET(v1, Committee, committees_)
  ACCORD_STANDARD_METHODS(v1, Session, Sessions, sessions_)
  ACCORD_RAW_CALLBACK_GET(v1, Session, sessions_)
  ACCORD_STANDARD_METHODS(v1, Milestone, Milestones, milestones_)
  ACCORD_SYNC_GET(v1, Milestone, milestones_)
  ACCORD_STANDARD_METHODS(v1, AgreementText, AgreementTexts, texts_)
  ACCORD_SYNC_GET(v1, AgreementText, texts_)

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
  grpc::Status TransitionMilestone(
      grpc::ServerContext* context,
      const v1::TransitionMilestoneRequest* request,
      v1::Milestone* response) override;
  grpc::Status QueryDueMilestones(
      grpc::ServerContext* context,
      const v1::QueryDueMilestonesRequest* request,
      v1::QueryDueMilestonesResponse* response) override;

 private:
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
  SharedPageTokenCodec codec_;
  ServiceWiring wiring_{"accord.agreement.v1.AgreementService", store_,
                        write_path_, auth_, codec_};
  // The resources, one line each (see common/resource_adapter.h).
  AgreementResource agreements_{wiring_, directory_, store_};
  CommitteeResource committees_{wiring_, directory_, store_};
  SessionResource sessions_{wiring_, directory_, store_};
  MilestoneResource milestones_{wiring_, directory_, store_};
  TextResource texts_{wiring_, directory_, store_};
};

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_AGREEMENT_SERVICE_H_
