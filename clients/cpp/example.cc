// Accord client example in C++: watches for new agreements, creates two
// institutions and an MOU between them, reads the MOU back, provokes one
// error (the same MOU again) and prints its google.rpc details, and prints
// the MOU's `accord.agreement.v1.recorded` event when the watch stream
// delivers it.
//
// Targets come from ACCORD_INSTITUTION_TARGET, ACCORD_AGREEMENT_TARGET and
// ACCORD_NOTIFICATION_TARGET (defaults 127.0.0.1:50051/50052/50053); the
// bearer token from ACCORD_TOKEN.
// Exits 0 once the event arrived, 1 on an error or after 15 seconds.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace {

using accord::agreement::v1::Agreement;
using accord::agreement::v1::AgreementService;
using accord::agreement::v1::CreateAgreementRequest;
using accord::agreement::v1::GetAgreementRequest;
using accord::institution::v1::CreateInstitutionRequest;
using accord::institution::v1::Institution;
using accord::institution::v1::InstitutionName;
using accord::institution::v1::InstitutionService;
using accord::notification::v1::NotificationService;
using accord::notification::v1::WatchEventsRequest;
using accord::notification::v1::WatchEventsResponse;

constexpr char kRecorded[] = "accord.agreement.v1.recorded";

std::string Target(const char* variable, const char* fallback) {
  const char* value = std::getenv(variable);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// Canonical names of the codes Accord answers with.
const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    default:
      return "OTHER";
  }
}

// Prints a failed call's code, message and google.rpc details: gRPC C++
// hands the `grpc-status-details-bin` trailer over as error_details(), a
// serialized google.rpc.Status whose details are google.protobuf.Any.
void PrintError(const grpc::Status& status) {
  std::cout << "error " << CodeName(status.error_code()) << ": "
            << status.error_message() << "\n";
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return;
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad_request;
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&info)) {
      std::cout << "detail ErrorInfo reason=" << info.reason()
                << " domain=" << info.domain() << "\n";
    } else if (any.UnpackTo(&bad_request)) {
      for (const auto& violation : bad_request.field_violations()) {
        std::cout << "detail BadRequest field=" << violation.field() << ": "
                  << violation.description() << "\n";
      }
    } else if (any.UnpackTo(&retry)) {
      std::cout << "detail RetryInfo retry_delay="
                << retry.retry_delay().seconds() +
                       retry.retry_delay().nanos() / 1e9
                << "s\n";
    } else {
      std::cout << "detail " << any.type_url() << "\n";
    }
  }
}

int Fail(const std::string& what, const grpc::Status& status) {
  std::cerr << "cpp example: " << what << " failed\n";
  PrintError(status);
  return 1;
}

// Every call carries the bearer token (`authorization: Bearer
// <key>.<secret>`) and a deadline.
void Prepare(grpc::ClientContext& context,
             std::chrono::system_clock::time_point deadline) {
  context.AddMetadata("authorization", "Bearer " + Target("ACCORD_TOKEN", ""));
  context.set_deadline(deadline);
}

std::chrono::system_clock::time_point InSeconds(int seconds) {
  return std::chrono::system_clock::now() + std::chrono::seconds(seconds);
}

// Creates an institution `institutions/{id}` and returns its name.
grpc::Status CreateInstitution(InstitutionService::Stub& stub,
                               const std::string& id, const std::string& text,
                               const std::string& country_code,
                               std::string* name) {
  CreateInstitutionRequest request;
  request.set_institution_id(id);
  Institution* institution = request.mutable_institution();
  InstitutionName* display = institution->add_names();
  display->set_text(text);
  display->set_type(InstitutionName::TYPE_DISPLAY);
  display->set_language_code("en");
  institution->set_kind(Institution::KIND_UNIVERSITY);
  institution->set_country_code(country_code);
  grpc::ClientContext context;
  Prepare(context, InSeconds(5));
  Institution created;
  grpc::Status status = stub.CreateInstitution(&context, request, &created);
  if (status.ok()) *name = created.name();
  return status;
}

}  // namespace

