#include "common/list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "accord/institution/v1/institution.pb.h"
#include "common/errors.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/wrappers.pb.h"

namespace accord {
namespace {

using ::accord::institution::v1::Institution;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::vector<std::string>& AllowedOrder() {
  static const auto* const allowed = new std::vector<std::string>{
      "name", "create_time", "update_time", "country_code"};
  return *allowed;
}

// The fields named in the field violations of `status`.
std::vector<std::string> ViolatedFields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const FieldViolation& violation : FieldViolationsOf(status)) {
    fields.push_back(violation.field);
  }
  return fields;
}

void ExpectInvalidOn(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(ViolatedFields(status), ElementsAre(field)) << status;
}

const google::protobuf::FieldDescriptor* InstitutionField(
    const std::string& name) {
  const google::protobuf::FieldDescriptor* field =
      Institution::descriptor()->FindFieldByName(name);
  EXPECT_NE(field, nullptr) << name;
  return field;
}

Institution CreatedAt(int64_t seconds, int32_t nanos) {
  Institution institution;
  institution.mutable_create_time()->set_seconds(seconds);
  institution.mutable_create_time()->set_nanos(nanos);
  return institution;
}

// ---- EffectivePageSize ----

TEST(EffectivePageSizeTest, ZeroMeansDefault) {
  absl::StatusOr<int> size = EffectivePageSize(0);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, kDefaultPageSize);
  EXPECT_EQ(*size, 50);
}

TEST(EffectivePageSizeTest, KeepsSizesWithinTheCap) {
  EXPECT_EQ(*EffectivePageSize(1), 1);
  EXPECT_EQ(*EffectivePageSize(200), 200);
  EXPECT_EQ(*EffectivePageSize(1000), 1000);
}

TEST(EffectivePageSizeTest, ClampsLargeSizesToTheCap) {
  EXPECT_EQ(*EffectivePageSize(1001), kMaxPageSize);
  EXPECT_EQ(*EffectivePageSize(5000), 1000);
  EXPECT_EQ(*EffectivePageSize(INT32_MAX), 1000);
}

TEST(EffectivePageSizeTest, NegativeIsInvalidOnPageSize) {
  ExpectInvalidOn(EffectivePageSize(-1).status(), "page_size");
  ExpectInvalidOn(EffectivePageSize(INT32_MIN).status(), "page_size");
}

// ---- ParseOrderBy ----

TEST(ParseOrderByTest, EmptyOrWhitespaceMeansByName) {
  for (const char* text : {"", "   "}) {
    absl::StatusOr<std::vector<OrderField>> order =
        ParseOrderBy(text, *Institution::descriptor(), AllowedOrder());
    ASSERT_TRUE(order.ok()) << order.status();
    EXPECT_THAT(*order, IsEmpty());
  }
}

TEST(ParseOrderByTest, ParsesAllowedFieldsAscendingByDefault) {
  absl::StatusOr<std::vector<OrderField>> order = ParseOrderBy(
      "country_code, create_time", *Institution::descriptor(), AllowedOrder());
  ASSERT_TRUE(order.ok()) << order.status();
  ASSERT_EQ(order->size(), 2u);
  EXPECT_EQ((*order)[0].field, InstitutionField("country_code"));
  EXPECT_FALSE((*order)[0].descending);
  EXPECT_EQ((*order)[1].field, InstitutionField("create_time"));
  EXPECT_FALSE((*order)[1].descending);
}

TEST(ParseOrderByTest, ParsesDescAndAsc) {
  absl::StatusOr<std::vector<OrderField>> order =
      ParseOrderBy("  update_time   desc ,country_code asc",
                   *Institution::descriptor(), AllowedOrder());
  ASSERT_TRUE(order.ok()) << order.status();
  ASSERT_EQ(order->size(), 2u);
  EXPECT_EQ((*order)[0].field, InstitutionField("update_time"));
  EXPECT_TRUE((*order)[0].descending);
  EXPECT_EQ((*order)[1].field, InstitutionField("country_code"));
  EXPECT_FALSE((*order)[1].descending);
}

