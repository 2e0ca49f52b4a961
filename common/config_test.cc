#include "common/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace accord {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A fake environment for FlagSet::Parse.
using Env = std::map<std::string, std::string>;

std::function<const char*(const char*)> GetenvFrom(const Env& env) {
  return [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

// Every kind of flag, with defaults, registered on one FlagSet.
struct AllFlags {
  std::string name = "default-name";
  std::string listen = "127.0.0.1:50051";
  std::string metrics = "";
  RedisUrl redis;
  absl::Duration timeout = absl::Seconds(5);
  int64_t workers = 4;
  bool verbose = false;
  std::string log_format = "text";
  FlagSet flags{"accord-test", "A program for tests."};

  AllFlags() {
    flags.AddString("name", &name, "a name");
    flags.AddHostPort("listen", &listen, "address to listen on");
    flags.AddHostPort("metrics_listen", &metrics, "metrics address",
                      /*optional=*/true);
    flags.AddRedisUrl("redis", &redis, "where Redis is");
    flags.AddDuration("timeout", &timeout, "how long to wait");
    flags.AddInt("workers", &workers, 1, 64, "how many workers");
    flags.AddBool("verbose", &verbose, "log more");
    flags.AddChoice("log_format", &log_format, {"text", "json"}, "how to log");
  }

  absl::Status Parse(const std::vector<std::string>& args,
                     const Env& env = Env()) {
    return flags.Parse(args, GetenvFrom(env));
  }
};

TEST(EnvVarForFlagTest, PrefixesAccordAndUpperCases) {
  EXPECT_EQ(EnvVarForFlag("redis"), "ACCORD_REDIS");
  EXPECT_EQ(EnvVarForFlag("metrics_listen"), "ACCORD_METRICS_LISTEN");
}

TEST(FlagSetTest, NoArgumentsAndEmptyEnvironmentKeepDefaults) {
  AllFlags all;
  ASSERT_TRUE(all.Parse({}).ok());
  EXPECT_EQ(all.name, "default-name");
  EXPECT_EQ(all.listen, "127.0.0.1:50051");
  EXPECT_EQ(all.metrics, "");
  EXPECT_EQ(all.redis.host, "127.0.0.1");
  EXPECT_EQ(all.redis.port, 6379);
  EXPECT_EQ(all.timeout, absl::Seconds(5));
  EXPECT_EQ(all.workers, 4);
  EXPECT_FALSE(all.verbose);
  EXPECT_EQ(all.log_format, "text");
  EXPECT_FALSE(all.flags.help_requested());
}

TEST(FlagSetTest, ParsesEveryKindFromFlagEqualsValue) {
  AllFlags all;
  const absl::Status status = all.Parse({
      "--name=tums",
      "--listen=[::1]:0",
      "--metrics_listen=0.0.0.0:9090",
      "--redis=redis://accord:s3cret@redis.local:6380/2",
      "--timeout=1500ms",
      "--workers=16",
      "--verbose=true",
      "--log_format=json",
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(all.name, "tums");
  EXPECT_EQ(all.listen, "[::1]:0");
  EXPECT_EQ(all.metrics, "0.0.0.0:9090");
  EXPECT_EQ(all.redis.host, "redis.local");
  EXPECT_EQ(all.redis.port, 6380);
  EXPECT_EQ(all.redis.user, "accord");
  EXPECT_EQ(all.redis.password, "s3cret");
  EXPECT_EQ(all.redis.db, 2);
  EXPECT_EQ(all.timeout, absl::Milliseconds(1500));
  EXPECT_EQ(all.workers, 16);
  EXPECT_TRUE(all.verbose);
  EXPECT_EQ(all.log_format, "json");
}

TEST(FlagSetTest, BareBoolFlagMeansTrueAndFalseValuesClearIt) {
  AllFlags all;
  ASSERT_TRUE(all.Parse({"--verbose"}).ok());
  EXPECT_TRUE(all.verbose);
  ASSERT_TRUE(all.Parse({"--verbose=0"}).ok());
  EXPECT_FALSE(all.verbose);
  ASSERT_TRUE(all.Parse({"--verbose=1"}).ok());
  EXPECT_TRUE(all.verbose);
  ASSERT_TRUE(all.Parse({"--verbose=false"}).ok());
  EXPECT_FALSE(all.verbose);
}

TEST(FlagSetTest, OptionalHostPortAcceptsEmptyValueAndClearsIt) {
  AllFlags all;
  all.metrics = "127.0.0.1:9090";
  ASSERT_TRUE(all.Parse({"--metrics_listen="}).ok());
  EXPECT_EQ(all.metrics, "");
}

TEST(FlagSetTest, RequiredHostPortRejectsEmptyValue) {
  AllFlags all;
  const absl::Status status = all.Parse({"--listen="});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--listen"));
}

TEST(FlagSetTest, ReadsEnvironmentVariableWhenFlagIsAbsent) {
  AllFlags all;
  const Env env = {{"ACCORD_NAME", "from-env"},
                   {"ACCORD_WORKERS", "8"},
                   {"ACCORD_REDIS", "redis://:pw@10.0.0.5:7000/3"},
                   {"ACCORD_TIMEOUT", "2s"},
                   {"ACCORD_VERBOSE", "true"},
                   {"ACCORD_LOG_FORMAT", "json"},
                   {"ACCORD_LISTEN", "0.0.0.0:8080"}};
  const absl::Status status = all.Parse({}, env);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(all.name, "from-env");
  EXPECT_EQ(all.workers, 8);
  EXPECT_EQ(all.redis.host, "10.0.0.5");
  EXPECT_EQ(all.redis.port, 7000);
  EXPECT_EQ(all.redis.password, "pw");
  EXPECT_EQ(all.redis.db, 3);
  EXPECT_EQ(all.timeout, absl::Seconds(2));
  EXPECT_TRUE(all.verbose);
  EXPECT_EQ(all.log_format, "json");
  EXPECT_EQ(all.listen, "0.0.0.0:8080");
}

TEST(FlagSetTest, CommandLineWinsOverEnvironment) {
  AllFlags all;
  const Env env = {{"ACCORD_NAME", "from-env"}, {"ACCORD_WORKERS", "8"}};
  ASSERT_TRUE(all.Parse({"--name=from-flag"}, env).ok());
  EXPECT_EQ(all.name, "from-flag");
  EXPECT_EQ(all.workers, 8);  // Not on the command line: from the env.
}

TEST(FlagSetTest, BadEnvironmentValueIsIgnoredWhenFlagIsGiven) {
  AllFlags all;
  const Env env = {{"ACCORD_WORKERS", "not-a-number"}};
  ASSERT_TRUE(all.Parse({"--workers=2"}, env).ok());
  EXPECT_EQ(all.workers, 2);
}

TEST(FlagSetTest, UnknownFlagIsInvalidArgumentNamingIt) {
  AllFlags all;
  const absl::Status status = all.Parse({"--colour=blue"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("unknown flag --colour"));
}

TEST(FlagSetTest, PositionalArgumentIsInvalidArgument) {
  AllFlags all;
  const absl::Status status = all.Parse({"extra"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("\"extra\""));
}

TEST(FlagSetTest, HelpSetsHelpRequestedWithoutError) {
  AllFlags all;
  EXPECT_TRUE(all.Parse({"--help"}).ok());
  EXPECT_TRUE(all.flags.help_requested());

  AllFlags short_form;
  EXPECT_TRUE(short_form.Parse({"-h"}).ok());
  EXPECT_TRUE(short_form.flags.help_requested());
}

TEST(FlagSetTest, HelpWinsOverLaterBadFlags) {
  AllFlags all;
  EXPECT_TRUE(all.Parse({"--help", "--workers=1000"}).ok());
  EXPECT_TRUE(all.flags.help_requested());
  EXPECT_EQ(all.workers, 4);
}

TEST(FlagSetTest, UsageListsEveryFlagWithEnvVarAndDefault) {
  AllFlags all;
  const std::string usage = all.flags.Usage();
  EXPECT_THAT(usage, HasSubstr("accord-test"));
  EXPECT_THAT(usage, HasSubstr("A program for tests."));
  EXPECT_THAT(usage, HasSubstr("--workers  (ACCORD_WORKERS, default \"4\")"));
  EXPECT_THAT(usage, HasSubstr("--log_format"));
  EXPECT_THAT(usage, HasSubstr("(text|json)"));
  EXPECT_THAT(usage, HasSubstr("ACCORD_REDIS"));
}

TEST(FlagSetTest, UsageRedactsRedisPasswordDefault) {
  RedisUrl redis;
  redis.password = "hunter2-secret";
  FlagSet flags("accord-test", "");
  flags.AddRedisUrl("redis", &redis, "where Redis is");
  EXPECT_THAT(flags.Usage(), Not(HasSubstr("hunter2-secret")));
}

// Bad values for each kind of flag: the message names the flag given on the
// command line, or the environment variable it came from.
struct BadValueCase {
  std::string flag;
  std::string value;
};

class FlagSetBadValueTest : public ::testing::TestWithParam<BadValueCase> {};

TEST_P(FlagSetBadValueTest, CommandLineErrorNamesTheFlag) {
  AllFlags all;
  const BadValueCase& c = GetParam();
  const absl::Status status = all.Parse({"--" + c.flag + "=" + c.value});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("--" + c.flag + ": "));
}

TEST_P(FlagSetBadValueTest, EnvironmentErrorNamesTheVariable) {
  AllFlags all;
  const BadValueCase& c = GetParam();
  const std::string env_var = EnvVarForFlag(c.flag);
  const absl::Status status = all.Parse({}, Env{{env_var, c.value}});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr(env_var + ": "));
}

INSTANTIATE_TEST_SUITE_P(
    EveryKind, FlagSetBadValueTest,
    ::testing::Values(
        BadValueCase{"listen", "localhost"},
        BadValueCase{"listen", "localhost:70000"},
        BadValueCase{"metrics_listen", "nohost"},
        BadValueCase{"redis", "http://localhost:6379"},
        BadValueCase{"redis", "redis://localhost:6379/16"},
        BadValueCase{"timeout", "soon"}, BadValueCase{"timeout", "-1s"},
        BadValueCase{"workers", "many"}, BadValueCase{"workers", "0"},
        BadValueCase{"workers", "65"}, BadValueCase{"verbose", "yes"},
        BadValueCase{"log_format", "xml"}),
    [](const ::testing::TestParamInfo<BadValueCase>& param_info) {
      return param_info.param.flag + "_" + std::to_string(param_info.index);
    });

TEST(FlagSetTest, IntBoundsAreInclusive) {
  AllFlags all;
  ASSERT_TRUE(all.Parse({"--workers=1"}).ok());
  EXPECT_EQ(all.workers, 1);
  ASSERT_TRUE(all.Parse({"--workers=64"}).ok());
  EXPECT_EQ(all.workers, 64);
}

TEST(FlagSetTest, BadValueLeavesTheVariableUnchanged) {
  AllFlags all;
  EXPECT_FALSE(all.Parse({"--workers=100"}).ok());
  EXPECT_EQ(all.workers, 4);
  EXPECT_FALSE(all.Parse({"--log_format=xml"}).ok());
  EXPECT_EQ(all.log_format, "text");
}

TEST(ParseHostPortTest, ParsesIpv4AndPort) {
  absl::StatusOr<HostPort> parsed = ParseHostPort("127.0.0.1:50051");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "127.0.0.1");
  EXPECT_EQ(parsed->port, 50051);
  EXPECT_EQ(parsed->ToString(), "127.0.0.1:50051");
}

TEST(ParseHostPortTest, ParsesHostName) {
  absl::StatusOr<HostPort> parsed = ParseHostPort("localhost:6379");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "localhost");
  EXPECT_EQ(parsed->port, 6379);
}

TEST(ParseHostPortTest, ParsesBracketedIpv6WithPortZero) {
  absl::StatusOr<HostPort> parsed = ParseHostPort("[::1]:0");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 0);
  EXPECT_EQ(parsed->ToString(), "[::1]:0");
}

TEST(ParseHostPortTest, AcceptsPortBounds) {
  ASSERT_TRUE(ParseHostPort("h:0").ok());
  absl::StatusOr<HostPort> parsed = ParseHostPort("h:65535");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->port, 65535);
}

