#include "common/filter.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "common/filter_internal.h"
#include "common/status_macros.h"

namespace accord {

using filter_internal::kFilterField;
using filter_internal::kMaxFilterBytes;
using filter_internal::Node;
using filter_internal::Token;
using google::protobuf::Descriptor;
using google::protobuf::Message;

Filter::Filter() = default;

Filter::Filter(std::shared_ptr<const filter_internal::Node> root,
               const Descriptor* descriptor)
    : root_(std::move(root)), descriptor_(descriptor) {}

absl::StatusOr<Filter> Filter::Parse(absl::string_view filter_text,
                                     const Descriptor& descriptor) {
  // Abseil here is built without the absl::string_view alias.
  const absl::string_view text(filter_text.data(), filter_text.size());
  if (text.size() > kMaxFilterBytes) {
    return InvalidField(
        kFilterField,
        absl::StrCat("filter is ", text.size(), " bytes long; at most ",
                     kMaxFilterBytes, " are allowed"));
  }
  ACCORD_ASSIGN_OR_RETURN(std::vector<Token> tokens,
                          filter_internal::Tokenize(text));
  if (tokens.size() == 1) return Filter();  // Only the end token.
  ACCORD_ASSIGN_OR_RETURN(
      std::unique_ptr<const Node> root,
      filter_internal::ParseTokens(std::move(tokens), descriptor));
  return Filter(std::move(root), &descriptor);
}

namespace {

using google::protobuf::FieldDescriptor;

// Appends what `node` requires of every match when it is a conjunct.
void CollectRequired(const Node& node, std::vector<RequiredComparison>& out) {
  if (node.kind == Node::Kind::kAnd) {
    for (const auto& child : node.children) CollectRequired(*child, out);
    return;
  }
  if (node.kind != Node::Kind::kComparison) return;
  const filter_internal::Comparison& comparison = node.comparison;
  if (comparison.path.size() != 1 || comparison.negate) return;
  const FieldDescriptor* field = comparison.path.front();
  const filter_internal::Literal& literal = comparison.literal;
  RequiredComparison required;
  required.field = field;
  switch (comparison.operation) {
    case filter_internal::Operation::kEqual:
      required.op = RequiredComparison::Op::kEqual;
      break;
    case filter_internal::Operation::kLess:
      required.op = RequiredComparison::Op::kLess;
      break;
    case filter_internal::Operation::kLessOrEqual:
      required.op = RequiredComparison::Op::kLessOrEqual;
      break;
    case filter_internal::Operation::kGreater:
      required.op = RequiredComparison::Op::kGreater;
      break;
    case filter_internal::Operation::kGreaterOrEqual:
      required.op = RequiredComparison::Op::kGreaterOrEqual;
      break;
    default:
      return;  // substring and presence tests
  }
  const bool equality = required.op == RequiredComparison::Op::kEqual;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (literal.string_match != filter_internal::StringMatch::kExact) return;
      required.value = literal.text;
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      if (!equality) return;
      required.value = absl::StrCat(literal.int_value);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      if (!equality) return;
      required.value = absl::StrCat(literal.uint_value);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      required.value = literal.bool_value ? "true" : "false";
      break;
    default:
      return;  // floating point and messages
  }
  out.push_back(std::move(required));
}

}  // namespace

std::vector<RequiredComparison> Filter::RequiredComparisons() const {
  std::vector<RequiredComparison> required;
  if (root_ != nullptr) CollectRequired(*root_, required);
  return required;
}

bool Filter::Matches(const Message& message) const {
  if (root_ == nullptr) return true;
  if (message.GetDescriptor() != descriptor_) return false;
  return filter_internal::Evaluate(*root_, message);
}

}  // namespace accord
