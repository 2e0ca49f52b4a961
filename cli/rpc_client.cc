#include "cli/rpc_client.h"

#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/events/v1/event.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "common/errors.h"
#include "google/protobuf/util/json_util.h"

namespace accord::cli {
namespace {

using google::protobuf::MethodDescriptor;

// Naming each service's descriptor keeps its generated code linked in, so
// the descriptor pool knows every method.
const std::vector<const google::protobuf::ServiceDescriptor*>& Services() {
  static const auto* services =
      new std::vector<const google::protobuf::ServiceDescriptor*>{
          institution::v1::CreateInstitutionRequest::descriptor()
              ->file()
              ->FindServiceByName("InstitutionService"),
          agreement::v1::CreateAgreementRequest::descriptor()
              ->file()
              ->FindServiceByName("AgreementService"),
          notification::v1::CreateSubscriptionRequest::descriptor()
              ->file()
              ->FindServiceByName("NotificationService"),
      };
  (void)events::v1::Event::descriptor();
  return *services;
}

std::string LowerCamel(const std::string& name) {
  std::string lower = name;
  if (!lower.empty()) lower[0] = absl::ascii_tolower(lower[0]);
  return lower;
}

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  (void)buffer.Dump(&slices);
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

}  // namespace

RpcClient::RpcClient(
    std::map<std::string, std::shared_ptr<grpc::Channel>> channels,
    absl::Duration deadline, std::string token)
    : channels_(std::move(channels)),
      deadline_(deadline),
      token_(std::move(token)) {
  (void)Services();
}

absl::StatusOr<const MethodDescriptor*> RpcClient::FindMethod(
    absl::string_view name) const {
  std::string wanted(name);
  std::string service_name;
  const size_t slash = wanted.find('/');
  if (slash != std::string::npos) {
    service_name = wanted.substr(0, slash);
    wanted = wanted.substr(slash + 1);
  }
  for (const auto* service : Services()) {
    if (!service_name.empty() && service->full_name() != service_name &&
        service->name() != service_name) {
      continue;
    }
    for (int i = 0; i < service->method_count(); ++i) {
      const MethodDescriptor* method = service->method(i);
      if (method->name() == wanted || LowerCamel(method->name()) == wanted) {
        return method;
      }
    }
  }
  return absl::NotFoundError(absl::StrCat("no method named \"", name, "\""));
}

std::unique_ptr<google::protobuf::Message> RpcClient::NewRequest(
    const MethodDescriptor& method) const {
  return std::unique_ptr<google::protobuf::Message>(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method.input_type())
          ->New());
}

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> RpcClient::Call(
    const MethodDescriptor& method,
    const google::protobuf::Message& request) const {
  const auto channel = channels_.find(method.service()->full_name());
  if (channel == channels_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no address configured for ", method.service()->full_name()));
  }
  if (method.client_streaming() || method.server_streaming()) {
    return absl::UnimplementedError(
        absl::StrCat(method.full_name(), " is a streaming method"));
  }
  grpc::GenericStub stub(channel->second);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
  if (!token_.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  }
  const grpc::ByteBuffer request_bytes =
      ToByteBuffer(request.SerializeAsString());
  grpc::ByteBuffer response_bytes;
  std::promise<grpc::Status> done;
  stub.UnaryCall(
      &context,
      absl::StrCat("/", method.service()->full_name(), "/", method.name()),
      grpc::StubOptions(), &request_bytes, &response_bytes,
      [&done](grpc::Status status) { done.set_value(status); });
  const grpc::Status status = done.get_future().get();
  if (!status.ok()) return FromGrpcStatus(status);
  std::unique_ptr<google::protobuf::Message> response(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(method.output_type())
          ->New());
  if (!response->ParseFromString(FromByteBuffer(response_bytes))) {
    return absl::DataLossError("the response does not decode");
  }
  return response;
}

absl::StatusOr<std::string> RpcClient::CallJson(
    absl::string_view method_name, absl::string_view request_json) const {
  absl::StatusOr<const MethodDescriptor*> method = FindMethod(method_name);
  if (!method.ok()) return method.status();
  std::unique_ptr<google::protobuf::Message> request = NewRequest(**method);
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      std::string(request_json), request.get());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request for ", (*method)->name(), " is not valid JSON for ",
        (*method)->input_type()->full_name(), ": ",
        parsed.message().as_string()));
  }
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> response =
      Call(**method, *request);
  if (!response.ok()) return response.status();
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = false;
  (void)google::protobuf::util::MessageToJsonString(**response, &json, options);
  return json;
}

std::string DescribeStatus(const absl::Status& status) {
  std::string text = absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                                  status.message());
  // The services' messages already name each field at fault ("field:
  // description; ..."); a violation is added only when the message lacks it,
  // so every error reads once, on one line.
  for (const FieldViolation& violation : FieldViolationsOf(status)) {
    if (absl::StrContains(status.message(), violation.description)) continue;
    absl::StrAppend(&text, "; ", violation.field, ": ", violation.description);
  }
  return text;
}

}  // namespace accord::cli