TEST(ParseHostPortTest, RejectsMissingPort) {
  for (const char* text : {"localhost", "localhost:", "[::1]", "[::1]:"}) {
    EXPECT_EQ(ParseHostPort(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
}

TEST(ParseHostPortTest, RejectsPortOutOfRange) {
  const absl::Status status = ParseHostPort("localhost:70000").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("70000"));
  EXPECT_EQ(ParseHostPort("localhost:65536").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHostPort("localhost:-1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHostPort("localhost:http").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseHostPortTest, RejectsEmptyHost) {
  for (const char* text : {":80", "[]:80", ""}) {
    EXPECT_EQ(ParseHostPort(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
}

TEST(ParseHostPortTest, RejectsUnclosedIpv6Bracket) {
  EXPECT_EQ(ParseHostPort("[::1:80").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseRedisUrlTest, ParsesUserPasswordHostPortAndDb) {
  absl::StatusOr<RedisUrl> url =
      ParseRedisUrl("redis://accord:p4ss@redis.internal:6380/5");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->user, "accord");
  EXPECT_EQ(url->password, "p4ss");
  EXPECT_EQ(url->host, "redis.internal");
  EXPECT_EQ(url->port, 6380);
  EXPECT_EQ(url->db, 5);
}

TEST(ParseRedisUrlTest, ParsesPasswordOnly) {
  absl::StatusOr<RedisUrl> url =
      ParseRedisUrl("redis://:only-pw@10.1.2.3:6379");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->user, "");
  EXPECT_EQ(url->password, "only-pw");
  EXPECT_EQ(url->host, "10.1.2.3");
  EXPECT_EQ(url->port, 6379);
  EXPECT_EQ(url->db, 0);
}

TEST(ParseRedisUrlTest, ParsesUserOnly) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl("redis://reader@host:6379/1");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->user, "reader");
  EXPECT_EQ(url->password, "");
  EXPECT_EQ(url->db, 1);
}

TEST(ParseRedisUrlTest, PasswordMayContainAtSignAndColon) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl("redis://u:a@b:c@host:6379");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->user, "u");
  EXPECT_EQ(url->password, "a@b:c");
  EXPECT_EQ(url->host, "host");
}

TEST(ParseRedisUrlTest, ParsesIpv6HostAndEmptyDb) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl("redis://[::1]:6379/");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 6379);
  EXPECT_EQ(url->db, 0);
}

