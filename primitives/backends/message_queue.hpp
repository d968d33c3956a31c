// message_queue.hpp — generic::Queue<X, T, N> and generic::JoinableQueue<X, M, C, T, N>:
// multiprocessing.Queue and JoinableQueue on a kernel or library message queue X (a POSIX
// mqueue in posix.hpp, boost::interprocess::message_queue in boost.hpp), one T per message.
//
// The transport X does the storing, ordering and blocking; this file adds what neither
// message queue has — close() and the end of the stream, Python's error types — and, for
// JoinableQueue, the unfinished-task count with join(). The protocol of X:
//   X(maxsize, message_bytes)  opens a queue of maxsize messages (in the parent, before fork;
//                              children use it through the same object). Throws
//                              std::runtime_error naming the system limit that refused it.
//   bool send(const void*, size_t, deadline)   false: still full at the deadline
//   bool receive(void*, size_t cap, size_t* len, deadline)   false: still empty at the deadline
//   uint32_t count()           messages queued now
// A deadline already passed makes one non-blocking attempt. Messages of equal priority are
// FIFO in both transports.
//
// close() and the end of the stream, built on top: `closed_` in the object, plus *close
// tokens*, zero-length messages (a T is never empty). close() sets closed_ and sends one
// token; a getter that receives a token, or finds the queue closed, drains what is left
// without blocking, and when it finds the queue empty sends one token on (so the next
// blocked getter wakes too) and throws queue_closed. Tokens queue behind the items put before
// close(), so those are still delivered; qsize()/empty() do not count them. A put or get
// never blocks in the transport for longer than kCloseSlice: it re-checks closed_ between
// slices, so a putter blocked on a full queue (which no token can reach) wakes within
// kCloseSlice of close() and throws queue_closed, and no getter can stay blocked behind a
// token another getter consumed.
//
//   state      | put(v)                                    | get()
//   -----------+-------------------------------------------+-----------------------------------------
//   not full   | sends v, returns                          | returns the oldest item
//   empty      | sends v (the transport wakes a getter)    | blocks in X; an item once one is put
//              |                                           | (try_get_until: nullopt at the deadline;
//              |                                           | get_nowait: throws queue_empty)
//   full       | blocks in X until a get frees a slot      | returns the oldest item
//              | (try_put_until: false at the deadline;    |
//              | put_nowait: throws queue_full)            |
//   closed     | throws queue_closed (blocked putters      | returns what is left, then throws
//              | within kCloseSlice)                       | queue_closed (blocked getters at once)
// Divergence from ipcsync::Queue: a put that was already blocked on a full queue when close()
// ran may still complete if a get frees a slot within the same slice; its item is delivered
// before queue_closed (never lost).
//
// Process-shared: the object holds the transport's handle (a descriptor or a mapping inherited
//   by fork children at the same address), `closed_` and the token count; construct it in
//   place in a shared mapping before fork. Queue<T> (N == 0) has bytes_for(maxsize) ==
//   sizeof(Queue) (nothing trails it: the items live in the transport) and create_at(), so it
//   drops into code written for ipcsync::Queue<T>. Destroy it (in the constructing process) to
//   release the handle; the queue itself was unlinked when it was made.
// Memory ordering: for processes X and Y, X's writes before put(v) are visible to Y once Y's
//   get() returns v (the transport's send/receive synchronize).
// Owner death: the transport's (a POSIX mqueue is kernel state and always consistent).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include "backends/generic.hpp"
#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"

namespace ipcsync::generic {

// kCloseSlice: the longest a put or get blocks in the transport before re-checking closed_.
inline constexpr std::chrono::milliseconds kCloseSlice{50};

template <class X, class T, std::size_t Capacity = 0>
class alignas(64) Queue {
  static_assert(std::is_trivially_copyable_v<T>, "Queue<T>: T must be trivially copyable (it is sent bytewise)");
  static_assert(std::is_default_constructible_v<T>, "Queue<T>: T must be default-constructible");
  static_assert(Capacity < 0x80000000u, "Queue<T, Capacity>: capacity too large");

 public:
  using value_type = T;

