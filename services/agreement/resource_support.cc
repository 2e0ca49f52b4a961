#include "services/agreement/resource_support.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace accord::agreement {

using v1::Agreement;
using v1::Committee;

std::string ParentOf(absl::string_view name) {
  const size_t collection = name.rfind('/', name.rfind('/') - 1);
  return std::string(name.substr(0, collection));
}

absl::Status ParentNotFound(absl::string_view parent) {
  return ErrorWithReason(absl::StatusCode::kNotFound,
                         absl::StrCat(parent, " does not exist"),
                         "PARENT_NOT_FOUND", "parent");
}

absl::Status NotLive(const std::string& field, absl::string_view name) {
  return InvalidField(field,
                      absl::StrCat(name, " does not exist or is deleted"));
}

absl::StatusOr<std::string> AgreementReferenceKey(
    RecordStore& store, const std::string& name, bool restricted,
    const std::vector<std::string>& parties) {
  absl::StatusOr<Agreement> referenced = ReadResource<Agreement>(store, name);
  if (!referenced.ok()) {
    if (referenced.status().code() == absl::StatusCode::kNotFound) {
      return RecordKey(name);
    }
    return referenced.status();
  }
  if (!referenced->restricted()) return RecordKey(name);
  const bool within =
      restricted && !parties.empty() &&
      std::all_of(parties.begin(), parties.end(), [&](const std::string& p) {
        return std::find(referenced->parties().begin(),
                         referenced->parties().end(),
                         p) != referenced->parties().end();
      });
  return within ? RecordKey(name) : redis_keys::WithheldRecordKey(name);
}

absl::StatusOr<std::vector<std::string>> MembersOf(RecordStore& store,
                                                   const std::string& name) {
  absl::StatusOr<Committee> committee = ReadResource<Committee>(store, name);
  if (committee.status().code() == absl::StatusCode::kNotFound) {
    return std::vector<std::string>();
  }
  if (!committee.ok()) return committee.status();
  return ToVector(committee->member_institutions());
}

absl::StatusOr<std::vector<std::string>> PartiesOf(RecordStore& store,
                                                   const std::string& name) {
  absl::StatusOr<Agreement> agreement = ReadResource<Agreement>(store, name);
  if (agreement.status().code() == absl::StatusCode::kNotFound) {
    return std::vector<std::string>();
  }
  if (!agreement.ok()) return agreement.status();
  return ToVector(agreement->parties());
}

absl::StatusOr<std::vector<std::string>> ParentAgreementParties(
    RecordStore& store, absl::string_view parent) {
  ACCORD_ASSIGN_OR_RETURN(
      Agreement agreement,
      AsParent(ReadResource<Agreement>(store, parent), parent));
  return ToVector(agreement.parties());
}

absl::StatusOr<bool> VisibleUnderAgreement(RecordStore& store,
                                           const Principal& caller,
                                           absl::string_view parent) {
  ACCORD_ASSIGN_OR_RETURN(
      Agreement agreement,
      AsParent(ReadResource<Agreement>(store, parent), parent));
  return caller.CanSee(agreement.restricted(), ToVector(agreement.parties()));
}

absl::Status CheckAgreementParent(RecordStore& store, absl::string_view parent,
                                  const Principal& caller) {
  absl::StatusOr<Agreement> agreement = ReadResource<Agreement>(store, parent);
  if (agreement.status().code() == absl::StatusCode::kNotFound ||
      (agreement.ok() && !caller.CanSee(agreement->restricted(),
                                        ToVector(agreement->parties())))) {
    return ParentNotFound(parent);
  }
  return agreement.status();
}

void AnnotateUnderAgreement(RecordStore& store, const std::string& parent,
                            events::v1::Event& event) {
  const absl::StatusOr<Agreement> agreement =
      ReadResource<Agreement>(store, parent);
  if (agreement.ok() && agreement->restricted()) {
    *event.mutable_restricted_to() = agreement->parties();
  }
  event.add_agreements(parent);
}

}  // namespace accord::agreement
