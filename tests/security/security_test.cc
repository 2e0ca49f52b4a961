// Security tests for the three services (issue 7).
//
// Real redis-server and service binaries on free loopback ports, real gRPC,
// authentication on:
//   - SecurityTest: an authorisation matrix over every RPC of
//     InstitutionService, AgreementService, NotificationService and
//     AuditService (enumerated from their descriptors) as nine callers, the
//     OWASP API Top 10 items that apply (object-, property- and
//     function-level authorisation), the audit trail and reloading the
//     credentials file without a restart;
//   - ResourceConsumptionTest: --max_message_bytes, the page size cap, the
//     per-principal rate limit and the per-address budget of failed
//     authentications;
//   - NotificationLimitsTest: 1,000 watch streams from one principal
//     against --max_watch_streams_per_principal, and
//     --max_subscriptions_per_principal;
//   - CredentialsSymlinkTest: a Kubernetes-style Secret update (a swapped
//     `..data` symlink, the same modification time) is picked up;
//   - MutualTlsTest: client certificates made here with the openssl CLI;
//   - ServiceTokenTest: the agreement service's own token for the
//     institution service.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/substitute.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/auth/v1/auth.grpc.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "cli/rpc_client.h"
#include "common/auth.h"
#include "common/errors.h"
#include "common/write_path.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord::security {
namespace {

using ::accord::testing::BinaryPath;
using ::accord::testing::ChildProcess;
using ::accord::testing::EventLog;
using ::accord::testing::FreePort;
using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::WaitForHealth;
using ::google::protobuf::Message;
using ::google::protobuf::MethodDescriptor;
using ::google::protobuf::ServiceDescriptor;
using ::testing::Contains;
using ::testing::Not;
using StatusCode = ::absl::StatusCode;
using Response = ::absl::StatusOr<std::unique_ptr<Message>>;

constexpr char kInstitutionService[] =
    "accord.institution.v1.InstitutionService";
constexpr char kAgreementService[] = "accord.agreement.v1.AgreementService";
constexpr char kAuditService[] = "accord.auth.v1.AuditService";
constexpr char kNotificationService[] =
    "accord.notification.v1.NotificationService";

// ---------------------------------------------------------------------------
// Helpers shared by every fixture.

// The services under test, from the descriptors compiled into this binary.
const std::vector<const ServiceDescriptor*>& Services() {
  static const auto* services = new std::vector<const ServiceDescriptor*>{
      institution::v1::CreateInstitutionRequest::descriptor()
          ->file()
          ->FindServiceByName("InstitutionService"),
      agreement::v1::CreateAgreementRequest::descriptor()
          ->file()
          ->FindServiceByName("AgreementService"),
      auth::v1::ListAuditRecordsRequest::descriptor()
          ->file()
          ->FindServiceByName("AuditService"),
      notification::v1::CreateSubscriptionRequest::descriptor()
          ->file()
          ->FindServiceByName("NotificationService"),
  };
  return *services;
}

// A method of the services under test by its simple name (they are unique).
const MethodDescriptor& FindMethod(absl::string_view name) {
  for (const ServiceDescriptor* service : Services()) {
    const MethodDescriptor* method =
        service->FindMethodByName(std::string(name));
    if (method != nullptr) return *method;
  }
  throw std::logic_error(absl::StrCat("no method ", name));
}

// Standard reads (and watching); everything else changes state.
bool IsMutating(const MethodDescriptor& method) {
  for (const char* prefix :
       {"Get", "List", "BatchGet", "Search", "Query", "Watch"}) {
    if (absl::StartsWith(method.name(), prefix)) return false;
  }
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

void WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << contents;
  if (!file) throw std::runtime_error(absl::StrCat("cannot write ", path));
}

std::string StringField(const Message& message, const std::string& field) {
  const auto* descriptor = message.GetDescriptor()->FindFieldByName(field);
  if (descriptor == nullptr) return "";
  return message.GetReflection()->GetString(message, descriptor);
}

template <typename T>
T As(const Message& message) {
  T typed;
  typed.ParseFromString(message.SerializeAsString());
  return typed;
}

std::string Describe(const absl::Status& status) {
  return status.ok() ? "OK" : cli::DescribeStatus(status);
}

std::string ShortCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kUnauthenticated:
      return "UNAUTH";
    case StatusCode::kPermissionDenied:
      return "DENIED";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    default:
      return absl::StatusCodeToString(code);
  }
}

// Polls `condition` every 100 ms; whether it held within `timeout`.
bool PollUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// A temporary directory removed on destruction; declared first in a
// fixture's state so the processes using it have stopped by then.
struct TempDir {
  std::string path;
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

// Channel arguments that retry a refused connection after 50-100 ms rather
// than gRPC's default backoff of a second.
grpc::ChannelArguments QuickReconnect() {
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
  return arguments;
}

// Starts a service binary without waiting (see WaitServing).
std::unique_ptr<ServiceProcess> StartService(const std::string& binary,
                                             const std::string& redis_url,
                                             std::vector<std::string> flags) {
  return std::make_unique<ServiceProcess>(binary, redis_url, std::move(flags),
                                          /*wait_until_serving=*/false);
}

// Waits until `service` reports SERVING. The harness's own wait polls over a
// channel whose first refused connection backs off for a second; services
// started together are waited for together here.
void WaitServing(const ServiceProcess& service) {
  const absl::Status ready =
      WaitForHealth(grpc::CreateCustomChannel(
                        service.address(), grpc::InsecureChannelCredentials(),
                        QuickReconnect()),
                    true, absl::Seconds(15));
  if (!ready.ok()) {
    throw std::runtime_error(absl::StrCat(
        service.address(), " did not become SERVING: ", ready.ToString(), "\n",
        service.ReadLog()));
  }
}

// The credentials file (accord.auth.v1.CredentialsFile, JSON), rewritten
// atomically (a temporary file renamed over it) as a Secret update would.
class Credentials {
 public:
  explicit Credentials(std::string path) : path_(std::move(path)) {}

  void AddPrincipal(const std::string& id, std::vector<auth::v1::Role> roles,
                    std::vector<std::string> institutions = {},
                    std::vector<std::string> subjects = {}) {
    auth::v1::PrincipalEntry* entry = file_.add_principals();
    entry->set_id(id);
    for (auth::v1::Role role : roles) entry->add_roles(role);
    for (const std::string& name : institutions) entry->add_institutions(name);
    for (const std::string& subject : subjects) {
      entry->add_certificate_subjects(subject);
    }
  }

  // A new key for `principal`; returns its token.
  std::string AddKey(const std::string& principal, const std::string& key_id,
                     bool revoked = false) {
    NewToken made = MakeToken(key_id);
    made.key.set_revoked(revoked);
    *Find(principal).add_api_keys() = made.key;
    return made.token;
  }

  void SetRevoked(const std::string& key_id, bool revoked) {
    for (auto& principal : *file_.mutable_principals()) {
      for (auto& key : *principal.mutable_api_keys()) {
        if (key.key_id() == key_id) key.set_revoked(revoked);
      }
    }
  }

  void Write() const {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    if (!google::protobuf::util::MessageToJsonString(file_, &json, options)
             .ok()) {
      throw std::runtime_error("credentials do not print as JSON");
    }
    WriteRaw(json);
  }

  void WriteRaw(absl::string_view text) const {
    const std::string temporary = path_ + ".tmp";
    WriteFile(temporary, text);
    std::filesystem::rename(temporary, path_);
  }

  std::string Flag() const { return "--credentials_file=" + path_; }

 private:
  auth::v1::PrincipalEntry& Find(const std::string& id) {
    for (auto& principal : *file_.mutable_principals()) {
      if (principal.id() == id) return principal;
    }
    throw std::logic_error(absl::StrCat("no principal ", id));
  }

  std::string path_;
  auth::v1::CredentialsFile file_;
};

// Which binary serves accord.auth.v1.AuditService for a call: every
// binary does.
enum class Binary { kInstitution, kAgreement };

// By-name calls (cli::RpcClient) with a request in the protobuf JSON
// mapping, as the holder of `token` ("" sends no credentials).
class Api {
 public:
  Api(std::shared_ptr<grpc::Channel> institution,
      std::shared_ptr<grpc::Channel> agreement,
      std::shared_ptr<grpc::Channel> notification = nullptr)
      : institution_(std::move(institution)),
        agreement_(std::move(agreement)),
        notification_(std::move(notification)) {}

  Response Call(const std::string& token, const MethodDescriptor& method,
                const std::string& json,
                Binary audit_on = Binary::kAgreement) const {
    std::unique_ptr<Message> request(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(method.input_type())
            ->New());
    const auto parsed =
        google::protobuf::util::JsonStringToMessage(json, request.get());
    if (!parsed.ok()) {
      throw std::logic_error(
          absl::StrCat("bad request JSON for ", method.name(), ": ",
                       parsed.message().as_string(), "\n", json));
    }
    std::map<std::string, std::shared_ptr<grpc::Channel>> channels = {
        {kInstitutionService, institution_},
        {kAgreementService, agreement_},
        {kAuditService,
         audit_on == Binary::kInstitution ? institution_ : agreement_}};
    if (notification_ != nullptr) {
      channels[kNotificationService] = notification_;
    }
    cli::RpcClient client(std::move(channels), absl::Seconds(10), token);
    return client.Call(method, *request);
  }

  Response Call(const std::string& token, absl::string_view method,
                const std::string& json,
                Binary audit_on = Binary::kAgreement) const {
    return Call(token, FindMethod(method), json, audit_on);
  }

 private:
  std::shared_ptr<grpc::Channel> institution_;
  std::shared_ptr<grpc::Channel> agreement_;
  std::shared_ptr<grpc::Channel> notification_;
};

// Request bodies (protobuf JSON mapping).

std::string JsonList(const std::vector<std::string>& values) {
  if (values.empty()) return "[]";
  return absl::StrCat("[\"", absl::StrJoin(values, "\",\""), "\"]");
}

std::string InstitutionJson(absl::string_view text, absl::string_view country,
                            absl::string_view parent = "") {
  return absl::Substitute(
      R"({"names":[{"text":"$0","type":"TYPE_DISPLAY"}],)"
      R"("kind":"KIND_UNIVERSITY","countryCode":"$1"$2})",
      text, country,
      parent.empty() ? "" : absl::StrCat(R"(,"parent":")", parent, "\""));
}

std::string OfficialJson(absl::string_view text,
                         absl::string_view institution) {
  return absl::Substitute(
      R"({"names":[{"text":"$0","type":"TYPE_DISPLAY"}],)"
      R"("positions":[{"institution":"$1","title":"Rector"}]})",
      text, institution);
}

// Signed by both parties on 2025-04-25; `in_force` adds entry into force on
// 2025-05-01 (both parties are the first two of `parties`).
std::string AgreementJson(absl::string_view title,
                          const std::vector<std::string>& parties,
                          bool restricted, bool in_force = false) {
  std::string actions;
  if (in_force) {
    actions = absl::Substitute(
        R"(,"actions":[)"
        R"({"kind":"KIND_SIGNATURE","party":"$0","actionDate":"2025-04-25"},)"
        R"({"kind":"KIND_SIGNATURE","party":"$1","actionDate":"2025-04-25"},)"
        R"({"kind":"KIND_ENTRY_INTO_FORCE","actionDate":"2025-05-01"}])",
        parties.at(0), parties.at(1));
  }
  return absl::Substitute(
      R"({"titles":[{"text":"$0","languageCode":"en"}],)"
      R"("kind":"KIND_MEMORANDUM_OF_UNDERSTANDING","parties":$1,)"
      R"("signingDate":"2025-04-25","restricted":$2$3})",
      title, JsonList(parties), restricted ? "true" : "false", actions);
}

std::string CommitteeJson(absl::string_view title,
                          const std::vector<std::string>& members) {
  return absl::Substitute(
      R"({"names":[{"text":"$0","languageCode":"en"}],)"
      R"("kind":"KIND_JOINT_ECONOMIC_COMMITTEE","memberInstitutions":$1})",
      title, JsonList(members));
}

std::string SessionJson(int number) {
  return absl::Substitute(R"({"number":$0,"startDate":"2025-05-01"})", number);
}

// Recorded on 2025-05-01, due 2025-07-01.
std::string MilestoneJson(absl::string_view title, absl::string_view owner) {
  return absl::Substitute(
      R"({"titles":[{"text":"$0","languageCode":"en"}],"owners":["$1"],)"
      R"("dueDate":"2025-07-01","recordDate":"2025-05-01"})",
      title, owner);
}

// A text of an agreement in `language`.
std::string TextJson(absl::string_view language) {
  return absl::Substitute(
      R"({"language":"$0","title":"Text in $0","authentic":true})", language);
}

std::string NameJson(absl::string_view name) {
  return absl::Substitute(R"({"name":"$0"})", name);
}

// "Institution", "Official", "Agreement", "Committee", "Session" or
// "Milestone": the resource type of a name, for its Get/Delete method.
std::string KindOf(absl::string_view name) {
  const std::vector<std::string> parts = absl::StrSplit(name, '/');
  static const auto* kinds = new std::map<std::string, std::string>{
      {"institutions", "Institution"},   {"officials", "Official"},
      {"agreements", "Agreement"},       {"committees", "Committee"},
      {"sessions", "Session"},           {"milestones", "Milestone"},
      {"subscriptions", "Subscription"}, {"deliveries", "Delivery"},
      {"texts", "AgreementText"}};
  return kinds->at(parts.size() >= 4 ? parts[2] : parts[0]);
}

// ---------------------------------------------------------------------------
// The main suite: both services with authentication on, fixtures made by an
// admin.

// The nine callers of the matrix (its columns).
enum Caller {
  kNoCredentials,
  kUnknownKey,
  kWrongSecret,
  kRevokedKey,
  kViewer,
  kOtherEditor,
  kRightEditor,
  kAdmin,
  kSubscriber,
  kCallers,
};
constexpr std::array<const char*, kCallers> kCallerNames = {
    "no credentials", "unknown key id", "wrong secret", "revoked key", "viewer",
    "editor of C",    "editor of A",    "admin",        "subscriber"};
// Their principal ids, as the audit trail records them.
constexpr std::array<const char*, kCallers> kPrincipalIds = {
    "", "", "", "", "viewer", "editor-c", "editor-a", "admin", "subscriber"};

// Fixture records, made as admin before the tests.
constexpr char kA[] = "institutions/a";  // Alpha University, IR
constexpr char kB[] = "institutions/b";  // Beta Institute, RU
constexpr char kC[] = "institutions/c";  // Gamma College, FR
constexpr char kOfficialA[] = "officials/rector-a";
constexpr char kOfficialB[] = "officials/director-b";
constexpr char kMou[] = "agreements/ab-mou";        // A-B, in force
constexpr char kSecret[] = "agreements/ab-secret";  // A-B, restricted
constexpr char kCommittee[] = "committees/ab-jec";  // members A, B
constexpr char kSession[] = "committees/ab-jec/sessions/1";
constexpr char kMouMilestone[] = "agreements/ab-mou/milestones/m1";
constexpr char kSecretMilestone[] = "agreements/ab-secret/milestones/s1";
constexpr char kCommitteeMilestone[] = "committees/ab-jec/milestones/c1";
constexpr char kMouText[] = "agreements/ab-mou/texts/en";
constexpr char kSecretText[] = "agreements/ab-secret/texts/en";
constexpr char kAbsent[] = "(absent)";

struct MainSuite {
  TempDir dir;  // first: removed after everything in it stopped
  std::unique_ptr<RedisServer> redis;
  std::unique_ptr<Credentials> credentials;
  std::array<std::string, kCallers> tokens;
  std::unique_ptr<ServiceProcess> institution;
  std::unique_ptr<ServiceProcess> agreement;
  std::unique_ptr<ServiceProcess> notification;
  std::shared_ptr<grpc::Channel> notification_channel;
  std::unique_ptr<Api> api;
  std::unique_ptr<EventLog> events;
  std::string setup_error;
  int next_id = 0;
  // Notification fixtures: a loopback URL nobody listens on (webhooks to
  // it are dead-lettered at once), a dead-lettered delivery of the editor
  // of A, and the events of the shared and the restricted MOU.
  std::string dead_webhook;
  std::string delivery;
  std::string public_event;
  std::string secret_event;
};
MainSuite* suite = nullptr;

Response CallAs(Caller caller, absl::string_view method,
                const std::string& json, Binary audit_on = Binary::kAgreement) {
  return suite->api->Call(suite->tokens[caller], method, json, audit_on);
}

// As admin; set-up must not fail quietly.
std::unique_ptr<Message> Admin(absl::string_view method,
                               const std::string& json) {
  Response response = CallAs(kAdmin, method, json);
  if (!response.ok()) {
    throw std::runtime_error(
        absl::StrCat("set-up call ", method,
                     " failed: ", Describe(response.status()), "\n", json));
  }
  return *std::move(response);
}

// A fresh resource id, unique in this process.
std::string NextId() { return absl::StrCat("t", ++suite->next_id); }
std::string RequestIdFor(const std::string& id) { return "rq-" + id; }

int64_t StreamLength(const char* stream) {
  absl::StatusOr<RedisValue> reply =
      suite->events->redis().Command({"XLEN", stream});
  if (!reply.ok()) throw std::runtime_error(reply.status().ToString());
  return reply->integer;
}
int64_t EventCount() { return StreamLength(kEventStream); }
int64_t AuditCount() { return StreamLength(kAuditStream); }

