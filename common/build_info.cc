#include "common/build_info.h"

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>

#include "common/metrics.h"

// Written at build time by cmake/build_commit.cmake: defines
// ACCORD_VERSION and ACCORD_GIT_COMMIT.
#include "common/build_commit.inc"

namespace accord {

const BuildInfo& GetBuildInfo() {
  static const BuildInfo* info = new BuildInfo{
      .version = ACCORD_VERSION,
      .git_commit = ACCORD_GIT_COMMIT,
      .grpc_version = grpc::Version(),
      .protobuf_version =
          google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION),
  };
  return *info;
}

void ExportBuildInfoMetric(absl::string_view service) {
  const BuildInfo& info = GetBuildInfo();
  Metrics::Global().Describe(
      "accord_build_info", "gauge",
      "Always 1; the labels say which service, version and git commit "
      "(unknown when the build could not tell) run, on which gRPC and "
      "protobuf.");
  Metrics::Global().SetGauge("accord_build_info",
                             {{"service", std::string(service)},
                              {"version", info.version},
                              {"git_commit", info.git_commit},
                              {"grpc_version", info.grpc_version},
                              {"protobuf_version", info.protobuf_version}},
                             1);
}

}  // namespace accord
