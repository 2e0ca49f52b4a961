#ifndef ACCORD_COMMON_LOG_H_
#define ACCORD_COMMON_LOG_H_

// Structured logs: one record a line on stderr, as key=value pairs or JSON.
//
// Example:
//   LogInfo("rpc", {{"method", "/accord.institution.v1.InstitutionService/"
//                              "GetInstitution"},
//                   {"code", "OK"}, {"latency_ms", 0.41}});
// prints
//   ts=2026-11-27T21:40:00.123Z level=info msg=rpc method=/accord... code=OK
//   ...
// Numbers (integers and finite floating point) are JSON numbers in JSON
// lines; everything else is a JSON string.

#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace accord {

enum class LogFormat { kKeyValue, kJson };
enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// A field's value: text, or a number (printed bare in JSON lines).
class LogValue {
 public:
  LogValue(std::string text) : text_(std::move(text)) {}  // NOLINT
  LogValue(const char* text) : text_(text) {}             // NOLINT
  LogValue(absl::string_view text) : text_(text) {}       // NOLINT
  template <typename Number,
            std::enable_if_t<std::is_arithmetic_v<Number> &&
                                 !std::is_same_v<Number, bool> &&
                                 !std::is_same_v<Number, char>,
                             int> = 0>
  LogValue(Number number)  // NOLINT
      : text_(absl::StrCat(number)),
        // inf and nan are no JSON numbers.
        number_(std::is_integral_v<Number> ||
                (number == number && number - number == 0)) {}

  const std::string& text() const { return text_; }
  bool is_number() const { return number_; }

 private:
  std::string text_;
  bool number_ = false;
};

using LogField = std::pair<absl::string_view, LogValue>;

// Process-wide settings; call once at start, before other threads log.
void SetLogFormat(LogFormat format);
void SetLogLevel(LogLevel level);
// Added to every record, e.g. {"service", "institution"}.
void SetLogService(std::string service);

// Whether a record at `level` is printed; lets a caller skip building
// fields that would be dropped.
bool LogEnabled(LogLevel level);

void Log(LogLevel level, absl::string_view message,
         absl::Span<const LogField> fields);
inline void Log(LogLevel level, absl::string_view message,
                std::initializer_list<LogField> fields = {}) {
  Log(level, message,
      absl::Span<const LogField>(fields.begin(), fields.size()));
}
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