// The record's etag as an admin reads it (soft-deleted ones included), or
// kAbsent.
// A delivery has no etag: its whole state stands in for one.
std::string EtagOf(const std::string& name) {
  Response got = CallAs(kAdmin, "Get" + KindOf(name), NameJson(name));
  if (got.status().code() == StatusCode::kNotFound) return kAbsent;
  if (!got.ok()) {
    throw std::runtime_error(
        absl::StrCat("reading ", name, ": ", Describe(got.status())));
  }
  if ((*got)->GetDescriptor()->FindFieldByName("etag") == nullptr) {
    return (*got)->SerializeAsString();
  }
  return StringField(**got, "etag");
}

auth::v1::ListAuditRecordsResponse AuditRecords(const std::string& json) {
  return As<auth::v1::ListAuditRecordsResponse>(
      *Admin("ListAuditRecords", json));
}

auth::v1::AuditRecord LatestAudit() {
  auth::v1::ListAuditRecordsResponse page = AuditRecords(R"({"pageSize":1})");
  if (page.audit_records_size() != 1) {
    throw std::runtime_error("the audit trail is empty");
  }
  return page.audit_records(0);
}

// Fresh records in A's scope, made as admin; each returns its name.
std::string NewInstitution(const std::string& id) {
  Admin("CreateInstitution",
        absl::Substitute(R"({"institutionId":"$0","institution":$1})", id,
                         InstitutionJson("Unit " + id, "IR", kA)));
  return "institutions/" + id;
}
std::string NewOfficial(const std::string& id) {
  Admin("CreateOfficial",
        absl::Substitute(R"({"officialId":"$0","official":$1})", id,
                         OfficialJson("Officer " + id, kA)));
  return "officials/" + id;
}
std::string NewAgreementOf(const std::string& id,
                           const std::vector<std::string>& parties,
                           bool restricted) {
  Admin("CreateAgreement",
        absl::Substitute(R"({"agreementId":"$0","agreement":$1})", id,
                         AgreementJson("MOU " + id, parties, restricted)));
  return "agreements/" + id;
}
std::string NewAgreement(const std::string& id) {
  return NewAgreementOf(id, {kA, kB}, false);
}
std::string NewRestrictedAgreement(const std::string& id) {
  return NewAgreementOf(id, {kA, kB}, true);
}
std::string NewCommittee(const std::string& id) {
  Admin("CreateCommittee",
        absl::Substitute(R"({"committeeId":"$0","committee":$1})", id,
                         CommitteeJson("Committee " + id, {kA, kB})));
  return "committees/" + id;
}
std::string NewSession(const std::string& id) {
  Admin("CreateSession",
        absl::Substitute(R"({"parent":"$0","sessionId":"$1","session":$2})",
                         kCommittee, id, SessionJson(7)));
  return absl::StrCat(kCommittee, "/sessions/", id);
}
std::string NewMilestoneUnder(const std::string& parent,
                              const std::string& id) {
  Admin("CreateMilestone",
        absl::Substitute(R"({"parent":"$0","milestoneId":"$1","milestone":$2})",
                         parent, id, MilestoneJson("Milestone " + id, kA)));
  return absl::StrCat(parent, "/milestones/", id);
}
std::string NewMilestone(const std::string& id) {
  return NewMilestoneUnder(kMou, id);
}
std::string NewRestrictedMilestone(const std::string& id) {
  return NewMilestoneUnder(NewRestrictedAgreement(id + "-parent"), id);
}
std::string NewTextUnder(const std::string& parent, const std::string& id) {
  Admin("CreateAgreementText",
        absl::Substitute(
            R"({"parent":"$0","agreementTextId":"$1","agreementText":$2})",
            parent, id, TextJson("ru")));
  return absl::StrCat(parent, "/texts/", id);
}
std::string NewText(const std::string& id) { return NewTextUnder(kMou, id); }
std::string NewRestrictedText(const std::string& id) {
  return NewTextUnder(NewRestrictedAgreement(id + "-parent"), id);
}
std::string Deleted(const std::string& name) {
  Admin("Delete" + KindOf(name), NameJson(name));
  return name;
}

void CreateFixtures() {
  Admin("CreateInstitution",
        absl::Substitute(R"({"institutionId":"a","institution":$0})",
                         InstitutionJson("Alpha University", "IR")));
  Admin("CreateInstitution",
        absl::Substitute(R"({"institutionId":"b","institution":$0})",
                         InstitutionJson("Beta Institute", "RU")));
  Admin("CreateInstitution",
        absl::Substitute(R"({"institutionId":"c","institution":$0})",
                         InstitutionJson("Gamma College", "FR")));
  Admin("CreateOfficial",
        absl::Substitute(R"({"officialId":"rector-a","official":$0})",
                         OfficialJson("Rector of Alpha", kA)));
  Admin("CreateOfficial",
        absl::Substitute(R"({"officialId":"director-b","official":$0})",
                         OfficialJson("Director of Beta", kB)));
  Admin("CreateAgreement",
        absl::Substitute(R"({"agreementId":"ab-mou","agreement":$0})",
                         AgreementJson("Alpha-Beta MOU", {kA, kB}, false,
                                       /*in_force=*/true)));
  Admin("CreateAgreement",
        absl::Substitute(R"({"agreementId":"ab-secret","agreement":$0})",
                         AgreementJson("Alpha-Beta restricted MOU", {kA, kB},
                                       true, /*in_force=*/true)));
  Admin("CreateCommittee",
        absl::Substitute(R"({"committeeId":"ab-jec","committee":$0})",
                         CommitteeJson("Alpha-Beta JEC", {kA, kB})));
  Admin("CreateSession",
        absl::Substitute(R"({"parent":"$0","sessionId":"1","session":$1})",
                         kCommittee, SessionJson(1)));
  Admin("CreateMilestone",
        absl::Substitute(R"({"parent":"$0","milestoneId":"m1","milestone":$1})",
                         kMou, MilestoneJson("Joint lab", kA)));
  Admin("CreateMilestone",
        absl::Substitute(R"({"parent":"$0","milestoneId":"s1","milestone":$1})",
                         kSecret, MilestoneJson("Restricted exchange", kA)));
  Admin("CreateMilestone",
        absl::Substitute(R"({"parent":"$0","milestoneId":"c1","milestone":$1})",
                         kCommittee, MilestoneJson("Trade fair", kA)));
  for (const char* parent : {kMou, kSecret}) {
    Admin("CreateAgreementText",
          absl::Substitute(
              R"({"parent":"$0","agreementTextId":"en","agreementText":$1})",
              parent, TextJson("en")));
  }
}

void CreateNotificationFixtures();

class SecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite = new MainSuite;
    try {
      Start();
    } catch (const std::exception& error) {
      suite->setup_error = error.what();
    }
  }

  static void TearDownTestSuite() {
    delete suite;
    suite = nullptr;
  }

  void SetUp() override { ASSERT_EQ(suite->setup_error, ""); }

 private:
  static void Start() {
    suite->dir.path = MakeTempDir("accord-security");
    suite->redis = std::make_unique<RedisServer>();
    suite->credentials =
        std::make_unique<Credentials>(suite->dir.path + "/credentials.json");
    Credentials& credentials = *suite->credentials;
    credentials.AddPrincipal("admin", {auth::v1::ROLE_ADMIN});
    credentials.AddPrincipal("viewer", {auth::v1::ROLE_VIEWER});
    credentials.AddPrincipal("editor-a", {auth::v1::ROLE_EDITOR}, {kA});
    credentials.AddPrincipal("editor-c", {auth::v1::ROLE_EDITOR}, {kC});
    credentials.AddPrincipal("subscriber", {auth::v1::ROLE_SUBSCRIBER});
    credentials.AddPrincipal("agreement-service", {auth::v1::ROLE_VIEWER});
    auto& tokens = suite->tokens;
    tokens[kNoCredentials] = "";
    tokens[kUnknownKey] = MakeToken("nobody-1").token;
    // The right key id with another secret.
    tokens[kWrongSecret] = MakeToken("editor-a-1").token;
    tokens[kRevokedKey] = credentials.AddKey("admin", "admin-0", true);
    tokens[kViewer] = credentials.AddKey("viewer", "viewer-1");
    tokens[kOtherEditor] = credentials.AddKey("editor-c", "editor-c-1");
    tokens[kRightEditor] = credentials.AddKey("editor-a", "editor-a-1");
    tokens[kAdmin] = credentials.AddKey("admin", "admin-1");
    tokens[kSubscriber] = credentials.AddKey("subscriber", "subscriber-1");
    const std::string service_token_file = suite->dir.path + "/agreement.token";
    WriteFile(service_token_file,
              credentials.AddKey("agreement-service", "agreement-1") + "\n");
    credentials.Write();

    // Limits high enough for the set-up traffic and the matrix's refused
    // callers; ResourceConsumptionTest covers the limits themselves.
    const std::vector<std::string> flags = {
        credentials.Flag(), "--rate_limit=1000000",
        "--rate_limit_burst=1000000", "--auth_failure_rate_limit=1000000",
        "--auth_failure_burst=1000000"};
    suite->institution =
        StartService("accord-institution", suite->redis->url(), flags);
    std::vector<std::string> agreement_flags = flags;
    agreement_flags.push_back(
        absl::StrCat("--institution_target=", suite->institution->address()));
    agreement_flags.push_back("--institution_token_file=" + service_token_file);
    agreement_flags.push_back("--institution_deadline=2s");
    suite->agreement =
        StartService("accord-agreement", suite->redis->url(), agreement_flags);
    // Webhooks to a closed loopback port fail at once and, with one
    // attempt, are dead-lettered: deliveries to read and retry.
    std::vector<std::string> notification_flags = flags;
    notification_flags.push_back("--webhook_allow_cidrs=127.0.0.0/8");
    notification_flags.push_back("--webhook_max_attempts=1");
    suite->notification = StartService("accord-notification",
                                       suite->redis->url(), notification_flags);
    WaitServing(*suite->institution);
    WaitServing(*suite->agreement);
    WaitServing(*suite->notification);
    suite->notification_channel = suite->notification->Channel();
    suite->dead_webhook =
        absl::StrCat("http://127.0.0.1:", FreePort(), "/hook");
    suite->api = std::make_unique<Api>(suite->institution->Channel(),
                                       suite->agreement->Channel(),
                                       suite->notification_channel);
    suite->events = std::make_unique<EventLog>(suite->redis->url());
    CreateFixtures();
    CreateNotificationFixtures();
  }
};

// ---------------------------------------------------------------------------
// The authorisation matrix.

// Expected codes for the four authenticated callers; the first four columns
// (no credentials, unknown key id, wrong secret, revoked key) are always
// UNAUTHENTICATED.
struct Expectation {
  StatusCode viewer;
  StatusCode other_editor;
  StatusCode right_editor;
  StatusCode admin;
  // Only the notification service serves subscribers.
  StatusCode subscriber = StatusCode::kPermissionDenied;
};
constexpr StatusCode kOk = StatusCode::kOk;
constexpr StatusCode kDenied = StatusCode::kPermissionDenied;
constexpr StatusCode kNotFound = StatusCode::kNotFound;
// Reads: every role that reads.
constexpr Expectation kAnyReader = {kOk, kOk, kOk, kOk};
// Restricted records: absent for non-parties.
constexpr Expectation kPartiesOnly = {kNotFound, kNotFound, kOk, kOk};
// Writes in A's scope.
constexpr Expectation kEditorsInScope = {kDenied, kDenied, kOk, kOk};
// Writes on restricted records: the viewer's role is refused first; the
// editor of C does not see the record at all.
constexpr Expectation kPartyEditors = {kDenied, kNotFound, kOk, kOk};
constexpr Expectation kAdminOnly = {kDenied, kDenied, kDenied, kOk};
// Notification: every authenticated role may watch and own subscriptions.
constexpr Expectation kAnySubscriber = {kOk, kOk, kOk, kOk, kOk};
// A subscription of the editor of A (or of institution A): absent for
// everyone else but admins.
constexpr Expectation kOwnerOnly = {kNotFound, kNotFound, kOk, kOk, kNotFound};
// A subscription of the subscriber.
constexpr Expectation kSubscriberOnly = {kNotFound, kNotFound, kNotFound, kOk,
                                         kOk};
// Restricted events: absent for non-parties, the subscriber included.
constexpr Expectation kPartiesOnlyEvents = {kNotFound, kNotFound, kOk, kOk,
                                            kNotFound};

// One call to make: the request (JSON), the record it may change (left
// unchanged by a refusal; "" for none) and its request_id.
struct Cell {
  std::string request;
  std::string probe;
  std::string request_id;
};

struct Row {
  std::string method;
  std::string variant;  // what the row targets, when a method has several
  bool writes;
  Expectation expect;
  // Makes the cell's request, creating fresh records as admin if needed;
  // `id` is fresh for every cell.
  std::function<Cell(const std::string& id)> prepare;
  Binary binary = Binary::kAgreement;  // for AuditService rows
  // An accepted change writes one event and one audit record with the old
  // and new etags; a delivery retry has neither etag nor event, only the
  // audit record.
  bool versioned = true;
  // Makes the call itself, for methods the by-name client cannot call
  // (server streams).
  std::function<absl::Status(Caller, const Cell&)> call = nullptr;
  // Where an accepted change's response names what it changed; unset: its
  // `name` field.
  std::function<std::string(const Message&)> changed_name = nullptr;
};

struct Table {
  std::string service;
  std::vector<Row> rows;
};

Row Read(std::string method, std::string request,
         Expectation expect = kAnyReader, std::string variant = "") {
  return {std::move(method), std::move(variant), false, expect,
          [request](const std::string&) {
            return Cell{request, "", ""};
          }};
}

// A creation: `format` has $0 = the fresh id, $1 = the request id; the
// probe is `collection`/$0.
Row Create(std::string method, std::string variant, Expectation expect,
           std::string collection, std::string format) {
  return {std::move(method), std::move(variant), true, expect,
          [collection, format](const std::string& id) {
            return Cell{absl::Substitute(format, id, RequestIdFor(id)),
                        absl::StrCat(collection, "/", id), RequestIdFor(id)};
          }};
}

// A change of the record `setup(id)` makes: `format` has $0 = the id,
// $1 = the request id, $2 = the record's name.
Row Change(std::string method, std::string variant, Expectation expect,
           std::function<std::string(const std::string&)> setup,
           std::string format) {
  return {std::move(method), std::move(variant), true, expect,
          [setup, format](const std::string& id) {
            const std::string name = setup(id);
            return Cell{absl::Substitute(format, id, RequestIdFor(id), name),
                        name, RequestIdFor(id)};
          }};
}

std::function<std::string(const std::string&)> Fixed(std::string name) {
  return [name](const std::string&) { return name; };
}

std::function<std::string(const std::string&)> DeletedAfter(
    std::function<std::string(const std::string&)> setup) {
  return [setup](const std::string& id) { return Deleted(setup(id)); };
}

constexpr char kDeleteFormat[] = R"({"name":"$2","requestId":"$1"})";

Table InstitutionTable() {
  const std::string child = InstitutionJson("Unit $0", "IR", kA);
  return {
      kInstitutionService,
      {
          Read("GetInstitution", NameJson(kA)),
          Read("ListInstitutions", R"({"pageSize":10})"),
          Read("BatchGetInstitutions",
               absl::Substitute(R"({"names":["$0","$1"]})", kA, kB)),
          Read("SearchInstitutions", R"({"query":"Alpha"})"),
          Read("GetOfficial", NameJson(kOfficialA)),
          Read("ListOfficials", R"({"pageSize":10})"),
          Read("ListInstitutionRevisions", NameJson(kA)),
          Read("ListOfficialRevisions", NameJson(kOfficialA)),
          Read("BatchGetOfficials", absl::Substitute(R"({"names":["$0","$1"]})",
                                                     kOfficialA, kOfficialB)),
          Create("CreateInstitution", "a unit of A", kEditorsInScope,
                 "institutions",
                 R"({"institutionId":"$0","requestId":"$1","institution":)" +
                     child + "}"),
          Change("UpdateInstitution", "A itself", kEditorsInScope, Fixed(kA),
                 R"({"institution":{"name":"$2","websiteUri":)"
                 R"("https://alpha.example/$0"},"updateMask":"websiteUri",)"
                 R"("requestId":"$1"})"),
          Change("UpdateInstitution", "a unit of A", kEditorsInScope,
                 NewInstitution,
                 R"({"institution":{"name":"$2","websiteUri":)"
                 R"("https://unit.example/$0"},"updateMask":"websiteUri",)"
                 R"("requestId":"$1"})"),
          Change("DeleteInstitution", "a unit of A", kEditorsInScope,
                 NewInstitution, kDeleteFormat),
          Change("UndeleteInstitution", "a unit of A", kEditorsInScope,
                 DeletedAfter(NewInstitution), kDeleteFormat),
          Create("CreateOfficial", "with a position at A", kEditorsInScope,
                 "officials",
                 R"({"officialId":"$0","requestId":"$1","official":)" +
                     OfficialJson("Officer $0", kA) + "}"),
          Change("UpdateOfficial", "with a position at A", kEditorsInScope,
                 NewOfficial,
                 R"({"official":{"name":"$2","names":[{"text":"Renamed $0",)"
                 R"("type":"TYPE_DISPLAY"}]},"updateMask":"names",)"
                 R"("requestId":"$1"})"),
          Change("DeleteOfficial", "with a position at A", kEditorsInScope,
                 NewOfficial, kDeleteFormat),
          Change("UndeleteOfficial", "with a position at A", kEditorsInScope,
                 DeletedAfter(NewOfficial), kDeleteFormat),
      }};
}

