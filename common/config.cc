#include "common/config.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace accord {
namespace {

absl::StatusOr<int> ParsePort(absl::string_view text) {
  int port = 0;
  if (!absl::SimpleAtoi(text, &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port \"", text, "\" is not a number in 0..65535"));
  }
  return port;
}

}  // namespace

std::string HostPort::ToString() const {
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text) {
  HostPort result;
  absl::string_view port_text;
  if (absl::StartsWith(text, "[")) {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" is not [IPV6]:PORT"));
    }
    result.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\" is not HOST:PORT"));
    }
    result.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (result.host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" has an empty host"));
  }
  ACCORD_ASSIGN_OR_RETURN(result.port, ParsePort(port_text));
  return result;
}

std::string RedisUrl::Redacted() const {
  std::string credentials;
  if (!user.empty() || !password.empty()) {
    credentials = absl::StrCat(user, password.empty() ? "" : ":***", "@");
  }
  if (!sentinels.empty()) {
    std::vector<std::string> addresses;
    for (const HostPort& sentinel : sentinels) {
      addresses.push_back(sentinel.ToString());
    }
    return absl::StrCat("redis+sentinel://", credentials,
                        absl::StrJoin(addresses, ","), "/", master_name, "/",
                        db);
  }
  return absl::StrCat("redis://", credentials, HostPort{host, port}.ToString(),
                      "/", db);
}

