// accordctl as people use it: the real binary, run as a child process,
// against a real redis-server and the real institution, agreement and
// notification services with authentication on (the token comes from
// ACCORD_TOKEN, as an operator's shell would have it).
//
// Loosened, and why: the notification service may send webhooks to
// loopback (`--webhook_allow_cidrs`), where the test's dead endpoint is, and
// gives up after two attempts 50 ms apart (the shipped schedule spans a
// day), so a dead letter exists within a second for the redrive verbs.

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "accord/auth/v1/auth.pb.h"
#include "accord/institution/v1/institution.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/harness/credentials.h"
#include "tests/harness/processes.h"

namespace accord::cli {
namespace {

using ::accord::testing::BinaryPath;
using ::accord::testing::FreePort;
using ::accord::testing::MakeTempDir;
using ::accord::testing::RedisServer;
using ::accord::testing::ServiceProcess;
using ::accord::testing::TestCredentials;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct Outcome {
  int exit_code = -1;  // -1: killed at the timeout
  std::string out;
  std::string err;
  absl::Duration took;

  std::vector<std::string> OutLines() const {
    return absl::StrSplit(out, '\n', absl::SkipEmpty());
  }
  std::vector<std::string> ErrLines() const {
    return absl::StrSplit(err, '\n', absl::SkipEmpty());
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class AccordctlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("accordctl-test"));
    TestCredentials credentials;
    admin_ = new std::string(credentials.Add("operator", auth::v1::ROLE_ADMIN));
    const std::string service_token =
        credentials.Add("agreement-service", auth::v1::ROLE_VIEWER);
    std::ofstream(*dir_ + "/agreement-token") << service_token << "\n";
    const std::string credentials_flag = credentials.Write(*dir_);
    redis_ = new RedisServer();
    institution_ =
        new ServiceProcess("accord-institution", redis_->url(),
                           std::vector<std::string>{credentials_flag});
    agreement_ = new ServiceProcess(
        "accord-agreement", redis_->url(),
        std::vector<std::string>{
            credentials_flag,
            absl::StrCat("--institution_target=", institution_->address()),
            absl::StrCat("--institution_token_file=", *dir_,
                         "/agreement-token")});
    notification_ = new ServiceProcess(
        "accord-notification", redis_->url(),
        std::vector<std::string>{
            credentials_flag, "--webhook_allow_cidrs=127.0.0.0/8",
            "--webhook_retry_schedule=50ms", "--webhook_max_attempts=2"});
    const Outcome import = Accordctl(
        {"import", absl::StrCat(ACCORD_SOURCE_DIR, "/examples/seed")});
    ASSERT_EQ(import.exit_code, 0) << import.err;
  }

  static void TearDownTestSuite() {
    delete notification_;
    delete agreement_;
    delete institution_;
    delete redis_;
    delete admin_;
    delete dir_;
  }

  // Runs `argv` (argv[0] a path) with the suite's targets and token in the
  // environment; kills it after `timeout`.
  static Outcome Execute(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(20)) {
    static int runs = 0;
    const std::string out_path = absl::StrCat(*dir_, "/out.", ++runs);
    const std::string err_path = absl::StrCat(*dir_, "/err.", runs);
    const absl::Time start = absl::Now();
    const pid_t pid = fork();
    if (pid == 0) {
      const int out =
          open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err =
          open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int in = open("/dev/null", O_RDONLY);
      dup2(out, 1);
      dup2(err, 2);
      dup2(in, 0);
      setenv("ACCORD_INSTITUTION_TARGET", institution_->address().c_str(), 1);
      setenv("ACCORD_AGREEMENT_TARGET", agreement_->address().c_str(), 1);
      setenv("ACCORD_NOTIFICATION_TARGET", notification_->address().c_str(), 1);
      setenv("ACCORD_TOKEN", admin_->c_str(), 1);
      setenv("PATH", absl::StrCat(ACCORD_BIN_DIR, ":/usr/bin:/bin").c_str(), 1);
      std::vector<char*> args;
      for (const std::string& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));
      }
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    Outcome run;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (absl::Now() - start > timeout) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        status = -1;
        break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }
    run.took = absl::Now() - start;
    if (status != -1 && WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
    run.out = ReadFile(out_path);
    run.err = ReadFile(err_path);
    return run;
  }