TEST(ParseOrderByTest, NameIsTheTieBreakerAndEndsTheOrder) {
  absl::StatusOr<std::vector<OrderField>> by_name =
      ParseOrderBy("name", *Institution::descriptor(), AllowedOrder());
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  EXPECT_THAT(*by_name, IsEmpty());

  absl::StatusOr<std::vector<OrderField>> order = ParseOrderBy(
      "create_time desc, name", *Institution::descriptor(), AllowedOrder());
  ASSERT_TRUE(order.ok()) << order.status();
  ASSERT_EQ(order->size(), 1u);
  EXPECT_EQ((*order)[0].field, InstitutionField("create_time"));
  EXPECT_TRUE((*order)[0].descending);
}

TEST(ParseOrderByTest, RejectsFieldsNotAllowed) {
  for (const char* text : {"kind", "delete_time", "etag desc", "nonexistent",
                           "create_time, state"}) {
    const absl::Status status =
        ParseOrderBy(text, *Institution::descriptor(), AllowedOrder()).status();
    ExpectInvalidOn(status, "order_by");
    EXPECT_THAT(status.message(), HasSubstr("cannot order by")) << text;
  }
}

TEST(ParseOrderByTest, RejectsNameDesc) {
  const absl::Status status =
      ParseOrderBy("name desc", *Institution::descriptor(), AllowedOrder())
          .status();
  ExpectInvalidOn(status, "order_by");
  EXPECT_THAT(status.message(), HasSubstr("`name desc` is not supported"));
  ExpectInvalidOn(ParseOrderBy("create_time, name desc",
                               *Institution::descriptor(), AllowedOrder())
                      .status(),
                  "order_by");
}

TEST(ParseOrderByTest, RejectsBadSyntax) {
  for (const char* text : {"create_time descending", "create_time desc asc",
                           "create_time DESC", "create_time,", ",create_time",
                           "create_time,,name", "desc", "create_time-desc"}) {
    ExpectInvalidOn(
        ParseOrderBy(text, *Institution::descriptor(), AllowedOrder()).status(),
        "order_by");
  }
}

TEST(ParseOrderByTest, RejectsAllowedNamesMissingFromTheMessageOrRepeated) {
  const std::vector<std::string> allowed = {"names", "no_such_field"};
  ExpectInvalidOn(
      ParseOrderBy("names", *Institution::descriptor(), allowed).status(),
      "order_by");
  ExpectInvalidOn(
      ParseOrderBy("no_such_field", *Institution::descriptor(), allowed)
          .status(),
      "order_by");
}

TEST(ParseOrderByTest, AcceptsEveryAllowedFieldOnceEndingWithName) {
  absl::StatusOr<std::vector<OrderField>> order =
      ParseOrderBy("update_time desc, create_time, country_code asc, name",
                   *Institution::descriptor(), AllowedOrder());
  ASSERT_TRUE(order.ok()) << order.status();
  ASSERT_EQ(order->size(), 3u);
  EXPECT_EQ((*order)[0].field, InstitutionField("update_time"));
  EXPECT_EQ((*order)[1].field, InstitutionField("create_time"));
  EXPECT_EQ((*order)[2].field, InstitutionField("country_code"));
}

TEST(ParseOrderByTest, RejectsARepeatedFieldNamingTheTerm) {
  for (const auto& [text, term] :
       std::vector<std::pair<std::string, std::string>>{
           {"create_time, create_time", "\"create_time\""},
           {"create_time desc, update_time, create_time asc",
            "\"create_time asc\""},
           {"country_code,country_code desc", "\"country_code desc\""},
           {"name, name", "\"name\""}}) {
    const absl::Status status =
        ParseOrderBy(text, *Institution::descriptor(), AllowedOrder()).status();
    ExpectInvalidOn(status, "order_by");
    EXPECT_THAT(status.message(), HasSubstr(term + " repeats the field"))
        << text;
  }
}