TEST(ParseRedisUrlTest, ParsesSentinelsMasterNameAndDb) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl(
      "redis+sentinel://accord:s3cret@10.0.0.1:26379,[::1]:26380,"
      "sentinel-2.redis:26381/accord-main/3");
  ASSERT_TRUE(url.ok()) << url.status();
  ASSERT_EQ(url->sentinels.size(), 3u);
  EXPECT_EQ(url->sentinels[0].host, "10.0.0.1");
  EXPECT_EQ(url->sentinels[0].port, 26379);
  EXPECT_EQ(url->sentinels[1].host, "::1");
  EXPECT_EQ(url->sentinels[2].host, "sentinel-2.redis");
  EXPECT_EQ(url->sentinels[2].port, 26381);
  EXPECT_EQ(url->master_name, "accord-main");
  EXPECT_EQ(url->db, 3);
  EXPECT_EQ(url->user, "accord");
  EXPECT_EQ(url->password, "s3cret");
  EXPECT_EQ(url->Redacted(),
            "redis+sentinel://accord:***@10.0.0.1:26379,[::1]:26380,"
            "sentinel-2.redis:26381/accord-main/3");
  // The redacted form parses back to the same place.
  absl::StatusOr<RedisUrl> again = ParseRedisUrl(url->Redacted());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->sentinels.size(), 3u);
  EXPECT_EQ(again->master_name, "accord-main");
}

