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

constexpr char kSource[] = "//accord/agreement";
// Indexes across parents, for `committees/-/sessions` and due milestones.
constexpr char kAllSessions[] = "sessions";
constexpr char kAllMilestones[] = "milestones";
constexpr int kMaxHorizonDays = 3660;

std::string Method(absl::string_view name) {
  return absl::StrCat("/accord.agreement.v1.AgreementService/", name);
}

std::vector<std::string> ToVector(
    const google::protobuf::RepeatedPtrField<std::string>& values) {
  return {values.begin(), values.end()};
}

std::string Today() {
  return absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
}

// The resource name of the parent of a nested resource name.
std::string ParentOf(absl::string_view name) {
  const size_t collection = name.rfind('/', name.rfind('/') - 1);
  return std::string(name.substr(0, collection));
}

// AIP-133: creating under a parent that does not exist is NOT_FOUND.
absl::Status ParentNotFound(absl::string_view parent) {
  return ErrorWithReason(absl::StatusCode::kNotFound,
                         absl::StrCat(parent, " does not exist"),
                         "PARENT_NOT_FOUND", "parent");
}

// A parent read for authorisation: its absence is the caller's NOT_FOUND
// on `parent`.
template <typename T>
absl::StatusOr<T> AsParent(absl::StatusOr<T> loaded, absl::string_view parent) {
  if (!loaded.ok() && loaded.status().code() == absl::StatusCode::kNotFound) {
    return ParentNotFound(parent);
  }
  return loaded;
}

absl::Status NotLive(const std::string& field, absl::string_view name) {
  return InvalidField(field,
                      absl::StrCat(name, " does not exist or is deleted"));
}

// The key a reference to agreement `name` must find live. A restricted
// agreement may be referenced only by a record restricted to some of its
// parties (`restricted`, `parties`): any other record, with its events and
// webhooks, is read by principals the agreement is hidden from. For any
// other record the check is made against a key that never exists, so the
// refusal is exactly that of a missing agreement and reveals nothing.
absl::StatusOr<std::string> AgreementReferenceKey(
    ResourceOps<Agreement>& agreements, const std::string& name,
    bool restricted, const std::vector<std::string>& parties) {
  absl::StatusOr<Agreement> referenced = agreements.Get(name);
  if (!referenced.ok()) {
    if (referenced.status().code() == absl::StatusCode::kNotFound) {
      return RecordKey(name);
    }
    return referenced.status();
  }
  if (!referenced->restricted()) return RecordKey(name);
  const bool within =
      restricted && !parties.empty() &&
      std::all_of(parties.begin(), parties.end(), [&](const std::string& p) {
        return std::find(referenced->parties().begin(),
                         referenced->parties().end(),
                         p) != referenced->parties().end();
      });
  return within ? RecordKey(name) : absl::StrCat(RecordKey(name), ":withheld");
}

template <typename Repeated>
void AddUnique(const Repeated& values,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  std::set<std::string> seen(out->begin(), out->end());
  for (const auto& value : values) {
    if (!value.empty() && seen.insert(value).second) *out->Add() = value;
  }
}

// Country codes of `institutions`, in order, without repeats.
template <typename Repeated, typename Found>
std::vector<std::string> CountriesOf(const Repeated& institutions,
                                     const Found& found) {
  std::vector<std::string> codes;
  for (const std::string& name : institutions) {
    const auto it = found.find(name);
    if (it == found.end()) continue;
    const std::string& code = it->second.country_code();
    if (std::find(codes.begin(), codes.end(), code) == codes.end()) {
      codes.push_back(code);
    }
  }
  return codes;
}

// The member institutions of committee `name`; none if there is no such
// committee.
absl::StatusOr<std::vector<std::string>> MembersOf(
    ResourceOps<Committee>& committees, const std::string& name) {
  absl::StatusOr<Committee> committee = committees.Get(name);
  if (committee.status().code() == absl::StatusCode::kNotFound) {
    return std::vector<std::string>();
  }
  if (!committee.ok()) return committee.status();
  return ToVector(committee->member_institutions());
}