Table AgreementTable() {
  constexpr char kUpdateAgreement[] =
      R"({"agreement":{"name":"$2","keywords":["k-$0"]},)"
      R"("updateMask":"keywords","requestId":"$1"})";
  constexpr char kRecordSignature[] =
      R"({"agreement":"$2","requestId":"$1","action":{"kind":)"
      R"("KIND_SIGNATURE","party":"institutions/a","actionDate":)"
      R"("2025-04-25"}})";
  constexpr char kUpdateMilestone[] =
      R"({"milestone":{"name":"$2","dueDate":"2025-09-01"},)"
      R"("updateMask":"dueDate","requestId":"$1"})";
  constexpr char kTransition[] =
      R"({"name":"$2","requestId":"$1","transition":{"state":)"
      R"("STATE_PLANNED","transitionDate":"2025-06-01"}})";
  const std::string create_milestone =
      R"({"parent":"%s","milestoneId":"$0","requestId":"$1","milestone":)" +
      MilestoneJson("Milestone $0", kA) + "}";
  auto milestone_under = [&create_milestone](const std::string& parent) {
    return absl::StrReplaceAll(create_milestone, {{"%s", parent}});
  };
  constexpr char kUpdateText[] =
      R"({"agreementText":{"name":"$2","title":"Title $0"},)"
      R"("updateMask":"title","requestId":"$1"})";
  auto text_under = [](const std::string& parent) {
    return absl::StrCat(
        R"({"parent":")", parent,
        R"(","agreementTextId":"$0","requestId":"$1","agreementText":)",
        TextJson("fa"), "}");
  };
  return {
      kAgreementService,
      {
          // Agreements.
          Read("GetAgreement", NameJson(kMou)),
          Read("GetAgreement", NameJson(kSecret), kPartiesOnly, "restricted"),
          Read("ListAgreements", R"({"pageSize":100})"),
          Read("ListAgreementRevisions", NameJson(kMou)),
          Read("ListAgreementRevisions", NameJson(kSecret), kPartiesOnly,
               "restricted"),
          Read("QueryAgreementsInForce",
               absl::Substitute(
                   R"({"institutions":["$0","$1"],"date":"2025-06-01"})", kA,
                   kB)),
          Read("QueryPartyStatus",
               absl::Substitute(R"({"agreement":"$0","date":"2025-06-01"})",
                                kMou)),
          Read("QueryPartyStatus",
               absl::Substitute(R"({"agreement":"$0","date":"2025-06-01"})",
                                kSecret),
               kPartiesOnly, "restricted"),
          Read("ListCooperationAreas", "{}"),
          Create("CreateAgreement", "between A and B", kEditorsInScope,
                 "agreements",
                 R"({"agreementId":"$0","requestId":"$1","agreement":)" +
                     AgreementJson("MOU $0", {kA, kB}, false) + "}"),
          Create("CreateAgreement", "restricted", kPartyEditors, "agreements",
                 R"({"agreementId":"$0","requestId":"$1","agreement":)" +
                     AgreementJson("MOU $0", {kA, kB}, true) + "}"),
          Change("UpdateAgreement", "between A and B", kEditorsInScope,
                 NewAgreement, kUpdateAgreement),
          Change("UpdateAgreement", "restricted", kPartyEditors,
                 NewRestrictedAgreement, kUpdateAgreement),
          Change("DeleteAgreement", "between A and B", kEditorsInScope,
                 NewAgreement, kDeleteFormat),
          Change("DeleteAgreement", "restricted", kPartyEditors,
                 NewRestrictedAgreement, kDeleteFormat),
          Change("UndeleteAgreement", "between A and B", kEditorsInScope,
                 DeletedAfter(NewAgreement), kDeleteFormat),
          Change("RecordAgreementAction", "between A and B", kEditorsInScope,
                 NewAgreement, kRecordSignature),
          Change("RecordAgreementAction", "restricted", kPartyEditors,
                 NewRestrictedAgreement, kRecordSignature),
          // Committees and sessions.
          Read("GetCommittee", NameJson(kCommittee)),
          Read("ListCommittees", R"({"pageSize":100})"),
          Read("ListCommitteeRevisions", NameJson(kCommittee)),
          Create("CreateCommittee", "of A and B", kEditorsInScope, "committees",
                 R"({"committeeId":"$0","requestId":"$1","committee":)" +
                     CommitteeJson("Committee $0", {kA, kB}) + "}"),
          Change("UpdateCommittee", "of A and B", kEditorsInScope, NewCommittee,
                 R"({"committee":{"name":"$2","state":"STATE_DISSOLVED"},)"
                 R"("updateMask":"state","requestId":"$1"})"),
          Change("DeleteCommittee", "of A and B", kEditorsInScope, NewCommittee,
                 kDeleteFormat),
          Change("UndeleteCommittee", "of A and B", kEditorsInScope,
                 DeletedAfter(NewCommittee), kDeleteFormat),
          Read("GetSession", NameJson(kSession)),
          Read("ListSessions",
               absl::Substitute(R"({"parent":"$0"})", kCommittee)),
          Read("ListSessionRevisions", NameJson(kSession)),
          Create("CreateSession", "of A and B's committee", kEditorsInScope,
                 absl::StrCat(kCommittee, "/sessions"),
                 absl::StrCat(R"({"parent":")", kCommittee,
                              R"(","sessionId":"$0","requestId":"$1",)",
                              R"("session":)", SessionJson(2), "}")),
          Change("UpdateSession", "of A and B's committee", kEditorsInScope,
                 NewSession,
                 R"({"session":{"name":"$2","endDate":"2025-05-03"},)"
                 R"("updateMask":"endDate","requestId":"$1"})"),
          Change("DeleteSession", "of A and B's committee", kEditorsInScope,
                 NewSession, kDeleteFormat),
          Change("UndeleteSession", "of A and B's committee", kEditorsInScope,
                 DeletedAfter(NewSession), kDeleteFormat),
          // Milestones.
          Read("GetMilestone", NameJson(kMouMilestone)),
          Read("GetMilestone", NameJson(kCommitteeMilestone), kAnyReader,
               "of the committee"),
          Read("GetMilestone", NameJson(kSecretMilestone), kPartiesOnly,
               "of the restricted agreement"),
          Read("ListMilestones", absl::Substitute(R"({"parent":"$0"})", kMou)),
          Read("ListMilestoneRevisions", NameJson(kMouMilestone)),
          Read("ListMilestoneRevisions", NameJson(kSecretMilestone),
               kPartiesOnly, "of the restricted agreement"),
          Read("ListMilestones",
               absl::Substitute(R"({"parent":"$0"})", kSecret), kAnyReader,
               "of the restricted agreement (filtered, see ObjectLevel)"),
          Read("QueryDueMilestones", R"({"asOfDate":"2025-08-01"})"),
          Create("CreateMilestone", "of A and B's agreement", kEditorsInScope,
                 absl::StrCat(kMou, "/milestones"), milestone_under(kMou)),
          Create("CreateMilestone", "of A and B's committee", kEditorsInScope,
                 absl::StrCat(kCommittee, "/milestones"),
                 milestone_under(kCommittee)),
          Create("CreateMilestone", "of the restricted agreement",
                 kPartyEditors, absl::StrCat(kSecret, "/milestones"),
                 milestone_under(kSecret)),
          Change("UpdateMilestone", "of A and B's agreement", kEditorsInScope,
                 NewMilestone, kUpdateMilestone),
          Change("UpdateMilestone", "of a restricted agreement", kPartyEditors,
                 NewRestrictedMilestone, kUpdateMilestone),
          Change("DeleteMilestone", "of A and B's agreement", kEditorsInScope,
                 NewMilestone, kDeleteFormat),
          Change("UndeleteMilestone", "of A and B's agreement", kEditorsInScope,
                 DeletedAfter(NewMilestone), kDeleteFormat),
          Change("TransitionMilestone", "of A and B's agreement",
                 kEditorsInScope, NewMilestone, kTransition),
          Change("TransitionMilestone", "of a restricted agreement",
                 kPartyEditors, NewRestrictedMilestone, kTransition),
          // Texts of agreements.
          Read("GetAgreementText", NameJson(kMouText)),
          Read("GetAgreementText", NameJson(kSecretText), kPartiesOnly,
               "of the restricted agreement"),
          Read("ListAgreementTexts",
               absl::Substitute(R"({"parent":"$0"})", kMou)),
          Read("ListAgreementTexts",
               absl::Substitute(R"({"parent":"$0"})", kSecret), kAnyReader,
               "of the restricted agreement (filtered)"),
          Read("ListAgreementTextRevisions", NameJson(kMouText)),
          Read("ListAgreementTextRevisions", NameJson(kSecretText),
               kPartiesOnly, "of the restricted agreement"),
          Create("CreateAgreementText", "of A and B's agreement",
                 kEditorsInScope, absl::StrCat(kMou, "/texts"),
                 text_under(kMou)),
          Create("CreateAgreementText", "of the restricted agreement",
                 kPartyEditors, absl::StrCat(kSecret, "/texts"),
                 text_under(kSecret)),
          Change("UpdateAgreementText", "of A and B's agreement",
                 kEditorsInScope, NewText, kUpdateText),
          Change("UpdateAgreementText", "of a restricted agreement",
                 kPartyEditors, NewRestrictedText, kUpdateText),
          Change("DeleteAgreementText", "of A and B's agreement",
                 kEditorsInScope, NewText, kDeleteFormat),
          Change("UndeleteAgreementText", "of A and B's agreement",
                 kEditorsInScope, DeletedAfter(NewText), kDeleteFormat),
      }};
}

Table AuditTable() {
  Row on_institution = Read("ListAuditRecords", R"({"pageSize":10})",
                            kAdminOnly, "served by accord-institution");
  on_institution.binary = Binary::kInstitution;
  return {kAuditService,
          {on_institution, Read("ListAuditRecords", R"({"pageSize":10})",
                                kAdminOnly, "served by accord-agreement")}};
}

// A webhook signing secret ("whsec_" and the base64 of 24 bytes).
constexpr char kWebhookSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string SubscriptionJson(absl::string_view owner) {
  return absl::Substitute(
      R"({$0"eventTypes":["accord.agreement.v1.*"],"stream":{}})",
      owner.empty() ? "" : absl::StrCat(R"("owner":")", owner, "\","));
}

std::function<std::string(const std::string&)> NewSubscriptionOf(
    std::string owner) {
  return [owner](const std::string& id) {
    Admin("CreateSubscription",
          absl::Substitute(R"({"subscriptionId":"$0","subscription":$1})", id,
                           SubscriptionJson(owner)));
    return "subscriptions/" + id;
  };
}

std::function<std::string(const std::string&)> PausedAfter(
    std::function<std::string(const std::string&)> setup) {
  return [setup](const std::string& id) {
    const std::string name = setup(id);
    Admin("PauseSubscription", NameJson(name));
    return name;
  };
}

// A webhook subscription of the editor of A for institution `id`'s events,
// then that institution: one delivery, dead-lettered after its one failed
// attempt. Returns the delivery's name.
std::string NewDeadLetter(const std::string& id) {
  Admin("CreateSubscription",
        absl::Substitute(
            R"({"subscriptionId":"$0","subscription":{"owner":"editor-a",)"
            R"("eventTypes":["accord.institution.v1.*"],)"
            R"("filter":"subject = \"institutions/$0\"",)"
            R"("webhook":{"uri":"$1","signingSecret":"$2"}}})",
            id, suite->dead_webhook, kWebhookSecret));
  NewInstitution(id);
  std::string name;
  const bool dead = PollUntil(
      [&] {
        const auto page = As<notification::v1::ListDeliveriesResponse>(
            *Admin("ListDeliveries",
                   absl::Substitute(R"({"parent":"subscriptions/$0"})", id)));
        if (page.deliveries_size() != 1 ||
            page.deliveries(0).state() !=
                notification::v1::Delivery::STATE_DEAD_LETTERED) {
          return false;
        }
        name = page.deliveries(0).name();
        return true;
      },
      absl::Seconds(20));
  if (!dead) {
    throw std::runtime_error(
        absl::StrCat("no dead-lettered delivery for subscriptions/", id));
  }
  return name;
}

