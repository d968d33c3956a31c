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
//   otherwise                        | now + seconds
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

// kForever / deadline_in(seconds): ipcsync's own (futex.hpp: kForever, timeout_deadline()),
// which follow the table above; the backends spell them through this header so that every
// backend reads a timeout exactly as the native primitives do.
using ipcsync::kForever;
inline deadline deadline_in(double seconds) { return timeout_deadline(seconds); }

}  // namespace ipcsync::backend