TEST(ParseOrderByTest, RejectsJunkAfterAFieldNamingTheTerm) {
  for (const auto& [text, term] :
       std::vector<std::pair<std::string, std::string>>{
           {"name foo", "\"name foo\""},
           {"create_time desc extra", "\"create_time desc extra\""},
           {"update_time, create_time asc desc", "\"create_time asc desc\""},
           {"country_code DESC", "\"country_code DESC\""}}) {
    const absl::Status status =
        ParseOrderBy(text, *Institution::descriptor(), AllowedOrder()).status();
    ExpectInvalidOn(status, "order_by");
    EXPECT_THAT(status.message(), HasSubstr(term)) << text;
  }
}

TEST(ParseOrderByTest, RejectsTermsAfterName) {
  for (const char* text :
       {"name, create_time", "update_time, name, country_code"}) {
    const absl::Status status =
        ParseOrderBy(text, *Institution::descriptor(), AllowedOrder()).status();
    ExpectInvalidOn(status, "order_by");
    EXPECT_THAT(status.message(), HasSubstr("follows `name`")) << text;
  }
}

TEST(ParseOrderByTest, RejectsMoreTermsThanAllowedFields) {
  const absl::Status status =
      ParseOrderBy("update_time, create_time, country_code, name, extra",
                   *Institution::descriptor(), AllowedOrder())
          .status();
  ExpectInvalidOn(status, "order_by");
  EXPECT_THAT(status.message(), HasSubstr("\"extra\" is one term too many"));

  // However long the list, parsing stops at the first term past the limit.
  std::vector<std::string> many(100000, "create_time");
  ExpectInvalidOn(ParseOrderBy(absl::StrJoin(many, ","),
                               *Institution::descriptor(), AllowedOrder())
                      .status(),
                  "order_by");
}

TEST(ParseOrderByTest, QuotesTheTermEscapedAndCutShort) {
  const absl::Status control = ParseOrderBy(
                                   "create_time\x01"
                                   "sc",
                                   *Institution::descriptor(), AllowedOrder())
                                   .status();
  ExpectInvalidOn(control, "order_by");
  EXPECT_THAT(control.message(), HasSubstr("\"create_time\\x01sc\""));
  EXPECT_THAT(control.message(), Not(HasSubstr("\x01")));

  const absl::Status long_term =
      ParseOrderBy(std::string(5000, 'x'), *Institution::descriptor(),
                   AllowedOrder())
          .status();
  ExpectInvalidOn(long_term, "order_by");
  EXPECT_THAT(long_term.message(), HasSubstr("...\""));
  EXPECT_LT(long_term.message().size(), 300u);
}

// ---- SortKey ----

TEST(SortKeyTest, TimestampKeysAreByteOrderedLikeTime) {
  const OrderField order{InstitutionField("create_time"), false};
  // Strictly increasing times, including before 1970 and by nanoseconds.
  const std::vector<Institution> times = {
      CreatedAt(-86400, 0),
      CreatedAt(-1, 999999999),
      CreatedAt(0, 0),
      CreatedAt(0, 1),
      CreatedAt(9, 999999999),
      CreatedAt(10, 0),
      CreatedAt(1745539200, 0),
      CreatedAt(1745539200, 500000000),
      CreatedAt(253402300799, 0),
  };
  for (size_t i = 1; i < times.size(); ++i) {
    EXPECT_LT(SortKey(times[i - 1], order), SortKey(times[i], order))
        << times[i - 1].create_time().ShortDebugString() << " vs "
        << times[i].create_time().ShortDebugString();
  }
}

TEST(SortKeyTest, EqualTimestampsHaveEqualKeys) {
  const OrderField order{InstitutionField("create_time"), false};
  EXPECT_EQ(SortKey(CreatedAt(1745539200, 7), order),
            SortKey(CreatedAt(1745539200, 7), order));
}

TEST(SortKeyTest, UnsetTimestampSortsBeforeSetOnes) {
  const OrderField order{InstitutionField("create_time"), false};
  Institution unset;
  EXPECT_LT(SortKey(unset, order), SortKey(CreatedAt(1, 0), order));
}

