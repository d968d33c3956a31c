// guarded.hpp — generic::Value<T, L> and generic::Array<T, N, L>: multiprocessing.Value and
// Array guarded by a backend's lock L (posix::Lock, boost_ipc::Lock) instead of ipcsync::Lock.
//
// The API and semantics are ipcsync::Value's and ipcsync::Array's (value.hpp, array.hpp), so a
// workload compares only the lock: get_lock() returns the L; load()/store()/fetch_add() are
// single atomic accesses that never take it (so they can be called while holding get_lock(),
// which is not reentrant: `{ std::scoped_lock g(v.get_lock()); v.store(v.load() + 1); }`);
// update()/snapshot()/assign()/locked_slice() take it for you. fetch_add() is the lock-free
// form (Python's lock=False made safe) and is the same on every backend.
//
// Process-shared: yes, constructed in place before fork. Not valid zero-filled (L is a
//   pthread object that needs its constructor). No pointers: Array<T> (N == 0) keeps its
//   elements right after the object (bytes_for(n)/create_at(mem, n)), as ipcsync::Array<T>.
// Layout: standard-layout, alignas(64): L's line(s), then the data from a 64-byte boundary.
// Blocking: only get_lock(), update(), snapshot(), assign(), locked_slice() — L's blocking.
// Memory ordering: for processes X and Y, X's writes before releasing get_lock() are visible to
//   Y after Y acquires it; load()/store()/fetch_add() take a std::memory_order (seq_cst default).
// Owner death: L's.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "ipcsync/value.hpp"

namespace ipcsync::generic {

template <class T, class L>
class alignas(64) Value {
  static_assert(std::is_trivially_copyable_v<T>, "Value<T>: T must be trivially copyable");

 public:
  using value_type = T;
  using lock_type = L;

  Value() : v_{} {}
  explicit Value(const T& v) : v_(v) {}
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;

  // Value::get_lock(): the lock that guards this value.
  L& get_lock() noexcept { return lock_; }

  // Value::load()/store(): one atomic access; does not take the lock.
  T load(std::memory_order o = std::memory_order_seq_cst) const noexcept
    requires ipcsync::detail::lock_free_v<T>
  {
    return std::atomic_ref<T>(const_cast<T&>(v_)).load(o);
  }
  void store(const T& v, std::memory_order o = std::memory_order_seq_cst) noexcept
    requires ipcsync::detail::lock_free_v<T>
  {
    std::atomic_ref<T>(v_).store(v, o);
  }
  // Value::fetch_add(d): atomic v += d without the lock; returns the previous value.
  T fetch_add(T d, std::memory_order o = std::memory_order_seq_cst) noexcept
    requires(ipcsync::detail::lock_free_v<T> && std::is_arithmetic_v<T>)
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
    if constexpr (ipcsync::detail::lock_free_v<T>)
      return std::atomic_ref<T>(const_cast<T&>(v_)).load(std::memory_order_relaxed);
    else
      return v_;
  }
  void write(const T& v) noexcept {
    if constexpr (ipcsync::detail::lock_free_v<T>)
      std::atomic_ref<T>(v_).store(v, std::memory_order_relaxed);
    else
      v_ = v;
  }

  L lock_;
  alignas(64) alignas(ipcsync::detail::value_align<T>) T v_;
};

namespace detail {
template <class T, std::size_t N>
struct ArrayStorage {
  alignas(64) alignas(ipcsync::detail::value_align<T>) T elems[N];
};
template <class T>
struct ArrayStorage<T, 0> {};
}  // namespace detail

template <class T, std::size_t N, class L>
class alignas(64) Array {
  static_assert(std::is_trivially_copyable_v<T>, "Array<T>: T must be trivially copyable");
  static_assert(ipcsync::detail::value_align<T> <= 64, "Array<T>: T's alignment above 64 is not supported");

 public:
  using value_type = T;
  using lock_type = L;

