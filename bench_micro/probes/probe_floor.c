/* probe_floor: one-line spinning ping-pong between two processes, pinned to PUs A and B.
 * Each direction is one 64-byte line written by one side only. Prints ns per round trip. */
#include "common.h" /* first: it defines _GNU_SOURCE */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct line { _Alignas(64) _Atomic uint64_t v; };

static void pin(int pu) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(pu, &s); sched_setaffinity(0, sizeof s, &s); }

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: probe_floor PU_A PU_B [ROUND_TRIPS]\n"); return 2; }
  const int a = atoi(argv[1]), b = atoi(argv[2]);
  const uint64_t n = argc > 3 ? strtoull(argv[3], 0, 10) : 1000000;
  struct line* l = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (l == MAP_FAILED) return 1;
  const pid_t pid = fork();
  if (pid == 0) {
    pin(b);
    for (uint64_t i = 1; i <= n; ++i) {
      while (atomic_load_explicit(&l[0].v, memory_order_acquire) != i) __builtin_ia32_pause();
      atomic_store_explicit(&l[1].v, i, memory_order_release);
    }
    _exit(0);
  }
  pin(a);
  const uint64_t t0 = now_ns();
  for (uint64_t i = 1; i <= n; ++i) {
    atomic_store_explicit(&l[0].v, i, memory_order_release);
    while (atomic_load_explicit(&l[1].v, memory_order_acquire) != i) __builtin_ia32_pause();
  }
  const uint64_t t1 = now_ns();
  waitpid(pid, 0, 0);
  printf("%.1f\n", (double)(t1 - t0) / (double)n);
  return 0;
}