// Opens a WatchEvents stream as `caller`: OK once its first message (an
// event or a 100 ms heartbeat) arrives, else the status it ended with.
absl::Status WatchOnce(Caller caller, const std::string& json) {
  notification::v1::WatchEventsRequest request;
  if (!google::protobuf::util::JsonStringToMessage(json, &request).ok()) {
    throw std::logic_error("bad WatchEvents JSON: " + json);
  }
  auto stub = notification::v1::NotificationService::NewStub(
      suite->notification_channel);
  grpc::ClientContext context;
  if (!suite->tokens[caller].empty()) {
    context.AddMetadata("authorization",
                        absl::StrCat("Bearer ", suite->tokens[caller]));
  }
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  auto reader = stub->WatchEvents(&context, request);
  notification::v1::WatchEventsResponse response;
  if (reader->Read(&response)) {
    context.TryCancel();
    (void)reader->Finish();
    return absl::OkStatus();
  }
  const grpc::Status status = reader->Finish();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

Row Watch(std::string variant, Expectation expect, std::string request) {
  Row row = Read("WatchEvents", request, expect, std::move(variant));
  row.call = [](Caller caller, const Cell& cell) {
    return WatchOnce(caller, cell.request);
  };
  return row;
}

// Pause, resume and retry take no request_id.
Row WithoutRequestId(Row row) {
  row.prepare = [prepare = row.prepare](const std::string& id) {
    Cell cell = prepare(id);
    cell.request_id = "";
    return cell;
  };
  return row;
}

void CreateNotificationFixtures() {
  NewSubscriptionOf("editor-a")("of-editor-a");
  NewSubscriptionOf(kA)("of-a");
  NewSubscriptionOf("subscriber")("of-subscriber");
  suite->delivery = NewDeadLetter("hook-of-editor-a");
  for (const events::v1::Event& event : suite->events->All()) {
    if (event.subject() == kMou && suite->public_event.empty()) {
      suite->public_event = "events/" + event.position();
    }
    if (event.subject() == kSecret && suite->secret_event.empty()) {
      suite->secret_event = "events/" + event.position();
    }
  }
  if (suite->public_event.empty() || suite->secret_event.empty()) {
    throw std::runtime_error("the MOUs' events are not in the stream");
  }
}

Table NotificationTable() {
  constexpr char kRename[] =
      R"({"subscription":{"name":"$2","displayName":"Renamed $0"},)"
      R"("updateMask":"displayName","requestId":"$1"})";
  constexpr char kNameOnly[] = R"({"name":"$2"})";
  const std::string create =
      R"({"subscriptionId":"$0","requestId":"$1","subscription":)";
  Row retry = WithoutRequestId(Change("RetryDelivery", "of the editor of A",
                                      kOwnerOnly, NewDeadLetter, kNameOnly));
  retry.versioned = false;
  // Redriving a subscription's dead letters changes (and audits) each one.
  Row redrive = WithoutRequestId(
      Change("RedriveDeadLetters", "of the editor of A's webhook", kOwnerOnly,
             NewDeadLetter, R"({"parent":"subscriptions/$0"})"));
  redrive.versioned = false;
  redrive.changed_name = [](const Message& response) {
    const auto redriven =
        As<notification::v1::RedriveDeadLettersResponse>(response);
    return redriven.deliveries_size() == 1 ? redriven.deliveries(0)
                                           : std::string();
  };
  return {
      kNotificationService,
      {
          // Subscriptions: each principal sees and manages its own (and
          // its institutions'); others are absent.
          Read("GetSubscription", NameJson("subscriptions/of-editor-a"),
               kOwnerOnly, "the editor of A's own"),
          Read("GetSubscription", NameJson("subscriptions/of-a"), kOwnerOnly,
               "owned by institution A"),
          Read("GetSubscription", NameJson("subscriptions/of-subscriber"),
               kSubscriberOnly, "the subscriber's own"),
          Read("ListSubscriptions", R"({"pageSize":1000})", kAnySubscriber,
               "(filtered, see NotificationObjectLevel)"),
          Create("CreateSubscription", "owned by the caller", kAnySubscriber,
                 "subscriptions", create + SubscriptionJson("") + "}"),
          Create("CreateSubscription", "owned by institution A",
                 kEditorsInScope, "subscriptions",
                 create + SubscriptionJson(kA) + "}"),
          Create("CreateSubscription", "owned by another principal", kAdminOnly,
                 "subscriptions",
                 create + SubscriptionJson("someone-else") + "}"),
          Change("UpdateSubscription", "the editor of A's own", kOwnerOnly,
                 NewSubscriptionOf("editor-a"), kRename),
          Change("UpdateSubscription", "owned by institution A", kOwnerOnly,
                 NewSubscriptionOf(kA), kRename),
          Change("UpdateSubscription", "the subscriber's own", kSubscriberOnly,
                 NewSubscriptionOf("subscriber"), kRename),
          Change("UpdateSubscription", "the editor of A's, handed to another",
                 {kNotFound, kNotFound, kDenied, kOk, kNotFound},
                 NewSubscriptionOf("editor-a"),
                 R"({"subscription":{"name":"$2","owner":"someone-else"},)"
                 R"("updateMask":"owner","requestId":"$1"})"),
          Change("DeleteSubscription", "the editor of A's own", kOwnerOnly,
                 NewSubscriptionOf("editor-a"), kDeleteFormat),
          Change("DeleteSubscription", "the subscriber's own", kSubscriberOnly,
                 NewSubscriptionOf("subscriber"), kDeleteFormat),
          Change("UndeleteSubscription", "the editor of A's own", kOwnerOnly,
                 DeletedAfter(NewSubscriptionOf("editor-a")), kDeleteFormat),
          WithoutRequestId(Change("PauseSubscription", "the editor of A's own",
                                  kOwnerOnly, NewSubscriptionOf("editor-a"),
                                  kNameOnly)),
          WithoutRequestId(Change("PauseSubscription", "the subscriber's own",
                                  kSubscriberOnly,
                                  NewSubscriptionOf("subscriber"), kNameOnly)),
          WithoutRequestId(
              Change("ResumeSubscription", "the editor of A's own", kOwnerOnly,
                     PausedAfter(NewSubscriptionOf("editor-a")), kNameOnly)),
          // Events: restricted ones are absent for non-parties.
          Watch("an inline selector", kAnySubscriber,
                R"({"inlineSelector":{"eventTypes":["accord.*"]},)"
                R"("heartbeatInterval":"0.1s"})"),
          Watch("the editor of A's subscription", kOwnerOnly,
                R"({"subscription":"subscriptions/of-editor-a",)"
                R"("heartbeatInterval":"0.1s"})"),
          Watch("the subscriber's subscription", kSubscriberOnly,
                R"({"subscription":"subscriptions/of-subscriber",)"
                R"("heartbeatInterval":"0.1s"})"),
          Read("ListEvents", R"({"pageSize":10})", kAnySubscriber,
               "(filtered, see mou_delivery_test)"),
          Read("GetEvent", NameJson(suite->public_event), kAnySubscriber,
               "of the shared MOU"),
          Read("GetEvent", NameJson(suite->secret_event), kPartiesOnlyEvents,
               "of the restricted MOU"),
          // Webhook deliveries: their subscription's owner's.
          Read("ListDeliveries",
               absl::Substitute(R"({"parent":"$0"})",
                                "subscriptions/hook-of-editor-a"),
               kOwnerOnly, "of the editor of A's webhook"),
          Read("GetDelivery", NameJson(suite->delivery), kOwnerOnly,
               "of the editor of A's webhook"),
          retry,
          redrive,
          Read("ListEventTypes", "{}", kAnySubscriber, "the registry"),
      }};
}

StatusCode ExpectedFor(const Row& row, Caller caller) {
  switch (caller) {
    case kViewer:
      return row.expect.viewer;
    case kOtherEditor:
      return row.expect.other_editor;
    case kRightEditor:
      return row.expect.right_editor;
    case kAdmin:
      return row.expect.admin;
    case kSubscriber:
      return row.expect.subscriber;
    default:
      return StatusCode::kUnauthenticated;
  }
}

// Runs one cell; returns the code it got.
StatusCode RunCell(const Table& table, const Row& row, Caller caller) {
  const std::string id = NextId();
  const Cell cell = row.prepare(id);
  const int64_t events_before = EventCount();
  const int64_t audit_before = AuditCount();
  const std::string etag_before = cell.probe.empty() ? "" : EtagOf(cell.probe);

  // A custom call answers only with a status (it serves reads only).
  auto custom = [&]() -> Response {
    const absl::Status status = row.call(caller, cell);
    if (!status.ok()) return status;
    return std::unique_ptr<Message>();
  };
  const Response response =
      row.call ? custom()
               : CallAs(caller, row.method, cell.request, row.binary);
  const StatusCode code = response.status().code();
  EXPECT_EQ(code, ExpectedFor(row, caller)) << Describe(response.status());

  if (!response.ok() || !row.writes) {
    // Nothing written: no event, no audit record, the record unchanged.
    EXPECT_EQ(EventCount(), events_before);
    EXPECT_EQ(AuditCount(), audit_before);
    if (!cell.probe.empty()) {
      EXPECT_EQ(EtagOf(cell.probe), etag_before) << cell.probe;
    }
    return code;
  }
  // An accepted change: one event and one audit record naming it.
  const std::string name = row.changed_name ? row.changed_name(**response)
                                            : StringField(**response, "name");
  const std::string etag = StringField(**response, "etag");
  EXPECT_EQ(name, cell.probe);
  EXPECT_NE(EtagOf(cell.probe), etag_before);
  EXPECT_EQ(EventCount(), events_before + (row.versioned ? 1 : 0));
  EXPECT_EQ(AuditCount(), audit_before + 1);
  const auth::v1::AuditRecord audit = LatestAudit();
  EXPECT_EQ(audit.principal(), kPrincipalIds[caller]);
  EXPECT_EQ(audit.method(), absl::StrCat("/", table.service, "/", row.method));
  EXPECT_EQ(audit.resource(), cell.probe);
  EXPECT_EQ(audit.request_id(), cell.request_id);
  EXPECT_EQ(audit.old_etag(),
            !row.versioned || etag_before == kAbsent ? "" : etag_before);
  EXPECT_EQ(audit.new_etag(), row.versioned ? etag : "");
  EXPECT_TRUE(audit.has_time());
  return code;
}

void RunMatrix(const Table& table) {
  std::string summary = absl::StrCat(table.service, "\n");
  for (const Row& row : table.rows) {
    std::string line =
        absl::StrCat("  ", row.method,
                     row.variant.empty() ? "" : " (" + row.variant + ")", ":");
    for (int caller = 0; caller < kCallers; ++caller) {
      SCOPED_TRACE(absl::StrCat(
          row.method, row.variant.empty() ? "" : " (" + row.variant + ")",
          " as ", kCallerNames[caller]));
      const StatusCode code = RunCell(table, row, static_cast<Caller>(caller));
      absl::StrAppend(&line, " ", ShortCode(code));
    }
    absl::StrAppend(&summary, line, "\n");
  }
  std::cout << "columns: " << absl::StrJoin(kCallerNames, " | ") << "\n"
            << summary;
}

TEST_F(SecurityTest, EveryRpcHasAMatrixRow) {
  std::set<std::string> covered;
  for (const Table& table : {InstitutionTable(), AgreementTable(),
                             NotificationTable(), AuditTable()}) {
    for (const Row& row : table.rows) {
      const MethodDescriptor& method = FindMethod(row.method);
      EXPECT_EQ(method.service()->full_name(), table.service) << row.method;
      EXPECT_EQ(row.writes, IsMutating(method))
          << row.method << " is in the matrix as a "
          << (row.writes ? "write" : "read");
      // Viewers manage their own subscriptions; nothing else.
      if (row.writes && table.service != kNotificationService) {
        EXPECT_EQ(row.expect.viewer, kDenied)
            << row.method << ": viewers may not change anything";
      }
      covered.insert(method.full_name());
    }
  }
  for (const ServiceDescriptor* service : Services()) {
    for (int i = 0; i < service->method_count(); ++i) {
      EXPECT_TRUE(covered.count(service->method(i)->full_name()) > 0)
          << service->method(i)->full_name()
          << " has no row in the authorisation matrix";
    }
  }
}

TEST_F(SecurityTest, InstitutionServiceMatrix) {
  RunMatrix(InstitutionTable());
}

TEST_F(SecurityTest, AgreementServiceMatrix) { RunMatrix(AgreementTable()); }

TEST_F(SecurityTest, NotificationServiceMatrix) {
  RunMatrix(NotificationTable());
}

TEST_F(SecurityTest, AuditServiceMatrix) { RunMatrix(AuditTable()); }

// ---------------------------------------------------------------------------
// OWASP API Top 10.

// Calls as `caller`, expects `code`, and checks that nothing was written:
// no event, no audit record, `probe` (if any) unchanged.
void ExpectRefused(Caller caller, absl::string_view method,
                   const std::string& json, StatusCode code,
                   const std::string& probe = "") {
  SCOPED_TRACE(absl::StrCat(method, " as ", kCallerNames[caller], ": ", json));
  const int64_t events_before = EventCount();
  const int64_t audit_before = AuditCount();
  const std::string etag_before = probe.empty() ? "" : EtagOf(probe);
  const Response response = CallAs(caller, method, json);
  EXPECT_EQ(response.status().code(), code) << Describe(response.status());
  EXPECT_EQ(EventCount(), events_before);
  EXPECT_EQ(AuditCount(), audit_before);
  if (!probe.empty()) {
    EXPECT_EQ(EtagOf(probe), etag_before) << probe;
  }
}

// Calls and requires OK (throws otherwise, failing the test).
std::unique_ptr<Message> ExpectOk(Caller caller, absl::string_view method,
                                  const std::string& json) {
  Response response = CallAs(caller, method, json);
  if (!response.ok()) {
    throw std::runtime_error(absl::StrCat(method, " as ", kCallerNames[caller],
                                          ": ", Describe(response.status()),
                                          "\n", json));
  }
  return *std::move(response);
}

template <typename Repeated>
std::vector<std::string> NamesOf(const Repeated& items) {
  std::vector<std::string> names;
  for (const auto& item : items) names.push_back(item.name());
  return names;
}

// API1 Broken Object Level Authorization: another agency's restricted MOU.
TEST_F(SecurityTest, ObjectLevel_RestrictedAgreementIsAbsentForNonParties) {
  for (Caller caller : {kViewer, kOtherEditor}) {
    SCOPED_TRACE(kCallerNames[caller]);
    // By name: exactly what a missing agreement answers.
    const Response secret = CallAs(caller, "GetAgreement", NameJson(kSecret));
    const Response missing =
        CallAs(caller, "GetAgreement", NameJson("agreements/no-such-mou"));
    EXPECT_EQ(secret.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(ReasonOf(secret.status()), ReasonOf(missing.status()));
    EXPECT_EQ(CallAs(caller, "GetMilestone", NameJson(kSecretMilestone))
                  .status()
                  .code(),
              StatusCode::kNotFound);

    // Not in lists or queries.
    auto agreements = As<agreement::v1::ListAgreementsResponse>(
        *ExpectOk(caller, "ListAgreements", R"({"pageSize":1000})"));
    EXPECT_THAT(NamesOf(agreements.agreements()), Contains(kMou));
    EXPECT_THAT(NamesOf(agreements.agreements()), Not(Contains(kSecret)));
    for (const std::string& query :
         {absl::Substitute(
              R"({"institutions":["$0","$1"],"date":"2025-06-01"})", kA, kB),
          std::string(R"({"countryCodes":["IR","RU"],"date":"2025-06-01"})")}) {
      auto in_force = As<agreement::v1::QueryAgreementsInForceResponse>(
          *ExpectOk(caller, "QueryAgreementsInForce", query));
      EXPECT_THAT(NamesOf(in_force.agreements()), Contains(kMou)) << query;
      EXPECT_THAT(NamesOf(in_force.agreements()), Not(Contains(kSecret)))
          << query;
    }
    auto under_secret = As<agreement::v1::ListMilestonesResponse>(*ExpectOk(
        caller, "ListMilestones",
        absl::Substitute(R"({"parent":"$0","pageSize":1000})", kSecret)));
    EXPECT_EQ(under_secret.milestones_size(), 0);
    auto all_milestones = As<agreement::v1::ListMilestonesResponse>(
        *ExpectOk(caller, "ListMilestones",
                  R"({"parent":"agreements/-","pageSize":1000})"));
    EXPECT_THAT(NamesOf(all_milestones.milestones()), Contains(kMouMilestone));
    EXPECT_THAT(NamesOf(all_milestones.milestones()),
                Not(Contains(kSecretMilestone)));
    auto due = As<agreement::v1::QueryDueMilestonesResponse>(*ExpectOk(
        caller, "QueryDueMilestones", R"({"asOfDate":"2025-08-01"})"));
    EXPECT_THAT(NamesOf(due.overdue()), Contains(kMouMilestone));
    EXPECT_THAT(NamesOf(due.overdue()), Not(Contains(kSecretMilestone)));
  }
  // Its parties and admins see it everywhere.
  for (Caller caller : {kRightEditor, kAdmin}) {
    SCOPED_TRACE(kCallerNames[caller]);
    ExpectOk(caller, "GetAgreement", NameJson(kSecret));
    auto agreements = As<agreement::v1::ListAgreementsResponse>(
        *ExpectOk(caller, "ListAgreements", R"({"pageSize":1000})"));
    EXPECT_THAT(NamesOf(agreements.agreements()), Contains(kSecret));
    auto in_force = As<agreement::v1::QueryAgreementsInForceResponse>(*ExpectOk(
        caller, "QueryAgreementsInForce",
        absl::Substitute(R"({"institutions":["$0","$1"],"date":"2025-06-01"})",
                         kA, kB)));
    EXPECT_THAT(NamesOf(in_force.agreements()), Contains(kSecret));
    auto under_secret = As<agreement::v1::ListMilestonesResponse>(*ExpectOk(
        caller, "ListMilestones",
        absl::Substitute(R"({"parent":"$0","pageSize":1000})", kSecret)));
    EXPECT_THAT(NamesOf(under_secret.milestones()), Contains(kSecretMilestone));
    auto due = As<agreement::v1::QueryDueMilestonesResponse>(*ExpectOk(
        caller, "QueryDueMilestones", R"({"asOfDate":"2025-08-01"})"));
    EXPECT_THAT(NamesOf(due.overdue()), Contains(kSecretMilestone));
  }
}

TEST_F(SecurityTest, ObjectLevel_EditorOfCCannotChangeRecordsOfAAndB) {
  const std::string mou_etag = EtagOf(kMou);
  ExpectRefused(kOtherEditor, "UpdateAgreement",
                absl::Substitute(R"({"agreement":{"name":"$0","keywords":)"
                                 R"(["c-was-here"]},"updateMask":"keywords"})",
                                 kMou),
                kDenied, kMou);
  ExpectRefused(kOtherEditor, "RecordAgreementAction",
                absl::Substitute(
                    R"({"agreement":"$0","action":{"kind":"KIND_SUSPENSION",)"
                    R"("actionDate":"2025-06-01"}})",
                    kMou),
                kDenied, kMou);
  ExpectRefused(kOtherEditor, "DeleteAgreement", NameJson(kMou), kDenied, kMou);
  ExpectRefused(kOtherEditor, "UpdateCommittee",
                absl::Substitute(R"({"committee":{"name":"$0","state":)"
                                 R"("STATE_DISSOLVED"},"updateMask":"state"})",
                                 kCommittee),
                kDenied, kCommittee);
  ExpectRefused(kOtherEditor, "DeleteSession", NameJson(kSession), kDenied,
                kSession);
  ExpectRefused(kOtherEditor, "UpdateInstitution",
                absl::Substitute(R"({"institution":{"name":"$0","websiteUri":)"
                                 R"("https://c.example"},"updateMask":)"
                                 R"("websiteUri"})",
                                 kA),
                kDenied, kA);
  ExpectRefused(kOtherEditor, "DeleteOfficial", NameJson(kOfficialA), kDenied,
                kOfficialA);
  EXPECT_EQ(EtagOf(kMou), mou_etag);
}

// A restricted record answers non-parties exactly as a missing one would,
// whatever else is wrong with the request.
TEST_F(SecurityTest, ObjectLevel_RestrictedRecordsAnswerNotFoundToNonParties) {
  // A stale etag or an invalid action must not reveal the agreement.
  ExpectRefused(kOtherEditor, "RecordAgreementAction",
                absl::Substitute(
                    R"({"agreement":"$0","etag":"0000000000000000","action":)"
                    R"({"kind":"KIND_SIGNATURE","party":"$1",)"
                    R"("actionDate":"2025-06-01"}})",
                    kSecret, kA),
                kNotFound, kSecret);
  ExpectRefused(kOtherEditor, "RecordAgreementAction",
                absl::Substitute(R"({"agreement":"$0","action":{"kind":)"
                                 R"("KIND_SIGNATURE","party":"$1",)"
                                 R"("actionDate":"2025-06-01"}})",
                                 kSecret, kC),
                kNotFound, kSecret);
  ExpectRefused(
      kOtherEditor, "TransitionMilestone",
      absl::Substitute(R"({"name":"$0","transition":{"state":"STATE_PROPOSED",)"
                       R"("transitionDate":"2025-06-01"}})",
                       kSecretMilestone),
      kNotFound, kSecretMilestone);
  ExpectRefused(kOtherEditor, "UpdateAgreement",
                absl::Substitute(R"({"agreement":{"name":"$0","etag":"0",)"
                                 R"("keywords":["x"]},"updateMask":)"
                                 R"("keywords"})",
                                 kSecret),
                kNotFound, kSecret);
  // A deleted restricted agreement: still simply absent.
  const std::string deleted = Deleted(NewRestrictedAgreement(NextId()));
  ExpectRefused(kOtherEditor, "UpdateAgreement",
                absl::Substitute(R"({"agreement":{"name":"$0","keywords":)"
                                 R"(["x"]},"updateMask":"keywords"})",
                                 deleted),
                kNotFound, deleted);
  ExpectRefused(kOtherEditor, "UndeleteAgreement", NameJson(deleted), kNotFound,
                deleted);
  // A deleted record in A's scope: the editor of C is refused, not told
  // about its state.
  const std::string deleted_mou = Deleted(NewAgreement(NextId()));
  ExpectRefused(kOtherEditor, "UpdateAgreement",
                absl::Substitute(R"({"agreement":{"name":"$0","keywords":)"
                                 R"(["x"]},"updateMask":"keywords"})",
                                 deleted_mou),
                kDenied, deleted_mou);
  // A milestone under the restricted agreement: the same answer as under a
  // missing one.
  const std::string milestone = MilestoneJson("Probe", kC);
  const Response under_secret =
      CallAs(kOtherEditor, "CreateMilestone",
             absl::Substitute(
                 R"({"parent":"$0","milestoneId":"probe","milestone":$1})",
                 kSecret, milestone));
  const Response under_missing =
      CallAs(kOtherEditor, "CreateMilestone",
             absl::Substitute(
                 R"({"parent":"agreements/no-such-mou","milestoneId":"probe",)"
                 R"("milestone":$0})",
                 milestone));
  EXPECT_EQ(under_secret.status().code(), StatusCode::kNotFound)
      << Describe(under_secret.status());
  EXPECT_EQ(under_secret.status().code(), under_missing.status().code());
  EXPECT_EQ(ReasonOf(under_secret.status()), ReasonOf(under_missing.status()))
      << Describe(under_secret.status()) << "\nvs\n"
      << Describe(under_missing.status());
  EXPECT_EQ(EtagOf(absl::StrCat(kSecret, "/milestones/probe")), kAbsent);
}

// A request_id is an idempotency key, not a way to read someone else's
// result: replaying another principal's request_id must not return the
// record that request changed.
TEST_F(SecurityTest, ObjectLevel_ReplayedRequestIdDoesNotRevealOthersRecords) {
  const std::string id = NextId();
  const std::string create_request_id = "secret-create-" + id;
  ExpectOk(kRightEditor, "CreateAgreement",
           absl::Substitute(
               R"({"agreementId":"$0","requestId":"$1","agreement":$2})", id,
               create_request_id,
               AgreementJson("Restricted " + id, {kA, kB}, true)));
  // The same principal retrying gets its first result.
  const auto retried =
      ExpectOk(kRightEditor, "CreateAgreement",
               absl::Substitute(
                   R"({"agreementId":"$0","requestId":"$1","agreement":$2})",
                   id, create_request_id,
                   AgreementJson("Restricted " + id, {kA, kB}, true)));
  EXPECT_EQ(StringField(*retried, "name"), "agreements/" + id);
  // Another principal reusing it for a creation of its own gets neither
  // that record nor its name, and nothing is written.
  const std::string own = NextId();
  const std::string stolen_create = absl::Substitute(
      R"({"agreementId":"$0","requestId":"$1","agreement":$2})", own,
      create_request_id, AgreementJson("C's MOU", {kC, kB}, false));
  ExpectRefused(kOtherEditor, "CreateAgreement", stolen_create,
                StatusCode::kAlreadyExists, "agreements/" + own);
  const Response stolen =
      CallAs(kOtherEditor, "CreateAgreement", stolen_create);
  EXPECT_EQ(ReasonOf(stolen.status()), "REQUEST_ID_REUSED");
  EXPECT_FALSE(absl::StrContains(stolen.status().message(), "agreements/"))
      << Describe(stolen.status());

  // The same with an update.
  const std::string update_request_id = "secret-update-" + id;
  ExpectOk(kRightEditor, "UpdateAgreement",
           absl::Substitute(R"({"agreement":{"name":"agreements/$0",)"
                            R"("keywords":["secret"]},"updateMask":)"
                            R"("keywords","requestId":"$1"})",
                            id, update_request_id));
  const std::string c_agreement = NewAgreementOf(NextId(), {kC, kB}, false);
  const std::string stolen_update =
      absl::Substitute(R"({"agreement":{"name":"$0","keywords":["mine"]},)"
                       R"("updateMask":"keywords","requestId":"$1"})",
                       c_agreement, update_request_id);
  ExpectRefused(kOtherEditor, "UpdateAgreement", stolen_update,
                StatusCode::kAlreadyExists, c_agreement);
  EXPECT_FALSE(absl::StrContains(
      CallAs(kOtherEditor, "UpdateAgreement", stolen_update).status().message(),
      "agreements/"));
}

// A reference to a restricted agreement from a record that others can read
// would reveal it (the record, its events and webhooks carry the name). So
// only a record restricted to some of its parties may hold one; any other
// reference is refused exactly as one to a missing agreement.
TEST_F(SecurityTest,
       ObjectLevel_ReferencesToRestrictedAgreementsRevealNothing) {
  const std::string missing = "agreements/no-such-mou";
  // Compares the answers for `secret` and for a missing agreement; both
  // must be refused the same way and write nothing.
  auto same_as_missing = [&](Caller caller, absl::string_view method,
                             const std::function<std::string(
                                 const std::string& reference)>& request,
                             const std::string& probe = "") {
    SCOPED_TRACE(absl::StrCat(method, " as ", kCallerNames[caller]));
    const int64_t events_before = EventCount();
    const std::string etag_before = probe.empty() ? "" : EtagOf(probe);
    const Response to_secret = CallAs(caller, method, request(kSecret));
    const Response to_missing = CallAs(caller, method, request(missing));
    EXPECT_FALSE(to_secret.ok()) << "the reference was accepted";
    EXPECT_EQ(to_secret.status().code(), to_missing.status().code())
        << Describe(to_secret.status()) << "\nvs\n"
        << Describe(to_missing.status());
    EXPECT_EQ(ReasonOf(to_secret.status()), ReasonOf(to_missing.status()));
    EXPECT_EQ(
        absl::StrReplaceAll(to_secret.status().message(), {{kSecret, "X"}}),
        absl::StrReplaceAll(to_missing.status().message(), {{missing, "X"}}));
    EXPECT_EQ(EventCount(), events_before);
    if (!probe.empty()) {
      EXPECT_EQ(EtagOf(probe), etag_before);
    }
  };
  // The editor of C, on records of C's own.
  same_as_missing(kOtherEditor, "CreateAgreement", [&](const std::string& r) {
    return absl::Substitute(
        R"({"agreementId":"$0","agreement":$1})", NextId(),
        absl::StrReplaceAll(
            AgreementJson("C-B MOU", {kC, kB}, false),
            {{R"("restricted":false)",
              absl::StrCat(R"("restricted":false,)", R"("parentAgreement":")",
                           r, "\"")}}));
  });
  const std::string c_agreement = NewAgreementOf(NextId(), {kC, kB}, false);
  same_as_missing(
      kOtherEditor, "UpdateAgreement",
      [&](const std::string& r) {
        return absl::Substitute(R"({"agreement":{"name":"$0",)"
                                R"("parentAgreement":"$1"},)"
                                R"("updateMask":"parentAgreement"})",
                                c_agreement, r);
      },
      c_agreement);
  same_as_missing(kOtherEditor, "CreateCommittee", [&](const std::string& r) {
    return absl::Substitute(
        R"({"committeeId":"$0","committee":{"names":[{"text":"C-B JEC",)"
        R"("languageCode":"en"}],"kind":"KIND_JOINT_ECONOMIC_COMMITTEE",)"
        R"("memberInstitutions":["$1","$2"],"establishingAgreement":"$3"}})",
        NextId(), kC, kB, r);
  });
  const std::string c_committee = NextId();
  Admin("CreateCommittee",
        absl::Substitute(R"({"committeeId":"$0","committee":$1})", c_committee,
                         CommitteeJson("C-B committee", {kC, kB})));
  same_as_missing(kOtherEditor, "CreateSession", [&](const std::string& r) {
    return absl::Substitute(
        R"({"parent":"committees/$0","sessionId":"$1","session":)"
        R"({"number":1,"startDate":"2025-05-01","agreementsSigned":["$2"]}})",
        c_committee, NextId(), r);
  });
  // A party of the restricted MOU may not leak it either: a shared record
  // of A and C, or a committee, cannot point at it.
  same_as_missing(kRightEditor, "CreateAgreement", [&](const std::string& r) {
    return absl::Substitute(
        R"({"agreementId":"$0","agreement":$1})", NextId(),
        absl::StrReplaceAll(
            AgreementJson("A-C MOU", {kA, kC}, false),
            {{R"("restricted":false)",
              absl::StrCat(R"("restricted":false,)", R"("parentAgreement":")",
                           r, "\"")}}));
  });
  same_as_missing(kRightEditor, "CreateCommittee", [&](const std::string& r) {
    return absl::Substitute(
        R"({"committeeId":"$0","committee":{"names":[{"text":"A-B JEC 2",)"
        R"("languageCode":"en"}],"kind":"KIND_JOINT_ECONOMIC_COMMITTEE",)"
        R"("memberInstitutions":["$1","$2"],"establishingAgreement":"$3"}})",
        NextId(), kA, kB, r);
  });
  // A record restricted to its parties may: an implementing MOU of A and B.
  const std::string child = NextId();
  ExpectOk(kRightEditor, "CreateAgreement",
           absl::Substitute(
               R"({"agreementId":"$0","agreement":$1})", child,
               absl::StrReplaceAll(
                   AgreementJson("Implementing MOU", {kA, kB}, true),
                   {{R"("restricted":true)",
                     absl::StrCat(R"("restricted":true,"parentAgreement":")",
                                  kSecret, "\"")}})));
  EXPECT_EQ(
      CallAs(kOtherEditor, "GetAgreement", NameJson("agreements/" + child))
          .status()
          .code(),
      StatusCode::kNotFound);
  // Nothing the editor of C can read names the restricted MOU: no
  // agreement, committee or session, and no event.
  auto agreements = As<agreement::v1::ListAgreementsResponse>(
      *ExpectOk(kOtherEditor, "ListAgreements", R"({"pageSize":1000})"));
  for (const auto& agreement : agreements.agreements()) {
    EXPECT_NE(agreement.parent_agreement(), kSecret) << agreement.name();
  }
  auto committees = As<agreement::v1::ListCommitteesResponse>(
      *ExpectOk(kOtherEditor, "ListCommittees", R"({"pageSize":1000})"));
  for (const auto& committee : committees.committees()) {
    EXPECT_NE(committee.establishing_agreement(), kSecret) << committee.name();
  }
  std::string token;
  int pages = 0;
  do {
    auto page = As<notification::v1::ListEventsResponse>(*ExpectOk(
        kOtherEditor, "ListEvents",
        absl::Substitute(R"({"pageSize":1000,"pageToken":"$0"})", token)));
    for (const auto& event : page.events()) {
      EXPECT_NE(event.subject(), kSecret);
      EXPECT_THAT(event.agreements(), Not(Contains(kSecret)))
          << event.type() << " " << event.subject();
    }
    token = page.next_page_token();
  } while (!token.empty() && ++pages < 100);
}