TEST(SortKeyTest, Int64KeysAreByteOrderedLikeNumbers) {
  const OrderField order{
      google::protobuf::Int64Value::descriptor()->FindFieldByName("value"),
      false};
  const std::vector<int64_t> values = {
      INT64_MIN, -1000000000000, -10,      -9, -2, -1, 0, 1, 2, 9,
      10,        1000000000000,  INT64_MAX};
  std::vector<std::string> keys;
  for (const int64_t value : values) {
    google::protobuf::Int64Value message;
    message.set_value(value);
    keys.push_back(SortKey(message, order));
  }
  for (size_t i = 1; i < keys.size(); ++i) {
    EXPECT_LT(keys[i - 1], keys[i]) << values[i - 1] << " vs " << values[i];
  }
  // Fixed width, so prefixes never decide the order.
  for (const std::string& key : keys) EXPECT_EQ(key.size(), keys[0].size());
}

TEST(SortKeyTest, Int32KeysAreByteOrderedLikeNumbers) {
  const OrderField order{
      google::protobuf::Int32Value::descriptor()->FindFieldByName("value"),
      false};
  const std::vector<int32_t> values = {INT32_MIN, -100, -1,       0,
                                       1,         100,  INT32_MAX};
  std::vector<std::string> keys;
  for (const int32_t value : values) {
    google::protobuf::Int32Value message;
    message.set_value(value);
    keys.push_back(SortKey(message, order));
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
}

TEST(SortKeyTest, EnumKeysFollowEnumNumbers) {
  const OrderField order{InstitutionField("kind"), false};
  Institution university;
  university.set_kind(Institution::KIND_UNIVERSITY);  // 1
  Institution ministry;
  ministry.set_kind(Institution::KIND_MINISTRY);  // 4
  Institution other;
  other.set_kind(Institution::KIND_OTHER);  // 11
  EXPECT_LT(SortKey(university, order), SortKey(ministry, order));
  EXPECT_LT(SortKey(ministry, order), SortKey(other, order));
}

TEST(SortKeyTest, StringKeyIsTheStringItself) {
  const OrderField order{InstitutionField("country_code"), false};
  Institution institution;
  institution.set_country_code("IR");
  EXPECT_EQ(SortKey(institution, order), "IR");
}

// ---- PageTokenCodec ----

TEST(PageTokenCodecTest, RoundTripsTheCursor) {
  const PageTokenCodec codec("secret-1");
  const std::vector<std::string> cursor = {"key-1", "", "institutions/tums"};
  const std::string token = codec.Encode("fingerprint", cursor);
  EXPECT_FALSE(token.empty());
  absl::StatusOr<std::vector<std::string>> decoded =
      codec.Decode(token, "fingerprint");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, cursor);
}

TEST(PageTokenCodecTest, TokenIsWebSafe) {
  const PageTokenCodec codec("secret-1");
  const std::string token = codec.Encode(
      "fp", {std::string("\xff\xfe\xfd\xfc", 4), "institutions/a"});
  EXPECT_EQ(token.find_first_of("+/="), std::string::npos) << token;
}

TEST(PageTokenCodecTest, FlippedCharacterIsRejectedOnPageToken) {
  const PageTokenCodec codec("secret-1");
  const std::string token =
      codec.Encode("fingerprint", {"key", "institutions/tums"});
  // Every position that carries full bits: flipping any of them must fail.
  for (size_t i = 0; i + 1 < token.size(); ++i) {
    std::string tampered = token;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    const absl::Status status = codec.Decode(tampered, "fingerprint").status();
    ExpectInvalidOn(status, "page_token");
  }
}

TEST(PageTokenCodecTest, ReSignedBodyWithoutSecretIsRejected) {
  const PageTokenCodec codec("secret-1");
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(
      codec.Encode("fingerprint", {"key", "institutions/a"}), &raw));
  // Keep the MAC, change the cursor.
  raw.back() = 'b';
  const absl::Status status =
      codec.Decode(absl::WebSafeBase64Escape(raw), "fingerprint").status();
  ExpectInvalidOn(status, "page_token");
}

TEST(PageTokenCodecTest, TokenForAnotherFingerprintIsRejected) {
  const PageTokenCodec codec("secret-1");
  const std::string token =
      codec.Encode("fingerprint-a", {"key", "institutions/tums"});
  ExpectInvalidOn(codec.Decode(token, "fingerprint-b").status(), "page_token");
}