TEST(ParseRedisUrlTest, SentinelUrlNeedsAMasterNameAndGoodAddresses) {
  for (const char* text :
       {"redis+sentinel://h:26379", "redis+sentinel://h:26379/",
        "redis+sentinel://h:26379,/accord", "redis+sentinel://h:0/accord",
        "redis+sentinel://h:26379/accord/16"}) {
    EXPECT_EQ(ParseRedisUrl(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
}

TEST(ParseRedisUrlTest, RejectsOtherSchemes) {
  for (const char* text : {"rediss://host:6379", "http://host:6379",
                           "host:6379", "REDIS://host:6379", ""}) {
    const absl::Status status = ParseRedisUrl(text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(status.message(), HasSubstr("redis://")) << text;
  }
}

TEST(ParseRedisUrlTest, RejectsDbOutOfRange) {
  for (const char* text : {"redis://host:6379/16", "redis://host:6379/-1",
                           "redis://host:6379/zero"}) {
    const absl::Status status = ParseRedisUrl(text).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(status.message(), HasSubstr("database")) << text;
  }
  absl::StatusOr<RedisUrl> highest = ParseRedisUrl("redis://host:6379/15");
  ASSERT_TRUE(highest.ok()) << highest.status();
  EXPECT_EQ(highest->db, 15);
}

TEST(ParseRedisUrlTest, RejectsPortZero) {
  const absl::Status status = ParseRedisUrl("redis://host:0").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("port"));
}

TEST(ParseRedisUrlTest, RejectsMissingPortAndBadHostPort) {
  EXPECT_EQ(ParseRedisUrl("redis://host").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRedisUrl("redis://host:99999").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRedisUrl("redis://:6379").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(RedisUrlTest, RedactedNeverContainsThePassword) {
  for (const char* text : {"redis://accord:Sup3rSecretPw@redis.internal:6380/5",
                           "redis://:Sup3rSecretPw@127.0.0.1:6379",
                           "redis://user:Sup3rSecretPw@[::1]:6379/0"}) {
    absl::StatusOr<RedisUrl> url = ParseRedisUrl(text);
    ASSERT_TRUE(url.ok()) << text << ": " << url.status();
    ASSERT_EQ(url->password, "Sup3rSecretPw");
    EXPECT_THAT(url->Redacted(), Not(HasSubstr("Sup3rSecretPw"))) << text;
    EXPECT_THAT(url->Redacted(), HasSubstr(":***@")) << text;
  }
}

TEST(RedisUrlTest, RedactedShowsEverythingButThePassword) {
  absl::StatusOr<RedisUrl> url =
      ParseRedisUrl("redis://accord:pw-xyz@redis.internal:6380/5");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->Redacted(), "redis://accord:***@redis.internal:6380/5");
}

TEST(RedisUrlTest, RedactedWithoutCredentialsHasNoAtSign) {
  RedisUrl url;
  EXPECT_EQ(url.Redacted(), "redis://127.0.0.1:6379/0");
  url.user = "reader";
  EXPECT_EQ(url.Redacted(), "redis://reader@127.0.0.1:6379/0");
  url.host = "::1";
  EXPECT_EQ(url.Redacted(), "redis://reader@[::1]:6379/0");
}

TEST(RedisUrlTest, RedactedParsesBackToSameHostPortAndDb) {
  absl::StatusOr<RedisUrl> url =
      ParseRedisUrl("redis://u:secret@redis.internal:6380/7");
  ASSERT_TRUE(url.ok()) << url.status();
  absl::StatusOr<RedisUrl> again = ParseRedisUrl(url->Redacted());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->host, "redis.internal");
  EXPECT_EQ(again->port, 6380);
  EXPECT_EQ(again->db, 7);
  EXPECT_EQ(again->user, "u");
  EXPECT_EQ(again->password, "***");
}

}  // namespace
}  // namespace accord
