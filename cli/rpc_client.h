#ifndef ACCORD_CLI_RPC_CLIENT_H_
#define ACCORD_CLI_RPC_CLIENT_H_

// A client for every Accord method by name, driven by the protobuf
// descriptors compiled into the binary: requests and responses travel in
// the protobuf JSON mapping, so one code path serves accordctl, data-set
// imports and tests.
//
// Example:
//   RpcClient client({{"accord.institution.v1.InstitutionService",
//                      institution_channel}});
//   ACCORD_ASSIGN_OR_RETURN(std::string json,
//       client.CallJson("GetInstitution", R"({"name": "institutions/tums"})"));

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace accord::cli {

class RpcClient {
 public:
  // Channels by full service name, e.g. "accord.agreement.v1.AgreementService".
  // `token`, when set, is sent as `authorization: Bearer <token>`.
  explicit RpcClient(
      std::map<std::string, std::shared_ptr<grpc::Channel>> channels,
      absl::Duration deadline = absl::Seconds(10), std::string token = "");

  // Finds a method by its name ("CreateInstitution"), its lowerCamel name
  // ("createInstitution") or "Service/Method".
  absl::StatusOr<const google::protobuf::MethodDescriptor*> FindMethod(
      absl::string_view name) const;

  // A fresh request message for `method`.
  std::unique_ptr<google::protobuf::Message> NewRequest(
      const google::protobuf::MethodDescriptor& method) const;

  // Calls a unary method. Error statuses keep their details.
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> Call(
      const google::protobuf::MethodDescriptor& method,
      const google::protobuf::Message& request) const;

  // Calls a unary method with a JSON request; returns the JSON response.
  absl::StatusOr<std::string> CallJson(absl::string_view method,
                                       absl::string_view request_json) const;

 private:
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  absl::Duration deadline_;
  std::string token_;
};

// Formats a status for people, on one line: code, message and each field
// violation the message does not already name.
std::string DescribeStatus(const absl::Status& status);

}  // namespace accord::cli

#endif  // ACCORD_CLI_RPC_CLIENT_H_
