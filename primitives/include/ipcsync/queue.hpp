// queue.hpp — Queue<T, Capacity>: a bounded multi-producer multi-consumer FIFO of trivially
// copyable T in shared memory (multiprocessing.Queue), and MessageQueue, its byte-message form.
//
// State: a ring of cells, each a 64-bit sequence number and a payload (Vyukov's bounded MPMC
// queue: a put claims a position by CAS on `head`, writes the payload, then publishes the
// cell's sequence; a get claims by CAS on `tail`, copies out, then frees the cell for the next
// lap). A cell's sequence is 2*pos when it is free for the put at pos and 2*pos+1 once that
// put published it (Vyukov's pos / pos+1 cannot tell "full" from "free for the next lap" when
// maxsize is 1), stored minus 2*index so that zero bytes mean "free, first lap". Positions are
// 64-bit and never wrap in practice. A `closed` flag, and a
// detail::Parking (parking.hpp) each for blocked getters and blocked putters.
//
//   state      | put(v)                                  | get()
//   -----------+-----------------------------------------+------------------------------------------
//   not full,  | stores v, returns                       | returns the oldest item
//   not empty  |                                         |
//   empty      | stores v, wakes one parked getter       | spins, then parks; returns an item once
//              |                                         | one is put (try_get_until: nullopt at the
//              |                                         | deadline; get_nowait: throws queue_empty)
//   full       | spins, then parks until a get frees a   | returns the oldest item, wakes one parked
//              | cell (try_put_until: false at the       | putter
//              | deadline; put_nowait: throws queue_full)|
//   closed     | throws queue_closed (blocked putters    | returns what is left, then throws
//              | wake and throw it too)                  | queue_closed (blocked getters wake)
// FIFO: items leave in the order their puts claimed positions, so each producer's items reach
// any one consumer in the order it put them. qsize()/empty()/full() are snapshots (as in
// Python, "approximate"). A Queue always has a bound: maxsize >= 1 (Python's maxsize <= 0,
// "infinite", has no shared-memory equivalent).
//
// Where the cells live (no pointers anywhere):
//   Queue<T, N> (N > 0): inside the object; sizeof(Queue) covers them. Valid when zero-filled.
//   Queue<T>    (N == 0, the maxsize is chosen at run time): right after the object. Allocate
//     Queue<T>::bytes_for(maxsize) bytes aligned to 64 and construct with Queue<T>::create_at()
//     (or AnonymousRegion::make_sized / NamedSegment::construct_sized, shm.hpp).
//
// Process-shared: yes. Standard-layout, alignas(64); the header is five cache lines — head,
//   tail, the getters' and the putters' parking, and the read-mostly sizes and `closed` — so
//   producers and consumers do not false-share.
// Blocking: a blocked put/get spins up to spin_limit() PAUSEs (futex.hpp) if no other process
//   blocked on the same side is spinning, then announces itself, issues heavy_barrier() and
//   FUTEX_WAITs (shared) with an absolute CLOCK_MONOTONIC deadline. A put or get publishes with
//   a plain store and makes a futex_wake syscall only when a process of the other side
//   announced itself as parked.
// Memory ordering: for processes X and Y, X's writes before put(v) are visible to Y once Y's
//   get() returns v.
// Owner death: a process that dies between claiming a cell and publishing it (a few
//   instructions) leaves that cell unpublished and the queue stuck at it; anywhere else a death
//   leaves the Queue consistent (a dead blocked process only leaves its side's sleeper count
//   high, which costs later wakers a futile syscall).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"
#include "ipcsync/parking.hpp"

namespace ipcsync {

namespace detail {

enum class ring_status { ok, timed_out, closed };

// Ring<kCap, kStride>: the position/sequence machinery, shared by Queue and MessageQueue.
// kCap/kStride of 0 mean "chosen at run time" (kept in capacity_/stride_). The cells are passed
// in by the owner (they live inside it or right after it).
template <uint32_t kCap, uint32_t kStride>
class alignas(64) Ring {
 public:
  Ring() noexcept = default;
  Ring(uint32_t capacity, uint32_t stride) noexcept : capacity_(capacity), stride_(stride) {}

  uint32_t capacity() const noexcept {
    if constexpr (kCap != 0)
      return kCap;
    else
      return capacity_;
  }
  uint32_t stride() const noexcept {
    if constexpr (kStride != 0)
      return kStride;
    else
      return stride_;
  }

