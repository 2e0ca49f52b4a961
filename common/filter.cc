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

bool Filter::Matches(const Message& message) const {
  if (root_ == nullptr) return true;
  if (message.GetDescriptor() != descriptor_) return false;
  return filter_internal::Evaluate(*root_, message);
}

}  // namespace accord
