// probe_boost: P processes lock, increment a shared counter, unlock, on one
// boost::interprocess::interprocess_mutex, pinned one per allowed PU, all until one shared
// deadline (no process runs alone after the others finished). Prints total ops/s.
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
  alignas(64) volatile uint64_t go = 0;  // the deadline, 0 until the start
  alignas(64) uint64_t done[64] = {};
};

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: probe_boost PROCS [SECONDS]\n");
    return 2;
  }
  const int procs = std::atoi(argv[1]);
  const double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
  if (procs < 1 || procs > 64 || seconds <= 0) {
    std::fprintf(stderr, "probe_boost: 1-64 procs, seconds > 0\n");
    return 2;
  }
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
      const uint64_t deadline = s->go;
      uint64_t n = 0;
      do {
        for (int i = 0; i < 64; ++i) {
          s->m.lock();
          s->counter = s->counter + 1;
          s->m.unlock();
        }
        n += 64;
      } while (now_ns() < deadline);
      s->done[p] = n;
      _exit(0);
    }
  const uint64_t t0 = now_ns();
  s->go = t0 + static_cast<uint64_t>(seconds * 1e9);
  for (int p = 0; p < procs; ++p) wait(nullptr);
  const uint64_t t1 = now_ns();
  uint64_t total = 0;
  for (int p = 0; p < procs; ++p) total += s->done[p];
  if (s->counter != total) return 1;
  std::printf("%.0f\n", static_cast<double>(total) * 1e9 / static_cast<double>(t1 - t0));
  return 0;
}
