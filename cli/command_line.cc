#include "cli/command_line.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace accord::cli {

std::string CanonicalFlagName(absl::string_view name) {
  std::string canonical(name);
  std::replace(canonical.begin(), canonical.end(), '_', '-');
  return canonical;
}

absl::StatusOr<CommandLine> SplitCommandLine(
    const std::vector<std::string>& args, const std::vector<FlagSpec>& specs) {
  CommandLine line;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // "-" alone is a word (standard input), as is anything after "--".
    if (flags_ended || !absl::StartsWith(arg, "-") || arg == "-") {
      line.words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      line.help = true;
      continue;
    }
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag ", arg, " (flags are spelled --name; see --help)"));
    }
    const absl::string_view body = absl::string_view(arg).substr(2);
    const size_t equals = body.find('=');
    const std::string name = CanonicalFlagName(body.substr(0, equals));
    const auto spec =
        std::find_if(specs.begin(), specs.end(),
                     [&name](const FlagSpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (equals != absl::string_view::npos) {
      line.flags.emplace_back(name, std::string(body.substr(equals + 1)));
    } else if (!spec->takes_value) {
      line.flags.emplace_back(name, "");
    } else if (i + 1 < args.size()) {
      // The next argument is the value whatever it looks like, so
      // `--filter '-x'` and `--page-size -1` reach the flag's own check.
      line.flags.emplace_back(name, args[++i]);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value: --", name, " VALUE or --",
                       name, "=VALUE"));
    }
  }
  return line;
}

std::string ShellQuote(absl::string_view text) {
  const bool plain =
      !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
               absl::StrContains("-_./:=,@+%", c);
      });
  if (plain) return std::string(text);
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

}  // namespace accord::cli
