#ifndef ACCORD_COMMON_BUILD_INFO_H_
#define ACCORD_COMMON_BUILD_INFO_H_

// What a binary is: Accord's version (CMake's PROJECT_VERSION), the git
// commit it was built from when the build could tell (read at build time;
// "unknown" in a build without .git, such as the container image's, unless
// -DACCORD_GIT_COMMIT=… gives it), and the gRPC and protobuf versions it
// was built against. Exported as the accord_build_info gauge, so a graph
// or an alert can name what was running.
//
// Example:
//   ExportBuildInfoMetric("institution");
//   // accord_build_info{service="institution",version="0.1.0",
//   //   git_commit="29ddd23c0f1a",grpc_version="1.51.1",
//   //   protobuf_version="3.21.12"} 1

#include <string>

#include "absl/strings/string_view.h"

namespace accord {

struct BuildInfo {
  std::string version;
  std::string git_commit;
  std::string grpc_version;
  std::string protobuf_version;
};

const BuildInfo& GetBuildInfo();

// Sets accord_build_info{service, version, git_commit, grpc_version,
// protobuf_version} to 1 in Metrics::Global().
void ExportBuildInfoMetric(absl::string_view service);

}  // namespace accord

#endif  // ACCORD_COMMON_BUILD_INFO_H_
