// The metrics operators rely on, scraped from the real binaries: a real
// redis-server, accord-institution, accord-agreement and
// accord-notification on free loopback ports, authentication on.
//
// - accord_build_info on all three services;
// - the webhook backlog, oldest-undelivered age and dead-letter series of
//   a subscription whose endpoint is down, as its one delivery is retried
//   and dead-lettered;
// - every metric the alert rules and the Grafana dashboard name
//   (deploy/k8s/monitoring/) is one the running services export.
//
// Loosened, and why: webhooks may reach loopback only through the
// operator's allow-list (`--webhook_allow_cidrs`); the retry schedule is
// one 5 s retry (the default spans a day) and the backlog gauges are
// recomputed every 200 ms (default 15 s), so a dead letter fits in a test.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution_service.grpc.pb.h"
#include "accord/notification/v1/notification_service.grpc.pb.h"
#include "tests/harness/credentials.h"
#include "tests/harness/processes.h"

namespace accord {
namespace {

using ::accord::testing::FreePort;
using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::TestCredentials;

constexpr char kOwner[] = "institutions/tums";
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::string Scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  auto response = client.Get("/metrics");
  return response && response->status == 200 ? response->body : "";
}

// The value of the series `name` whose labels include every one of
// `labels` (`key="value"` each); nullopt if there is none.
std::optional<double> Sample(const std::string& text, const std::string& name,
                             const std::vector<std::string>& labels = {}) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    const absl::string_view series = line.substr(0, space);
    if (series != name && !absl::StartsWith(series, name + "{")) continue;
    bool all = true;
    for (const std::string& label : labels) {
      all = all && absl::StrContains(series, label);
    }
    double value = 0;
    if (all && absl::SimpleAtod(line.substr(space + 1), &value)) return value;
  }
  return std::nullopt;
}