  static Outcome Accordctl(std::vector<std::string> args,
                           absl::Duration timeout = absl::Seconds(20)) {
    args.insert(args.begin(), BinaryPath("accordctl"));
    return Execute(args, timeout);
  }

  // A printed command, pasted into a shell.
  static Outcome Shell(const std::string& command) {
    return Execute({"/bin/sh", "-c", command});
  }

  static inline std::string* dir_ = nullptr;
  static inline std::string* admin_ = nullptr;
  static inline RedisServer* redis_ = nullptr;
  static inline ServiceProcess* institution_ = nullptr;
  static inline ServiceProcess* agreement_ = nullptr;
  static inline ServiceProcess* notification_ = nullptr;
};

// The next-page command `list` prints on standard error, or "".
std::string NextPageCommand(const Outcome& run) {
  const std::vector<std::string> lines = run.ErrLines();
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (absl::StartsWith(lines[i], "next page")) return lines[i + 1];
  }
  return "";
}

TEST_F(AccordctlTest, NextPageCommandRoundTripsThePageToken) {
  const Outcome all = Accordctl({"list", "institutions", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  ASSERT_GE(all.OutLines().size(), 5u);
  EXPECT_EQ(NextPageCommand(all), "");

  const Outcome first = Accordctl({"list", "institutions", "--page-size", "2"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(first.OutLines().size(), 2u);
  std::string command = NextPageCommand(first);
  // The hint names the flag that takes the token, and never the bearer
  // token.
  EXPECT_THAT(command, AllOf(HasSubstr(" --page-token="),
                             HasSubstr("list institutions --page-size=2")));
  EXPECT_THAT(first.err, Not(HasSubstr(*admin_)));

  // Pasting each printed command walks every page, no gap, no repeat.
  std::vector<std::string> walked = first.OutLines();
  int pages = 1;
  while (!command.empty()) {
    const Outcome next = Shell(command);
    ASSERT_EQ(next.exit_code, 0) << command << "\n" << next.err;
    ASSERT_FALSE(next.OutLines().empty());
    for (const std::string& line : next.OutLines()) walked.push_back(line);
    command = NextPageCommand(next);
    ASSERT_LT(++pages, 20);
  }
  EXPECT_GE(pages, 3);
  EXPECT_EQ(walked, all.OutLines());

  // The token can also be given by hand, in either spelling.
  const std::string token = NextPageCommand(first).substr(
      NextPageCommand(first).find("--page-token=") + 13);
  const Outcome spaced = Accordctl(
      {"list", "institutions", "--page-size", "2", "--page-token", token});
  const Outcome underscore = Accordctl(
      {"list", "institutions", "--page_size=2", "--page_token=" + token});
  ASSERT_EQ(spaced.exit_code, 0) << spaced.err;
  EXPECT_EQ(spaced.OutLines(),
            std::vector<std::string>(walked.begin() + 2, walked.begin() + 4));
  EXPECT_EQ(underscore.out, spaced.out);
}

TEST_F(AccordctlTest, FlagValuesWithSpacesWorkInBothSpellings) {
  const std::string filter = "country_code = \"RU\"";
  const Outcome spaced =
      Accordctl({"list", "--filter", filter, "institutions"});
  const Outcome joined =
      Accordctl({"list", "institutions", "--filter=" + filter});
  ASSERT_EQ(spaced.exit_code, 0) << spaced.err;
  ASSERT_EQ(joined.exit_code, 0) << joined.err;
  ASSERT_FALSE(spaced.OutLines().empty());
  EXPECT_EQ(spaced.out, joined.out);
  for (const std::string& line : spaced.OutLines()) {
    EXPECT_THAT(line, HasSubstr("\"countryCode\":\"RU\""));
  }
  const Outcome all = Accordctl({"list", "institutions", "--all"});
  EXPECT_LT(spaced.OutLines().size(), all.OutLines().size());

  // Global flags too, and the old underscore spellings still work.
  for (const std::vector<std::string>& target :
       {std::vector<std::string>{"--institution-target",
                                 institution_->address()},
        std::vector<std::string>{"--institution_target=" +
                                 institution_->address()}}) {
    std::vector<std::string> args = {"search", "Tehran University"};
    args.insert(args.end(), target.begin(), target.end());
    const Outcome search = Accordctl(args);
    EXPECT_EQ(search.exit_code, 0) << search.err;
    EXPECT_THAT(search.out, HasSubstr("institutions/tums"));
  }
  // A flag that needs a value and has none is a usage error, not a hang.
  const Outcome missing = Accordctl({"list", "institutions", "--filter"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("--filter needs a value"));
}

// The JSON template printed under "every field a caller may set:".
std::string TemplateOf(const std::string& help) {
  const size_t start = help.find("every field a caller may set:\n");
  if (start == std::string::npos) return "";
  const size_t begin = help.find('\n', start) + 1;
  const size_t end = help.find("\nValues:", begin);
  return help.substr(
      begin, end == std::string::npos ? std::string::npos : end - begin);
}

TEST_F(AccordctlTest, HelpVerbPrintsItsUsageAndAJsonTemplate) {
  const Outcome help = Accordctl({"help", "create", "institutions"});
  const Outcome flag = Accordctl({"create", "institutions", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  EXPECT_EQ(help.out, flag.out);
  EXPECT_THAT(help.out,
              StartsWith("Usage: accordctl create COLLECTION FILE|-"));
  EXPECT_THAT(help.out, HasSubstr("--request-id R"));
  EXPECT_THAT(help.out, Not(HasSubstr("Verbs (")));  // not the global usage

  const std::string json = TemplateOf(help.out);
  institution::v1::Institution parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &parsed).ok())
      << help.out;
  EXPECT_EQ(parsed.names_size(), 1);
  EXPECT_THAT(json, Not(HasSubstr("createTime")));  // output only
  EXPECT_THAT(json, Not(HasSubstr("\"etag\"")));
  EXPECT_THAT(help.out, HasSubstr("kind: KIND_UNIVERSITY | "));

  // The template, filled in as a user would (real values where it holds
  // placeholders, unwanted fields dropped), creates the resource.
  parsed.mutable_names(0)->set_text("Created From The Template");
  parsed.mutable_names(0)->set_language_code("en");
  parsed.set_country_code("IR");
  parsed.clear_parent();
  parsed.clear_relations();
  parsed.clear_external_ids();
  parsed.clear_website_uri();
  std::string compact;
  ASSERT_TRUE(
      google::protobuf::util::MessageToJsonString(parsed, &compact).ok());
  const std::string path = *dir_ + "/from-template.json";
  std::ofstream(path) << compact;
  const Outcome created =
      Accordctl({"create", "institutions", path, "--id", "from-template"});
  EXPECT_EQ(created.exit_code, 0) << compact << "\n" << created.err;
  EXPECT_THAT(created.out,
              HasSubstr("\"name\":\"institutions/from-template\""));

  // Any method's request, for `call`.
  const Outcome call = Accordctl({"call", "TransitionMilestone", "--help"});
  EXPECT_EQ(call.exit_code, 0);
  EXPECT_THAT(TemplateOf(call.out),
              AllOf(HasSubstr("\"transitionDate\": \"string\""),
                    Not(HasSubstr("recordTime"))));
  EXPECT_THAT(call.out, HasSubstr("transition.state: STATE_PROPOSED | "));
}

TEST_F(AccordctlTest, TablesHaveAHeaderRow) {
  const Outcome institutions =
      Accordctl({"list", "institutions", "--all", "--output", "table"});
  ASSERT_EQ(institutions.exit_code, 0) << institutions.err;
  const std::vector<std::string> rows = institutions.OutLines();
  ASSERT_GE(rows.size(), 3u);
  EXPECT_EQ(rows[0], "NAME\tTITLE\tKIND\tSTATE");
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_THAT(rows[i], StartsWith("institutions/"));
    EXPECT_EQ(std::count(rows[i].begin(), rows[i].end(), '\t'), 3) << rows[i];
  }
  // Only one header, however many pages.
  const Outcome paged = Accordctl(
      {"list", "institutions", "--all", "--page-size=3", "--output=table"});
  EXPECT_EQ(paged.out, institutions.out);

  const Outcome search =
      Accordctl({"search", "Tehran University", "--output=table"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  EXPECT_EQ(search.OutLines().at(0), "SCORE\tNAME\tMATCHED_NAME");
  const Outcome get = Accordctl({"get", "institutions/tums", "--output=table"});
  EXPECT_THAT(get.OutLines(), ElementsAre("NAME\tTITLE\tKIND\tSTATE",
                                          StartsWith("institutions/tums\t")));
}

TEST_F(AccordctlTest, EachErrorPrintsOnceOnOneLine) {
  const std::string path = *dir_ + "/bad-institution.json";
  std::ofstream(path) << R"({"countryCode": "XX"})";
  const Outcome bad = Accordctl({"create", "institutions", path});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(bad.out.empty());
  ASSERT_EQ(bad.ErrLines().size(), 1u) << bad.err;
  EXPECT_THAT(bad.err, StartsWith("accordctl: INVALID_ARGUMENT: "));
  for (const std::string field :
       {"institution.country_code", "institution.kind", "institution.names"}) {
    size_t count = 0;
    for (size_t at = bad.err.find(field); at != std::string::npos;
         at = bad.err.find(field, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u) << field << " in " << bad.err;
  }

  const Outcome missing = Accordctl({"get", "institutions/no-such-thing"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.ErrLines(),
              ElementsAre(StartsWith("accordctl: NOT_FOUND: ")));

  // An import stops at the failing call: where, then the error, once.
  const std::string data = *dir_ + "/bad-import.json";
  std::ofstream(data) << R"([{"createInstitution": {"institution": {}}}])";
  const Outcome import = Accordctl({"import", data});
  EXPECT_EQ(import.exit_code, 1);
  ASSERT_EQ(import.ErrLines().size(), 1u) << import.err;
  EXPECT_THAT(import.err, StartsWith("accordctl: INVALID_ARGUMENT: " + data +
                                     "[0] createInstitution: institution."));
}

TEST_F(AccordctlTest, UnknownWatchTypeIsRefusedAtOnceWithTheValidOnes) {
  const Outcome refused =
      Accordctl({"watch", "--types", "agreement"}, absl::Seconds(10));
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_LT(refused.took, absl::Seconds(5));
  EXPECT_THAT(refused.err, HasSubstr("\"agreement\""));
  std::set<std::string> listed;
  for (const std::string& line : refused.ErrLines()) {
    if (absl::StartsWith(line, "  ")) listed.insert(line.substr(2));
  }
  EXPECT_TRUE(listed.count("accord.agreement.v1.recorded")) << refused.err;
  EXPECT_TRUE(listed.count("accord.milestone.v1.state_changed"));
  // The same list as event-types.
  const Outcome types = Accordctl({"event-types", "--output=table"});
  ASSERT_EQ(types.exit_code, 0) << types.err;
  EXPECT_EQ(types.OutLines().at(0), "TYPE\tSOURCE\tDESCRIPTION");
  EXPECT_EQ(listed.size(), types.OutLines().size() - 1);

  // A valid prefix streams, under a header, until the watcher stops it.
  const Outcome watched = Accordctl({"watch", "--types=accord.milestone.v1.*",
                                     "--from", "earliest", "--output", "table"},
                                    absl::Seconds(3));
  EXPECT_EQ(watched.exit_code, -1) << watched.err;  // still watching
  ASSERT_GE(watched.OutLines().size(), 2u) << watched.err;
  EXPECT_EQ(watched.OutLines()[0], "POSITION\tTYPE\tSUBJECT");
  EXPECT_THAT(watched.OutLines()[1], HasSubstr("\taccord.milestone.v1."));
}

TEST_F(AccordctlTest, TransitionMovesAMilestone) {
  const std::string milestone =
      "agreements/iran-russia-comprehensive-strategic-partnership/milestones/"
      "platform-for-russian-students-in-iran";
  const Outcome planned =
      Accordctl({"transition", milestone, "planned", "--date", "2025-05-01"});
  ASSERT_EQ(planned.exit_code, 0) << planned.err;
  EXPECT_THAT(planned.out, HasSubstr("\"state\":\"STATE_PLANNED\""));
  const Outcome achieved = Accordctl({"transition", milestone, "STATE_ACHIEVED",
                                      "--date=2025-09-01", "--output=table"});
  ASSERT_EQ(achieved.exit_code, 0) << achieved.err;
  EXPECT_THAT(achieved.OutLines(),
              ElementsAre("NAME\tTITLE\tSTATE\tDUE_DATE",
                          HasSubstr("\tSTATE_ACHIEVED\t")));
  const Outcome read = Accordctl({"get", milestone});
  EXPECT_THAT(read.out, AllOf(HasSubstr("\"doneDate\":\"2025-09-01\""),
                              HasSubstr("\"transitionDate\":\"2025-05-01\"")));

  const Outcome unknown = Accordctl({"transition", milestone, "finished"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("in-progress, achieved, cancelled"));
}

TEST_F(AccordctlTest, DeliveriesDeadLettersAndRedrive) {
  // A webhook to a port nobody listens on: every delivery dead-letters.
  const std::string subscription = absl::StrCat(
      R"({"owner": "institutions/tums", "eventTypes": ["accord.institution.v1.*"],)",
      R"( "webhook": {"uri": "http://127.0.0.1:)", FreePort(),
      R"(/hook", "signingSecret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}})");
  const std::string path = *dir_ + "/subscription.json";
  std::ofstream(path) << subscription;
  const Outcome created =
      Accordctl({"create", "subscriptions", path, "--id", "nowhere"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string patch = *dir_ + "/patch.json";
  std::ofstream(patch) << R"({"websiteUri": "https://tums.ac.ir/"})";
  const Outcome updated = Accordctl(
      {"update", "institutions/tums", patch, "--mask", "website_uri"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;

  Outcome dead;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  do {
    absl::SleepFor(absl::Milliseconds(100));
    dead = Accordctl({"dead-letters", "subscriptions/nowhere"});
    ASSERT_EQ(dead.exit_code, 0) << dead.err;
  } while (dead.OutLines().empty() && absl::Now() < deadline);
  ASSERT_EQ(dead.OutLines().size(), 1u) << notification_->ReadLog();
  EXPECT_THAT(dead.out, HasSubstr("\"state\":\"STATE_DEAD_LETTERED\""));
  const std::string delivery =
      dead.out.substr(dead.out.find("subscriptions/nowhere/deliveries/"));
  const std::string name = delivery.substr(0, delivery.find('"'));

  const Outcome table = Accordctl({"deliveries", "subscriptions/nowhere",
                                   "--dead-letters", "--output=table"});
  EXPECT_THAT(table.OutLines(),
              ElementsAre("NAME\tSTATE\tEVENT_TYPE",
                          name + "\tSTATE_DEAD_LETTERED\t"
                                 "accord.institution.v1.updated"));
  const Outcome listed =
      Accordctl({"list", "subscriptions/nowhere/deliveries"});
  EXPECT_EQ(listed.OutLines().size(), 1u) << listed.err;
  const Outcome order = Accordctl(
      {"list", "subscriptions/nowhere/deliveries", "--order-by", "name"});
  EXPECT_EQ(order.exit_code, 2);
  EXPECT_THAT(order.err, HasSubstr("takes no --order-by"));

  const Outcome redriven = Accordctl({"redrive", "subscriptions/nowhere"});
  ASSERT_EQ(redriven.exit_code, 0) << redriven.err;
  EXPECT_EQ(redriven.out, absl::StrCat("{\"deliveries\":[\"", name, "\"]}\n"));
  EXPECT_THAT(redriven.err, HasSubstr("redriven: 1"));

  // Dead again after its fresh attempts; retry sends it once more.
  do {
    absl::SleepFor(absl::Milliseconds(100));
    dead = Accordctl({"dead-letters", "subscriptions/nowhere"});
  } while (dead.OutLines().empty() && absl::Now() < deadline);
  const Outcome retried = Accordctl({"retry", name});
  ASSERT_EQ(retried.exit_code, 0) << retried.err;
  EXPECT_THAT(retried.out, HasSubstr("\"name\":\"" + name + "\""));
}

}  // namespace
}  // namespace accord::cli
