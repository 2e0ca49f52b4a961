#ifndef ACCORD_CLI_COMMAND_LINE_H_
#define ACCORD_CLI_COMMAND_LINE_H_

// Splits a command line into flags and words the way people expect of a
// command-line tool: `--flag value` and `--flag=value` mean the same (values
// with spaces included), a flag that takes no value (`--all`) never eats the
// next word, flags may come before or after the verb, and `--` ends the
// flags. Flags are spelled with hyphens; an underscore spelling
// (`--institution_target`, as older versions had) is the same flag.
//
// Example:
//   std::vector<FlagSpec> specs = {{"filter", true}, {"all", false}};
//   ACCORD_ASSIGN_OR_RETURN(CommandLine line,
//       SplitCommandLine({"list", "--filter", "a = 1", "agreements"}, specs));
//   // line.words == {"list", "agreements"}
//   // line.flags == {{"filter", "a = 1"}}

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace accord::cli {

// A flag the command line may carry.
struct FlagSpec {
  // Canonical name, with hyphens: "page-token".
  std::string name;
  // Whether it needs a value; one that does not (a switch such as `--all`)
  // takes one only as `--all=false`.
  bool takes_value = true;
};

struct CommandLine {
  // Each flag given, by canonical name, in command-line order.
  std::vector<std::pair<std::string, std::string>> flags;
  // Everything that is not a flag: the verb and its arguments.
  std::vector<std::string> words;
  // `--help` or `-h` appeared.
  bool help = false;
};

// The canonical spelling of a flag name: underscores become hyphens.
std::string CanonicalFlagName(absl::string_view name);

// Splits `args` (without the program name). INVALID_ARGUMENT for an unknown
// flag or a flag that needs a value at the end of the line.
absl::StatusOr<CommandLine> SplitCommandLine(
    const std::vector<std::string>& args, const std::vector<FlagSpec>& specs);

// `text` quoted for a POSIX shell when it needs quoting, so a printed
// command can be pasted back.
std::string ShellQuote(absl::string_view text);

}  // namespace accord::cli

#endif  // ACCORD_CLI_COMMAND_LINE_H_
