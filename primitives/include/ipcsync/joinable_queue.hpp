// joinable_queue.hpp — JoinableQueue<T, Capacity>: a Queue that counts unfinished tasks
// (multiprocessing.JoinableQueue).
//
// State: a Queue<T, Capacity> (queue.hpp) and `unfinished`, the number of items put and not yet
// acknowledged with task_done(), plus a detail::Parking (parking.hpp) where join()ers wait.
// A put counts the item before it becomes visible, so no get + task_done() can ever see the
// count it pays off missing; a put that fails (full, timeout, closed) takes its count back.
//
//   unfinished | put(v)                 | task_done()                    | join()
//   -----------+------------------------+--------------------------------+------------------------------
//   0          | 1, then as Queue::put  | throws over_release (Python:   | returns at once
//              |                        | ValueError), changes nothing   |
//   u > 0      | u+1, then as Queue::put| u-1; at 0 wakes every joiner   | blocks until 0 (join_until:
//              |                        |                                | false at the deadline)
// get() does not change `unfinished`: every item got must be acknowledged with task_done().
//
// Process-shared: yes. Queue's placement rules: JoinableQueue<T, N> (N > 0) holds its cells
//   and is valid when zero-filled; JoinableQueue<T> (maxsize at run time) is followed by them:
//   allocate bytes_for(maxsize) bytes, 64-aligned, and construct with create_at().
// Layout: standard-layout, alignas(64): one cache line for the count and the joiners' parking,
//   then the Queue (its cells last).
// Blocking: Queue's for put/get; join() spins up to spin_limit() PAUSEs, then FUTEX_WAITs
//   (shared) with an absolute CLOCK_MONOTONIC deadline.
// Memory ordering: Queue's; and for processes X and Y, X's writes before its task_done() are
//   visible to Y once Y's join() returns.
// Owner death: a consumer that dies between get() and task_done() leaves the count high and
//   join() waiting (as in Python); join_until() notices.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"
#include "ipcsync/parking.hpp"
#include "ipcsync/queue.hpp"

namespace ipcsync {

template <class T, std::size_t Capacity = 0>
class alignas(64) JoinableQueue {
  using Q = Queue<T, Capacity>;

 public:
  using value_type = T;

  JoinableQueue() noexcept
    requires(Capacity > 0)
  = default;
  explicit JoinableQueue(uint32_t maxsize)
    requires(Capacity == 0)
      : q_(maxsize) {}
  JoinableQueue(const JoinableQueue&) = delete;
  JoinableQueue& operator=(const JoinableQueue&) = delete;

  // JoinableQueue<T>::bytes_for(maxsize)/create_at(mem, maxsize): as Queue<T>'s.
  static constexpr std::size_t bytes_for(uint32_t maxsize) noexcept
    requires(Capacity == 0)
  {
    return offsetof(JoinableQueue, q_) + Q::bytes_for(maxsize);
  }
  static JoinableQueue* create_at(void* mem, uint32_t maxsize)
    requires(Capacity == 0)
  {
    return ::new (mem) JoinableQueue(maxsize);
  }

  // JoinableQueue::put...: as Queue's, counting the item as an unfinished task.
  void put(const T& v) {
    counted([&] { q_.put(v); return true; });
  }
  void put(const T& v, bool block, double timeout_s = kForever) {
    counted([&] { q_.put(v, block, timeout_s); return true; });
  }
  void put_nowait(const T& v) {
    counted([&] { q_.put_nowait(v); return true; });
  }
  bool try_put(const T& v) {
    return counted([&] { return q_.try_put(v); });
  }
  bool try_put_until(const T& v, deadline until) {
    return counted([&] { return q_.try_put_until(v, until); });
  }
  template <class Rep, class Period>
  bool try_put_for(const T& v, std::chrono::duration<Rep, Period> timeout) {
    return try_put_until(v, deadline_after(timeout));
  }

  // JoinableQueue::get...: as Queue's; acknowledge each item with task_done().
  T get() { return q_.get(); }
  T get(bool block, double timeout_s = kForever) { return q_.get(block, timeout_s); }
  T get_nowait() { return q_.get_nowait(); }
  std::optional<T> try_get() { return q_.try_get(); }
  std::optional<T> try_get_until(deadline until) { return q_.try_get_until(until); }
  template <class Rep, class Period>
  std::optional<T> try_get_for(std::chrono::duration<Rep, Period> timeout) {
    return q_.try_get_until(deadline_after(timeout));
  }

  // JoinableQueue::task_done(): one item got earlier is fully processed. Throws over_release
  // when called more times than items were put.
  void task_done() {
    uint64_t u = unfinished_.load(std::memory_order_relaxed);
    do {
      if (u == 0) throw over_release("JoinableQueue::task_done(): called too many times");
    } while (!unfinished_.compare_exchange_weak(
        u, u - 1, IPCSYNC_MUTANT(joinable_task_done_relaxed) ? std::memory_order_relaxed : std::memory_order_seq_cst,
        std::memory_order_relaxed));
    if (u == 1) joiners_.wake_all();
  }

  // JoinableQueue::join(): blocks until every item put has been task_done()'d.
  void join() { (void)join_until(kNoDeadline); }
  // JoinableQueue::join_until()/join_for(): false at the deadline.
  bool join_until(deadline until) {
    auto done = [&] { return unfinished_.load(std::memory_order_acquire) == 0; };
    if (done()) return true;
    return joiners_.wait_until(done, detail::never, until, /*heavy=*/false);
  }
  template <class Rep, class Period>
  bool join_for(std::chrono::duration<Rep, Period> timeout) {
    return join_until(deadline_after(timeout));
  }

  // JoinableQueue::unfinished(): items put and not yet task_done()'d (a snapshot).
  uint64_t unfinished() const noexcept { return unfinished_.load(std::memory_order_relaxed); }

  void close() noexcept { q_.close(); }
  bool closed() const noexcept { return q_.closed(); }
  uint32_t qsize() const noexcept { return q_.qsize(); }
  bool empty() const noexcept { return q_.empty(); }
  bool full() const noexcept { return q_.full(); }
  uint32_t maxsize() const noexcept { return q_.maxsize(); }
  Q& queue() noexcept { return q_; }

 private:
  // counted(put): counts the task first; gives the count back if the put did not happen.
  template <class Put>
  bool counted(Put&& put) {
    unfinished_.fetch_add(1, std::memory_order_seq_cst);
    bool ok = false;
    try {
      ok = put();
    } catch (...) {
      uncount();
      throw;
    }
    if (!ok) uncount();
    return ok;
  }
  void uncount() noexcept {
    if (unfinished_.fetch_sub(1, std::memory_order_seq_cst) == 1) joiners_.wake_all();
  }

  detail::atomic<uint64_t> unfinished_{0};
  detail::Parking joiners_;
  Q q_;  // last: Queue<T>'s cells follow it
};

#ifndef IPCSYNC_MODEL_CHECK  // the model build's atomics are Relacy's, not 4 bytes
static_assert(std::is_standard_layout_v<JoinableQueue<uint64_t, 4>>);
#endif

}  // namespace ipcsync
