// generic.hpp — the roles the posix and boost backends build on a mutex and a condition
// variable, written once against a small protocol and instantiated by each backend.
//
//   generic::Lock<M>              -> a mutex M plus the owner's id (owner(), locked(),
//                                    is_owned(), owner_died(); what Condition checks)
//   generic::RLock<M>             -> a recursive mutex M plus owner and depth
//   generic::BoundedSemaphore<S>  -> a counting semaphore S plus a shadow count that enforces
//                                    the bound (neither sem_t nor interprocess_semaphore has one)
//   generic::Condition<C, L>      -> a condition variable C bound to an L (embedded or external)
//   generic::Event<M, C>          -> flag + set generation under M, waiters sleep on C
//   generic::Barrier<M, C>        -> a generation barrier under M with abort/reset/timeouts
//
// The protocol (posix.hpp and boost.hpp implement it):
//   M (a mutex, process-shared): int lock(); int try_lock(); int lock_until(deadline);
//     void unlock(). The int is kOk, kOwnerDied (acquired from a holder that died; the mutex
//     was made consistent again), kBusy or kTimedOut.
//   C (a condition variable, process-shared): int wait_until(M&, deadline) — releases M held
//     once, waits for signal()/broadcast() or the deadline, re-acquires M; returns kOk (woken,
//     possibly spuriously), kTimedOut or kOwnerDied (M is held in every case). void signal(),
//     void broadcast().
// Objects built from them live in place in a shared mapping, constructed before fork (or in a
// NamedSegment). They are trivially destructible on purpose: pthread mutexes and condition
// variables own no kernel resources, the object ends with its mapping, and
// pthread_cond_destroy() waits for waiters to leave — forever, if one was killed inside wait().
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "backends/timeout.hpp"
#include "ipcsync/errors.hpp"
#include "ipcsync/futex.hpp"

namespace ipcsync::generic {

using backend::deadline_in;
using backend::kForever;

inline constexpr int kOk = 0;
inline constexpr int kOwnerDied = EOWNERDEAD;
inline constexpr int kTimedOut = ETIMEDOUT;
inline constexpr int kBusy = EBUSY;
inline constexpr bool acquired(int rc) noexcept { return rc == kOk || rc == kOwnerDied; }

// Held<M>: holds M for a scope; rc is lock()'s result (kOk or kOwnerDied).
template <class M>
class Held {
 public:
  explicit Held(M& m) : m_(m), rc(m.lock()) {}
  ~Held() { m_.unlock(); }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;

 private:
  M& m_;

 public:
  const int rc;
};

// ---------------------------------------------------------------------------------------------
// generic::Lock<M> — a non-recursive lock on the mutex M, recording its holder.
//
// State: the mutex and `owner_`, the kernel tid of the holding thread (0 when unlocked), written
// by the holder after it acquires and before it releases; `died_` while the holding was taken
// over from a holder that died (M robust only); `recoveries_` counts such take-overs.
//
//   state      | acquire()                     | try_acquire() | release() by holder | release() by another
//   -----------+-------------------------------+---------------+---------------------+---------------------
//   unlocked   | -> locked, true               | true, locked  | throws over_release | throws over_release
//   locked     | blocks in M; true once it has | false         | -> unlocked         | throws not_owner
//              | it, false at the deadline     |               |                     |
// Unlike Python's Lock (and ipcsync::Lock), only the holder may release: a pthread mutex
// released by another thread is undefined, so it is refused instead.
// Memory ordering: M's: X's writes before release() are visible to Y after Y's acquire().
// Condition hooks: wait_mutex(), prepare_wait(), finish_wait() let a generic::Condition release
//   and re-acquire the lock inside the condition variable's wait while keeping owner_ right.
template <class M>
class alignas(64) Lock {
 public:
  using mutex_type = M;

  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // Lock::acquire()/try_acquire()/acquire_until()/acquire_for(): true once held; false when
  // busy (try) or at the deadline.
  bool acquire() { return took(m_.lock()); }
  bool try_acquire() { return took(m_.try_lock()); }
  bool acquire_until(deadline until) { return took(until == kNoDeadline ? m_.lock() : m_.lock_until(until)); }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(deadline_after(timeout));
  }
  // acquire(blocking, timeout_s): Python's signature (timeout.hpp: negative polls, NaN throws
  // std::invalid_argument, huge or +inf waits forever; blocking=false ignores the timeout).
  bool acquire(bool blocking, double timeout_s = kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(deadline_in(timeout_s));
  }

