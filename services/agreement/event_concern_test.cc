// Every event names whom it concerns (issue 15): for every registered type
// the institution and agreement services emit, a change made through the
// real services yields an event whose `institutions` and `country_codes`
// are exactly the institutions involved and their countries; and a
// subscriber filtering on a country hears of everything a committee of
// which one of that country's universities is only a member does.
// All real processes: redis-server, accord-institution, accord-agreement
// (and accord-notification for the watch), authentication on.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "common/auth.h"
#include "common/event_types.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "tests/harness/credentials.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord::agreement {
namespace {

using ::accord::testing::EventLog;
using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using institution::v1::Institution;
using institution::v1::Official;
using ::testing::ElementsAreArray;
using ::testing::UnorderedElementsAreArray;
using v1::Agreement;
using v1::AgreementAction;
using v1::Committee;
using v1::Milestone;
using v1::Session;
using InstitutionStub = institution::v1::InstitutionService::Stub;
using AgreementStub = v1::AgreementService::Stub;

// The countries are all different where a record mixes sources of
// institutions, so that forgetting any one source shows as a missing code.
constexpr char kTums[] = "institutions/tums";             // IR
constexpr char kMsu[] = "institutions/msu";               // RU
constexpr char kMsuKazakhstan[] = "institutions/msu-kz";  // KZ, under MSU
constexpr char kUfrj[] = "institutions/ufrj";             // BR
constexpr char kKaznu[] = "institutions/kaznu";           // KZ

// What an event must say about whom it concerns.
struct Concern {
  std::string subject;
  std::set<std::string> institutions;
  std::set<std::string> country_codes;
};

// The events of a WatchEvents call, read on their own thread.
class EventWatch {
 public:
  EventWatch(notification::v1::NotificationService::Stub& stub,
             const notification::v1::WatchEventsRequest& request,
             const std::string& token) {
    context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    reader_ = stub.WatchEvents(&context_, request);
    thread_ = std::thread([this] {
      notification::v1::WatchEventsResponse response;
      while (reader_->Read(&response)) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++messages_;
        if (response.has_event()) events_.push_back(response.event());
        changed_.notify_all();
      }
      status_ = reader_->Finish();
      std::lock_guard<std::mutex> lock(mutex_);
      ended_ = true;
      changed_.notify_all();
    });
  }
  ~EventWatch() {
    context_.TryCancel();
    thread_.join();
  }

  // Whether the stream has answered at all (a heartbeat, say) in time:
  // it is then reading from "now" on.
  bool WaitLive(absl::Duration timeout) {
    return Wait([this] { return messages_ > 0; }, timeout);
  }
  // The first `count` events, or fewer if they do not come in time.
  std::vector<events::v1::Event> Events(size_t count, absl::Duration timeout) {
    Wait([&] { return events_.size() >= count; }, timeout);
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  std::string Ended() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ended_ ? status_.error_message() : "";
  }

 private:
  template <typename Done>
  bool Wait(Done done, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    std::unique_lock<std::mutex> lock(mutex_);
    while (!done() && !ended_ && absl::Now() < deadline) {
      changed_.wait_for(lock, std::chrono::milliseconds(20));
    }
    return done();
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<notification::v1::WatchEventsResponse>>
      reader_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int messages_ = 0;
  std::vector<events::v1::Event> events_;
  bool ended_ = false;
  grpc::Status status_;
};

class EventConcernTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Principals: an admin who records everything, the agreement service
    // itself, and a viewer acting for the Brazilian university.
    dir_ = MakeTempDir("event-concern");
    auth::v1::CredentialsFile credentials;
    auto add = [&](const std::string& id, auth::v1::Role role,
                   const std::string& institution) {
      auto* entry = credentials.add_principals();
      entry->set_id(id);
      entry->add_roles(role);
      if (!institution.empty()) entry->add_institutions(institution);
      NewToken token = MakeToken(id);
      *entry->add_api_keys() = token.key;
      return token.token;
    };
    admin_ = add("admin", auth::v1::ROLE_ADMIN, "");
    brazil_viewer_ = add("ufrj-viewer", auth::v1::ROLE_VIEWER, kUfrj);
    const std::string service_token =
        add("agreement-service", auth::v1::ROLE_VIEWER, "");
    std::string json;
    ASSERT_TRUE(
        google::protobuf::util::MessageToJsonString(credentials, &json).ok());
    std::ofstream(dir_ + "/credentials.json") << json;
    std::ofstream(dir_ + "/agreement-token") << service_token;
    credentials_flag_ =
        absl::StrCat("--credentials_file=", dir_, "/credentials.json");

