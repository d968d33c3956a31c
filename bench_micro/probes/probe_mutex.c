/* probe_mutex: P processes lock, increment a shared counter, unlock, on one process-shared
 * pthread mutex (robust or plain), pinned one per allowed PU. Prints total ops/s. */
#include "common.h" /* first: it defines _GNU_SOURCE */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared { pthread_mutex_t m; _Alignas(64) volatile uint64_t counter; _Alignas(64) volatile int go; };

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: probe_mutex PROCS robust|plain [OPS_PER_PROC]\n"); return 2; }
  const int procs = atoi(argv[1]);
  const int robust = strcmp(argv[2], "robust") == 0;
  const uint64_t n = argc > 3 ? strtoull(argv[3], 0, 10) : 2000000;
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
      for (uint64_t i = 0; i < n; ++i) {
        pthread_mutex_lock(&s->m);
        s->counter = s->counter + 1;
        pthread_mutex_unlock(&s->m);
      }
      _exit(0);
    }
  const uint64_t t0 = now_ns();
  s->go = 1;
  for (int p = 0; p < procs; ++p) wait(0);
  const uint64_t t1 = now_ns();
  if (s->counter != n * (uint64_t)procs) { fprintf(stderr, "probe_mutex: lost updates\n"); return 1; }
  printf("%.0f\n", (double)(n * (uint64_t)procs) * 1e9 / (double)(t1 - t0));
  return 0;
}