TEST(PageTokenCodecTest, TokenFromAnotherSecretIsRejected) {
  const PageTokenCodec issuer("secret-1");
  const PageTokenCodec other("secret-2");
  const std::string token = issuer.Encode("fp", {"institutions/tums"});
  ExpectInvalidOn(other.Decode(token, "fp").status(), "page_token");
}

TEST(PageTokenCodecTest, GarbageOrShortTokensAreRejected) {
  const PageTokenCodec codec("secret-1");
  for (const char* token :
       {"!!!not base64!!!", "a b c", "AAAA", "", "====", "%%%%"}) {
    ExpectInvalidOn(codec.Decode(token, "fp").status(), "page_token");
  }
}

TEST(PageTokenCodecTest, TokenLongerThanTheLimitIsRejectedBeforeDecoding) {
  const PageTokenCodec codec("secret-1");
  // Correctly signed, but longer than any token the service issues.
  const std::string signed_long =
      codec.Encode("fp", {std::string(kMaxPageTokenBytes, 'k'), "x/y"});
  ASSERT_GT(signed_long.size(), kMaxPageTokenBytes);
  const absl::Status status = codec.Decode(signed_long, "fp").status();
  ExpectInvalidOn(status, "page_token");
  EXPECT_THAT(status.message(), HasSubstr("longer than 1024 bytes"));

  ExpectInvalidOn(
      codec.Decode(std::string(kMaxPageTokenBytes + 1, 'A'), "fp").status(),
      "page_token");
  // At the limit a token is decoded (and this one is refused as forged).
  const absl::Status at_limit =
      codec.Decode(std::string(kMaxPageTokenBytes, 'A'), "fp").status();
  ExpectInvalidOn(at_limit, "page_token");
  EXPECT_THAT(at_limit.message(), Not(HasSubstr("longer than")));
}

TEST(PageTokenCodecTest, LargestIssuedTokenIsWellUnderTheLimit) {
  const PageTokenCodec codec("secret-1");
  // Five Timestamp sort keys and the longest resource name there is.
  std::vector<std::string> cursor(5, std::string(29, '9'));
  cursor.push_back(absl::StrCat("committees/", std::string(63, 'c'),
                                "/milestones/", std::string(63, 'm')));
  const std::string token = codec.Encode(std::string(4000, 'f'), cursor);
  EXPECT_LT(token.size(), kMaxPageTokenBytes / 2);
  EXPECT_TRUE(codec.Decode(token, std::string(4000, 'f')).ok());
}

// ---- ParseListQuery ----

ListRequestFields Request(const std::string& order_by,
                          const std::string& page_token = "") {
  ListRequestFields request;
  request.order_by = order_by;
  request.page_token = page_token;
  return request;
}

TEST(ParseListQueryTest, DefaultsForAnEmptyRequest) {
  const PageTokenCodec codec("secret");
  absl::StatusOr<ListQuery> query = ParseListQuery(
      codec, *Institution::descriptor(), ListRequestFields(), AllowedOrder());
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->page_size, kDefaultPageSize);
  EXPECT_TRUE(query->filter.empty());
  EXPECT_TRUE(query->ordered_by_name());
  EXPECT_FALSE(query->show_deleted);
  EXPECT_THAT(query->cursor, IsEmpty());
  EXPECT_FALSE(query->fingerprint.empty());
}

TEST(ParseListQueryTest, ParsesEveryField) {
  const PageTokenCodec codec("secret");
  ListRequestFields request;
  request.page_size = 20;
  request.filter = R"(country_code = "IR")";
  request.order_by = "create_time desc";
  request.show_deleted = true;
  absl::StatusOr<ListQuery> query = ParseListQuery(
      codec, *Institution::descriptor(), request, AllowedOrder());
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->page_size, 20);
  EXPECT_FALSE(query->filter.empty());
  Institution iranian;
  iranian.set_country_code("IR");
  Institution russian;
  russian.set_country_code("RU");
  EXPECT_TRUE(query->filter.Matches(iranian));
  EXPECT_FALSE(query->filter.Matches(russian));
  ASSERT_EQ(query->order.size(), 1u);
  EXPECT_TRUE(query->order[0].descending);
  EXPECT_TRUE(query->show_deleted);
}

