#include "services/agreement/institution_directory.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/record_store.h"
#include "common/trace_export.h"

namespace accord::agreement {
namespace {

constexpr int kAttempts = 3;
constexpr char kBatchGetInstitutions[] =
    "/accord.institution.v1.InstitutionService/BatchGetInstitutions";
constexpr char kBatchGetOfficials[] =
    "/accord.institution.v1.InstitutionService/BatchGetOfficials";

// Unique names in first-seen order, with every field that named each.
struct Batch {
  std::vector<std::string> names;
  absl::flat_hash_map<std::string, std::vector<std::string>> fields;
};

Batch Dedupe(const std::vector<std::pair<std::string, std::string>>& refs) {
  Batch batch;
  for (const auto& [name, field] : refs) {
    auto& fields = batch.fields[name];
    if (fields.empty()) batch.names.push_back(name);
    fields.push_back(field);
  }
  return batch;
}

// Calls `call` (the institution service's `method`) until it answers,
// retrying UNAVAILABLE with a short backoff inside one overall deadline.
// Each attempt is a client span in the trace of the RPC being served.
template <typename Call>
grpc::Status CallWithRetry(absl::Duration deadline, const std::string& token,
                           const char* method, Call call) {
  const absl::Time give_up = absl::Now() + deadline;
  absl::Duration backoff = absl::Milliseconds(50);
  grpc::Status status;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(give_up));
    if (!token.empty()) {
      context.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    }
    ClientCallSpan span(context, method);
    status = call(context);
    span.Finish(status);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return status;
    if (absl::Now() + backoff >= give_up) break;
    absl::SleepFor(backoff);
    backoff *= 2;
  }
  return status;
}

// The indexes of `names[i]` that the batch call's error names.
std::vector<size_t> NamedIndexes(const grpc::Status& status, size_t size) {
  std::vector<size_t> indexes;
  for (const FieldViolation& violation :
       FieldViolationsOf(FromGrpcStatus(status))) {
    absl::string_view index_text = violation.field;
    size_t index = 0;
    if (absl::ConsumePrefix(&index_text, "names[") &&
        absl::ConsumeSuffix(&index_text, "]") &&
        absl::SimpleAtoi(index_text, &index) && index < size) {
      indexes.push_back(index);
    }
  }
  return indexes;
}

// Maps the batch call's NOT_FOUND (violations on `names[i]`) to violations
// on the fields of our own request.
absl::Status MissingToInvalid(const grpc::Status& status, const Batch& batch,
                              absl::string_view what) {
  std::vector<FieldViolation> violations;
  for (const size_t index : NamedIndexes(status, batch.names.size())) {
    const std::string& name = batch.names[index];
    for (const std::string& field : batch.fields.at(name)) {
      violations.push_back(
          {field, absl::StrCat(name, " is not a live ", what)});
    }
  }
  if (violations.empty()) {
    return absl::InvalidArgumentError(status.error_message());
  }
  return InvalidFields(violations);
}

absl::Status Unavailable(const grpc::Status& status) {
  return absl::UnavailableError(
      absl::StrCat("the institution service cannot check references: ",
                   status.error_message()));
}

// The institution service refused this service's own credentials: a
// deployment fault, not the caller's. The caller gets a neutral
// UNAVAILABLE; the reason goes to the log.
absl::Status CredentialsRefused(const grpc::Status& status) {
  LogError("the institution service refused this service's credentials",
           {{"code", static_cast<int>(status.error_code())},
            {"error", status.error_message()}});
  return absl::UnavailableError(
      "references cannot be checked right now; try again later");
}

// What Resolve answers when the batch call about `batch` (of `what`s)
// failed with `status`.
absl::Status BatchRefused(const grpc::Status& status, const Batch& batch,
                          absl::string_view what) {
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return MissingToInvalid(status, batch, what);
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Unavailable(status);
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return CredentialsRefused(status);
    default:
      return FromGrpcStatus(status);
  }
}

void CountLookup(bool hit) {
  // Resolved once: every referencing write counts its lookups.
  static Metrics::Series* const* const series = [] {
    Metrics::Global().Describe(
        "accord_institution_cache_lookups_total", "counter",
        "Reference checks answered from the institution cache (hit) or "
        "sent to the institution service (miss).");
    static Metrics::Series* const resolved[] = {
        Metrics::Global().Counter("accord_institution_cache_lookups_total",
                                  {{"result", "miss"}}),
        Metrics::Global().Counter("accord_institution_cache_lookups_total",
                                  {{"result", "hit"}})};
    return resolved;
  }();
  Metrics::Global().Increment(series[hit ? 1 : 0]);
}

}  // namespace

InstitutionDirectory::InstitutionDirectory(
    std::shared_ptr<grpc::Channel> channel, absl::Duration deadline,
    std::string token, ReferenceCache* cache)
    : stub_(institution::v1::InstitutionService::NewStub(std::move(channel))),
      deadline_(deadline),
      token_(std::move(token)),
      cache_(cache) {}

void InstitutionDirectory::ForgetCached() {
  if (cache_ == nullptr) return;
  static const bool described = [] {
    Metrics::Global().Describe(
        "accord_institution_cache_stale_total", "counter",
        "Writes refused by Redis because a cached institution or official "
        "was no longer live; the write is retried without the cache.");
    return true;
  }();
  (void)described;
  Metrics::Global().Increment("accord_institution_cache_stale_total", {});
  cache_->Clear();
}

