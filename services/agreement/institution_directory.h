#ifndef ACCORD_SERVICES_AGREEMENT_INSTITUTION_DIRECTORY_H_
#define ACCORD_SERVICES_AGREEMENT_INSTITUTION_DIRECTORY_H_

// The agreement service's view of the institution service: checks that the
// institutions and officials a record names exist and are live, in one
// batch call each, with a deadline and retries on UNAVAILABLE. With a
// ReferenceCache, names already vouched for are answered from memory and
// the call is skipped; the write itself then re-checks them atomically
// (PlanReferenceChecks), so a stale entry can never be written.
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
#include "common/write_path.h"
#include "services/agreement/reference_cache.h"

namespace accord::agreement {

// Names to check, each with the request field it came from (for errors).
class References {
 public:
  // Inline: validation (and its fuzz target) collects references without
  // linking the directory's gRPC, Redis and metrics code.
  void AddInstitution(std::string name, std::string field) {
    institutions_.emplace_back(std::move(name), std::move(field));
  }
  void AddOfficial(std::string name, std::string field) {
    officials_.emplace_back(std::move(name), std::move(field));
  }

 private:
  friend class InstitutionDirectory;
  friend void PlanReferenceChecks(const References& references,
                                  WritePlan& plan);
  std::vector<std::pair<std::string, std::string>> institutions_;
  std::vector<std::pair<std::string, std::string>> officials_;
};

class InstitutionDirectory {
 public:
  // `token`, when set, is sent as `authorization: Bearer <token>`: the
  // agreement service calls with its own credentials.
  // `cache`, when set, must outlive the directory.
  InstitutionDirectory(std::shared_ptr<grpc::Channel> channel,
                       absl::Duration deadline, std::string token = "",
                       ReferenceCache* cache = nullptr);

  // The live institutions named, by name. INVALID_ARGUMENT naming the
  // fields whose institution or official is missing or deleted;
  // UNAVAILABLE when the institution service cannot answer in time.
  absl::StatusOr<absl::flat_hash_map<std::string, institution::v1::Institution>>
  Resolve(const References& references);

  // The country code of each institution named that the institution
  // service knows live, for an event's `country_codes`. Unknown and deleted
  // ones are left out (never an error: an event still names a party deleted
  // since); UNAVAILABLE when the institution service cannot answer in
  // time. Cached names are answered from memory.
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> Countries(
      const std::vector<std::string>& institutions);

  // A write found a cached reference no longer live: drop the cache, so the
  // retry asks the institution service (and gets its exact answer).
  void ForgetCached();

 private:
  std::unique_ptr<institution::v1::InstitutionService::Stub> stub_;
  absl::Duration deadline_;
  std::string token_;
  ReferenceCache* cache_;
};

// The ErrorInfo reason of a write refused because a referenced institution
// or official was not live when the write ran (see PlanReferenceChecks).
inline constexpr char kReferenceNotLive[] = "REFERENCE_NOT_LIVE";

// Adds to `plan` a check that every institution and official named is
// still live, each failing as INVALID_ARGUMENT on its field with reason
// kReferenceNotLive. Resolve may have answered from the cache, or from the
// institution service before a concurrent delete: the write function
// judges these checks in the same atomic step as the write.
void PlanReferenceChecks(const References& references, WritePlan& plan);

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_INSTITUTION_DIRECTORY_H_
