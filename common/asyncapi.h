#ifndef ACCORD_COMMON_ASYNCAPI_H_
#define ACCORD_COMMON_ASYNCAPI_H_

// The AsyncAPI 3.0.0 description of Accord's event channels, generated from
// the event-type registry (`EventTypes()`) so it cannot drift from what the
// services emit. `accord-asyncapi` prints it; docs/asyncapi.json is its
// checked-in output, and the `asyncapi_document` test keeps the two equal.
//
// Example:
//   std::cout << accord::AsyncApiDocument();

#include <string>

namespace accord {

// The document as pretty-printed JSON (two-space indent, trailing newline).
// Deterministic: keys and channels come in a fixed order, the registry's.
//
// One channel per event type (address = the type), one message per type
// whose payload is the CloudEvents 1.0 JSON body a webhook receives, and a
// `receive` operation per channel. Each message also carries
// `x-accord-payload` (the full protobuf name of `data`) and
// `x-accord-filter-fields` (the envelope fields set on every event of the
// type).
std::string AsyncApiDocument();

}  // namespace accord

#endif  // ACCORD_COMMON_ASYNCAPI_H_
