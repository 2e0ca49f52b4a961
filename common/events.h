#ifndef ACCORD_COMMON_EVENTS_H_
#define ACCORD_COMMON_EVENTS_H_

// Building and decoding `accord.events.v1.Event` envelopes.
//
// Example:
//   Event event = MakeEvent("//accord/institution",
//                           "accord.institution.v1.created",
//                           institution.name(), institution, context);

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "accord/events/v1/event.pb.h"
#include "google/protobuf/message.h"

namespace accord {

// Who is acting, through which method and under which request, for
// events and the audit trail (authorisation is the ResourceAdapter's).
struct ChangeContext {
  std::string principal = "anonymous";
  // Full method name, e.g.
  // "/accord.agreement.v1.AgreementService/CreateAgreement".
  std::string method;
  std::string request_id;
  absl::Time time;
  // The W3C `traceparent` of the RPC making the change (its server span);
  // empty for internal changes. Stored on the event (CloudEvents
  // distributed tracing extension).
  std::string traceparent;
};

events::v1::Event MakeEvent(absl::string_view source, absl::string_view type,
                            absl::string_view subject,
                            const google::protobuf::Message& payload,
                            const ChangeContext& context);

// Decodes an event read from the stream entry at `position`.
absl::StatusOr<events::v1::Event> DecodeStreamEvent(absl::string_view position,
                                                    absl::string_view data);

// A random RFC 4122 version 4 UUID, as used for event ids.
std::string NewUuid();

// Compares stream positions `ms-seq` numerically: <0, 0, >0.
int ComparePositions(absl::string_view a, absl::string_view b);

}  // namespace accord

#endif  // ACCORD_COMMON_EVENTS_H_
