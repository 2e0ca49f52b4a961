#ifndef ACCORD_COMMON_STATUS_MACROS_H_
#define ACCORD_COMMON_STATUS_MACROS_H_

// Abseil 20220623 ships neither RETURN_IF_ERROR nor ASSIGN_OR_RETURN.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ACCORD_STATUS_CONCAT_INNER(a, b) a##b
#define ACCORD_STATUS_CONCAT(a, b) ACCORD_STATUS_CONCAT_INNER(a, b)

// Returns from the current function if `expr` yields a non-OK status.
#define ACCORD_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    const ::absl::Status accord_status_ = (expr);    \
    if (!accord_status_.ok()) return accord_status_; \
  } while (0)

// Example:
//   ACCORD_ASSIGN_OR_RETURN(Institution record, store.Get(name));
#define ACCORD_ASSIGN_OR_RETURN(lhs, expr)                                 \
  ACCORD_ASSIGN_OR_RETURN_IMPL(ACCORD_STATUS_CONCAT(accord_or_, __LINE__), \
                               lhs, expr)
#define ACCORD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();     \
  lhs = std::move(tmp).value()

#endif  // ACCORD_COMMON_STATUS_MACROS_H_
