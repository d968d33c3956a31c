// shm.hpp — placing primitives in shared memory.
//
// AnonymousRegion: an anonymous MAP_SHARED mapping made before fork(); parent and children see
// the same bytes (at the same address, though nothing relies on that). It never appears in
// /dev/shm, so no exit path — crash or SIGKILL included — can leave it behind.
//
// Every ipcsync primitive is standard-layout and pointer-free, so constructing one in place
// (Region::make<T>(args...)) is all it takes to share it.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace ipcsync {

class AnonymousRegion {
 public:
  // Maps `bytes` (rounded up to whole pages), zero-filled. Throws std::system_error on failure.
  explicit AnonymousRegion(std::size_t bytes);
  ~AnonymousRegion();
  AnonymousRegion(AnonymousRegion&& o) noexcept
      : base_(std::exchange(o.base_, nullptr)), size_(std::exchange(o.size_, 0)), used_(o.used_) {}
  AnonymousRegion& operator=(AnonymousRegion&&) = delete;
  AnonymousRegion(const AnonymousRegion&) = delete;

  void* data() const noexcept { return base_; }
  std::size_t size() const noexcept { return size_; }

  // AnonymousRegion::allocate(): carves `bytes` aligned to `align` (bump allocator; never freed
  // individually). Throws std::bad_alloc when the region is exhausted.
  void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t));

  // AnonymousRegion::make<T>(args...): allocate + construct in place.
  template <class T, class... Args>
  T* make(Args&&... args) {
    void* p = allocate(sizeof(T), alignof(T) < 64 ? 64 : alignof(T));
    return ::new (p) T(std::forward<Args>(args)...);
  }

 private:
  void* base_ = nullptr;
  std::size_t size_ = 0;
  std::size_t used_ = 0;
};

}  // namespace ipcsync
