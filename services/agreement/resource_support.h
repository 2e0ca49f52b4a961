#ifndef ACCORD_SERVICES_AGREEMENT_RESOURCE_SUPPORT_H_
#define ACCORD_SERVICES_AGREEMENT_RESOURCE_SUPPORT_H_

// What the agreement service's four resource modules share: the base of
// their policies (event source, the institution service's countries, the
// retry on a stale reference cache) and the reads and checks of records
// they refer to.

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "accord/agreement/v1/agreement.pb.h"
#include "common/auth.h"
#include "common/errors.h"
#include "common/events.h"
#include "common/record_store.h"
#include "common/resource_ops.h"
#include "common/resource_policy.h"
#include "common/status_macros.h"
#include "services/agreement/institution_directory.h"

namespace accord::agreement {

// Indexes across parents, for `committees/-/sessions` and due milestones.
inline constexpr char kAllSessions[] = "sessions";
inline constexpr char kAllMilestones[] = "milestones";

// The base of the agreement service's resource policies.
template <typename T>
class AgreementServicePolicy : public ResourcePolicy<T> {
 public:
  using Resource = T;

  AgreementServicePolicy(InstitutionDirectory& directory, RecordStore& store)
      : directory_(directory), store_(store) {}

  std::string source() const override { return "//accord/agreement"; }

  // The institution service's answers, through the directory's cache.
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> Countries(
      const std::vector<std::string>& institutions) const override {
    return directory_.Countries(institutions);
  }

  // A write whose references were checked by the directory runs once more,
  // without the cache, when Redis refused it because a referenced
  // institution or official was no longer live (the cache had not heard
  // yet, or it was deleted meanwhile): the retry then answers exactly as
  // the institution service sees it.
  bool RetryAfter(const absl::Status& status) const override {
    if (ReasonOf(status) != kReferenceNotLive) return false;
    directory_.ForgetCached();
    return true;
  }

 protected:
  InstitutionDirectory& directory_;
  RecordStore& store_;
};

template <typename Values>
std::vector<std::string> ToVector(const Values& values) {
  return {values.begin(), values.end()};
}

// A stored resource as ResourceOps::Get reads it for the service itself:
// NOT_FOUND if absent, returned even if soft-deleted.
template <typename T>
absl::StatusOr<T> ReadResource(RecordStore& store, absl::string_view name) {
  ACCORD_RETURN_IF_ERROR(
      ParseResourceName(name, SchemaOf<T>().collection, "name").status());
  ACCORD_ASSIGN_OR_RETURN(std::optional<StoredRecord> record, store.Get(name));
  if (!record.has_value()) return ResourceOps<T>::NotFound(name);
  return ParseRecord<T>(*record);
}

// The resource name of the parent of a nested resource name.
std::string ParentOf(absl::string_view name);

// AIP-133: creating under a parent that does not exist is NOT_FOUND.
absl::Status ParentNotFound(absl::string_view parent);

// A parent read for authorisation: its absence is the caller's NOT_FOUND
// on `parent`.
template <typename T>
absl::StatusOr<T> AsParent(absl::StatusOr<T> loaded, absl::string_view parent) {
  if (!loaded.ok() && loaded.status().code() == absl::StatusCode::kNotFound) {
    return ParentNotFound(parent);
  }
  return loaded;
}

absl::Status NotLive(const std::string& field, absl::string_view name);

// The key a reference to agreement `name` must find live. A restricted
// agreement may be referenced only by a record restricted to some of its
// parties (`restricted`, `parties`): any other record, with its events and
// webhooks, is read by principals the agreement is hidden from. For any
// other record the check is made against a key that never exists, so the
// refusal is exactly that of a missing agreement and reveals nothing.
absl::StatusOr<std::string> AgreementReferenceKey(
    RecordStore& store, const std::string& name, bool restricted,
    const std::vector<std::string>& parties);

// Adds the non-empty `values` not yet in `out`.
template <typename Repeated>
void AddUnique(const Repeated& values,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  std::set<std::string> seen(out->begin(), out->end());
  for (const auto& value : values) {
    if (!value.empty() && seen.insert(value).second) *out->Add() = value;
  }
}

// Country codes of `institutions`, in order, without repeats.
template <typename Repeated, typename Found>
std::vector<std::string> CountriesOf(const Repeated& institutions,
                                     const Found& found) {
  std::vector<std::string> codes;
  for (const std::string& name : institutions) {
    const auto it = found.find(name);
    if (it == found.end()) continue;
    const std::string& code = it->second.country_code();
    if (std::find(codes.begin(), codes.end(), code) == codes.end()) {
      codes.push_back(code);
    }
  }
  return codes;
}

// The member institutions of committee `name`; none if there is no such
// committee.
absl::StatusOr<std::vector<std::string>> MembersOf(RecordStore& store,
                                                   const std::string& name);

// Records nested under an agreement (its milestones, its texts) belong to
// it: the helpers below give them its owners, its visibility and its
// event routing.

// The parties of parent agreement `parent`, who own its nested records;
// NOT_FOUND on `parent` if it does not exist.
absl::StatusOr<std::vector<std::string>> ParentAgreementParties(
    RecordStore& store, absl::string_view parent);

// Whether `caller` may see the records under agreement `parent`: exactly
// when it may see the agreement.
absl::StatusOr<bool> VisibleUnderAgreement(RecordStore& store,
                                           const Principal& caller,
                                           absl::string_view parent);

// Creating under agreement `parent`: a restricted agreement the caller
// may not see is a missing parent, answered exactly as one.
absl::Status CheckAgreementParent(RecordStore& store, absl::string_view parent,
                                  const Principal& caller);

// Routes an event about a record under agreement `parent` as one about
// the agreement: to its parties only if it is restricted.
void AnnotateUnderAgreement(RecordStore& store, const std::string& parent,
                            events::v1::Event& event);

// The parties of agreement `name`; none if there is no such agreement.
absl::StatusOr<std::vector<std::string>> PartiesOf(RecordStore& store,
                                                   const std::string& name);

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_RESOURCE_SUPPORT_H_