int main() {
  const auto deadline =
      std::chrono::system_clock::now() + std::chrono::seconds(15);
  auto credentials = grpc::InsecureChannelCredentials();
  auto institutions = InstitutionService::NewStub(grpc::CreateChannel(
      Target("ACCORD_INSTITUTION_TARGET", "127.0.0.1:50051"), credentials));
  auto agreements = AgreementService::NewStub(grpc::CreateChannel(
      Target("ACCORD_AGREEMENT_TARGET", "127.0.0.1:50052"), credentials));
  auto notifications = NotificationService::NewStub(grpc::CreateChannel(
      Target("ACCORD_NOTIFICATION_TARGET", "127.0.0.1:50053"), credentials));

  // 1. Watch new agreements from now on, with a heartbeat every 200 ms.
  WatchEventsRequest watch_request;
  watch_request.mutable_inline_selector()->add_event_types(kRecorded);
  watch_request.set_start_position("now");
  watch_request.mutable_heartbeat_interval()->set_nanos(200'000'000);
  grpc::ClientContext watch_context;
  Prepare(watch_context, deadline);
  std::unique_ptr<grpc::ClientReader<WatchEventsResponse>> stream =
      notifications->WatchEvents(&watch_context, watch_request);

  // The first message (`started`) says the watch is registered: every event
  // recorded after its position will be delivered.
  WatchEventsResponse message;
  if (!stream->Read(&message)) return Fail("WatchEvents", stream->Finish());
  std::cout << "watching from position " << message.started().position()
            << "\n";

  // 2. Two institutions in different countries, with ids unique per run.
  std::mt19937 random(std::random_device{}());
  const std::string suffix =
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count()) +
      "-" + std::to_string(random() % 1000000);
  std::string first, second;
  grpc::Status status =
      CreateInstitution(*institutions, "cpp-example-ir-" + suffix,
                        "C++ Example University (Iran)", "IR", &first);
  if (!status.ok()) return Fail("CreateInstitution", status);
  status = CreateInstitution(*institutions, "cpp-example-ru-" + suffix,
                             "C++ Example University (Russia)", "RU", &second);
  if (!status.ok()) return Fail("CreateInstitution", status);
  std::cout << "created " << first << " and " << second << "\n";

  // 3. A memorandum of understanding between them, read back.
  CreateAgreementRequest agreement_request;
  agreement_request.set_agreement_id("cpp-example-mou-" + suffix);
  Agreement* agreement = agreement_request.mutable_agreement();
  auto* title = agreement->add_titles();
  title->set_text("Memorandum of understanding on scientific cooperation");
  title->set_language_code("en");
  agreement->set_kind(Agreement::KIND_MEMORANDUM_OF_UNDERSTANDING);
  agreement->add_parties(first);
  agreement->add_parties(second);
  agreement->set_signing_date("2025-04-25");
  Agreement created;
  {
    grpc::ClientContext context;
    Prepare(context, InSeconds(5));
    status = agreements->CreateAgreement(&context, agreement_request, &created);
    if (!status.ok()) return Fail("CreateAgreement", status);
  }
  std::cout << "created " << created.name() << "\n";
  {
    GetAgreementRequest get_request;
    get_request.set_name(created.name());
    Agreement read;
    grpc::ClientContext context;
    Prepare(context, InSeconds(5));
    status = agreements->GetAgreement(&context, get_request, &read);
    if (!status.ok()) return Fail("GetAgreement", status);
    std::cout << "read " << read.name()
              << " kind=" << Agreement::Kind_Name(read.kind()) << " parties=";
    for (int i = 0; i < read.parties_size(); ++i) {
      std::cout << (i > 0 ? "," : "") << read.parties(i);
    }
    std::cout << "\n";
  }

  // 4. The same MOU again: ALREADY_EXISTS, whose details give the reason
  // (ErrorInfo) and the field at fault (BadRequest).
  {
    grpc::ClientContext context;
    Prepare(context, InSeconds(5));
    Agreement again;
    status = agreements->CreateAgreement(&context, agreement_request, &again);
    if (status.ok()) {
      std::cerr << "cpp example: the second MOU was accepted\n";
      return 1;
    }
    PrintError(status);
  }

  // 5. Read until the MOU's event arrives (heartbeats are skipped).
  while (stream->Read(&message)) {
    if (!message.has_event()) continue;
    const auto& event = message.event();
    if (event.type() == kRecorded && event.subject() == created.name()) {
      std::cout << "event " << event.position() << " " << event.type() << " "
                << event.subject() << "\n";
      watch_context.TryCancel();
      stream->Finish();
      return 0;
    }
  }
  return Fail("waiting for the event", stream->Finish());
}