// API5 at the property level: a milestone's owners are data, not
// authority. Listing oneself as an owner must not let an editor add to or
// change another agency's agreement or committee.
TEST_F(SecurityTest, PropertyLevel_MilestoneOwnersDoNotWidenScope) {
  for (const char* parent : {kMou, kCommittee}) {
    const std::string id = NextId();
    ExpectRefused(
        kOtherEditor, "CreateMilestone",
        absl::Substitute(R"({"parent":"$0","milestoneId":"$1","milestone":$2})",
                         parent, id, MilestoneJson("C's milestone", kC)),
        kDenied);
    EXPECT_EQ(EtagOf(absl::StrCat(parent, "/milestones/", id)), kAbsent);
  }
  // One an admin recorded with C among its owners.
  const std::string milestone = NextId();
  Admin("CreateMilestone",
        absl::Substitute(R"({"parent":"$0","milestoneId":"$1","milestone":$2})",
                         kMou, milestone, MilestoneJson("Owned by C", kC)));
  const std::string name = absl::StrCat(kMou, "/milestones/", milestone);
  ExpectRefused(kOtherEditor, "UpdateMilestone",
                absl::Substitute(R"({"milestone":{"name":"$0","dueDate":)"
                                 R"("2026-01-01"},"updateMask":"dueDate"})",
                                 name),
                kDenied, name);
  ExpectRefused(
      kOtherEditor, "TransitionMilestone",
      absl::Substitute(R"({"name":"$0","transition":{"state":"STATE_ACHIEVED",)"
                       R"("transitionDate":"2025-06-01"}})",
                       name),
      kDenied, name);
  ExpectRefused(kOtherEditor, "DeleteMilestone", NameJson(name), kDenied, name);
  // The parties' editors keep it.
  ExpectOk(kRightEditor, "UpdateMilestone",
           absl::Substitute(R"({"milestone":{"name":"$0","dueDate":)"
                            R"("2026-01-01"},"updateMask":"dueDate"})",
                            name));
}

// Scope follows an institution and its direct parent only; an editor
// cannot gain scope by pointing an institution at its own.
TEST_F(SecurityTest, PropertyLevel_ReparentingGrantsNoScope) {
  // A's unit cannot be moved under C by C's editor, nor C's under A.
  const std::string a_unit = NewInstitution(NextId());
  ExpectRefused(kOtherEditor, "UpdateInstitution",
                absl::Substitute(R"({"institution":{"name":"$0","parent":)"
                                 R"("$1"},"updateMask":"parent"})",
                                 a_unit, kC),
                kDenied, a_unit);
  const std::string c_unit = NextId();
  Admin("CreateInstitution",
        absl::Substitute(R"({"institutionId":"$0","institution":$1})", c_unit,
                         InstitutionJson("Unit of C", "FR", kC)));
  ExpectRefused(kOtherEditor, "UpdateInstitution",
                absl::Substitute(R"({"institution":{"name":"institutions/$0",)"
                                 R"("parent":"$1"},"updateMask":"parent"})",
                                 c_unit, kA),
                kDenied, "institutions/" + c_unit);
  // Nor can it create a unit under A.
  ExpectRefused(kOtherEditor, "CreateInstitution",
                absl::Substitute(R"({"institutionId":"$0","institution":$1})",
                                 NextId(), InstitutionJson("Spy", "FR", kA)),
                kDenied);
}

// API3 Broken Object Property Level Authorization.
TEST_F(SecurityTest, PropertyLevel_EditorCannotSetFieldsOfOthersAgreement) {
  const std::string agreement = NewAgreement(NextId());
  for (const auto& [mask, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"keywords", R"("keywords":["c"])"},
           {"titles",
            R"("titles":[{"text":"Taken over","languageCode":"en"}])"},
           {"signingDate", R"("signingDate":"2025-05-05")"},
           {"parties",
            absl::Substitute(R"("parties":["$0","$1","$2"])", kA, kB, kC)},
           {"parties", absl::Substitute(R"("parties":["$0","$1"])", kC, kB)},
       }) {
    ExpectRefused(kOtherEditor, "UpdateAgreement",
                  absl::Substitute(R"({"agreement":{"name":"$0",$1},)"
                                   R"("updateMask":"$2"})",
                                   agreement, value, mask),
                  kDenied, agreement);
  }
}

TEST_F(SecurityTest, PropertyLevel_EditorCannotMoveARecordOutOfItsScope) {
  // Parties B and C only: A's editor would lose it to others.
  const std::string agreement = NewAgreement(NextId());
  ExpectRefused(kRightEditor, "UpdateAgreement",
                absl::Substitute(R"({"agreement":{"name":"$0","parties":)"
                                 R"(["$1","$2"]},"updateMask":"parties"})",
                                 agreement, kB, kC),
                kDenied, agreement);
  const std::string committee = NewCommittee(NextId());
  ExpectRefused(kRightEditor, "UpdateCommittee",
                absl::Substitute(R"({"committee":{"name":"$0",)"
                                 R"("memberInstitutions":["$1","$2"]},)"
                                 R"("updateMask":"memberInstitutions"})",
                                 committee, kB, kC),
                kDenied, committee);
  const std::string official = NewOfficial(NextId());
  ExpectRefused(kRightEditor, "UpdateOfficial",
                absl::Substitute(R"({"official":{"name":"$0","positions":)"
                                 R"([{"institution":"$1","title":"Dean"}]},)"
                                 R"("updateMask":"positions"})",
                                 official, kC),
                kDenied, official);
  const std::string unit = NewInstitution(NextId());
  ExpectRefused(kRightEditor, "UpdateInstitution",
                absl::Substitute(R"({"institution":{"name":"$0","parent":)"
                                 R"("$1"},"updateMask":"parent"})",
                                 unit, kC),
                kDenied, unit);
  // Within scope it may: A stays a party.
  ExpectOk(kRightEditor, "UpdateAgreement",
           absl::Substitute(R"({"agreement":{"name":"$0","parties":)"
                            R"(["$1","$2"]},"updateMask":"parties"})",
                            agreement, kA, kC));
}

TEST_F(SecurityTest, PropertyLevel_OutputOnlyAndRestrictedFlagAreNotWritable) {
  const std::string secret = NewRestrictedAgreement(NextId());
  for (const auto& [mask, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"restricted", R"("restricted":false)"},
           {"state", R"("state":"STATE_IN_FORCE")"},
           {"partyCountryCodes", R"("partyCountryCodes":["FR"])"},
           {"etag", R"("etag":"1")"},
           {"createTime", R"("createTime":"2020-01-01T00:00:00Z")"},
           {"actions",
            R"("actions":[{"kind":"KIND_SIGNATURE","party":"institutions/a",)"
            R"("actionDate":"2025-04-25"}])"},
       }) {
    ExpectRefused(kRightEditor, "UpdateAgreement",
                  absl::Substitute(R"({"agreement":{"name":"$0",$1},)"
                                   R"("updateMask":"$2"})",
                                   secret, value, mask),
                  StatusCode::kInvalidArgument, secret);
  }
  // Without a mask the flag is ignored: a party cannot hide a shared
  // agreement from the others' view after the fact.
  const std::string shared = NewAgreement(NextId());
  ExpectOk(kRightEditor, "UpdateAgreement",
           absl::Substitute(R"({"agreement":{"name":"$0","restricted":true,)"
                            R"("keywords":["hidden?"]}})",
                            shared));
  EXPECT_FALSE(As<agreement::v1::Agreement>(
                   *ExpectOk(kAdmin, "GetAgreement", NameJson(shared)))
                   .restricted());
  ExpectOk(kOtherEditor, "GetAgreement", NameJson(shared));
  EXPECT_EQ(
      CallAs(kOtherEditor, "GetAgreement", NameJson(secret)).status().code(),
      StatusCode::kNotFound);
  // A milestone's state changes only through TransitionMilestone.
  const std::string milestone = NewMilestone(NextId());
  ExpectRefused(kRightEditor, "UpdateMilestone",
                absl::Substitute(R"({"milestone":{"name":"$0","state":)"
                                 R"("STATE_ACHIEVED"},"updateMask":"state"})",
                                 milestone),
                StatusCode::kInvalidArgument, milestone);
}