  // Lock::release(): unlocks. Throws over_release when unlocked, not_owner when another thread
  // holds it.
  void release() {
    const uint32_t o = owner_.load(std::memory_order_relaxed);
    if (o == 0) throw over_release("Lock::release(): lock is not acquired");
    if (o != ipcsync::detail::self_id())
      throw not_owner("Lock::release(): held by another thread (a pthread mutex is released by its holder only)");
    died_.store(0, std::memory_order_relaxed);
    owner_.store(0, std::memory_order_relaxed);
    m_.unlock();
  }

  // Lock::locked()/owner()/is_owned(): snapshots of the holder (0: unlocked).
  bool locked() const noexcept { return owner_.load(std::memory_order_relaxed) != 0; }
  uint32_t owner() const noexcept { return owner_.load(std::memory_order_relaxed); }
  bool is_owned() const noexcept { return owner_.load(std::memory_order_relaxed) == ipcsync::detail::self_id(); }
  // Lock::owner_died(): true while the current holding was taken over from a holder that died
  // (EOWNERDEAD: the protected state may be half-updated); cleared by release().
  bool owner_died() const noexcept { return died_.load(std::memory_order_relaxed) != 0; }
  // Lock::recoveries(): take-overs from dead holders, ever.
  uint32_t recoveries() const noexcept { return recoveries_.load(std::memory_order_relaxed); }

  // Lockable / TimedLockable spelling.
  void lock() { acquire(); }
  bool try_lock() { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_for(timeout);
  }
  template <class Clock, class Duration>
  bool try_lock_until(std::chrono::time_point<Clock, Duration> t) {
    return acquire_for(t - Clock::now());
  }

  // Condition hooks: the mutex to wait with; prepare_wait() before the wait (which releases
  // it), finish_wait() after it (the mutex is held again).
  M& wait_mutex() noexcept { return m_; }
  uint32_t prepare_wait() noexcept {
    owner_.store(0, std::memory_order_relaxed);
    return 1;
  }
  void finish_wait(uint32_t, int rc) noexcept { mark_held(rc); }

 private:
  bool took(int rc) noexcept {
    if (!acquired(rc)) return false;
    mark_held(rc);
    return true;
  }
  void mark_held(int rc) noexcept {
    if (rc == kOwnerDied) {
      died_.store(1, std::memory_order_relaxed);
      recoveries_.fetch_add(1, std::memory_order_relaxed);
    }
    owner_.store(ipcsync::detail::self_id(), std::memory_order_relaxed);
  }

  M m_;
  std::atomic<uint32_t> owner_{0};
  std::atomic<uint32_t> died_{0};
  std::atomic<uint32_t> recoveries_{0};
};

// ---------------------------------------------------------------------------------------------
// generic::RLock<M> — a reentrant lock on the recursive mutex M (multiprocessing.RLock).
//
// State: the mutex (which counts the owner's levels itself), and beside it `owner_` and
// `depth_`, written by the owner only, so depth()/is_owned() and Condition's full release need
// no guessing at the mutex's internals; `died_` while the holding was taken over from an owner
// that died (M robust only).
//
//   state              | acquire() by owner | acquire() by other         | release() by owner    | release() by other
//   -------------------+--------------------+----------------------------+-----------------------+-------------------
//   unlocked           | -> held, depth 1   | -> held, depth 1           | throws not_owner      | throws not_owner
//   held, depth d      | depth d+1          | blocks in M; true once it  | depth d-1; at 0:      | throws not_owner
//                      |                    | has it, false at deadline  | unlocked              |
//   held, owner dead   | —                  | takes it over (robust M):  | —                     | throws not_owner
//                      |                    | depth 1, owner_died() true |                       |
// Memory ordering: M's: X's writes before its final release() are visible to Y after Y's
//   acquire().
template <class M>
class alignas(64) RLock {
 public:
  using mutex_type = M;