    redis_ = std::make_unique<RedisServer>();
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{credentials_flag_});
    agreement_ = std::make_unique<ServiceProcess>(
        "accord-agreement", redis_->url(),
        std::vector<std::string>{
            credentials_flag_,
            absl::StrCat("--institution_target=", institution_->address()),
            absl::StrCat("--institution_token_file=", dir_, "/agreement-token"),
            // Loosened so the entered_into_force scenario does not wait
            // for the default 10-minute scan.
            "--entry_into_force_scan_interval=200ms"});
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    agreements_ = v1::AgreementService::NewStub(agreement_->Channel());
    events_ = std::make_unique<EventLog>(redis_->url());

    NewInstitution("tums", "Tehran University of Medical Sciences", "IR");
    NewInstitution("msu", "Lomonosov Moscow State University", "RU");
    NewInstitution("msu-kz", "Kazakhstan Branch of Moscow State University",
                   "KZ", kMsu);
    NewInstitution("ufrj", "Universidade Federal do Rio de Janeiro", "BR");
    NewInstitution("kaznu", "Al-Farabi Kazakh National University", "KZ");
    NewOfficial("behfar", {kTums});
    NewOfficial("sadovnichy", {kMsu});
    NewOfficial("observer-kz", {kKaznu});
  }

  std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
    return ::accord::testing::AuthorizedContext(token);
  }

  // Calls `method` as the admin; a failed call fails the test.
  template <typename Stub, typename Request, typename Response>
  Response Call(Stub& stub,
                grpc::Status (Stub::*method)(grpc::ClientContext*,
                                             const Request&, Response*),
                const Request& request) {
    Response response;
    const grpc::Status status =
        (stub.*method)(Context(admin_).get(), request, &response);
    EXPECT_TRUE(status.ok())
        << request.GetDescriptor()->name() << ": " << status.error_message();
    return response;
  }

  // ---- Records ----

  Institution NewInstitution(const std::string& id, const std::string& name,
                             const std::string& country,
                             const std::string& parent = "") {
    institution::v1::CreateInstitutionRequest request;
    request.set_institution_id(id);
    Institution& institution = *request.mutable_institution();
    auto* display = institution.add_names();
    display->set_text(name);
    display->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
    institution.set_kind(Institution::KIND_UNIVERSITY);
    institution.set_country_code(country);
    institution.set_parent(parent);
    countries_[absl::StrCat("institutions/", id)] = country;
    return Call(*institutions_, &InstitutionStub::CreateInstitution, request);
  }

  Official NewOfficial(const std::string& id,
                       const std::vector<std::string>& institutions) {
    institution::v1::CreateOfficialRequest request;
    request.set_official_id(id);
    Official& official = *request.mutable_official();
    auto* display = official.add_names();
    display->set_text(id);
    display->set_type(institution::v1::PersonName::TYPE_DISPLAY);
    for (const std::string& institution : institutions) {
      auto* position = official.add_positions();
      position->set_institution(institution);
      position->set_title("Professor");
    }
    return Call(*institutions_, &InstitutionStub::CreateOfficial, request);
  }

  Agreement NewAgreement(const std::string& id) {
    v1::CreateAgreementRequest request;
    request.set_agreement_id(id);
    Agreement& agreement = *request.mutable_agreement();
    agreement.add_titles()->set_text(absl::StrCat("MOU ", id));
    agreement.set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
    agreement.add_parties(kTums);
    agreement.add_parties(kMsu);
    agreement.set_signing_date("2025-04-25");
    return Call(*agreements_, &AgreementStub::CreateAgreement, request);
  }

  Committee NewCommittee(const std::string& id,
                         const std::vector<std::string>& members) {
    v1::CreateCommitteeRequest request;
    request.set_committee_id(id);
    Committee& committee = *request.mutable_committee();
    committee.add_names()->set_text(absl::StrCat("Joint committee ", id));
    committee.set_kind(Committee::KIND_JOINT_ECONOMIC_COMMITTEE);
    for (const std::string& member : members) {
      committee.add_member_institutions(member);
    }
    return Call(*agreements_, &AgreementStub::CreateCommittee, request);
  }

  // A session in Moscow, attended by Tehran's and Moscow's delegates and a
  // Kazakh observer.
  Session NewSession(const std::string& committee, const std::string& id) {
    v1::CreateSessionRequest request;
    request.set_parent(committee);
    request.set_session_id(id);
    Session& session = *request.mutable_session();
    session.set_number(std::stoi(id));
    session.set_start_date("2025-04-22");
    session.set_end_date("2025-04-24");
    session.mutable_place()->set_city("Moscow");
    session.mutable_place()->set_country_code("RU");
    for (const auto& [official, institution] :
         std::vector<std::pair<std::string, std::string>>{
             {"officials/behfar", kTums},
             {"officials/sadovnichy", kMsu},
             {"officials/observer-kz", kKaznu}}) {
      auto* participant = session.add_participants();
      participant->set_official(official);
      participant->set_institution(institution);
    }
    return Call(*agreements_, &AgreementStub::CreateSession, request);
  }

  Milestone NewMilestone(const std::string& parent, const std::string& id,
                         const std::vector<std::string>& owners,
                         const std::string& committee = "") {
    v1::CreateMilestoneRequest request;
    request.set_parent(parent);
    request.set_milestone_id(id);
    Milestone& milestone = *request.mutable_milestone();
    milestone.add_titles()->set_text(absl::StrCat("Milestone ", id));
    for (const std::string& owner : owners) milestone.add_owners(owner);
    milestone.set_committee(committee);
    milestone.set_record_date("2025-04-26");
    return Call(*agreements_, &AgreementStub::CreateMilestone, request);
  }

  v1::AgreementText NewText(const std::string& agreement,
                            const std::string& language) {
    v1::CreateAgreementTextRequest request;
    request.set_parent(agreement);
    request.set_agreement_text_id(language);
    v1::AgreementText& text = *request.mutable_agreement_text();
    text.set_language(language);
    text.set_title(absl::StrCat("Text in ", language));
    return Call(*agreements_, &AgreementStub::CreateAgreementText, request);
  }

  // Soft-deletes `name` through the service's Delete method, or restores
  // it through Undelete.
  template <typename Stub, typename Request, typename Response>
  Response Liveness(Stub& stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
                    const std::string& name) {
    Request request;
    request.set_name(name);
    return Call(stub, method, request);
  }

  // ---- Expectations, computed from the records involved ----

  Concern ConcernOf(const std::string& subject,
                    const std::vector<std::string>& institutions,
                    const std::vector<std::string>& places = {}) {
    Concern concern{subject, {}, {}};
    for (const std::string& name : institutions) {
      concern.institutions.insert(name);
      concern.country_codes.insert(countries_.at(name));
    }
    for (const std::string& code : places) concern.country_codes.insert(code);
    return concern;
  }

  Committee GetCommittee(const std::string& name) {
    v1::GetCommitteeRequest request;
    request.set_name(name);
    return Call(*agreements_, &AgreementStub::GetCommittee, request);
  }

  Concern Expected(const Institution& institution) {
    std::vector<std::string> named = {institution.name()};
    if (!institution.parent().empty()) named.push_back(institution.parent());
    return ConcernOf(institution.name(), named);
  }
  Concern Expected(const Official& official) {
    std::vector<std::string> named;
    for (const auto& position : official.positions()) {
      named.push_back(position.institution());
    }
    return ConcernOf(official.name(), named);
  }
  Concern Expected(const Agreement& agreement) {
    std::vector<std::string> named(agreement.parties().begin(),
                                   agreement.parties().end());
    for (const AgreementAction& action : agreement.actions()) {
      if (!action.party().empty()) named.push_back(action.party());
      if (!action.acting_body().empty()) named.push_back(action.acting_body());
    }
    return ConcernOf(agreement.name(), named);
  }
  Concern Expected(const Committee& committee) {
    return ConcernOf(committee.name(), {committee.member_institutions().begin(),
                                        committee.member_institutions().end()});
  }
  Concern Expected(const Session& session) {
    const std::string committee =
        session.name().substr(0, session.name().find("/sessions/"));
    const auto members = GetCommittee(committee).member_institutions();
    std::vector<std::string> named(members.begin(), members.end());
    for (const auto& participant : session.participants()) {
      if (!participant.institution().empty()) {
        named.push_back(participant.institution());
      }
    }
    return ConcernOf(session.name(), named, {session.place().country_code()});
  }
  // A text concerns its agreement's parties.
  Concern Expected(const v1::AgreementText& text) {
    v1::GetAgreementRequest request;
    request.set_name(text.name().substr(0, text.name().find("/texts/")));
    const v1::Agreement agreement =
        Call(*agreements_, &AgreementStub::GetAgreement, request);
    return ConcernOf(text.name(),
                     {agreement.parties().begin(), agreement.parties().end()});
  }
  Concern Expected(const Milestone& milestone) {
    const std::string parent =
        milestone.name().substr(0, milestone.name().find("/milestones/"));
    std::vector<std::string> named(milestone.owners().begin(),
                                   milestone.owners().end());
    auto add = [&named](const auto& institutions) {
      named.insert(named.end(), institutions.begin(), institutions.end());
    };
    if (absl::StartsWith(parent, "committees/")) {
      add(GetCommittee(parent).member_institutions());
    } else {
      v1::GetAgreementRequest request;
      request.set_name(parent);
      add(Call(*agreements_, &AgreementStub::GetAgreement, request).parties());
    }
    if (!milestone.committee().empty()) {
      add(GetCommittee(milestone.committee()).member_institutions());
    }
    return ConcernOf(milestone.name(), named);
  }

  // The last event of `type` about `subject` recorded after `position`.
  std::optional<events::v1::Event> EventAfter(const std::string& position,
                                              const std::string& type,
                                              const std::string& subject) {
    std::optional<events::v1::Event> found;
    for (const events::v1::Event& event : events_->After(position)) {
      if (event.type() == type && event.subject() == subject) found = event;
    }
    return found;
  }

  std::string LastPosition() {
    const std::vector<events::v1::Event> all = events_->All();
    return all.empty() ? "" : all.back().position();
  }

  void StartNotification() {
    notification_ = std::make_unique<ServiceProcess>(
        "accord-notification", redis_->url(),
        std::vector<std::string>{credentials_flag_,
                                 "--consumer_name=event-concern-test"});
    notifications_ = notification::v1::NotificationService::NewStub(
        notification_->Channel());
  }

  std::string dir_;
  std::string credentials_flag_;
  std::string admin_;
  std::string brazil_viewer_;
  std::map<std::string, std::string> countries_;  // institution -> code
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<ServiceProcess> notification_;
  std::unique_ptr<InstitutionStub> institutions_;
  std::unique_ptr<AgreementStub> agreements_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notifications_;
  std::unique_ptr<EventLog> events_;
};