// API5 Broken Function Level Authorization, from the descriptors: a
// method added later is covered without editing this test.
TEST_F(SecurityTest, FunctionLevel_ViewerAndSubscriberCannotCallMutators) {
  const int64_t events_before = EventCount();
  const int64_t audit_before = AuditCount();
  for (const ServiceDescriptor* service : Services()) {
    // Notification methods are for subscribers and viewers by design; its
    // matrix checks each of them per caller.
    if (service->full_name() == kNotificationService) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor& method = *service->method(i);
      // The role is checked before the request is looked at, so an empty
      // request is enough.
      if (IsMutating(method)) {
        EXPECT_EQ(suite->api->Call(suite->tokens[kViewer], method, "{}")
                      .status()
                      .code(),
                  kDenied)
            << method.full_name() << " as viewer";
      }
      // A subscriber only watches events (notification service).
      for (Binary binary : {Binary::kInstitution, Binary::kAgreement}) {
        EXPECT_EQ(
            suite->api->Call(suite->tokens[kSubscriber], method, "{}", binary)
                .status()
                .code(),
            kDenied)
            << method.full_name() << " as subscriber";
      }
    }
  }
  EXPECT_EQ(EventCount(), events_before);
  EXPECT_EQ(AuditCount(), audit_before);
}

// A subscriber (or any principal) watches and manages its own
// subscriptions only: lists leave the others out as if they did not exist.
TEST_F(SecurityTest, NotificationObjectLevel_ListShowsOnlyOwnSubscriptions) {
  const std::string own = "subscriptions/of-editor-a";
  const std::string institutions = "subscriptions/of-a";
  const std::string subscribers = "subscriptions/of-subscriber";
  const std::map<Caller, std::set<std::string>> visible = {
      {kViewer, {}},
      {kOtherEditor, {}},
      {kRightEditor, {own, institutions}},
      {kSubscriber, {subscribers}},
      {kAdmin, {own, institutions, subscribers}},
  };
  for (const auto& [caller, expected] : visible) {
    SCOPED_TRACE(kCallerNames[caller]);
    const auto page = As<notification::v1::ListSubscriptionsResponse>(
        *ExpectOk(caller, "ListSubscriptions", R"({"pageSize":1000})"));
    for (const std::string& name : {own, institutions, subscribers}) {
      EXPECT_EQ(absl::c_linear_search(NamesOf(page.subscriptions()), name),
                expected.count(name) > 0)
          << name;
    }
    for (const auto& subscription : page.subscriptions()) {
      if (caller == kAdmin) break;
      EXPECT_TRUE(subscription.owner() == kPrincipalIds[caller] ||
                  (caller == kRightEditor && subscription.owner() == kA))
          << subscription.name() << " of " << subscription.owner();
    }
  }
}

TEST_F(SecurityTest, FunctionLevel_ListAuditRecordsIsForAdminsOnly) {
  for (Binary binary : {Binary::kInstitution, Binary::kAgreement}) {
    for (Caller caller : {kViewer, kOtherEditor, kRightEditor}) {
      EXPECT_EQ(
          CallAs(caller, "ListAuditRecords", "{}", binary).status().code(),
          kDenied)
          << kCallerNames[caller];
    }
    const Response admin = CallAs(kAdmin, "ListAuditRecords", "{}", binary);
    ASSERT_TRUE(admin.ok()) << Describe(admin.status());
    EXPECT_GT(
        As<auth::v1::ListAuditRecordsResponse>(**admin).audit_records_size(),
        0);
  }
}

// The audit trail: every accepted change with who, what, which request and
// the etags; a refused call leaves no trace.
TEST_F(SecurityTest, AuditTrail_RecordsEveryAcceptedChangeAndNothingElse) {
  const std::string id = NextId();
  const std::string name = "agreements/" + id;
  struct Step {
    std::string method;
    std::string request_id;
    std::string json;
  };
  const std::vector<Step> steps = {
      {"CreateAgreement", "audit-1-" + id,
       absl::Substitute(
           R"({"agreementId":"$0","requestId":"audit-1-$0","agreement":$1})",
           id, AgreementJson("Audited", {kA, kB}, false))},
      {"UpdateAgreement", "audit-2-" + id,
       absl::Substitute(R"({"agreement":{"name":"$0","keywords":["a"]},)"
                        R"("updateMask":"keywords","requestId":"audit-2-$1"})",
                        name, id)},
      {"RecordAgreementAction", "audit-3-" + id,
       absl::Substitute(R"({"agreement":"$0","requestId":"audit-3-$1",)"
                        R"("action":{"kind":"KIND_SIGNATURE","party":"$2",)"
                        R"("actionDate":"2025-04-25"}})",
                        name, id, kA)},
      {"DeleteAgreement", "audit-4-" + id,
       absl::Substitute(R"({"name":"$0","requestId":"audit-4-$1"})", name, id)},
  };
  std::vector<std::string> etags = {""};
  for (const Step& step : steps) {
    const auto response = ExpectOk(kRightEditor, step.method, step.json);
    etags.push_back(StringField(*response, "etag"));
  }
  const int64_t audit_after_changes = AuditCount();

  // Refused and failed calls add nothing.
  ExpectRefused(kOtherEditor, "UndeleteAgreement", NameJson(name), kDenied,
                name);
  ExpectRefused(kViewer, "UndeleteAgreement", NameJson(name), kDenied, name);
  ExpectRefused(kUnknownKey, "UndeleteAgreement", NameJson(name),
                StatusCode::kUnauthenticated, name);
  ExpectRefused(kRightEditor, "UndeleteAgreement",
                absl::Substitute(R"({"name":"$0","etag":"stale"})", name),
                StatusCode::kAborted, name);
  ExpectRefused(kRightEditor, "UpdateAgreement",
                absl::Substitute(R"({"agreement":{"name":"$0","keywords":)"
                                 R"(["b"]},"updateMask":"keywords"})",
                                 name),
                StatusCode::kFailedPrecondition, name);
  // A replayed request is answered from the first result, not re-applied.
  ExpectOk(kRightEditor, steps[1].method, steps[1].json);
  EXPECT_EQ(AuditCount(), audit_after_changes);

  const auth::v1::ListAuditRecordsResponse trail = AuditRecords(
      absl::Substitute(R"({"resource":"$0","pageSize":100})", name));
  ASSERT_EQ(trail.audit_records_size(), 4);
  for (int i = 0; i < 4; ++i) {
    // Newest first.
    const auth::v1::AuditRecord& record = trail.audit_records(3 - i);
    SCOPED_TRACE(steps[i].method);
    EXPECT_EQ(record.principal(), "editor-a");
    EXPECT_EQ(record.method(),
              absl::StrCat("/", kAgreementService, "/", steps[i].method));
    EXPECT_EQ(record.resource(), name);
    EXPECT_EQ(record.request_id(), steps[i].request_id);
    EXPECT_EQ(record.old_etag(), etags[i]);
    EXPECT_EQ(record.new_etag(), etags[i + 1]);
    EXPECT_FALSE(record.position().empty());
    EXPECT_TRUE(record.has_time());
  }
  // The principal filter finds them too, and both binaries serve the trail.
  for (Binary binary : {Binary::kInstitution, Binary::kAgreement}) {
    const Response by_principal =
        CallAs(kAdmin, "ListAuditRecords",
               R"({"principal":"editor-a","pageSize":1000})", binary);
    ASSERT_TRUE(by_principal.ok()) << Describe(by_principal.status());
    const auto page = As<auth::v1::ListAuditRecordsResponse>(**by_principal);
    int found = 0;
    for (const auto& record : page.audit_records()) {
      EXPECT_EQ(record.principal(), "editor-a");
      if (record.resource() == name) ++found;
    }
    EXPECT_EQ(found, 4);
  }
}

// Keys are added and revoked by rewriting the credentials file; the
// services re-check it at most once a second.
TEST_F(SecurityTest, CredentialsReload_AddedKeyWorksRevokedKeyStops) {
  Credentials& credentials = *suite->credentials;
  const NewToken unknown = MakeToken("late-1");
  auto code_on = [](const std::string& token, Binary binary) {
    return suite->api
        ->Call(token,
               binary == Binary::kInstitution ? "ListInstitutions"
                                              : "ListAgreements",
               "{}")
        .status()
        .code();
  };
  for (Binary binary : {Binary::kInstitution, Binary::kAgreement}) {
    EXPECT_EQ(code_on(unknown.token, binary), StatusCode::kUnauthenticated);
  }

  credentials.AddPrincipal("late-joiner", {auth::v1::ROLE_VIEWER});
  const std::string token = credentials.AddKey("late-joiner", "late-1");
  credentials.Write();
  const absl::Time added = absl::Now();
  for (Binary binary : {Binary::kInstitution, Binary::kAgreement}) {
    EXPECT_TRUE(PollUntil([&] { return code_on(token, binary) == kOk; },
                          absl::Seconds(5)))
        << "the added key was not accepted";
  }
  std::cout << "added key accepted after " << absl::Now() - added << "\n";
  // The other keys keep working throughout.
  EXPECT_EQ(code_on(suite->tokens[kViewer], Binary::kAgreement), kOk);

  // A broken file is not applied: the last good set stays.
  credentials.WriteRaw("{\"principals\": [ not json");
  absl::SleepFor(absl::Milliseconds(1500));
  for (Binary binary : {Binary::kInstitution, Binary::kAgreement}) {
    EXPECT_EQ(code_on(token, binary), kOk);
    EXPECT_EQ(code_on(suite->tokens[kAdmin], binary), kOk);
  }

  credentials.SetRevoked("late-1", true);
  credentials.Write();
  const absl::Time revoked = absl::Now();
  for (Binary binary : {Binary::kInstitution, Binary::kAgreement}) {
    EXPECT_TRUE(PollUntil(
        [&] { return code_on(token, binary) == StatusCode::kUnauthenticated; },
        absl::Seconds(5)))
        << "the revoked key still works";
  }
  std::cout << "revoked key refused after " << absl::Now() - revoked << "\n";
  absl::SleepFor(absl::Milliseconds(1200));
  for (Binary binary : {Binary::kInstitution, Binary::kAgreement}) {
    EXPECT_EQ(code_on(token, binary), StatusCode::kUnauthenticated);
    EXPECT_EQ(code_on(suite->tokens[kAdmin], binary), kOk);
  }
}

// ---------------------------------------------------------------------------
// API4 Unrestricted Resource Consumption.

class ResourceConsumptionTest : public ::testing::Test {
 protected:
  struct State {
    TempDir dir;  // first: removed after everything in it stopped
    std::unique_ptr<RedisServer> redis;
    std::string bulk_token, busy_token, other_token, large_token;
    // --rate_limit=5 --rate_limit_burst=5 --max_message_bytes=16384
    std::unique_ptr<ServiceProcess> limited;
    // The same store without a tight limit, for bulk set-up.
    std::unique_ptr<ServiceProcess> bulk;
    std::unique_ptr<EventLog> events;
    std::map<const ServiceProcess*, std::shared_ptr<grpc::Channel>> channels;
    std::string error;
  };

  static void SetUpTestSuite() {
    state_ = new State;
    try {
      state_->dir.path = MakeTempDir("accord-limits");
      state_->redis = std::make_unique<RedisServer>();
      Credentials credentials(state_->dir.path + "/credentials.json");
      for (const char* id : {"bulk", "busy", "other", "large"}) {
        credentials.AddPrincipal(id, {auth::v1::ROLE_ADMIN});
      }
      state_->bulk_token = credentials.AddKey("bulk", "bulk-1");
      state_->busy_token = credentials.AddKey("busy", "busy-1");
      state_->other_token = credentials.AddKey("other", "other-1");
      state_->large_token = credentials.AddKey("large", "large-1");
      credentials.Write();
      state_->limited = StartService(
          "accord-institution", state_->redis->url(),
          std::vector<std::string>{
              credentials.Flag(), "--rate_limit=5", "--rate_limit_burst=5",
              "--max_message_bytes=16384", "--auth_failure_rate_limit=1",
              "--auth_failure_burst=5"});
      state_->bulk = StartService(
          "accord-institution", state_->redis->url(),
          std::vector<std::string>{credentials.Flag(), "--rate_limit=1000000",
                                   "--rate_limit_burst=1000000"});
      WaitServing(*state_->limited);
      WaitServing(*state_->bulk);
      state_->events = std::make_unique<EventLog>(state_->redis->url());
    } catch (const std::exception& error) {
      state_->error = error.what();
    }
  }

  static void TearDownTestSuite() {
    delete state_;
    state_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(state_->error, ""); }

  static Response Call(const ServiceProcess& service, const std::string& token,
                       absl::string_view method, const std::string& json) {
    // One channel (connection) per service, so back-to-back calls are
    // quick; only the institution service runs here.
    std::shared_ptr<grpc::Channel>& channel = state_->channels[&service];
    if (channel == nullptr) channel = service.Channel();
    return Api(channel, channel)
        .Call(token, method, json, Binary::kInstitution);
  }

  static std::string CreateJson(const std::string& id) {
    return absl::Substitute(R"({"institutionId":"$0","institution":$1})", id,
                            InstitutionJson("Unit " + id, "DE"));
  }

  static State* state_;
};
ResourceConsumptionTest::State* ResourceConsumptionTest::state_ = nullptr;

TEST_F(ResourceConsumptionTest, RequestLargerThanMaxMessageBytesIsRefused) {
  const int64_t events_before = state_->events->Count();
  const std::string large =
      absl::Substitute(R"({"institutionId":"large","institution":$0})",
                       InstitutionJson(std::string(20000, 'x'), "DE"));
  const Response refused =
      Call(*state_->limited, state_->large_token, "CreateInstitution", large);
  // From gRPC itself: the handler (which would answer INVALID_ARGUMENT for
  // so long a name) never runs.
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted)
      << Describe(refused.status());
  EXPECT_EQ(state_->events->Count(), events_before);
  EXPECT_EQ(Call(*state_->bulk, state_->bulk_token, "GetInstitution",
                 NameJson("institutions/large"))
                .status()
                .code(),
            StatusCode::kNotFound);
  // A request under the limit is served.
  EXPECT_TRUE(Call(*state_->limited, state_->large_token, "CreateInstitution",
                   CreateJson("small"))
                  .ok());
}

TEST_F(ResourceConsumptionTest, PageSizeIsCappedAt1000) {
  constexpr int kRecords = 1005;
  constexpr int kThreads = 4;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      const Api api(state_->bulk->Channel(), state_->bulk->Channel());
      for (int i = t; i < kRecords; i += kThreads) {
        if (!api.Call(state_->bulk_token, "CreateInstitution",
                      CreateJson(absl::StrCat("bulk-", i)))
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);

  const Response first = Call(*state_->bulk, state_->bulk_token,
                              "ListInstitutions", R"({"pageSize":1000000})");
  ASSERT_TRUE(first.ok()) << Describe(first.status());
  const auto page = As<institution::v1::ListInstitutionsResponse>(**first);
  EXPECT_EQ(page.institutions_size(), 1000);
  EXPECT_FALSE(page.next_page_token().empty());

  const Response audit = Call(*state_->bulk, state_->bulk_token,
                              "ListAuditRecords", R"({"pageSize":1000000})");
  ASSERT_TRUE(audit.ok()) << Describe(audit.status());
  const auto records = As<auth::v1::ListAuditRecordsResponse>(**audit);
  EXPECT_EQ(records.audit_records_size(), 1000);
  EXPECT_FALSE(records.next_page_token().empty());
}

TEST_F(ResourceConsumptionTest, RateLimitAnswersResourceExhaustedWithRetry) {
  const int64_t events_before = state_->events->Count();
  constexpr int kCalls = 12;
  int accepted = 0;
  absl::Status limited;
  std::vector<StatusCode> codes;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCalls; ++i) {
    const Response response =
        Call(*state_->limited, state_->busy_token, "CreateInstitution",
             CreateJson(absl::StrCat("busy-", i)));
    codes.push_back(response.status().code());
    if (response.ok()) ++accepted;
    if (response.status().code() == StatusCode::kResourceExhausted &&
        limited.ok()) {
      limited = response.status();
    }
  }
  const absl::Duration elapsed = absl::Now() - start;
  // The burst of 5 is served, then about 5 a second.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(codes[i], kOk) << "call " << i;
  EXPECT_LE(accepted,
            5 + static_cast<int>(absl::ToDoubleSeconds(elapsed) * 5) + 1);
  ASSERT_EQ(limited.code(), StatusCode::kResourceExhausted)
      << "no call was limited in " << elapsed;
  // With a google.rpc.RetryInfo saying when to come back.
  const auto payload =
      limited.GetPayload("type.googleapis.com/google.rpc.RetryInfo");
  ASSERT_TRUE(payload.has_value()) << Describe(limited);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(retry.ParseFromString(std::string(*payload)));
  const absl::Duration delay = absl::Seconds(retry.retry_delay().seconds()) +
                               absl::Nanoseconds(retry.retry_delay().nanos());
  EXPECT_GT(delay, absl::ZeroDuration());
  EXPECT_LE(delay, absl::Seconds(1));
  // Only accepted calls wrote anything.
  EXPECT_EQ(state_->events->Count(), events_before + accepted);

  // Another principal has its own budget.
  EXPECT_TRUE(
      Call(*state_->limited, state_->other_token, "ListInstitutions", "{}")
          .ok());
  // After the delay the busy principal is served again.
  absl::SleepFor(delay + absl::Milliseconds(50));
  const Response again =
      Call(*state_->limited, state_->busy_token, "ListInstitutions", "{}");
  EXPECT_TRUE(again.ok()) << Describe(again.status());
}