  RLock() : m_(M::kRecursive) {}
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  // RLock::acquire()/try_acquire()/acquire_until()/acquire_for(): take or re-enter the lock.
  bool acquire() { return took(m_.lock()); }
  bool try_acquire() { return took(m_.try_lock()); }
  bool acquire_until(deadline until) { return took(until == kNoDeadline ? m_.lock() : m_.lock_until(until)); }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(deadline_after(timeout));
  }
  // acquire(blocking, timeout_s): Python's signature (timeout.hpp: negative polls, NaN throws
  // std::invalid_argument, huge or +inf waits forever; blocking=false ignores the timeout).
  bool acquire(bool blocking, double timeout_s = kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(deadline_in(timeout_s));
  }

  // RLock::release(): drops one level; at depth 0 unlocks. Throws not_owner when the calling
  // thread does not own the lock (Python: RuntimeError).
  void release() {
    if (!is_owned()) throw not_owner("RLock::release(): the calling thread does not own the lock");
    const uint32_t d = depth_.load(std::memory_order_relaxed);
    if (d > 1) {
      depth_.store(d - 1, std::memory_order_relaxed);
    } else {
      depth_.store(0, std::memory_order_relaxed);
      died_.store(0, std::memory_order_relaxed);
      owner_.store(0, std::memory_order_relaxed);
    }
    m_.unlock();
  }

  // RLock::locked()/owner()/depth()/is_owned(): snapshots.
  bool locked() const noexcept { return owner_.load(std::memory_order_relaxed) != 0; }
  uint32_t owner() const noexcept { return owner_.load(std::memory_order_relaxed); }
  uint32_t depth() const noexcept { return depth_.load(std::memory_order_relaxed); }
  bool is_owned() const noexcept { return owner_.load(std::memory_order_relaxed) == ipcsync::detail::self_id(); }
  // RLock::owner_died(): true while the caller's holding was taken over from a dead owner.
  bool owner_died() const noexcept { return is_owned() && died_.load(std::memory_order_relaxed) != 0; }
  // RLock::recoveries(): take-overs from dead owners, ever.
  uint32_t recoveries() const noexcept { return recoveries_.load(std::memory_order_relaxed); }

  // Lockable / TimedLockable spelling.
  void lock() { acquire(); }
  bool try_lock() { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_for(timeout);
  }
  template <class Clock, class Duration>
  bool try_lock_until(std::chrono::time_point<Clock, Duration> t) {
    return acquire_for(t - Clock::now());
  }

  // Condition hooks: a condition variable releases a recursive mutex by one level only, so
  // prepare_wait() drops the other depth-1 levels first and finish_wait() takes them back.
  M& wait_mutex() noexcept { return m_; }
  uint32_t prepare_wait() {
    const uint32_t d = depth_.load(std::memory_order_relaxed);
    depth_.store(0, std::memory_order_relaxed);
    owner_.store(0, std::memory_order_relaxed);
    for (uint32_t i = 1; i < d; ++i) m_.unlock();
    return d;
  }
  void finish_wait(uint32_t d, int rc) {
    for (uint32_t i = 1; i < d; ++i) m_.lock();  // we hold it: immediate
    if (rc == kOwnerDied) {
      died_.store(1, std::memory_order_relaxed);
      recoveries_.fetch_add(1, std::memory_order_relaxed);
    }
    owner_.store(ipcsync::detail::self_id(), std::memory_order_relaxed);
    depth_.store(d, std::memory_order_relaxed);
  }

 private:
  bool took(int rc) {
    if (!acquired(rc)) return false;
    const uint32_t self = ipcsync::detail::self_id();
    if (rc == kOwnerDied) {  // the mutex restarted our count at 1
      died_.store(1, std::memory_order_relaxed);
      recoveries_.fetch_add(1, std::memory_order_relaxed);
      depth_.store(1, std::memory_order_relaxed);
    } else if (owner_.load(std::memory_order_relaxed) == self) {
      depth_.store(depth_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    } else {
      depth_.store(1, std::memory_order_relaxed);
    }
    owner_.store(self, std::memory_order_relaxed);
    return true;
  }

  M m_;
  std::atomic<uint32_t> owner_{0};
  std::atomic<uint32_t> depth_{0};
  std::atomic<uint32_t> died_{0};
  std::atomic<uint32_t> recoveries_{0};
};

