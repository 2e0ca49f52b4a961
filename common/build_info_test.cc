#include "common/build_info.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/metrics.h"

namespace accord {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

TEST(BuildInfoTest, NamesTheVersionCommitAndLibraries) {
  const BuildInfo& info = GetBuildInfo();
  EXPECT_THAT(info.version, MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  // A short commit hash in a git checkout, "unknown" without one.
  EXPECT_THAT(info.git_commit, MatchesRegex("[0-9a-f]{7,40}|unknown"));
  EXPECT_THAT(info.grpc_version, MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_THAT(info.protobuf_version, MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+"));
}

TEST(BuildInfoTest, ExportsOneSeriesWithValueOne) {
  ExportBuildInfoMetric("institution");
  const BuildInfo& info = GetBuildInfo();
  const std::string text = Metrics::Global().RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE accord_build_info gauge\n"));
  EXPECT_THAT(text,
              HasSubstr(absl::StrCat(
                  "accord_build_info{service=\"institution\",version=\"",
                  info.version, "\",git_commit=\"", info.git_commit,
                  "\",grpc_version=\"", info.grpc_version,
                  "\",protobuf_version=\"", info.protobuf_version, "\"} 1\n")));
  EXPECT_THAT(text, Not(HasSubstr("git_commit=\"\"")));
}

}  // namespace
}  // namespace accord