TEST_F(EventConcernTest, EveryRegisteredEventTypeNamesEveryoneItConcerns) {
  // Shared by the session and milestone changes: a committee of Tehran's
  // and Rio's universities, and an MOU between Tehran and Moscow.
  const Committee committee = NewCommittee("jec", {kTums, kUfrj});
  const Agreement mou = NewAgreement("mou");

  // One change per registered type, made through the services; each
  // returns what its event must say.
  using Scenario = std::function<Concern()>;
  const std::map<std::string, Scenario> scenarios = {
      // A branch abroad: Azerbaijani, under a Russian parent.
      {"accord.institution.v1.created",
       [&] {
         return Expected(
             NewInstitution("msu-baku", "MSU Baku Branch", "AZ", kMsu));
       }},
      {"accord.institution.v1.updated",
       [&] {
         Institution institution =
             NewInstitution("msu-upd", "MSU Branch", "AZ", kMsu);
         institution::v1::UpdateInstitutionRequest request;
         *request.mutable_institution() = institution;
         // Moved: the event names the country after the change.
         request.mutable_institution()->set_country_code("UZ");
         request.mutable_update_mask()->add_paths("country_code");
         countries_[institution.name()] = "UZ";
         return Expected(Call(*institutions_,
                              &InstitutionStub::UpdateInstitution, request));
       }},
      {"accord.institution.v1.deleted",
       [&] {
         const Institution institution =
             NewInstitution("msu-del", "MSU Branch", "AZ", kMsu);
         return Expected(Liveness(*institutions_,
                                  &InstitutionStub::DeleteInstitution,
                                  institution.name()));
       }},
      {"accord.institution.v1.undeleted",
       [&] {
         const Institution institution =
             NewInstitution("msu-und", "MSU Branch", "AZ", kMsu);
         Liveness(*institutions_, &InstitutionStub::DeleteInstitution,
                  institution.name());
         return Expected(Liveness(*institutions_,
                                  &InstitutionStub::UndeleteInstitution,
                                  institution.name()));
       }},
      {"accord.official.v1.created",
       [&] {
         return Expected(NewOfficial("souza", {kUfrj, kKaznu}));
       }},
      {"accord.official.v1.updated",
       [&] {
         const Official official = NewOfficial("souza-upd", {kUfrj});
         institution::v1::UpdateOfficialRequest request;
         *request.mutable_official() = official;
         auto* position = request.mutable_official()->add_positions();
         position->set_institution(kKaznu);
         position->set_title("Visiting professor");
         request.mutable_update_mask()->add_paths("positions");
         return Expected(
             Call(*institutions_, &InstitutionStub::UpdateOfficial, request));
       }},
      {"accord.official.v1.deleted",
       [&] {
         const Official official = NewOfficial("souza-del", {kUfrj, kKaznu});
         return Expected(Liveness(*institutions_,
                                  &InstitutionStub::DeleteOfficial,
                                  official.name()));
       }},
      {"accord.official.v1.undeleted",
       [&] {
         const Official official = NewOfficial("souza-und", {kUfrj, kKaznu});
         Liveness(*institutions_, &InstitutionStub::DeleteOfficial,
                  official.name());
         return Expected(Liveness(*institutions_,
                                  &InstitutionStub::UndeleteOfficial,
                                  official.name()));
       }},
      {"accord.agreement.v1.recorded",
       [&] { return Expected(NewAgreement("recorded")); }},
      {"accord.agreement.v1.updated",
       [&] {
         Agreement agreement = NewAgreement("updated");
         v1::UpdateAgreementRequest request;
         *request.mutable_agreement() = agreement;
         request.mutable_agreement()->add_parties(kUfrj);
         request.mutable_update_mask()->add_paths("parties");
         return Expected(
             Call(*agreements_, &AgreementStub::UpdateAgreement, request));
       }},
      {"accord.agreement.v1.deleted",
       [&] {
         const Agreement agreement = NewAgreement("deleted");
         return Expected(Liveness(*agreements_, &AgreementStub::DeleteAgreement,
                                  agreement.name()));
       }},
      {"accord.agreement.v1.undeleted",
       [&] {
         const Agreement agreement = NewAgreement("undeleted");
         Liveness(*agreements_, &AgreementStub::DeleteAgreement,
                  agreement.name());
         return Expected(Liveness(*agreements_,
                                  &AgreementStub::UndeleteAgreement,
                                  agreement.name()));
       }},
      // Moscow State University signs through its Kazakh branch: the
      // acting body is named, with its country.
      {"accord.agreement.v1.action_recorded",
       [&] {
         const Agreement agreement = NewAgreement("acted");
         v1::RecordAgreementActionRequest request;
         request.set_agreement(agreement.name());
         request.mutable_action()->set_kind(AgreementAction::KIND_SIGNATURE);
         request.mutable_action()->set_party(kMsu);
         request.mutable_action()->set_acting_body(kMsuKazakhstan);
         request.mutable_action()->set_action_date("2025-04-25");
         return Expected(Call(*agreements_,
                              &AgreementStub::RecordAgreementAction, request));
       }},
      // Signed by both parties, an MOU is in force on signature: the next
      // scan announces it for each party, naming every party.
      {"accord.agreement.v1.entered_into_force",
       [&] {
         const Agreement created = NewAgreement("in-force");
         Agreement signed_by_both = created;
         for (const char* party : {kTums, kMsu}) {
           v1::RecordAgreementActionRequest request;
           request.set_agreement(created.name());
           request.mutable_action()->set_kind(AgreementAction::KIND_SIGNATURE);
           request.mutable_action()->set_party(party);
           request.mutable_action()->set_action_date("2025-04-25");
           signed_by_both = Call(
               *agreements_, &AgreementStub::RecordAgreementAction, request);
         }
         const absl::Time deadline = absl::Now() + absl::Seconds(10);
         while (absl::Now() < deadline &&
                !EventAfter("", "accord.agreement.v1.entered_into_force",
                            created.name())
                     .has_value()) {
           absl::SleepFor(absl::Milliseconds(50));
         }
         return Expected(signed_by_both);
       }},
      {"accord.committee.v1.created",
       [&] {
         return Expected(NewCommittee("created", {kTums, kUfrj}));
       }},
      {"accord.committee.v1.updated",
       [&] {
         const Committee created = NewCommittee("updated", {kTums, kUfrj});
         v1::UpdateCommitteeRequest request;
         *request.mutable_committee() = created;
         request.mutable_committee()->add_member_institutions(kKaznu);
         request.mutable_update_mask()->add_paths("member_institutions");
         return Expected(
             Call(*agreements_, &AgreementStub::UpdateCommittee, request));
       }},
      {"accord.committee.v1.deleted",
       [&] {
         const Committee created = NewCommittee("deleted", {kTums, kUfrj});
         return Expected(Liveness(*agreements_, &AgreementStub::DeleteCommittee,
                                  created.name()));
       }},
      {"accord.committee.v1.undeleted",
       [&] {
         const Committee created = NewCommittee("undeleted", {kTums, kUfrj});
         Liveness(*agreements_, &AgreementStub::DeleteCommittee,
                  created.name());
         return Expected(Liveness(
             *agreements_, &AgreementStub::UndeleteCommittee, created.name()));
       }},
      {"accord.committee.v1.session_recorded",
       [&] { return Expected(NewSession(committee.name(), "17")); }},
      {"accord.session.v1.updated",
       [&] {
         const Session session = NewSession(committee.name(), "18");
         v1::UpdateSessionRequest request;
         *request.mutable_session() = session;
         request.mutable_session()->add_decisions()->set_text(
             "Establish a permanent joint committee");
         request.mutable_update_mask()->add_paths("decisions");
         return Expected(
             Call(*agreements_, &AgreementStub::UpdateSession, request));
       }},
      {"accord.session.v1.deleted",
       [&] {
         const Session session = NewSession(committee.name(), "19");
         return Expected(Liveness(*agreements_, &AgreementStub::DeleteSession,
                                  session.name()));
       }},
      {"accord.session.v1.undeleted",
       [&] {
         const Session session = NewSession(committee.name(), "20");
         Liveness(*agreements_, &AgreementStub::DeleteSession, session.name());
         return Expected(Liveness(*agreements_, &AgreementStub::UndeleteSession,
                                  session.name()));
       }},
      // Milestones of the MOU (Tehran, Moscow), owned by the Kazakh
      // university, concerning the committee (Tehran, Rio).
      {"accord.milestone.v1.recorded",
       [&] {
         return Expected(
             NewMilestone(mou.name(), "recorded", {kKaznu}, committee.name()));
       }},
      {"accord.milestone.v1.updated",
       [&] {
         const Milestone milestone =
             NewMilestone(mou.name(), "updated", {kKaznu}, committee.name());
         v1::UpdateMilestoneRequest request;
         *request.mutable_milestone() = milestone;
         request.mutable_milestone()->set_due_date("2026-01-01");
         request.mutable_update_mask()->add_paths("due_date");
         return Expected(
             Call(*agreements_, &AgreementStub::UpdateMilestone, request));
       }},
      {"accord.milestone.v1.deleted",
       [&] {
         const Milestone milestone =
             NewMilestone(mou.name(), "deleted", {kKaznu}, committee.name());
         return Expected(Liveness(*agreements_, &AgreementStub::DeleteMilestone,
                                  milestone.name()));
       }},
      {"accord.milestone.v1.undeleted",
       [&] {
         const Milestone milestone =
             NewMilestone(mou.name(), "undeleted", {kKaznu}, committee.name());
         Liveness(*agreements_, &AgreementStub::DeleteMilestone,
                  milestone.name());
         return Expected(Liveness(*agreements_,
                                  &AgreementStub::UndeleteMilestone,
                                  milestone.name()));
       }},
      // Texts of the MOU concern its parties (Tehran, Moscow).
      {"accord.agreement_text.v1.created",
       [&] { return Expected(NewText(mou.name(), "fa")); }},
      {"accord.agreement_text.v1.updated",
       [&] {
         v1::UpdateAgreementTextRequest request;
         *request.mutable_agreement_text() = NewText(mou.name(), "ru");
         request.mutable_agreement_text()->set_authentic(true);
         request.mutable_update_mask()->add_paths("authentic");
         return Expected(
             Call(*agreements_, &AgreementStub::UpdateAgreementText, request));
       }},
      {"accord.agreement_text.v1.deleted",
       [&] {
         const v1::AgreementText text = NewText(mou.name(), "en");
         return Expected(Liveness(
             *agreements_, &AgreementStub::DeleteAgreementText, text.name()));
       }},
      {"accord.agreement_text.v1.undeleted",
       [&] {
         const v1::AgreementText text = NewText(mou.name(), "kk");
         Liveness(*agreements_, &AgreementStub::DeleteAgreementText,
                  text.name());
         return Expected(Liveness(
             *agreements_, &AgreementStub::UndeleteAgreementText, text.name()));
       }},
      {"accord.milestone.v1.state_changed",
       [&] {
         const Milestone milestone =
             NewMilestone(mou.name(), "moved", {kKaznu}, committee.name());
         v1::TransitionMilestoneRequest request;
         request.set_name(milestone.name());
         request.mutable_transition()->set_state(Milestone::STATE_PLANNED);
         request.mutable_transition()->set_transition_date("2025-05-01");
         return Expected(
             Call(*agreements_, &AgreementStub::TransitionMilestone, request));
       }},
  };

  for (const auto& [type, scenario] : scenarios) {
    EXPECT_NE(FindEventType(type), nullptr)
        << type << " has a scenario but is not registered";
  }
  int exercised = 0;
  for (const EventTypeInfo& info : accord::EventTypes()) {
    // The notification service's own events are tested with it.
    if (info.source == "//accord/notification") continue;
    const auto scenario = scenarios.find(info.type);
    if (scenario == scenarios.end()) {
      ADD_FAILURE() << info.type
                    << " is registered but no scenario here emits it: add "
                       "one to this test";
      continue;
    }
    SCOPED_TRACE(info.type);
    const std::string before = LastPosition();
    const Concern expected = scenario->second();
    const std::optional<events::v1::Event> event =
        EventAfter(before, info.type, expected.subject);
    if (!event.has_value()) {
      ADD_FAILURE() << "no " << info.type << " event about "
                    << expected.subject;
      continue;
    }
    ++exercised;
    EXPECT_THAT(event->institutions(),
                UnorderedElementsAreArray(expected.institutions));
    EXPECT_THAT(event->country_codes(),
                UnorderedElementsAreArray(expected.country_codes));
    // Without repeats.
    EXPECT_EQ(event->institutions_size(), expected.institutions.size());
    EXPECT_EQ(event->country_codes_size(), expected.country_codes.size());
  }
  EXPECT_EQ(exercised, static_cast<int>(scenarios.size()));
}

