#include "common/list.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "google/protobuf/timestamp.pb.h"

namespace accord {
namespace {

using google::protobuf::FieldDescriptor;

constexpr size_t kMacSize =
    16;  // truncated HMAC-SHA256: plenty against guessing
constexpr char kSeparator[] = "\x1f";

std::string Mac(absl::string_view secret, absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
       &length);
  return std::string(reinterpret_cast<const char*>(digest), kMacSize);
}

// What a token's MAC covers. The fingerprint's length comes first, so the
// bytes cannot be re-split between fingerprint and cursor to fit another
// query.
std::string SignedPart(absl::string_view fingerprint, absl::string_view body) {
  return absl::StrCat(fingerprint.size(), ":", fingerprint, body);
}

// Encodes a signed integer so that byte order is numeric order.
std::string OrderedInt(int64_t value) {
  return absl::StrFormat("%020u",
                         static_cast<uint64_t>(value) ^ (uint64_t{1} << 63));
}

// One order_by term as error messages show it: trimmed, quoted, escaped and
// cut short, so control bytes cannot garble logs.
std::string QuotedTerm(absl::string_view term) {
  constexpr size_t kMaxEcho = 64;
  term = absl::StripAsciiWhitespace(term);
  return absl::StrCat("\"", absl::CHexEscape(term.substr(0, kMaxEcho)),
                      term.size() > kMaxEcho ? "...\"" : "\"");
}

}  // namespace

absl::StatusOr<int> EffectivePageSize(int32_t requested) {
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return std::min<int>(requested, kMaxPageSize);
}

absl::StatusOr<std::vector<OrderField>> ParseOrderBy(
    absl::string_view text, const google::protobuf::Descriptor& descriptor,
    const std::vector<std::string>& allowed) {
  std::vector<OrderField> order;
  if (absl::StripAsciiWhitespace(text).empty()) return order;
  std::vector<absl::string_view> seen;
  bool after_name = false;
  for (absl::string_view term : absl::StrSplit(text, ',')) {
    const std::string quoted = QuotedTerm(term);
    // Checked before the term is parsed: a long list costs no more than
    // `allowed` terms.
    if (seen.size() == allowed.size()) {
      return InvalidField(
          "order_by",
          absl::StrCat(quoted, " is one term too many: each of ",
                       absl::StrJoin(allowed, ", "), " may appear once"));
    }
    std::vector<absl::string_view> words =
        absl::StrSplit(term, ' ', absl::SkipWhitespace());
    if (words.empty() || words.size() > 2 ||
        (words.size() == 2 && words[1] != "desc" && words[1] != "asc")) {
      return InvalidField(
          "order_by",
          absl::StrCat(quoted, " is not `field`, `field asc` or `field desc`"));
    }
    if (std::find(allowed.begin(), allowed.end(), words[0]) == allowed.end()) {
      return InvalidField(
          "order_by", absl::StrCat("cannot order by ", quoted, "; use one of: ",
                                   absl::StrJoin(allowed, ", ")));
    }
    if (std::find(seen.begin(), seen.end(), words[0]) != seen.end()) {
      return InvalidField(
          "order_by", absl::StrCat(quoted, " repeats the field \"", words[0],
                                   "\"; each may appear once"));
    }
    seen.push_back(words[0]);
    // Names are unique: ordering by name is the tie-breaker every query
    // ends with, and nothing after it could change the order.
    if (after_name) {
      return InvalidField("order_by",
                          absl::StrCat(quoted,
                                       " follows `name`, which must be "
                                       "the last term"));
    }
    if (words[0] == "name") {
      if (words.size() == 2 && words[1] == "desc") {
        return InvalidField("order_by", "`name desc` is not supported");
      }
      after_name = true;
      continue;
    }
    OrderField field;
    field.field = descriptor.FindFieldByName(std::string(words[0]));
    if (field.field == nullptr || field.field->is_repeated()) {
      return InvalidField("order_by", absl::StrCat("cannot order by ", quoted));
    }
    field.descending = words.size() == 2 && words[1] == "desc";
    order.push_back(field);
  }
  return order;
}

