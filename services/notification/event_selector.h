#ifndef ACCORD_SERVICES_NOTIFICATION_EVENT_SELECTOR_H_
#define ACCORD_SERVICES_NOTIFICATION_EVENT_SELECTOR_H_

// Which events a subscription or a watcher wants: event types (exact, or a
// prefix ending in `.*`) and an AIP-160 filter over accord.events.v1.Event.
// Subscription changes (`accord.subscription.v1.*`) never match: they would
// tell one owner about another owner's endpoints.
//
// Example:
//   ACCORD_ASSIGN_OR_RETURN(
//       EventSelector selector,
//       EventSelector::Create({"accord.milestone.v1.*"},
//                             "country_codes = \"IR\"", "subscription"));
//   if (selector.Matches(event)) Deliver(event);

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "accord/events/v1/event.pb.h"
#include "common/auth.h"
#include "common/event_types.h"
#include "common/filter.h"

namespace accord::notification {

class EventSelector {
 public:
  // Matches every deliverable event.
  EventSelector() = default;

  // Whether types must be in the registry (common/event_types.h): always
  // for what callers send; not for stored subscriptions, which must keep
  // working if a type is ever retired.
  enum class TypeCheck { kRegistered, kSyntaxOnly };

  // INVALID_ARGUMENT naming `<field_prefix>.event_types[i]` or
  // `<field_prefix>.filter` ("event_types" / "filter" if the prefix is "").
  static absl::StatusOr<EventSelector> Create(
      const std::vector<std::string>& event_types, absl::string_view filter,
      absl::string_view field_prefix,
      TypeCheck type_check = TypeCheck::kRegistered);

  bool Matches(const events::v1::Event& event) const;

  // Limits the selector to events `receiver` may receive: events about
  // restricted records reach only principals acting for their parties.
  void SetReceiver(Principal receiver) { receiver_ = std::move(receiver); }

 private:
  std::optional<Principal> receiver_;
  std::vector<std::string> exact_;
  std::vector<std::string> prefixes_;  // with the trailing '.'
  Filter filter_;
};

}  // namespace accord::notification

#endif  // ACCORD_SERVICES_NOTIFICATION_EVENT_SELECTOR_H_