  // try_put(): claims the next position if its cell is free, fill(cell) writes the payload.
  template <class Fill>
  bool try_put(char* cells, Fill&& fill) noexcept {
    uint64_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t i = index(pos);
      char* c = cells + i * stride();
      detail::atomic<uint64_t>& seq = seq_of(c);
      const int64_t dif = static_cast<int64_t>(seq.load(std::memory_order_acquire) + 2 * i - 2 * pos);
      if (dif == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
          fill(c);
          seq.store(2 * pos + 1 - 2 * i,
                    IPCSYNC_MUTANT(queue_publish_relaxed) ? std::memory_order_relaxed : std::memory_order_release);
          return true;
        }
      } else if (dif < 0) {
        return false;  // the cell still holds last lap's item: full
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  // try_get(): claims the oldest position if its cell is published, drain(cell) copies out.
  template <class Drain>
  bool try_get(char* cells, Drain&& drain) noexcept {
    uint64_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      const uint64_t i = index(pos);
      char* c = cells + i * stride();
      detail::atomic<uint64_t>& seq = seq_of(c);
      const int64_t dif = static_cast<int64_t>(seq.load(std::memory_order_acquire) + 2 * i - (2 * pos + 1));
      if (dif == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed, std::memory_order_relaxed)) {
          drain(c);
          seq.store(2 * (pos + capacity()) - 2 * i, std::memory_order_release);
          return true;
        }
      } else if (dif < 0) {
        return false;  // not published yet: empty
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  // put_until()/get_until(): the blocking forms; wake the other side after success.
  template <class Fill>
  ring_status put_until(char* cells, Fill&& fill, deadline until) {
    if (closed()) return ring_status::closed;
    if (try_put(cells, fill)) {
      after_put();
      return ring_status::ok;
    }
    bool done = false;
    auto take = [&] { return closed() || (done = try_put(cells, fill)); };
    auto avail = [&] { return !closed() && size() < capacity(); };
    putters_.wait_until(take, avail, until, /*heavy=*/true);
    if (done) {
      after_put();
      return ring_status::ok;
    }
    return closed() ? ring_status::closed : ring_status::timed_out;
  }
  template <class Drain>
  ring_status get_until(char* cells, Drain&& drain, deadline until) {
    if (try_get(cells, drain)) {
      after_get();
      return ring_status::ok;
    }
    if (closed()) return ring_status::closed;
    bool done = false;
    auto take = [&] { return (done = try_get(cells, drain)) || closed(); };
    auto avail = [&] { return size() > 0; };
    getters_.wait_until(take, avail, until, /*heavy=*/true);
    if (!done && closed()) done = try_get(cells, drain);  // an item put just before close()
    if (done) {
      after_get();
      return ring_status::ok;
    }
    return closed() ? ring_status::closed : ring_status::timed_out;
  }

  void after_put() noexcept {
    if (IPCSYNC_MUTANT(queue_put_no_wake)) return;
    if (getters_.maybe_sleepers()) [[unlikely]]
      getters_.wake_one();
  }
  void after_get() noexcept {
    if (putters_.maybe_sleepers()) [[unlikely]]
      putters_.wake_one();
  }

  void close() noexcept {
    closed_.store(1, std::memory_order_seq_cst);
    if (IPCSYNC_MUTANT(queue_close_no_wake)) return;
    getters_.wake_all();
    putters_.wake_all();
  }
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire) != 0; }

  // size(): items put and not yet got (a snapshot, clamped to [0, capacity]).
  uint32_t size() const noexcept {
    const uint64_t t = tail_.load(std::memory_order_acquire);
    const uint64_t h = head_.load(std::memory_order_acquire);
    if (h <= t) return 0;
    return h - t >= capacity() ? capacity() : static_cast<uint32_t>(h - t);
  }
  uint32_t parked_getters() const noexcept { return getters_.sleepers.load(std::memory_order_relaxed); }
  uint32_t parked_putters() const noexcept { return putters_.sleepers.load(std::memory_order_relaxed); }

  static detail::atomic<uint64_t>& seq_of(char* cell) noexcept {
    return *std::launder(reinterpret_cast<detail::atomic<uint64_t>*>(cell));
  }

