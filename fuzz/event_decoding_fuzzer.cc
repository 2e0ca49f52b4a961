// Events as the notification service reads them from the Redis stream.
// Input: `position a` NL `position b` NL `serialized Event`.
//
// The event bytes go through DecodeStreamEvent, then the payload is
// unpacked the way webhook delivery does it (type looked up in the
// generated pool, parsed, printed as JSON) and as each typed payload, and
// the event is run through a few subscription selectors. The positions go
// through ComparePositions.
//
// Checks beyond "no crash, no UB, no leak":
//   - a decoded event carries the stream position it was read at and
//     survives serialization unchanged;
//   - ComparePositions is a consistent order (antisymmetric, reflexive,
//     transitive over three positions).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "accord/agreement/v1/agreement.pb.h"
#include "accord/events/v1/event.pb.h"
#include "accord/institution/v1/institution.pb.h"
#include "accord/notification/v1/notification.pb.h"
#include "common/events.h"
#include "common/filter.h"
#include "fuzz/fuzz_support.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace {

using accord::ComparePositions;
using accord::events::v1::Event;

// Splits off the text before the first newline (or all of it).
absl::string_view NextLine(absl::string_view& input) {
  const size_t end = input.find('\n');
  const absl::string_view line = input.substr(0, end);
  input.remove_prefix(end == absl::string_view::npos ? input.size() : end + 1);
  return line;
}

int Sign(int value) { return (value > 0) - (value < 0); }

void CheckPositions(absl::string_view a, absl::string_view b) {
  static constexpr absl::string_view kMiddle = "1745539200000-5";
  ACCORD_FUZZ_CHECK(ComparePositions(a, a) == 0, a);
  ACCORD_FUZZ_CHECK(
      Sign(ComparePositions(a, b)) == -Sign(ComparePositions(b, a)),
      absl::StrCat(a, " vs ", b));
  const int ab = Sign(ComparePositions(a, b));
  const int bc = Sign(ComparePositions(b, kMiddle));
  if (ab == bc && ab != 0) {
    ACCORD_FUZZ_CHECK(Sign(ComparePositions(a, kMiddle)) == ab,
                      absl::StrCat(a, " ", b, " not transitive"));
  }
}

// What webhook delivery does with a payload (CloudEventJson).
void UnpackGeneric(const google::protobuf::Any& payload) {
  absl::string_view type_name = payload.type_url();
  type_name = type_name.substr(type_name.rfind('/') + 1);
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          std::string(type_name));
  if (descriptor == nullptr) return;
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(descriptor)
          ->New());
  if (!message->ParseFromString(payload.value())) return;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(*message, &json);
}

// What the services and clients do with the payloads they know.
void UnpackTyped(const google::protobuf::Any& payload) {
  accord::institution::v1::Institution institution;
  accord::institution::v1::Official official;
  accord::agreement::v1::Agreement agreement;
  accord::agreement::v1::Committee committee;
  accord::agreement::v1::Session session;
  accord::agreement::v1::Milestone milestone;
  accord::notification::v1::Subscription subscription;
  if (payload.Is<accord::institution::v1::Institution>()) {
    (void)payload.UnpackTo(&institution);
  }
  (void)payload.UnpackTo(&official);
  (void)payload.UnpackTo(&agreement);
  (void)payload.UnpackTo(&committee);
  (void)payload.UnpackTo(&session);
  (void)payload.UnpackTo(&milestone);
  (void)payload.UnpackTo(&subscription);
}

const std::vector<accord::Filter>& Selectors() {
  static const std::vector<accord::Filter>* const selectors = [] {
    auto* filters = new std::vector<accord::Filter>();
    for (const char* text : {
             R"(type = "accord.agreement.v1.recorded")",
             R"(type = "accord.milestone.v1.*" OR type = "*.session_recorded")",
             R"(institutions: "institutions/tums" AND country_codes: "RU")",
             R"(time >= "2025-01-01T00:00:00Z" AND payload:*)",
             R"(NOT restricted_to:* AND subject = "agreements/*")",
             R"(payload.type_url: "Agreement" OR cooperation_areas = "health")",
         }) {
      absl::StatusOr<accord::Filter> filter =
          accord::Filter::Parse(text, *Event::descriptor());
      ACCORD_FUZZ_CHECK(filter.ok(), filter.status().ToString());
      filters->push_back(*std::move(filter));
    }
    return filters;
  }();
  return *selectors;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view input(reinterpret_cast<const char*>(data), size);
  const absl::string_view position = NextLine(input);
  const absl::string_view other = NextLine(input);
  CheckPositions(position, other);

  absl::StatusOr<Event> event = accord::DecodeStreamEvent(position, input);
  if (!event.ok()) {
    ACCORD_FUZZ_CHECK(event.status().code() == absl::StatusCode::kDataLoss,
                      event.status().ToString());
    return 0;
  }
  ACCORD_FUZZ_CHECK(event->position() == position, "position not kept");
  // Stream ids are ASCII; a position that is not valid UTF-8 would make the
  // event itself invalid.
  if (std::all_of(position.begin(), position.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x80;
      })) {
    absl::StatusOr<Event> again =
        accord::DecodeStreamEvent(position, event->SerializeAsString());
    ACCORD_FUZZ_CHECK(again.ok(), again.status().ToString());
    ACCORD_FUZZ_CHECK(
        google::protobuf::util::MessageDifferencer::Equals(*event, *again),
        "event changed on a round trip");
  }

  if (event->has_payload()) {
    UnpackGeneric(event->payload());
    UnpackTyped(event->payload());
  }
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(*event, &json);
  for (const accord::Filter& selector : Selectors()) {
    (void)selector.Matches(*event);
  }
  (void)ComparePositions(event->position(), other);
  return 0;
}