// ---------------------------------------------------------------------------------------------
// generic::BoundedSemaphore<S> — a counting semaphore S that refuses to be released above its
// initial value (multiprocessing.BoundedSemaphore), built on top: sem_t and
// interprocess_semaphore have no bound.
//
// State: S, the bound, and `avail_`, a shadow of S's count that is never below it: a release
// raises avail_ (by CAS, refusing past the bound) *before* posting to S, an acquire lowers it
// *after* taking from S. So avail_ + k <= bound implies S's count + k <= bound: no interleaving
// of releases pushes S above the bound. A legitimate release (by a process that holds a
// permit) is never refused, since avail_ exceeds S's count only by the permits other
// processes are taking right now. A refused release throws over_release and changes nothing.
// Costs one more atomic read-modify-write per acquire and per release than S.
// Memory ordering: S's: X's writes before release() are visible to Y once a Y's acquire()
//   that took one of the released permits returns true.
template <class S>
class alignas(64) BoundedSemaphore {
 public:
  explicit BoundedSemaphore(uint32_t value = 1) : sem_(value), avail_(value), bound_(value) {}
  BoundedSemaphore(const BoundedSemaphore&) = delete;
  BoundedSemaphore& operator=(const BoundedSemaphore&) = delete;

  // BoundedSemaphore::acquire()/try_acquire()/acquire_until()/acquire_for(): as S.
  bool acquire() { return took(sem_.acquire()); }
  bool try_acquire() { return took(sem_.try_acquire()); }
  bool acquire_until(deadline until) { return took(sem_.acquire_until(until)); }
  template <class Rep, class Period>
  bool acquire_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(deadline_after(timeout));
  }
  // acquire(blocking, timeout_s): Python's signature (timeout.hpp: negative polls, NaN throws
  // std::invalid_argument, huge or +inf waits forever; blocking=false ignores the timeout).
  bool acquire(bool blocking, double timeout_s = kForever) {
    if (!blocking) return try_acquire();
    return acquire_until(deadline_in(timeout_s));
  }

  // BoundedSemaphore::release(k): adds k permits. Throws over_release (changing nothing) when
  // the count would exceed the bound, std::invalid_argument when k < 1.
  void release(uint32_t k = 1) {
    if (k < 1) throw std::invalid_argument("BoundedSemaphore::release(k): k must be at least 1");
    uint32_t v = avail_.load(std::memory_order_relaxed);
    do {
      if (k > bound_ || v > bound_ - k)
        throw over_release("BoundedSemaphore::release(): released too many times (count would exceed " +
                           std::to_string(bound_) + ")");
    } while (!avail_.compare_exchange_weak(v, v + k, std::memory_order_acq_rel, std::memory_order_relaxed));
    sem_.release(k);
  }

  // BoundedSemaphore::value(): permits available now (S's count where S reports it, else the
  // shadow count; exact when nobody is mid-acquire). bound(): the initial value.
  uint32_t value() {
    if constexpr (requires { sem_.value(); })
      return sem_.value();
    else
      return avail_.load(std::memory_order_relaxed);
  }
  uint32_t bound() const noexcept { return bound_; }

  // Lockable spelling.
  void lock() { acquire(); }
  bool try_lock() { return try_acquire(); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_for(timeout);
  }

 private:
  bool took(bool got) noexcept {
    if (got) avail_.fetch_sub(1, std::memory_order_acq_rel);
    return got;
  }

  S sem_;
  alignas(64) std::atomic<uint32_t> avail_;  // >= S's count, <= bound_
  uint32_t bound_;                           // read-only after construction
};

