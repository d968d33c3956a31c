// value_backends_test.cc — Value and Array semantics on every backend that offers them (native,
// posix, boost): atomic access beside the backend's guarding lock, the guide's
// `with v.get_lock(): v.value += 1` across processes, bounds checks, slices, run-time sizes.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "backend_roles.hpp"
#include "ipcsync/shm.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

ROLE_TEST_CASE("Value backends: load and store and fetch_add and the locked helpers", "[value][backends]",
                   Value) {
  using V = typename TestType::template Value<int64_t>;
  Shared<V> v(int64_t{5});
  CHECK(v->load() == 5);
  v->store(7);
  CHECK(v->fetch_add(3) == 7);
  CHECK(v->load() == 10);
  CHECK(v->update([](int64_t x) { return x * 2; }) == 20);
  CHECK(v->snapshot() == 20);
  v->assign(-1);
  CHECK(v->load() == -1);
  {
    std::scoped_lock g(v->get_lock());  // load/store never take it, so this cannot deadlock
    v->store(v->load() + 1);
    CHECK(v->ref() == 0);
    CHECK_FALSE(v->get_lock().try_acquire());
  }
  CHECK_FALSE(v->get_lock().locked());
  Shared<V> zero;
  CHECK(zero->load() == 0);
}

ROLE_TEST_CASE("Value backends: increments under get_lock in several processes are exact", "[value][backends][process]",
                   Value) {
  using V = typename TestType::template Value<uint64_t>;
  Shared<V> v;
  constexpr int kProcs = 3, kOps = 3000;
  // Two phases, each joined before the next: a locked load+store racing an unlocked fetch_add
  // on the same word would lose updates by design (only one mechanism may guard a variable).
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn_child([&] {
      for (int i = 0; i < kOps; ++i) {
        std::scoped_lock g(v->get_lock());
        const uint64_t x = v->load(std::memory_order_relaxed);  // a read-modify-write window
        v->store(x + 1, std::memory_order_relaxed);
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(v->load() == uint64_t{kProcs} * kOps);
  kids.clear();
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn_child([&] {
      for (int i = 0; i < kOps; ++i) v->fetch_add(1);  // the atomic read-modify-write helper
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(v->load() == uint64_t{2} * kProcs * kOps);
}

ROLE_TEST_CASE("Array backends: elements and bounds and slices", "[array][backends][errors]", Array) {
  using A = typename TestType::template Array<int, 6>;
  Shared<A> a;
  CHECK(a->size() == 6);
  for (std::size_t i = 0; i < 6; ++i) CHECK(a->load(i) == 0);
  for (std::size_t i = 0; i < 6; ++i) a->store(i, static_cast<int>(i * 10));
  CHECK(a->fetch_add(2, 5) == 20);
  CHECK((*a)[2] == 25);
  CHECK(a->at(5) == 50);
  CHECK_THROWS_AS(a->at(6), std::out_of_range);
  CHECK_THROWS_AS(a->load(6), std::out_of_range);
  CHECK_THROWS_AS(a->store(99, 1), std::out_of_range);
  CHECK(a->slice(1, 4) == std::vector<int>{10, 25, 30});
  CHECK(a->slice().size() == 6);
  CHECK_THROWS_AS(a->slice(4, 7), std::out_of_range);
  CHECK_THROWS_AS(a->slice(3, 2), std::out_of_range);
  CHECK(a->locked_slice(0, 2) == std::vector<int>{0, 10});
  CHECK_FALSE(a->get_lock().locked());
}

ROLE_TEST_CASE("Array backends: a run-time size placed with bytes_for and create_at", "[array][backends]",
                   Array) {
  using A = typename TestType::template Array<double>;
  AnonymousRegion region(A::bytes_for(100));
  A* a = A::create_at(region.data(), 100);
  CHECK(a->size() == 100);
  CHECK(a->load(99) == 0.0);
  a->store(99, 1.5);
  CHECK(a->slice(98, 100) == std::vector<double>{0.0, 1.5});
  CHECK_THROWS_AS(a->at(100), std::out_of_range);
  std::destroy_at(a);
}

ROLE_TEST_CASE("Array backends: a histogram filled by several processes under get_lock sums to the ops",
                   "[array][backends][process]", Array) {
  using A = typename TestType::template Array<uint64_t, 8>;
  Shared<A> a;
  constexpr int kProcs = 3, kOps = 2000;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn_child([&, p] {
      for (int i = 0; i < kOps; ++i) {
        const std::size_t b = static_cast<std::size_t>((i * 7 + p) % 8);
        std::scoped_lock g(a->get_lock());
        a->store(b, a->load(b, std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  uint64_t sum = 0;
  for (uint64_t x : a->slice()) sum += x;
  CHECK(sum == uint64_t{kProcs} * kOps);
}
