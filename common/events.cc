#include "common/events.h"

#include <cstdint>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/time_util.h"

namespace accord {
namespace {

// Splits "ms-seq" into its two numbers; malformed parts read as 0.
std::pair<uint64_t, uint64_t> SplitPosition(absl::string_view position) {
  uint64_t ms = 0;
  uint64_t seq = 0;
  const size_t dash = position.find('-');
  (void)absl::SimpleAtoi(position.substr(0, dash), &ms);
  if (dash != absl::string_view::npos) {
    (void)absl::SimpleAtoi(position.substr(dash + 1), &seq);
  }
  return {ms, seq};
}

}  // namespace

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
  const auto left = SplitPosition(a);
  const auto right = SplitPosition(b);
  if (left < right) return -1;
  if (left > right) return 1;
  return 0;
}

}  // namespace accord
