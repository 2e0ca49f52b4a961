#include "services/institution/institution_service.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/events.h"
#include "common/handler_support.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/text_fold.h"
#include "common/validation.h"
#include "services/institution/institution_resource.h"
#include "services/institution/institution_validation.h"
#include "services/institution/search_index.h"

namespace accord::institution {
namespace {

using v1::Institution;
using v1::Official;

constexpr int kMaxBatch = 1000;
constexpr size_t kMaxQueryLength = 512;

// An institution whose names match a search, with its best name's score
// in millionths.
struct SearchCandidate {
  int64_t score;
  std::string name;
  int name_index;
};

// The entries of the search `index` that match `query` and come after the
// page cursor, best first.
std::vector<SearchCandidate> RankCandidates(
    const RedisValue& index, const std::string& query,
    const std::function<bool(int64_t, const std::string&)>&
        comes_after_cursor) {
  const SearchKeys query_keys = MakeSearchKeys(query);
  const SearchKeysView query_view = ViewOf(query_keys);
  std::vector<SearchCandidate> candidates;
  DecodedSearchEntry entry;
  for (size_t i = 0; i + 1 < index.elements.size(); i += 2) {
    const std::string& name = index.elements[i].text;
    DecodeSearchEntry(index.elements[i + 1].text, entry);
    double best = 0;
    int best_index = 0;
    for (size_t n = 0; n < entry.names.size(); ++n) {
      const double score = SearchScore(query_view, entry.names[n]);
      if (score > best) {
        best = score;
        best_index = static_cast<int>(n);
      }
    }
    // Rounded, not truncated: tier weights times levels (0.45 x 0.7) are
    // not exact in binary.
    const int64_t score = std::llround(best * 1e6);
    if (score > 0 && comes_after_cursor(score, name)) {
      candidates.push_back({score, name, best_index});
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const SearchCandidate& a, const SearchCandidate& b) {
              return a.score != b.score ? a.score > b.score : a.name < b.name;
            });
  return candidates;
}

}  // namespace

InstitutionServiceImpl::InstitutionServiceImpl(RedisClient& redis,
                                               Authenticator& auth)
    : redis_(redis),
      auth_(auth),
      store_(redis),
      write_path_(redis),
      codec_(redis) {
  // Builds the transliteration rules (tens of milliseconds) now rather than
  // in the first search.
  LatinSearchKey("\u0430");
}

absl::Status InstitutionServiceImpl::UpgradeRecordsWithoutRevisions() {
  ACCORD_ASSIGN_OR_RETURN(
      int institutions,
      institutions_.UpgradeRecordsWithoutRevisions("institutions", nullptr));
  ACCORD_ASSIGN_OR_RETURN(
      int officials,
      officials_.UpgradeRecordsWithoutRevisions("officials", nullptr));
  if (institutions + officials > 0) {
    LogInfo("gave records from before revisions their first revision",
            {{"institutions", institutions}, {"officials", officials}});
  }
  return absl::OkStatus();
}

// Shared by both batch methods: all live, or NOT_FOUND naming the missing.
template <typename T>
absl::StatusOr<std::vector<T>> BatchGet(
    RecordStore& store, const ResourceAdapter<T>& ops,
    const google::protobuf::RepeatedPtrField<std::string>& names) {
  if (names.empty()) return InvalidField("names", "must name at least one");
  if (names.size() > kMaxBatch) {
    return InvalidField("names", absl::StrCat("must name at most ", kMaxBatch));
  }
  Violations violations;
  for (int i = 0; i < names.size(); ++i) {
    const absl::Status name_status =
        ops.CheckName(names[i], absl::StrCat("names[", i, "]"));
    if (!name_status.ok()) {
      for (const auto& violation : FieldViolationsOf(name_status)) {
        violations.Add(violation.field, violation.description);
      }
    }
  }
  ACCORD_RETURN_IF_ERROR(violations.ToStatus());
  ACCORD_ASSIGN_OR_RETURN(auto records, store.GetMany(std::vector<std::string>(
                                            names.begin(), names.end())));
  std::vector<FieldViolation> missing;
  std::vector<std::string> missing_names;
  std::vector<T> found;
  for (int i = 0; i < names.size(); ++i) {
    if (!records[i].has_value() || records[i]->deleted) {
      missing.push_back({absl::StrCat("names[", i, "]"),
                         absl::StrCat(names[i], " does not exist")});
      missing_names.push_back(names[i]);
      continue;
    }
    ACCORD_ASSIGN_OR_RETURN(T item, ParseRecord<T>(*records[i]));
    found.push_back(std::move(item));
  }
  if (!missing.empty()) {
    return ErrorWithFields(
        absl::StatusCode::kNotFound,
        absl::StrCat("not found: ", absl::StrJoin(missing_names, ", ")),
        missing);
  }
  return found;
}

grpc::Status InstitutionServiceImpl::BatchGetInstitutions(
    grpc::ServerContext* context,
    const v1::BatchGetInstitutionsRequest* request,
    v1::BatchGetInstitutionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  absl::StatusOr<std::vector<Institution>> found =
      BatchGet(store_, institutions_, request->names());
  if (!found.ok()) return ToGrpcStatus(found.status());
  for (Institution& institution : *found) {
    *response->add_institutions() = std::move(institution);
  }
  return grpc::Status::OK;
}

absl::StatusOr<v1::SearchInstitutionsResponse> InstitutionServiceImpl::Search(
    const v1::SearchInstitutionsRequest& request) {
  Violations violations;
  violations.CheckText("query", request.query(), kMaxQueryLength, true);
  ACCORD_RETURN_IF_ERROR(violations.ToStatus());
  const std::string query = FoldForSearch(request.query());
  if (query.empty()) {
    return InvalidField("query", "has no letters or digits to search for");
  }
  ACCORD_ASSIGN_OR_RETURN(int page_size,
                          EffectivePageSize(request.page_size()));
  ACCORD_ASSIGN_OR_RETURN(
      Filter filter,
      Filter::Parse(request.filter(), *Institution::descriptor()));
  ACCORD_ASSIGN_OR_RETURN(const PageTokenCodec* codec, codec_.Get());
  const std::string fingerprint =
      absl::StrCat("search\x1f", query, "\x1f", request.filter());
  // Cursor: score in millionths, then name; best score first.
  std::pair<int64_t, std::string> after = {INT64_MAX, ""};
  if (!request.page_token().empty()) {
    ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> cursor,
                            codec->Decode(request.page_token(), fingerprint));
    if (cursor.size() != 2 || !absl::SimpleAtoi(cursor[0], &after.first)) {
      return InvalidField("page_token", "does not fit this request");
    }
    after.second = cursor[1];
  }
  auto comes_after_cursor = [&after](int64_t score, const std::string& name) {
    return score < after.first || (score == after.first && name > after.second);
  };

