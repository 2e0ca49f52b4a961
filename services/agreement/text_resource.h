#ifndef ACCORD_SERVICES_AGREEMENT_TEXT_RESOURCE_H_
#define ACCORD_SERVICES_AGREEMENT_TEXT_RESOURCE_H_

// The AgreementText resource, `agreements/{agreement}/texts/{text}`: an
// authentic text or a translation of an agreement in one language. It
// belongs to its agreement: the agreement's parties own it, it is as
// visible as the agreement, and its events are routed as the agreement's.

#include <string>
#include <vector>

#include "accord/agreement/v1/agreement.pb.h"
#include "common/resource_adapter.h"
#include "services/agreement/resource_support.h"

namespace accord::agreement {

class TextPolicy final : public AgreementServicePolicy<v1::AgreementText> {
 public:
  using AgreementServicePolicy::AgreementServicePolicy;

  std::string event_prefix() const override {
    return "accord.agreement_text.v1";
  }
  absl::Status CheckName(absl::string_view name,
                         absl::string_view field) const override;
  absl::Status Validate(const v1::AgreementText& text) const override;
  absl::Status PlanChange(const v1::AgreementText* before,
                          const v1::AgreementText* after,
                          WritePlan& plan) const override;
  absl::StatusOr<std::vector<std::string>> Scope(
      const v1::AgreementText& text) const override;
  bool restricts_visibility() const override { return true; }
  absl::StatusOr<bool> Visible(const Principal& caller,
                               const v1::AgreementText& text) const override;
  // Visibility reads the parent agreement from Redis.
  bool async_get() const override { return false; }
  absl::StatusOr<Concerned> Concerns(
      const v1::AgreementText& text) const override;
  void AnnotateEvent(const v1::AgreementText& text,
                     events::v1::Event& event) const override;
  absl::Status CheckCreateParent(absl::string_view parent,
                                 const Principal& caller) const override;
  std::vector<std::string> ListOrder() const override {
    return {"name", "create_time", "update_time", "language"};
  }
  absl::StatusOr<ListSource> ListSourceOf(
      absl::string_view parent) const override;
};

using TextResource = Registered<TextPolicy>;

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_TEXT_RESOURCE_H_