void PlanReferenceChecks(const References& references, WritePlan& plan) {
  for (const auto& [refs, kind] :
       {std::make_pair(&references.institutions_, "institution"),
        std::make_pair(&references.officials_, "official")}) {
    const Batch batch = Dedupe(*refs);
    // A plain copy: clang 14 cannot capture a structured binding.
    const char* what = kind;
    for (const std::string& name : batch.names) {
      plan.ExpectLive(
          RecordKey(name), [name, what, field = batch.fields.at(name).front()] {
            return ErrorWithReason(absl::StatusCode::kInvalidArgument,
                                   absl::StrCat(name, " is not a live ", what),
                                   kReferenceNotLive, field);
          });
    }
  }
}

absl::StatusOr<absl::flat_hash_map<std::string, std::string>>
InstitutionDirectory::Countries(const std::vector<std::string>& institutions) {
  // The institution service's batch limit.
  constexpr size_t kMaxBatch = 1000;
  absl::flat_hash_map<std::string, std::string> countries;
  std::vector<std::string> wanted;
  for (const std::string& name : institutions) {
    if (std::find(wanted.begin(), wanted.end(), name) == wanted.end()) {
      wanted.push_back(name);
    }
  }
  uint64_t generation = 0;
  if (cache_ != nullptr) {
    // Read before asking: an event applied meanwhile voids the answer.
    generation = cache_->generation();
    wanted = cache_->LookupCountries(wanted, countries);
  }
  std::vector<std::pair<std::string, std::string>> learnt;
  for (size_t start = 0; start < wanted.size(); start += kMaxBatch) {
    std::vector<std::string> batch(
        wanted.begin() + start,
        wanted.begin() + std::min(wanted.size(), start + kMaxBatch));
    // A batch naming a missing institution is refused whole: ask again
    // without the names it reported (a few rounds, should more go
    // missing meanwhile).
    for (int round = 0; round < kAttempts && !batch.empty(); ++round) {
      institution::v1::BatchGetInstitutionsRequest request;
      for (const std::string& name : batch) request.add_names(name);
      institution::v1::BatchGetInstitutionsResponse response;
      const grpc::Status status = CallWithRetry(
          deadline_, token_, kBatchGetInstitutions,
          [&](grpc::ClientContext& context) {
            return stub_->BatchGetInstitutions(&context, request, &response);
          });
      if (status.ok()) {
        for (const auto& institution : response.institutions()) {
          countries[institution.name()] = institution.country_code();
          learnt.emplace_back(institution.name(), institution.country_code());
        }
        break;
      }
      if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
          status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
        return absl::UnavailableError(
            absl::StrCat("the institution service cannot tell the countries "
                         "of the institutions concerned: ",
                         status.error_message()));
      }
      if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
          status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
        return CredentialsRefused(status);
      }
      const std::vector<size_t> named = NamedIndexes(status, batch.size());
      if ((status.error_code() != grpc::StatusCode::NOT_FOUND &&
           status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) ||
          named.empty()) {
        return FromGrpcStatus(status);
      }
      std::vector<std::string> rest;
      for (size_t i = 0; i < batch.size(); ++i) {
        if (std::find(named.begin(), named.end(), i) == named.end()) {
          rest.push_back(batch[i]);
        }
      }
      batch = std::move(rest);
    }
  }
  if (cache_ != nullptr && !learnt.empty()) {
    cache_->Fill(generation, learnt, {});
  }
  return countries;
}

absl::StatusOr<absl::flat_hash_map<std::string, institution::v1::Institution>>
InstitutionDirectory::Resolve(const References& references) {
  absl::flat_hash_map<std::string, institution::v1::Institution> found;
  const Batch institutions = Dedupe(references.institutions_);
  const Batch officials = Dedupe(references.officials_);
  if (institutions.names.empty() && officials.names.empty()) return found;
  uint64_t generation = 0;
  if (cache_ != nullptr) {
    absl::flat_hash_map<std::string, std::string> countries;
    const bool hit =
        cache_->Lookup(institutions.names, officials.names, countries);
    CountLookup(hit);
    if (hit) {
      // Callers read only the name and country code of what is found.
      for (auto& [name, code] : countries) {
        institution::v1::Institution& entry = found[name];
        entry.set_name(name);
        entry.set_country_code(std::move(code));
      }
      return found;
    }
    // Read before asking: an event applied meanwhile voids the answer.
    generation = cache_->generation();
  }
  if (!institutions.names.empty()) {
    institution::v1::BatchGetInstitutionsRequest request;
    for (const std::string& name : institutions.names) request.add_names(name);
    institution::v1::BatchGetInstitutionsResponse response;
    const grpc::Status status = CallWithRetry(
        deadline_, token_, kBatchGetInstitutions,
        [&](grpc::ClientContext& context) {
          return stub_->BatchGetInstitutions(&context, request, &response);
        });
    if (!status.ok()) return BatchRefused(status, institutions, "institution");
    for (auto& institution : *response.mutable_institutions()) {
      found[institution.name()] = std::move(institution);
    }
  }
  if (!officials.names.empty()) {
    institution::v1::BatchGetOfficialsRequest request;
    for (const std::string& name : officials.names) request.add_names(name);
    institution::v1::BatchGetOfficialsResponse response;
    const grpc::Status status = CallWithRetry(
        deadline_, token_, kBatchGetOfficials,
        [&](grpc::ClientContext& context) {
          return stub_->BatchGetOfficials(&context, request, &response);
        });
    if (!status.ok()) return BatchRefused(status, officials, "official");
  }
  if (cache_ != nullptr) {
    std::vector<std::pair<std::string, std::string>> countries;
    countries.reserve(found.size());
    for (const auto& [name, institution] : found) {
      countries.emplace_back(name, institution.country_code());
    }
    cache_->Fill(generation, countries, officials.names);
  }
  return found;
}

}  // namespace accord::agreement
