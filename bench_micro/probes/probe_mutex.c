/* probe_mutex: P processes lock, increment a shared counter, unlock, on one process-shared
 * pthread mutex (robust or plain), pinned one per allowed PU, all until one shared deadline (so
 * that no process runs alone, uncontended, after the others finished). Prints total ops/s.
 * GAP (default 0): that many volatile read-modify-writes of the process's own memory between
 * unlock and the next lock: how much a contended lock's throughput depends on what a loop does
 * between its ops (a harness's counting, say), with no harness at all. */
#include "common.h" /* first: it defines _GNU_SOURCE */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
  pthread_mutex_t m;
  _Alignas(64) volatile uint64_t counter;
  _Alignas(64) volatile uint64_t go; /* the deadline, 0 until the start */
  _Alignas(64) uint64_t done[64];
};

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: probe_mutex PROCS robust|plain [SECONDS [GAP]]\n"); return 2; }
  const int procs = atoi(argv[1]);
  const int robust = strcmp(argv[2], "robust") == 0;
  const double seconds = argc > 3 ? atof(argv[3]) : 1.0;
  const int gap = argc > 4 ? atoi(argv[4]) : 0;
  if (procs < 1 || procs > 64 || seconds <= 0 || gap < 0 || gap > 100000) {
    fprintf(stderr, "probe_mutex: 1-64 procs, seconds > 0, gap 0-100000\n");
    return 2;
  }
  struct shared* s = mmap(0, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return 1;
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  if (robust) pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(&s->m, &a);
  cpu_set_t allowed;
  sched_getaffinity(0, sizeof allowed, &allowed);
  for (int p = 0; p < procs; ++p)
    if (fork() == 0) {
      pin_nth(&allowed, p);
      while (!s->go) {}
      const uint64_t deadline = s->go;
      uint64_t n = 0;
      volatile uint64_t own[8] = {0};
      do {
        for (int i = 0; i < 64; ++i) {
          pthread_mutex_lock(&s->m);
          s->counter = s->counter + 1;
          pthread_mutex_unlock(&s->m);
          for (int k = 0; k < gap; ++k) own[k & 7] = own[k & 7] + 1;
        }
        n += 64;
      } while (now_ns() < deadline);
      s->done[p] = n;
      _exit(0);
    }
  const uint64_t t0 = now_ns();
  s->go = t0 + (uint64_t)(seconds * 1e9);
  for (int p = 0; p < procs; ++p) wait(0);
  const uint64_t t1 = now_ns();
  uint64_t total = 0;
  for (int p = 0; p < procs; ++p) total += s->done[p];
  if (s->counter != total) { fprintf(stderr, "probe_mutex: lost updates\n"); return 1; }
  printf("%.0f\n", (double)total * 1e9 / (double)(t1 - t0));
  return 0;
}
