#include "common/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace accord {
namespace {

std::atomic<LogFormat> log_format{LogFormat::kKeyValue};
std::atomic<LogLevel> log_level{LogLevel::kInfo};
std::string& ServiceName() {
  static std::string* name = new std::string();
  return *name;
}

absl::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Values with spaces, quotes or '=' are quoted so each line splits cleanly.
void AppendKeyValue(std::string& line, absl::string_view key,
                    absl::string_view value) {
  absl::StrAppend(&line, " ", key, "=");
  if (!value.empty() &&
      value.find_first_of(" \"=\t\n\\") == absl::string_view::npos) {
    line.append(value.data(), value.size());
  } else {
    absl::StrAppend(&line, "\"", absl::CEscape(value), "\"");
  }
}

void AppendJson(std::string& line, absl::string_view key,
                absl::string_view value) {
  if (line.size() > 1) line += ",";
  absl::StrAppend(&line, "\"", key, "\":\"");
  for (const char c : value) {
    switch (c) {
      case '"':
        line += "\\\"";
        break;
      case '\\':
        line += "\\\\";
        break;
      case '\n':
        line += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          line += absl::StrFormat("\\u%04x", c);
        } else {
          line += c;
        }
    }
  }
  line += "\"";
}

}  // namespace

void SetLogFormat(LogFormat format) { log_format = format; }
void SetLogLevel(LogLevel level) { log_level = level; }
void SetLogService(std::string service) { ServiceName() = std::move(service); }

void Log(LogLevel level, absl::string_view message,
         std::initializer_list<LogField> fields) {
  if (level < log_level.load(std::memory_order_relaxed)) return;
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                                            absl::UTCTimeZone());
  std::string line;
  if (log_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    line = "{";
    AppendJson(line, "ts", time);
    AppendJson(line, "level", LevelName(level));
    if (!ServiceName().empty()) AppendJson(line, "service", ServiceName());
    AppendJson(line, "msg", message);
    for (const LogField& field : fields) {
      AppendJson(line, field.first, field.second);
    }
    line += "}\n";
  } else {
    absl::StrAppend(&line, "ts=", time);
    AppendKeyValue(line, "level", LevelName(level));
    if (!ServiceName().empty()) AppendKeyValue(line, "service", ServiceName());
    AppendKeyValue(line, "msg", message);
    for (const LogField& field : fields) {
      AppendKeyValue(line, field.first, field.second);
    }
    line += "\n";
  }
  // One fwrite per record keeps lines whole when threads log together.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace accord
