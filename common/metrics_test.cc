#include "common/metrics.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace accord {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// name → value of every sample line (no labels) in a Prometheus text.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    std::pair<std::string, std::string> parts = absl::StrSplit(line, ' ');
    double value = 0;
    if (absl::SimpleAtod(parts.second, &value)) samples[parts.first] = value;
  }
  return samples;
}

TEST(MetricsTest, ResolvedSeriesAreTheSameAsNamedUpdates) {
  Metrics metrics;
  metrics.Describe("test_calls_total", "counter", "Calls.");
  metrics.Describe("test_latency_seconds", "histogram", "Latency.");
  const MetricLabels labels = {{"method", "/a.B/C"}, {"code", "OK"}};
  Metrics::Series* counter = metrics.Counter("test_calls_total", labels);
  EXPECT_EQ(counter, metrics.Counter("test_calls_total", labels));
  metrics.Increment(counter);
  metrics.Increment(counter, 2);
  metrics.Increment("test_calls_total", labels);  // the same series
  Metrics::Series* latency = metrics.Histogram("test_latency_seconds", labels);
  metrics.Observe(latency, 0.0002);
  metrics.Observe("test_latency_seconds", labels, 0.003);

  const std::map<std::string, double> samples =
      Samples(metrics.RenderPrometheus());
  const std::string rendered = "{method=\"/a.B/C\",code=\"OK\"}";
  EXPECT_EQ(samples.at("test_calls_total" + rendered), 4);
  EXPECT_EQ(samples.at("test_latency_seconds_count" + rendered), 2);
  EXPECT_DOUBLE_EQ(samples.at("test_latency_seconds_sum" + rendered), 0.0032);
  EXPECT_EQ(samples.at("test_latency_seconds_bucket{method=\"/a.B/C\","
                       "code=\"OK\",le=\"0.00025\"}"),
            1);
  EXPECT_EQ(samples.at("test_latency_seconds_bucket{method=\"/a.B/C\","
                       "code=\"OK\",le=\"0.005\"}"),
            2);
}

TEST(ProcessMetricsTest, ResidentMemoryFollowsWhatTheProcessTouches) {
  const double before =
      Samples(RenderProcessMetrics())["process_resident_memory_bytes"];
  constexpr size_t kSize = 64 << 20;
  auto block = std::make_unique<char[]>(kSize);
  std::memset(block.get(), 1, kSize);  // touched pages become resident
  const double after =
      Samples(RenderProcessMetrics())["process_resident_memory_bytes"];
  EXPECT_GT(before, 1 << 20);
  EXPECT_GE(after - before, kSize * 0.9);
  EXPECT_EQ(block[kSize - 1], 1);
}

TEST(ProcessMetricsTest, OpenFileDescriptorsAreCounted) {
  const double before = Samples(RenderProcessMetrics())["process_open_fds"];
  const int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 0);
  const double during = Samples(RenderProcessMetrics())["process_open_fds"];
  close(fd);
  EXPECT_EQ(during, before + 1);
  EXPECT_GE(before, 3);  // stdin, stdout, stderr at least
}

TEST(ProcessMetricsTest, EveryStandardFamilyIsTypedAndPlausible) {
  const std::string text = RenderProcessMetrics();
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_resident_memory_bytes gauge\n"));
  std::map<std::string, double> samples = Samples(text);
  EXPECT_GE(samples["process_threads"], 1);
  EXPECT_GT(samples["process_virtual_memory_bytes"],
            samples["process_resident_memory_bytes"]);
  // Started after 2020 and not in the future (the kernel's boot time is
  // whole seconds, and a VM's clock may have been stepped since boot).
  EXPECT_GT(samples["process_start_time_seconds"], 1.58e9);
  EXPECT_LE(samples["process_start_time_seconds"],
            static_cast<double>(time(nullptr)) + 5);
  EXPECT_GE(samples["process_cpu_seconds_total"], 0);
}

TEST(MetricsTest, LargeCountersKeepEveryDigit) {
  Metrics metrics;
  metrics.Increment("accord_test_total", {{"kind", "a"}}, 1234567);
  metrics.SetGauge("accord_test_ratio", {}, 0.125);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("accord_test_total{kind=\"a\"} 1234567\n"));
  EXPECT_THAT(text, HasSubstr("accord_test_ratio 0.125\n"));
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Metrics metrics;
  metrics.Describe("accord_test_seconds", "histogram", "test latencies");
  metrics.Observe("accord_test_seconds", {}, 0.0002);
  metrics.Observe("accord_test_seconds", {}, 0.003);
  metrics.Observe("accord_test_seconds", {}, 20);
  const std::string text = metrics.RenderPrometheus();
  EXPECT_THAT(text,
              HasSubstr("accord_test_seconds_bucket{le=\"0.00025\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("accord_test_seconds_bucket{le=\"0.005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("accord_test_seconds_bucket{le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("accord_test_seconds_bucket{le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("accord_test_seconds_count 3\n"));
}

TEST(MetricsTest, ReplaceGaugesDropsSeriesNoLongerReported) {
  Metrics metrics;
  metrics.Describe("accord_test_backlog", "gauge", "Backlog.");
  metrics.ReplaceGauges("accord_test_backlog", {{{{"subscription", "a"}}, 3},
                                                {{{"subscription", "b"}}, 0}});
  metrics.ReplaceGauges("accord_test_backlog", {{{{"subscription", "b"}}, 7}});
  const std::string text = metrics.RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("# HELP accord_test_backlog Backlog.\n"));
  EXPECT_THAT(text, HasSubstr("accord_test_backlog{subscription=\"b\"} 7\n"));
  EXPECT_THAT(text, Not(HasSubstr("subscription=\"a\"")));
}

}  // namespace
}  // namespace accord
