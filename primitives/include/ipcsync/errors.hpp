// errors.hpp — the exception types of ipcsync, one header for all primitives.
//
// Python's multiprocessing raises these as RuntimeError, ValueError, BrokenBarrierError,
// queue.Full and queue.Empty; ipcsync maps each to a type of its own so callers can catch
// precisely. All derive from ipcsync::error, a std::runtime_error: whether they come from
// misuse (a release too many) or from the state other processes left (a full queue, a broken
// barrier), they depend on what happened at run time, not on the call alone.
// Arguments that are invalid whatever the state (a NaN timeout, a Semaphore value above
// kMaxValue, Barrier(0), a negative size) throw std::invalid_argument instead, as the standard
// library does (Python: ValueError), on every backend.
#pragma once

#include <stdexcept>
#include <string>

namespace ipcsync {

// error: base of every ipcsync exception.
#ifndef IPCSYNC_MODEL_CHECK
class error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
#else
// The model-check build (tests/model): Relacy owns the heap inside a test, and std::runtime_error
// keeps its message in libstdc++'s own allocation, freed there with free(). There the
// exceptions carry no message; their types and where they are thrown are unchanged.
class error : public std::exception {
 public:
  explicit error(const std::string&) noexcept {}
  explicit error(const char*) noexcept {}
  const char* what() const noexcept override { return "ipcsync::error (model-check build)"; }
};
#endif

// not_owner: RLock released by a process/thread that does not own it; Condition wait/notify
// without holding its lock (Python: RuntimeError).
class not_owner : public error {
 public:
  explicit not_owner(const std::string& what) : error(what) {}
};

// over_release: a BoundedSemaphore released above its initial value, a JoinableQueue's
// task_done() called more times than items were put, or a Lock released while unlocked
// (Python: ValueError).
class over_release : public error {
 public:
  explicit over_release(const std::string& what) : error(what) {}
};

// broken_barrier: the Barrier was aborted, reset while this process waited, or a wait timed out
// (Python: threading.BrokenBarrierError).
class broken_barrier : public error {
 public:
  explicit broken_barrier(const std::string& what) : error(what) {}
};

// queue_full / queue_empty: non-blocking or timed put/get found no room / no item
// (Python: queue.Full / queue.Empty).
class queue_full : public error {
 public:
  explicit queue_full(const std::string& what) : error(what) {}
};
class queue_empty : public error {
 public:
  explicit queue_empty(const std::string& what) : error(what) {}
};

// queue_closed: put() on a closed Queue, or get() on a closed Queue that has been drained; every
// process blocked in put()/get() when close() runs wakes with it (Python: ValueError "Queue is
// closed"). Not a queue_empty: a consumer loop that catches queue_empty to poll again must
// still see the end of the stream.
class queue_closed : public error {
 public:
  explicit queue_closed(const std::string& what) : error(what) {}
};

}  // namespace ipcsync
