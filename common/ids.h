#ifndef ACCORD_COMMON_IDS_H_
#define ACCORD_COMMON_IDS_H_

// Resource ids, resource names and request ids (AIP-122, AIP-155): every
// service validates names the same way and reports errors on the field.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace accord {

// True if `id` matches ^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$: 1-63 characters,
// starting with a letter and not ending with '-'.
// Example:
//   IsValidResourceId("tums");    // true
//   IsValidResourceId("Tums");    // false
//   IsValidResourceId("tums-");   // false
bool IsValidResourceId(absl::string_view id);

// A fresh random id valid under IsValidResourceId: a letter followed by 19
// lowercase base32 characters ([a-z2-7]), about 98 bits of randomness.
// Thread-safe.
// Example:
//   std::string id = NewResourceId();  // e.g. "k7qz2m4xw3b5nd6r2ahe"
std::string NewResourceId();

// Parses "{collection}/{id}" and returns the id, which must satisfy
// IsValidResourceId. On failure returns InvalidField(field, ...) explaining
// what was wrong (empty, wrong collection, bad id).
// Example:
//   ParseResourceName("institutions/tums", "institutions", "name");  // "tums"
absl::StatusOr<std::string> ParseResourceName(absl::string_view name,
                                              absl::string_view collection,
                                              absl::string_view field);

// Parses "{collections[0]}/{id0}/{collections[1]}/{id1}/..." and returns the
// ids in order. The first id follows IsValidResourceId; ids of nested
// children may also start with a digit (so "18" is allowed), i.e. they match
// ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$. `collections` must not be empty.
// Example:
//   ParseNestedResourceName("committees/jec/sessions/18",
//                           {"committees", "sessions"}, "name");
//   // {"jec", "18"}
absl::StatusOr<std::vector<std::string>> ParseNestedResourceName(
    absl::string_view name, std::vector<absl::string_view> collections,
    absl::string_view field);

// True if `request_id` is 1-128 characters of [A-Za-z0-9._~-] (URL-safe
// without escaping; UUIDs pass).
// Example:
//   IsValidRequestId("3f1c2d9e-6b1a-4c7e-9a53-0d2b8f4e7a11");  // true
bool IsValidRequestId(absl::string_view request_id);

// The id of a nested resource: like IsValidResourceId, but it may also
// start with a digit (`committees/jec/sessions/18`).
bool IsValidChildResourceId(absl::string_view id);

}  // namespace accord

#endif  // ACCORD_COMMON_IDS_H_
