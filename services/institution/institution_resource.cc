#include "services/institution/institution_resource.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "services/institution/institution_validation.h"
#include "services/institution/search_index.h"

namespace accord::institution {
namespace {

using v1::Institution;

// Deeper than any real hierarchy; bounds the walk on a corrupted chain.
constexpr int kMaxAncestors = 64;

}  // namespace

std::string SearchEntry(const Institution& institution) {
  std::vector<std::string> names;
  names.reserve(institution.names_size());
  for (const auto& name : institution.names()) names.push_back(name.text());
  return EncodeSearchEntry(names);
}

absl::StatusOr<absl::flat_hash_map<std::string, std::string>>
CountriesOfInstitutions(RecordStore& store,
                        const std::vector<std::string>& names) {
  ACCORD_ASSIGN_OR_RETURN(auto records, store.GetMany(names));
  absl::flat_hash_map<std::string, std::string> countries;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!records[i].has_value() || records[i]->deleted) continue;
    ACCORD_ASSIGN_OR_RETURN(Institution institution,
                            ParseRecord<Institution>(*records[i]));
    countries[names[i]] = institution.country_code();
  }
  return countries;
}

absl::Status InstitutionPolicy::Validate(const Institution& institution) const {
  return ValidateInstitution(institution);
}

absl::Status InstitutionPolicy::PlanChange(const Institution* before,
                                           const Institution* after,
                                           WritePlan& plan) const {
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
        redis_keys::ChildrenKey(before->name()),
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
      plan.Write(
          {"SREM", redis_keys::ChildrenKey(before->parent()), before->name()});
    }
    plan.Write({"HDEL", redis_keys::kInstitutionSearchIndex, before->name()});
  }
  if (after != nullptr) {
    if (!after->parent().empty()) {
      plan.Write(
          {"SADD", redis_keys::ChildrenKey(after->parent()), after->name()});
    }
    plan.Write({"HSET", redis_keys::kInstitutionSearchIndex, after->name(),
                SearchEntry(*after)});
  }
  return absl::OkStatus();
}

absl::Status InstitutionPolicy::CheckNoCycle(
    const Institution& institution) const {
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

// An editor acts for an institution and for the institutions under it.
absl::StatusOr<std::vector<std::string>> InstitutionPolicy::Scope(
    const Institution& institution) const {
  return std::vector<std::string>{institution.name(), institution.parent()};
}

// Itself, with the country it has after the change, and its parent.
absl::StatusOr<Concerned> InstitutionPolicy::Concerns(
    const Institution& institution) const {
  Concerned concerned;
  concerned.AddInstitution(institution.name(), institution.country_code());
  concerned.AddInstitution(institution.parent());
  return concerned;
}

void InstitutionPolicy::PrepareCreate(Institution& institution,
                                      const ChangeContext&) const {
  if (institution.state() == Institution::STATE_UNSPECIFIED) {
    institution.set_state(Institution::STATE_ACTIVE);
  }
}

}  // namespace accord::institution