 private:
  uint64_t index(uint64_t pos) const noexcept {
    if constexpr (kCap != 0) {
      return pos % kCap;
    } else {
      const uint64_t cap = capacity_;
      return (cap & (cap - 1)) == 0 ? pos & (cap - 1) : pos % cap;
    }
  }

  uint32_t capacity_ = 0;             // run-time capacity (kCap == 0)
  uint32_t stride_ = 0;               // run-time cell size in bytes (kStride == 0)
  detail::atomic<uint32_t> closed_{0};
  alignas(64) detail::atomic<uint64_t> head_{0};  // next position to put
  alignas(64) detail::atomic<uint64_t> tail_{0};  // next position to get
  alignas(64) Parking getters_;
  alignas(64) Parking putters_;
};

// Cell<T>: a sequence number, then T's bytes (memcpy in and out: T is trivially copyable).
template <class T>
struct Cell {
  detail::atomic<uint64_t> seq{0};  // 2*pos (free) or 2*pos+1 (full), minus 2*index: 0 is "free, lap 0"
  alignas(alignof(T)) unsigned char data[sizeof(T)];
};

template <class T, std::size_t N>
struct CellStorage {
  Cell<T> cells[N];
};
template <class T>
struct CellStorage<T, 0> {};

}  // namespace detail

template <class T, std::size_t Capacity = 0>
class alignas(64) Queue {
  static_assert(std::is_trivially_copyable_v<T>, "Queue<T>: T must be trivially copyable (it is copied bytewise)");
  static_assert(std::is_default_constructible_v<T>, "Queue<T>: T must be default-constructible");
  static_assert(Capacity < 0x80000000u, "Queue<T, Capacity>: capacity too large");
  using Cell = detail::Cell<T>;
  using RingT = detail::Ring<static_cast<uint32_t>(Capacity), static_cast<uint32_t>(sizeof(Cell))>;

 public:
  using value_type = T;

  // Queue<T, N>(): a queue of N cells (Capacity > 0 only).
  Queue() noexcept
    requires(Capacity > 0)
  = default;
  // Queue<T>(maxsize): construct only in bytes_for(maxsize) bytes (see create_at()).
  explicit Queue(uint32_t maxsize)
    requires(Capacity == 0)
      : ring_(maxsize, static_cast<uint32_t>(sizeof(Cell))) {
    if (maxsize == 0 || maxsize >= 0x80000000u) throw std::invalid_argument("Queue: maxsize must be in 1..2^31-1");
    char* c = cells();
    for (uint32_t i = 0; i < maxsize; ++i) ::new (c + i * sizeof(Cell)) Cell();
  }
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // Queue<T>::bytes_for(maxsize): the bytes a Queue<T> of maxsize cells occupies.
  static constexpr std::size_t bytes_for(uint32_t maxsize) noexcept
    requires(Capacity == 0)
  {
    return sizeof(Queue) + std::size_t{maxsize} * sizeof(Cell);
  }
  // Queue<T>::create_at(mem, maxsize): constructs one in mem (bytes_for(maxsize) bytes, 64-aligned).
  static Queue* create_at(void* mem, uint32_t maxsize)
    requires(Capacity == 0)
  {
    return ::new (mem) Queue(maxsize);
  }

  // Queue::put(v): blocks while full. Throws queue_closed if the queue is or gets closed.
  void put(const T& v) { (void)put_status(v, kNoDeadline); }
  // Queue::put(v, block, timeout_s): Python's signature: throws queue_full when non-blocking
  // and full, or when timeout_s seconds pass first. kForever (Python's None) waits forever; a
  // timeout <= 0, negative included, is one try that raises queue_full when there is no room
  // (multiprocessing's put() clamps it in its SemLock; queue.Queue would raise ValueError);
  // NaN: std::invalid_argument.
  void put(const T& v, bool block, double timeout_s = kForever) {
    if (!block) return put_nowait(v);
    const deadline until = timeout_deadline(timeout_s);
    if (!put_status(v, until)) throw queue_full("Queue::put(): timed out, the queue is full");
  }
  // Queue::put_nowait(v): throws queue_full when full.
  void put_nowait(const T& v) {
    if (!try_put(v)) throw queue_full("Queue::put_nowait(): the queue is full");
  }
  // Queue::try_put(v): false when full; never blocks.
  bool try_put(const T& v) {
    if (ring_.closed()) throw queue_closed("Queue::put(): the queue is closed");
    if (!ring_.try_put(cells(), fill(v))) return false;
    ring_.after_put();
    return true;
  }
  // Queue::try_put_until(v, deadline)/try_put_for(v, timeout): false at the deadline.
  bool try_put_until(const T& v, deadline until) { return put_status(v, until); }
  template <class Rep, class Period>
  bool try_put_for(const T& v, std::chrono::duration<Rep, Period> timeout) {
    return put_status(v, deadline_after(timeout));
  }

