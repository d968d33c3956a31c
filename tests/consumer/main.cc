// A program that uses ipcsync as an installed library: 4 processes add to one counter under an
// ipcsync::Lock that lives in shared memory, as the guide's first exercise does with Python.
#include <ipcsync/lock.hpp>
#include <ipcsync/shm.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>

int main() {
  ipcsync::AnonymousRegion shm(4096);  // MAP_SHARED | MAP_ANONYMOUS, inherited across fork
  auto* lock = shm.make<ipcsync::Lock>();
  auto* counter = shm.make<long>(0);
  for (int p = 0; p < 4; ++p)
    if (fork() == 0) {
      for (int i = 0; i < 100000; ++i) {
        std::scoped_lock guard(*lock);  // Python's `with lock:`
        ++*counter;
      }
      _exit(0);
    }
  while (wait(nullptr) > 0) {}
  std::printf("counter = %ld\n", *counter);
  return *counter == 400000 ? 0 : 1;
}