// A flood of bad tokens from one address: after its budget of failed
// authentications it is answered RESOURCE_EXHAUSTED with RetryInfo, while
// valid credentials from the same address are still served.
TEST_F(ResourceConsumptionTest, FailedAuthenticationsPerAddressAreLimited) {
  const int64_t events_before = state_->events->Count();
  const std::string bad = MakeToken("flood-1").token;
  constexpr int kCalls = 12;
  std::vector<StatusCode> codes;
  absl::Status limited;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCalls; ++i) {
    const Response response = Call(*state_->limited, bad, "CreateInstitution",
                                   CreateJson(absl::StrCat("flood-", i)));
    codes.push_back(response.status().code());
    if (response.status().code() == StatusCode::kResourceExhausted &&
        limited.ok()) {
      limited = response.status();
    }
  }
  const absl::Duration elapsed = absl::Now() - start;
  std::vector<std::string> shown;
  for (StatusCode code : codes) shown.push_back(ShortCode(code));
  std::cout << kCalls << " bad-token calls in " << elapsed << ": "
            << absl::StrJoin(shown, " ") << "\n";
  // The burst of 5 is told UNAUTHENTICATED, then about 1 a second.
  int unauthenticated = 0;
  for (int i = 0; i < kCalls; ++i) {
    if (i < 5) {
      EXPECT_EQ(codes[i], StatusCode::kUnauthenticated) << i;
    }
    if (codes[i] == StatusCode::kUnauthenticated) ++unauthenticated;
  }
  EXPECT_LE(unauthenticated,
            5 + static_cast<int>(absl::ToDoubleSeconds(elapsed)) + 1);
  ASSERT_EQ(limited.code(), StatusCode::kResourceExhausted)
      << "no failed authentication was limited in " << elapsed;
  EXPECT_THAT(std::string(limited.message()),
              ::testing::HasSubstr("failed authentications"));
  const auto payload =
      limited.GetPayload("type.googleapis.com/google.rpc.RetryInfo");
  ASSERT_TRUE(payload.has_value()) << Describe(limited);
  google::rpc::RetryInfo retry;
  ASSERT_TRUE(retry.ParseFromString(std::string(*payload)));
  const absl::Duration delay = absl::Seconds(retry.retry_delay().seconds()) +
                               absl::Nanoseconds(retry.retry_delay().nanos());
  EXPECT_GT(delay, absl::ZeroDuration());
  EXPECT_LE(delay, absl::Seconds(1));
  // Calls without credentials spend the same budget.
  EXPECT_EQ(
      Call(*state_->limited, "", "ListInstitutions", "{}").status().code(),
      StatusCode::kResourceExhausted);
  // A valid principal calling from the same address is not locked out.
  const Response valid =
      Call(*state_->limited, state_->large_token, "ListInstitutions", "{}");
  EXPECT_TRUE(valid.ok()) << Describe(valid.status());
  EXPECT_EQ(state_->events->Count(), events_before);
  // After the delay a bad token is told what is wrong with it again.
  absl::SleepFor(delay + absl::Milliseconds(50));
  EXPECT_EQ(
      Call(*state_->limited, bad, "ListInstitutions", "{}").status().code(),
      StatusCode::kUnauthenticated);
}

// ---------------------------------------------------------------------------
// Per-principal caps of the notification service.

// A WatchEvents stream on gRPC's callback API, so a thousand of them need
// no thread each.
class StreamProbe
    : public grpc::ClientReadReactor<notification::v1::WatchEventsResponse> {
 public:
  StreamProbe(notification::v1::NotificationService::Stub& stub,
              const std::string& token) {
    request_.mutable_inline_selector()->add_event_types(
        "accord.institution.v1.*");
    request_.mutable_heartbeat_interval()->set_nanos(500000000);
    context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    stub.async()->WatchEvents(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    {
      absl::MutexLock lock(&mutex_);
      if (response_.has_event()) {
        subjects_.insert(response_.event().subject());
      } else {
        ++heartbeats_;
      }
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mutex_);
    status_ = status;
  }

  void Cancel() { context_.TryCancel(); }
  std::optional<grpc::Status> status() {
    absl::MutexLock lock(&mutex_);
    return status_;
  }
  bool done() { return status().has_value(); }
  bool Received(const std::string& subject) {
    absl::MutexLock lock(&mutex_);
    return subjects_.count(subject) > 0;
  }
  int heartbeats() {
    absl::MutexLock lock(&mutex_);
    return heartbeats_;
  }

 private:
  grpc::ClientContext context_;
  notification::v1::WatchEventsRequest request_;
  notification::v1::WatchEventsResponse response_;
  absl::Mutex mutex_;
  std::set<std::string> subjects_ ABSL_GUARDED_BY(mutex_);
  int heartbeats_ ABSL_GUARDED_BY(mutex_) = 0;
  std::optional<grpc::Status> status_ ABSL_GUARDED_BY(mutex_);
};

class NotificationLimitsTest : public ::testing::Test {
 protected:
  static constexpr int kStreamCap = 100;
  static constexpr int kSubscriptionCap = 3;

  struct State {
    TempDir dir;  // first: removed after everything in it stopped
    std::unique_ptr<RedisServer> redis;
    std::string admin_token, watcher_token, other_token, legacy_token;
    std::unique_ptr<ServiceProcess> institution;
    std::unique_ptr<ServiceProcess> notification;
    std::shared_ptr<grpc::Channel> notification_channel;
    std::unique_ptr<Api> api;
    std::unique_ptr<EventLog> events;
    std::string error;
  };

  static void SetUpTestSuite() {
    state_ = new State;
    try {
      state_->dir.path = MakeTempDir("accord-notification-limits");
      state_->redis = std::make_unique<RedisServer>();
      Credentials credentials(state_->dir.path + "/credentials.json");
      credentials.AddPrincipal("admin", {auth::v1::ROLE_ADMIN});
      credentials.AddPrincipal("watcher", {auth::v1::ROLE_SUBSCRIBER});
      credentials.AddPrincipal("other", {auth::v1::ROLE_SUBSCRIBER});
      credentials.AddPrincipal("legacy", {auth::v1::ROLE_SUBSCRIBER});
      state_->admin_token = credentials.AddKey("admin", "admin-1");
      state_->legacy_token = credentials.AddKey("legacy", "legacy-1");
      state_->watcher_token = credentials.AddKey("watcher", "watcher-1");
      state_->other_token = credentials.AddKey("other", "other-1");
      credentials.Write();
      const std::vector<std::string> flags = {credentials.Flag(),
                                              "--rate_limit=1000000",
                                              "--rate_limit_burst=1000000"};
      state_->institution =
          StartService("accord-institution", state_->redis->url(), flags);
      std::vector<std::string> notification_flags = flags;
      notification_flags.push_back(
          absl::StrCat("--max_watch_streams_per_principal=", kStreamCap));
      notification_flags.push_back(
          absl::StrCat("--max_subscriptions_per_principal=", kSubscriptionCap));
      state_->notification = StartService(
          "accord-notification", state_->redis->url(), notification_flags);
      WaitServing(*state_->institution);
      WaitServing(*state_->notification);
      state_->notification_channel = state_->notification->Channel();
      state_->api = std::make_unique<Api>(state_->institution->Channel(),
                                          state_->institution->Channel(),
                                          state_->notification_channel);
      state_->events = std::make_unique<EventLog>(state_->redis->url());
    } catch (const std::exception& error) {
      state_->error = error.what();
    }
  }

  static void TearDownTestSuite() {
    delete state_;
    state_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(state_->error, ""); }

  static Response Call(const std::string& token, absl::string_view method,
                       const std::string& json) {
    return state_->api->Call(token, method, json, Binary::kInstitution);
  }

  static void RecordInstitution(const std::string& id) {
    const Response created =
        Call(state_->admin_token, "CreateInstitution",
             absl::Substitute(R"({"institutionId":"$0","institution":$1})", id,
                              InstitutionJson("Unit " + id, "DE")));
    if (!created.ok()) throw std::runtime_error(Describe(created.status()));
  }

  // Ends every stream and waits until each is done (a reactor must outlive
  // its OnDone).
  static void CloseAll(std::vector<std::unique_ptr<StreamProbe>>& streams) {
    for (auto& stream : streams) stream->Cancel();
    EXPECT_TRUE(PollUntil(
        [&] {
          return absl::c_all_of(streams,
                                [](const auto& s) { return s->done(); });
        },
        absl::Seconds(30)));
    // OnDone may still be returning on a gRPC thread.
    absl::SleepFor(absl::Milliseconds(100));
    streams.clear();
  }

  static State* state_;
};
NotificationLimitsTest::State* NotificationLimitsTest::state_ = nullptr;

TEST_F(NotificationLimitsTest, ThousandWatchStreamsFromOnePrincipal) {
  constexpr int kStreams = 1000;
  auto stub = notification::v1::NotificationService::NewStub(
      state_->notification_channel);
  std::vector<std::unique_ptr<StreamProbe>> streams;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(
        std::make_unique<StreamProbe>(*stub, state_->watcher_token));
  }
  // Those over the cap end at once; the others stay open and get
  // heartbeats (so they are registered for live events).
  auto count = [&](const std::function<bool(StreamProbe&)>& predicate) {
    return static_cast<int>(absl::c_count_if(
        streams, [&](const auto& stream) { return predicate(*stream); }));
  };
  EXPECT_TRUE(PollUntil(
      [&] {
        return count([](StreamProbe& s) {
                 return s.done() || s.heartbeats() > 0;
               }) == kStreams;
      },
      absl::Seconds(60)));
  const int refused = count([](StreamProbe& s) {
    const auto status = s.status();
    return status.has_value() &&
           status->error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
           absl::StrContains(status->error_message(),
                             "--max_watch_streams_per_principal");
  });
  const int open = count([](StreamProbe& s) { return !s.done(); });
  std::cout << kStreams << " watch streams from one principal in "
            << absl::Now() - start << ": " << open << " accepted, " << refused
            << " refused RESOURCE_EXHAUSTED\n";
  EXPECT_EQ(open, kStreamCap);
  EXPECT_EQ(refused, kStreams - kStreamCap);

  // Another principal is unaffected.
  std::vector<std::unique_ptr<StreamProbe>> others;
  others.push_back(std::make_unique<StreamProbe>(*stub, state_->other_token));
  EXPECT_TRUE(PollUntil([&] { return others[0]->heartbeats() > 0; },
                        absl::Seconds(10)));

  // The accepted streams work: an event reaches every one of them.
  RecordInstitution("for-watchers");
  EXPECT_TRUE(PollUntil(
      [&] {
        return count([](StreamProbe& s) {
                 return s.Received("institutions/for-watchers");
               }) == kStreamCap;
      },
      absl::Seconds(30)))
      << count([](StreamProbe& s) {
           return s.Received("institutions/for-watchers");
         })
      << " of " << kStreamCap << " received the event";
  EXPECT_TRUE(PollUntil(
      [&] { return others[0]->Received("institutions/for-watchers"); },
      absl::Seconds(10)));

  // Closing streams frees their slots: as many new ones are accepted, and
  // one more is refused.
  constexpr int kClosed = 10;
  std::vector<std::unique_ptr<StreamProbe>> closing;
  for (auto it = streams.begin();
       it != streams.end() && static_cast<int>(closing.size()) < kClosed;) {
    if (!(*it)->done()) {
      closing.push_back(std::move(*it));
      it = streams.erase(it);
    } else {
      ++it;
    }
  }
  CloseAll(closing);
  std::vector<std::unique_ptr<StreamProbe>> reopened;
  std::vector<std::unique_ptr<StreamProbe>> refused_again;
  for (int i = 0; i < kClosed; ++i) {
    // The server frees a slot once it has finished the stream, a moment
    // after the client saw it end.
    const bool accepted = PollUntil(
        [&] {
          auto stream =
              std::make_unique<StreamProbe>(*stub, state_->watcher_token);
          PollUntil([&] { return stream->done() || stream->heartbeats() > 0; },
                    absl::Seconds(10));
          const bool done = stream->done();
          (done ? refused_again : reopened).push_back(std::move(stream));
          return !done;
        },
        absl::Seconds(10));
    EXPECT_TRUE(accepted) << "stream " << i << " was not accepted again";
  }
  auto one_more = std::make_unique<StreamProbe>(*stub, state_->watcher_token);
  EXPECT_TRUE(PollUntil([&] { return one_more->done(); }, absl::Seconds(10)));
  EXPECT_EQ(one_more->status().value_or(grpc::Status::OK).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  RecordInstitution("for-reopened");
  EXPECT_TRUE(PollUntil(
      [&] {
        return absl::c_all_of(reopened, [](const auto& s) {
          return s->Received("institutions/for-reopened");
        });
      },
      absl::Seconds(30)));

  CloseAll(streams);
  CloseAll(others);
  CloseAll(reopened);
  CloseAll(refused_again);
  std::vector<std::unique_ptr<StreamProbe>> last;
  last.push_back(std::move(one_more));
  CloseAll(last);
}

TEST_F(NotificationLimitsTest, SubscriptionsPerOwnerAreCapped) {
  auto create = [](const std::string& token, const std::string& id) {
    return Call(token, "CreateSubscription",
                absl::Substitute(R"({"subscriptionId":"$0","subscription":$1})",
                                 id, SubscriptionJson("")));
  };
  for (int i = 0; i < kSubscriptionCap; ++i) {
    const Response created =
        create(state_->watcher_token, absl::StrCat("watcher-", i));
    ASSERT_TRUE(created.ok()) << Describe(created.status());
  }
  // One more is refused, naming the limit and the field, and writes nothing.
  const int64_t events_before = state_->events->Count();
  const Response refused = create(state_->watcher_token, "watcher-extra");
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted)
      << Describe(refused.status());
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("--max_subscriptions_per_principal"));
  EXPECT_EQ(ReasonOf(refused.status()), "TOO_MANY_SUBSCRIPTIONS");
  EXPECT_EQ(Call(state_->admin_token, "GetSubscription",
                 NameJson("subscriptions/watcher-extra"))
                .status()
                .code(),
            StatusCode::kNotFound);
  EXPECT_EQ(state_->events->Count(), events_before);
  // Another principal has its own allowance.
  const Response others = create(state_->other_token, "other-0");
  EXPECT_TRUE(others.ok()) << Describe(others.status());
  // A deleted subscription frees its place; undeleting it takes one again.
  ASSERT_TRUE(Call(state_->watcher_token, "DeleteSubscription",
                   NameJson("subscriptions/watcher-0"))
                  .ok());
  const Response replacement = create(state_->watcher_token, "watcher-3");
  EXPECT_TRUE(replacement.ok()) << Describe(replacement.status());
  EXPECT_EQ(Call(state_->watcher_token, "UndeleteSubscription",
                 NameJson("subscriptions/watcher-0"))
                .status()
                .code(),
            StatusCode::kResourceExhausted);
  // Handing a subscription to a principal at its cap is refused too.
  const Response handed =
      Call(state_->admin_token, "UpdateSubscription",
           R"({"subscription":{"name":"subscriptions/other-0",)"
           R"("owner":"watcher"},"updateMask":"owner"})");
  EXPECT_EQ(handed.status().code(), StatusCode::kResourceExhausted)
      << Describe(handed.status());
  const auto still = Call(state_->admin_token, "GetSubscription",
                          NameJson("subscriptions/other-0"));
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(As<notification::v1::Subscription>(**still).owner(), "other");
}

// Subscriptions stored before the per-owner count existed are counted once
// the service starts.
TEST_F(NotificationLimitsTest, SubscriptionsFromBeforeTheCountAreCounted) {
  for (int i = 0; i < kSubscriptionCap; ++i) {
    const Response created =
        Call(state_->legacy_token, "CreateSubscription",
             absl::Substitute(R"({"subscriptionId":"legacy-$0",)"
                              R"("subscription":$1})",
                              i, SubscriptionJson("")));
    ASSERT_TRUE(created.ok()) << Describe(created.status());
  }
  // As an older version left Redis: no count, no marker.
  RedisClient& redis = state_->events->redis();
  ASSERT_TRUE(redis
                  .Command({"DEL", "accord:subscriptions:owner:legacy",
                            "accord:subscriptions:owners-indexed"})
                  .ok());
  ASSERT_EQ(state_->notification->Stop(), 0);
  state_->notification->Start(/*wait_until_serving=*/false);
  WaitServing(*state_->notification);
  state_->notification_channel = state_->notification->Channel();
  state_->api = std::make_unique<Api>(state_->institution->Channel(),
                                      state_->institution->Channel(),
                                      state_->notification_channel);
  const Response refused =
      Call(state_->legacy_token, "CreateSubscription",
           absl::Substitute(R"({"subscriptionId":"legacy-extra",)"
                            R"("subscription":$0})",
                            SubscriptionJson("")));
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted)
      << Describe(refused.status());
}

