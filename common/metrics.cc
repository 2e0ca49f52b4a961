#include "common/metrics.h"

#include <dirent.h>
#include <httplib.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/exclusive_port.h"

namespace accord {
namespace {

constexpr std::array<double, 14> kBucketBounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,  0.05,    0.1,    0.25,  0.5,    1,     10};

// A sample value without StrCat's six significant digits, which would show
// a counter past a million as 1.23457e+06.
std::string FormatValue(double value) {
  if (value == static_cast<double>(static_cast<int64_t>(value)) &&
      std::abs(value) < 9.007199254740992e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  return absl::StrFormat("%.17g", value);
}

std::string EscapeLabelValue(absl::string_view value) {
  std::string escaped;
  for (const char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  return escaped;
}

std::string RenderLabels(const MetricLabels& labels,
                         absl::string_view extra = "") {
  if (labels.empty() && extra.empty()) return "";
  std::string text = "{";
  for (const auto& [key, value] : labels) {
    if (text.size() > 1) text += ",";
    absl::StrAppend(&text, key, "=\"", EscapeLabelValue(value), "\"");
  }
  if (!extra.empty()) {
    if (text.size() > 1) text += ",";
    absl::StrAppend(&text, extra);
  }
  return text + "}";
}

// Inserts `le` into an already-rendered label set.
std::string WithBound(const std::string& labels, absl::string_view bound) {
  const std::string le = absl::StrCat("le=\"", bound, "\"");
  if (labels.empty()) return absl::StrCat("{", le, "}");
  return absl::StrCat(labels.substr(0, labels.size() - 1), ",", le, "}");
}

}  // namespace

Metrics& Metrics::Global() {
  static Metrics* metrics = new Metrics();
  return *metrics;
}

void Metrics::Describe(absl::string_view name, absl::string_view type,
                       absl::string_view help) {
  absl::MutexLock lock(&mutex_);
  Family& family = families_[std::string(name)];
  family.type = std::string(type);
  family.help = std::string(help);
}

Metrics::Series* Metrics::Counter(absl::string_view name,
                                  const MetricLabels& labels) {
  const std::string key = RenderLabels(labels);
  absl::MutexLock lock(&mutex_);
  return &families_[std::string(name)].series[key];
}

Metrics::Series* Metrics::Histogram(absl::string_view name,
                                    const MetricLabels& labels) {
  const std::string key = RenderLabels(labels);
  absl::MutexLock lock(&mutex_);
  Family& family = families_[std::string(name)];
  family.type = "histogram";
  Series& series = family.series[key];
  if (series.bucket_counts.empty()) {
    series.bucket_counts.assign(kBucketBounds.size(), 0);
  }
  return &series;
}

void Metrics::Increment(Series* counter, double amount) {
  absl::MutexLock lock(&mutex_);
  counter->value += amount;
}

void Metrics::Observe(Series* histogram, double value) {
  absl::MutexLock lock(&mutex_);
  for (size_t i = 0; i < kBucketBounds.size(); ++i) {
    if (value <= kBucketBounds[i]) {
      ++histogram->bucket_counts[i];
      break;
    }
  }
  histogram->sum += value;
  ++histogram->count;
}

void Metrics::Increment(absl::string_view name, const MetricLabels& labels,
                        double amount) {
  Increment(Counter(name, labels), amount);
}

void Metrics::SetGauge(absl::string_view name, const MetricLabels& labels,
                       double value) {
  const std::string key = RenderLabels(labels);
  absl::MutexLock lock(&mutex_);
  Family& family = families_[std::string(name)];
  family.type = "gauge";
  family.series[key].value = value;
}

void Metrics::ReplaceGauges(
    absl::string_view name,
    const std::vector<std::pair<MetricLabels, double>>& series) {
  std::map<std::string, Series> fresh;
  for (const auto& [labels, value] : series) {
    fresh[RenderLabels(labels)].value = value;
  }
  absl::MutexLock lock(&mutex_);
  Family& family = families_[std::string(name)];
  family.type = "gauge";
  family.series = std::move(fresh);
}

void Metrics::Observe(absl::string_view name, const MetricLabels& labels,
                      double value) {
  Observe(Histogram(name, labels), value);
}

std::string Metrics::RenderPrometheus() const {
  absl::MutexLock lock(&mutex_);
  std::string text;
  for (const auto& [name, family] : families_) {
    if (!family.help.empty()) {
      absl::StrAppend(&text, "# HELP ", name, " ", family.help, "\n");
    }
    absl::StrAppend(&text, "# TYPE ", name, " ", family.type, "\n");
    for (const auto& [labels, series] : family.series) {
      if (family.type != "histogram") {
        absl::StrAppend(&text, name, labels, " ", FormatValue(series.value),
                        "\n");
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBucketBounds.size(); ++i) {
        cumulative += series.bucket_counts[i];
        absl::StrAppend(&text, name, "_bucket",
                        WithBound(labels, absl::StrCat(kBucketBounds[i])), " ",
                        cumulative, "\n");
      }
      absl::StrAppend(&text, name, "_bucket", WithBound(labels, "+Inf"), " ",
                      series.count, "\n");
      absl::StrAppend(&text, name, "_sum", labels, " ", FormatValue(series.sum),
                      "\n");
      absl::StrAppend(&text, name, "_count", labels, " ", series.count, "\n");
    }
  }
  return text;
}

std::string RenderProcessMetrics() {
  std::ifstream stat_file("/proc/self/stat");
  std::stringstream buffer;
  buffer << stat_file.rdbuf();
  const std::string stat = buffer.str();
  // Fields after the command name, which is in parentheses and may hold
  // spaces: field 3 (state) is index 0 here.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return "";
  const std::vector<std::string> fields =
      absl::StrSplit(absl::string_view(stat).substr(close + 2), ' ');
  auto field = [&](size_t number) -> double {
    double value = 0;
    if (number >= 3 && number - 3 < fields.size()) {
      (void)absl::SimpleAtod(fields[number - 3], &value);
    }
    return value;
  };
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string text_line; std::getline(proc_stat, text_line);) {
    absl::string_view line = text_line;
    if (absl::ConsumePrefix(&line, "btime ")) {
      (void)absl::SimpleAtod(line, &boot_time);
    }
  }
  int open_fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++open_fds;
    closedir(dir);
    open_fds -= 3;  // ".", ".." and the directory's own descriptor
  }
  std::string text;
  auto add = [&text](absl::string_view name, absl::string_view type,
                     absl::string_view help, double value) {
    absl::StrAppend(&text, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    type, "\n", name, " ", FormatValue(value), "\n");
  };
  // Fields of proc(5): 14 utime, 15 stime, 20 num_threads, 22 starttime,
  // 23 vsize, 24 rss (pages).
  add("process_cpu_seconds_total", "counter",
      "Total user and system CPU time spent in seconds.",
      (field(14) + field(15)) / ticks);
  add("process_resident_memory_bytes", "gauge",
      "Resident memory size in bytes.", field(24) * page);
  add("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
      field(23));
  add("process_open_fds", "gauge", "Number of open file descriptors.",
      open_fds);
  add("process_threads", "gauge", "Number of OS threads.", field(20));
  add("process_start_time_seconds", "gauge",
      "Start time of the process since unix epoch in seconds.",
      boot_time + field(22) / ticks);
  return text;
}

MetricsServer::MetricsServer() : server_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() { Stop(); }

absl::Status MetricsServer::Start(const std::string& host, int port) {
  // Scrapers keep connections open; a short keep-alive lets shutdown finish
  // promptly instead of waiting out an idle connection.
  server_->set_keep_alive_timeout(1);
  server_->set_socket_options(ExclusivePortSocketOptions);
  server_->Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(absl::StrCat(Metrics::Global().RenderPrometheus(),
                                 RenderProcessMetrics()),
                    "text/plain; version=0.0.4");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for metrics on ", host, ":", port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

void MetricsServer::Stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

}  // namespace accord
