// shm.cc — anonymous shared mappings.
#include "ipcsync/shm.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace ipcsync {

AnonymousRegion::AnonymousRegion(std::size_t bytes) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  size_ = (bytes + page - 1) / page * page;
  if (size_ == 0) size_ = page;
  void* p = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap(MAP_SHARED)");
  base_ = p;
}

AnonymousRegion::~AnonymousRegion() {
  if (base_) munmap(base_, size_);
}

void* AnonymousRegion::allocate(std::size_t bytes, std::size_t align) {
  std::size_t off = (used_ + align - 1) / align * align;
  if (off + bytes > size_) throw std::bad_alloc();
  used_ = off + bytes;
  return static_cast<char*>(base_) + off;
}

}  // namespace ipcsync
