// Who is bound on a date: QueryAgreementsInForce and QueryPartyStatus.
// Both derive each party's timeline from the stored action log at query
// time (party_timeline.h), so records written before timelines were stored
// answer the same as new ones.

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/country_codes.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "services/agreement/agreement_service.h"
#include "services/agreement/lifecycle.h"
#include "services/agreement/party_timeline.h"

namespace accord::agreement {
namespace {

using v1::Agreement;
using v1::PartyStanding;

std::string Today() {
  return absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
}

// The date asked about: `date`, or today when empty.
std::string DateOf(const std::string& date, Violations& violations) {
  const std::string day = date.empty() ? Today() : date;
  if (day.size() != 10 || !IsPartialDate(day)) {
    violations.Add("date", "must be a date YYYY-MM-DD");
  }
  return day;
}

// Whether two different parties are in force, one on each side: `first`
// and `second` hold the parties in force that match each side.
bool TwoDifferentParties(const std::set<std::string>& first,
                         const std::set<std::string>& second) {
  if (first.empty() || second.empty()) return false;
  return first.size() > 1 || second.size() > 1 || first != second;
}

// A QueryAgreementsInForce request, checked: the date asked about, the
// read time if any, and what the two sides are.
struct InForceQuery {
  std::string date;
  std::optional<absl::Time> read_time;
  bool by_institution = false;
  std::vector<std::string> wanted;  // two institutions or country codes
};

absl::StatusOr<InForceQuery> CheckInForceQuery(
    const v1::QueryAgreementsInForceRequest& request) {
  Violations violations;
  InForceQuery query;
  query.by_institution = request.institutions_size() > 0;
  const bool by_institution = query.by_institution;
  if (by_institution == (request.country_codes_size() > 0) ||
      (by_institution && request.institutions_size() != 2) ||
      (!by_institution && request.country_codes_size() != 2)) {
    violations.Add(
        by_institution ? "institutions" : "country_codes",
        "give exactly two institutions or exactly two country codes");
  }
  for (int i = 0; i < request.institutions_size(); ++i) {
    for (const auto& violation : FieldViolationsOf(
             ParseResourceName(request.institutions(i), "institutions",
                               absl::StrCat("institutions[", i, "]"))
                 .status())) {
      violations.Add(violation.field, violation.description);
    }
  }
  for (int i = 0; i < request.country_codes_size(); ++i) {
    if (!IsIsoCountryCode(request.country_codes(i))) {
      violations.Add(absl::StrCat("country_codes[", i, "]"),
                     "is not an ISO 3166-1 alpha-2 code");
    }
  }
  query.date = DateOf(request.date(), violations);
  if (request.has_read_time()) {
    absl::StatusOr<absl::Time> checked = ReadTimeOf(request.read_time());
    if (checked.ok()) query.read_time = *checked;
    for (const auto& violation : FieldViolationsOf(checked.status())) {
      violations.Add(violation.field, violation.description);
    }
  }
  ACCORD_RETURN_IF_ERROR(violations.ToStatus());
  const auto& wanted =
      by_institution ? request.institutions() : request.country_codes();
  query.wanted.assign(wanted.begin(), wanted.end());
  return query;
}

// Whether both sides are among the agreement's parties at all (cheap, so
// first).
bool NamesBothSides(const Agreement& agreement, const InForceQuery& query) {
  const auto& among = query.by_institution ? agreement.parties()
                                           : agreement.party_country_codes();
  return std::all_of(query.wanted.begin(), query.wanted.end(),
                     [&among](const std::string& value) {
                       return std::find(among.begin(), among.end(), value) !=
                              among.end();
                     });
}

// Whether the agreement (its lifecycle derived, its parties' countries
// filled) binds two different parties, one on each side, on the date.
bool InForceBetweenSides(const Agreement& agreement,
                         const InForceQuery& query) {
  std::set<std::string> sides[2];
  for (const v1::PartyStatus& party : agreement.party_statuses()) {
    if (StandingOn(party, query.date) != PartyStanding::STATE_IN_FORCE) {
      continue;
    }
    const std::string& key =
        query.by_institution ? party.party() : party.country_code();
    for (int side = 0; side < 2; ++side) {
      if (key == query.wanted[side]) sides[side].insert(party.party());
    }
  }
  return TwoDifferentParties(sides[0], sides[1]);
}

}  // namespace

absl::StatusOr<v1::QueryAgreementsInForceResponse>
AgreementServiceImpl::InForce(const v1::QueryAgreementsInForceRequest& request,
                              const Principal& caller) {
  ACCORD_ASSIGN_OR_RETURN(const InForceQuery query, CheckInForceQuery(request));
  v1::QueryAgreementsInForceResponse response;
  absl::Status failure;
  auto consider = [&](absl::StatusOr<Agreement> agreement) {
    if (!agreement.ok()) {
      failure = agreement.status();
      return false;
    }
    if (!NamesBothSides(*agreement, query) ||
        !caller.CanSee(agreement->restricted(), {agreement->parties().begin(),
                                                 agreement->parties().end()})) {
      return true;
    }
    DeriveLifecycle(*agreement);
    if (!query.by_institution) {
      if (absl::Status filled = FillPartyCountries(*agreement); !filled.ok()) {
        failure = filled;
        return false;
      }
    }
    if (InForceBetweenSides(*agreement, query)) {
      *response.add_agreements() = *std::move(agreement);
    }
    return true;
  };
  if (!query.read_time.has_value()) {
    ACCORD_RETURN_IF_ERROR(
        store_.Scan("agreements", "", [&](const StoredRecord& record) {
          if (record.deleted) return true;
          return consider(ParseRecord<Agreement>(record));
        }));
  } else {
    ACCORD_RETURN_IF_ERROR(InForceAsOf(
        *query.read_time, caller,
        [&](const Agreement& agreement) { return consider(agreement); }));
  }
  ACCORD_RETURN_IF_ERROR(failure);
  return response;
}

absl::Status AgreementServiceImpl::InForceAsOf(
    absl::Time read_time, const Principal& caller,
    const std::function<bool(const Agreement&)>& consider) {
  // Every agreement ever recorded is indexed, deleted ones included; each
  // is judged as its revision current at read_time. One restricted now
  // stays hidden from those who may not see it, even where an earlier
  // revision was public; `consider` applies each revision's own rules.
  constexpr size_t kBatch = 256;
  std::vector<std::string> names;
  absl::Status failure;
  bool more = true;
  auto flush = [&]() -> absl::Status {
    ACCORD_ASSIGN_OR_RETURN(
        auto revisions,
        store_.RevisionsAt(names, absl::ToUnixMicros(read_time)));
    names.clear();
    for (const std::optional<StoredRevision>& revision : revisions) {
      if (!revision.has_value()) continue;  // not recorded yet then
      Agreement agreement;
      if (!agreement.ParseFromString(revision->data)) {
        return absl::DataLossError(
            "a stored agreement revision does not decode");
      }
      if (agreement.has_delete_time()) continue;  // deleted then
      if (!consider(agreement)) {
        more = false;
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  };
  ACCORD_RETURN_IF_ERROR(
      store_.Scan("agreements", "", [&](const StoredRecord& record) {
        absl::StatusOr<Agreement> current = ParseRecord<Agreement>(record);
        if (!current.ok()) {
          failure = current.status();
          return false;
        }
        absl::StatusOr<bool> visible = agreements_.Visible(caller, *current);
        if (!visible.ok()) {
          failure = visible.status();
          return false;
        }
        if (!*visible) return true;
        names.push_back(record.name);
        if (names.size() < kBatch) return true;
        failure = flush();
        return failure.ok() && more;
      }));
  ACCORD_RETURN_IF_ERROR(failure);
  if (more && !names.empty()) ACCORD_RETURN_IF_ERROR(flush());
  return absl::OkStatus();
}

grpc::Status AgreementServiceImpl::QueryAgreementsInForce(
    grpc::ServerContext* context,
    const v1::QueryAgreementsInForceRequest* request,
    v1::QueryAgreementsInForceResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return Respond(InForce(*request, caller), response);
}

absl::StatusOr<v1::QueryPartyStatusResponse>
AgreementServiceImpl::PartyStatusOn(const v1::QueryPartyStatusRequest& request,
                                    const Principal& caller) {
  Violations violations;
  for (const auto& violation : FieldViolationsOf(
           agreements_.CheckName(request.agreement(), "agreement"))) {
    violations.Add(violation.field, violation.description);
  }
  const std::string date = DateOf(request.date(), violations);
  ACCORD_RETURN_IF_ERROR(violations.ToStatus());
  // A restricted agreement the caller may not see is NOT_FOUND.
  ACCORD_ASSIGN_OR_RETURN(Agreement agreement,
                          agreements_.Get(request.agreement(), &caller));
  DeriveLifecycle(agreement);
  ACCORD_RETURN_IF_ERROR(FillPartyCountries(agreement));
  v1::QueryPartyStatusResponse response;
  response.set_agreement(agreement.name());
  response.set_date(date);
  for (v1::PartyStatus& party : *agreement.mutable_party_statuses()) {
    PartyStanding* standing = response.add_party_standings();
    standing->set_party(party.party());
    standing->set_state(StandingOn(party, date));
    *standing->mutable_status() = std::move(party);
  }
  return response;
}

grpc::Status AgreementServiceImpl::QueryPartyStatus(
    grpc::ServerContext* context, const v1::QueryPartyStatusRequest* request,
    v1::QueryPartyStatusResponse* response) {
  ACCORD_AUTHORIZE(caller, auth_, context, Access::kRead);
  return Respond(PartyStatusOn(*request, caller), response);
}

}  // namespace accord::agreement