  ACCORD_ASSIGN_OR_RETURN(
      RedisValue index,
      redis_.Command({"HGETALL", redis_keys::kInstitutionSearchIndex}));
  const std::vector<SearchCandidate> candidates =
      RankCandidates(index, query, comes_after_cursor);

  v1::SearchInstitutionsResponse response;
  constexpr size_t kFetchBatch = 128;
  for (size_t start = 0; start < candidates.size(); start += kFetchBatch) {
    std::vector<std::string> names;
    const size_t end = std::min(candidates.size(), start + kFetchBatch);
    for (size_t i = start; i < end; ++i) names.push_back(candidates[i].name);
    ACCORD_ASSIGN_OR_RETURN(auto records, store_.GetMany(names));
    for (size_t i = start; i < end; ++i) {
      const auto& record = records[i - start];
      if (!record.has_value() || record->deleted) continue;
      ACCORD_ASSIGN_OR_RETURN(Institution institution,
                              ParseRecord<Institution>(*record));
      if (!filter.Matches(institution)) continue;
      if (response.matches_size() == page_size) {
        const auto& previous = response.matches(response.matches_size() - 1);
        response.set_next_page_token(codec->Encode(
            fingerprint, {absl::StrCat(std::llround(previous.score() * 1e6)),
                          previous.institution().name()}));
        return response;
      }
      v1::InstitutionMatch* match = response.add_matches();
      const int name_index = candidates[i].name_index;
      if (name_index < institution.names_size()) {
        *match->mutable_matched_name() = institution.names(name_index);
      }
      match->set_score(static_cast<double>(candidates[i].score) / 1e6);
      *match->mutable_institution() = std::move(institution);
    }
  }
  return response;
}

absl::Status InstitutionServiceImpl::RebuildSearchIndex() {
  ACCORD_ASSIGN_OR_RETURN(
      RedisValue index,
      redis_.Command({"HGETALL", redis_keys::kInstitutionSearchIndex}));
  std::vector<std::string> stale;
  for (size_t i = 0; i + 1 < index.elements.size(); i += 2) {
    if (!IsCurrentSearchEntry(index.elements[i + 1].text)) {
      stale.push_back(index.elements[i].text);
    }
  }
  if (stale.empty()) return absl::OkStatus();
  int rewritten = 0;
  constexpr size_t kBatch = 128;
  for (size_t start = 0; start < stale.size(); start += kBatch) {
    const std::vector<std::string> names(
        stale.begin() + static_cast<std::ptrdiff_t>(start),
        stale.begin() + static_cast<std::ptrdiff_t>(
                            std::min(stale.size(), start + kBatch)));
    ACCORD_ASSIGN_OR_RETURN(auto records, store_.GetMany(names));
    for (const auto& record : records) {
      if (!record.has_value() || record->deleted) continue;
      absl::StatusOr<Institution> institution =
          ParseRecord<Institution>(*record);
      if (!institution.ok()) {
        // Its old entry still finds it; one bad record must not keep the
        // service from ever becoming ready.
        LogWarning("search entry not rebuilt",
                   {{"institution", record->name},
                    {"error", institution.status().ToString()}});
        continue;
      }
      // Only if the record is unchanged since read: a write in between
      // indexed it itself, perhaps with names this copy lacks.
      WritePlan plan;
      plan.ExpectEtag(RecordKey(record->name), record->etag,
                      absl::AbortedError("changed while re-indexing"));
      plan.Write({"HSET", redis_keys::kInstitutionSearchIndex, record->name,
                  SearchEntry(*institution)});
      absl::StatusOr<WriteOutcome> outcome = write_path_.Commit(plan);
      if (outcome.ok()) {
        ++rewritten;
      } else if (!absl::IsAborted(outcome.status())) {
        return outcome.status();
      }
    }
  }
  LogInfo("search index rebuilt",
          {{"stale", stale.size()}, {"rewritten", rewritten}});
  return absl::OkStatus();
}

grpc::Status InstitutionServiceImpl::SearchInstitutions(
    grpc::ServerContext* context, const v1::SearchInstitutionsRequest* request,
    v1::SearchInstitutionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return Respond(Search(*request), response);
}

grpc::Status InstitutionServiceImpl::BatchGetOfficials(
    grpc::ServerContext* context, const v1::BatchGetOfficialsRequest* request,
    v1::BatchGetOfficialsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  absl::StatusOr<std::vector<Official>> found =
      BatchGet(store_, officials_, request->names());
  if (!found.ok()) return ToGrpcStatus(found.status());
  for (Official& official : *found) {
    *response->add_officials() = std::move(official);
  }
  return grpc::Status::OK;
}

}  // namespace accord::institution