std::string ReadSource(const std::string& relative) {
  std::ifstream file(absl::StrCat(ACCORD_SOURCE_DIR, "/", relative));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class MonitoringScrapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = MakeTempDir("monitoring-scrape");
    TestCredentials credentials;
    admin_ = credentials.Add("admin", auth::v1::ROLE_ADMIN);
    bot_ = credentials.Add("tums-bot", auth::v1::ROLE_SUBSCRIBER, kOwner);
    const std::string agreement_token =
        credentials.Add("agreement-service", auth::v1::ROLE_VIEWER);
    credentials_flag_ = credentials.Write(dir);
    const std::string& credentials_flag = credentials_flag_;
    std::ofstream(dir + "/agreement-token") << agreement_token;

    redis_ = std::make_unique<RedisServer>();
    institution_ = std::make_unique<ServiceProcess>(
        "accord-institution", redis_->url(),
        std::vector<std::string>{credentials_flag});
    agreement_ = std::make_unique<ServiceProcess>(
        "accord-agreement", redis_->url(),
        std::vector<std::string>{
            credentials_flag,
            absl::StrCat("--institution_target=", institution_->address()),
            absl::StrCat("--institution_token_file=", dir,
                         "/agreement-token")});
    notification_ = std::make_unique<ServiceProcess>(
        "accord-notification", redis_->url(),
        std::vector<std::string>{
            credentials_flag, "--webhook_allow_cidrs=127.0.0.0/8",
            "--webhook_retry_schedule=5s", "--webhook_max_attempts=2",
            "--webhook_metrics_interval=200ms"});
    institutions_ =
        institution::v1::InstitutionService::NewStub(institution_->Channel());
    notifications_ = notification::v1::NotificationService::NewStub(
        notification_->Channel());
  }

  grpc::Status RecordInstitution(const std::string& id) {
    institution::v1::CreateInstitutionRequest request;
    request.set_institution_id(id);
    auto* name = request.mutable_institution()->add_names();
    name->set_text(absl::StrCat("University ", id));
    name->set_type(institution::v1::InstitutionName::TYPE_DISPLAY);
    request.mutable_institution()->set_kind(
        institution::v1::Institution::KIND_UNIVERSITY);
    request.mutable_institution()->set_country_code("IR");
    institution::v1::Institution created;
    return institutions_->CreateInstitution(
        ::accord::testing::AuthorizedContext(admin_).get(), request, &created);
  }

  // A webhook subscription to institution events at `url`.
  grpc::Status Subscribe(const std::string& id, const std::string& url) {
    notification::v1::CreateSubscriptionRequest request;
    request.set_subscription_id(id);
    auto* subscription = request.mutable_subscription();
    subscription->set_owner(kOwner);
    subscription->add_event_types("accord.institution.v1.*");
    subscription->mutable_webhook()->set_uri(url);
    subscription->mutable_webhook()->set_signing_secret(kSecret);
    notification::v1::Subscription created;
    return notifications_->CreateSubscription(
        ::accord::testing::AuthorizedContext(bot_).get(), request, &created);
  }

  // Scrapes the notification service until `done` holds for the scrape
  // (true), or `timeout` passes (false). `last` gets the last scrape.
  bool ScrapeUntil(const std::function<bool(const std::string&)>& done,
                   absl::Duration timeout, std::string* last = nullptr) {
    const absl::Time deadline = absl::Now() + timeout;
    std::string text;
    while (true) {
      text = Scrape(notification_->metrics_port());
      if (done(text)) break;
      if (absl::Now() >= deadline) {
        if (last != nullptr) *last = text;
        return false;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (last != nullptr) *last = text;
    return true;
  }

  std::string credentials_flag_;
  std::string admin_;
  std::string bot_;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ServiceProcess> institution_;
  std::unique_ptr<ServiceProcess> agreement_;
  std::unique_ptr<ServiceProcess> notification_;
  std::unique_ptr<institution::v1::InstitutionService::Stub> institutions_;
  std::unique_ptr<notification::v1::NotificationService::Stub> notifications_;
};

TEST_F(MonitoringScrapeTest, EveryServiceReportsItsBuild) {
  const std::map<std::string, int> ports = {
      {"institution", institution_->metrics_port()},
      {"agreement", agreement_->metrics_port()},
      {"notification", notification_->metrics_port()}};
  std::set<std::string> builds;
  for (const auto& [service, port] : ports) {
    const std::string text = Scrape(port);
    const std::regex pattern(
        "accord_build_info\\{service=\"" + service +
        "\",version=\"([0-9]+\\.[0-9]+\\.[0-9]+)\",git_commit=\"([0-9a-f]{7,40}"
        "|unknown)\",grpc_version=\"([0-9.]+)\",protobuf_version=\"([0-9.]+)"
        "\"\\} 1\n");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(text, match, pattern))
        << service << " exports no accord_build_info:\n"
        << text.substr(0, 2000);
    EXPECT_THAT(text, ::testing::HasSubstr("# TYPE accord_build_info gauge\n"));
    // One version and the same libraries everywhere (the commits may
    // differ when the binaries were built at different times).
    builds.insert(
        absl::StrCat(match[1].str(), " ", match[3].str(), " ", match[4].str()));
  }
  EXPECT_EQ(builds.size(), 1u);
}