TEST(ParseListQueryTest, ErrorsNameTheRequestField) {
  const PageTokenCodec codec("secret");
  ListRequestFields negative;
  negative.page_size = -5;
  ExpectInvalidOn(ParseListQuery(codec, *Institution::descriptor(), negative,
                                 AllowedOrder())
                      .status(),
                  "page_size");

  ListRequestFields bad_filter;
  bad_filter.filter = "no_such_field = 1";
  ExpectInvalidOn(ParseListQuery(codec, *Institution::descriptor(), bad_filter,
                                 AllowedOrder())
                      .status(),
                  "filter");

  ExpectInvalidOn(ParseListQuery(codec, *Institution::descriptor(),
                                 Request("kind"), AllowedOrder())
                      .status(),
                  "order_by");

  ExpectInvalidOn(ParseListQuery(codec, *Institution::descriptor(),
                                 Request("", "garbage!"), AllowedOrder())
                      .status(),
                  "page_token");
}

TEST(ParseListQueryTest, TokenForTheSameRequestGivesItsCursor) {
  const PageTokenCodec codec("secret");
  absl::StatusOr<ListQuery> first =
      ParseListQuery(codec, *Institution::descriptor(),
                     Request("create_time desc"), AllowedOrder());
  ASSERT_TRUE(first.ok()) << first.status();
  const Institution last = CreatedAt(1745539200, 0);
  const std::vector<std::string> cursor =
      first->CursorOf(last, "institutions/tums");
  ASSERT_EQ(cursor.size(), 2u);
  EXPECT_EQ(cursor[1], "institutions/tums");
  const std::string token = codec.Encode(first->fingerprint, cursor);

  absl::StatusOr<ListQuery> second =
      ParseListQuery(codec, *Institution::descriptor(),
                     Request("create_time desc", token), AllowedOrder());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->cursor, cursor);
}

TEST(ParseListQueryTest, TokenForAnotherOrderByIsRejected) {
  const PageTokenCodec codec("secret");
  absl::StatusOr<ListQuery> first =
      ParseListQuery(codec, *Institution::descriptor(),
                     Request("create_time desc"), AllowedOrder());
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string token = codec.Encode(
      first->fingerprint,
      first->CursorOf(CreatedAt(1745539200, 0), "institutions/tums"));
  ExpectInvalidOn(
      ParseListQuery(codec, *Institution::descriptor(),
                     Request("update_time desc", token), AllowedOrder())
          .status(),
      "page_token");
  ExpectInvalidOn(ParseListQuery(codec, *Institution::descriptor(),
                                 Request("create_time", token), AllowedOrder())
                      .status(),
                  "page_token");
}

TEST(ParseListQueryTest, TokenForAnotherFilterOrShowDeletedIsRejected) {
  const PageTokenCodec codec("secret");
  absl::StatusOr<ListQuery> first = ParseListQuery(
      codec, *Institution::descriptor(), Request(""), AllowedOrder());
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string token =
      codec.Encode(first->fingerprint, {"institutions/tums"});

  ListRequestFields other_filter = Request("", token);
  other_filter.filter = R"(country_code = "RU")";
  ExpectInvalidOn(ParseListQuery(codec, *Institution::descriptor(),
                                 other_filter, AllowedOrder())
                      .status(),
                  "page_token");

  ListRequestFields deleted = Request("", token);
  deleted.show_deleted = true;
  ExpectInvalidOn(
      ParseListQuery(codec, *Institution::descriptor(), deleted, AllowedOrder())
          .status(),
      "page_token");

  // The page size may change between pages.
  ListRequestFields resized = Request("", token);
  resized.page_size = 7;
  absl::StatusOr<ListQuery> next = ParseListQuery(
      codec, *Institution::descriptor(), resized, AllowedOrder());
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_THAT(next->cursor, ElementsAre("institutions/tums"));
}