// The parties of agreement `name`; none if there is no such agreement.
absl::StatusOr<std::vector<std::string>> PartiesOf(
    ResourceOps<Agreement>& agreements, const std::string& name) {
  absl::StatusOr<Agreement> agreement = agreements.Get(name);
  if (agreement.status().code() == absl::StatusCode::kNotFound) {
    return std::vector<std::string>();
  }
  if (!agreement.ok()) return agreement.status();
  return ToVector(agreement->parties());
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

void StampActions(Agreement& agreement, absl::Time now) {
  for (auto& action : *agreement.mutable_actions()) {
    if (!action.has_record_time()) {
      ResourceOps<Agreement>::SetTimestamp(*action.mutable_record_time(), now);
    }
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
      agreements_(store_, write_path_, AgreementTraits()),
      committees_(store_, write_path_, CommitteeTraits()),
      sessions_(store_, write_path_, SessionTraits()),
      milestones_(store_, write_path_, MilestoneTraits()),
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

CountryResolver AgreementServiceImpl::CountriesOfInstitutions() {
  return [this](const std::vector<std::string>& institutions) {
    return directory_.Countries(institutions);
  };
}

ResourceTraits<Agreement> AgreementServiceImpl::AgreementTraits() {
  ResourceTraits<Agreement> traits;
  traits.collection = "agreements";
  traits.singular = "agreement";
  traits.event_prefix = "accord.agreement.v1";
  traits.created_event_type = "accord.agreement.v1.recorded";
  traits.source = kSource;
  traits.writable_fields = {"titles",           "kind",
                            "parties",          "signatories",
                            "witnesses",        "signing_date",
                            "signing_place",    "occasion",
                            "parent_agreement", "cooperation_areas",
                            "keywords",         "objectives",
                            "sources",          "expiry_date",
                            "accession",        "entry_into_force_rule"};
  traits.validate = ValidateAgreement;
  traits.complete = [this](Agreement& agreement) -> absl::Status {
    ACCORD_ASSIGN_OR_RETURN(auto found,
                            directory_.Resolve(ReferencesOf(agreement)));
    agreement.clear_party_country_codes();
    for (const std::string& code : CountriesOf(agreement.parties(), found)) {
      agreement.add_party_country_codes(code);
    }
    DeriveLifecycle(agreement);
    // Each party's country as the institution service answered just now
    // (never what the request said: party_statuses is output only).
    for (v1::PartyStatus& status : *agreement.mutable_party_statuses()) {
      const auto it = found.find(status.party());
      status.set_country_code(it == found.end() ? ""
                                                : it->second.country_code());
    }
    return absl::OkStatus();
  };
  traits.plan_completed = [](const Agreement& agreement, WritePlan& plan) {
    PlanReferenceChecks(ReferencesOf(agreement), plan);
  };
  traits.plan_change = [this](const Agreement*, const Agreement* after,
                              WritePlan& plan) -> absl::Status {
    if (after == nullptr) return absl::OkStatus();
    if (!after->parent_agreement().empty()) {
      ACCORD_ASSIGN_OR_RETURN(
          std::string key,
          AgreementReferenceKey(agreements_, after->parent_agreement(),
                                after->restricted(),
                                ToVector(after->parties())));
      plan.ExpectLive(key, NotLive("agreement.parent_agreement",
                                   after->parent_agreement()));
    }
    if (!after->occasion().empty()) {
      plan.ExpectLive(RecordKey(after->occasion()),
                      NotLive("agreement.occasion", after->occasion()));
    }
    return absl::OkStatus();
  };
  traits.scope = [](const Agreement& agreement)
      -> absl::StatusOr<std::vector<std::string>> {
    return ToVector(agreement.parties());
  };
  traits.visible = [](const Principal& caller,
                      const Agreement& agreement) -> absl::StatusOr<bool> {
    return caller.CanSee(agreement.restricted(), ToVector(agreement.parties()));
  };
  // The parties, and whoever acted in its log: a party, or a body such as
  // a chamber that approved it.
  traits.concerns =
      [](const Agreement& agreement) -> absl::StatusOr<Concerned> {
    Concerned concerned;
    concerned.AddInstitutions(agreement.parties());
    for (const auto& action : agreement.actions()) {
      concerned.AddInstitution(action.party());
      concerned.AddInstitution(action.acting_body());
    }
    return concerned;
  };
  traits.countries = CountriesOfInstitutions();
  traits.annotate_event = [](const Agreement& agreement,
                             events::v1::Event& event) {
    if (agreement.restricted()) {
      *event.mutable_restricted_to() = agreement.parties();
    }
    AddUnique(agreement.cooperation_areas(), event.mutable_cooperation_areas());
    AddUnique(std::vector<std::string>{agreement.name(),
                                       agreement.parent_agreement()},
              event.mutable_agreements());
    if (!agreement.occasion().empty()) {
      event.add_committees(ParentOf(agreement.occasion()));
    }
  };
  return traits;
}

ResourceTraits<Committee> AgreementServiceImpl::CommitteeTraits() {
  ResourceTraits<Committee> traits;
  traits.collection = "committees";
  traits.singular = "committee";
  traits.event_prefix = "accord.committee.v1";
  traits.source = kSource;
  traits.writable_fields = {"names",
                            "kind",
                            "member_institutions",
                            "co_chairs",
                            "establishing_agreement",
                            "state",
                            "sources"};
  traits.validate = ValidateCommittee;
  traits.complete = [this](Committee& committee) -> absl::Status {
    ACCORD_ASSIGN_OR_RETURN(auto found,
                            directory_.Resolve(ReferencesOf(committee)));
    committee.clear_member_country_codes();
    for (const std::string& code :
         CountriesOf(committee.member_institutions(), found)) {
      committee.add_member_country_codes(code);
    }
    return absl::OkStatus();
  };
  traits.plan_completed = [](const Committee& committee, WritePlan& plan) {
    PlanReferenceChecks(ReferencesOf(committee), plan);
  };
  traits.plan_change = [this](const Committee*, const Committee* after,
                              WritePlan& plan) -> absl::Status {
    // Committees are never restricted: they may not point at an agreement
    // that is.
    if (after != nullptr && !after->establishing_agreement().empty()) {
      ACCORD_ASSIGN_OR_RETURN(
          std::string key,
          AgreementReferenceKey(agreements_, after->establishing_agreement(),
                                false, {}));
      plan.ExpectLive(key, NotLive("committee.establishing_agreement",
                                   after->establishing_agreement()));
    }
    return absl::OkStatus();
  };
  traits.scope = [](const Committee& committee)
      -> absl::StatusOr<std::vector<std::string>> {
    return ToVector(committee.member_institutions());
  };
  traits.concerns =
      [](const Committee& committee) -> absl::StatusOr<Concerned> {
    Concerned concerned;
    concerned.AddInstitutions(committee.member_institutions());
    return concerned;
  };
  traits.countries = CountriesOfInstitutions();
  traits.annotate_event = [](const Committee& committee,
                             events::v1::Event& event) {
    event.add_committees(committee.name());
    if (!committee.establishing_agreement().empty()) {
      event.add_agreements(committee.establishing_agreement());
    }
  };
  return traits;
}

ResourceTraits<Session> AgreementServiceImpl::SessionTraits() {
  ResourceTraits<Session> traits;
  traits.collection = "sessions";
  traits.singular = "session";
  traits.event_prefix = "accord.session.v1";
  traits.created_event_type = "accord.committee.v1.session_recorded";
  traits.source = kSource;
  traits.writable_fields = {"number",    "start_date",   "end_date",
                            "place",     "participants", "agreements_signed",
                            "decisions", "sources"};
  traits.check_name = CheckSessionName;
  traits.validate = ValidateSession;
  traits.complete = [this](Session& session) -> absl::Status {
    return directory_.Resolve(ReferencesOf(session)).status();
  };
  traits.plan_completed = [](const Session& session, WritePlan& plan) {
    PlanReferenceChecks(ReferencesOf(session), plan);
  };
  traits.plan_change = [this](const Session*, const Session* after,
                              WritePlan& plan) -> absl::Status {
    if (after == nullptr) return absl::OkStatus();
    const std::string committee = ParentOf(after->name());
    plan.ExpectLive(RecordKey(committee), ParentNotFound(committee));
    // Sessions are never restricted (see AgreementReferenceKey).
    for (int i = 0; i < after->agreements_signed_size(); ++i) {
      ACCORD_ASSIGN_OR_RETURN(
          std::string key,
          AgreementReferenceKey(agreements_, after->agreements_signed(i), false,
                                {}));
      plan.ExpectLive(
          key, NotLive(absl::StrCat("session.agreements_signed[", i, "]"),
                       after->agreements_signed(i)));
    }
    plan.Write({"ZADD", IndexKey(kAllSessions), "0", after->name()});
    return absl::OkStatus();
  };
  // A session belongs to its committee's members.
  traits.scope =
      [this](
          const Session& session) -> absl::StatusOr<std::vector<std::string>> {
    ACCORD_ASSIGN_OR_RETURN(Committee committee,
                            AsParent(committees_.Get(ParentOf(session.name())),
                                     ParentOf(session.name())));
    return ToVector(committee.member_institutions());
  };
  // Its committee's members, the institutions its participants came from,
  // and the country it met in.
  traits.concerns =
      [this](const Session& session) -> absl::StatusOr<Concerned> {
    Concerned concerned;
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> members,
                            MembersOf(committees_, ParentOf(session.name())));
    concerned.AddInstitutions(members);
    for (const auto& participant : session.participants()) {
      concerned.AddInstitution(participant.institution());
    }
    if (session.has_place()) {
      concerned.AddCountry(session.place().country_code());
    }
    return concerned;
  };
  traits.countries = CountriesOfInstitutions();
  traits.annotate_event = [](const Session& session, events::v1::Event& event) {
    event.add_committees(ParentOf(session.name()));
    AddUnique(session.agreements_signed(), event.mutable_agreements());
  };
  return traits;
}

ResourceTraits<Milestone> AgreementServiceImpl::MilestoneTraits() {
  ResourceTraits<Milestone> traits;
  traits.collection = "milestones";
  traits.singular = "milestone";
  traits.event_prefix = "accord.milestone.v1";
  traits.created_event_type = "accord.milestone.v1.recorded";
  traits.source = kSource;
  // State and transitions change only through TransitionMilestone.
  traits.writable_fields = {"titles",    "descriptions", "owners",
                            "proposers", "due_date",     "due_session",
                            "committee", "sources"};
  traits.check_name = CheckMilestoneName;
  traits.validate = ValidateMilestone;
  traits.complete = [this](Milestone& milestone) -> absl::Status {
    return directory_.Resolve(ReferencesOf(milestone)).status();
  };
  traits.plan_completed = [](const Milestone& milestone, WritePlan& plan) {
    PlanReferenceChecks(ReferencesOf(milestone), plan);
  };
  traits.plan_change = [](const Milestone*, const Milestone* after,
                          WritePlan& plan) {
    if (after == nullptr) return absl::OkStatus();
    const std::string parent = ParentOf(after->name());
    plan.ExpectLive(RecordKey(parent), ParentNotFound(parent));
    if (!after->due_session().empty()) {
      plan.ExpectLive(RecordKey(after->due_session()),
                      NotLive("milestone.due_session", after->due_session()));
    }
    if (!after->committee().empty()) {
      plan.ExpectLive(RecordKey(after->committee()),
                      NotLive("milestone.committee", after->committee()));
    }
    plan.Write({"ZADD", IndexKey(kAllMilestones), "0", after->name()});
    return absl::OkStatus();
  };
  // A milestone belongs to its parent's parties or members; it is as
  // visible as its parent agreement. Its owners are data, not authority:
  // naming oneself an owner must not let an editor add to or change
  // another agency's agreement or committee.
  traits.scope = [this](const Milestone& milestone)
      -> absl::StatusOr<std::vector<std::string>> {
    std::vector<std::string> scope;
    const std::string parent = ParentOf(milestone.name());
    if (absl::StartsWith(parent, "committees/")) {
      ACCORD_ASSIGN_OR_RETURN(Committee committee,
                              AsParent(committees_.Get(parent), parent));
      scope.insert(scope.end(), committee.member_institutions().begin(),
                   committee.member_institutions().end());
    } else {
      ACCORD_ASSIGN_OR_RETURN(Agreement agreement,
                              AsParent(agreements_.Get(parent), parent));
      scope.insert(scope.end(), agreement.parties().begin(),
                   agreement.parties().end());
    }
    return scope;
  };
  traits.visible = [this](const Principal& caller,
                          const Milestone& milestone) -> absl::StatusOr<bool> {
    const std::string parent = ParentOf(milestone.name());
    if (!absl::StartsWith(parent, "agreements/")) return true;
    ACCORD_ASSIGN_OR_RETURN(Agreement agreement,
                            AsParent(agreements_.Get(parent), parent));
    return caller.CanSee(agreement.restricted(), ToVector(agreement.parties()));
  };
  traits.annotate_event = [this](const Milestone& milestone,
                                 events::v1::Event& event) {
    const std::string parent_name = ParentOf(milestone.name());
    if (absl::StartsWith(parent_name, "agreements/")) {
      const absl::StatusOr<Agreement> agreement = agreements_.Get(parent_name);
      if (agreement.ok() && agreement->restricted()) {
        *event.mutable_restricted_to() = agreement->parties();
      }
    }
    const std::string parent = ParentOf(milestone.name());
    if (absl::StartsWith(parent, "committees/")) {
      event.add_committees(parent);
    } else {
      event.add_agreements(parent);
    }
    if (!milestone.committee().empty() && milestone.committee() != parent) {
      event.add_committees(milestone.committee());
    }
  };
  // Its parent agreement's parties or parent committee's members, its
  // owners, and the members of the committee it concerns.
  traits.concerns =
      [this](const Milestone& milestone) -> absl::StatusOr<Concerned> {
    Concerned concerned;
    const std::string parent = ParentOf(milestone.name());
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> parent_institutions,
                            absl::StartsWith(parent, "committees/")
                                ? MembersOf(committees_, parent)
                                : PartiesOf(agreements_, parent));
    concerned.AddInstitutions(parent_institutions);
    concerned.AddInstitutions(milestone.owners());
    if (!milestone.committee().empty()) {
      ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> members,
                              MembersOf(committees_, milestone.committee()));
      concerned.AddInstitutions(members);
    }
    return concerned;
  };
  traits.countries = CountriesOfInstitutions();
  return traits;
}

