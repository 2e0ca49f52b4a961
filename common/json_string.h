#ifndef ACCORD_COMMON_JSON_STRING_H_
#define ACCORD_COMMON_JSON_STRING_H_

// JSON string literals for the JSON Accord writes by hand (webhook bodies,
// the AsyncAPI document), where going through a protobuf message would not
// give the exact shape wanted.

#include <string>

#include "absl/strings/string_view.h"

namespace accord {

// `text` as a quoted JSON string: quotes, backslashes and control
// characters escaped, other bytes (valid UTF-8) kept as they are.
// Example: JsonString("a \"b\"\n") == R"("a \"b\"\n")".
std::string JsonString(absl::string_view text);

}  // namespace accord

#endif  // ACCORD_COMMON_JSON_STRING_H_
