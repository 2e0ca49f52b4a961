#ifndef ACCORD_COMMON_LIST_H_
#define ACCORD_COMMON_LIST_H_

// Helpers for AIP-132 List and AIP-158 pagination: page sizes, `order_by`,
// and opaque page tokens that are tamper-checked (HMAC-SHA256) and bound to
// the query they came from, so a token cannot be replayed with another
// filter or order.
//
// Pagination is keyset-based: a token holds the sort key of the last item
// returned, and the next page starts strictly after it. Records added or
// removed between pages therefore cause neither duplicates nor gaps among
// the records that stay.
//
// Example:
//   ACCORD_ASSIGN_OR_RETURN(
//       ListQuery query,
//       ParseListQuery(codec, *Institution::descriptor(),
//                      {.page_size = request.page_size(), ...},
//                      {"name", "create_time", "update_time"}));

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/filter.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace accord {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;
// The longest `page_token` accepted; longer ones are INVALID_ARGUMENT on
// `page_token` before any decoding. The tokens this service issues stay
// far below it: a MAC, at most five sort keys of up to 29 bytes and a
// resource name of up to 149, base64-encoded, is under 450 bytes.
inline constexpr size_t kMaxPageTokenBytes = 1024;

// 0 means the default; larger than the cap is clamped (AIP-158); negative
// is INVALID_ARGUMENT on `page_size`.
absl::StatusOr<int> EffectivePageSize(int32_t requested);

// One `order_by` term over a top-level string, integer, enum or Timestamp
// field.
struct OrderField {
  const google::protobuf::FieldDescriptor* field = nullptr;
  bool descending = false;
};

// Parses `order_by` ("create_time desc, name"): comma-separated terms, each
// `field`, `field asc` or `field desc`. Only fields in `allowed` may be
// used, each at most once, and `name` (never `name desc`) only as the last
// term. The resource name always breaks ties, so the order is total.
// Anything else is INVALID_ARGUMENT on `order_by` quoting the term at fault.
absl::StatusOr<std::vector<OrderField>> ParseOrderBy(
    absl::string_view text, const google::protobuf::Descriptor& descriptor,
    const std::vector<std::string>& allowed);

// A string whose byte order is the field's natural order.
std::string SortKey(const google::protobuf::Message& message,
                    const OrderField& order);

class PageTokenCodec {
 public:
  explicit PageTokenCodec(std::string secret) : secret_(std::move(secret)) {}

  std::string Encode(absl::string_view query_fingerprint,
                     const std::vector<std::string>& cursor) const;
  // INVALID_ARGUMENT on `page_token` if the token is longer than
  // kMaxPageTokenBytes (checked first), was altered or belongs to another
  // query.
  absl::StatusOr<std::vector<std::string>> Decode(
      absl::string_view token, absl::string_view query_fingerprint) const;

 private:
  std::string secret_;
};

// The request fields every List method has.
struct ListRequestFields {
  int32_t page_size = 0;
  std::string page_token;
  std::string filter;
  std::string order_by;
  bool show_deleted = false;
  // What else bounds the listing, e.g. the parent of a nested collection;
  // a page token is only valid within the same scope.
  std::string scope;
};

struct ListQuery {
  int page_size = kDefaultPageSize;
  Filter filter;
  std::vector<OrderField> order;  // empty: by resource name
  bool show_deleted = false;
  std::string fingerprint;
  // Sort keys then resource name of the last item already returned; empty
  // on the first page.
  std::vector<std::string> cursor;

  bool ordered_by_name() const { return order.empty(); }
  // The cursor for `message`, to be compared with `cursor`.
  std::vector<std::string> CursorOf(const google::protobuf::Message& message,
                                    absl::string_view name) const;
  // True if `a` comes before `b` in this query's order.
  bool Before(const std::vector<std::string>& a,
              const std::vector<std::string>& b) const;
};

absl::StatusOr<ListQuery> ParseListQuery(
    const PageTokenCodec& codec, const google::protobuf::Descriptor& descriptor,
    const ListRequestFields& request,
    const std::vector<std::string>& allowed_order);

}  // namespace accord

#endif  // ACCORD_COMMON_LIST_H_
