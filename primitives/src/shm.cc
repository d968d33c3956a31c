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

#if IPCSYNC_WITH_BOOST_INTERPROCESS
// --- NamedSegment ------------------------------------------------------------------------------
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "ipcsync/errors.hpp"

namespace ipcsync {
namespace bip = boost::interprocess;

namespace detail {
class ManagedSegment {
 public:
  template <class Mode>
  ManagedSegment(Mode mode, const char* name, std::size_t bytes) : m(mode, name, bytes) {}
  template <class Mode>
  ManagedSegment(Mode mode, const char* name) : m(mode, name) {}
  bip::managed_shared_memory m;
};
}  // namespace detail

namespace {

constexpr const char* kCreatorKey = "ipcsync.creator";  // object names are stored as "o:<name>"
constexpr std::size_t kSlack = 16 * 1024;               // Boost's own header, index and tags
constexpr uint32_t kBoostInitialized = 2;               // managed_open_or_create_impl's "InitializedSegment"
constexpr std::time_t kHalfCreatedGraceS = 10;

struct Creator {
  int32_t pid;
  uint64_t start_ticks;  // /proc/<pid>/stat field 22: tells a reused pid apart
};
struct Entry {
  uint64_t offset;  // from the segment base
  uint64_t bytes;
  uint64_t tag;     // NamedSegment::type_tag<T>()
};

// proc_start(): the process's start time in clock ticks since boot; 0 if it does not exist or
// is a zombie (it will never clean up).
uint64_t proc_start(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  for (int i = 3; i <= 22 && fields >> f; ++i) {
    if (i == 3 && (f == "Z" || f == "X")) return 0;
    if (i == 22) return std::stoull(f);
  }
  return 0;
}

void check_name(const std::string& name) {
  if (name.empty() || name.size() > 200 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != std::string::npos)
    throw error("NamedSegment: invalid name '" + name + "' (letters, digits, '.', '_', '-'; 1..200 chars)");
}

std::string full_name(const std::string& name) { return std::string(NamedSegment::kPrefix) + name; }

}  // namespace

std::string NamedSegment::shm_path(const std::string& name) { return "/dev/shm/" + full_name(name); }

NamedSegment::NamedSegment(std::string name, std::unique_ptr<detail::ManagedSegment> seg, bool owner)
    : name_(std::move(name)), seg_(std::move(seg)), owner_(owner) {}

NamedSegment::NamedSegment(NamedSegment&& o) noexcept
    : name_(std::move(o.name_)), seg_(std::move(o.seg_)), owner_(std::exchange(o.owner_, false)) {}

NamedSegment& NamedSegment::operator=(NamedSegment&& o) noexcept {
  if (this != &o) {
    this->~NamedSegment();
    ::new (this) NamedSegment(std::move(o));
  }
  return *this;
}

NamedSegment::~NamedSegment() {
  const bool remove_it = owner_ && seg_;
  seg_.reset();
  if (remove_it) bip::shared_memory_object::remove(full_name(name_).c_str());
}

NamedSegment NamedSegment::create(const std::string& name, std::size_t bytes) {
  check_name(name);
  std::unique_ptr<detail::ManagedSegment> seg;
  try {
    seg = std::make_unique<detail::ManagedSegment>(bip::create_only, full_name(name).c_str(), bytes + kSlack);
  } catch (const bip::interprocess_exception& e) {
    throw error("NamedSegment::create('" + name + "'): " + e.what());
  }
  NamedSegment out(name, std::move(seg), true);  // from here on, the destructor removes it
  const pid_t self = getpid();
  out.seg_->m.construct<Creator>(kCreatorKey)(Creator{self, proc_start(self)});
  return out;
}

NamedSegment NamedSegment::open(const std::string& name) {
  check_name(name);
  try {
    return NamedSegment(name, std::make_unique<detail::ManagedSegment>(bip::open_only, full_name(name).c_str()),
                        false);
  } catch (const bip::interprocess_exception& e) {
    throw error("NamedSegment::open('" + name + "'): " + e.what());
  }
}

bool NamedSegment::remove(const std::string& name) {
  check_name(name);
  return bip::shared_memory_object::remove(full_name(name).c_str());
}

void* NamedSegment::allocate(std::size_t bytes) {
  try {
    return seg_->m.allocate_aligned(bytes, 64);
  } catch (const bip::bad_alloc&) {
    throw error("NamedSegment '" + name_ + "': out of space for " + std::to_string(bytes) + " bytes");
  }
}

void NamedSegment::deallocate(void* p) noexcept { seg_->m.deallocate(p); }

void NamedSegment::publish(const std::string& obj, void* p, std::size_t bytes, uint64_t tag) {
  const uint64_t off = static_cast<uint64_t>(static_cast<char*>(p) - static_cast<char*>(seg_->m.get_address()));
  try {
    seg_->m.construct<Entry>(("o:" + obj).c_str())(Entry{off, bytes, tag});
  } catch (const bip::interprocess_exception& e) {
    throw error("NamedSegment '" + name_ + "': cannot name an object '" + obj + "': " + e.what());
  }
}

void* NamedSegment::lookup(const std::string& obj, uint64_t tag) {
  const Entry* e = seg_->m.find<Entry>(("o:" + obj).c_str()).first;
  if (!e) return nullptr;
  if (e->tag != tag) throw error("NamedSegment '" + name_ + "': object '" + obj + "' has another type");
  return static_cast<char*>(seg_->m.get_address()) + e->offset;
}

pid_t NamedSegment::creator_pid() const {
  const Creator* c = seg_->m.find<Creator>(kCreatorKey).first;
  return c ? c->pid : 0;
}

std::size_t NamedSegment::size() const { return seg_->m.get_size(); }
std::size_t NamedSegment::free_bytes() const { return seg_->m.get_free_memory(); }

std::vector<std::string> NamedSegment::remove_stale() {
  std::vector<std::string> removed;
  DIR* d = opendir("/dev/shm");
  if (!d) return removed;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n.rfind(kPrefix, 0) == 0 && n.size() > std::strlen(kPrefix)) names.push_back(n.substr(std::strlen(kPrefix)));
  }
  closedir(d);
  for (const auto& name : names) {
    // Read Boost's initialisation word ourselves: opening a segment whose creator died while
    // initialising it would make Boost wait forever.
    const std::string path = shm_path(name);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    uint32_t word = 0;
    const bool ok = fstat(fd, &st) == 0 && st.st_size >= 4 && pread(fd, &word, sizeof word, 0) == sizeof word;
    ::close(fd);
    bool stale = false;
    if (!ok || word != kBoostInitialized) {
      stale = std::time(nullptr) - st.st_mtime > kHalfCreatedGraceS;
    } else {
      try {
        bip::managed_shared_memory m(bip::open_only, full_name(name).c_str());
        const Creator* c = m.find<Creator>(kCreatorKey).first;
        stale = c == nullptr || c->pid <= 0 || proc_start(c->pid) != c->start_ticks;
      } catch (const bip::interprocess_exception&) {
        continue;
      }
    }
    if (stale && bip::shared_memory_object::remove(full_name(name).c_str())) removed.push_back(name);
  }
  return removed;
}

}  // namespace ipcsync
#endif  // IPCSYNC_WITH_BOOST_INTERPROCESS
