#include "common/filter.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace accord {

namespace filter_internal {

// The operator a comparison applies once the filter's `:` and `!=` have been
// resolved against the field's type.
enum class Operation {
  kEqual,
  kLess,
  kLessOrEqual,
  kGreater,
  kGreaterOrEqual,
  kContainsIgnoreCase,  // `:` on a singular string.
  kPresent,             // `:*`.
};

// How `=` matches a string value that starts and/or ends with `*`.
enum class StringMatch { kExact, kPrefix, kSuffix, kContains };

// The constant a comparison tests against, already converted to the field's
// type; only the member for that type is meaningful.
struct Literal {
  std::string text;  // Lowercased for kContainsIgnoreCase, `*`s stripped.
  StringMatch string_match = StringMatch::kExact;
  int64_t int_value = 0;  // Also enum numbers.
  uint64_t uint_value = 0;
  double double_value = 0;
  bool bool_value = false;
  absl::Time time_value;
};

struct Comparison {
  // Fields from the filtered message to the compared one; every field but the
  // last is a message field.
  std::vector<const google::protobuf::FieldDescriptor*> path;
  Operation operation = Operation::kEqual;
  bool negate = false;  // `!=`: true when no element is equal.
  Literal literal;
};

struct Node {
  enum class Kind { kAnd, kOr, kNot, kComparison };
  Kind kind = Kind::kComparison;
  std::vector<std::unique_ptr<const Node>> children;  // kAnd, kOr, kNot.
  Comparison comparison;                              // kComparison.
};

}  // namespace filter_internal

namespace {

using filter_internal::Comparison;
using filter_internal::Literal;
using filter_internal::Node;
using filter_internal::Operation;
using filter_internal::StringMatch;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kMaxFilterBytes = 4096;
constexpr int kMaxDepth = 32;
constexpr int kMaxComparisons = 200;
// Bounds evaluation recursion through self-referencing message types.
constexpr size_t kMaxPathFields = 32;
// Error messages quote at most this much of a token.
constexpr size_t kMaxQuotedBytes = 40;
constexpr char kFilterField[] = "filter";
constexpr char kTimestampType[] = "google.protobuf.Timestamp";

// ---------------------------------------------------------------------------
// Lexer

enum class TokenKind {
  kLeftParen,
  kRightParen,
  kComparator,
  kString,  // Quoted; `value` holds the unescaped text.
  kWord,    // Unquoted run of text: field path, keyword, number, name, `*`.
  kMinus,   // A `-` starting a token: negation, or the sign of a number.
  kEnd,
};

enum class Comparator {
  kEqual,
  kNotEqual,
  kLess,
  kLessOrEqual,
  kGreater,
  kGreaterOrEqual,
  kHas,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  Comparator comparator = Comparator::kEqual;
  std::string value;
  absl::string_view source;  // As written, quotes included.
  int column = 0;            // 1-based byte column.
  bool space_before = false;
};

bool IsSpace(char c) {
  return absl::ascii_isspace(static_cast<unsigned char>(c));
}

// Characters that end an unquoted word.
bool IsDelimiter(char c) {
  switch (c) {
    case '(':
    case ')':
    case '=':
    case '!':
    case '<':
    case '>':
    case ':':
    case '"':
    case '\'':
      return true;
    default:
      return IsSpace(c);
  }
}

absl::Status FilterError(int column, absl::string_view what) {
  return InvalidField(kFilterField, absl::StrCat(what, " at column ", column));
}

// `text` in double quotes, escaped and shortened so that any input gives a
// printable, valid UTF-8 message.
std::string Quote(absl::string_view text) {
  if (text.size() <= kMaxQuotedBytes) {
    return absl::StrCat("\"", absl::CHexEscape(text), "\"");
  }
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxQuotedBytes)),
                      "...\"");
}

std::string Describe(const Token& token) {
  if (token.kind == TokenKind::kEnd) return "end of filter";
  return Quote(token.source);
}