  // Queue<T, N>(): a queue of N messages. Queue<T>(maxsize): maxsize chosen at run time.
  // Throw std::runtime_error when the system refuses a queue that large.
  Queue()
    requires(Capacity > 0)
      : Queue(static_cast<uint32_t>(Capacity), Tag{}) {}
  explicit Queue(uint32_t maxsize)
    requires(Capacity == 0)
      : Queue(maxsize, Tag{}) {}
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // Queue<T>::bytes_for(maxsize)/create_at(mem, maxsize): as ipcsync::Queue<T>'s (nothing
  // trails the object).
  static constexpr std::size_t bytes_for(uint32_t) noexcept
    requires(Capacity == 0)
  {
    return sizeof(Queue);
  }
  static Queue* create_at(void* mem, uint32_t maxsize)
    requires(Capacity == 0)
  {
    return ::new (mem) Queue(maxsize);
  }

  // Queue::put(v)/put(v, block, timeout_s)/put_nowait(v)/try_put(v)/try_put_until()/
  // try_put_for(): as ipcsync::Queue's.
  void put(const T& v) { (void)put_until(v, kNoDeadline); }
  void put(const T& v, bool block, double timeout_s = kForever) {
    if (!block) return put_nowait(v);
    const deadline until = deadline_in(timeout_s);
    if (!put_until(v, until)) throw queue_full("Queue::put(): timed out, the queue is full");
  }
  void put_nowait(const T& v) {
    if (!try_put(v)) throw queue_full("Queue::put_nowait(): the queue is full");
  }
  bool try_put(const T& v) { return put_until(v, deadline{}); }
  bool try_put_until(const T& v, deadline until) { return put_until(v, until); }
  template <class Rep, class Period>
  bool try_put_for(const T& v, std::chrono::duration<Rep, Period> timeout) {
    return put_until(v, deadline_after(timeout));
  }

  // Queue::get()/get(block, timeout_s)/get_nowait()/try_get()/try_get_until()/try_get_for():
  // as ipcsync::Queue's.
  T get() { return *get_until(kNoDeadline); }
  T get(bool block, double timeout_s = kForever) {
    if (!block) return get_nowait();
    const deadline until = deadline_in(timeout_s);
    std::optional<T> v = get_until(until);
    if (!v) throw queue_empty("Queue::get(): timed out, the queue is empty");
    return *v;
  }
  T get_nowait() {
    std::optional<T> v = try_get();
    if (!v) throw queue_empty("Queue::get_nowait(): the queue is empty");
    return *v;
  }
  std::optional<T> try_get() { return get_until(deadline{}); }
  std::optional<T> try_get_until(deadline until) { return get_until(until); }
  template <class Rep, class Period>
  std::optional<T> try_get_for(std::chrono::duration<Rep, Period> timeout) {
    return get_until(deadline_after(timeout));
  }

  // Queue::close(): no more puts; blocked getters take what is left, then get queue_closed;
  // blocked putters get queue_closed within kCloseSlice. Irreversible.
  void close() {
    closed_.store(1, std::memory_order_seq_cst);
    send_token();
  }
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire) != 0; }

  // Queue::qsize()/empty()/full(): snapshots (close tokens not counted). maxsize(): capacity.
  uint32_t qsize() {
    const uint32_t n = x_.count(), t = tokens_.load(std::memory_order_relaxed);
    return n > t ? std::min(n - t, maxsize_) : 0;
  }
  bool empty() { return qsize() == 0; }
  bool full() { return qsize() >= maxsize_; }
  uint32_t maxsize() const noexcept { return maxsize_; }

 private:
  struct Tag {};
  Queue(uint32_t maxsize, Tag) : x_(check(maxsize), static_cast<uint32_t>(sizeof(T))), maxsize_(maxsize) {}
  static uint32_t check(uint32_t maxsize) {
    if (maxsize == 0 || maxsize >= 0x80000000u) throw std::invalid_argument("Queue: maxsize must be in 1..2^31-1");
    return maxsize;
  }
  static deadline slice_end(deadline until) noexcept {
    const deadline now = mono_clock::now();
    if (until <= now) return until;
    return until - now > kCloseSlice ? now + kCloseSlice : until;
  }

  bool put_until(const T& v, deadline until) {
    for (;;) {
      if (closed()) throw queue_closed("Queue::put(): the queue is closed");
      if (x_.send(&v, sizeof(T), slice_end(until))) return true;
      if (mono_clock::now() >= until) {
        if (closed()) throw queue_closed("Queue::put(): the queue is closed");
        return false;
      }
    }
  }
  std::optional<T> get_until(deadline until) {
    T v;
    std::size_t n = 0;
    for (;;) {
      if (closed()) return drain();
      if (x_.receive(&v, sizeof(T), &n, slice_end(until))) {
        if (n == sizeof(T)) return v;
        tokens_.fetch_sub(1, std::memory_order_relaxed);  // a close token: drain on the next turn
        continue;
      }
      if (mono_clock::now() >= until) return closed() ? drain() : std::nullopt;
    }
  }
  // drain(): the queue is closed: what is left, without blocking; then pass a token on and
  // throw queue_closed.
  std::optional<T> drain() {
    T v;
    std::size_t n = 0;
    while (x_.receive(&v, sizeof(T), &n, deadline{})) {
      if (n == sizeof(T)) return v;
      tokens_.fetch_sub(1, std::memory_order_relaxed);
    }
    send_token();
    throw queue_closed("Queue::get(): the queue is closed and empty");
  }
  void send_token() {
    if (x_.send(&tokens_, 0, deadline{})) tokens_.fetch_add(1, std::memory_order_relaxed);
  }

  X x_;
  uint32_t maxsize_;
  std::atomic<uint32_t> closed_{0};
  std::atomic<uint32_t> tokens_{0};  // close tokens in the transport (a snapshot at best)
};