// ---------------------------------------------------------------------------------------------
// generic::Condition<C, L> — a condition variable C bound to a lock L (a generic::Lock or
// generic::RLock whose mutex C can wait with), multiprocessing.Condition's semantics.
//
// State: its own L (used when no lock is given), C, the number of registered waiters, the
// pending notifications ("tokens") and a notify sequence (all changed under the lock), and the
// link to an external lock as a self-relative byte offset (never a pointer), so an external
// lock must live in the same mapping.
//
//   caller holds the lock? | wait(timeout)                               | notify(n) / notify_all()
//   -----------------------+---------------------------------------------+---------------------------
//   yes                    | releases it (an RLock at any depth: all of  | grants up to n tokens to
//                          | it), blocks until it takes a token or the   | the waiters not yet granted
//                          | deadline, re-acquires it (restoring the     | one and wakes them (signal
//                          | depth); true, false on timeout              | per token, or broadcast);
//                          |                                             | none waiting: a no-op
//   no                     | throws not_owner                            | throws not_owner
// notify(n) makes at most n wait()s return true, as Python promises: a wait() returns true only
// by taking a token, and only a waiter registered before that notify() may take it. A spurious
// wake-up of C (pthread_cond_wait may return without a signal, e.g. after a signal handler
// ran) takes no token and waits again, so it never turns into a true return.
// Memory ordering: for processes X and Y, X's writes before notify() (and before its release of
//   the lock) are visible to Y once Y's wait() returns — Y re-acquired the lock X released.
// Owner death (robust mutex only): a holder dying while others wait hands the lock to the next
//   waiter with get_lock().owner_died() true.
template <class C, class L>
class alignas(64) Condition {
 public:
  using lock_type = L;

  // Condition(): uses its own lock. Condition(lock): uses `lock`, in the same mapping.
  Condition() = default;
  explicit Condition(L& lock) noexcept
      : lock_off_(reinterpret_cast<const char*>(&lock) - reinterpret_cast<const char*>(this)) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // Condition::get_lock(): the lock this Condition uses.
  L& get_lock() noexcept {
    return lock_off_ == 0 ? own_ : *reinterpret_cast<L*>(reinterpret_cast<char*>(this) + lock_off_);
  }

  // Condition::acquire()/release()/try_acquire()/acquire_until(), lock()/unlock()/try_lock():
  // the lock's, so `std::scoped_lock g(cond)` is Python's `with cond:`.
  bool acquire() { return get_lock().acquire(); }
  bool try_acquire() { return get_lock().try_acquire(); }
  bool acquire_until(deadline until) { return get_lock().acquire_until(until); }
  void release() { get_lock().release(); }
  void lock() { acquire(); }
  bool try_lock() { return try_acquire(); }
  void unlock() { release(); }