// Scans a quoted string starting at `text[*pos]` (the opening quote) and
// leaves `*pos` after the closing quote.
absl::Status ScanString(absl::string_view text, size_t* pos, Token* token) {
  const char quote = text[*pos];
  const int start_column = static_cast<int>(*pos) + 1;
  size_t i = *pos + 1;
  while (i < text.size()) {
    const char c = text[i];
    if (c == quote) {
      *pos = i + 1;
      return absl::OkStatus();
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) break;
      const char escaped = text[i + 1];
      if (escaped != '\\' && escaped != '"' && escaped != '\'') {
        return FilterError(
            static_cast<int>(i) + 1,
            absl::StrCat("invalid escape ", Quote(text.substr(i, 2)),
                         " (only \\\\, \\\" and \\' are allowed)"));
      }
      token->value.push_back(escaped);
      i += 2;
      continue;
    }
    token->value.push_back(c);
    ++i;
  }
  return FilterError(start_column, absl::StrCat("unterminated string ",
                                                Quote(text.substr(*pos))));
}

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  size_t pos = 0;
  bool space_before = false;
  while (pos < text.size()) {
    const char c = text[pos];
    if (IsSpace(c)) {
      space_before = true;
      ++pos;
      continue;
    }
    Token token;
    token.column = static_cast<int>(pos) + 1;
    token.space_before = space_before;
    space_before = false;
    const size_t start = pos;
    const char next = pos + 1 < text.size() ? text[pos + 1] : '\0';
    switch (c) {
      case '(':
        token.kind = TokenKind::kLeftParen;
        ++pos;
        break;
      case ')':
        token.kind = TokenKind::kRightParen;
        ++pos;
        break;
      case '=':
        token.kind = TokenKind::kComparator;
        token.comparator = Comparator::kEqual;
        ++pos;
        break;
      case ':':
        token.kind = TokenKind::kComparator;
        token.comparator = Comparator::kHas;
        ++pos;
        break;
      case '!':
        if (next != '=') {
          return FilterError(token.column,
                             "unexpected \"!\" (use \"!=\" or NOT)");
        }
        token.kind = TokenKind::kComparator;
        token.comparator = Comparator::kNotEqual;
        pos += 2;
        break;
      case '<':
      case '>': {
        const bool or_equal = next == '=';
        token.kind = TokenKind::kComparator;
        if (c == '<') {
          token.comparator =
              or_equal ? Comparator::kLessOrEqual : Comparator::kLess;
        } else {
          token.comparator =
              or_equal ? Comparator::kGreaterOrEqual : Comparator::kGreater;
        }
        pos += or_equal ? 2 : 1;
        break;
      }
      case '"':
      case '\'':
        token.kind = TokenKind::kString;
        ACCORD_RETURN_IF_ERROR(ScanString(text, &pos, &token));
        break;
      case '-':
        token.kind = TokenKind::kMinus;
        ++pos;
        break;
      default:
        token.kind = TokenKind::kWord;
        while (pos < text.size() && !IsDelimiter(text[pos])) ++pos;
        token.value = std::string(text.substr(start, pos - start));
        break;
    }
    token.source = text.substr(start, pos - start);
    tokens.push_back(std::move(token));
  }
  Token end;
  end.kind = TokenKind::kEnd;
  end.column = static_cast<int>(text.size()) + 1;
  end.space_before = space_before;
  tokens.push_back(std::move(end));
  return tokens;
}

// ---------------------------------------------------------------------------
// Value conversion

