// shm.hpp — placing primitives in shared memory.
//
// AnonymousRegion: an anonymous MAP_SHARED mapping made before fork(); parent and children see
// the same bytes (at the same address, though nothing relies on that). It never appears in
// /dev/shm, so no exit path — crash or SIGKILL included — can leave it behind.
//
// NamedSegment (with Boost.Interprocess): a named POSIX shared-memory segment
// (/dev/shm/ipcsync.<name>, a Boost managed_shared_memory) in which primitives are created by
// name and found by name from *unrelated* processes — not only fork children, which is all
// the guide's objects allow. The creator owns it and removes it when its NamedSegment is
// destroyed (RAII); a creator that dies without cleaning up (SIGKILL) leaves a stale segment,
// which NamedSegment::remove_stale() (and `named_peer remove-stale`) finds by the creator's pid
// and start time recorded inside and removes.
//
// Every ipcsync primitive is standard-layout and pointer-free, so constructing one in place
// (Region::make<T>(args...)) is all it takes to share it; primitives whose storage trails the
// object (Queue<T>, JoinableQueue<T>, MessageQueue, Array<T>) take their bytes_for(...) size
// with make_sized<T>(bytes, args...) / construct_sized<T>(name, bytes, args...).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

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
  // AnonymousRegion::make_sized<T>(bytes, args...): as make(), reserving `bytes` (at least
  // sizeof(T)) for an object whose storage follows it, e.g. Queue<T>::bytes_for(maxsize).
  template <class T, class... Args>
  T* make_sized(std::size_t bytes, Args&&... args) {
    void* p = allocate(bytes < sizeof(T) ? sizeof(T) : bytes, alignof(T) < 64 ? 64 : alignof(T));
    return ::new (p) T(std::forward<Args>(args)...);
  }

 private:
  void* base_ = nullptr;
  std::size_t size_ = 0;
  std::size_t used_ = 0;
};

#if IPCSYNC_WITH_BOOST_INTERPROCESS

namespace detail {
class ManagedSegment;  // a boost::interprocess::managed_shared_memory, kept out of this header
}

// NamedSegment — a named shared-memory segment holding primitives found by name.
//
// Objects are placed at 64-byte-aligned addresses (Boost's own construct<T>() does not honour
// alignas(64)) and registered under their name with their size and type, so find<T>() in
// another process returns the same object — at whatever address that process mapped the
// segment, which is why primitives hold offsets, never pointers. Names are per segment; the
// segment name becomes /dev/shm/ipcsync.<name> (letters, digits, '.', '_', '-').
// Lifetime: the creating NamedSegment removes the segment name when destroyed; processes that
// have it open keep their mapping until they close it. open() of a removed name fails.
// Thread safety: construct()/find() are safe from several processes at once (Boost's segment
// manager locks); the returned objects are what synchronises everything else.
class NamedSegment {
 public:
  static constexpr const char* kPrefix = "ipcsync.";

  // NamedSegment::create(name, bytes): a new segment of `bytes` bytes; throws ipcsync::error if
  // the name exists or is invalid. The caller owns it: the destructor removes it.
  static NamedSegment create(const std::string& name, std::size_t bytes);
  // NamedSegment::open(name): an existing segment (not owned); throws ipcsync::error if absent.
  static NamedSegment open(const std::string& name);
  // NamedSegment::remove(name): removes the name (mappings stay valid); true if it existed.
  static bool remove(const std::string& name);
  // NamedSegment::remove_stale(): removes every ipcsync.* segment whose creator is dead (or that
  // a creator left half-initialised more than 10 s ago); returns the names it removed.
  static std::vector<std::string> remove_stale();
  // NamedSegment::shm_path(name): /dev/shm/ipcsync.<name>.
  static std::string shm_path(const std::string& name);

  NamedSegment(NamedSegment&&) noexcept;
  NamedSegment& operator=(NamedSegment&&) noexcept;
  ~NamedSegment();

  // NamedSegment::construct<T>(obj, args...): creates a T named obj (throws ipcsync::error if
  // the name is taken or the segment is full).
  template <class T, class... Args>
  T* construct(const std::string& obj, Args&&... args) {
    return construct_sized<T>(obj, sizeof(T), std::forward<Args>(args)...);
  }
  // NamedSegment::construct_sized<T>(obj, bytes, args...): as construct(), reserving `bytes`
  // (Queue<T>::bytes_for(n), Array<T>::bytes_for(n)...).
  template <class T, class... Args>
  T* construct_sized(const std::string& obj, std::size_t bytes, Args&&... args) {
    static_assert(alignof(T) <= 64, "NamedSegment: alignment above 64 is not supported");
    if (bytes < sizeof(T)) bytes = sizeof(T);
    void* p = allocate(bytes);
    T* t = nullptr;
    try {
      t = ::new (p) T(std::forward<Args>(args)...);
    } catch (...) {
      deallocate(p);
      throw;
    }
    try {
      publish(obj, p, bytes, type_tag<T>());  // only now can find() see it: fully constructed
    } catch (...) {
      t->~T();
      deallocate(p);
      throw;
    }
    return t;
  }
  // NamedSegment::find<T>(obj): the T named obj, nullptr if there is none; throws
  // ipcsync::error if obj names an object of another type.
  template <class T>
  T* find(const std::string& obj) {
    return static_cast<T*>(lookup(obj, type_tag<T>()));
  }

  const std::string& name() const noexcept { return name_; }
  bool owner() const noexcept { return owner_; }
  // NamedSegment::creator_pid(): the pid recorded by the creator.
  pid_t creator_pid() const;
  std::size_t size() const;
  std::size_t free_bytes() const;

 private:
  NamedSegment(std::string name, std::unique_ptr<detail::ManagedSegment> seg, bool owner);
  template <class T>
  static uint64_t type_tag() noexcept {
    // The mangled name (same compiler, same program: equal in every process) and the size.
    uint64_t h = 1469598103934665603ull ^ sizeof(T);
    for (const char* c = typeid(T).name(); *c; ++c) h = (h ^ static_cast<unsigned char>(*c)) * 1099511628211ull;
    return h;
  }
  void* allocate(std::size_t bytes);
  void deallocate(void* p) noexcept;
  void publish(const std::string& obj, void* p, std::size_t bytes, uint64_t tag);
  void* lookup(const std::string& obj, uint64_t tag);

  std::string name_;
  std::unique_ptr<detail::ManagedSegment> seg_;
  bool owner_ = false;
};

#endif  // IPCSYNC_WITH_BOOST_INTERPROCESS

}  // namespace ipcsync
