/* probe_sem: two processes, pinned to PUs A and B, bounce a message through two process-shared
 * sem_t (post / wait). Prints ns per round trip. */
#include "common.h" /* first: it defines _GNU_SOURCE */
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void pin(int pu) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(pu, &s); sched_setaffinity(0, sizeof s, &s); }

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: probe_sem PU_A PU_B [ROUND_TRIPS]\n"); return 2; }
  const int a = atoi(argv[1]), b = atoi(argv[2]);
  const long n = argc > 3 ? atol(argv[3]) : 100000;
  sem_t* s = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) return 1;
  sem_init(&s[0], 1, 0);
  sem_init(&s[8], 1, 0); /* a line apart */
  const pid_t pid = fork();
  if (pid == 0) {
    pin(b);
    for (long i = 0; i < n; ++i) { sem_wait(&s[0]); sem_post(&s[8]); }
    _exit(0);
  }
  pin(a);
  const uint64_t t0 = now_ns();
  for (long i = 0; i < n; ++i) { sem_post(&s[0]); sem_wait(&s[8]); }
  const uint64_t t1 = now_ns();
  waitpid(pid, 0, 0);
  printf("%.1f\n", (double)(t1 - t0) / (double)n);
  return 0;
}