TEST_F(EventConcernTest, AMemberOnlyCountryHearsOfEverythingItsCommitteeDoes) {
  StartNotification();
  // Watched by Rio's viewer: everything about committees, sessions and
  // milestones that concerns Brazil; and, to show the filter chooses, what
  // concerns France (nothing here does).
  auto watch_request = [](const std::string& filter) {
    notification::v1::WatchEventsRequest request;
    auto* selector = request.mutable_inline_selector();
    selector->add_event_types("accord.committee.v1.*");
    selector->add_event_types("accord.session.v1.*");
    selector->add_event_types("accord.milestone.v1.*");
    selector->set_filter(filter);
    request.set_start_position("now");
    *request.mutable_heartbeat_interval() =
        google::protobuf::util::TimeUtil::MillisecondsToDuration(200);
    return request;
  };
  EventWatch brazil(*notifications_, watch_request(R"(country_codes = "BR")"),
                    brazil_viewer_);
  EventWatch france(*notifications_, watch_request(R"(country_codes = "FR")"),
                    brazil_viewer_);
  ASSERT_TRUE(brazil.WaitLive(absl::Seconds(10))) << brazil.Ended();
  ASSERT_TRUE(france.WaitLive(absl::Seconds(10))) << france.Ended();

  // Rio's university is a member and nothing else: no participant, owner,
  // or party.
  const Committee committee = NewCommittee("jec", {kTums, kMsu, kUfrj});
  const Session session = NewSession(committee.name(), "18");
  {
    v1::UpdateSessionRequest request;
    *request.mutable_session() = session;
    request.mutable_session()->add_decisions()->set_text(
        "Launch a university network");
    request.mutable_update_mask()->add_paths("decisions");
    Call(*agreements_, &AgreementStub::UpdateSession, request);
  }
  const Milestone milestone =
      NewMilestone(committee.name(), "university-network", {kTums, kMsu});
  {
    v1::TransitionMilestoneRequest request;
    request.set_name(milestone.name());
    request.mutable_transition()->set_state(Milestone::STATE_IN_PROGRESS);
    request.mutable_transition()->set_transition_date("2025-06-01");
    Call(*agreements_, &AgreementStub::TransitionMilestone, request);
  }

  const std::vector<events::v1::Event> received =
      brazil.Events(5, absl::Seconds(15));
  std::vector<std::pair<std::string, std::string>> seen;
  for (const events::v1::Event& event : received) {
    seen.emplace_back(event.type(), event.subject());
    EXPECT_THAT(event.institutions(), ::testing::Contains(kUfrj));
  }
  EXPECT_THAT(seen,
              ElementsAreArray(std::vector<std::pair<std::string, std::string>>{
                  {"accord.committee.v1.created", committee.name()},
                  {"accord.committee.v1.session_recorded", session.name()},
                  {"accord.session.v1.updated", session.name()},
                  {"accord.milestone.v1.recorded", milestone.name()},
                  {"accord.milestone.v1.state_changed", milestone.name()}}));
  EXPECT_TRUE(france.Events(1, absl::Seconds(1)).empty())
      << "nothing here concerns France";
}

