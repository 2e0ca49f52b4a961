// Filter evaluation: the tree walked over a message through reflection.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/filter_internal.h"

namespace accord {
namespace filter_internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

template <typename T>
bool CompareOrdered(Operation operation, const T& actual, const T& expected) {
  switch (operation) {
    case Operation::kEqual:
      return actual == expected;
    case Operation::kLess:
      return actual < expected;
    case Operation::kLessOrEqual:
      return actual <= expected;
    case Operation::kGreater:
      return actual > expected;
    case Operation::kGreaterOrEqual:
      return actual >= expected;
    default:
      return false;
  }
}

bool ContainsIgnoreCase(absl::string_view haystack,
                        absl::string_view lowercase_needle) {
  return std::search(haystack.begin(), haystack.end(), lowercase_needle.begin(),
                     lowercase_needle.end(),
                     [](char actual, char expected) {
                       return absl::ascii_tolower(static_cast<unsigned char>(
                                  actual)) == expected;
                     }) != haystack.end() ||
         lowercase_needle.empty();
}

bool CompareString(const Comparison& comparison, absl::string_view actual) {
  const Literal& literal = comparison.literal;
  switch (comparison.operation) {
    case Operation::kContainsIgnoreCase:
      return ContainsIgnoreCase(actual, literal.text);
    case Operation::kEqual:
      switch (literal.string_match) {
        case StringMatch::kExact:
          return actual == literal.text;
        case StringMatch::kPrefix:
          return absl::StartsWith(actual, literal.text);
        case StringMatch::kSuffix:
          return absl::EndsWith(actual, literal.text);
        case StringMatch::kContains:
          return absl::StrContains(actual, literal.text);
      }
      return false;
    default:
      return CompareOrdered<absl::string_view>(comparison.operation, actual,
                                               literal.text);
  }
}

absl::Time TimestampOf(const Message& timestamp) {
  const Descriptor* descriptor = timestamp.GetDescriptor();
  const Reflection* reflection = timestamp.GetReflection();
  const FieldDescriptor* seconds = descriptor->FindFieldByName("seconds");
  const FieldDescriptor* nanos = descriptor->FindFieldByName("nanos");
  if (seconds == nullptr || nanos == nullptr) return absl::InfinitePast();
  return absl::FromUnixSeconds(reflection->GetInt64(timestamp, seconds)) +
         absl::Nanoseconds(reflection->GetInt32(timestamp, nanos));
}

// Compares the value of `field` in `message`: element `index` if the field
// is repeated, else the singular value (index -1).
bool CompareValue(const Comparison& comparison, const Message& message,
                  const FieldDescriptor& field, int index) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = index >= 0;
  const Literal& literal = comparison.literal;
  const Operation operation = comparison.operation;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return CompareOrdered<int64_t>(
          operation,
          repeated ? reflection.GetRepeatedInt32(message, &field, index)
                   : reflection.GetInt32(message, &field),
          literal.int_value);
    case FieldDescriptor::CPPTYPE_INT64:
      return CompareOrdered<int64_t>(
          operation,
          repeated ? reflection.GetRepeatedInt64(message, &field, index)
                   : reflection.GetInt64(message, &field),
          literal.int_value);
    case FieldDescriptor::CPPTYPE_UINT32:
      return CompareOrdered<uint64_t>(
          operation,
          repeated ? reflection.GetRepeatedUInt32(message, &field, index)
                   : reflection.GetUInt32(message, &field),
          literal.uint_value);
    case FieldDescriptor::CPPTYPE_UINT64:
      return CompareOrdered<uint64_t>(
          operation,
          repeated ? reflection.GetRepeatedUInt64(message, &field, index)
                   : reflection.GetUInt64(message, &field),
          literal.uint_value);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return CompareOrdered<double>(
          operation,
          repeated ? reflection.GetRepeatedFloat(message, &field, index)
                   : reflection.GetFloat(message, &field),
          literal.double_value);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return CompareOrdered<double>(
          operation,
          repeated ? reflection.GetRepeatedDouble(message, &field, index)
                   : reflection.GetDouble(message, &field),
          literal.double_value);
    case FieldDescriptor::CPPTYPE_BOOL:
      return CompareOrdered<bool>(
          operation,
          repeated ? reflection.GetRepeatedBool(message, &field, index)
                   : reflection.GetBool(message, &field),
          literal.bool_value);
    case FieldDescriptor::CPPTYPE_ENUM:
      return CompareOrdered<int64_t>(
          operation,
          repeated ? reflection.GetRepeatedEnumValue(message, &field, index)
                   : reflection.GetEnumValue(message, &field),
          literal.int_value);
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& actual =
          repeated ? reflection.GetRepeatedStringReference(message, &field,
                                                           index, &scratch)
                   : reflection.GetStringReference(message, &field, &scratch);
      return CompareString(comparison, actual);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      // Only Timestamps get here; an unset one has no time to compare.
      if (!repeated && !reflection.HasField(message, &field)) return false;
      const Message& timestamp =
          repeated ? reflection.GetRepeatedMessage(message, &field, index)
                   : reflection.GetMessage(message, &field);
      return CompareOrdered(operation, TimestampOf(timestamp),
                            literal.time_value);
    }
  }
  return false;
}

// True if some value reached from `message` along `path[step..]` satisfies
// the comparison (before `!=` negation).
bool AnyValueMatches(const Comparison& comparison, const Message& message,
                     size_t step) {
  const FieldDescriptor& field = *comparison.path[step];
  const Reflection& reflection = *message.GetReflection();
  const bool last = step + 1 == comparison.path.size();
  if (last && comparison.operation == Operation::kPresent) {
    return field.is_repeated() ? reflection.FieldSize(message, &field) > 0
                               : reflection.HasField(message, &field);
  }
  if (field.is_repeated()) {
    const int size = reflection.FieldSize(message, &field);
    for (int i = 0; i < size; ++i) {
      const bool matched = last ? CompareValue(comparison, message, field, i)
                                : AnyValueMatches(comparison,
                                                  reflection.GetRepeatedMessage(
                                                      message, &field, i),
                                                  step + 1);
      if (matched) return true;
    }
    return false;
  }
  if (last) return CompareValue(comparison, message, field, -1);
  if (!reflection.HasField(message, &field)) return false;
  return AnyValueMatches(comparison, reflection.GetMessage(message, &field),
                         step + 1);
}

}  // namespace

bool Evaluate(const Node& node, const Message& message) {
  switch (node.kind) {
    case Node::Kind::kAnd:
      return std::all_of(node.children.begin(), node.children.end(),
                         [&](const std::unique_ptr<const Node>& child) {
                           return Evaluate(*child, message);
                         });
    case Node::Kind::kOr:
      return std::any_of(node.children.begin(), node.children.end(),
                         [&](const std::unique_ptr<const Node>& child) {
                           return Evaluate(*child, message);
                         });
    case Node::Kind::kNot:
      return !Evaluate(*node.children.front(), message);
    case Node::Kind::kComparison:
      return AnyValueMatches(node.comparison, message, 0) !=
             node.comparison.negate;
  }
  return false;
}

}  // namespace filter_internal
}  // namespace accord