// A value as written after a comparator.
struct ValueToken {
  std::string text;  // Unescaped for quoted strings; sign included.
  std::string source;
  int column = 0;
  bool quoted = false;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

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

// Fills `comparison->operation` and `comparison->literal` for `field`
// compared with `comparator` against `value`, rejecting what makes no sense
// for the field's type.
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
  Literal& literal = comparison->literal;
  const std::string field_name = Quote(path);
  auto expects = [&](absl::string_view what) {
    return FilterError(value.column,
                       absl::StrCat("field ", field_name, " expects ", what,
                                    ", got ", Quote(value.source)));
  };
  auto unsupported_operator = [&](absl::string_view type) {
    return FilterError(
        comparator_column,
        absl::StrCat("operator ", Quote(ComparatorText(comparator)),
                     " is not supported for ", type, " field ", field_name,
                     " (use =, != or :)"));
  };

  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      literal.text = value.text;
      if (comparator == Comparator::kHas && !field.is_repeated()) {
        comparison->operation = Operation::kContainsIgnoreCase;
        absl::AsciiStrToLower(&literal.text);
      } else if (!IsOrdering(comparator)) {
        // `*` at either end is a wildcard for equality.
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
      return absl::OkStatus();

    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      if (!IsIntegerText(value.text) ||
          !absl::SimpleAtoi(value.text, &literal.int_value)) {
        return expects("an integer");
      }
      return absl::OkStatus();

    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      if (!IsIntegerText(value.text) || absl::StartsWith(value.text, "-") ||
          !absl::SimpleAtoi(value.text, &literal.uint_value)) {
        return expects("an unsigned integer");
      }
      return absl::OkStatus();

    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (!IsDecimalText(value.text) ||
          !absl::SimpleAtod(value.text, &literal.double_value)) {
        return expects("a number");
      }
      return absl::OkStatus();

    case FieldDescriptor::CPPTYPE_BOOL:
      if (IsOrdering(comparator)) return unsupported_operator("bool");
      if (value.text == "true") {
        literal.bool_value = true;
      } else if (value.text == "false") {
        literal.bool_value = false;
      } else {
        return expects("true or false");
      }
      return absl::OkStatus();

    case FieldDescriptor::CPPTYPE_ENUM: {
      if (IsOrdering(comparator)) return unsupported_operator("enum");
      const auto* enum_value = field.enum_type()->FindValueByName(value.text);
      int32_t number = 0;
      if (enum_value != nullptr) {
        literal.int_value = enum_value->number();
      } else if (IsIntegerText(value.text) &&
                 absl::SimpleAtoi(value.text, &number)) {
        literal.int_value = number;
      } else {
        return FilterError(
            value.column,
            absl::StrCat(Quote(value.source), " is not a value of enum ",
                         field.enum_type()->full_name(), " (field ", field_name,
                         ")"));
      }
      return absl::OkStatus();
    }

    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (!IsTimestamp(field)) {
        return FilterError(
            comparator_column,
            absl::StrCat("field ", field_name, " is a message; only ",
                         Quote(path + ":*"), " is supported"));
      }
      std::string error;
      // ParseTime also takes "infinite-future" and "infinite-past", which
      // are not RFC 3339.
      if (!absl::ParseTime(absl::RFC3339_full, value.text, &literal.time_value,
                           &error) ||
          literal.time_value == absl::InfiniteFuture() ||
          literal.time_value == absl::InfinitePast()) {
        return expects(
            "an RFC 3339 timestamp such as \"2025-04-25T00:00:00Z\"");
      }
      return absl::OkStatus();
    }
  }
  return expects("a value of a supported type");
}

// ---------------------------------------------------------------------------
// Parser

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

// ---------------------------------------------------------------------------
// Evaluation

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

}  // namespace

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
  ACCORD_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(text));
  if (tokens.size() == 1) return Filter();  // Only the end token.
  Parser parser(std::move(tokens), descriptor);
  ACCORD_ASSIGN_OR_RETURN(std::unique_ptr<const Node> root,
                          parser.ParseFilter());
  return Filter(std::move(root), &descriptor);
}

bool Filter::Matches(const Message& message) const {
  if (root_ == nullptr) return true;
  if (message.GetDescriptor() != descriptor_) return false;
  return Evaluate(*root_, message);
}

}  // namespace accord
