// The bounded soak: a large number of events (a million by default) through
// the whole suite — the three real service binaries and a private
// redis-server (AOF everysec) on free loopback ports — while watchers and
// webhook subscriptions receive them. It samples each process's resident
// memory, the stream's length and the webhook group's pending entries, and
// at the end checks what the promise says:
//   - every watcher received every event once, in stream order;
//   - every webhook subscription received every event (redeliveries only
//     under the same webhook-id);
//   - the webhook consumer group's pending entries drain to zero;
//   - the stream stays bounded by the retention window, and is trimmed to
//     (almost) nothing once every event is older than it and acknowledged;
//   - no service's resident memory grows by more than --max_growth_mb
//     between the end of the warm-up (10% of the events) and the end.
// Exit code 0 only if all hold. Run on demand (`build/bin/accord_soak`);
// ctest runs a short one (`soak_smoke`) so the tool cannot rot.

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/substitute.h"
#include "absl/time/clock.h"
#include "accord/agreement/v1/agreement_service.grpc.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "common/config.h"
#include "common/events.h"
#include "common/exclusive_port.h"
#include "common/redis/client.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "tests/harness/event_log.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

using testing::FreePort;
using testing::RedisServer;
using testing::ServiceProcess;

constexpr int kPoolSize = 20;  // institutions and agreements made up front
const std::vector<std::string> kEventTypes = {"accord.institution.v1.*",
                                              "accord.agreement.v1.*",
                                              "accord.milestone.v1.*"};

struct Options {
  int64_t events = 1'000'000;
  int64_t writers = 8;
  int64_t watchers = 20;
  int64_t webhooks = 2;
  absl::Duration event_retention = absl::Seconds(30);
  absl::Duration trim_interval = absl::Seconds(5);
  absl::Duration delivery_retention = absl::Minutes(1);
  absl::Duration sample_interval = absl::Seconds(10);
  absl::Duration drain_timeout = absl::Minutes(10);
  int64_t max_growth_mb = 64;
};

template <typename Message>
Message FromJson(const std::string& json) {
  Message message;
  const auto status =
      google::protobuf::util::JsonStringToMessage(json, &message);
  if (!status.ok()) {
    std::fprintf(stderr, "soak: bad request JSON: %s\n%s\n",
                 status.ToString().c_str(), json.c_str());
    std::exit(2);
  }
  return message;
}

// Calls `call` with a fresh context until it succeeds: the same request (and
// request_id) each time, so a retry never makes a second event.
template <typename Call>
bool UntilOk(Call call, std::atomic<int64_t>& retries) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    const grpc::Status status = call(context);
    if (status.ok()) return true;
    ++retries;
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
        status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      std::fprintf(stderr, "soak: refused: %s\n",
                   status.error_message().c_str());
      return false;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

class Suite {
 public:
  explicit Suite(const Options& options)
      : redis_("everysec"),
        institution_("accord-institution", redis_.url(),
                     {"--log_level=warning"}),
        agreement_(
            "accord-agreement", redis_.url(),
            {absl::StrCat("--institution_target=", institution_.address()),
             "--log_level=warning"}),
        notification_(
            "accord-notification", redis_.url(),
            {"--webhook_allow_cidrs=127.0.0.0/8", "--webhook_workers=16",
             absl::StrCat("--event_retention=",
                          absl::FormatDuration(options.event_retention)),
             absl::StrCat("--trim_interval=",
                          absl::FormatDuration(options.trim_interval)),
             absl::StrCat("--delivery_retention=",
                          absl::FormatDuration(options.delivery_retention)),
             "--log_level=warning"}),
        institutions_(institution::v1::InstitutionService::NewStub(
            institution_.Channel())),
        agreements_(
            agreement::v1::AgreementService::NewStub(agreement_.Channel())),
        notifications_(notification::v1::NotificationService::NewStub(
            notification_.Channel())),
        log_(redis_.url()) {}

