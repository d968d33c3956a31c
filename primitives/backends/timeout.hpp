// timeout.hpp — how the comparison backends (posix, boost, spin) read a timeout given in
// Python's form, a float number of seconds, so that every backend keeps the same promise as
// multiprocessing:
//
//   seconds                          | deadline_in(seconds)
//   ---------------------------------+-------------------------------------------------------
//   NaN                              | throws std::invalid_argument (threading: ValueError)
//   <= 0 (negative included)         | now: one attempt, never blocks — multiprocessing's
//                                    | SemLock.acquire() clamps a negative timeout to 0, and
//                                    | its Queue, Condition, Event and Barrier build on that
//   beyond the steady clock's range  | kNoDeadline: waits forever (1e10 s, 1e100 s, +inf)
//   (~292 years), +inf               |
//   otherwise                        | now + seconds (ipcsync::deadline_after, which saturates)
//
// kForever (+inf) is the default of every `timeout_s` parameter: Python's timeout=None.
// Durations (acquire_for(std::chrono::...)) go through ipcsync::deadline_after (futex.hpp),
// which gives the same table for chrono types.
#pragma once

#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "ipcsync/futex.hpp"

namespace ipcsync::backend {

inline constexpr double kForever = std::numeric_limits<double>::infinity();

// deadline_in(seconds): the table above.
inline deadline deadline_in(double seconds) {
  if (std::isnan(seconds)) throw std::invalid_argument("timeout is NaN (not a number)");
  if (seconds <= 0) return mono_clock::now();
  // 9e9 s is below INT64_MAX ns (9.22e9 s), so the cast below cannot overflow; anything
  // longer is past the end of the steady clock anyway.
  if (seconds >= 9.0e9) return kNoDeadline;
  return deadline_after(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds)));
}

}  // namespace ipcsync::backend
