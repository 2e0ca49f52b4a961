#include "services/institution/institution_service.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
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
#include "services/institution/institution_validation.h"
#include "services/institution/search_index.h"

namespace accord::institution {
namespace {

using v1::Institution;
using v1::Official;

constexpr char kSource[] = "//accord/institution";

std::string Method(absl::string_view name) {
  return absl::StrCat("/accord.institution.v1.InstitutionService/", name);
}
constexpr int kMaxBatch = 1000;
constexpr size_t kMaxQueryLength = 512;
// Deeper than any real hierarchy; bounds the walk on a corrupted chain.
constexpr int kMaxAncestors = 64;

std::string ChildrenKey(absl::string_view parent) {
  return absl::StrCat("accord:children:", parent);
}

std::string SearchEntry(const Institution& institution) {
  std::vector<std::string> names;
  names.reserve(institution.names_size());
  for (const auto& name : institution.names()) names.push_back(name.text());
  return EncodeSearchEntry(names);
}

ResourceTraits<Official> OfficialTraits(CountryResolver countries) {
  ResourceTraits<Official> traits;
  traits.collection = "officials";
  traits.singular = "official";
  traits.event_prefix = "accord.official.v1";
  traits.source = kSource;
  traits.writable_fields = {"names", "positions"};
  traits.validate = ValidateOfficial;
  traits.plan_change = [](const Official*, const Official* after,
                          WritePlan& plan) {
    if (after == nullptr) return absl::OkStatus();
    for (int i = 0; i < after->positions_size(); ++i) {
      const std::string field =
          absl::StrCat("official.positions[", i, "].institution");
      plan.ExpectLive(
          RecordKey(after->positions(i).institution()),
          InvalidField(field, absl::StrCat(after->positions(i).institution(),
                                           " is not a live institution")));
    }
    return absl::OkStatus();
  };
  traits.scope =
      [](const Official& official) -> absl::StatusOr<std::vector<std::string>> {
    std::vector<std::string> scope;
    for (const auto& position : official.positions()) {
      scope.push_back(position.institution());
    }
    return scope;
  };
  // The institutions of its positions.
  traits.concerns = [](const Official& official) -> absl::StatusOr<Concerned> {
    Concerned concerned;
    for (const auto& position : official.positions()) {
      concerned.AddInstitution(position.institution());
    }
    return concerned;
  };
  traits.countries = std::move(countries);
  return traits;
}

}  // namespace

InstitutionServiceImpl::InstitutionServiceImpl(RedisClient& redis,
                                               Authenticator& auth)
    : redis_(redis),
      auth_(auth),
      store_(redis),
      write_path_(redis),
      institutions_(store_, write_path_, InstitutionTraits()),
      officials_(store_, write_path_,
                 OfficialTraits(CountriesOfInstitutions())),
      codec_(redis) {
  // Builds the transliteration rules (tens of milliseconds) now rather than
  // in the first search.
  LatinSearchKey("\u0430");
}

CountryResolver InstitutionServiceImpl::CountriesOfInstitutions() {
  return [this](const std::vector<std::string>& names)
             -> absl::StatusOr<absl::flat_hash_map<std::string, std::string>> {
    ACCORD_ASSIGN_OR_RETURN(auto records, store_.GetMany(names));
    absl::flat_hash_map<std::string, std::string> countries;
    for (size_t i = 0; i < names.size(); ++i) {
      if (!records[i].has_value() || records[i]->deleted) continue;
      ACCORD_ASSIGN_OR_RETURN(Institution institution,
                              ParseRecord<Institution>(*records[i]));
      countries[names[i]] = institution.country_code();
    }
    return countries;
  };
}

ResourceTraits<Institution> InstitutionServiceImpl::InstitutionTraits() {
  ResourceTraits<Institution> traits;
  traits.collection = "institutions";
  traits.singular = "institution";
  traits.event_prefix = "accord.institution.v1";
  traits.source = kSource;
  traits.writable_fields = {"names",       "kind",      "country_code",
                            "parent",      "relations", "external_ids",
                            "website_uri", "state"};
  traits.validate = ValidateInstitution;
  traits.plan_change = [this](const Institution* before,
                              const Institution* after, WritePlan& plan) {
    return PlanInstitutionChange(before, after, plan);
  };
  // An editor acts for an institution and for the institutions under it.
  traits.scope = [](const Institution& institution)
      -> absl::StatusOr<std::vector<std::string>> {
    return std::vector<std::string>{institution.name(), institution.parent()};
  };
  // Itself, with the country it has after the change, and its parent.
  traits.concerns =
      [](const Institution& institution) -> absl::StatusOr<Concerned> {
    Concerned concerned;
    concerned.AddInstitution(institution.name(), institution.country_code());
    concerned.AddInstitution(institution.parent());
    return concerned;
  };
  traits.countries = CountriesOfInstitutions();
  return traits;
}

absl::Status InstitutionServiceImpl::PlanInstitutionChange(
    const Institution* before, const Institution* after, WritePlan& plan) {
  if (after != nullptr) {
    if (!after->parent().empty()) {
      plan.ExpectLive(RecordKey(after->parent()),
                      InvalidField("institution.parent",
                                   absl::StrCat(after->parent(),
                                                " is not a live institution")));
      if (before == nullptr || before->parent() != after->parent()) {
        ACCORD_RETURN_IF_ERROR(CheckNoCycle(*after));
      }
    }
    for (int i = 0; i < after->relations_size(); ++i) {
      const std::string& related = after->relations(i).institution();
      plan.ExpectLive(
          RecordKey(related),
          InvalidField(
              absl::StrCat("institution.relations[", i, "].institution"),
              absl::StrCat(related, " is not a live institution")));
    }
  }
  if (before != nullptr && after == nullptr) {
    plan.ExpectEmptySet(
        ChildrenKey(before->name()),
        ErrorWithReason(absl::StatusCode::kFailedPrecondition,
                        absl::StrCat(before->name(),
                                     " has live child institutions; delete or "
                                     "re-parent them first"),
                        "HAS_CHILDREN"));
  }
  // Index updates: leave the old parent's child set and the search index,
  // then join the new ones.
  if (before != nullptr) {
    if (!before->parent().empty()) {
      plan.Write({"SREM", ChildrenKey(before->parent()), before->name()});
    }
    plan.Write({"HDEL", kSearchIndexKey, before->name()});
  }
  if (after != nullptr) {
    if (!after->parent().empty()) {
      plan.Write({"SADD", ChildrenKey(after->parent()), after->name()});
    }
    plan.Write({"HSET", kSearchIndexKey, after->name(), SearchEntry(*after)});
  }
  return absl::OkStatus();
}

absl::Status InstitutionServiceImpl::CheckNoCycle(
    const Institution& institution) {
  std::string ancestor = institution.parent();
  for (int depth = 0; depth < kMaxAncestors && !ancestor.empty(); ++depth) {
    if (ancestor == institution.name()) {
      return InvalidField("institution.parent",
                          "would make the institution its own ancestor");
    }
    ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> record,
                            store_.Get(ancestor));
    if (!record.has_value()) return absl::OkStatus();  // reported as not live
    ACCORD_ASSIGN_OR_RETURN(Institution parent,
                            ParseRecord<Institution>(*record));
    ancestor = parent.parent();
  }
  return absl::OkStatus();
}

