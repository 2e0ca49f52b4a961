#ifndef ACCORD_SERVICES_AGREEMENT_INSTITUTION_DIRECTORY_H_
#define ACCORD_SERVICES_AGREEMENT_INSTITUTION_DIRECTORY_H_

// The agreement service's view of the institution service: checks that the
// institutions and officials a record names exist and are live, in one
// batch call each, with a deadline and retries on UNAVAILABLE.
//
// Example:
//   References references;
//   references.AddInstitution("institutions/tums", "agreement.parties[0]");
//   ACCORD_ASSIGN_OR_RETURN(auto found, directory.Resolve(references));
//   found.at("institutions/tums").country_code();  // "IR"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"

namespace accord::agreement {

// Names to check, each with the request field it came from (for errors).
class References {
 public:
  void AddInstitution(std::string name, std::string field);
  void AddOfficial(std::string name, std::string field);

 private:
  friend class InstitutionDirectory;
  std::vector<std::pair<std::string, std::string>> institutions_;
  std::vector<std::pair<std::string, std::string>> officials_;
};

class InstitutionDirectory {
 public:
  // `token`, when set, is sent as `authorization: Bearer <token>`: the
  // agreement service calls with its own credentials.
  InstitutionDirectory(std::shared_ptr<grpc::Channel> channel,
                       absl::Duration deadline, std::string token = "");

  // The live institutions named, by name. INVALID_ARGUMENT naming the
  // fields whose institution or official is missing or deleted;
  // UNAVAILABLE when the institution service cannot answer in time.
  absl::StatusOr<absl::flat_hash_map<std::string, institution::v1::Institution>>
  Resolve(const References& references);

 private:
  std::unique_ptr<institution::v1::InstitutionService::Stub> stub_;
  absl::Duration deadline_;
  std::string token_;
};

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_INSTITUTION_DIRECTORY_H_
