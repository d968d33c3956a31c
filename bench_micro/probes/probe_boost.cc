// probe_boost: P processes lock, increment a shared counter, unlock, on one
// boost::interprocess::interprocess_mutex, pinned one per allowed PU. Prints total ops/s.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <cstdio>
#include <cstdlib>
#include <new>

extern "C" {
#include "common.h"
}

struct Shared {
  boost::interprocess::interprocess_mutex m;
  alignas(64) volatile uint64_t counter = 0;
  alignas(64) volatile int go = 0;
};

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: probe_boost PROCS [OPS_PER_PROC]\n");
    return 2;
  }
  const int procs = std::atoi(argv[1]);
  const uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2000000;
  void* mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return 1;
  auto* s = ::new (mem) Shared();
  cpu_set_t allowed;
  sched_getaffinity(0, sizeof allowed, &allowed);
  for (int p = 0; p < procs; ++p)
    if (fork() == 0) {
      pin_nth(&allowed, p);
      while (!s->go) {
      }
      for (uint64_t i = 0; i < n; ++i) {
        s->m.lock();
        s->counter = s->counter + 1;
        s->m.unlock();
      }
      _exit(0);
    }
  const uint64_t t0 = now_ns();
  s->go = 1;
  for (int p = 0; p < procs; ++p) wait(nullptr);
  const uint64_t t1 = now_ns();
  if (s->counter != n * static_cast<uint64_t>(procs)) return 1;
  std::printf("%.0f\n", static_cast<double>(n * procs) * 1e9 / static_cast<double>(t1 - t0));
  return 0;
}
