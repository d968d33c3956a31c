// value.hpp — Value<T>: one shared value with the Lock that guards it (multiprocessing.Value),
// and AtomicValue<T>, the lock-free variant (the guide's Value(..., lock=False) made safe).
//
// State: Value<T> holds a Lock (lock.hpp) and a T on its own cache line. AtomicValue<T> holds
// only the T, accessed through atomic operations.
//
// Value<T> is Python's synchronized Value with one deliberate difference: Python's get_lock()
// is an RLock and `.value` re-acquires it on every access, so `with v.get_lock(): v.value += 1`
// works by reentrancy. Here load() and store() never take the lock — they are single atomic
// accesses when T fits a lock-free atomic (std::atomic_ref<T>), so they are safe to call while
// holding get_lock() and the guide's pattern reads
//     { std::scoped_lock g(v.get_lock()); v.store(v.load() + 1); }
// A read-modify-write needs the lock (or fetch_add()); update(f) is that pattern in one call.
// For a T that is not lock-free (a large struct), use ref() only while holding get_lock(), or
// the locked snapshot()/assign().
//
//   operation       | takes the lock | atomic                | T
//   ----------------+----------------+-----------------------+------------------------------
//   load()/store()  | no             | yes                   | lock-free T only
//   fetch_add(d)    | no             | yes (one RMW)         | lock-free arithmetic T
//   update(f)       | yes            | as a critical section | any
//   snapshot()/     | yes            | as a critical section | any
//   assign(v)       |                |                       |
//   ref()           | no (hold it)   | no                    | any
//
// Process-shared: yes. Valid when zero-filled (T's zero bits, unlocked). No pointers.
// Layout: standard-layout, alignas(64): Value is the Lock's line plus T's (rounded to 64), so
//   the lock and the data do not false-share with neighbours; AtomicValue is T's line.
// Blocking: only get_lock(), update(), snapshot() and assign() block (Lock's protocol).
// Memory ordering: for processes X and Y, X's writes before releasing get_lock() are visible to Y
//   after Y acquires it; load()/store()/fetch_add() take a std::memory_order (seq_cst by default).
// Owner death: as Lock (lock.hpp).
#pragma once

#include <atomic>
#include <mutex>
#include <type_traits>

#include "ipcsync/lock.hpp"

namespace ipcsync {

namespace detail {
template <class T>
inline constexpr bool lock_free_v = std::atomic_ref<T>::is_always_lock_free;
template <class T>
inline constexpr std::size_t value_align = alignof(T) > std::atomic_ref<T>::required_alignment
                                               ? alignof(T)
                                               : std::atomic_ref<T>::required_alignment;
}  // namespace detail

template <class T>
class alignas(64) Value {
  static_assert(std::is_trivially_copyable_v<T>, "Value<T>: T must be trivially copyable");

 public:
  using value_type = T;

  Value() noexcept(std::is_nothrow_default_constructible_v<T>) : v_{} {}
  explicit Value(const T& v) noexcept : v_(v) {}
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  // Value::get_lock(): the Lock that guards this value (Python's get_lock()).
  Lock& get_lock() noexcept { return lock_; }

  // Value::load()/store(): one atomic access; does not take the lock.
  T load(std::memory_order o = std::memory_order_seq_cst) const noexcept
    requires detail::lock_free_v<T>
  {
    return std::atomic_ref<T>(const_cast<T&>(v_)).load(o);
  }
  void store(const T& v, std::memory_order o = std::memory_order_seq_cst) noexcept
    requires detail::lock_free_v<T>
  {
    std::atomic_ref<T>(v_).store(v, o);
  }
  // Value::fetch_add(d): atomic v += d without the lock; returns the previous value.
  T fetch_add(T d, std::memory_order o = std::memory_order_seq_cst) noexcept
    requires(detail::lock_free_v<T> && std::is_arithmetic_v<T>)
  {
    return std::atomic_ref<T>(v_).fetch_add(d, o);
  }

  // Value::update(f): under the lock, v = f(v); returns the new value.
  template <class F>
  T update(F&& f) {
    std::scoped_lock g(lock_);
    const T nv = f(read());
    write(nv);
    return nv;
  }
  // Value::snapshot()/assign(v): a read / a write under the lock (any T).
  T snapshot() {
    std::scoped_lock g(lock_);
    return read();
  }
  void assign(const T& v) {
    std::scoped_lock g(lock_);
    write(v);
  }
  // Value::ref(): the value itself, for use while holding get_lock().
  T& ref() noexcept { return v_; }

 private:
  T read() const noexcept {
    if constexpr (detail::lock_free_v<T>)
      return std::atomic_ref<T>(const_cast<T&>(v_)).load(std::memory_order_relaxed);
    else
      return v_;
  }
  void write(const T& v) noexcept {
    if constexpr (detail::lock_free_v<T>)
      std::atomic_ref<T>(v_).store(v, std::memory_order_relaxed);
    else
      v_ = v;
  }

  Lock lock_;
  alignas(64) alignas(detail::value_align<T>) T v_;
};

template <class T>
class alignas(64) AtomicValue {
  static_assert(std::is_trivially_copyable_v<T> && detail::lock_free_v<T>,
                "AtomicValue<T>: T must be trivially copyable and lock-free as an atomic; use Value<T>");

 public:
  using value_type = T;

  AtomicValue() noexcept : v_{} {}
  explicit AtomicValue(const T& v) noexcept : v_(v) {}
  AtomicValue(const AtomicValue&) = delete;
  AtomicValue& operator=(const AtomicValue&) = delete;

  // AtomicValue::load()/store()/exchange()/compare_exchange(): atomic, seq_cst by default.
  T load(std::memory_order o = std::memory_order_seq_cst) const noexcept { return v_.load(o); }
  void store(const T& v, std::memory_order o = std::memory_order_seq_cst) noexcept { v_.store(v, o); }
  T exchange(const T& v, std::memory_order o = std::memory_order_seq_cst) noexcept { return v_.exchange(v, o); }
  bool compare_exchange(T& expected, const T& desired) noexcept { return v_.compare_exchange_strong(expected, desired); }
  // AtomicValue::fetch_add(d): atomic v += d; returns the previous value (arithmetic T).
  T fetch_add(T d, std::memory_order o = std::memory_order_seq_cst) noexcept
    requires std::is_arithmetic_v<T>
  {
    return v_.fetch_add(d, o);
  }
  // AtomicValue::update(f): v = f(v) by a CAS loop (f may run more than once); returns the
  // new value.
  template <class F>
  T update(F&& f) noexcept {
    T cur = v_.load(std::memory_order_relaxed);
    T nv = f(cur);
    while (!v_.compare_exchange_weak(cur, nv, std::memory_order_seq_cst, std::memory_order_relaxed)) nv = f(cur);
    return nv;
  }

 private:
  std::atomic<T> v_;
};

static_assert(std::is_standard_layout_v<Value<int>> && sizeof(Value<int>) == 128);
static_assert(std::is_standard_layout_v<AtomicValue<int>> && sizeof(AtomicValue<int>) == 64);

}  // namespace ipcsync