  RedisServer& redis() { return redis_; }
  RedisClient& redis_client() { return log_.redis(); }
  institution::v1::InstitutionService::Stub& institutions() {
    return *institutions_;
  }
  agreement::v1::AgreementService::Stub& agreements() { return *agreements_; }
  notification::v1::NotificationService::Stub& notifications() {
    return *notifications_;
  }
  std::vector<std::pair<std::string, int>> MetricsPorts() const {
    return {{"institution", institution_.metrics_port()},
            {"agreement", agreement_.metrics_port()},
            {"notification", notification_.metrics_port()}};
  }

 private:
  RedisServer redis_;
  ServiceProcess institution_;
  ServiceProcess agreement_;
  ServiceProcess notification_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<agreement::v1::AgreementService::Stub> agreements_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notifications_;
  testing::EventLog log_;
};

std::string InstitutionJson(const std::string& id) {
  return absl::Substitute(
      R"({"institutionId": "$0", "requestId": "soak-$0", "institution": {
          "names": [{"text": "Soak University $0", "type": "TYPE_DISPLAY",
                     "languageCode": "en"}],
          "kind": "KIND_UNIVERSITY", "countryCode": "$1"}})",
      id, id.back() % 2 == 0 ? "IR" : "RU");
}

std::string AgreementJson(const std::string& id, int first, int second) {
  return absl::Substitute(
      R"({"agreementId": "$0", "requestId": "soak-$0", "agreement": {
          "titles": [{"text": "Memorandum of understanding $0",
                      "languageCode": "en"}],
          "kind": "KIND_MEMORANDUM_OF_UNDERSTANDING",
          "parties": ["institutions/pool-$1", "institutions/pool-$2"],
          "signingDate": "2025-04-25",
          "cooperationAreas": ["medical-research"]}})",
      id, first, second);
}

std::string MilestoneJson(const std::string& id, int agreement) {
  return absl::Substitute(
      R"({"parent": "agreements/pool-$1", "milestoneId": "$0",
          "requestId": "soak-$0", "milestone": {
          "titles": [{"text": "Milestone $0", "languageCode": "en"}],
          "owners": ["institutions/pool-$1"], "state": "STATE_PROPOSED",
          "recordDate": "2025-04-26"}})",
      id, agreement);
}

// Writes event number `n` through the API: 60% institutions, 20%
// agreements (MOUs between pool institutions), 20% milestones under pool
// agreements. False if it could not be written.
bool WriteEvent(Suite& suite, int64_t n, std::atomic<int64_t>& retries) {
  const std::string id = absl::StrCat("s", n);
  const int slot = static_cast<int>(n % 10);
  const int a = static_cast<int>(n % kPoolSize);
  if (slot < 6) {
    auto request = FromJson<institution::v1::CreateInstitutionRequest>(
        InstitutionJson(id));
    return UntilOk(
        [&](grpc::ClientContext& context) {
          institution::v1::Institution created;
          return suite.institutions().CreateInstitution(&context, request,
                                                        &created);
        },
        retries);
  }
  if (slot < 8) {
    auto request = FromJson<agreement::v1::CreateAgreementRequest>(
        AgreementJson(id, a, (a + 1) % kPoolSize));
    return UntilOk(
        [&](grpc::ClientContext& context) {
          agreement::v1::Agreement created;
          return suite.agreements().CreateAgreement(&context, request,
                                                    &created);
        },
        retries);
  }
  auto request =
      FromJson<agreement::v1::CreateMilestoneRequest>(MilestoneJson(id, a));
  return UntilOk(
      [&](grpc::ClientContext& context) {
        agreement::v1::Milestone created;
        return suite.agreements().CreateMilestone(&context, request, &created);
      },
      retries);
}

