#ifndef ACCORD_COMMON_EVENT_TYPES_H_
#define ACCORD_COMMON_EVENT_TYPES_H_

// The vocabulary of events: every type the services record, what it means,
// its payload and subject, and the envelope fields a filter can rely on.
// One table feeds the emitters' check, `ListEventTypes`, the validation of
// subscriptions and watches, and the AsyncAPI document in docs/.
//
// Example:
//   const EventTypeInfo* info = FindEventType("accord.agreement.v1.recorded");
//   if (info == nullptr) return InvalidField("event_types[0]", ...);

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace accord {

struct EventTypeInfo {
  std::string type;         // "accord.agreement.v1.recorded"
  std::string description;  // one sentence, for people
  std::string payload;      // full name of the `payload` message
  std::string subject;      // resource-name pattern of `subject`
  std::string source;       // CloudEvents `source`
  // Envelope fields set on every event of the type, beyond the CloudEvents
  // attributes (id, source, type, subject, time, position, principal).
  std::vector<std::string> filter_fields;
};

// Every deliverable event type, grouped by resource, in a stable order.
const std::vector<EventTypeInfo>& EventTypes();

// The registered type named exactly `type`, or nullptr.
const EventTypeInfo* FindEventType(absl::string_view type);

// Whether `pattern` (an exact type, or a prefix ending in `.*`) names at
// least one registered type.
bool MatchesAnyEventType(absl::string_view pattern);

// The registered type names, comma-separated, for error messages.
std::string EventTypeList();

// The notification service's own subscription changes: recorded for its
// replicas, never delivered, so neither registered nor addressed to
// institutions.
inline constexpr char kInternalEventPrefix[] = "accord.subscription.v1.";

// True for event types never delivered to subscribers.
bool IsInternalEventType(absl::string_view type);

}  // namespace accord

#endif  // ACCORD_COMMON_EVENT_TYPES_H_