TEST_F(MonitoringScrapeTest, BacklogAgeAndDeadLettersFollowADownEndpoint) {
  // Nobody listens here: every attempt fails at once (connection refused).
  const std::string url =
      absl::StrCat("http://127.0.0.1:", FreePort(), "/hook");
  ASSERT_TRUE(Subscribe("down-hook", url).ok());
  const std::vector<std::string> ours = {
      "subscription=\"subscriptions/down-hook\""};
  const std::vector<std::string> ours_active = {
      "subscription=\"subscriptions/down-hook\"", "state=\"active\""};

  // Before any event: the subscription's series exist, at zero, and the
  // dead-letter counter starts at 0 so that increase() sees the first one.
  std::string text;
  ASSERT_TRUE(ScrapeUntil(
      [&](const std::string& scraped) {
        return Sample(scraped, "accord_webhook_backlog", ours_active) == 0.0;
      },
      absl::Seconds(10), &text))
      << text;
  EXPECT_EQ(Sample(text, "accord_webhook_oldest_undelivered_age_seconds",
                   ours_active),
            0.0);
  EXPECT_EQ(Sample(text, "accord_webhook_dead_letters_total", ours), 0.0);

  ASSERT_TRUE(RecordInstitution("ut").ok());

  // Recorded and failing: one outstanding delivery whose age grows.
  ASSERT_TRUE(ScrapeUntil(
      [&](const std::string& scraped) {
        return Sample(scraped, "accord_webhook_backlog", ours_active) == 1.0;
      },
      absl::Seconds(10), &text))
      << text;
  const double first_age =
      Sample(text, "accord_webhook_oldest_undelivered_age_seconds", ours_active)
          .value_or(-1);
  EXPECT_GE(first_age, 0);
  EXPECT_LT(first_age, 5);
  absl::SleepFor(absl::Seconds(1));
  text = Scrape(notification_->metrics_port());
  EXPECT_EQ(Sample(text, "accord_webhook_backlog", ours_active), 1.0)
      << "the retry comes 4-6 s after the first attempt";
  EXPECT_GE(
      Sample(text, "accord_webhook_oldest_undelivered_age_seconds", ours_active)
          .value_or(-1),
      first_age + 0.5);
  EXPECT_EQ(Sample(text, "accord_webhook_dead_letters_total", ours), 0.0);

  // The second and last attempt fails: one dead letter, nothing
  // outstanding, age back to 0, and every event recorded.
  ASSERT_TRUE(ScrapeUntil(
      [&](const std::string& scraped) {
        return Sample(scraped, "accord_webhook_dead_letters_total", ours) ==
               1.0;
      },
      absl::Seconds(20), &text))
      << text;
  ASSERT_TRUE(ScrapeUntil(
      [&](const std::string& scraped) {
        return Sample(scraped, "accord_webhook_backlog", ours_active) == 0.0 &&
               Sample(scraped, "accord_webhook_oldest_undelivered_age_seconds",
                      ours_active) == 0.0;
      },
      absl::Seconds(10), &text))
      << text;
  EXPECT_EQ(Sample(text, "accord_webhook_deliveries_total",
                   {"state=\"STATE_DEAD_LETTERED\""}),
            1.0);
  EXPECT_EQ(
      Sample(text, "accord_webhook_attempts_total", {"outcome=\"no_answer\""}),
      2.0);
  EXPECT_EQ(Sample(text, "accord_webhook_unrecorded_events"), 0.0);
  EXPECT_EQ(Sample(text, "accord_webhook_backlog_refresh_errors_total"),
            std::nullopt);
}