  // Queue::get(): blocks while empty. Throws queue_closed once closed and drained.
  T get() { return *get_status(kNoDeadline); }
  // Queue::get(block, timeout_s): Python's signature: throws queue_empty when non-blocking and
  // empty, or when timeout_s seconds pass first; timeouts as put() (negative: one try that
  // raises queue_empty when there is no item).
  T get(bool block, double timeout_s = kForever) {
    if (!block) return get_nowait();
    const deadline until = timeout_deadline(timeout_s);
    std::optional<T> v = get_status(until);
    if (!v) throw queue_empty("Queue::get(): timed out, the queue is empty");
    return *v;
  }
  // Queue::get_nowait(): throws queue_empty when empty (queue_closed when closed and empty).
  T get_nowait() {
    std::optional<T> v = try_get();
    if (!v) throw queue_empty("Queue::get_nowait(): the queue is empty");
    return *v;
  }
  // Queue::try_get(): nullopt when empty; never blocks. Throws queue_closed when closed and empty.
  std::optional<T> try_get() {
    T out;
    if (ring_.try_get(cells(), drain(out))) {
      ring_.after_get();
      return out;
    }
    if (ring_.closed()) throw queue_closed("Queue::get(): the queue is closed and empty");
    return std::nullopt;
  }
  // Queue::try_get_until(deadline)/try_get_for(timeout): nullopt at the deadline.
  std::optional<T> try_get_until(deadline until) { return get_status(until); }
  template <class Rep, class Period>
  std::optional<T> try_get_for(std::chrono::duration<Rep, Period> timeout) {
    return get_status(deadline_after(timeout));
  }

  // Queue::close(): no more puts; wakes every blocked putter (queue_closed) and getter (which
  // take what is left, then get queue_closed). Irreversible.
  void close() noexcept { ring_.close(); }
  bool closed() const noexcept { return ring_.closed(); }

  // Queue::qsize()/empty()/full(): snapshots. maxsize(): the capacity.
  uint32_t qsize() const noexcept { return ring_.size(); }
  bool empty() const noexcept { return ring_.size() == 0; }
  bool full() const noexcept { return ring_.size() >= ring_.capacity(); }
  uint32_t maxsize() const noexcept { return ring_.capacity(); }
  // Queue::parked_getters()/parked_putters(): processes parked in the kernel (for tests).
  uint32_t parked_getters() const noexcept { return ring_.parked_getters(); }
  uint32_t parked_putters() const noexcept { return ring_.parked_putters(); }

 private:
  static auto fill(const T& v) noexcept {
    return [&v](char* c) { std::memcpy(reinterpret_cast<Cell*>(c)->data, &v, sizeof(T)); };
  }
  static auto drain(T& out) noexcept {
    return [&out](char* c) { std::memcpy(&out, reinterpret_cast<Cell*>(c)->data, sizeof(T)); };
  }
  bool put_status(const T& v, deadline until) {
    switch (ring_.put_until(cells(), fill(v), until)) {
      case detail::ring_status::ok:
        return true;
      case detail::ring_status::timed_out:
        return false;
      case detail::ring_status::closed:
        break;
    }
    throw queue_closed("Queue::put(): the queue is closed");
  }
  std::optional<T> get_status(deadline until) {
    T out;
    switch (ring_.get_until(cells(), drain(out), until)) {
      case detail::ring_status::ok:
        return out;
      case detail::ring_status::timed_out:
        return std::nullopt;
      case detail::ring_status::closed:
        break;
    }
    throw queue_closed("Queue::get(): the queue is closed and empty");
  }
  char* cells() noexcept {
    if constexpr (Capacity > 0)
      return reinterpret_cast<char*>(storage_.cells);
    else
      return reinterpret_cast<char*>(this) + sizeof(Queue);
  }

  RingT ring_;
  detail::CellStorage<T, Capacity> storage_;  // Capacity > 0: the cells; else empty
};

