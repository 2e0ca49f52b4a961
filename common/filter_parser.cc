// The filter parser: tokens to a tree (recursive descent over the grammar
// in filter.h), with field paths resolved against the message descriptor.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/filter_internal.h"
#include "common/status_macros.h"

namespace accord {
namespace filter_internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

bool IsIdentifier(absl::string_view text) {
  if (text.empty() || IsDigit(text[0])) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, const Descriptor& descriptor)
      : tokens_(std::move(tokens)), descriptor_(descriptor) {}

  absl::StatusOr<std::unique_ptr<const Node>> ParseFilter() {
    ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<const Node> root,
                            ParseExpression(/*depth=*/0));
    if (Peek().kind != TokenKind::kEnd) {
      return FilterError(Peek().column,
                         absl::StrCat("unexpected ", Describe(Peek())));
    }
    return root;
  }

 private:
  const Token& Peek() const { return tokens_[next_]; }
  const Token& Take() {
    const Token& token = tokens_[next_];
    if (token.kind != TokenKind::kEnd) ++next_;
    return token;
  }
  bool PeekWord(absl::string_view word) const {
    return Peek().kind == TokenKind::kWord && Peek().value == word;
  }
  bool PeekKeyword() const {
    return PeekWord("AND") || PeekWord("OR") || PeekWord("NOT");
  }

  static std::unique_ptr<const Node> Combine(
      Node::Kind kind, std::vector<std::unique_ptr<const Node>> children) {
    if (children.size() == 1) return std::move(children.front());
    auto node = std::make_unique<Node>();
    node->kind = kind;
    node->children = std::move(children);
    return node;
  }

  // expression = sequence {"AND" sequence}
  absl::StatusOr<std::unique_ptr<const Node>> ParseExpression(int depth) {
    std::vector<std::unique_ptr<const Node>> sequences;
    while (true) {
      ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<const Node> sequence,
                              ParseSequence(depth));
      sequences.push_back(std::move(sequence));
      if (!PeekWord("AND")) break;
      Take();
    }
    return Combine(Node::Kind::kAnd, std::move(sequences));
  }

  // sequence = factor {factor}; juxtaposed factors are ANDed.
  absl::StatusOr<std::unique_ptr<const Node>> ParseSequence(int depth) {
    std::vector<std::unique_ptr<const Node>> factors;
    while (true) {
      ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<const Node> factor,
                              ParseFactor(depth));
      factors.push_back(std::move(factor));
      const Token& next = Peek();
      if (next.kind == TokenKind::kEnd || next.kind == TokenKind::kRightParen ||
          PeekWord("AND")) {
        break;
      }
      if (next.kind == TokenKind::kComparator) {
        return FilterError(next.column,
                           absl::StrCat("unexpected ", Describe(next)));
      }
      if (!next.space_before) {
        return FilterError(
            next.column, absl::StrCat("expected whitespace, AND or OR before ",
                                      Describe(next)));
      }
    }
    return Combine(Node::Kind::kAnd, std::move(factors));
  }

  // factor = term {"OR" term}
  absl::StatusOr<std::unique_ptr<const Node>> ParseFactor(int depth) {
    std::vector<std::unique_ptr<const Node>> terms;
    while (true) {
      ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<const Node> term,
                              ParseTerm(depth));
      terms.push_back(std::move(term));
      if (!PeekWord("OR")) break;
      Take();
    }
    return Combine(Node::Kind::kOr, std::move(terms));
  }

  // term = ["NOT" | "-"] simple
  absl::StatusOr<std::unique_ptr<const Node>> ParseTerm(int depth) {
    bool negated = false;
    if (PeekWord("NOT")) {
      Take();
      negated = true;
    } else if (Peek().kind == TokenKind::kMinus) {
      const Token& minus = Take();
      if (Peek().space_before) {
        return FilterError(
            minus.column,
            "\"-\" must be followed directly by a comparison or \"(\"");
      }
      negated = true;
    }
    ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<const Node> simple,
                            ParseSimple(depth));
    if (!negated) return simple;
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::kNot;
    node->children.push_back(std::move(simple));
    return node;
  }

  // simple = "(" expression ")" | comparison
  absl::StatusOr<std::unique_ptr<const Node>> ParseSimple(int depth) {
    const Token& token = Peek();
    if (token.kind == TokenKind::kLeftParen) {
      if (depth >= kMaxDepth) {
        return FilterError(
            token.column,
            absl::StrCat("\"(\" nests deeper than ", kMaxDepth, " levels"));
      }
      Take();
      ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<const Node> inner,
                              ParseExpression(depth + 1));
      if (Peek().kind != TokenKind::kRightParen) {
        return FilterError(
            Peek().column,
            absl::StrCat("expected \")\" to close \"(\" at column ",
                         token.column, ", found ", Describe(Peek())));
      }
      Take();
      return inner;
    }
    if ((token.kind == TokenKind::kWord && !PeekKeyword()) ||
        token.kind == TokenKind::kString) {
      return ParseComparison();
    }
    if (token.kind == TokenKind::kEnd) {
      return FilterError(token.column,
                         "expected a comparison, found end of filter");
    }
    return FilterError(token.column,
                       absl::StrCat("unexpected ", Describe(token)));
  }

  // comparison = field comparator value
  absl::StatusOr<std::unique_ptr<const Node>> ParseComparison() {
    const Token& field_token = Take();
    if (Peek().kind != TokenKind::kComparator) {
      return FilterError(
          field_token.column,
          absl::StrCat("bare value not supported, use field:value: ",
                       Describe(field_token)));
    }
    const Token& comparator = Take();
    if (++comparisons_ > kMaxComparisons) {
      return FilterError(
          field_token.column,
          absl::StrCat("more than ", kMaxComparisons, " comparisons"));
    }
    if (field_token.kind != TokenKind::kWord) {
      return FilterError(
          field_token.column,
          absl::StrCat("expected a field name, found ", Describe(field_token)));
    }
    auto node = std::make_unique<Node>();
    Comparison& comparison = node->comparison;
    ACCORD_RETURN_IF_ERROR(ResolvePath(field_token, &comparison.path));
    ACCORD_ASSIGN_OR_RETURN(ValueToken value, ParseValue(comparator));
    ACCORD_RETURN_IF_ERROR(TypeCheck(*comparison.path.back(), field_token.value,
                                     comparator.comparator, comparator.column,
                                     value, &comparison));
    return node;
  }

  absl::Status ResolvePath(const Token& token,
                           std::vector<const FieldDescriptor*>* path) const {
    const std::vector<absl::string_view> names =
        absl::StrSplit(token.value, '.');
    if (names.size() > kMaxPathFields) {
      return FilterError(
          token.column,
          absl::StrCat("field path ", Describe(token), " has more than ",
                       kMaxPathFields, " parts"));
    }
    const Descriptor* message = &descriptor_;
    for (absl::string_view name : names) {
      if (!IsIdentifier(name)) {
        return FilterError(
            token.column, absl::StrCat("invalid field name ", Describe(token)));
      }
      if (message == nullptr) {
        return FilterError(
            token.column,
            absl::StrCat("field ", Quote(path->back()->name()),
                         " has no subfields, in ", Describe(token)));
      }
      const FieldDescriptor* field =
          message->FindFieldByName(std::string(name));
      if (field == nullptr) {
        return FilterError(
            token.column,
            absl::StrCat("unknown field ", Quote(name), " in ",
                         message->full_name(), ", in ", Describe(token)));
      }
      if (field->is_map()) {
        return FilterError(token.column, absl::StrCat("map field ", Quote(name),
                                                      " is not filterable"));
      }
      path->push_back(field);
      message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE
                    ? field->message_type()
                    : nullptr;
    }
    return absl::OkStatus();
  }

  // value = string | word | "-" word (a negative number)
  absl::StatusOr<ValueToken> ParseValue(const Token& comparator) {
    const Token& token = Peek();
    ValueToken value;
    value.column = token.column;
    if (token.kind == TokenKind::kString) {
      value.text = token.value;
      value.quoted = true;
    } else if (token.kind == TokenKind::kWord && !PeekKeyword()) {
      value.text = token.value;
    } else if (token.kind == TokenKind::kMinus &&
               tokens_[next_ + 1].kind == TokenKind::kWord &&
               !tokens_[next_ + 1].space_before) {
      Take();
      value.text = absl::StrCat("-", Peek().value);
      value.source = value.text;
    } else {
      return FilterError(
          token.column,
          absl::StrCat("expected a value after ", Quote(comparator.source),
                       ", found ", Describe(token)));
    }
    if (value.source.empty()) value.source = std::string(Peek().source);
    Take();
    return value;
  }

  const std::vector<Token> tokens_;
  const Descriptor& descriptor_;
  size_t next_ = 0;
  int comparisons_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<const Node>> ParseTokens(
    std::vector<Token> tokens, const Descriptor& descriptor) {
  Parser parser(std::move(tokens), descriptor);
  return parser.ParseFilter();
}

}  // namespace filter_internal
}  // namespace accord
