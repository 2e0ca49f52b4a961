#ifndef ACCORD_COMMON_FILTER_H_
#define ACCORD_COMMON_FILTER_H_

// AIP-160 list filters, type-checked against a message descriptor when parsed
// and evaluated over messages through protobuf reflection.
//
// Grammar (a subset of AIP-160):
//   filter      = [expression]
//   expression  = sequence {"AND" sequence}
//   sequence    = factor {factor}                 (juxtaposition means AND)
//   factor      = term {"OR" term}                (OR binds tighter than AND)
//   term        = ["NOT" | "-"] ("(" expression ")" | comparison)
//   comparison  = field ("=" | "!=" | "<" | "<=" | ">" | ">=" | ":") value
//   field       = identifier {"." identifier}     (proto field names)
//   value       = "double" | 'single' | number | true | false | identifier | *
// so `a AND b OR c` means `a AND (b OR c)`.
//
// Semantics:
//   - A path through a repeated field matches if any element matches; a path
//     through an unset singular message field matches nothing.
//   - `!=` is the negation of `=`: `names.text != "x"` holds when no name is
//     "x".
//   - Strings: `=` is exact and case-sensitive, except that a leading and/or
//     trailing `*` in the value matches any prefix/suffix; `<` `<=` `>` `>=`
//     compare bytes; `:` on a singular string is an ASCII case-insensitive
//     substring test, on a repeated string it is the same as `=`.
//   - Enums take a value name or number; bools take true/false; both allow
//     only `=`, `!=` and `:` (which means `=`). Numbers allow every operator,
//     `:` meaning `=`.
//   - google.protobuf.Timestamp fields compare against RFC 3339 strings with
//     every operator; other message fields only allow `field:*`.
//   - `field:*` tests presence: a non-empty repeated field, a set message
//     field, a non-default scalar.
//   - Map fields and bare values without a field are rejected.
// Limits: 4096 bytes of text, 32 levels of parentheses, 200 comparisons.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace accord {

namespace filter_internal {
struct Node;
}  // namespace filter_internal

// A comparison every match of a filter must satisfy: a conjunct at the
// filter's top level (not under OR or NOT), on a string, enum, integer or
// bool field of the filtered message itself, with `=` and no wildcard, or
// with `<`, `<=`, `>`, `>=` on a string. What a secondary index can
// answer (common/secondary_index.h); the filter is still evaluated in full
// over every record the index yields.
struct RequiredComparison {
  enum class Op { kEqual, kLess, kLessOrEqual, kGreater, kGreaterOrEqual };
  const google::protobuf::FieldDescriptor* field = nullptr;
  Op op = Op::kEqual;
  // The value spelled as an index stores it (ScalarText): a string as is,
  // an enum by its number and an integer in decimal, a bool as
  // "true"/"false".
  std::string value;
};

// A parsed filter. Immutable, cheap to copy (copies share the parsed tree) and
// safe to use from several threads at once.
// Example:
//   ACCORD_ASSIGN_OR_RETURN(
//       Filter filter,
//       Filter::Parse(R"(kind = KIND_UNIVERSITY AND names.text:"tehran")",
//                     *Institution::descriptor()));
//   if (filter.Matches(institution)) results.push_back(institution);
class Filter {
 public:
  // The empty filter, which matches every message.
  Filter();

  // Parses `text` as a filter over messages of type `descriptor`. Empty or
  // all-whitespace text gives the empty filter. Errors are INVALID_ARGUMENT
  // with a field violation on `filter` naming the offending token and its
  // 1-based column.
  static absl::StatusOr<Filter> Parse(
      absl::string_view text, const google::protobuf::Descriptor& descriptor);

  // True if `message` satisfies the filter. `message` must be of the type the
  // filter was parsed for; a message of any other type never matches a
  // non-empty filter.
  bool Matches(const google::protobuf::Message& message) const;

  // True for the filter that matches everything.
  bool empty() const { return root_ == nullptr; }

  // The comparisons every match must satisfy, in the filter's order (see
  // RequiredComparison); empty when there are none an index could use.
  std::vector<RequiredComparison> RequiredComparisons() const;

 private:
  Filter(std::shared_ptr<const filter_internal::Node> root,
         const google::protobuf::Descriptor* descriptor);

  std::shared_ptr<const filter_internal::Node> root_;
  const google::protobuf::Descriptor* descriptor_ = nullptr;
};

}  // namespace accord

#endif  // ACCORD_COMMON_FILTER_H_
