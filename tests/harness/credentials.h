#ifndef ACCORD_TESTS_HARNESS_CREDENTIALS_H_
#define ACCORD_TESTS_HARNESS_CREDENTIALS_H_

// A credentials file for the services a test starts, so that tests run
// with authentication on, as shipped: principals with a role, the
// institutions they act for, and a fresh API key each.
//
// Example:
//   TestCredentials credentials;
//   const std::string admin = credentials.Add("admin", auth::v1::ROLE_ADMIN);
//   const std::string flag = credentials.Write(MakeTempDir("creds"));
//   ServiceProcess institution("accord-institution", redis.url(), {flag});
//   context.AddMetadata("authorization", "Bearer " + admin);

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "accord/auth/v1/auth.pb.h"

namespace accord::testing {

class TestCredentials {
 public:
  // Adds a principal; returns its bearer token (`<key id>.<secret>`).
  std::string Add(const std::string& id, auth::v1::Role role,
                  const std::string& institution = "");

  // Writes `credentials.json` into `dir`; returns the services' flag
  // `--credentials_file=<path>`.
  std::string Write(const std::string& dir) const;

 private:
  auth::v1::CredentialsFile file_;
};

// A client context that sends `token` as the bearer token, with a 10 s
// deadline so a hung service fails the test instead of stalling it.
std::unique_ptr<grpc::ClientContext> AuthorizedContext(
    const std::string& token);

}  // namespace accord::testing

#endif  // ACCORD_TESTS_HARNESS_CREDENTIALS_H_
