#include "common/log.h"

#include <atomic>
#include <cstdint>
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
                absl::string_view value, bool is_number = false) {
  if (line.size() > 1) line += ",";
  if (is_number) {
    absl::StrAppend(&line, "\"", key, "\":", value);
    return;
  }
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

// RFC 3339 UTC with milliseconds. The part up to the second is formatted
// once per second per thread: absl::FormatTime costs more than the rest of
// a log line (docs/performance.md).
std::string Timestamp(absl::Time now) {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached_prefix;
  const int64_t millis = absl::ToUnixMillis(now);
  const int64_t second = millis >= 0 ? millis / 1000 : (millis - 999) / 1000;
  if (second != cached_second) {
    cached_prefix =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second),
                         absl::UTCTimeZone());
    cached_second = second;
  }
  const int64_t fraction = millis - second * 1000;
  const char suffix[] = {'.', static_cast<char>('0' + fraction / 100),
                         static_cast<char>('0' + fraction / 10 % 10),
                         static_cast<char>('0' + fraction % 10), 'Z'};
  return absl::StrCat(cached_prefix, absl::string_view(suffix, sizeof(suffix)));
}

}  // namespace

void SetLogFormat(LogFormat format) { log_format = format; }
void SetLogLevel(LogLevel level) { log_level = level; }
void SetLogService(std::string service) { ServiceName() = std::move(service); }

bool LogEnabled(LogLevel level) {
  return level >= log_level.load(std::memory_order_relaxed);
}

void Log(LogLevel level, absl::string_view message,
         absl::Span<const LogField> fields) {
  if (level < log_level.load(std::memory_order_relaxed)) return;
  const std::string time = Timestamp(absl::Now());
  std::string line;
  if (log_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    line.push_back('{');
    AppendJson(line, "ts", time);
    AppendJson(line, "level", LevelName(level));
    if (!ServiceName().empty()) AppendJson(line, "service", ServiceName());
    AppendJson(line, "msg", message);
    for (const LogField& field : fields) {
      AppendJson(line, field.first, field.second.text(),
                 field.second.is_number());
    }
    line += "}\n";
  } else {
    absl::StrAppend(&line, "ts=", time);
    AppendKeyValue(line, "level", LevelName(level));
    if (!ServiceName().empty()) AppendKeyValue(line, "service", ServiceName());
    AppendKeyValue(line, "msg", message);
    for (const LogField& field : fields) {
      AppendKeyValue(line, field.first, field.second.text());
    }
    line += "\n";
  }
  // One fwrite per record keeps lines whole when threads log together.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace accord
