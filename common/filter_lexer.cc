// The filter lexer: text to tokens, and the error messages that quote them.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/errors.h"
#include "common/filter_internal.h"
#include "common/status_macros.h"

namespace accord {
namespace filter_internal {
namespace {

// Error messages quote at most this much of a token.
constexpr size_t kMaxQuotedBytes = 40;

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

// Scans the token starting at `text[*pos]` (not a space) into `token`
// (kind, comparator or value) and leaves `*pos` after it.
absl::Status ScanToken(absl::string_view text, size_t* pos, Token* token) {
  const size_t start = *pos;
  const char c = text[start];
  const char next = start + 1 < text.size() ? text[start + 1] : '\0';
  switch (c) {
    case '(':
      token->kind = TokenKind::kLeftParen;
      ++*pos;
      break;
    case ')':
      token->kind = TokenKind::kRightParen;
      ++*pos;
      break;
    case '=':
      token->kind = TokenKind::kComparator;
      token->comparator = Comparator::kEqual;
      ++*pos;
      break;
    case ':':
      token->kind = TokenKind::kComparator;
      token->comparator = Comparator::kHas;
      ++*pos;
      break;
    case '!':
      if (next != '=') {
        return FilterError(token->column,
                           "unexpected \"!\" (use \"!=\" or NOT)");
      }
      token->kind = TokenKind::kComparator;
      token->comparator = Comparator::kNotEqual;
      *pos += 2;
      break;
    case '<':
    case '>': {
      const bool or_equal = next == '=';
      token->kind = TokenKind::kComparator;
      if (c == '<') {
        token->comparator =
            or_equal ? Comparator::kLessOrEqual : Comparator::kLess;
      } else {
        token->comparator =
            or_equal ? Comparator::kGreaterOrEqual : Comparator::kGreater;
      }
      *pos += or_equal ? 2 : 1;
      break;
    }
    case '"':
    case '\'':
      token->kind = TokenKind::kString;
      ACCORD_RETURN_IF_ERROR(ScanString(text, pos, token));
      break;
    case '-':
      token->kind = TokenKind::kMinus;
      ++*pos;
      break;
    default:
      token->kind = TokenKind::kWord;
      while (*pos < text.size() && !IsDelimiter(text[*pos])) ++*pos;
      token->value = std::string(text.substr(start, *pos - start));
      break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FilterError(int column, absl::string_view what) {
  return InvalidField(kFilterField, absl::StrCat(what, " at column ", column));
}

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

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text) {
  std::vector<Token> tokens;
  size_t pos = 0;
  bool space_before = false;
  while (pos < text.size()) {
    if (IsSpace(text[pos])) {
      space_before = true;
      ++pos;
      continue;
    }
    Token token;
    token.column = static_cast<int>(pos) + 1;
    token.space_before = space_before;
    space_before = false;
    const size_t start = pos;
    ACCORD_RETURN_IF_ERROR(ScanToken(text, &pos, &token));
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

}  // namespace filter_internal
}  // namespace accord
