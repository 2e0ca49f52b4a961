#include "services/agreement/date_clock.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace accord::agreement {

std::string DateClock::Today() const {
  if (!testing_file_.empty()) {
    std::ifstream file(testing_file_);
    std::stringstream contents;
    contents << file.rdbuf();
    const std::string date(absl::StripAsciiWhitespace(contents.str()));
    absl::Time parsed;
    std::string error;
    if (date.size() == 10 &&
        absl::ParseTime("%Y-%m-%d", date, absl::UTCTimeZone(), &parsed,
                        &error)) {
      return date;
    }
  }
  return absl::FormatTime("%Y-%m-%d", absl::Now(), absl::UTCTimeZone());
}

}  // namespace accord::agreement
