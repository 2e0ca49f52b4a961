#include "services/notification/event_selector.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/event_types.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace accord::notification {
namespace {

constexpr size_t kMaxTypeLength = 256;

bool IsTypeCharacter(char c) {
  return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
}

std::string FieldName(absl::string_view prefix, absl::string_view field) {
  return prefix.empty() ? std::string(field) : absl::StrCat(prefix, ".", field);
}

}  // namespace

absl::StatusOr<EventSelector> EventSelector::Create(
    const std::vector<std::string>& event_types, absl::string_view filter,
    absl::string_view field_prefix, TypeCheck type_check) {
  EventSelector selector;
  Violations violations;
  for (size_t i = 0; i < event_types.size(); ++i) {
    const std::string field =
        FieldName(field_prefix, absl::StrCat("event_types[", i, "]"));
    absl::string_view type = event_types[i];
    const bool prefix = absl::EndsWith(type, ".*");
    absl::string_view stem = prefix ? type.substr(0, type.size() - 1) : type;
    bool valid =
        !stem.empty() && type.size() <= kMaxTypeLength && stem.front() != '.';
    for (const char c : stem) valid = valid && IsTypeCharacter(c);
    if (!valid) {
      violations.Add(field,
                     "must be an event type such as "
                     "\"accord.agreement.v1.recorded\" or a prefix ending in "
                     "\".*\" such as \"accord.milestone.v1.*\"");
      continue;
    }
    // A type nothing records would be accepted and silently receive
    // nothing: the vocabulary is the registry.
    if (type_check == TypeCheck::kRegistered && !MatchesAnyEventType(type)) {
      violations.Add(
          field, absl::StrCat(
                     prefix ? "matches no event type" : "is not an event type",
                     "; valid types (ListEventTypes): ", EventTypeList(),
                     ", or a prefix of them ending in \".*\""));
      continue;
    }
    if (prefix) {
      selector.prefixes_.emplace_back(stem);
    } else {
      selector.exact_.emplace_back(type);
    }
  }
  ACCORD_RETURN_IF_ERROR(violations.ToStatus());
  absl::StatusOr<Filter> parsed =
      Filter::Parse(filter, *events::v1::Event::descriptor());
  if (!parsed.ok()) {
    // The filter parser names the field `filter`; keep the message, fix the
    // path.
    return InvalidField(FieldName(field_prefix, "filter"),
                        parsed.status().message());
  }
  selector.filter_ = *std::move(parsed);
  return selector;
}

bool EventSelector::Matches(const events::v1::Event& event) const {
  if (IsInternalEventType(event.type())) return false;
  if (receiver_.has_value() && !receiver_->CanReceive(event)) return false;
  if (!exact_.empty() || !prefixes_.empty()) {
    bool type_matches = false;
    for (const std::string& type : exact_) {
      if (event.type() == type) {
        type_matches = true;
        break;
      }
    }
    for (size_t i = 0; !type_matches && i < prefixes_.size(); ++i) {
      type_matches = absl::StartsWith(event.type(), prefixes_[i]);
    }
    if (!type_matches) return false;
  }
  return filter_.Matches(event);
}

}  // namespace accord::notification