// A webhook endpoint that only counts: event ids per path, and requests.
class CountingReceiver {
 public:
  CountingReceiver() : port_(FreePort()) {
    // A kept-alive connection holds a server thread while idle: one
    // thread per webhook worker connection and then some.
    server_.new_task_queue = [] { return new httplib::ThreadPool(64); };
    server_.set_keep_alive_max_count(100'000);
    server_.Post(R"(/(.*))", [this](const httplib::Request& request,
                                    httplib::Response& response) {
      const std::string id = request.get_header_value("webhook-id");
      std::lock_guard<std::mutex> lock(mutex_);
      ++requests_[request.path];
      ids_[request.path].insert(id);
      response.status = 204;
    });
    server_.set_socket_options(accord::ExclusivePortSocketOptions);
    if (!server_.bind_to_port("127.0.0.1", port_)) {
      throw std::runtime_error(
          absl::StrCat("cannot listen on 127.0.0.1:", port_));
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) absl::SleepFor(absl::Milliseconds(5));
  }
  ~CountingReceiver() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  size_t Distinct(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    return ids_[path].size();
  }
  int64_t Requests(const std::string& path) {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_[path];
  }

 private:
  int port_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, std::unordered_set<std::string>> ids_;
  std::map<std::string, int64_t> requests_;
};

// A watcher that counts events, checks that positions only ever increase,
// and resumes from its last position if its stream ends.
class CountingWatcher {
 public:
  CountingWatcher(Suite& suite, std::string start)
      : suite_(suite), last_(std::move(start)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~CountingWatcher() {
    stop_ = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (context_ != nullptr) context_->TryCancel();
    }
    thread_.join();
  }
  int64_t received() const { return received_.load(); }
  int64_t out_of_order() const { return out_of_order_.load(); }
  int64_t reconnections() const { return reconnections_.load(); }

 private:
  void Run() {
    while (!stop_.load()) {
      notification::v1::WatchEventsRequest request;
      for (const std::string& type : kEventTypes) {
        request.mutable_inline_selector()->add_event_types(type);
      }
      request.set_start_position(last_);
      grpc::ClientContext context;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        context_ = &context;
      }
      auto reader = suite_.notifications().WatchEvents(&context, request);
      notification::v1::WatchEventsResponse response;
      while (reader->Read(&response)) {
        if (!response.has_event()) continue;
        const std::string& position = response.event().position();
        if (ComparePositions(position, last_) <= 0) ++out_of_order_;
        last_ = position;
        ++received_;
      }
      (void)reader->Finish();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        context_ = nullptr;
      }
      if (!stop_.load()) {
        ++reconnections_;
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
  }

  Suite& suite_;
  std::string last_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> received_{0};
  std::atomic<int64_t> out_of_order_{0};
  std::atomic<int64_t> reconnections_{0};
  std::mutex mutex_;
  grpc::ClientContext* context_ = nullptr;
  std::thread thread_;
};

double ResidentMb(int metrics_port) {
  httplib::Client client("127.0.0.1", metrics_port);
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) return -1;
  for (absl::string_view line : absl::StrSplit(response->body, '\n')) {
    if (absl::ConsumePrefix(&line, "process_resident_memory_bytes ")) {
      double bytes = 0;
      if (absl::SimpleAtod(line, &bytes)) return bytes / (1 << 20);
    }
  }
  return -1;
}

int64_t Integer(RedisClient& redis, const std::vector<std::string>& command) {
  absl::StatusOr<RedisValue> reply = redis.Command(command);
  return reply.ok() ? reply->integer : -1;
}

// Pending entries of every consumer group on the stream.
int64_t GroupPending(RedisClient& redis) {
  absl::StatusOr<RedisValue> groups =
      redis.Command({"XINFO", "GROUPS", "accord:events"});
  if (!groups.ok()) return -1;
  int64_t pending = 0;
  for (const RedisValue& group : groups->elements) {
    for (size_t i = 0; i + 1 < group.elements.size(); i += 2) {
      if (group.elements[i].text == "pending") {
        pending += group.elements[i + 1].integer;
      }
    }
  }
  return pending;
}

double RedisUsedMb(RedisClient& redis) {
  absl::StatusOr<RedisValue> info = redis.Command({"INFO", "memory"});
  if (!info.ok()) return -1;
  for (absl::string_view line : absl::StrSplit(info->text, "\r\n")) {
    if (absl::ConsumePrefix(&line, "used_memory:")) {
      double bytes = 0;
      if (absl::SimpleAtod(line, &bytes)) return bytes / (1 << 20);
    }
  }
  return -1;
}

