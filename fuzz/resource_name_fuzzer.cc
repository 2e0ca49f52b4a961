// Resource names, resource ids and request ids: the fuzz bytes are one
// string, checked as a name of every collection the API has, as a nested
// name of the collections it spells itself, as an id, a request id and an
// external id.
//
// Checks beyond "no crash, no UB, no leak":
//   - the id rules agree with the documented regular expressions;
//   - a parsed name gives back exactly its ids, and a name built from
//     collections and valid ids always parses;
//   - rejections are INVALID_ARGUMENT on the field given.

#include <cstddef>
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/ids.h"
#include "fuzz/fuzz_support.h"
#include "services/agreement/agreement_validation.h"
#include "services/institution/institution_validation.h"

namespace {

using accord::IsValidChildResourceId;
using accord::IsValidRequestId;
using accord::IsValidResourceId;
using accord::ParseNestedResourceName;

// The rules as ids.h documents them. std::regex is slow, so text longer
// than any rule allows is answered by its length alone.
bool Matches(const std::regex& re, absl::string_view text) {
  return std::regex_match(text.begin(), text.end(), re);
}
bool ExpectedId(absl::string_view id) {
  static const std::regex* const re =
      new std::regex("[a-z]([a-z0-9-]{0,61}[a-z0-9])?");
  return id.size() <= 63 && Matches(*re, id);
}
bool ExpectedChildId(absl::string_view id) {
  static const std::regex* const re =
      new std::regex("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  return id.size() <= 63 && Matches(*re, id);
}
bool ExpectedRequestId(absl::string_view id) {
  static const std::regex* const re = new std::regex("[A-Za-z0-9._~-]+");
  return !id.empty() && id.size() <= 128 && Matches(*re, id);
}

// Parses `name` as `collections`; checks the result both ways.
void CheckName(absl::string_view name,
               const std::vector<absl::string_view>& collections) {
  absl::StatusOr<std::vector<std::string>> ids =
      ParseNestedResourceName(name, collections, "parent.name");
  // What the name must give: the collections in order, each with an id.
  const std::vector<absl::string_view> segments = absl::StrSplit(name, '/');
  bool valid = segments.size() == 2 * collections.size();
  for (size_t i = 0; valid && i < collections.size(); ++i) {
    valid = segments[2 * i] == collections[i] &&
            (i == 0 ? ExpectedId(segments[2 * i + 1])
                    : ExpectedChildId(segments[2 * i + 1]));
  }
  ACCORD_FUZZ_CHECK(ids.ok() == valid,
                    absl::StrCat(name, " as ", absl::StrJoin(collections, "/"),
                                 ": ", ids.status().ToString()));
  if (!ids.ok()) {
    accord::fuzz::CheckRejection(ids.status(), "parent.name");
    ACCORD_FUZZ_CHECK(accord::FieldViolationsOf(ids.status()).size() == 1,
                      ids.status().ToString());
    return;
  }
  ACCORD_FUZZ_CHECK(ids->size() == collections.size(), name);
  for (size_t i = 0; i < collections.size(); ++i) {
    ACCORD_FUZZ_CHECK((*ids)[i] == segments[2 * i + 1], name);
  }
}

void CheckNameStatus(const absl::Status& status, absl::string_view field) {
  if (!status.ok()) accord::fuzz::CheckRejection(status, field);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Longer names add nothing but time.
  if (size > 512) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (!accord::fuzz::IsProtoString(text)) return 0;

  ACCORD_FUZZ_CHECK(IsValidResourceId(text) == ExpectedId(text), text);
  ACCORD_FUZZ_CHECK(IsValidChildResourceId(text) == ExpectedChildId(text),
                    text);
  ACCORD_FUZZ_CHECK(IsValidRequestId(text) == ExpectedRequestId(text), text);

  // Every collection of the API.
  static const std::vector<std::vector<absl::string_view>>* const kNames =
      new std::vector<std::vector<absl::string_view>>{
          {"institutions"},
          {"officials"},
          {"agreements"},
          {"committees"},
          {"subscriptions"},
          {"committees", "sessions"},
          {"agreements", "milestones"},
          {"committees", "milestones"},
      };
  for (const auto& collections : *kNames) CheckName(text, collections);

  // The collections the text itself names (`a/x/b/y` as a/b), so ids are
  // reached whatever the collection words.
  const std::vector<absl::string_view> segments = absl::StrSplit(text, '/');
  if (segments.size() % 2 == 0 && segments.size() <= 8) {
    std::vector<absl::string_view> collections;
    for (size_t i = 0; i < segments.size(); i += 2) {
      collections.push_back(segments[i]);
    }
    CheckName(text, collections);
  }

  // The name checks the agreement handlers share.
  CheckNameStatus(accord::agreement::CheckSessionName(text, "session.name"),
                  "session.name");
  CheckNameStatus(accord::agreement::CheckMilestoneName(text, "milestone.name"),
                  "milestone.name");
  CheckNameStatus(accord::agreement::CheckMilestoneParent(text, "parent"),
                  "parent");

  for (const auto scheme :
       {accord::institution::v1::ExternalId::SCHEME_ROR,
        accord::institution::v1::ExternalId::SCHEME_WIKIDATA,
        accord::institution::v1::ExternalId::SCHEME_ISNI,
        accord::institution::v1::ExternalId::SCHEME_UNSPECIFIED}) {
    (void)accord::institution::IsValidExternalId(scheme, text);
  }
  return 0;
}
