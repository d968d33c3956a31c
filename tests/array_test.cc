// array_test.cc — Array<T, N> and Array<T>: bounds-checked at()/load()/store() throwing
// std::out_of_range, slices copied out, run-time size with trailing storage, atomic element
// updates and locked read-modify-writes across processes.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "ipcsync/array.hpp"
#include "ipcsync/shm.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;

TEST_CASE("Array: at and load and store are bounds-checked and slices copy out", "[array][errors]") {
  Array<int, 5> a;
  CHECK(a.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) CHECK(a.load(i) == 0);
  for (std::size_t i = 0; i < 5; ++i) a.store(i, static_cast<int>(i * 10));
  CHECK(a[2] == 20);
  a.at(4) = 41;
  CHECK(a.at(4) == 41);
  CHECK_THROWS_AS(a.at(5), std::out_of_range);
  CHECK_THROWS_AS(a.load(5), std::out_of_range);
  CHECK_THROWS_AS(a.store(99, 1), std::out_of_range);
  CHECK_THROWS_AS(a.fetch_add(5, 1), std::out_of_range);
  CHECK(a.slice() == std::vector<int>{0, 10, 20, 30, 41});
  CHECK(a.slice(1, 3) == std::vector<int>{10, 20});
  CHECK(a.slice(2, 2).empty());
  CHECK_THROWS_AS(a.slice(3, 2), std::out_of_range);
  CHECK_THROWS_AS(a.slice(0, 6), std::out_of_range);
  CHECK(a.locked_slice(3, 5) == std::vector<int>{30, 41});
  int out[2];
  a.copy_out(0, 2, out);
  CHECK(out[1] == 10);
  CHECK(a.fetch_add(0, 5) == 0);
  CHECK(a.load(0) == 5);
}

TEST_CASE("Array: zero-filled memory is an all-zero Array with an unlocked lock", "[array]") {
  using A = Array<uint32_t, 16>;
  alignas(64) static unsigned char raw[sizeof(A)];
  std::memset(raw, 0, sizeof raw);
  auto* a = reinterpret_cast<A*>(raw);
  CHECK(a->size() == 16);
  CHECK(a->slice() == std::vector<uint32_t>(16, 0));
  CHECK_FALSE(a->get_lock().locked());
}

TEST_CASE("Array: a run-time size keeps its elements after the object", "[array]") {
  using A = Array<double>;
  AnonymousRegion region(A::bytes_for(1000) + 64);
  A* a = region.make_sized<A>(A::bytes_for(1000), std::size_t{1000});
  CHECK(a->size() == 1000);
  CHECK(A::bytes_for(1000) == sizeof(A) + 1000 * sizeof(double));
  a->store(999, 1.5);
  CHECK(a->load(999) == 1.5);
  CHECK_THROWS_AS(a->load(1000), std::out_of_range);
  CHECK(a->slice(998, 1000) == std::vector<double>{0.0, 1.5});
}

TEST_CASE("Array: atomic element adds and locked read-modify-writes from 4 processes are exact",
          "[array][process]") {
  Shared<Array<uint64_t, 8>> a;
  std::vector<pid_t> kids;
  for (int p = 0; p < 4; ++p)
    kids.push_back(spawn([&, p] {
      for (int i = 0; i < 10000; ++i) {
        a->fetch_add(static_cast<std::size_t>(i % 4), 1);  // bins 0..3: lock-free
        std::scoped_lock g(a->get_lock());                // bins 4..7: plain RMW under the lock
        uint64_t& x = (*a)[4 + static_cast<std::size_t>((i + p) % 4)];
        x = x + 1;
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(a->slice() == std::vector<uint64_t>(8, 10000));
}
