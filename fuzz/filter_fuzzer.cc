// AIP-160 filters: the fuzz bytes are filter text, parsed against the
// Institution and Event descriptors (the list filters and the event
// selectors of watches and subscriptions) and, when parsed, evaluated on
// fixed records.
//
// Checks beyond "no crash, no UB, no leak":
//   - a rejected filter is INVALID_ARGUMENT on `filter`;
//   - a non-empty filter never matches a message of another type;
//   - `NOT (f)` matches exactly what `f` does not, when the bytes leave the
//     parenthesised form unambiguous.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/filter.h"
#include "fuzz/fuzz_support.h"

namespace {

using accord::Filter;
using accord::events::v1::Event;
using accord::institution::v1::Institution;

struct Samples {
  Institution institution = accord::fuzz::SampleInstitution();
  Institution empty_institution;
  Event event = accord::fuzz::SampleEvent();
  Event empty_event;
};

void Exercise(absl::string_view text, const google::protobuf::Message& sample,
              const google::protobuf::Message& empty,
              const google::protobuf::Message& other_type) {
  const google::protobuf::Descriptor& descriptor = *sample.GetDescriptor();
  absl::StatusOr<Filter> filter = Filter::Parse(text, descriptor);
  if (!filter.ok()) {
    accord::fuzz::CheckRejection(filter.status(), "filter");
    return;
  }
  const bool on_sample = filter->Matches(sample);
  const bool on_empty = filter->Matches(empty);
  if (!filter->empty()) {
    ACCORD_FUZZ_CHECK(!filter->Matches(other_type),
                      absl::StrCat("matched another type: ", text));
  }
  // Without brackets or quotes in the text, `NOT (text)` is its negation.
  if (text.find_first_of("()\"'\\") != absl::string_view::npos ||
      filter->empty()) {
    return;
  }
  absl::StatusOr<Filter> negated =
      Filter::Parse(absl::StrCat("NOT (", text, ")"), descriptor);
  if (!negated.ok()) return;  // e.g. over the length or depth limit
  ACCORD_FUZZ_CHECK(negated->Matches(sample) != on_sample,
                    absl::StrCat("NOT changed nothing on the sample: ", text));
  ACCORD_FUZZ_CHECK(negated->Matches(empty) != on_empty,
                    absl::StrCat("NOT changed nothing on empty: ", text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Samples* const samples = new Samples();
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  if (!accord::fuzz::IsProtoString(text)) return 0;
  Exercise(text, samples->institution, samples->empty_institution,
           samples->event);
  Exercise(text, samples->event, samples->empty_event, samples->institution);
  return 0;
}