TEST_F(EventConcernTest, ADeletedInstitutionIsStillNamedWithoutItsCountry) {
  // The agreement service's cache serves (so it will hear of the deletion).
  const absl::Time subscribed_by = absl::Now() + absl::Seconds(15);
  while (::accord::testing::MetricSum(
             agreement_->metrics_port(),
             "accord_institution_cache_resyncs_total") < 1 &&
         absl::Now() < subscribed_by) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  NewInstitution("closed", "Université fermée", "FR");
  v1::CreateAgreementRequest create;
  create.set_agreement_id("with-closed");
  Agreement& draft = *create.mutable_agreement();
  draft.add_titles()->set_text("MOU with a closed university");
  draft.set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
  draft.add_parties(kTums);
  draft.add_parties("institutions/closed");
  const Agreement agreement =
      Call(*agreements_, &AgreementStub::CreateAgreement, create);

  // Once the agreement service has heard of the deletion (its cache drops
  // the entry), no country can be found for the closed university.
  const double cached = ::accord::testing::MetricSum(
      agreement_->metrics_port(), "accord_institution_cache_entries");
  Liveness(*institutions_, &InstitutionStub::DeleteInstitution,
           std::string("institutions/closed"));
  const absl::Time give_up = absl::Now() + absl::Seconds(15);
  while (::accord::testing::MetricSum(agreement_->metrics_port(),
                                      "accord_institution_cache_entries") >=
             cached &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));
  }

  const std::string before = LastPosition();
  v1::DeleteAgreementRequest request;
  request.set_name(agreement.name());
  Agreement deleted;
  const grpc::Status status =
      agreements_->DeleteAgreement(Context(admin_).get(), request, &deleted);
  ASSERT_TRUE(status.ok()) << "the write does not depend on the country: "
                           << status.error_message();
  const std::optional<events::v1::Event> event =
      EventAfter(before, "accord.agreement.v1.deleted", agreement.name());
  ASSERT_TRUE(event.has_value());
  EXPECT_THAT(event->institutions(), ElementsAreArray(std::vector<std::string>{
                                         kTums, "institutions/closed"}));
  EXPECT_THAT(event->country_codes(),
              ElementsAreArray(std::vector<std::string>{"IR"}));
}

}  // namespace
}  // namespace accord::agreement
