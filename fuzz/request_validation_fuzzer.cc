// Create requests, parsed from the fuzz bytes, straight into the checks the
// handlers run before anything is written. The first byte picks the
// request type (modulo 7), the rest is the serialized request:
//   0 CreateInstitutionRequest   → ValidateInstitution
//   1 CreateOfficialRequest      → ValidateOfficial
//   2 CreateAgreementRequest     → ValidateAgreement (with CheckActions),
//                                  DeriveLifecycle, InForceOn
//   3 CreateCommitteeRequest     → ValidateCommittee
//   4 CreateSessionRequest       → parent check, ValidateSession
//   5 CreateMilestoneRequest     → parent check, ValidateMilestone,
//                                  ValidateTransition
//   6 RecordAgreementActionRequest → name checks, CheckAction,
//                                  DeriveLifecycle, InForceOn
// Each step follows the handler and ResourceOps::Create: request id and
// resource id checks, the name the record would get, output-only fields
// cleared, defaults filled in.
//
// For 6 the agreement the action is recorded on is built from the request:
// named `request.agreement`, parties Iran and Russia, signed 2025-01-17,
// with a prior log taken from the bytes of `request.etag` (each byte one
// action), keeping only the actions CheckAction accepts, as the service
// would have.
//
// Checks beyond "no crash, no UB, no leak":
//   - rejections are INVALID_ARGUMENT (FAILED_PRECONDITION for steps out of
//     order) naming fields under the request field at fault, and survive
//     the trip to a gRPC status and back (what the client decodes);
//   - a log accepted whole on create is accepted action by action, as
//     RecordAgreementAction would see it, and the other way round;
//   - DeriveLifecycle is idempotent.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "accord/agreement/v1/agreement_service.pb.h"
#include "accord/institution/v1/institution_service.pb.h"
#include "common/errors.h"
#include "common/ids.h"
#include "fuzz/fuzz_support.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/agreement/agreement_validation.h"
#include "services/agreement/lifecycle.h"
#include "services/agreement/party_timeline.h"
#include "services/institution/institution_validation.h"