TEST(ParseListQueryTest, SignedCursorOfTheWrongLengthIsRejected) {
  const PageTokenCodec codec("secret");
  absl::StatusOr<ListQuery> first =
      ParseListQuery(codec, *Institution::descriptor(),
                     Request("create_time desc"), AllowedOrder());
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string token = codec.Encode(first->fingerprint, {"only-one-part"});
  ExpectInvalidOn(
      ParseListQuery(codec, *Institution::descriptor(),
                     Request("create_time desc", token), AllowedOrder())
          .status(),
      "page_token");
}

// ---- ListQuery::CursorOf and Before ----

TEST(ListQueryTest, ByNameComparesNamesOnly) {
  ListQuery query;
  EXPECT_THAT(query.CursorOf(Institution(), "institutions/a"),
              ElementsAre("institutions/a"));
  EXPECT_TRUE(query.Before({"institutions/a"}, {"institutions/b"}));
  EXPECT_FALSE(query.Before({"institutions/b"}, {"institutions/a"}));
  EXPECT_FALSE(query.Before({"institutions/a"}, {"institutions/a"}));
}

TEST(ListQueryTest, DescendingFieldPutsLaterTimesFirst) {
  ListQuery query;
  query.order = {{InstitutionField("create_time"), /*descending=*/true}};
  const auto older = query.CursorOf(CreatedAt(100, 0), "institutions/a");
  const auto newer = query.CursorOf(CreatedAt(200, 0), "institutions/b");
  EXPECT_TRUE(query.Before(newer, older));
  EXPECT_FALSE(query.Before(older, newer));
}

TEST(ListQueryTest, NameBreaksTiesAscendingEvenWhenFieldIsDescending) {
  ListQuery query;
  query.order = {{InstitutionField("create_time"), /*descending=*/true}};
  const auto a = query.CursorOf(CreatedAt(100, 0), "institutions/a");
  const auto b = query.CursorOf(CreatedAt(100, 0), "institutions/b");
  EXPECT_TRUE(query.Before(a, b));
  EXPECT_FALSE(query.Before(b, a));
  EXPECT_FALSE(query.Before(a, a));
}

TEST(ListQueryTest, MixedDirectionsCompareFieldByField) {
  ListQuery query;
  query.order = {{InstitutionField("country_code"), /*descending=*/false},
                 {InstitutionField("create_time"), /*descending=*/true}};
  auto cursor = [&query](const std::string& country, int64_t seconds,
                         const std::string& name) {
    Institution institution = CreatedAt(seconds, 0);
    institution.set_country_code(country);
    return query.CursorOf(institution, name);
  };
  // IR before RU regardless of time; within IR, newer first.
  EXPECT_TRUE(query.Before(cursor("IR", 1, "institutions/z"),
                           cursor("RU", 999, "institutions/a")));
  EXPECT_TRUE(query.Before(cursor("IR", 999, "institutions/z"),
                           cursor("IR", 1, "institutions/a")));
  EXPECT_FALSE(query.Before(cursor("IR", 1, "institutions/a"),
                            cursor("IR", 999, "institutions/z")));
}

TEST(ListQueryTest, SortingWithBeforeGivesTheRequestedOrder) {
  ListQuery query;
  query.order = {{InstitutionField("create_time"), /*descending=*/true}};
  std::vector<std::vector<std::string>> cursors = {
      query.CursorOf(CreatedAt(-5, 0), "institutions/old"),
      query.CursorOf(CreatedAt(300, 0), "institutions/b"),
      query.CursorOf(CreatedAt(300, 0), "institutions/a"),
      query.CursorOf(CreatedAt(7, 0), "institutions/mid"),
  };
  std::sort(
      cursors.begin(), cursors.end(),
      [&query](const auto& a, const auto& b) { return query.Before(a, b); });
  std::vector<std::string> names;
  for (const auto& cursor : cursors) names.push_back(cursor.back());
  EXPECT_THAT(names, ElementsAre("institutions/a", "institutions/b",
                                 "institutions/mid", "institutions/old"));
}

}  // namespace
}  // namespace accord
