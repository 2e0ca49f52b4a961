// The filter type checker: each comparison's value converted to its field's
// type, and the operators that type allows.

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/filter_internal.h"

namespace accord {
namespace filter_internal {
namespace {

using google::protobuf::FieldDescriptor;

constexpr char kTimestampType[] = "google.protobuf.Timestamp";

// -?[0-9]+
bool IsIntegerText(absl::string_view text) {
  if (absl::StartsWith(text, "-")) text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), IsDigit);
}

// -?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?, so that strtod's
// extras (inf, nan, hex, spaces) are rejected.
bool IsDecimalText(absl::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  // Advances past a run of digits and says whether there was any.
  auto skip_digits = [&] {
    const size_t start = i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    return i > start;
  };
  bool has_digits = skip_digits();
  if (i < text.size() && text[i] == '.') {
    ++i;
    has_digits = skip_digits() || has_digits;
  }
  if (!has_digits) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    if (!skip_digits()) return false;
  }
  return i == text.size();
}

bool IsTimestamp(const FieldDescriptor& field) {
  return field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         field.message_type()->full_name() == kTimestampType;
}

std::string ComparatorText(Comparator comparator) {
  switch (comparator) {
    case Comparator::kEqual:
      return "=";
    case Comparator::kNotEqual:
      return "!=";
    case Comparator::kLess:
      return "<";
    case Comparator::kLessOrEqual:
      return "<=";
    case Comparator::kGreater:
      return ">";
    case Comparator::kGreaterOrEqual:
      return ">=";
    case Comparator::kHas:
      return ":";
  }
  return "?";
}

// The operation for `comparator` before TypeCheck adjusts `:` per type.
Operation BaseOperation(Comparator comparator) {
  switch (comparator) {
    case Comparator::kLess:
      return Operation::kLess;
    case Comparator::kLessOrEqual:
      return Operation::kLessOrEqual;
    case Comparator::kGreater:
      return Operation::kGreater;
    case Comparator::kGreaterOrEqual:
      return Operation::kGreaterOrEqual;
    default:
      return Operation::kEqual;  // =, != (negated) and : on non-strings.
  }
}

bool IsOrdering(Comparator comparator) {
  return comparator == Comparator::kLess ||
         comparator == Comparator::kLessOrEqual ||
         comparator == Comparator::kGreater ||
         comparator == Comparator::kGreaterOrEqual;
}

// One comparison as the per-type checks below see it.
struct Check {
  const FieldDescriptor& field;
  const std::string& path;
  Comparator comparator;
  int comparator_column;
  const ValueToken& value;
};

// "field "x" expects <what>, got <value>".
absl::Status Expects(const Check& check, absl::string_view what) {
  return FilterError(check.value.column,
                     absl::StrCat("field ", Quote(check.path), " expects ",
                                  what, ", got ", Quote(check.value.source)));
}

absl::Status UnsupportedOperator(const Check& check, absl::string_view type) {
  return FilterError(
      check.comparator_column,
      absl::StrCat("operator ", Quote(ComparatorText(check.comparator)),
                   " is not supported for ", type, " field ", Quote(check.path),
                   " (use =, != or :)"));
}

// `:` on a singular string is a case-insensitive substring test; `=` and
// `!=` take `*` at either end as a wildcard.
void CheckString(const Check& check, Comparison* comparison) {
  Literal& literal = comparison->literal;
  literal.text = check.value.text;
  if (check.comparator == Comparator::kHas && !check.field.is_repeated()) {
    comparison->operation = Operation::kContainsIgnoreCase;
    absl::AsciiStrToLower(&literal.text);
    return;
  }
  if (IsOrdering(check.comparator)) return;
  absl::string_view pattern = literal.text;
  const bool any_prefix = absl::ConsumePrefix(&pattern, "*");
  const bool any_suffix = absl::ConsumeSuffix(&pattern, "*");
  if (any_prefix && any_suffix) {
    literal.string_match = StringMatch::kContains;
  } else if (any_prefix) {
    literal.string_match = StringMatch::kSuffix;
  } else if (any_suffix) {
    literal.string_match = StringMatch::kPrefix;
  }
  literal.text = std::string(pattern);
}