absl::StatusOr<events::v1::Event> AgreementServiceImpl::AgreementEvent(
    const Agreement& agreement, absl::string_view type) {
  ChangeContext context = ContextFor("");
  context.principal = "accord-agreement";
  return agreements_.BuildEvent(agreement, type, context);
}

// ---- Agreements ----

grpc::Status AgreementServiceImpl::CreateAgreement(
    grpc::ServerContext* context, const v1::CreateAgreementRequest* request,
    Agreement* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  const ChangeContext change =
      ContextFor(caller, Method("CreateAgreement"), request->request_id());
  return Respond(WithFreshReferences([&] {
                   Agreement agreement = request->agreement();
                   StampActions(agreement, change.time);
                   return agreements_.Create(std::move(agreement),
                                             request->agreement_id(),
                                             request->request_id(), change);
                 }),
                 response);
}

grpc::ServerUnaryReactor* AgreementServiceImpl::GetAgreement(
    grpc::CallbackServerContext* context,
    const v1::GetAgreementRequest* request, Agreement* response) {
  if (!request->has_read_time()) {
    return ServeGet(context, get_agreement_, auth_, agreements_,
                    request->name(), response);
  }
  return ServeGetNow<Agreement>(
      context, get_agreement_, auth_,
      [this, request](const Principal& caller) -> absl::StatusOr<Agreement> {
        if (absl::StrContains(request->name(), '@')) {
          return InvalidField("read_time",
                              "give either read_time or a name@revision_id, "
                              "not both");
        }
        ACCORD_ASSIGN_OR_RETURN(absl::Time read_time,
                                ReadTimeOf(request->read_time()));
        return agreements_.GetAsOf(request->name(), read_time, &caller);
      },
      response);
}