std::string SortKey(const google::protobuf::Message& message,
                    const OrderField& order) {
  const auto* reflection = message.GetReflection();
  const FieldDescriptor* field = order.field;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return reflection->GetString(message, field);
    case FieldDescriptor::CPPTYPE_ENUM:
      return OrderedInt(reflection->GetEnumValue(message, field));
    case FieldDescriptor::CPPTYPE_INT32:
      return OrderedInt(reflection->GetInt32(message, field));
    case FieldDescriptor::CPPTYPE_INT64:
      return OrderedInt(reflection->GetInt64(message, field));
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      // Timestamps; an unset one sorts first.
      google::protobuf::Timestamp time;
      if (reflection->HasField(message, field)) {
        time.CopyFrom(reflection->GetMessage(message, field));
      }
      return absl::StrCat(OrderedInt(time.seconds()),
                          absl::StrFormat("%09d", time.nanos()));
    }
    default:
      return "";
  }
}

std::string PageTokenCodec::Encode(
    absl::string_view query_fingerprint,
    const std::vector<std::string>& cursor) const {
  const std::string body = absl::StrJoin(cursor, kSeparator);
  return absl::WebSafeBase64Escape(
      absl::StrCat(Mac(secret_, SignedPart(query_fingerprint, body)), body));
}

absl::StatusOr<std::vector<std::string>> PageTokenCodec::Decode(
    absl::string_view token, absl::string_view query_fingerprint) const {
  if (token.size() > kMaxPageTokenBytes) {
    return InvalidField("page_token",
                        absl::StrCat("is longer than ", kMaxPageTokenBytes,
                                     " bytes, the most a token may be"));
  }
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < kMacSize) {
    return InvalidField("page_token", "is not a token this service issued");
  }
  const std::string body = raw.substr(kMacSize);
  const std::string expected =
      Mac(secret_, SignedPart(query_fingerprint, body));
  if (CRYPTO_memcmp(expected.data(), raw.data(), kMacSize) != 0) {
    return InvalidField("page_token",
                        "was altered, or belongs to a request with other "
                        "filter, order_by or show_deleted");
  }
  return std::vector<std::string>(absl::StrSplit(body, kSeparator));
}

std::vector<std::string> ListQuery::CursorOf(
    const google::protobuf::Message& message, absl::string_view name) const {
  std::vector<std::string> key;
  key.reserve(order.size() + 1);
  for (const OrderField& field : order) key.push_back(SortKey(message, field));
  key.emplace_back(name);
  return key;
}

bool ListQuery::Before(const std::vector<std::string>& a,
                       const std::vector<std::string>& b) const {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] == b[i]) continue;
    const bool descending = i < order.size() && order[i].descending;
    return descending ? a[i] > b[i] : a[i] < b[i];
  }
  return a.size() < b.size();
}

absl::StatusOr<ListQuery> ParseListQuery(
    const PageTokenCodec& codec, const google::protobuf::Descriptor& descriptor,
    const ListRequestFields& request,
    const std::vector<std::string>& allowed_order) {
  ListQuery query;
  ACCORD_ASSIGN_OR_RETURN(query.page_size,
                          EffectivePageSize(request.page_size));
  ACCORD_ASSIGN_OR_RETURN(query.filter,
                          Filter::Parse(request.filter, descriptor));
  ACCORD_ASSIGN_OR_RETURN(
      query.order, ParseOrderBy(request.order_by, descriptor, allowed_order));
  query.show_deleted = request.show_deleted;
  // The scope too: a token from one parent's collection is not valid in
  // another's.
  query.fingerprint =
      absl::StrCat(descriptor.full_name(), kSeparator, request.filter,
                   kSeparator, request.order_by, kSeparator,
                   request.show_deleted ? "1" : "0", kSeparator, request.scope);
  if (!request.page_token.empty()) {
    ACCORD_ASSIGN_OR_RETURN(
        query.cursor, codec.Decode(request.page_token, query.fingerprint));
    if (query.cursor.size() != query.order.size() + 1) {
      return InvalidField("page_token", "does not fit this request");
    }
  }
  return query;
}

}  // namespace accord
