#include "cli/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

namespace accord::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

const std::vector<FlagSpec> kSpecs = {{"filter", true},
                                      {"page-token", true},
                                      {"institution-target", true},
                                      {"all", false}};

TEST(SplitCommandLineTest, BothSpellingsGiveTheSameValueSpacesIncluded) {
  auto spaced = SplitCommandLine(
      {"list", "--filter", "country_code = \"RU\"", "institutions"}, kSpecs);
  auto joined = SplitCommandLine(
      {"list", "institutions", "--filter=country_code = \"RU\""}, kSpecs);
  ASSERT_TRUE(spaced.ok()) << spaced.status();
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_THAT(spaced->flags,
              ElementsAre(Pair("filter", "country_code = \"RU\"")));
  EXPECT_EQ(spaced->flags, joined->flags);
  EXPECT_THAT(spaced->words, ElementsAre("list", "institutions"));
  EXPECT_EQ(spaced->words, joined->words);
}

TEST(SplitCommandLineTest, UnderscoreSpellingIsTheSameFlag) {
  auto line = SplitCommandLine(
      {"--institution_target", "127.0.0.1:1", "--page_token=x", "get", "a/b"},
      kSpecs);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->flags,
              ElementsAre(Pair("institution-target", "127.0.0.1:1"),
                          Pair("page-token", "x")));
  EXPECT_THAT(line->words, ElementsAre("get", "a/b"));
}

TEST(SplitCommandLineTest, SwitchesDoNotTakeTheNextWord) {
  auto line = SplitCommandLine({"list", "--all", "agreements"}, kSpecs);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->flags, ElementsAre(Pair("all", "")));
  EXPECT_THAT(line->words, ElementsAre("list", "agreements"));
  auto off = SplitCommandLine({"--all=false"}, kSpecs);
  ASSERT_TRUE(off.ok());
  EXPECT_THAT(off->flags, ElementsAre(Pair("all", "false")));
}

TEST(SplitCommandLineTest, AValueMayLookLikeAFlagAndDashIsAWord) {
  auto line = SplitCommandLine(
      {"create", "institutions", "-", "--filter", "--not-a-flag"}, kSpecs);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_THAT(line->flags, ElementsAre(Pair("filter", "--not-a-flag")));
  EXPECT_THAT(line->words, ElementsAre("create", "institutions", "-"));
}

TEST(SplitCommandLineTest, DoubleDashEndsTheFlags) {
  auto line = SplitCommandLine({"search", "--", "--all"}, kSpecs);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(line->flags.empty());
  EXPECT_THAT(line->words, ElementsAre("search", "--all"));
}

TEST(SplitCommandLineTest, HelpAnywhere) {
  auto line = SplitCommandLine({"create", "--help", "institutions"}, kSpecs);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_TRUE(line->help);
  EXPECT_THAT(line->words, ElementsAre("create", "institutions"));
  EXPECT_TRUE(SplitCommandLine({"-h"}, kSpecs)->help);
}

TEST(SplitCommandLineTest, RefusesUnknownFlagsAndMissingValues) {
  auto unknown = SplitCommandLine({"--colour=red"}, kSpecs);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("--colour"));
  auto single_dash = SplitCommandLine({"-x"}, kSpecs);
  EXPECT_EQ(single_dash.status().code(), absl::StatusCode::kInvalidArgument);
  auto missing = SplitCommandLine({"list", "--filter"}, kSpecs);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("--filter needs a value"));
}

// What the shell makes of `ShellQuote(text)`: `text` again.
std::string ThroughShell(const std::string& quoted) {
  const std::string command = "printf '%s' " + quoted;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"),
                                             pclose);
  std::string out;
  char buffer[256];
  size_t read = 0;
  while ((read = fread(buffer, 1, sizeof buffer, pipe.get())) > 0) {
    out.append(buffer, read);
  }
  return out;
}

TEST(ShellQuoteTest, ThePrintedWordReadsBackTheSame) {
  EXPECT_EQ(ShellQuote("--page-token=abc-_"), "--page-token=abc-_");
  for (const std::string text :
       {"--filter=country_code = \"RU\"", "it's", "a$b`c`\\d", "", "*"}) {
    EXPECT_EQ(ThroughShell(ShellQuote(text)), text) << ShellQuote(text);
  }
}

}  // namespace
}  // namespace accord::cli