TEST_F(MonitoringScrapeTest, SubscriptionsBeyondTheCapAreSummedIntoOther) {
  // A second replica on the same Redis, with room for one subscription's
  // series.
  ServiceProcess capped(
      "accord-notification", redis_->url(),
      {credentials_flag_, "--webhook_allow_cidrs=127.0.0.0/8",
       "--webhook_retry_schedule=5s", "--webhook_max_attempts=2",
       "--webhook_metrics_interval=200ms",
       "--webhook_metrics_max_subscriptions=1", "--consumer_name=capped"});
  // "behind" fails and keeps its one event outstanding; "idle" takes
  // agreement events only and has nothing outstanding.
  ASSERT_TRUE(
      Subscribe("behind", absl::StrCat("http://127.0.0.1:", FreePort(), "/h"))
          .ok());
  notification::v1::CreateSubscriptionRequest request;
  request.set_subscription_id("idle");
  request.mutable_subscription()->set_owner(kOwner);
  request.mutable_subscription()->add_event_types("accord.agreement.v1.*");
  request.mutable_subscription()->mutable_webhook()->set_uri(
      "http://127.0.0.1:9/idle");
  request.mutable_subscription()->mutable_webhook()->set_signing_secret(
      kSecret);
  notification::v1::Subscription created;
  ASSERT_TRUE(
      notifications_
          ->CreateSubscription(::accord::testing::AuthorizedContext(bot_).get(),
                               request, &created)
          .ok());
  ASSERT_TRUE(RecordInstitution("ut").ok());

  // The oldest backlog keeps its series; the other is summed into _other.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::string text;
  while (absl::Now() < deadline) {
    text = Scrape(capped.metrics_port());
    if (Sample(text, "accord_webhook_backlog",
               {"subscription=\"subscriptions/behind\""}) == 1.0) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(Sample(text, "accord_webhook_backlog",
                   {"subscription=\"subscriptions/behind\""}),
            1.0)
      << text;
  EXPECT_EQ(Sample(text, "accord_webhook_backlog",
                   {"subscription=\"subscriptions/idle\""}),
            std::nullopt);
  EXPECT_EQ(Sample(text, "accord_webhook_backlog",
                   {"subscription=\"_other\"", "state=\"active\""}),
            0.0);
  EXPECT_EQ(Sample(text, "accord_webhook_oldest_undelivered_age_seconds",
                   {"subscription=\"_other\"", "state=\"active\""}),
            0.0);
  // The uncapped replica reports both, the same Redis state.
  EXPECT_TRUE(ScrapeUntil(
      [&](const std::string& scraped) {
        return Sample(scraped, "accord_webhook_backlog",
                      {"subscription=\"subscriptions/idle\""}) == 0.0 &&
               Sample(scraped, "accord_webhook_backlog",
                      {"subscription=\"subscriptions/behind\""}) == 1.0;
      },
      absl::Seconds(10), &text))
      << text;
}

TEST_F(MonitoringScrapeTest, IdleStreamReadsAreNotRedisLatency) {
  // The webhook reader blocks up to 500 ms in XREADGROUP when there is
  // nothing to read; idle for 3 s, that wait must not reach the histogram.
  absl::SleepFor(absl::Seconds(3));
  const std::string text = Scrape(notification_->metrics_port());
  const double all =
      Sample(text, "accord_redis_round_trip_seconds_bucket", {"le=\"+Inf\""})
          .value_or(-1);
  const double fast =
      Sample(text, "accord_redis_round_trip_seconds_bucket", {"le=\"0.25\""})
          .value_or(-1);
  ASSERT_GT(all, 0);
  // Allows a slow round trip on a busy machine, not six blocking reads.
  EXPECT_LE(all - fast, 2) << text;
}

// Metric names in `text`: accord_* and process_* identifiers, with a
// histogram's _bucket/_sum/_count suffix dropped.
std::set<std::string> MetricNamesIn(const std::string& text) {
  std::set<std::string> names;
  const std::regex pattern("\\b((accord|process)_[a-z0-9_]+)\\b");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
       it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[1].str();
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(name, suffix)) {
        name = name.substr(0, name.size() - std::string(suffix).size());
      }
    }
    names.insert(name);
  }
  return names;
}

TEST_F(MonitoringScrapeTest,
       RulesAndDashboardNameOnlyMetricsTheServicesExport) {
  // A webhook subscription and an event, so the webhook families exist.
  ASSERT_TRUE(Subscribe("up-hook", "http://127.0.0.1:9/hook").ok());
  ASSERT_TRUE(RecordInstitution("ut").ok());
  std::string text;
  ASSERT_TRUE(ScrapeUntil(
      [&](const std::string& scraped) {
        return Sample(scraped, "accord_webhook_backlog",
                      {"subscription=\"subscriptions/up-hook\""})
            .has_value();
      },
      absl::Seconds(10), &text));

  std::set<std::string> exported;
  for (const int port :
       {institution_->metrics_port(), agreement_->metrics_port(),
        notification_->metrics_port()}) {
    for (absl::string_view line : absl::StrSplit(Scrape(port), '\n')) {
      if (absl::ConsumePrefix(&line, "# TYPE ")) {
        exported.insert(std::string(line.substr(0, line.find(' '))));
      }
    }
  }
  for (const char* file : {"deploy/k8s/monitoring/prometheusrule.yaml",
                           "deploy/k8s/monitoring/dashboards/accord.json"}) {
    const std::set<std::string> named = MetricNamesIn(ReadSource(file));
    EXPECT_GE(named.size(), 5u) << file;
    for (const std::string& name : named) {
      EXPECT_TRUE(exported.contains(name))
          << file << " names " << name << ", which no service exports";
    }
  }
}

}  // namespace
}  // namespace accord