std::string StreamHead(RedisClient& redis) {
  absl::StatusOr<RedisValue> reply =
      redis.Command({"XREVRANGE", "accord:events", "+", "-", "COUNT", "1"});
  if (!reply.ok() || reply->elements.empty()) return "0-0";
  return reply->elements[0].elements[0].text;
}

int Run(const Options& options) {
  const absl::Time started = absl::Now();
  Suite suite(options);
  std::atomic<int64_t> retries{0};

  // The pool every agreement and milestone refers to.
  for (int i = 0; i < kPoolSize; ++i) {
    auto request = FromJson<institution::v1::CreateInstitutionRequest>(
        InstitutionJson(absl::StrCat("pool-", i)));
    if (!UntilOk(
            [&](grpc::ClientContext& context) {
              institution::v1::Institution created;
              return suite.institutions().CreateInstitution(&context, request,
                                                            &created);
            },
            retries)) {
      std::fprintf(stderr, "soak: could not create the institution pool\n");
      return 1;
    }
  }
  for (int i = 0; i < kPoolSize; ++i) {
    auto request = FromJson<agreement::v1::CreateAgreementRequest>(
        AgreementJson(absl::StrCat("pool-", i), i, (i + 1) % kPoolSize));
    if (!UntilOk(
            [&](grpc::ClientContext& context) {
              agreement::v1::Agreement created;
              return suite.agreements().CreateAgreement(&context, request,
                                                        &created);
            },
            retries)) {
      std::fprintf(stderr, "soak: could not create the agreement pool\n");
      return 1;
    }
  }

  CountingReceiver receiver;
  std::vector<std::string> paths;
  for (int i = 0; i < options.webhooks; ++i) {
    paths.push_back(absl::StrCat("/hook-", i));
    notification::v1::CreateSubscriptionRequest request;
    request.set_subscription_id(absl::StrCat("soak-hook-", i));
    auto* subscription = request.mutable_subscription();
    subscription->set_owner("institutions/pool-0");
    for (const std::string& type : kEventTypes) {
      subscription->add_event_types(type);
    }
    subscription->mutable_webhook()->set_uri(receiver.Url(paths.back()));
    subscription->mutable_webhook()->set_signing_secret(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    grpc::ClientContext context;
    notification::v1::Subscription created;
    const grpc::Status status =
        suite.notifications().CreateSubscription(&context, request, &created);
    if (!status.ok()) {
      std::fprintf(stderr, "soak: CreateSubscription: %s\n",
                   status.error_message().c_str());
      return 1;
    }
  }
  const std::string start = StreamHead(suite.redis_client());
  std::vector<std::unique_ptr<CountingWatcher>> watchers;
  for (int i = 0; i < options.watchers; ++i) {
    watchers.push_back(std::make_unique<CountingWatcher>(suite, start));
  }
  // Watchers must be live before the first event, so they get all of them.
  absl::SleepFor(absl::Milliseconds(500));

  std::printf(
      "soak: %lld events, %lld writers, %lld watchers, %lld webhooks; "
      "event_retention %s, trim every %s\n",
      static_cast<long long>(options.events),
      static_cast<long long>(options.writers),
      static_cast<long long>(options.watchers),
      static_cast<long long>(options.webhooks),
      absl::FormatDuration(options.event_retention).c_str(),
      absl::FormatDuration(options.trim_interval).c_str());
  std::printf("%8s %9s %9s %9s %9s %9s %9s %9s %8s %8s\n", "t(s)", "written",
              "watch_min", "hook_min", "inst_MB", "agr_MB", "notif_MB",
              "redis_MB", "xlen", "pending");

  std::atomic<int64_t> next{0};
  std::atomic<int64_t> written{0};
  std::atomic<int64_t> failed{0};
  const absl::Time writes_started = absl::Now();
  std::vector<std::thread> writers;
  for (int w = 0; w < options.writers; ++w) {
    writers.emplace_back([&] {
      for (int64_t n = next++; n < options.events; n = next++) {
        if (WriteEvent(suite, n, retries)) {
          ++written;
        } else {
          ++failed;
        }
      }
    });
  }

  auto min_watched = [&] {
    int64_t least = INT64_MAX;
    for (const auto& watcher : watchers) {
      least = std::min(least, watcher->received());
    }
    return watchers.empty() ? written.load() : least;
  };
  auto min_hooked = [&] {
    int64_t least = INT64_MAX;
    for (const std::string& path : paths) {
      least = std::min(least, static_cast<int64_t>(receiver.Distinct(path)));
    }
    return paths.empty() ? written.load() : least;
  };
  std::map<std::string, double> warm_rss;
  std::map<std::string, double> last_rss;
  std::map<std::string, double> peak_rss;
  int64_t max_xlen = 0;
  auto sample = [&] {
    const int64_t done = written.load();
    std::map<std::string, double> rss;
    for (const auto& [name, port] : suite.MetricsPorts()) {
      rss[name] = ResidentMb(port);
      peak_rss[name] = std::max(peak_rss[name], rss[name]);
    }
    last_rss = rss;
    if (warm_rss.empty() && done >= options.events / 10) warm_rss = rss;
    const int64_t xlen =
        Integer(suite.redis_client(), {"XLEN", "accord:events"});
    max_xlen = std::max(max_xlen, xlen);
    const int64_t pending = GroupPending(suite.redis_client());
    std::printf("%8.0f %9lld %9lld %9lld %9.1f %9.1f %9.1f %9.1f %8lld %8lld\n",
                absl::ToDoubleSeconds(absl::Now() - writes_started),
                static_cast<long long>(done),
                static_cast<long long>(min_watched()),
                static_cast<long long>(min_hooked()), rss["institution"],
                rss["agreement"], rss["notification"],
                RedisUsedMb(suite.redis_client()), static_cast<long long>(xlen),
                static_cast<long long>(pending));
    std::fflush(stdout);
    return pending;
  };

  std::atomic<bool> writing{true};
  std::thread sampler([&] {
    while (writing.load()) {
      const absl::Time until = absl::Now() + options.sample_interval;
      while (writing.load() && absl::Now() < until) {
        absl::SleepFor(absl::Milliseconds(100));
      }
      if (writing.load()) sample();
    }
  });
  for (std::thread& writer : writers) writer.join();
  const absl::Duration write_time = absl::Now() - writes_started;
  writing = false;
  sampler.join();

  // Drain: every watcher and webhook catches up, pending goes to zero.
  const absl::Time drain_started = absl::Now();
  int64_t pending = -1;
  while (absl::Now() - drain_started < options.drain_timeout) {
    pending = GroupPending(suite.redis_client());
    if (min_watched() >= written.load() && min_hooked() >= written.load() &&
        pending == 0) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  const absl::Duration drain_time = absl::Now() - drain_started;
  pending = sample();
  if (warm_rss.empty()) warm_rss = last_rss;

  // Quiet: once every event is older than the retention and acknowledged,
  // the trimmer may remove all but the newest entry; once every delivery
  // has been final for longer than its retention, its record is gone and
  // so must be its index entry.
  absl::SleepFor(std::max(options.event_retention, options.delivery_retention) +
                 2 * options.trim_interval + absl::Seconds(1));
  const int64_t final_xlen =
      Integer(suite.redis_client(), {"XLEN", "accord:events"});

  bool ok = true;
  auto check = [&ok](bool holds, const std::string& what) {
    std::printf("%s %s\n", holds ? "PASS" : "FAIL", what.c_str());
    ok = ok && holds;
  };
  std::printf(
      "\nwrote %lld events in %.1f s (%.0f/s, %lld retried calls, %lld "
      "failed); drained in %.1f s; whole run %.1f s\n",
      static_cast<long long>(written.load()), absl::ToDoubleSeconds(write_time),
      written.load() / absl::ToDoubleSeconds(write_time),
      static_cast<long long>(retries.load()),
      static_cast<long long>(failed.load()), absl::ToDoubleSeconds(drain_time),
      absl::ToDoubleSeconds(absl::Now() - started));
  check(failed.load() == 0, "every write was acknowledged");
  int64_t exact_watchers = 0;
  int64_t reconnections = 0;
  for (const auto& watcher : watchers) {
    exact_watchers +=
        watcher->received() == written.load() && watcher->out_of_order() == 0;
    reconnections += watcher->reconnections();
  }
  check(exact_watchers == options.watchers,
        absl::StrFormat("watchers with every event once, in order: %d of %d "
                        "(%d reconnections)",
                        exact_watchers, options.watchers, reconnections));
  for (const std::string& path : paths) {
    const int64_t distinct = receiver.Distinct(path);
    check(distinct == written.load(),
          absl::StrFormat("webhook %s: %d of %d events, %d requests", path,
                          distinct, written.load(), receiver.Requests(path)));
  }
  for (int i = 0; i < options.webhooks; ++i) {
    const int64_t indexed =
        Integer(suite.redis_client(),
                {"ZCARD",
                 absl::StrCat("accord:notification:deliveries:soak-hook-", i)});
    check(indexed == 0,
          absl::StrFormat("delivery index of soak-hook-%d once every record "
                          "expired: %d entries",
                          i, indexed));
  }
  check(
      pending == 0,
      absl::StrCat("webhook group pending entries after the drain: ", pending));
  check(max_xlen < std::max<int64_t>(written.load() / 2, 10'000),
        absl::StrFormat("stream bounded while writing: at most %d entries "
                        "for %d events",
                        max_xlen, written.load()));
  check(final_xlen <= 1,
        absl::StrFormat("stream trimmed once quiet: %d entries", final_xlen));
  for (const auto& [name, port] : suite.MetricsPorts()) {
    const double growth = last_rss[name] - warm_rss[name];
#ifdef __SANITIZE_ADDRESS__
    // ASan holds freed memory in quarantine and adds shadow memory: growth
    // says nothing about leaks there (LeakSanitizer judges those).
    std::printf("SKIP %s resident memory %+.1f MB (sanitizer build)\n",
                name.c_str(), growth);
    continue;
#endif
    check(warm_rss[name] > 0 && last_rss[name] > 0 &&
              growth <= options.max_growth_mb,
          absl::StrFormat("%s resident memory %.1f MB after warm-up, %.1f MB "
                          "at the end (%+.1f MB; peak %.1f MB)",
                          name, warm_rss[name], last_rss[name], growth,
                          peak_rss[name]));
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace accord

int main(int argc, char** argv) {
  accord::Options options;
  accord::FlagSet flags("accord_soak",
                        "Pushes many events through the whole suite and "
                        "checks delivery, draining, stream bounds and memory "
                        "growth.");
  flags.AddInt("events", &options.events, 1, 100'000'000,
               "events to write through the API");
  flags.AddInt("writers", &options.writers, 1, 256,
               "concurrent writing clients");
  flags.AddInt("watchers", &options.watchers, 0, 10'000,
               "WatchEvents streams receiving every event");
  flags.AddInt("webhooks", &options.webhooks, 0, 64,
               "webhook subscriptions receiving every event");
  flags.AddDuration("event_retention", &options.event_retention,
                    "the notification service's --event_retention");
  flags.AddDuration("trim_interval", &options.trim_interval,
                    "the notification service's --trim_interval");
  flags.AddDuration("delivery_retention", &options.delivery_retention,
                    "the notification service's --delivery_retention");
  flags.AddDuration("sample_interval", &options.sample_interval,
                    "how often to print a sample line");
  flags.AddDuration("drain_timeout", &options.drain_timeout,
                    "how long deliveries may take to catch up at the end");
  flags.AddInt("max_growth_mb", &options.max_growth_mb, 0, 100'000,
               "allowed resident memory growth per service after warm-up");
  flags.ParseOrExit(argc, argv);
  return accord::Run(options);
}