// MessageQueue: a Queue of byte messages of at most max_message bytes each, both sizes chosen at
// run time (Python's Queue carries pickled bytes; here the caller serialises). Cells follow the
// object: allocate bytes_for(maxsize, max_message) bytes and construct with create_at(). The
// semantics, blocking, ordering and errors are Queue's; a message longer than max_message()
// throws std::length_error and is not queued.
class alignas(64) MessageQueue {
 public:
  MessageQueue(uint32_t maxsize, uint32_t max_message);
#ifdef IPCSYNC_MODEL_CHECK
  // The model-check build's atomics are objects Relacy tracks: the cells' end with the queue.
  ~MessageQueue() {
    using Seq = detail::atomic<uint64_t>;
    for (uint32_t i = 0; i < ring_.capacity(); ++i) ring_.seq_of(cells() + std::size_t{i} * ring_.stride()).~Seq();
  }
#endif
  MessageQueue(const MessageQueue&) = delete;
  MessageQueue& operator=(const MessageQueue&) = delete;

  static std::size_t bytes_for(uint32_t maxsize, uint32_t max_message) noexcept {
    return sizeof(MessageQueue) + std::size_t{maxsize} * stride_for(max_message);
  }
  static MessageQueue* create_at(void* mem, uint32_t maxsize, uint32_t max_message) {
    return ::new (mem) MessageQueue(maxsize, max_message);
  }

  // MessageQueue::put(msg)/put(msg, block, timeout_s)/put_nowait(msg)/try_put(msg)/
  // try_put_until(msg, deadline): as Queue's, for a byte string.
  void put(std::string_view msg);
  void put(std::string_view msg, bool block, double timeout_s = kForever);
  void put_nowait(std::string_view msg);
  bool try_put(std::string_view msg);
  bool try_put_until(std::string_view msg, deadline until);

  // MessageQueue::get()/get(block, timeout_s)/get_nowait()/try_get()/try_get_until(deadline):
  // as Queue's, returning the message.
  std::string get();
  std::string get(bool block, double timeout_s = kForever);
  std::string get_nowait();
  std::optional<std::string> try_get();
  std::optional<std::string> try_get_until(deadline until);
  // MessageQueue::get_into(buf, cap): as get(), copying into buf (cap must be at least
  // max_message(), else std::length_error before anything is taken); returns the length.
  std::size_t get_into(void* buf, std::size_t cap);

  void close() noexcept { ring_.close(); }
  bool closed() const noexcept { return ring_.closed(); }
  uint32_t qsize() const noexcept { return ring_.size(); }
  bool empty() const noexcept { return ring_.size() == 0; }
  bool full() const noexcept { return ring_.size() >= ring_.capacity(); }
  uint32_t maxsize() const noexcept { return ring_.capacity(); }
  uint32_t max_message() const noexcept { return max_message_; }

 private:
  // A cell: the sequence (detail::atomic<uint64_t>: 8 bytes, bigger in the model-check build),
  // the length (4) at kLengthAt, padding to 8, then the message at kHeader (16 in real builds).
  static constexpr std::size_t kLengthAt = sizeof(detail::atomic<uint64_t>);
  static constexpr std::size_t kHeader = (kLengthAt + sizeof(uint32_t) + 7) / 8 * 8;
  static constexpr uint32_t stride_for(uint32_t max_message) noexcept {
    return static_cast<uint32_t>((kHeader + max_message + 7) / 8 * 8);
  }
  char* cells() noexcept { return reinterpret_cast<char*>(this) + sizeof(MessageQueue); }
  detail::ring_status put_status(std::string_view msg, deadline until);
  detail::ring_status get_status(std::string* out, void* buf, std::size_t* len, deadline until);

  detail::Ring<0, 0> ring_;
  uint32_t max_message_ = 0;
};

#ifndef IPCSYNC_MODEL_CHECK  // the model build's atomics are Relacy's, not 4 bytes
static_assert(std::is_standard_layout_v<Queue<uint64_t, 8>> && std::is_standard_layout_v<Queue<uint64_t>>);
static_assert(alignof(Queue<uint64_t>) == 64 && sizeof(Queue<uint64_t>) % 64 == 0);
static_assert(std::is_standard_layout_v<MessageQueue>);
#endif

}  // namespace ipcsync