namespace {

namespace agreement = accord::agreement;
namespace institution = accord::institution;
using agreement::v1::Agreement;
using agreement::v1::AgreementAction;
using agreement::v1::Committee;
using agreement::v1::Milestone;
using agreement::v1::Session;

// The date the fuzzer's "today" is, where a handler would use the clock.
constexpr char kToday[] = "2025-04-26";

// What the client sees of a rejection: checked, and again after the trip
// through a gRPC status.
void Rejected(const absl::Status& status, absl::string_view field_prefix,
              absl::StatusCode also = absl::StatusCode::kOk) {
  accord::fuzz::CheckRejection(status, field_prefix, also);
  const absl::Status received =
      accord::FromGrpcStatus(accord::ToGrpcStatus(status));
  ACCORD_FUZZ_CHECK(received.code() == status.code(), received.ToString());
  ACCORD_FUZZ_CHECK(
      accord::FieldViolationsOf(received).size() ==
          accord::FieldViolationsOf(status).size(),
      "field violations lost on the way to the client: " + status.ToString());
}

// ResourceOps::Create's checks of request_id and of the chosen id.
bool IdsAccepted(absl::string_view request_id, absl::string_view id,
                 bool nested) {
  if (!request_id.empty() && !accord::IsValidRequestId(request_id)) {
    return false;
  }
  return id.empty() || (nested ? accord::IsValidChildResourceId(id)
                               : accord::IsValidResourceId(id));
}

std::string NameOf(absl::string_view collection, absl::string_view id) {
  return absl::StrCat(collection, "/", id.empty() ? "generated-id" : id);
}

template <typename T>
void ClearOutputOnly(T& resource) {
  resource.clear_create_time();
  resource.clear_update_time();
  resource.clear_delete_time();
  resource.clear_etag();
}

// The lifecycle on an accepted log: idempotent, and InForceOn answers for
// every date the record mentions.
void ExerciseLifecycle(Agreement& record) {
  agreement::DeriveLifecycle(record);
  Agreement again = record;
  agreement::DeriveLifecycle(again);
  ACCORD_FUZZ_CHECK(
      google::protobuf::util::MessageDifferencer::Equals(record, again),
      "DeriveLifecycle is not idempotent");
  std::vector<std::string> dates = {kToday, record.signing_date(),
                                    record.expiry_date(),
                                    record.effective_date()};
  for (const AgreementAction& action : record.actions()) {
    dates.push_back(action.action_date());
    dates.push_back(action.effective_date());
  }
  for (const std::string& date : dates) {
    (void)agreement::InForceOn(record, date);
  }
}

void CreateInstitution(absl::string_view bytes) {
  institution::v1::CreateInstitutionRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  if (!IdsAccepted(request.request_id(), request.institution_id(), false)) {
    return;
  }
  institution::v1::Institution record = request.institution();
  if (record.state() == institution::v1::Institution::STATE_UNSPECIFIED) {
    record.set_state(institution::v1::Institution::STATE_ACTIVE);
  }
  record.set_name(NameOf("institutions", request.institution_id()));
  ClearOutputOnly(record);
  const absl::Status status = institution::ValidateInstitution(record);
  if (!status.ok()) Rejected(status, "institution.");
}

void CreateOfficial(absl::string_view bytes) {
  institution::v1::CreateOfficialRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  if (!IdsAccepted(request.request_id(), request.official_id(), false)) {
    return;
  }
  institution::v1::Official record = request.official();
  record.set_name(NameOf("officials", request.official_id()));
  ClearOutputOnly(record);
  const absl::Status status = institution::ValidateOfficial(record);
  if (!status.ok()) Rejected(status, "official.");
}

void CreateAgreement(absl::string_view bytes) {
  agreement::v1::CreateAgreementRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  if (!IdsAccepted(request.request_id(), request.agreement_id(), false)) {
    return;
  }
  Agreement record = request.agreement();
  for (AgreementAction& action : *record.mutable_actions()) {
    if (!action.has_record_time()) action.mutable_record_time()->set_seconds(1);
  }
  record.set_name(NameOf("agreements", request.agreement_id()));
  ClearOutputOnly(record);
  const absl::Status status = agreement::ValidateAgreement(record);

  // The same log recorded one action at a time.
  Agreement stepwise = record;
  stepwise.clear_actions();
  absl::Status stepwise_status;
  for (const AgreementAction& action : record.actions()) {
    stepwise_status = agreement::CheckAction(stepwise, action, "action");
    if (!stepwise_status.ok()) break;
    *stepwise.add_actions() = action;
  }
  if (status.ok()) {
    ACCORD_FUZZ_CHECK(stepwise_status.ok(),
                      "accepted on create, refused step by step: " +
                          stepwise_status.ToString());
    (void)agreement::ReferencesOf(record);
    ExerciseLifecycle(record);
    return;
  }
  Rejected(status, "agreement.", absl::StatusCode::kFailedPrecondition);
  if (!stepwise_status.ok()) {
    Rejected(stepwise_status, "action", absl::StatusCode::kFailedPrecondition);
  }
  // A log refused on create only for its order is refused step by step too.
  if (status.code() == absl::StatusCode::kFailedPrecondition) {
    ACCORD_FUZZ_CHECK(
        !stepwise_status.ok(),
        "refused on create, accepted step by step: " + status.ToString());
  }
}

void CreateCommittee(absl::string_view bytes) {
  agreement::v1::CreateCommitteeRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  if (!IdsAccepted(request.request_id(), request.committee_id(), false)) {
    return;
  }
  Committee record = request.committee();
  if (record.state() == Committee::STATE_UNSPECIFIED) {
    record.set_state(Committee::STATE_ACTIVE);
  }
  record.set_name(NameOf("committees", request.committee_id()));
  ClearOutputOnly(record);
  const absl::Status status = agreement::ValidateCommittee(record);
  if (!status.ok()) {
    Rejected(status, "committee.");
    return;
  }
  (void)agreement::ReferencesOf(record);
}

void CreateSession(absl::string_view bytes) {
  agreement::v1::CreateSessionRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  const absl::Status parent =
      accord::ParseResourceName(request.parent(), "committees", "parent")
          .status();
  if (!parent.ok()) {
    Rejected(parent, "parent");
    return;
  }
  if (!IdsAccepted(request.request_id(), request.session_id(), true)) {
    return;
  }
  Session record = request.session();
  record.set_name(NameOf(absl::StrCat(request.parent(), "/sessions"),
                         request.session_id()));
  ClearOutputOnly(record);
  ACCORD_FUZZ_CHECK(agreement::CheckSessionName(record.name(), "name").ok(),
                    record.name());
  const absl::Status status = agreement::ValidateSession(record);
  if (!status.ok()) {
    Rejected(status, "session.");
    return;
  }
  (void)agreement::ReferencesOf(record);
}

void CreateMilestone(absl::string_view bytes) {
  agreement::v1::CreateMilestoneRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  const absl::Status parent =
      agreement::CheckMilestoneParent(request.parent(), "parent");
  if (!parent.ok()) {
    Rejected(parent, "parent");
    return;
  }
  if (!IdsAccepted(request.request_id(), request.milestone_id(), true)) {
    return;
  }
  Milestone record = request.milestone();
  if (record.state() == Milestone::STATE_UNSPECIFIED) {
    record.set_state(Milestone::STATE_PROPOSED);
  }
  // The first transition records the state the milestone was born in.
  record.clear_transitions();
  record.clear_done_date();
  agreement::v1::MilestoneTransition* first = record.add_transitions();
  first->set_state(record.state());
  first->set_transition_date(
      record.record_date().empty() ? kToday : record.record_date());
  *first->mutable_sources() = record.sources();
  if (record.state() == Milestone::STATE_ACHIEVED) {
    record.set_done_date(first->transition_date());
  }
  record.set_name(NameOf(absl::StrCat(request.parent(), "/milestones"),
                         request.milestone_id()));
  ClearOutputOnly(record);
  ACCORD_FUZZ_CHECK(agreement::CheckMilestoneName(record.name(), "name").ok(),
                    record.name());
  const absl::Status status = agreement::ValidateMilestone(record);
  if (!status.ok()) {
    Rejected(status, "milestone.");
    return;
  }
  (void)agreement::ReferencesOf(record);
  // The transitions the request carried (ignored on create) as later
  // TransitionMilestone calls.
  for (const auto& transition : request.milestone().transitions()) {
    const absl::Status next = agreement::ValidateTransition(record, transition);
    if (!next.ok()) {
      Rejected(next, "transition.", absl::StatusCode::kFailedPrecondition);
      continue;
    }
    *record.add_transitions() = transition;
    record.set_state(transition.state());
  }
}

// The agreement an action is recorded on (see the top of the file).
Agreement AgreementFor(
    const agreement::v1::RecordAgreementActionRequest& request) {
  Agreement record;
  record.set_name(request.agreement());
  record.add_titles()->set_text("Fuzzed agreement");
  record.set_kind(Agreement::KIND_TREATY);
  record.add_parties("institutions/iran");
  record.add_parties("institutions/russia");
  record.set_signing_date("2025-01-17");
  int day = 17;
  for (const char byte : request.etag()) {
    const auto bits = static_cast<unsigned char>(byte);
    AgreementAction action;
    action.set_kind(static_cast<AgreementAction::Kind>(1 + bits % 11));
    if ((bits >> 4) % 3 != 2) {
      action.set_party((bits >> 4) % 3 == 0 ? "institutions/iran"
                                            : "institutions/russia");
    }
    day = day < 28 ? day + 1 : day;
    action.set_action_date(absl::StrCat("2025-0", 1 + (bits >> 6), "-", day));
    if (agreement::CheckAction(record, action, "action").ok()) {
      *record.add_actions() = action;
    }
  }
  agreement::DeriveLifecycle(record);
  return record;
}

void RecordAgreementAction(absl::string_view bytes) {
  agreement::v1::RecordAgreementActionRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return;
  }
  const absl::Status name =
      accord::ParseResourceName(request.agreement(), "agreements", "agreement")
          .status();
  if (!name.ok()) {
    Rejected(name, "agreement");
    return;
  }
  if (!request.has_action()) return;
  Agreement record = AgreementFor(request);
  AgreementAction action = request.action();
  action.clear_record_time();
  for (const auto& [value, field] :
       {std::pair{action.party(), "action.party"},
        std::pair{action.acting_body(), "action.acting_body"}}) {
    if (value.empty()) continue;
    const absl::Status status =
        accord::ParseResourceName(value, "institutions", field).status();
    if (!status.ok()) {
      Rejected(status, field);
      return;
    }
  }
  const absl::Status status = agreement::CheckAction(record, action, "action");
  if (!status.ok()) {
    Rejected(status, "action.", absl::StatusCode::kFailedPrecondition);
    return;
  }
  (void)agreement::ReferencesOf(action, "action");
  // A newcomer's accession makes it a party in the same step.
  if (agreement::JoinsAsParty(record, action)) {
    record.add_parties(action.party());
  }
  action.mutable_record_time()->set_seconds(1);
  *record.add_actions() = action;
  ExerciseLifecycle(record);
  // The log stays acceptable as a whole.
  const absl::Status whole = agreement::CheckActions(record);
  ACCORD_FUZZ_CHECK(whole.ok(),
                    "recorded log refused whole: " + whole.ToString());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1,
                                size - 1);
  switch (data[0] % 7) {
    case 0:
      CreateInstitution(bytes);
      break;
    case 1:
      CreateOfficial(bytes);
      break;
    case 2:
      CreateAgreement(bytes);
      break;
    case 3:
      CreateCommittee(bytes);
      break;
    case 4:
      CreateSession(bytes);
      break;
    case 5:
      CreateMilestone(bytes);
      break;
    default:
      RecordAgreementAction(bytes);
      break;
  }
  return 0;
}