namespace {

// A Redis address with a port other than 0.
absl::StatusOr<HostPort> ParseRedisAddress(absl::string_view text) {
  absl::StatusOr<HostPort> host_port = ParseHostPort(text);
  if (!host_port.ok()) return host_port.status();
  if (host_port->port == 0) {
    return absl::InvalidArgumentError("Redis port must not be 0");
  }
  return host_port;
}

absl::Status ParseDb(absl::string_view text, int& db) {
  if (!text.empty() && (!absl::SimpleAtoi(text, &db) || db < 0 || db > 15)) {
    return absl::InvalidArgumentError(
        absl::StrCat("database \"", text, "\" is not a number in 0..15"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RedisUrl> ParseRedisUrl(absl::string_view text) {
  constexpr absl::string_view kScheme = "redis://";
  constexpr absl::string_view kSentinelScheme = "redis+sentinel://";
  const bool sentinel = absl::StartsWith(text, kSentinelScheme);
  if (!sentinel && !absl::StartsWith(text, kScheme)) {
    return absl::InvalidArgumentError(
        "must start with redis:// or redis+sentinel://");
  }
  absl::string_view rest =
      text.substr(sentinel ? kSentinelScheme.size() : kScheme.size());
  RedisUrl url;
  const size_t at = rest.rfind('@');
  if (at != absl::string_view::npos) {
    absl::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const size_t colon = credentials.find(':');
    if (colon == absl::string_view::npos) {
      url.user = std::string(credentials);
    } else {
      url.user = std::string(credentials.substr(0, colon));
      url.password = std::string(credentials.substr(colon + 1));
    }
  }
  const size_t slash = rest.find('/');
  absl::string_view path;
  if (slash != absl::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (!sentinel) {
    ACCORD_RETURN_IF_ERROR(ParseDb(path, url.db));
    ACCORD_ASSIGN_OR_RETURN(HostPort address, ParseRedisAddress(rest));
    url.host = address.host;
    url.port = address.port;
    return url;
  }
  // redis+sentinel://HOST:PORT,HOST:PORT/MASTER_NAME[/DB]
  const size_t db_slash = path.find('/');
  url.master_name = std::string(path.substr(0, db_slash));
  if (url.master_name.empty()) {
    return absl::InvalidArgumentError(
        "a redis+sentinel:// URL names the primary after the Sentinels: "
        "redis+sentinel://HOST:PORT[,HOST:PORT...]/MASTER_NAME[/DB]");
  }
  if (db_slash != absl::string_view::npos) {
    ACCORD_RETURN_IF_ERROR(ParseDb(path.substr(db_slash + 1), url.db));
  }
  for (absl::string_view address : absl::StrSplit(rest, ',')) {
    ACCORD_ASSIGN_OR_RETURN(HostPort sentinel_address,
                            ParseRedisAddress(address));
    url.sentinels.push_back(std::move(sentinel_address));
  }
  return url;
}

std::string EnvVarForFlag(absl::string_view flag) {
  std::string name = absl::StrCat("ACCORD_", absl::AsciiStrToUpper(flag));
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

FlagSet::FlagSet(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

void FlagSet::Add(std::string name, std::string help, std::string default_text,
                  std::function<absl::Status(absl::string_view)> set) {
  flags_.push_back({std::move(name), std::move(help), std::move(default_text),
                    std::move(set)});
}

void FlagSet::AddString(std::string name, std::string* value,
                        std::string help) {
  Add(std::move(name), std::move(help), *value,
      [value](absl::string_view text) {
        *value = std::string(text);
        return absl::OkStatus();
      });
}

void FlagSet::AddHostPort(std::string name, std::string* value,
                          std::string help, bool optional) {
  Add(std::move(name), std::move(help), *value,
      [value, optional](absl::string_view text) -> absl::Status {
        if (optional && text.empty()) {
          value->clear();
          return absl::OkStatus();
        }
        ACCORD_ASSIGN_OR_RETURN(HostPort parsed, ParseHostPort(text));
        *value = parsed.ToString();
        return absl::OkStatus();
      });
}

void FlagSet::AddRedisUrl(std::string name, RedisUrl* value, std::string help) {
  Add(std::move(name), std::move(help), value->Redacted(),
      [value](absl::string_view text) -> absl::Status {
        ACCORD_ASSIGN_OR_RETURN(*value, ParseRedisUrl(text));
        return absl::OkStatus();
      });
}

void FlagSet::AddDuration(std::string name, absl::Duration* value,
                          std::string help) {
  Add(std::move(name), std::move(help), absl::FormatDuration(*value),
      [value](absl::string_view text) -> absl::Status {
        absl::Duration parsed;
        if (!absl::ParseDuration(text, &parsed) ||
            parsed < absl::ZeroDuration()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "\"", text, "\" is not a duration such as 500ms, 10s or 1m"));
        }
        *value = parsed;
        return absl::OkStatus();
      });
}

void FlagSet::AddInt(std::string name, int64_t* value, int64_t min, int64_t max,
                     std::string help) {
  Add(std::move(name), std::move(help), absl::StrCat(*value),
      [value, min, max](absl::string_view text) -> absl::Status {
        int64_t parsed = 0;
        if (!absl::SimpleAtoi(text, &parsed) || parsed < min || parsed > max) {
          return absl::InvalidArgumentError(absl::StrCat(
              "\"", text, "\" is not a whole number in ", min, "..", max));
        }
        *value = parsed;
        return absl::OkStatus();
      });
}

void FlagSet::AddBool(std::string name, bool* value, std::string help) {
  Add(std::move(name), std::move(help), *value ? "true" : "false",
      [value](absl::string_view text) -> absl::Status {
        if (text.empty() || text == "true" || text == "1") {
          *value = true;
        } else if (text == "false" || text == "0") {
          *value = false;
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat("\"", text, "\" is not true or false"));
        }
        return absl::OkStatus();
      });
}

void FlagSet::AddChoice(std::string name, std::string* value,
                        std::vector<std::string> choices, std::string help) {
  help += absl::StrCat(" (", absl::StrJoin(choices, "|"), ")");
  Add(std::move(name), std::move(help), *value,
      [value, choices](absl::string_view text) -> absl::Status {
        for (const std::string& choice : choices) {
          if (text == choice) {
            *value = choice;
            return absl::OkStatus();
          }
        }
        return absl::InvalidArgumentError(absl::StrCat(
            "\"", text, "\" is not one of ", absl::StrJoin(choices, ", ")));
      });
}

absl::Status FlagSet::Parse(
    const std::vector<std::string>& args,
    const std::function<const char*(const char*)>& getenv) {
  std::vector<bool> set_on_command_line(flags_.size(), false);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      return absl::OkStatus();
    }
    if (!absl::StartsWith(arg, "--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", arg, "\""));
    }
    absl::string_view body = absl::string_view(arg).substr(2);
    const size_t equals = body.find('=');
    absl::string_view name = body.substr(0, equals);
    absl::string_view text =
        equals == absl::string_view::npos ? "" : body.substr(equals + 1);
    bool known = false;
    for (size_t i = 0; i < flags_.size(); ++i) {
      if (flags_[i].name != name) continue;
      known = true;
      if (absl::Status status = flags_[i].set(text); !status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, ": ", status.message()));
      }
      set_on_command_line[i] = true;
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (see --help)"));
    }
  }
  for (size_t i = 0; i < flags_.size(); ++i) {
    if (set_on_command_line[i]) continue;
    const std::string env = EnvVarForFlag(flags_[i].name);
    const char* text = getenv(env.c_str());
    if (text == nullptr) continue;
    if (absl::Status status = flags_[i].set(text); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(env, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

void FlagSet::ParseOrExit(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  absl::Status status =
      Parse(args, [](const char* name) { return std::getenv(name); });
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", program_.c_str(),
                 std::string(status.message()).c_str());
    std::exit(2);
  }
  if (help_requested_) {
    std::fputs(Usage().c_str(), stdout);
    std::exit(0);
  }
}

std::string FlagSet::Usage() const {
  std::string usage = absl::StrCat(
      "Usage: ", program_, " [--flag=value ...]\n\n", description_,
      "\n\nEach flag may also be set with the environment variable "
      "shown.\n\n");
  for (const Flag& flag : flags_) {
    absl::StrAppend(&usage, "  --", flag.name, "  (", EnvVarForFlag(flag.name),
                    ", default \"", flag.default_text, "\")\n      ", flag.help,
                    "\n");
  }
  return usage;
}

}  // namespace accord