  // Condition::wait()/wait(timeout_s)/wait_until()/wait_for(): releases the lock, blocks until
  // notified or the deadline, re-acquires it; false when the deadline passed. Throws not_owner
  // if the caller does not hold the lock.
  bool wait() { return wait_until(kNoDeadline); }
  // wait(timeout_s): Python's signature (timeout.hpp: negative polls, NaN throws).
  bool wait(double timeout_s) { return wait_until(deadline_in(timeout_s)); }
  bool wait_until(deadline until) {
    L& l = get_lock();
    require_owned(l, "Condition::wait()");
    waiters_.fetch_add(1, std::memory_order_relaxed);
    const uint16_t seq = seq_;  // notifications before this one are not ours
    const uint32_t saved = l.prepare_wait();
    bool got = false;
    int died = kOk;  // kOwnerDied once a re-acquisition took the mutex from a dead holder
    for (;;) {
      const int rc = c_.wait_until(l.wait_mutex(), until);
      if (rc == kOwnerDied) died = kOwnerDied;
      if (seq_ != seq && pending_ > 0) {  // notified (even if the deadline passed meanwhile)
        --pending_;
        got = true;
        break;
      }
      if (rc == kTimedOut) break;
      // A wake-up without a token for us: spurious, or a token another waiter took. Wait again.
    }
    l.finish_wait(saved, died);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    return got;
  }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(deadline_after(timeout));
  }

  // Condition::wait(pred)/wait_until(deadline, pred)/wait_for(timeout, pred): Python's
  // wait_for(predicate[, timeout]): pred()'s last value, false only if still false at the end.
  template <class Pred>
    requires std::is_invocable_r_v<bool, Pred&>
  bool wait(Pred pred) {
    while (!pred()) wait();
    return true;
  }
  template <class Pred>
  bool wait_until(deadline until, Pred pred) {
    while (!pred())
      if (!wait_until(until)) return pred();
    return true;
  }
  template <class Rep, class Period, class Pred>
  bool wait_for(std::chrono::duration<Rep, Period> timeout, Pred pred) {
    return wait_until(deadline_after(timeout), std::move(pred));
  }

  // Condition::notify(n)/notify_all(): wakes up to n / every waiter. Throws not_owner if the
  // caller does not hold the lock.
  void notify(int n = 1) {
    require_owned(get_lock(), "Condition::notify()");
    const uint32_t w = waiters_.load(std::memory_order_relaxed);
    if (n <= 0 || w <= pending_) return;  // nobody waiting without a token already
    uint32_t k = std::min<uint32_t>(static_cast<uint32_t>(n), w - pending_);
    k = std::min<uint32_t>(k, 0xffffu - pending_);
    pending_ = static_cast<uint16_t>(pending_ + k);
    ++seq_;
    if (pending_ >= w) {
      c_.broadcast();
    } else {
      for (uint32_t i = 0; i < k; ++i) c_.signal();
    }
  }
  void notify_all() { notify(kWakeAll); }

  // Condition::waiters(): registered waiters (a snapshot, for tests).
  uint32_t waiters() const noexcept { return waiters_.load(std::memory_order_relaxed); }

 private:
  static void require_owned(L& l, const char* what) {
    if (!l.is_owned()) throw not_owner(std::string(what) + ": the calling thread does not hold the lock");
  }

  L own_;                              // used when lock_off_ == 0
  C c_;
  std::atomic<uint32_t> waiters_{0};   // changed under the lock
  uint16_t pending_ = 0;               // tokens granted by notify() not yet taken (under the lock)
  uint16_t seq_ = 0;                   // bumped by every notify() that grants tokens (under the lock)
  std::ptrdiff_t lock_off_ = 0;        // 0: own_; else &lock - this, in bytes
};

// ---------------------------------------------------------------------------------------------
// generic::Event<M, C> — a flag processes can wait on (multiprocessing.Event), as a C
// programmer builds it: a mutex, a condition variable and the flag.
//
// State: one word — bit 0 the flag, bits 1..31 the set generation (bumped by every unset -> set
// transition, so a waiter released by a set() that a clear() undid before it ran still returns
// true, as in Python) — written under M, readable without it; the waiter count (under M).
//
//   state  | set()                               | clear()  | wait(timeout)
//   -------+-------------------------------------+----------+---------------------------------------
//   unset  | -> set, generation+1, broadcast to  | no-op    | blocks on C until a set() (true) or
//          | the waiters                         |          | the deadline (false)
//   set    | no-op                               | -> unset | true at once (no lock taken)
// Memory ordering: for processes X and Y, X's writes before set() are visible to Y once Y's
//   wait() or is_set() returns true.
template <class M, class C>
class alignas(64) Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Event::is_set(): whether the flag is set now (one load).
  bool is_set() const noexcept { return (state_.load(std::memory_order_acquire) & kSet) != 0; }

  // Event::set(): sets the flag and wakes every waiter.
  void set() {
    Held<M> g(m_);
    const uint32_t v = state_.load(std::memory_order_relaxed);
    if (v & kSet) return;
    state_.store((v + 2) | kSet, std::memory_order_release);
    if (waiters_.load(std::memory_order_relaxed) != 0) c_.broadcast();
  }
  // Event::clear(): resets the flag.
  void clear() {
    Held<M> g(m_);
    state_.store(state_.load(std::memory_order_relaxed) & ~kSet, std::memory_order_relaxed);
  }

  // Event::wait()/wait(timeout_s)/wait_until()/wait_for(): true when set before or during the
  // wait, false at the deadline.
  bool wait() { return wait_until(kNoDeadline); }
  // wait(timeout_s): Python's signature (timeout.hpp: negative polls, NaN throws).
  bool wait(double timeout_s) { return wait_until(deadline_in(timeout_s)); }
  bool wait_until(deadline until) {
    if (is_set()) return true;
    Held<M> g(m_);
    const uint32_t s0 = state_.load(std::memory_order_relaxed);
    if (s0 & kSet) return true;
    waiters_.fetch_add(1, std::memory_order_relaxed);
    while (state_.load(std::memory_order_relaxed) == s0)
      if (c_.wait_until(m_, until) == kTimedOut) break;
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    return state_.load(std::memory_order_relaxed) != s0;  // only a set() moves an unset word
  }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(deadline_after(timeout));
  }

  // Event::waiters(): processes blocked in wait() (a snapshot, for tests).
  uint32_t waiters() const noexcept { return waiters_.load(std::memory_order_relaxed); }

 private:
  static constexpr uint32_t kSet = 1;
  M m_;
  C c_;
  std::atomic<uint32_t> state_{0};    // bit 0: set; bits 1..31: set generation (written under m_)
  std::atomic<uint32_t> waiters_{0};  // under m_
};