grpc::Status AgreementServiceImpl::ListAgreements(
    grpc::ServerContext* context, const v1::ListAgreementsRequest* request,
    v1::ListAgreementsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  absl::StatusOr<ListPage<Agreement>> page = ListCollection<Agreement>(
      codec_, store_, "agreements",
      {request->page_size(), request->page_token(), request->filter(),
       request->order_by(), request->show_deleted(), ""},
      {"name", "create_time", "update_time", "signing_date", "kind", "state"},
      nullptr, [&caller](const Agreement& agreement) {
        return caller.CanSee(
            agreement.restricted(),
            {agreement.parties().begin(), agreement.parties().end()});
      });
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (Agreement& agreement : page->items) {
    *response->add_agreements() = std::move(agreement);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status AgreementServiceImpl::ListAgreementRevisions(
    grpc::ServerContext* context,
    const v1::ListAgreementRevisionsRequest* request,
    v1::ListAgreementRevisionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return RespondRevisions(
      ListRevisionsPage(agreements_, codec_, caller, *request),
      *response->mutable_agreements(), response);
}

grpc::Status AgreementServiceImpl::UpdateAgreement(
    grpc::ServerContext* context, const v1::UpdateAgreementRequest* request,
    Agreement* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(WithFreshReferences([&] {
                   return agreements_.Update(
                       request->agreement(), request->update_mask(),
                       request->request_id(),
                       ContextFor(caller, Method("UpdateAgreement"),
                                  request->request_id()));
                 }),
                 response);
}

grpc::Status AgreementServiceImpl::DeleteAgreement(
    grpc::ServerContext* context, const v1::DeleteAgreementRequest* request,
    Agreement* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      agreements_.Delete(
          request->name(), request->etag(), request->request_id(),
          ContextFor(caller, Method("DeleteAgreement"), request->request_id())),
      response);
}

grpc::Status AgreementServiceImpl::UndeleteAgreement(
    grpc::ServerContext* context, const v1::UndeleteAgreementRequest* request,
    Agreement* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(agreements_.Undelete(
                     request->name(), request->etag(), request->request_id(),
                     ContextFor(caller, Method("UndeleteAgreement"),
                                request->request_id())),
                 response);
}

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
    return agreements_.ReplayFor(std::move(first), context);
  }
  if (!read.record.has_value()) {
    return ResourceOps<Agreement>::NotFound(request.agreement());
  }
  const StoredRecord& record = *read.record;
  ACCORD_ASSIGN_OR_RETURN(Agreement agreement, ParseRecord<Agreement>(record));
  // Authorised before its state, etag or the action are judged: to a
  // non-party a restricted agreement is simply absent.
  ACCORD_RETURN_IF_ERROR(agreements_.CheckEditable(agreement, context));
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
  ACCORD_RETURN_IF_ERROR(violations.ToStatus());
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
  return agreements_.CommitCustom(
      std::move(agreement), record.etag, "action_recorded",
      request.request_id(), context, before, [&references](WritePlan& plan) {
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

// ---- Committees ----

grpc::Status AgreementServiceImpl::CreateCommittee(
    grpc::ServerContext* context, const v1::CreateCommitteeRequest* request,
    Committee* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  Committee committee = request->committee();
  if (committee.state() == Committee::STATE_UNSPECIFIED) {
    committee.set_state(Committee::STATE_ACTIVE);
  }
  return Respond(WithFreshReferences([&] {
                   return committees_.Create(
                       committee, request->committee_id(),
                       request->request_id(),
                       ContextFor(caller, Method("CreateCommittee"),
                                  request->request_id()));
                 }),
                 response);
}

grpc::ServerUnaryReactor* AgreementServiceImpl::GetCommittee(
    grpc::CallbackServerContext* context,
    const v1::GetCommitteeRequest* request, Committee* response) {
  return ServeGet(context, get_committee_, auth_, committees_, request->name(),
                  response);
}

grpc::Status AgreementServiceImpl::ListCommittees(
    grpc::ServerContext* context, const v1::ListCommitteesRequest* request,
    v1::ListCommitteesResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  absl::StatusOr<ListPage<Committee>> page = ListCollection<Committee>(
      codec_, store_, "committees",
      {request->page_size(), request->page_token(), request->filter(),
       request->order_by(), request->show_deleted(), ""},
      {"name", "create_time", "update_time", "kind", "state"});
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (Committee& committee : page->items) {
    *response->add_committees() = std::move(committee);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status AgreementServiceImpl::ListCommitteeRevisions(
    grpc::ServerContext* context,
    const v1::ListCommitteeRevisionsRequest* request,
    v1::ListCommitteeRevisionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return RespondRevisions(
      ListRevisionsPage(committees_, codec_, caller, *request),
      *response->mutable_committees(), response);
}

grpc::Status AgreementServiceImpl::UpdateCommittee(
    grpc::ServerContext* context, const v1::UpdateCommitteeRequest* request,
    Committee* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(WithFreshReferences([&] {
                   return committees_.Update(
                       request->committee(), request->update_mask(),
                       request->request_id(),
                       ContextFor(caller, Method("UpdateCommittee"),
                                  request->request_id()));
                 }),
                 response);
}

grpc::Status AgreementServiceImpl::DeleteCommittee(
    grpc::ServerContext* context, const v1::DeleteCommitteeRequest* request,
    Committee* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      committees_.Delete(
          request->name(), request->etag(), request->request_id(),
          ContextFor(caller, Method("DeleteCommittee"), request->request_id())),
      response);
}

grpc::Status AgreementServiceImpl::UndeleteCommittee(
    grpc::ServerContext* context, const v1::UndeleteCommitteeRequest* request,
    Committee* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(committees_.Undelete(
                     request->name(), request->etag(), request->request_id(),
                     ContextFor(caller, Method("UndeleteCommittee"),
                                request->request_id())),
                 response);
}

// ---- Sessions ----

grpc::Status AgreementServiceImpl::CreateSession(
    grpc::ServerContext* context, const v1::CreateSessionRequest* request,
    Session* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  const absl::Status parent =
      ParseResourceName(request->parent(), "committees", "parent").status();
  if (!parent.ok()) return ToGrpcStatus(parent);
  return Respond(
      WithFreshReferences([&] {
        return sessions_.Create(
            request->session(), request->session_id(), request->request_id(),
            ContextFor(caller, Method("CreateSession"), request->request_id()),
            request->parent());
      }),
      response);
}

grpc::ServerUnaryReactor* AgreementServiceImpl::GetSession(
    grpc::CallbackServerContext* context, const v1::GetSessionRequest* request,
    Session* response) {
  return ServeGet(context, get_session_, auth_, sessions_, request->name(),
                  response);
}

grpc::Status AgreementServiceImpl::ListSessions(
    grpc::ServerContext* context, const v1::ListSessionsRequest* request,
    v1::ListSessionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  std::string collection;
  if (request->parent() == "committees/-") {
    collection = kAllSessions;
  } else {
    const absl::Status parent =
        ParseResourceName(request->parent(), "committees", "parent").status();
    if (!parent.ok()) return ToGrpcStatus(parent);
    collection = absl::StrCat(request->parent(), "/sessions");
  }
  ListRequestFields fields{request->page_size(),    request->page_token(),
                           request->filter(),       request->order_by(),
                           request->show_deleted(), request->parent()};
  absl::StatusOr<ListPage<Session>> page = ListCollection<Session>(
      codec_, store_, collection, fields,
      {"name", "create_time", "update_time", "start_date", "number"});
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (Session& session : page->items) {
    *response->add_sessions() = std::move(session);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status AgreementServiceImpl::ListSessionRevisions(
    grpc::ServerContext* context,
    const v1::ListSessionRevisionsRequest* request,
    v1::ListSessionRevisionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return RespondRevisions(
      ListRevisionsPage(sessions_, codec_, caller, *request),
      *response->mutable_sessions(), response);
}

grpc::Status AgreementServiceImpl::UpdateSession(
    grpc::ServerContext* context, const v1::UpdateSessionRequest* request,
    Session* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      WithFreshReferences([&] {
        return sessions_.Update(
            request->session(), request->update_mask(), request->request_id(),
            ContextFor(caller, Method("UpdateSession"), request->request_id()));
      }),
      response);
}

grpc::Status AgreementServiceImpl::DeleteSession(
    grpc::ServerContext* context, const v1::DeleteSessionRequest* request,
    Session* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      sessions_.Delete(
          request->name(), request->etag(), request->request_id(),
          ContextFor(caller, Method("DeleteSession"), request->request_id())),
      response);
}

grpc::Status AgreementServiceImpl::UndeleteSession(
    grpc::ServerContext* context, const v1::UndeleteSessionRequest* request,
    Session* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      sessions_.Undelete(
          request->name(), request->etag(), request->request_id(),
          ContextFor(caller, Method("UndeleteSession"), request->request_id())),
      response);
}

// ---- Milestones ----

grpc::Status AgreementServiceImpl::CreateMilestone(
    grpc::ServerContext* context, const v1::CreateMilestoneRequest* request,
    Milestone* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  const absl::Status parent = CheckMilestoneParent(request->parent(), "parent");
  if (!parent.ok()) return ToGrpcStatus(parent);
  // A restricted agreement the caller may not see is a missing parent,
  // answered exactly as one (not as a missing milestone).
  if (absl::StartsWith(request->parent(), "agreements/")) {
    const absl::Status visible =
        agreements_.Get(request->parent(), &caller).status();
    if (visible.code() == absl::StatusCode::kNotFound) {
      return ToGrpcStatus(ParentNotFound(request->parent()));
    }
    if (!visible.ok()) return ToGrpcStatus(visible);
  }
  const ChangeContext change =
      ContextFor(caller, Method("CreateMilestone"), request->request_id());
  Milestone milestone = request->milestone();
  if (milestone.state() == Milestone::STATE_UNSPECIFIED) {
    milestone.set_state(Milestone::STATE_PROPOSED);
  }
  // The first transition records the state the milestone was born in.
  milestone.clear_transitions();
  milestone.clear_done_date();
  v1::MilestoneTransition* first = milestone.add_transitions();
  first->set_state(milestone.state());
  first->set_transition_date(
      milestone.record_date().empty() ? Today() : milestone.record_date());
  *first->mutable_sources() = milestone.sources();
  ResourceOps<Milestone>::SetTimestamp(*first->mutable_record_time(),
                                       change.time);
  if (milestone.state() == Milestone::STATE_ACHIEVED) {
    milestone.set_done_date(first->transition_date());
  }
  return Respond(WithFreshReferences([&] {
                   return milestones_.Create(milestone, request->milestone_id(),
                                             request->request_id(), change,
                                             request->parent());
                 }),
                 response);
}

grpc::Status AgreementServiceImpl::GetMilestone(
    grpc::ServerContext* context, const v1::GetMilestoneRequest* request,
    Milestone* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return Respond(milestones_.Get(request->name(), &caller), response);
}

grpc::Status AgreementServiceImpl::ListMilestones(
    grpc::ServerContext* context, const v1::ListMilestonesRequest* request,
    v1::ListMilestonesResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  std::string collection;
  std::function<bool(absl::string_view)> include;
  if (request->parent() == "agreements/-" ||
      request->parent() == "committees/-") {
    collection = kAllMilestones;
    const std::string prefix =
        request->parent().substr(0, request->parent().size() - 1);
    include = [prefix](absl::string_view name) {
      return absl::StartsWith(name, prefix);
    };
  } else {
    const absl::Status parent =
        CheckMilestoneParent(request->parent(), "parent");
    if (!parent.ok()) return ToGrpcStatus(parent);
    collection = absl::StrCat(request->parent(), "/milestones");
  }
  ListRequestFields fields{request->page_size(),    request->page_token(),
                           request->filter(),       request->order_by(),
                           request->show_deleted(), request->parent()};
  absl::StatusOr<ListPage<Milestone>> page = ListCollection<Milestone>(
      codec_, store_, collection, fields,
      {"name", "create_time", "update_time", "due_date", "state"}, include,
      [this, &caller](const Milestone& milestone) {
        const absl::StatusOr<bool> visible =
            milestones_.Visible(caller, milestone);
        return visible.ok() && *visible;
      });
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (Milestone& milestone : page->items) {
    *response->add_milestones() = std::move(milestone);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status AgreementServiceImpl::ListMilestoneRevisions(
    grpc::ServerContext* context,
    const v1::ListMilestoneRevisionsRequest* request,
    v1::ListMilestoneRevisionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return RespondRevisions(
      ListRevisionsPage(milestones_, codec_, caller, *request),
      *response->mutable_milestones(), response);
}

grpc::Status AgreementServiceImpl::UpdateMilestone(
    grpc::ServerContext* context, const v1::UpdateMilestoneRequest* request,
    Milestone* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(WithFreshReferences([&] {
                   return milestones_.Update(
                       request->milestone(), request->update_mask(),
                       request->request_id(),
                       ContextFor(caller, Method("UpdateMilestone"),
                                  request->request_id()));
                 }),
                 response);
}

grpc::Status AgreementServiceImpl::DeleteMilestone(
    grpc::ServerContext* context, const v1::DeleteMilestoneRequest* request,
    Milestone* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      milestones_.Delete(
          request->name(), request->etag(), request->request_id(),
          ContextFor(caller, Method("DeleteMilestone"), request->request_id())),
      response);
}

grpc::Status AgreementServiceImpl::UndeleteMilestone(
    grpc::ServerContext* context, const v1::UndeleteMilestoneRequest* request,
    Milestone* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(milestones_.Undelete(
                     request->name(), request->etag(), request->request_id(),
                     ContextFor(caller, Method("UndeleteMilestone"),
                                request->request_id())),
                 response);
}

absl::StatusOr<Milestone> AgreementServiceImpl::Transition(
    const v1::TransitionMilestoneRequest& request, const Principal& caller) {
  ACCORD_RETURN_IF_ERROR(milestones_.CheckName(request.name(), "name"));
  const ChangeContext context =
      ContextFor(caller, Method("TransitionMilestone"), request.request_id());
  ACCORD_ASSIGN_OR_RETURN(
      std::optional<Milestone> replay,
      milestones_.ReplayedCustom("state_changed", request.request_id()));
  if (replay.has_value()) {
    return milestones_.ReplayFor(*std::move(replay), context);
  }
  ACCORD_ASSIGN_OR_RETURN(StoredRecord record,
                          milestones_.Load(request.name()));
  ACCORD_ASSIGN_OR_RETURN(Milestone milestone, ParseRecord<Milestone>(record));
  // Authorised before its state, etag or the transition are judged.
  ACCORD_RETURN_IF_ERROR(milestones_.CheckEditable(milestone, context));
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
                                  context, before);
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