// ---------------------------------------------------------------------------
// A Kubernetes Secret update: the kubelet writes the new files to a fresh
// directory and swaps the `..data` symlink; the file may keep its old
// modification time. The service must notice by content.

TEST(CredentialsSymlinkTest, SecretUpdateBySymlinkSwapIsPickedUp) {
  namespace fs = std::filesystem;
  TempDir dir;
  dir.path = MakeTempDir("accord-secret-volume");
  RedisServer redis;
  const fs::path root(dir.path);
  fs::create_directory(root / "..v1");
  Credentials first((root / "..v1" / "credentials.json").string());
  first.AddPrincipal("admin", {auth::v1::ROLE_ADMIN});
  const std::string old_token = first.AddKey("admin", "admin-1");
  first.Write();
  fs::create_directory_symlink("..v1", root / "..data");
  fs::create_symlink("..data/credentials.json", root / "credentials.json");

  const std::unique_ptr<ServiceProcess> institution = StartService(
      "accord-institution", redis.url(),
      {"--credentials_file=" + (root / "credentials.json").string()});
  WaitServing(*institution);
  const Api api(institution->Channel(), institution->Channel());
  auto code_of = [&](const std::string& token) {
    return api.Call(token, "ListInstitutions", "{}", Binary::kInstitution)
        .status()
        .code();
  };
  ASSERT_EQ(code_of(old_token), kOk);

  // The update: the old key revoked, a new one added, the file's time kept.
  fs::create_directory(root / "..v2");
  Credentials second((root / "..v2" / "credentials.json").string());
  second.AddPrincipal("admin", {auth::v1::ROLE_ADMIN});
  second.AddKey("admin", "admin-1", /*revoked=*/true);
  const std::string new_token = second.AddKey("admin", "admin-2");
  second.Write();
  fs::last_write_time(root / "..v2" / "credentials.json",
                      fs::last_write_time(root / "..v1" / "credentials.json"));
  fs::create_directory_symlink("..v2", root / "..data_tmp");
  fs::rename(root / "..data_tmp", root / "..data");

  const absl::Time swapped = absl::Now();
  EXPECT_TRUE(PollUntil(
      [&] {
        return code_of(old_token) == StatusCode::kUnauthenticated &&
               code_of(new_token) == kOk;
      },
      absl::Seconds(5)))
      << "the swapped Secret was not picked up";
  std::cout << "swapped Secret applied after " << absl::Now() - swapped << "\n";
}

// ---------------------------------------------------------------------------
// Mutual TLS with certificates made by the openssl CLI.

class MutualTlsTest : public ::testing::Test {
 protected:
  struct State {
    TempDir dir;  // first: removed after everything in it stopped
    std::unique_ptr<RedisServer> redis;
    std::string admin_token;
    int port = 0;
    ChildProcess process;
    std::unique_ptr<EventLog> events;
    std::string error;
  };

  static void SetUpTestSuite() {
    state_ = new State;
    try {
      Start();
    } catch (const std::exception& error) {
      state_->error = error.what();
    }
  }

  static void TearDownTestSuite() {
    state_->process.Terminate(absl::Seconds(5));
    delete state_;
    state_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(state_->error, ""); }

  static void OpenSsl(const std::string& arguments) {
    const std::string log = state_->dir.path + "/openssl.log";
    const std::string command =
        absl::StrCat("cd '", state_->dir.path, "' && openssl ", arguments,
                     " >>'", log, "' 2>&1");
    if (std::system(command.c_str()) != 0) {
      throw std::runtime_error(
          absl::StrCat("openssl ", arguments, " failed:\n", ReadFile(log)));
    }
  }

  static void GenerateCertificates() {
    WriteFile(state_->dir.path + "/openssl.cnf",
              "[req]\ndistinguished_name = dn\n[dn]\n"
              "[ca]\nbasicConstraints = critical,CA:TRUE\n"
              "keyUsage = critical,keyCertSign,cRLSign\n"
              "subjectKeyIdentifier = hash\n");
    WriteFile(state_->dir.path + "/server.ext",
              "subjectAltName = DNS:localhost,IP:127.0.0.1\n"
              "extendedKeyUsage = serverAuth\n");
    WriteFile(state_->dir.path + "/client.ext",
              "extendedKeyUsage = clientAuth\n");
    const std::string new_key =
        "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    // The CA the server trusts for clients (and its own certificate), and
    // another one.
    for (const char* ca : {"ca", "other-ca"}) {
      OpenSsl(absl::StrCat("req -x509 -config openssl.cnf -extensions ca ",
                           new_key, " -keyout ", ca, ".key -out ", ca,
                           ".pem -days 2 -subj /CN=accord-test-", ca));
    }
    int serial = 1;
    auto issue = [&](const std::string& name, const std::string& common_name,
                     const std::string& ca, const std::string& extensions) {
      OpenSsl(absl::StrCat("req -new -config openssl.cnf ", new_key,
                           " -keyout ", name, ".key -out ", name,
                           ".csr -subj /CN=", common_name));
      OpenSsl(absl::StrCat("x509 -req -in ", name, ".csr -CA ", ca,
                           ".pem -CAkey ", ca, ".key -set_serial ", ++serial,
                           " -days 2 -out ", name, ".pem -extfile ",
                           extensions));
    };
    issue("server", "localhost", "ca", "server.ext");
    issue("client", "tums-backend", "ca", "client.ext");
    issue("stranger", "unknown-backend", "ca", "client.ext");
    // The right common name, signed by the wrong CA.
    issue("forged", "tums-backend", "other-ca", "client.ext");
  }

  static void Start() {
    state_->dir.path = MakeTempDir("accord-mtls");
    GenerateCertificates();
    state_->redis = std::make_unique<RedisServer>();
    Credentials credentials(state_->dir.path + "/credentials.json");
    credentials.AddPrincipal("tums", {auth::v1::ROLE_VIEWER}, {},
                             {"tums-backend"});
    credentials.AddPrincipal("admin", {auth::v1::ROLE_ADMIN});
    state_->admin_token = credentials.AddKey("admin", "admin-1");
    credentials.Write();
    state_->port = FreePort();
    const std::string& dir = state_->dir.path;
    state_->process.Start(
        {BinaryPath("accord-institution"),
         absl::StrCat("--listen=127.0.0.1:", state_->port),
         "--redis=" + state_->redis->url(), credentials.Flag(),
         "--tls_cert=" + dir + "/server.pem",
         "--tls_key=" + dir + "/server.key",
         "--tls_client_ca=" + dir + "/ca.pem", "--shutdown_grace=1s"},
        dir + "/service.log");
    // The harness's ServiceProcess waits over plaintext; this one needs
    // a client certificate even for health.
    const absl::Status ready =
        WaitForHealth(Channel("client"), true, absl::Seconds(15));
    if (!ready.ok()) {
      throw std::runtime_error(
          absl::StrCat("the TLS service is not serving: ", ready.ToString(),
                       "\n", state_->process.ReadLog()));
    }
    state_->events = std::make_unique<EventLog>(state_->redis->url());
  }

  // A TLS channel trusting the test CA, presenting `client`.pem (none if
  // empty).
  static std::shared_ptr<grpc::Channel> Channel(const std::string& client) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(state_->dir.path + "/ca.pem");
    if (!client.empty()) {
      options.pem_cert_chain =
          ReadFile(state_->dir.path + "/" + client + ".pem");
      options.pem_private_key =
          ReadFile(state_->dir.path + "/" + client + ".key");
    }
    grpc::ChannelArguments arguments = QuickReconnect();
    arguments.SetSslTargetNameOverride("localhost");
    // A fresh connection per channel, so one test's handshake is not
    // reused by another.
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", state_->port),
                                     grpc::SslCredentials(options), arguments);
  }

  static Response Call(const std::shared_ptr<grpc::Channel>& channel,
                       absl::string_view method, const std::string& json,
                       const std::string& token = "") {
    return Api(channel, channel).Call(token, method, json);
  }

  // How many calls of `method` reached the service (it logs every RPC).
  static int Logged(const std::string& method) {
    const std::string log = state_->process.ReadLog();
    int count = 0;
    for (size_t at = log.find(method); at != std::string::npos;
         at = log.find(method, at + 1)) {
      ++count;
    }
    return count;
  }

  // A client the handshake must refuse: its call fails and never reaches
  // a handler; nothing is written.
  static void ExpectRefusedAtHandshake(
      const std::shared_ptr<grpc::Channel>& channel) {
    const int logged_before = Logged("InstitutionService/CreateInstitution");
    const int64_t events_before = state_->events->Count();
    const Response response =
        Call(channel, "CreateInstitution",
             absl::Substitute(R"({"institutionId":"refused","institution":$0})",
                              InstitutionJson("Refused", "IR")),
             state_->admin_token);
    EXPECT_FALSE(response.ok());
    std::cout << "refused with " << Describe(response.status()) << "\n";
    EXPECT_EQ(response.status().code(), StatusCode::kUnavailable)
        << Describe(response.status());
    EXPECT_EQ(Logged("InstitutionService/CreateInstitution"), logged_before);
    EXPECT_EQ(state_->events->Count(), events_before);
  }

  static State* state_;
};
MutualTlsTest::State* MutualTlsTest::state_ = nullptr;

TEST_F(MutualTlsTest, ClientCertificateOfAMappedSubjectIsServed) {
  const auto channel = Channel("client");
  // tums-backend is a viewer: reads pass, writes reach the handler and are
  // refused by role.
  const Response read = Call(channel, "ListInstitutions", "{}");
  EXPECT_TRUE(read.ok()) << Describe(read.status());
  const int logged_before = Logged("InstitutionService/CreateInstitution");
  const Response write =
      Call(channel, "CreateInstitution",
           absl::Substitute(R"({"institutionId":"by-cert","institution":$0})",
                            InstitutionJson("By certificate", "IR")));
  EXPECT_EQ(write.status().code(), kDenied) << Describe(write.status());
  EXPECT_EQ(Logged("InstitutionService/CreateInstitution"), logged_before + 1);
  // A bearer token over the same connection speaks for its own principal.
  const Response as_admin =
      Call(channel, "CreateInstitution",
           absl::Substitute(R"({"institutionId":"by-token","institution":$0})",
                            InstitutionJson("By token", "IR")),
           state_->admin_token);
  EXPECT_TRUE(as_admin.ok()) << Describe(as_admin.status());
}

TEST_F(MutualTlsTest, ClientWithoutCertificateIsRefused) {
  ExpectRefusedAtHandshake(Channel(""));
  // Nor does plaintext get through.
  const auto plaintext =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", state_->port),
                          grpc::InsecureChannelCredentials());
  ExpectRefusedAtHandshake(plaintext);
}

TEST_F(MutualTlsTest, ClientCertificateFromAnotherCaIsRefused) {
  ExpectRefusedAtHandshake(Channel("forged"));
}

TEST_F(MutualTlsTest, CertificateOfAnUnmappedSubjectIsUnauthenticated) {
  const Response response = Call(Channel("stranger"), "ListInstitutions", "{}");
  EXPECT_EQ(response.status().code(), StatusCode::kUnauthenticated)
      << Describe(response.status());
}

// ---------------------------------------------------------------------------
// The agreement service checks references with the institution service
// using its own token (--institution_token_file).

class ServiceTokenTest : public ::testing::Test {
 protected:
  struct State {
    TempDir dir;  // first: removed after everything in it stopped
    std::unique_ptr<RedisServer> redis;
    std::unique_ptr<Credentials> credentials;
    std::string admin_token;
    std::map<std::string, std::string> service_tokens;
    std::unique_ptr<ServiceProcess> institution;
    std::unique_ptr<EventLog> events;
    std::string error;
  };

  static void SetUpTestSuite() {
    state_ = new State;
    try {
      state_->dir.path = MakeTempDir("accord-service-token");
      state_->redis = std::make_unique<RedisServer>();
      state_->credentials =
          std::make_unique<Credentials>(state_->dir.path + "/credentials.json");
      Credentials& credentials = *state_->credentials;
      credentials.AddPrincipal("admin", {auth::v1::ROLE_ADMIN});
      credentials.AddPrincipal("agreement-service", {auth::v1::ROLE_VIEWER});
      credentials.AddPrincipal("old-agreement-service",
                               {auth::v1::ROLE_VIEWER});
      credentials.AddPrincipal("watcher", {auth::v1::ROLE_SUBSCRIBER});
      state_->admin_token = credentials.AddKey("admin", "admin-1");
      state_->service_tokens["valid"] =
          credentials.AddKey("agreement-service", "agreement-1");
      state_->service_tokens["revoked"] = credentials.AddKey(
          "old-agreement-service", "agreement-0", /*revoked=*/true);
      state_->service_tokens["subscriber"] =
          credentials.AddKey("watcher", "watcher-1");
      credentials.Write();
      state_->institution =
          StartService("accord-institution", state_->redis->url(),
                       std::vector<std::string>{credentials.Flag()});
      WaitServing(*state_->institution);
      state_->events = std::make_unique<EventLog>(state_->redis->url());
      const Api api(state_->institution->Channel(),
                    state_->institution->Channel());
      for (const auto& [id, country] :
           std::vector<std::pair<std::string, std::string>>{{"a", "IR"},
                                                            {"b", "RU"}}) {
        const Response created = api.Call(
            state_->admin_token, "CreateInstitution",
            absl::Substitute(R"({"institutionId":"$0","institution":$1})", id,
                             InstitutionJson("Party " + id, country)));
        if (!created.ok()) {
          throw std::runtime_error(Describe(created.status()));
        }
      }
    } catch (const std::exception& error) {
      state_->error = error.what();
    }
  }

  static void TearDownTestSuite() {
    delete state_;
    state_ = nullptr;
  }

  void SetUp() override { ASSERT_EQ(state_->error, ""); }

  // Starts accord-agreement with the token of `which` ("" for no token
  // file), creates an agreement between A and B as admin and returns the
  // status; checks that a failure stored nothing.
  static absl::Status CreateWith(const std::string& which) {
    std::vector<std::string> flags = {
        state_->credentials->Flag(),
        absl::StrCat("--institution_target=", state_->institution->address()),
        "--institution_deadline=1s"};
    if (!which.empty()) {
      const std::string path = state_->dir.path + "/" + which + ".token";
      WriteFile(path, state_->service_tokens.at(which) + "\n");
      flags.push_back("--institution_token_file=" + path);
    }
    const std::unique_ptr<ServiceProcess> started =
        StartService("accord-agreement", state_->redis->url(), flags);
    WaitServing(*started);
    const ServiceProcess& agreement = *started;
    const Api api(state_->institution->Channel(), agreement.Channel());
    const std::string id = which.empty() ? "no-token" : which;
    const int64_t events_before = state_->events->Count();
    const Response created =
        api.Call(state_->admin_token, "CreateAgreement",
                 absl::Substitute(R"({"agreementId":"$0","agreement":$1})", id,
                                  AgreementJson("MOU " + id, {kA, kB}, false)));
    const Response read = api.Call(state_->admin_token, "GetAgreement",
                                   NameJson("agreements/" + id));
    if (created.ok()) {
      EXPECT_TRUE(read.ok()) << Describe(read.status());
      EXPECT_EQ(state_->events->Count(), events_before + 1);
    } else {
      std::cout << "with " << (which.empty() ? "no" : which)
                << " token: " << Describe(created.status()) << "\n";
      ::testing::Test::RecordProperty(
          which.empty() ? "no_token_code" : which + "_token_code",
          absl::StatusCodeToString(created.status().code()));
      EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
      EXPECT_EQ(state_->events->Count(), events_before);
    }
    return created.status();
  }

  static State* state_;
};
ServiceTokenTest::State* ServiceTokenTest::state_ = nullptr;

// The caller of the agreement service is not told about that service's
// own credentials being refused: a neutral UNAVAILABLE.
void ExpectNeutralUnavailable(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << Describe(status);
  EXPECT_THAT(std::string(status.message()),
              ::testing::Not(::testing::AnyOf(::testing::HasSubstr("revoked"),
                                              ::testing::HasSubstr("watcher"),
                                              ::testing::HasSubstr("role"))));
}

TEST_F(ServiceTokenTest, ValidViewerTokenLetsAgreementsBeCreated) {
  const absl::Status status = CreateWith("valid");
  EXPECT_TRUE(status.ok()) << Describe(status);
}

TEST_F(ServiceTokenTest, RevokedTokenFailsCreationAndStoresNothing) {
  const absl::Status status = CreateWith("revoked");
  ExpectNeutralUnavailable(status);
}

TEST_F(ServiceTokenTest, MissingTokenFailsCreationAndStoresNothing) {
  const absl::Status status = CreateWith("");
  ExpectNeutralUnavailable(status);
}

TEST_F(ServiceTokenTest, TokenWithoutReadRoleFailsCreationAndStoresNothing) {
  const absl::Status status = CreateWith("subscriber");
  ExpectNeutralUnavailable(status);
}

}  // namespace
}  // namespace accord::security