// ---------------------------------------------------------------------------------------------
// generic::JoinableQueue<X, M, C, T, N> — a generic::Queue that counts unfinished tasks
// (multiprocessing.JoinableQueue), built on top: `unfinished` (an atomic count: a put counts
// its item before sending it and takes the count back if the send fails), and a mutex M and
// condition variable C where join() waits; the task_done() that brings the count to 0 takes
// M and broadcasts, so a joiner that saw a nonzero count under M cannot miss it.
//
//   unfinished | put(v)                 | task_done()                    | join()
//   -----------+------------------------+--------------------------------+------------------------------
//   0          | 1, then as Queue::put  | throws over_release (Python:   | returns at once
//              |                        | ValueError), changes nothing   |
//   u > 0      | u+1, then as Queue::put| u-1; at 0 wakes every joiner   | blocks on C until 0
//              |                        |                                | (join_until: false at deadline)
// Memory ordering: Queue's; and for processes X and Y, X's writes before its task_done() are
//   visible to Y once Y's join() returns.
template <class X, class M, class C, class T, std::size_t Capacity = 0>
class alignas(64) JoinableQueue {
  using Q = Queue<X, T, Capacity>;

 public:
  using value_type = T;

  JoinableQueue()
    requires(Capacity > 0)
  = default;
  explicit JoinableQueue(uint32_t maxsize)
    requires(Capacity == 0)
      : q_(maxsize) {}
  JoinableQueue(const JoinableQueue&) = delete;
  JoinableQueue& operator=(const JoinableQueue&) = delete;

  static constexpr std::size_t bytes_for(uint32_t) noexcept
    requires(Capacity == 0)
  {
    return sizeof(JoinableQueue);
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
    } while (!unfinished_.compare_exchange_weak(u, u - 1, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (u == 1) wake_joiners();
  }

  // JoinableQueue::join()/join_until()/join_for(): blocks until every item put has been
  // task_done()'d; false at the deadline.
  void join() { (void)join_until(kNoDeadline); }
  bool join_until(deadline until) {
    if (unfinished_.load(std::memory_order_acquire) == 0) return true;
    Held<M> g(m_);
    while (unfinished_.load(std::memory_order_acquire) != 0)
      if (c_.wait_until(m_, until) == kTimedOut) return unfinished_.load(std::memory_order_acquire) == 0;
    return true;
  }
  template <class Rep, class Period>
  bool join_for(std::chrono::duration<Rep, Period> timeout) {
    return join_until(deadline_after(timeout));
  }

  // JoinableQueue::unfinished(): items put and not yet task_done()'d (a snapshot).
  uint64_t unfinished() const noexcept { return unfinished_.load(std::memory_order_relaxed); }

  void close() { q_.close(); }
  bool closed() const noexcept { return q_.closed(); }
  uint32_t qsize() { return q_.qsize(); }
  bool empty() { return q_.empty(); }
  bool full() { return q_.full(); }
  uint32_t maxsize() const noexcept { return q_.maxsize(); }
  Q& queue() noexcept { return q_; }

 private:
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
  void uncount() {
    if (unfinished_.fetch_sub(1, std::memory_order_seq_cst) == 1) wake_joiners();
  }
  void wake_joiners() {
    Held<M> g(m_);
    c_.broadcast();
  }

  std::atomic<uint64_t> unfinished_{0};
  M m_;
  C c_;
  Q q_;
};

}  // namespace ipcsync::generic
