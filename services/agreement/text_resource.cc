#include "services/agreement/text_resource.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/validation.h"
#include "services/agreement/agreement_validation.h"

namespace accord::agreement {

using v1::AgreementText;

namespace {

// A SHA-256 digest as 64 lower-case hexadecimal digits.
bool IsSha256Hex(absl::string_view digest) {
  if (digest.size() != 64) return false;
  for (const char c : digest) {
    if (!absl::ascii_isxdigit(c) || absl::ascii_isupper(c)) return false;
  }
  return true;
}

absl::Status CheckTextParent(absl::string_view parent) {
  return ParseResourceName(parent, "agreements", "parent").status();
}

}  // namespace

absl::Status TextPolicy::CheckName(absl::string_view name,
                                   absl::string_view field) const {
  return ParseNestedResourceName(name, {"agreements", "texts"}, field).status();
}

absl::Status TextPolicy::Validate(const AgreementText& text) const {
  Violations violations;
  if (text.language().empty()) {
    violations.Add("agreement_text.language", "is required");
  }
  violations.CheckLanguage("agreement_text.language", text.language());
  violations.CheckText("agreement_text.title", text.title(), kMaxNameLength,
                       true);
  violations.CheckHttpUrl("agreement_text.uri", text.uri());
  if (!text.sha256().empty() && !IsSha256Hex(text.sha256())) {
    violations.Add("agreement_text.sha256",
                   "must be 64 lower-case hexadecimal digits");
  }
  CheckSources(violations, "agreement_text.sources", text.sources());
  return violations.ToStatus();
}

// The agreement must be live when the text is written.
absl::Status TextPolicy::PlanChange(const AgreementText*,
                                    const AgreementText* after,
                                    WritePlan& plan) const {
  if (after == nullptr) return absl::OkStatus();
  const std::string parent = ParentOf(after->name());
  plan.ExpectLive(RecordKey(parent), ParentNotFound(parent));
  return absl::OkStatus();
}

// The agreement's parties own its texts.
absl::StatusOr<std::vector<std::string>> TextPolicy::Scope(
    const AgreementText& text) const {
  return ParentAgreementParties(store_, ParentOf(text.name()));
}

absl::StatusOr<bool> TextPolicy::Visible(const Principal& caller,
                                         const AgreementText& text) const {
  return VisibleUnderAgreement(store_, caller, ParentOf(text.name()));
}

absl::StatusOr<Concerned> TextPolicy::Concerns(
    const AgreementText& text) const {
  Concerned concerned;
  ACCORD_ASSIGN_OR_RETURN(std::vector<std::string> parties,
                          PartiesOf(store_, ParentOf(text.name())));
  concerned.AddInstitutions(parties);
  return concerned;
}

void TextPolicy::AnnotateEvent(const AgreementText& text,
                               events::v1::Event& event) const {
  AnnotateUnderAgreement(store_, ParentOf(text.name()), event);
}

absl::Status TextPolicy::CheckCreateParent(absl::string_view parent,
                                           const Principal& caller) const {
  ACCORD_RETURN_IF_ERROR(CheckTextParent(parent));
  return CheckAgreementParent(store_, parent, caller);
}

absl::StatusOr<ListSource> TextPolicy::ListSourceOf(
    absl::string_view parent) const {
  ACCORD_RETURN_IF_ERROR(CheckTextParent(parent));
  return ListSource{absl::StrCat(parent, "/texts"), nullptr};
}

}  // namespace accord::agreement