// ---------------------------------------------------------------------------------------------
// generic::Barrier<M, C> — a reusable rendezvous of `parties` processes
// (multiprocessing.Barrier) as a generation barrier under a mutex and a condition variable.
//
// State (all under M): the arrivals of the current round, its generation, a broken flag, and
// the count of completed rounds. A waiter's round completed exactly when that count moved
// since it arrived: no later round can complete without it. (A record of the last 64 rounds
// reset, kept before, misread a completed round after 64 resets while a party was stopped.) wait() returns the arrival index
// 0..parties-1; the last arrival runs the action *while holding M* (as Python does), then
// starts the next generation and broadcasts.
//
//   state          | wait()                                   | abort()            | reset()
//   ---------------+------------------------------------------+--------------------+------------------------
//   filling        | arrival k: blocks on C until the round   | -> broken; waiters | -> next generation,
//                  | completes (returns k) or breaks (throws  | throw              | empty; waiters throw
//                  | broken_barrier); the deadline passing    | broken_barrier     | broken_barrier
//                  | breaks the barrier (as Python)           |                    |
//   last arrival   | runs the action, completes the round     | waits for M: the round completes first
//   broken         | throws broken_barrier                    | no-op              | -> next generation, empty
// An action that throws breaks the barrier; its exception reaches the last arrival.
// The action: Barrier(parties, action) stores a plain function pointer — valid only in the
//   constructing process and its fork children (same executable image, same addresses); the
//   position-independent way is wait(action), which runs `action` if this arrival is last.
// Memory ordering: for processes X and Y of one round, X's writes before its wait() are
//   visible to Y after Y's wait() returns (and to the action).
// Owner death (robust mutex only): a process dying while holding M breaks the barrier (the
//   round's state may be half-updated); a party that dies before arriving leaves the others
//   waiting (as in Python) until a timeout breaks it.
template <class M, class C>
class alignas(64) Barrier {
 public:
  using action_fn = void (*)();

