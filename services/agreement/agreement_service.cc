#include "services/agreement/agreement_service.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/country_codes.h"
#include "common/errors.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/agreement/agreement_validation.h"
#include "services/agreement/cooperation_areas.h"
#include "services/agreement/lifecycle.h"
#include "services/agreement/party_timeline.h"

namespace accord::agreement {
namespace {

using v1::Agreement;
using v1::Committee;
using v1::Milestone;
using v1::Session;

constexpr int kMaxHorizonDays = 3660;

std::string Method(absl::string_view name) {
  return absl::StrCat("/accord.agreement.v1.AgreementService/", name);
}

// The institution names an action gives, checked together.
absl::Status CheckActionNames(const v1::AgreementAction& action) {
  Violations violations;
  if (!action.party().empty()) {
    for (const auto& violation : FieldViolationsOf(
             ParseResourceName(action.party(), "institutions", "action.party")
                 .status())) {
      violations.Add(violation.field, violation.description);
    }
  }
  if (!action.acting_body().empty()) {
    for (const auto& violation : FieldViolationsOf(
             ParseResourceName(action.acting_body(), "institutions",
                               "action.acting_body")
                 .status())) {
      violations.Add(violation.field, violation.description);
    }
  }
  return violations.ToStatus();
}

// Makes `party`, whose country is `country_code`, a party of `agreement`.
// Its status is seeded with the country, which DeriveLifecycle keeps.
void AddParty(Agreement& agreement, const std::string& party,
              const std::string& country_code) {
  agreement.add_parties(party);
  v1::PartyStatus* status = agreement.add_party_statuses();
  status->set_party(party);
  status->set_country_code(country_code);
  const auto& codes = agreement.party_country_codes();
  if (!country_code.empty() &&
      std::find(codes.begin(), codes.end(), country_code) == codes.end()) {
    agreement.add_party_country_codes(country_code);
  }
}

}  // namespace

AgreementServiceImpl::AgreementServiceImpl(RedisClient& redis,
                                           InstitutionDirectory& directory,
                                           Authenticator& auth)
    : redis_(redis),
      auth_(auth),
      directory_(directory),
      store_(redis),
      write_path_(redis),
      codec_(redis) {}

absl::Status AgreementServiceImpl::UpgradeRecordsWithoutRevisions() {
  ACCORD_ASSIGN_OR_RETURN(int agreements,
                          agreements_.UpgradeRecordsWithoutRevisions(
                              "agreements", [this](Agreement& agreement) {
                                // Records from before per-party dates were kept
                                // get them now; a country the institution
                                // service cannot give yet stays empty until the
                                // agreement's next write.
                                DeriveLifecycle(agreement);
                                (void)FillPartyCountries(agreement);
                              }));
  ACCORD_ASSIGN_OR_RETURN(
      int committees,
      committees_.UpgradeRecordsWithoutRevisions("committees", nullptr));
  ACCORD_ASSIGN_OR_RETURN(
      int sessions,
      sessions_.UpgradeRecordsWithoutRevisions(kAllSessions, nullptr));
  ACCORD_ASSIGN_OR_RETURN(
      int milestones,
      milestones_.UpgradeRecordsWithoutRevisions(kAllMilestones, nullptr));
  if (agreements + committees + sessions + milestones > 0) {
    LogInfo("gave records from before revisions their first revision",
            {{"agreements", agreements},
             {"committees", committees},
             {"sessions", sessions},
             {"milestones", milestones}});
  }
  return absl::OkStatus();
}

absl::Status AgreementServiceImpl::BackfillIndexes() {
  ACCORD_ASSIGN_OR_RETURN(int read, agreements_.BackfillIndexes());
  if (read > 0) {
    LogInfo("added the agreements to their secondary indexes",
            {{"agreements", read}});
  }
  return absl::OkStatus();
}

absl::StatusOr<events::v1::Event> AgreementServiceImpl::AgreementEvent(
    const Agreement& agreement, absl::string_view type) {
  ChangeContext context = ContextFor("");
  context.principal = "accord-agreement";
  return agreements_.BuildEvent(agreement, type, context);
}

// ---- Agreements ----

absl::Status AgreementServiceImpl::FillPartyCountries(Agreement& agreement) {
  std::vector<std::string> missing;
  for (const v1::PartyStatus& status : agreement.party_statuses()) {
    if (status.country_code().empty()) missing.push_back(status.party());
  }
  if (missing.empty()) return absl::OkStatus();
  ACCORD_ASSIGN_OR_RETURN(auto countries, directory_.Countries(missing));
  for (v1::PartyStatus& status : *agreement.mutable_party_statuses()) {
    const auto it = countries.find(status.party());
    if (status.country_code().empty() && it != countries.end()) {
      status.set_country_code(it->second);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AgreementServiceImpl::PriorAndRecord>
AgreementServiceImpl::ReadPriorAndRecord(absl::string_view verb,
                                         absl::string_view request_id,
                                         absl::string_view name) {
  // ReplayedCustom refuses an invalid request_id as every write does,
  // before any round trip; a valid one is looked up in the pipeline below.
  if (!request_id.empty() && !IsValidRequestId(request_id)) {
    return agreements_.ReplayedCustom(verb, request_id).status();
  }
  std::vector<std::vector<std::string>> reads;
  reads.push_back(
      {"HMGET", RecordKey(name), kRecordData, kRecordEtag, kRecordDeleted});
  if (!request_id.empty()) {
    reads.push_back(
        {"HGET",
         WritePlan::RequestKey(absl::StrCat(verb, ":agreements"), request_id),
         "result"});
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<RedisValue> replies,
                          redis_.Pipeline(reads));
  PriorAndRecord read;
  if (replies.size() == 2 && !replies[1].is_nil()) {
    read.prior = std::move(replies[1].text);
  }
  const RedisValue& hash = replies[0];
  if (hash.elements.size() == 3 && !hash.elements[0].is_nil()) {
    StoredRecord record;
    record.name = std::string(name);
    record.data = hash.elements[0].text;
    record.etag = hash.elements[1].text;
    record.deleted = hash.elements[2].text == "1";
    read.record = std::move(record);
  }
  return read;
}

absl::StatusOr<Agreement> AgreementServiceImpl::RecordAction(
    const v1::RecordAgreementActionRequest& request, const Principal& caller) {
  ACCORD_RETURN_IF_ERROR(
      agreements_.CheckName(request.agreement(), "agreement"));
  if (!request.has_action()) return InvalidField("action", "must be set");
  const ChangeContext context =
      ContextFor(caller, Method("RecordAgreementAction"), request.request_id());
  ACCORD_ASSIGN_OR_RETURN(
      PriorAndRecord read,
      ReadPriorAndRecord("action_recorded", request.request_id(),
                         request.agreement()));
  if (read.prior.has_value()) {
    Agreement first;
    if (!first.ParseFromString(*read.prior)) {
      return absl::DataLossError("stored request result does not decode");
    }
    return agreements_.ReplayFor(std::move(first), &caller);
  }
  if (!read.record.has_value()) {
    return ResourceOps<Agreement>::NotFound(request.agreement());
  }
  const StoredRecord& record = *read.record;
  ACCORD_ASSIGN_OR_RETURN(Agreement agreement, ParseRecord<Agreement>(record));
  // Authorised before its state, etag or the action are judged: to a
  // non-party a restricted agreement is simply absent.
  ACCORD_RETURN_IF_ERROR(agreements_.CheckEditable(agreement, caller));
  if (record.deleted) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                           absl::StrCat(request.agreement(), " is deleted"),
                           "DELETED");
  }
  if (!request.etag().empty() && request.etag() != record.etag) {
    return agreements_.EtagMismatch(request.agreement());
  }
  v1::AgreementAction action = request.action();
  action.clear_record_time();
  ACCORD_RETURN_IF_ERROR(CheckActionNames(action));
  ACCORD_RETURN_IF_ERROR(CheckAction(agreement, action, "action"));
  // An accession by a newcomer makes it a party in this same write (and
  // event), so it is never shown as a party before it acceded.
  const bool joins = JoinsAsParty(agreement, action);
  References references = ReferencesOf(action, "action");
  if (joins) {
    if (agreement.parties_size() >= kMaxListLength) {
      return InvalidField(
          "action.party",
          absl::StrCat("the agreement already has ", agreement.parties_size(),
                       " parties, the most it may have"));
    }
    references.AddInstitution(action.party(), "action.party");
  }
  ACCORD_ASSIGN_OR_RETURN(auto found, directory_.Resolve(references));
  const Agreement before = agreement;
  const std::string party = action.party();
  ResourceOps<Agreement>::SetTimestamp(*action.mutable_record_time(),
                                       context.time);
  *agreement.add_actions() = std::move(action);
  if (joins) {
    const auto newcomer = found.find(party);
    AddParty(agreement, party,
             newcomer == found.end() ? "" : newcomer->second.country_code());
  }
  DeriveLifecycle(agreement);
  ACCORD_RETURN_IF_ERROR(FillPartyCountries(agreement));
  return agreements_.CommitCustom(std::move(agreement), record.etag,
                                  "action_recorded", request.request_id(),
                                  context, before, &caller,
                                  [&references](WritePlan& plan) {
                                    PlanReferenceChecks(references, plan);
                                  });
}

grpc::Status AgreementServiceImpl::RecordAgreementAction(
    grpc::ServerContext* context,
    const v1::RecordAgreementActionRequest* request, Agreement* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      WithFreshReferences([&] { return RecordAction(*request, caller); }),
      response);
}

grpc::Status AgreementServiceImpl::ListCooperationAreas(
    grpc::ServerContext* context, const v1::ListCooperationAreasRequest*,
    v1::ListCooperationAreasResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  for (const v1::CooperationArea& area : CooperationAreas()) {
    *response->add_cooperation_areas() = area;
  }
  return grpc::Status::OK;
}

// ---- Milestones ----

absl::StatusOr<Milestone> AgreementServiceImpl::Transition(
    const v1::TransitionMilestoneRequest& request, const Principal& caller) {
  ACCORD_RETURN_IF_ERROR(milestones_.CheckName(request.name(), "name"));
  const ChangeContext context =
      ContextFor(caller, Method("TransitionMilestone"), request.request_id());
  ACCORD_ASSIGN_OR_RETURN(
      std::optional<Milestone> replay,
      milestones_.ReplayedCustom("state_changed", request.request_id()));
  if (replay.has_value()) {
    return milestones_.ReplayFor(*std::move(replay), &caller);
  }
  ACCORD_ASSIGN_OR_RETURN(StoredRecord record,
                          milestones_.Load(request.name()));
  ACCORD_ASSIGN_OR_RETURN(Milestone milestone, ParseRecord<Milestone>(record));
  // Authorised before its state, etag or the transition are judged.
  ACCORD_RETURN_IF_ERROR(milestones_.CheckEditable(milestone, caller));
  if (record.deleted) {
    return ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                           absl::StrCat(request.name(), " is deleted"),
                           "DELETED");
  }
  if (!request.etag().empty() && request.etag() != record.etag) {
    return milestones_.EtagMismatch(request.name());
  }
  ACCORD_RETURN_IF_ERROR(ValidateTransition(milestone, request.transition()));
  const Milestone before = milestone;
  v1::MilestoneTransition transition = request.transition();
  ResourceOps<Milestone>::SetTimestamp(*transition.mutable_record_time(),
                                       context.time);
  milestone.set_state(transition.state());
  if (transition.state() == Milestone::STATE_ACHIEVED) {
    milestone.set_done_date(transition.transition_date());
  }
  const std::string session = transition.session();
  *milestone.add_transitions() = std::move(transition);
  // A transition naming a session needs that session to be live; checked
  // inside the write through a one-off wrapper of the traits' plan.
  if (!session.empty()) {
    ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> session_record,
                            store_.Get(session));
    if (!session_record.has_value() || session_record->deleted) {
      return NotLive("transition.session", session);
    }
  }
  return milestones_.CommitCustom(std::move(milestone), record.etag,
                                  "state_changed", request.request_id(),
                                  context, before, &caller);
}