// Integers (signed or not) and floating-point numbers.
absl::Status CheckNumber(const Check& check, Literal* literal) {
  const std::string& text = check.value.text;
  switch (check.field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      if (!IsIntegerText(text) ||
          !absl::SimpleAtoi(text, &literal->int_value)) {
        return Expects(check, "an integer");
      }
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      if (!IsIntegerText(text) || absl::StartsWith(text, "-") ||
          !absl::SimpleAtoi(text, &literal->uint_value)) {
        return Expects(check, "an unsigned integer");
      }
      return absl::OkStatus();
    default:  // CPPTYPE_FLOAT, CPPTYPE_DOUBLE
      if (!IsDecimalText(text) ||
          !absl::SimpleAtod(text, &literal->double_value)) {
        return Expects(check, "a number");
      }
      return absl::OkStatus();
  }
}

absl::Status CheckBool(const Check& check, Literal* literal) {
  if (IsOrdering(check.comparator)) return UnsupportedOperator(check, "bool");
  if (check.value.text == "true") {
    literal->bool_value = true;
  } else if (check.value.text == "false") {
    literal->bool_value = false;
  } else {
    return Expects(check, "true or false");
  }
  return absl::OkStatus();
}

// A value name or number.
absl::Status CheckEnum(const Check& check, Literal* literal) {
  if (IsOrdering(check.comparator)) return UnsupportedOperator(check, "enum");
  const auto* enum_type = check.field.enum_type();
  const auto* enum_value = enum_type->FindValueByName(check.value.text);
  int32_t number = 0;
  if (enum_value != nullptr) {
    literal->int_value = enum_value->number();
  } else if (IsIntegerText(check.value.text) &&
             absl::SimpleAtoi(check.value.text, &number)) {
    literal->int_value = number;
  } else {
    return FilterError(
        check.value.column,
        absl::StrCat(Quote(check.value.source), " is not a value of enum ",
                     enum_type->full_name(), " (field ", Quote(check.path),
                     ")"));
  }
  return absl::OkStatus();
}

// Timestamps take RFC 3339; other messages only `field:*`, handled before.
absl::Status CheckMessage(const Check& check, Literal* literal) {
  if (!IsTimestamp(check.field)) {
    return FilterError(
        check.comparator_column,
        absl::StrCat("field ", Quote(check.path), " is a message; only ",
                     Quote(check.path + ":*"), " is supported"));
  }
  std::string error;
  // ParseTime also takes "infinite-future" and "infinite-past", which
  // are not RFC 3339.
  if (!absl::ParseTime(absl::RFC3339_full, check.value.text,
                       &literal->time_value, &error) ||
      literal->time_value == absl::InfiniteFuture() ||
      literal->time_value == absl::InfinitePast()) {
    return Expects(check,
                   "an RFC 3339 timestamp such as \"2025-04-25T00:00:00Z\"");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status TypeCheck(const FieldDescriptor& field, const std::string& path,
                       Comparator comparator, int comparator_column,
                       const ValueToken& value, Comparison* comparison) {
  const bool bare_star = !value.quoted && value.text == "*";
  if (bare_star) {
    if (comparator != Comparator::kHas) {
      return FilterError(value.column,
                         absl::StrCat("\"*\" is only allowed after \":\" "
                                      "(presence), as in ",
                                      Quote(path + ":*")));
    }
    comparison->operation = Operation::kPresent;
    return absl::OkStatus();
  }
  comparison->negate = comparator == Comparator::kNotEqual;
  comparison->operation = BaseOperation(comparator);
  const Check check{field, path, comparator, comparator_column, value};
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      CheckString(check, comparison);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return CheckNumber(check, &comparison->literal);
    case FieldDescriptor::CPPTYPE_BOOL:
      return CheckBool(check, &comparison->literal);
    case FieldDescriptor::CPPTYPE_ENUM:
      return CheckEnum(check, &comparison->literal);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return CheckMessage(check, &comparison->literal);
  }
  return Expects(check, "a value of a supported type");
}

}  // namespace filter_internal
}  // namespace accord
