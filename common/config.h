#ifndef ACCORD_COMMON_CONFIG_H_
#define ACCORD_COMMON_CONFIG_H_

// Command-line flags, each also readable from an environment variable named
// ACCORD_<FLAG IN UPPER CASE> (`--redis` ↔ `ACCORD_REDIS`). A flag given on
// the command line wins over the environment.
//
// Example:
//   FlagSet flags("accord-institution", "Records institutions and officials.");
//   std::string listen = "127.0.0.1:50051";
//   flags.AddHostPort("listen", &listen, "address to serve gRPC on");
//   flags.ParseOrExit(argc, argv);  // exit 2 with one line on a bad value

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace accord {

// A host and port, as in `127.0.0.1:50051` or `[::1]:0`.
struct HostPort {
  std::string host;
  int port = 0;
  std::string ToString() const;
};

// Parses `HOST:PORT`; port 0 asks the kernel for a free one.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text);

// Where Redis is and how to log in:
// `redis://[user:password@]HOST:PORT[/DB]`.
// Where Redis is: one host (redis://), or a primary found through Sentinel
// (redis+sentinel://HOST:PORT[,HOST:PORT...]/MASTER_NAME[/DB]), where
// `host` and `port` are unused and the credentials are the data nodes'
// (Sentinels that require a password are given the same one).
struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;
  std::string password;
  int db = 0;
  std::vector<HostPort> sentinels;
  std::string master_name;
  // The URL with the password masked, safe to log.
  std::string Redacted() const;
};

absl::StatusOr<RedisUrl> ParseRedisUrl(absl::string_view text);

class FlagSet {
 public:
  FlagSet(std::string program, std::string description);

  void AddString(std::string name, std::string* value, std::string help);
  void AddHostPort(std::string name, std::string* value, std::string help,
                   bool optional = false);
  void AddRedisUrl(std::string name, RedisUrl* value, std::string help);
  void AddDuration(std::string name, absl::Duration* value, std::string help);
  void AddInt(std::string name, int64_t* value, int64_t min, int64_t max,
              std::string help);
  void AddBool(std::string name, bool* value, std::string help);
  void AddChoice(std::string name, std::string* value,
                 std::vector<std::string> choices, std::string help);

  // Reads flags from `args` (without the program name) and the environment.
  // Returns INVALID_ARGUMENT naming the flag on any bad value or unknown
  // flag. Sets `help_requested` instead of failing on `--help`.
  absl::Status Parse(const std::vector<std::string>& args,
                     const std::function<const char*(const char*)>& getenv);

  // Parses argv and the process environment; prints one line and exits 2 on
  // error, prints usage and exits 0 on --help.
  void ParseOrExit(int argc, char** argv);

  bool help_requested() const { return help_requested_; }
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_text;
    std::function<absl::Status(absl::string_view)> set;
  };
  void Add(std::string name, std::string help, std::string default_text,
           std::function<absl::Status(absl::string_view)> set);

  std::string program_;
  std::string description_;
  std::vector<Flag> flags_;
  bool help_requested_ = false;
};

// The environment variable that backs `flag`: `ACCORD_` + upper case.
std::string EnvVarForFlag(absl::string_view flag);

}  // namespace accord

#endif  // ACCORD_COMMON_CONFIG_H_
