// conformance_value_test.cc — multiprocessing.Value's documented semantics, method by method, on
// every backend that offers a Value (native, posix, boost).
//
// Python (multiprocessing docs "Shared ctypes Objects", sharedctypes.py; _test_multiprocessing.py's
// _TestValue):
//   Value(typecode, *args, lock=True): a shared object initialised with args (zero without);
//     `.value` reads and writes it, and every process sees the writes.
//   get_lock(): the lock that synchronises access; `with v.get_lock(): v.value += 1` is an exact
//     counter across processes. Here get_lock() is the backend's Lock (Python's is an RLock, and
//     `.value` re-takes it; here load()/store() never take it, so the pattern works with a
//     non-reentrant lock); its timeouts keep Lock's promises (conformance_lock_test.cc).
//   lock=False: no lock, not process-safe for read-modify-write — here fetch_add() is the safe
//     lock-free form.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>

#include "backend_roles.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {
struct Point {  // a ctypes Structure: too large for a lock-free atomic
  double x, y, z;
  int64_t tag;
};
}  // namespace

ROLE_TEST_CASE("Conformance Value: initialised value or zero / reads and writes seen by other processes",
                   "[conformance][value][process]", Value) {
  using V = typename TestType::template Value<int64_t>;
  Shared<V> zero;
  CHECK(zero->load() == 0);
  Shared<V> v(int64_t{-7});
  CHECK(v->load() == -7);
  CHECK(in_child([&] {
          if (v->load() != -7) return 1;
          v->store(123);
          return 0;
        }) == 0);
  CHECK(v->load() == 123);  // the child's write
  v->store(5);
  CHECK(in_child([&] { return v->load() == 5 ? 0 : 1; }) == 0);
  CHECK(v->snapshot() == 5);
  v->assign(6);
  CHECK(v->load() == 6);
  CHECK(v->update([](int64_t x) { return x * 10; }) == 60);
  CHECK(v->load() == 60);
  using D = typename TestType::template Value<double>;
  Shared<D> d(2.5);
  CHECK(d->load() == 2.5);
  using P = typename TestType::template Value<Point>;
  Shared<P> p(Point{1, 2, 3, 4});
  CHECK(in_child([&] {
          const Point q = p->snapshot();
          if (q.x != 1 || q.tag != 4) return 1;
          p->assign(Point{5, 6, 7, 8});
          return 0;
        }) == 0);
  CHECK(p->snapshot().z == 7);
  CHECK(p->snapshot().tag == 8);
}

ROLE_TEST_CASE("Conformance Value: get_lock makes a read-modify-write exact across processes / fetch_add too",
                   "[conformance][value][process]", Value) {
  using V = typename TestType::template Value<uint64_t>;
  Shared<V> v;
  constexpr int kProcs = 3, kOps = 2000;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn_child([&] {
      for (int i = 0; i < kOps; ++i) {
        std::scoped_lock g(v->get_lock());
        const uint64_t x = v->load(std::memory_order_relaxed);
        v->store(x + 1, std::memory_order_relaxed);
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join_within(k, 60) == 0);
  CHECK(v->load() == uint64_t{kProcs} * kOps);
  kids.clear();
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn_child([&] {
      for (int i = 0; i < kOps; ++i) v->fetch_add(1);
      return 0;
    }));
  for (pid_t k : kids) CHECK(join_within(k, 60) == 0);
  CHECK(v->load() == 2 * uint64_t{kProcs} * kOps);
}

ROLE_TEST_CASE("Conformance Value: get_lock held by one process: others see it held / timeouts keep Lock's promises",
                   "[conformance][value][timeout][process]", Value) {
  using V = typename TestType::template Value<int64_t>;
  Shared<V> v;
  HeldByChild h([&] { return v->get_lock().acquire(); }, [&] { v->get_lock().release(); });
  REQUIRE(h.held());
  CHECK(v->get_lock().locked());
  CHECK_FALSE(v->get_lock().acquire(false));
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(v->get_lock().acquire(true, 0.1));
  CHECK(took_at_least(t0, 0.1));
  CHECK(in_child([&] { return v->get_lock().acquire(true, -1.0) ? 1 : 0; }) == 0);  // negative: a poll
  // a huge timeout: still waiting after 0.3 s, then true once released
  Shared<std::atomic<int>> got(0);
  const pid_t waiter = spawn_child([&] {
    if (!v->get_lock().acquire_for(std::chrono::hours::max())) return 1;
    got->store(1);
    v->get_lock().release();
    return 0;
  });
  std::this_thread::sleep_for(300ms);
  CHECK(still_running(waiter));
  CHECK(got->load() == 0);
  CHECK(h.finish() == 0);
  CHECK(join_within(waiter, 10) == 0);
  CHECK(got->load() == 1);
}
