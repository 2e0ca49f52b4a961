#include "tests/harness/credentials.h"

#include <chrono>
#include <fstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "google/protobuf/util/json_util.h"

namespace accord::testing {

std::string TestCredentials::Add(const std::string& id, auth::v1::Role role,
                                 const std::string& institution) {
  auth::v1::PrincipalEntry* entry = file_.add_principals();
  entry->set_id(id);
  entry->add_roles(role);
  if (!institution.empty()) entry->add_institutions(institution);
  NewToken token = MakeToken(id);
  *entry->add_api_keys() = token.key;
  return token.token;
}

std::string TestCredentials::Write(const std::string& dir) const {
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(file_, &json).ok()) {
    throw std::runtime_error("credentials do not convert to JSON");
  }
  const std::string path = absl::StrCat(dir, "/credentials.json");
  std::ofstream(path) << json;
  return absl::StrCat("--credentials_file=", path);
}

std::unique_ptr<grpc::ClientContext> AuthorizedContext(
    const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(10));
  return context;
}

}  // namespace accord::testing
