#ifndef ACCORD_COMMON_LOG_H_
#define ACCORD_COMMON_LOG_H_

// Structured logs: one record a line on stderr, as key=value pairs or JSON.
//
// Example:
//   LogInfo("rpc", {{"method", "/accord.institution.v1.InstitutionService/"
//                              "GetInstitution"},
//                   {"code", "OK"}, {"latency_ms", "0.41"}});
// prints
//   ts=2026-11-27T21:40:00.123Z level=info msg=rpc method=/accord... code=OK
//   ...

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace accord {

enum class LogFormat { kKeyValue, kJson };
enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

using LogField = std::pair<absl::string_view, std::string>;

// Process-wide settings; call once at start, before other threads log.
void SetLogFormat(LogFormat format);
void SetLogLevel(LogLevel level);
// Added to every record, e.g. {"service", "institution"}.
void SetLogService(std::string service);

void Log(LogLevel level, absl::string_view message,
         std::initializer_list<LogField> fields = {});
inline void LogDebug(absl::string_view message,
                     std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kDebug, message, fields);
}
inline void LogInfo(absl::string_view message,
                    std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kInfo, message, fields);
}
inline void LogWarning(absl::string_view message,
                       std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kWarning, message, fields);
}
inline void LogError(absl::string_view message,
                     std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kError, message, fields);
}

}  // namespace accord

#endif  // ACCORD_COMMON_LOG_H_