  // Array<T, N>(): N zero elements. Array<T>(n): construct only in bytes_for(n) bytes.
  Array()
    requires(N > 0)
      : size_(N), storage_{} {}
  explicit Array(std::size_t n)
    requires(N == 0)
      : size_(n) {
    std::memset(static_cast<void*>(data()), 0, n * sizeof(T));
  }
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;

  // Array<T>::bytes_for(n)/create_at(mem, n): the bytes an Array<T> of n elements occupies,
  // and construction in place in them (64-aligned).
  static constexpr std::size_t bytes_for(std::size_t n) noexcept
    requires(N == 0)
  {
    return sizeof(Array) + n * sizeof(T);
  }
  static Array* create_at(void* mem, std::size_t n)
    requires(N == 0)
  {
    return ::new (mem) Array(n);
  }

  // Array::get_lock(): the lock that guards the elements. size(): the element count.
  L& get_lock() noexcept { return lock_; }
  std::size_t size() const noexcept { return N > 0 ? N : size_; }

  // Array::operator[](i): unchecked reference; at(i): checked (std::out_of_range).
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  T& at(std::size_t i) { return data()[check(i)]; }
  const T& at(std::size_t i) const { return data()[check(i)]; }

  // Array::load(i)/store(i, v)/fetch_add(i, d): one atomic access to element i (checked).
  T load(std::size_t i, std::memory_order o = std::memory_order_seq_cst) const
    requires ipcsync::detail::lock_free_v<T>
  {
    return std::atomic_ref<T>(const_cast<T&>(data()[check(i)])).load(o);
  }
  void store(std::size_t i, const T& v, std::memory_order o = std::memory_order_seq_cst)
    requires ipcsync::detail::lock_free_v<T>
  {
    std::atomic_ref<T>(data()[check(i)]).store(v, o);
  }
  T fetch_add(std::size_t i, T d, std::memory_order o = std::memory_order_seq_cst)
    requires(ipcsync::detail::lock_free_v<T> && std::is_arithmetic_v<T>)
  {
    return std::atomic_ref<T>(data()[check(i)]).fetch_add(d, o);
  }

  // Array::copy_out(first, last, out)/slice(first, last)/slice(): copies of [first, last)
  // (std::out_of_range unless first <= last <= size()); locked_slice() holds get_lock().
  template <class OutIt>
  OutIt copy_out(std::size_t first, std::size_t last, OutIt out) const {
    if (first > last || last > size())
      throw std::out_of_range("Array: slice [" + std::to_string(first) + ", " + std::to_string(last) +
                              ") out of range (size " + std::to_string(size()) + ")");
    for (std::size_t i = first; i < last; ++i) *out++ = read(i);
    return out;
  }
  std::vector<T> slice(std::size_t first, std::size_t last) const {
    std::vector<T> v;
    v.reserve(last > first ? last - first : 0);
    copy_out(first, last, std::back_inserter(v));
    return v;
  }
  std::vector<T> slice() const { return slice(0, size()); }
  std::vector<T> locked_slice(std::size_t first, std::size_t last) {
    std::scoped_lock g(lock_);
    return slice(first, last);
  }

  T* data() noexcept {
    if constexpr (N > 0)
      return storage_.elems;
    else
      return std::launder(reinterpret_cast<T*>(reinterpret_cast<char*>(this) + sizeof(Array)));
  }
  const T* data() const noexcept { return const_cast<Array*>(this)->data(); }

 private:
  std::size_t check(std::size_t i) const {
    if (i >= size())
      throw std::out_of_range("Array: index " + std::to_string(i) + " out of range (size " + std::to_string(size()) + ")");
    return i;
  }
  T read(std::size_t i) const noexcept {
    if constexpr (ipcsync::detail::lock_free_v<T>)
      return std::atomic_ref<T>(const_cast<T&>(data()[i])).load(std::memory_order_relaxed);
    else
      return data()[i];
  }

  L lock_;
  alignas(64) std::size_t size_ = 0;
  detail::ArrayStorage<T, N> storage_;
};

}  // namespace ipcsync::generic