  explicit Barrier(uint32_t parties, action_fn action = nullptr) : parties_(parties), action_(action) {
    if (parties < 1) throw std::invalid_argument("Barrier: parties must be at least 1");
  }
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Barrier::wait()/wait(timeout_s)/wait_until()/wait_for(): arrives and blocks until all
  // parties have; returns the arrival index. Throws broken_barrier if the barrier is or becomes
  // broken (abort(), reset(), a timeout — which breaks it for everyone).
  uint32_t wait() { return wait_until(kNoDeadline, NoAction{}); }
  // wait(timeout_s): Python's signature (timeout.hpp): a negative timeout does not wait — it
  // breaks the barrier unless this arrival completes the round, as threading.Barrier does.
  uint32_t wait(double timeout_s) { return wait_until(deadline_in(timeout_s)); }
  uint32_t wait_until(deadline until) { return wait_until(until, NoAction{}); }
  template <class Rep, class Period>
  uint32_t wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(deadline_after(timeout), NoAction{});
  }
  // Barrier::wait(action)/wait_until(deadline, action): the last arrival runs action() instead
  // of the stored action.
  template <class F>
    requires std::is_invocable_v<F&>
  uint32_t wait(F&& action) {
    return wait_until(kNoDeadline, std::forward<F>(action));
  }
  template <class F>
  uint32_t wait_until(deadline until, F&& action) {
    Held<M> g(m_);
    if (g.rc == kOwnerDied) break_locked();
    if (broken_.load(std::memory_order_relaxed)) throw broken_barrier("Barrier::wait(): the barrier is broken");
    const uint64_t gen = gen_.load(std::memory_order_relaxed);
    const uint64_t completed = completions_;
    const uint32_t index = count_.load(std::memory_order_relaxed);
    count_.store(index + 1, std::memory_order_relaxed);
    if (index + 1 == parties_) {
      try {
        if constexpr (std::is_same_v<std::decay_t<F>, NoAction>) {
          if (action_) action_();
        } else {
          action();
        }
      } catch (...) {
        break_locked();
        throw;
      }
      count_.store(0, std::memory_order_relaxed);
      ++completions_;
      gen_.store(gen + 1, std::memory_order_relaxed);
      c_.broadcast();
      return index;
    }
    for (;;) {
      const int rc = c_.wait_until(m_, until);
      if (rc == kOwnerDied) break_locked();
      if (gen_.load(std::memory_order_relaxed) != gen) {
        if (completions_ == completed) throw broken_barrier("Barrier::wait(): the barrier was reset");
        return index;
      }
      if (!broken_.load(std::memory_order_relaxed) && rc == kTimedOut) {
        break_locked();
        leave();
        throw broken_barrier("Barrier::wait(): timed out (the barrier is now broken)");
      }
      if (broken_.load(std::memory_order_relaxed)) {
        leave();
        throw broken_barrier("Barrier::wait(): the barrier was broken while waiting");
      }
    }
  }

  // Barrier::abort(): breaks the barrier; current and future wait()s throw until reset().
  void abort() {
    Held<M> g(m_);
    break_locked();
  }
  // Barrier::reset(): back to empty and unbroken, in a new generation; processes waiting in
  // the current round wake with broken_barrier.
  void reset() {
    Held<M> g(m_);
    const uint64_t gen = gen_.load(std::memory_order_relaxed);
    broken_.store(0, std::memory_order_relaxed);
    count_.store(0, std::memory_order_relaxed);
    gen_.store(gen + 1, std::memory_order_relaxed);
    c_.broadcast();
  }

  // Barrier::parties()/n_waiting()/broken()/generation(): the round size; snapshots of the
  // processes waiting in the current round, the broken flag, completed or reset rounds.
  uint32_t parties() const noexcept { return parties_; }
  uint32_t n_waiting() const noexcept {
    return broken_.load(std::memory_order_relaxed) ? 0 : count_.load(std::memory_order_relaxed);
  }
  bool broken() const noexcept { return broken_.load(std::memory_order_relaxed) != 0; }
  uint32_t generation() const noexcept { return static_cast<uint32_t>(gen_.load(std::memory_order_relaxed)); }

 private:
  struct NoAction {
    void operator()() const noexcept {}
  };
  void break_locked() {
    broken_.store(1, std::memory_order_relaxed);
    c_.broadcast();
  }
  void leave() noexcept {  // a waiter of the (broken) current round leaves it
    const uint32_t c = count_.load(std::memory_order_relaxed);
    if (c > 0) count_.store(c - 1, std::memory_order_relaxed);
  }

  const uint32_t parties_;
  action_fn action_;
  M m_;
  C c_;
  std::atomic<uint32_t> count_{0};   // arrivals in the current round
  std::atomic<uint32_t> broken_{0};
  std::atomic<uint64_t> gen_{0};     // completed or reset rounds
  uint64_t completions_ = 0;          // rounds completed (not reset or broken)
};

}  // namespace ipcsync::generic
