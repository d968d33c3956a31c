// array.hpp — Array<T, N>: a fixed-size shared array with the Lock that guards it
// (multiprocessing.Array).
//
// State: a Lock (lock.hpp), the element count, and the elements on the following cache lines.
// Python's synchronized Array takes its RLock on every index and slice; here, as in Value
// (value.hpp), element access never takes the lock, so it can be used inside
// `std::scoped_lock g(arr.get_lock())` with a non-reentrant Lock:
//   * load(i)/store(i, v)/fetch_add(i, d): one atomic access to element i, bounds-checked
//     (std::out_of_range, Python's IndexError); lock-free T only;
//   * at(i): a checked reference, operator[](i) an unchecked one: plain memory, for use while
//     holding get_lock() or when each index has a single writer (the guide's parallel fill);
//   * slice(first, last)/copy_out(first, last, out): copy elements out (checked); a consistent
//     snapshot needs get_lock() held; locked_slice() takes it for you.
//
// Where the elements live (no pointers):
//   Array<T, N> (N > 0): inside the object. Valid when zero-filled (N zeros, unlocked).
//   Array<T>    (N == 0, size chosen at run time): right after the object. Allocate
//     Array<T>::bytes_for(n) bytes aligned to 64 and construct with create_at(mem, n) (or
//     AnonymousRegion::make_sized / NamedSegment::construct_sized, shm.hpp).
//
// Process-shared: yes. Layout: standard-layout, alignas(64): the Lock's line, a line holding the
//   size, then the elements from a 64-byte boundary.
// Blocking: only get_lock() and locked_slice() block (Lock's protocol).
// Memory ordering: for processes X and Y, X's writes before releasing get_lock() are visible to Y
//   after Y acquires it; load()/store()/fetch_add() take a std::memory_order (seq_cst default).
// Owner death: as Lock (lock.hpp).
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

#include "ipcsync/lock.hpp"
#include "ipcsync/value.hpp"

namespace ipcsync {

namespace detail {
template <class T, std::size_t N>
struct ArrayStorage {
  alignas(64) alignas(value_align<T>) T elems[N];
};
template <class T>
struct ArrayStorage<T, 0> {};
}  // namespace detail

template <class T, std::size_t N = 0>
class alignas(64) Array {
  static_assert(std::is_trivially_copyable_v<T>, "Array<T>: T must be trivially copyable");
  static_assert(detail::value_align<T> <= 64, "Array<T>: T's alignment above 64 is not supported");

 public:
  using value_type = T;

  // Array<T, N>(): N value-initialised (zero) elements.
  Array() noexcept
    requires(N > 0)
      : size_(N), storage_{} {}
  // Array<T>(n): construct only in bytes_for(n) bytes (see create_at()); n zero elements.
  explicit Array(std::size_t n)
    requires(N == 0)
      : size_(n) {
    std::memset(static_cast<void*>(data()), 0, n * sizeof(T));
  }
  Array(const Array&) = delete;
  Array& operator=(const Array&) = delete;

  // Array<T>::bytes_for(n)/create_at(mem, n): the bytes an Array<T> of n elements occupies, and
  // construction in place in them (64-aligned).
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

  // Array::get_lock(): the Lock that guards the elements.
  Lock& get_lock() noexcept { return lock_; }
  // Array::size(): the number of elements.
  std::size_t size() const noexcept { return N > 0 ? N : size_; }

  // Array::operator[](i): unchecked element reference (hold get_lock(), or write each index from
  // one process only).
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  // Array::at(i): checked element reference; throws std::out_of_range.
  T& at(std::size_t i) { return data()[check(i)]; }
  const T& at(std::size_t i) const { return data()[check(i)]; }

  // Array::load(i)/store(i, v)/fetch_add(i, d): one atomic access to element i (checked).
  T load(std::size_t i, std::memory_order o = std::memory_order_seq_cst) const
    requires detail::lock_free_v<T>
  {
    return std::atomic_ref<T>(const_cast<T&>(data()[check(i)])).load(o);
  }
  void store(std::size_t i, const T& v, std::memory_order o = std::memory_order_seq_cst)
    requires detail::lock_free_v<T>
  {
    std::atomic_ref<T>(data()[check(i)]).store(v, o);
  }
  T fetch_add(std::size_t i, T d, std::memory_order o = std::memory_order_seq_cst)
    requires(detail::lock_free_v<T> && std::is_arithmetic_v<T>)
  {
    return std::atomic_ref<T>(data()[check(i)]).fetch_add(d, o);
  }

  // Array::copy_out(first, last, out): copies elements [first, last) to out (Python's
  // arr[first:last]); throws std::out_of_range unless first <= last <= size(). Element-wise
  // atomic (relaxed) when T is lock-free; hold get_lock() for a consistent snapshot.
  template <class OutIt>
  OutIt copy_out(std::size_t first, std::size_t last, OutIt out) const {
    check_range(first, last);
    for (std::size_t i = first; i < last; ++i) *out++ = read(i);
    return out;
  }
  // Array::slice(first, last)/slice(): the copy as a vector (the whole array by default).
  std::vector<T> slice(std::size_t first, std::size_t last) const {
    std::vector<T> v;
    v.reserve(last > first ? last - first : 0);
    copy_out(first, last, std::back_inserter(v));
    return v;
  }
  std::vector<T> slice() const { return slice(0, size()); }
  // Array::locked_slice(first, last): slice() while holding get_lock().
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
  void check_range(std::size_t first, std::size_t last) const {
    if (first > last || last > size())
      throw std::out_of_range("Array: slice [" + std::to_string(first) + ", " + std::to_string(last) +
                              ") out of range (size " + std::to_string(size()) + ")");
  }
  T read(std::size_t i) const noexcept {
    if constexpr (detail::lock_free_v<T>)
      return std::atomic_ref<T>(const_cast<T&>(data()[i])).load(std::memory_order_relaxed);
    else
      return data()[i];
  }

  Lock lock_;
  alignas(64) std::size_t size_ = 0;
  detail::ArrayStorage<T, N> storage_;
};

static_assert(std::is_standard_layout_v<Array<int, 4>> && std::is_standard_layout_v<Array<int>>);
static_assert(sizeof(Array<int>) % 64 == 0);

}  // namespace ipcsync