grpc::Status InstitutionServiceImpl::CreateInstitution(
    grpc::ServerContext* context, const v1::CreateInstitutionRequest* request,
    Institution* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  Institution institution = request->institution();
  if (institution.state() == Institution::STATE_UNSPECIFIED) {
    institution.set_state(Institution::STATE_ACTIVE);
  }
  return Respond(
      institutions_.Create(std::move(institution), request->institution_id(),
                           request->request_id(),
                           ContextFor(caller, Method("CreateInstitution"),
                                      request->request_id())),
      response);
}

grpc::ServerUnaryReactor* InstitutionServiceImpl::GetInstitution(
    grpc::CallbackServerContext* context,
    const v1::GetInstitutionRequest* request, Institution* response) {
  return ServeGet(context, get_institution_, auth_, institutions_,
                  request->name(), response);
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

grpc::Status InstitutionServiceImpl::ListInstitutions(
    grpc::ServerContext* context, const v1::ListInstitutionsRequest* request,
    v1::ListInstitutionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  absl::StatusOr<ListPage<Institution>> page = ListCollection<Institution>(
      codec_, store_, "institutions",
      {request->page_size(), request->page_token(), request->filter(),
       request->order_by(), request->show_deleted(), ""},
      {"name", "create_time", "update_time", "country_code"});
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (Institution& institution : page->items) {
    *response->add_institutions() = std::move(institution);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status InstitutionServiceImpl::ListInstitutionRevisions(
    grpc::ServerContext* context,
    const v1::ListInstitutionRevisionsRequest* request,
    v1::ListInstitutionRevisionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return RespondRevisions(
      ListRevisionsPage(institutions_, codec_, caller, *request),
      *response->mutable_institutions(), response);
}

grpc::Status InstitutionServiceImpl::UpdateInstitution(
    grpc::ServerContext* context, const v1::UpdateInstitutionRequest* request,
    Institution* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      institutions_.Update(request->institution(), request->update_mask(),
                           request->request_id(),
                           ContextFor(caller, Method("UpdateInstitution"),
                                      request->request_id())),
      response);
}

grpc::Status InstitutionServiceImpl::DeleteInstitution(
    grpc::ServerContext* context, const v1::DeleteInstitutionRequest* request,
    Institution* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(institutions_.Delete(
                     request->name(), request->etag(), request->request_id(),
                     ContextFor(caller, Method("DeleteInstitution"),
                                request->request_id())),
                 response);
}

grpc::Status InstitutionServiceImpl::UndeleteInstitution(
    grpc::ServerContext* context, const v1::UndeleteInstitutionRequest* request,
    Institution* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(institutions_.Undelete(
                     request->name(), request->etag(), request->request_id(),
                     ContextFor(caller, Method("UndeleteInstitution"),
                                request->request_id())),
                 response);
}

// Shared by both batch methods: all live, or NOT_FOUND naming the missing.
template <typename T>
absl::StatusOr<std::vector<T>> BatchGet(
    RecordStore& store, const ResourceOps<T>& ops,
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

  const SearchKeys query_keys = MakeSearchKeys(query);
  const SearchKeysView query_view = ViewOf(query_keys);

  ACCORD_ASSIGN_OR_RETURN(RedisValue index,
                          redis_.Command({"HGETALL", kSearchIndexKey}));
  struct Candidate {
    int64_t score;
    std::string name;
    int name_index;
  };
  std::vector<Candidate> candidates;
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
            [](const Candidate& a, const Candidate& b) {
              return a.score != b.score ? a.score > b.score : a.name < b.name;
            });

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
  ACCORD_ASSIGN_OR_RETURN(RedisValue index,
                          redis_.Command({"HGETALL", kSearchIndexKey}));
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
      plan.Write(
          {"HSET", kSearchIndexKey, record->name, SearchEntry(*institution)});
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

grpc::Status InstitutionServiceImpl::CreateOfficial(
    grpc::ServerContext* context, const v1::CreateOfficialRequest* request,
    Official* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      officials_.Create(
          request->official(), request->official_id(), request->request_id(),
          ContextFor(caller, Method("CreateOfficial"), request->request_id())),
      response);
}

grpc::ServerUnaryReactor* InstitutionServiceImpl::GetOfficial(
    grpc::CallbackServerContext* context, const v1::GetOfficialRequest* request,
    Official* response) {
  return ServeGet(context, get_official_, auth_, officials_, request->name(),
                  response);
}

grpc::Status InstitutionServiceImpl::ListOfficials(
    grpc::ServerContext* context, const v1::ListOfficialsRequest* request,
    v1::ListOfficialsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  absl::StatusOr<ListPage<Official>> page = ListCollection<Official>(
      codec_, store_, "officials",
      {request->page_size(), request->page_token(), request->filter(),
       request->order_by(), request->show_deleted(), ""},
      {"name", "create_time", "update_time"});
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (Official& official : page->items) {
    *response->add_officials() = std::move(official);
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status InstitutionServiceImpl::ListOfficialRevisions(
    grpc::ServerContext* context,
    const v1::ListOfficialRevisionsRequest* request,
    v1::ListOfficialRevisionsResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return RespondRevisions(
      ListRevisionsPage(officials_, codec_, caller, *request),
      *response->mutable_officials(), response);
}

grpc::Status InstitutionServiceImpl::UpdateOfficial(
    grpc::ServerContext* context, const v1::UpdateOfficialRequest* request,
    Official* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      officials_.Update(
          request->official(), request->update_mask(), request->request_id(),
          ContextFor(caller, Method("UpdateOfficial"), request->request_id())),
      response);
}

grpc::Status InstitutionServiceImpl::DeleteOfficial(
    grpc::ServerContext* context, const v1::DeleteOfficialRequest* request,
    Official* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(
      officials_.Delete(
          request->name(), request->etag(), request->request_id(),
          ContextFor(caller, Method("DeleteOfficial"), request->request_id())),
      response);
}

grpc::Status InstitutionServiceImpl::UndeleteOfficial(
    grpc::ServerContext* context, const v1::UndeleteOfficialRequest* request,
    Official* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kWrite);
  return Respond(officials_.Undelete(
                     request->name(), request->etag(), request->request_id(),
                     ContextFor(caller, Method("UndeleteOfficial"),
                                request->request_id())),
                 response);
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
