/* common.h — what every C probe shares: pinning to the n-th allowed PU, a monotonic clock. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* pin_nth(): binds the caller to the n-th PU (wrapping) of the affinity mask it inherited. */
static inline void pin_nth(const cpu_set_t* allowed, int n) {
  int count = CPU_COUNT(allowed), k = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, allowed) && ++k == n % count) {
      cpu_set_t s;
      CPU_ZERO(&s);
      CPU_SET(cpu, &s);
      sched_setaffinity(0, sizeof s, &s);
      return;
    }
}
