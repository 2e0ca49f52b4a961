#ifndef ACCORD_COMMON_METRICS_H_
#define ACCORD_COMMON_METRICS_H_

// Prometheus metrics: a process-wide registry of labelled counters, gauges
// and histograms, rendered in the text exposition format and served over
// HTTP by cpp-httplib at /metrics.
//
// Example:
//   Metrics::Global().Describe("accord_events_written_total", "counter",
//                              "Events appended to accord:events.");
//   Metrics::Global().Increment("accord_events_written_total",
//                               {{"type", "accord.institution.v1.created"}});

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace httplib {
class Server;
}

namespace accord {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  static Metrics& Global();

  // `type` is "counter", "gauge" or "histogram".
  void Describe(absl::string_view name, absl::string_view type,
                absl::string_view help);
  void Increment(absl::string_view name, const MetricLabels& labels,
                 double amount = 1);
  void SetGauge(absl::string_view name, const MetricLabels& labels,
                double value);
  // Replaces every series of gauge `name` with `series`: for gauges
  // computed afresh from a snapshot (one per webhook subscription, say),
  // whose labels can disappear. Not for a family anyone holds a Series*
  // of.
  void ReplaceGauges(
      absl::string_view name,
      const std::vector<std::pair<MetricLabels, double>>& series);
  // Latency-style histogram, buckets in seconds from 100 µs to 10 s.
  void Observe(absl::string_view name, const MetricLabels& labels,
               double value);

  std::string RenderPrometheus() const;

  // One labelled series. Paths that update a series on every call resolve
  // it once (Counter, Histogram) and update it through the pointer,
  // skipping label rendering and two map lookups per update. Pointers stay
  // valid for the life of the registry: series are never removed (except
  // by ReplaceGauges, which is for gauges nobody holds a pointer to).
  struct Series {
    double value = 0;                     // counter or gauge
    std::vector<uint64_t> bucket_counts;  // histogram, cumulative on render
    double sum = 0;
    uint64_t count = 0;
  };
  Series* Counter(absl::string_view name, const MetricLabels& labels);
  Series* Histogram(absl::string_view name, const MetricLabels& labels);
  void Increment(Series* counter, double amount = 1);
  void Observe(Series* histogram, double value);

 private:
  struct Family {
    std::string type = "counter";
    std::string help;
    std::map<std::string, Series> series;  // rendered labels -> series
  };

  mutable absl::Mutex mutex_;
  std::map<std::string, Family, std::less<>> families_ ABSL_GUARDED_BY(mutex_);
};

// The standard Prometheus process metrics of this process, read from /proc
// at the time of the call (resident and virtual memory, CPU seconds, open
// file descriptors, threads, start time): what operators graph and what
// the soak test watches for growth.
std::string RenderProcessMetrics();

// Serves Metrics::Global() and the process metrics on
// http://HOST:PORT/metrics in its own thread.
class MetricsServer {
 public:
  MetricsServer();
  ~MetricsServer();
  absl::Status Start(const std::string& host, int port);
  void Stop();
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace accord

#endif  // ACCORD_COMMON_METRICS_H_