grpc::Status AgreementServiceImpl::TransitionMilestone(
    grpc::ServerContext* context, const v1::TransitionMilestoneRequest* request,
    Milestone* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(Transition(*request, caller), response);
}

absl::StatusOr<v1::QueryDueMilestonesResponse>
AgreementServiceImpl::DueMilestones(
    const v1::QueryDueMilestonesRequest& request, const Principal& caller) {
  Violations violations;
  const std::string as_of =
      request.as_of_date().empty() ? Today() : request.as_of_date();
  absl::Time as_of_time;
  std::string error;
  if (as_of.size() != 10 ||
      !absl::ParseTime("%Y-%m-%d", as_of, absl::UTCTimeZone(), &as_of_time,
                       &error)) {
    violations.Add("as_of_date", "must be a date YYYY-MM-DD");
  }
  if (request.horizon_days() < 0 || request.horizon_days() > kMaxHorizonDays) {
    violations.Add("horizon_days",
                   absl::StrCat("must be between 0 and ", kMaxHorizonDays));
  }
  if (!request.parent().empty()) {
    for (const auto& violation :
         FieldViolationsOf(CheckMilestoneParent(request.parent(), "parent"))) {
      violations.Add(violation.field, violation.description);
    }
  }
  ACCORD_RETURN_IF_ERROR(violations.ToStatus());
  const std::string horizon = absl::FormatTime(
      "%Y-%m-%d", as_of_time + absl::Hours(24) * request.horizon_days(),
      absl::UTCTimeZone());
  const std::string prefix =
      request.parent().empty() ? "" : absl::StrCat(request.parent(), "/");

  std::vector<Milestone> overdue;
  std::vector<Milestone> upcoming;
  absl::Status parse_status;
  ACCORD_RETURN_IF_ERROR(
      store_.Scan(kAllMilestones, "", [&](const StoredRecord& record) {
        if (record.deleted || !absl::StartsWith(record.name, prefix)) {
          return true;
        }
        absl::StatusOr<Milestone> milestone = ParseRecord<Milestone>(record);
        if (!milestone.ok()) {
          parse_status = milestone.status();
          return false;
        }
        absl::StatusOr<bool> visible = milestones_.Visible(caller, *milestone);
        if (!visible.ok()) {
          parse_status = visible.status();
          return false;
        }
        if (!*visible) return true;
        if (milestone->state() == Milestone::STATE_ACHIEVED ||
            milestone->state() == Milestone::STATE_CANCELLED ||
            milestone->due_date().empty()) {
          return true;
        }
        if (CompareDates(milestone->due_date(), as_of) < 0) {
          overdue.push_back(*std::move(milestone));
        } else if (CompareDates(milestone->due_date(), horizon) <= 0) {
          upcoming.push_back(*std::move(milestone));
        }
        return true;
      }));
  ACCORD_RETURN_IF_ERROR(parse_status);
  auto by_due = [](const Milestone& a, const Milestone& b) {
    const int order = CompareDates(a.due_date(), b.due_date());
    return order != 0 ? order < 0 : a.name() < b.name();
  };
  std::sort(overdue.begin(), overdue.end(), by_due);
  std::sort(upcoming.begin(), upcoming.end(), by_due);
  v1::QueryDueMilestonesResponse response;
  for (Milestone& milestone : overdue) {
    *response.add_overdue() = std::move(milestone);
  }
  for (Milestone& milestone : upcoming) {
    *response.add_upcoming() = std::move(milestone);
  }
  return response;
}

grpc::Status AgreementServiceImpl::QueryDueMilestones(
    grpc::ServerContext* context, const v1::QueryDueMilestonesRequest* request,
    v1::QueryDueMilestonesResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return Respond(DueMilestones(*request, caller), response);
}

}  // namespace accord::agreement
