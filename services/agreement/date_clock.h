#ifndef ACCORD_SERVICES_AGREEMENT_DATE_CLOCK_H_
#define ACCORD_SERVICES_AGREEMENT_DATE_CLOCK_H_

// What day it is, for the dates the agreement service derives and
// announces. In production that is the UTC date. Tests that need the days
// to pass start the service with `--testing_clock_file=PATH` and write a
// date (`YYYY-MM-DD`) into that file; it is read on every call, so a test
// moves time forward while the service runs. Never set in production: the
// service logs a warning when it is.
//
// Example:
//   DateClock clock(flags.testing_clock_file);
//   if (CompareDates(entry_into_force, clock.Today()) <= 0) Announce(...);

#include <string>

namespace accord::agreement {

class DateClock {
 public:
  // `testing_file` empty: the real UTC date.
  explicit DateClock(std::string testing_file = "")
      : testing_file_(std::move(testing_file)) {}

  // Today as `YYYY-MM-DD`. With a testing file that cannot be read or holds
  // no date, the real date.
  std::string Today() const;

  bool IsTesting() const { return !testing_file_.empty(); }

 private:
  std::string testing_file_;
};

}  // namespace accord::agreement

#endif  // ACCORD_SERVICES_AGREEMENT_DATE_CLOCK_H_
