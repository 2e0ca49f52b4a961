#ifndef ACCORD_COMMON_FILTER_INTERNAL_H_
#define ACCORD_COMMON_FILTER_INTERNAL_H_

// The parts of Filter (common/filter.h) its four stages share: the lexer
// (filter_lexer.cc) turns text into tokens, the parser (filter_parser.cc)
// builds the tree, the type checker (filter_type_check.cc) converts each
// value to its field's type, and the evaluator (filter_eval.cc) walks the
// tree over a message. Only for common/filter*.cc.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace accord {
namespace filter_internal {

// The limits filter.h promises.
inline constexpr size_t kMaxFilterBytes = 4096;
inline constexpr int kMaxDepth = 32;
inline constexpr int kMaxComparisons = 200;
// Bounds evaluation recursion through self-referencing message types.
inline constexpr size_t kMaxPathFields = 32;
// The request field errors name.
inline constexpr char kFilterField[] = "filter";

// ---------------------------------------------------------------------------
// The parsed tree

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

// ---------------------------------------------------------------------------
// Tokens

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

// A value as written after a comparator.
struct ValueToken {
  std::string text;  // Unescaped for quoted strings; sign included.
  std::string source;
  int column = 0;
  bool quoted = false;
};

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// INVALID_ARGUMENT on the `filter` field: `what` at `column` (1-based).
absl::Status FilterError(int column, absl::string_view what);

// `text` in double quotes, escaped and shortened so that any input gives a
// printable, valid UTF-8 message.
std::string Quote(absl::string_view text);

// The token as error messages show it.
std::string Describe(const Token& token);

// ---------------------------------------------------------------------------
// The stages

// Splits `text` into tokens, the last of kind kEnd (filter_lexer.cc).
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text);

// The tree of a filter over `descriptor` from its tokens, type-checked
// (filter_parser.cc).
absl::StatusOr<std::unique_ptr<const Node>> ParseTokens(
    std::vector<Token> tokens, const google::protobuf::Descriptor& descriptor);

// Fills `comparison->operation` and `comparison->literal` for `field`
// (written `path` in the filter) compared with `comparator` against
// `value`, rejecting what makes no sense for the field's type
// (filter_type_check.cc).
absl::Status TypeCheck(const google::protobuf::FieldDescriptor& field,
                       const std::string& path, Comparator comparator,
                       int comparator_column, const ValueToken& value,
                       Comparison* comparison);

// Whether `message` satisfies the tree at `node` (filter_eval.cc).
bool Evaluate(const Node& node, const google::protobuf::Message& message);

}  // namespace filter_internal
}  // namespace accord

#endif  // ACCORD_COMMON_FILTER_INTERNAL_H_
