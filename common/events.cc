#include "common/events.h"

#include <cstdint>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "common/redis/stream_position.h"
#include "google/protobuf/util/time_util.h"

namespace accord {

events::v1::Event MakeEvent(absl::string_view source, absl::string_view type,
                            absl::string_view subject,
                            const google::protobuf::Message& payload,
                            const ChangeContext& context) {
  events::v1::Event event;
  event.set_id(NewUuid());
  event.set_source(std::string(source));
  event.set_type(std::string(type));
  event.set_subject(std::string(subject));
  *event.mutable_time() =
      google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(context.time));
  event.set_principal(context.principal);
  event.set_request_id(context.request_id);
  event.set_traceparent(context.traceparent);
  event.mutable_payload()->PackFrom(payload);
  return event;
}

absl::StatusOr<events::v1::Event> DecodeStreamEvent(absl::string_view position,
                                                    absl::string_view data) {
  events::v1::Event event;
  if (!event.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return absl::DataLossError(
        absl::StrFormat("event at %s does not decode", position));
  }
  event.set_position(std::string(position));
  return event;
}

std::string NewUuid() {
  thread_local absl::BitGen bits;
  const uint64_t high = absl::Uniform<uint64_t>(bits);
  const uint64_t low = absl::Uniform<uint64_t>(bits);
  // Version 4 in the high nibble of time_hi, variant 10 in clock_seq.
  return absl::StrFormat(
      "%08x-%04x-4%03x-%04x-%012x", high >> 32, (high >> 16) & 0xffff,
      high & 0x0fff, ((low >> 48) & 0x3fff) | 0x8000, low & 0xffffffffffffULL);
}

int ComparePositions(absl::string_view a, absl::string_view b) {
  const StreamPosition left = StreamPosition::Parse(a);
  const StreamPosition right = StreamPosition::Parse(b);
  if (left < right) return -1;
  if (left > right) return 1;
  return 0;
}

}  // namespace accord
