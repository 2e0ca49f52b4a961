// Page tokens and List queries. The input is read with FuzzedDataProvider
// (strings from the front, numbers and choices from the back); the last
// byte picks the mode:
//   even: the rest is split into a token and a fingerprint for
//         PageTokenCodec::Decode, and into a cursor that must survive an
//         Encode/Decode round trip;
//   odd:  the rest becomes ListRequestFields (page size, filter, order_by,
//         page token, show_deleted, scope) for ParseListQuery over one of
//         the listed resource types.
//
// Checks beyond "no crash, no UB, no leak":
//   - rejections are INVALID_ARGUMENT on the request field at fault;
//   - Decode(Encode(fingerprint, cursor), fingerprint) == cursor, and the
//     token cannot be re-cut to fit a fingerprint that ends in the first
//     bytes of the cursor;
//   - a token the service issues for a query (with the cursor of a real
//     record) is accepted by the same query and refused by a query with
//     another filter, order, show_deleted or scope.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "accord/agreement/v1/agreement.pb.h"
#include "common/list.h"
#include "fuzz/fuzz_support.h"

namespace {

using accord::ListQuery;
using accord::ListRequestFields;
using accord::PageTokenCodec;

constexpr char kSeparator = '\x1f';

const PageTokenCodec& Codec() {
  static const PageTokenCodec* const codec =
      new PageTokenCodec(accord::fuzz::kPageTokenSecret);
  return *codec;
}

void FuzzCodec(FuzzedDataProvider& input) {
  const std::string fingerprint = input.ConsumeRandomLengthString(256);
  const std::string token = input.ConsumeRandomLengthString(512);
  absl::StatusOr<std::vector<std::string>> decoded =
      Codec().Decode(token, fingerprint);
  if (!decoded.ok())
    accord::fuzz::CheckRejection(decoded.status(), "page_token");

  // Round trip of a cursor whose parts hold no separator (sort keys and
  // resource names never do).
  std::vector<std::string> cursor;
  const size_t parts = input.ConsumeIntegralInRange<size_t>(1, 4);
  for (size_t i = 0; i < parts; ++i) {
    std::string part = input.ConsumeRandomLengthString(64);
    std::erase(part, kSeparator);
    cursor.push_back(std::move(part));
  }
  const std::string issued = Codec().Encode(fingerprint, cursor);
  absl::StatusOr<std::vector<std::string>> again =
      Codec().Decode(issued, fingerprint);
  ACCORD_FUZZ_CHECK(again.ok(), again.status().ToString());
  ACCORD_FUZZ_CHECK(*again == cursor, absl::StrJoin(*again, "|"));

  // A token is base64(16-byte MAC, cursor), readable by anyone. Moving the
  // cursor's first bytes onto the end of the fingerprint must not make a
  // token that another query accepts.
  std::string raw;
  ACCORD_FUZZ_CHECK(absl::WebSafeBase64Unescape(issued, &raw), issued);
  const std::string body = raw.substr(16);
  if (!body.empty()) {
    const size_t moved = input.ConsumeIntegralInRange<size_t>(1, body.size());
    const std::string forged =
        absl::WebSafeBase64Escape(raw.substr(0, 16) + body.substr(moved));
    ACCORD_FUZZ_CHECK(
        !Codec().Decode(forged, fingerprint + body.substr(0, moved)).ok(),
        "a token re-split between fingerprint and cursor was accepted");
  }
}

// A listed resource type, a record of it and the order_by fields its List
// method allows.
struct Listed {
  const google::protobuf::Message* record;
  std::vector<std::string> allowed_order;
};

const std::vector<Listed>& ListedTypes() {
  static const std::vector<Listed>* const listed = [] {
    auto* agreement = new accord::agreement::v1::Agreement();
    agreement->set_name("agreements/iran-russia-treaty");
    agreement->set_kind(accord::agreement::v1::Agreement::KIND_TREATY);
    agreement->set_state(accord::agreement::v1::Agreement::STATE_SIGNED);
    agreement->set_signing_date("2025-01-17");
    agreement->add_parties("institutions/iran");
    agreement->mutable_create_time()->set_seconds(1737072000);
    auto* session = new accord::agreement::v1::Session();
    session->set_name("committees/iran-russia-jec/sessions/18");
    session->set_number(-18);  // negative numbers must order too
    session->set_start_date("2025-04-24");
    return new std::vector<Listed>{
        {new accord::institution::v1::Institution(
             accord::fuzz::SampleInstitution()),
         {"name", "create_time", "update_time", "country_code"}},
        {agreement,
         {"name", "create_time", "update_time", "signing_date", "kind",
          "state"}},
        {session,
         {"name", "create_time", "update_time", "start_date", "number"}},
    };
  }();
  return *listed;
}

void FuzzListQuery(FuzzedDataProvider& input) {
  // Consumed from the back: type, page size, show_deleted, the other query;
  // from the front: filter, order_by, scope, then the token takes the rest.
  const std::vector<Listed>& types = ListedTypes();
  const Listed& listed =
      types[input.ConsumeIntegralInRange<size_t>(0, types.size() - 1)];
  const google::protobuf::Descriptor& descriptor =
      *listed.record->GetDescriptor();
  ListRequestFields request;
  request.page_size = input.ConsumeIntegral<int32_t>();
  request.show_deleted = input.ConsumeBool();
  request.filter = input.ConsumeRandomLengthString(512);
  request.order_by = input.ConsumeRandomLengthString(128);
  request.scope = input.ConsumeRandomLengthString(64);
  const int other_query = input.ConsumeIntegralInRange<int>(0, 3);
  request.page_token = input.ConsumeRemainingBytesAsString();
  for (const std::string* text : {&request.filter, &request.order_by,
                                  &request.scope, &request.page_token}) {
    if (!accord::fuzz::IsProtoString(*text)) return;  // request fields
  }

  absl::StatusOr<ListQuery> query =
      ParseListQuery(Codec(), descriptor, request, listed.allowed_order);
  if (!query.ok()) {
    const std::vector<accord::FieldViolation> violations =
        accord::FieldViolationsOf(query.status());
    const std::string field = violations.empty() ? "" : violations[0].field;
    ACCORD_FUZZ_CHECK(field == "page_size" || field == "filter" ||
                          field == "order_by" || field == "page_token",
                      query.status().ToString());
    accord::fuzz::CheckRejection(query.status(), field);
  } else {
    ACCORD_FUZZ_CHECK(
        query->page_size >= 1 && query->page_size <= accord::kMaxPageSize,
        absl::StrCat(query->page_size));
    ACCORD_FUZZ_CHECK(query->cursor.empty() ||
                          query->cursor.size() == query->order.size() + 1,
                      "cursor does not fit the order");
  }

  // The token the service would hand out after returning the record.
  request.page_token.clear();
  absl::StatusOr<ListQuery> first =
      ParseListQuery(Codec(), descriptor, request, listed.allowed_order);
  if (!first.ok()) return;
  const std::vector<std::string> cursor =
      first->CursorOf(*listed.record, "records/last");
  ACCORD_FUZZ_CHECK(!first->Before(cursor, cursor), "Before is not strict");
  request.page_token = Codec().Encode(first->fingerprint, cursor);
  absl::StatusOr<ListQuery> next =
      ParseListQuery(Codec(), descriptor, request, listed.allowed_order);
  ACCORD_FUZZ_CHECK(next.ok(), next.status().ToString());
  ACCORD_FUZZ_CHECK(next->cursor == cursor, "cursor changed on the way");

  // The same token with another query must be refused.
  ListRequestFields other = request;
  switch (other_query) {
    case 0:
      other.filter = absl::StrCat("(", other.filter, ")");
      break;
    case 1:
      other.order_by = absl::StrCat(other.order_by, " ");
      break;
    case 2:
      other.show_deleted = !other.show_deleted;
      break;
    default:
      other.scope = absl::StrCat(other.scope, "x");
      break;
  }
  absl::StatusOr<ListQuery> replayed =
      ParseListQuery(Codec(), descriptor, other, listed.allowed_order);
  if (replayed.ok()) {
    ACCORD_FUZZ_CHECK(false,
                      absl::StrCat("token accepted by another query: "
                                   "filter=",
                                   other.filter, " order_by=", other.order_by,
                                   " scope=", other.scope));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  if (input.ConsumeBool()) {
    FuzzListQuery(input);
  } else {
    FuzzCodec(input);
  }
  return 0;
}
