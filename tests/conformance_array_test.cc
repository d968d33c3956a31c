// conformance_array_test.cc — multiprocessing.Array's documented semantics, method by method, on
// every backend that offers an Array (native, posix, boost).
//
// Python (multiprocessing docs "Shared ctypes Objects", sharedctypes.py; _test_multiprocessing.py's
// _TestArray):
//   Array(typecode, size_or_initializer, lock=True): `size` zero-initialised elements; len() is
//     the size; a[i] reads and writes element i, seen by every process; an index outside
//     0..len-1 raises IndexError (std::out_of_range here); a[i:j] copies a slice out.
//   get_lock(): the lock that synchronises access (the backend's Lock here; Python's RLock).
// Differences (by design of the C++ API, see array.hpp): indexes are size_t, so Python's
// negative indexes from the end do not exist (a "negative" index is huge: out_of_range); a
// slice outside 0..len throws out_of_range instead of being clamped.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "backend_roles.hpp"
#include "ipcsync/shm.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

ROLE_TEST_CASE("Conformance Array: zero-initialised / len is the size / elements seen by other processes",
                   "[conformance][array][process]", Array) {
  using A = typename TestType::template Array<int64_t, 5>;
  Shared<A> a;
  CHECK(a->size() == 5);
  for (std::size_t i = 0; i < 5; ++i) CHECK(a->load(i) == 0);
  CHECK(a->slice() == std::vector<int64_t>(5, 0));
  CHECK(in_child([&] {
          for (std::size_t i = 0; i < 5; ++i) a->store(i, static_cast<int64_t>(i * i));
          a->at(4) = -1;
          return 0;
        }) == 0);
  CHECK(a->slice() == std::vector<int64_t>{0, 1, 4, 9, -1});
  CHECK(a->slice(1, 3) == std::vector<int64_t>{1, 4});
  CHECK(a->slice(2, 2).empty());
  CHECK(a->locked_slice(0, 2) == std::vector<int64_t>{0, 1});
  CHECK(a->fetch_add(1, 10) == 1);
  CHECK(in_child([&] { return a->load(1) == 11 ? 0 : 1; }) == 0);
}

ROLE_TEST_CASE("Conformance Array: an index or slice outside 0..len is std::out_of_range (IndexError)",
                   "[conformance][array][errors]", Array) {
  using A = typename TestType::template Array<int32_t, 4>;
  Shared<A> a;
  CHECK_THROWS_AS(a->load(4), std::out_of_range);
  CHECK_THROWS_AS(a->store(4, 1), std::out_of_range);
  CHECK_THROWS_AS(a->fetch_add(99, 1), std::out_of_range);
  CHECK_THROWS_AS(a->at(4), std::out_of_range);
  CHECK_THROWS_AS(a->at(static_cast<std::size_t>(-1)), std::out_of_range);  // Python's a[-1] has no spelling
  CHECK_THROWS_AS(a->slice(0, 5), std::out_of_range);
  CHECK_THROWS_AS(a->slice(3, 2), std::out_of_range);
  CHECK_NOTHROW(a->slice(0, 4));
  CHECK(a->slice() == std::vector<int32_t>(4, 0));  // nothing was written by the refused calls
}

ROLE_TEST_CASE("Conformance Array: a size chosen at run time / and exact updates under get_lock across processes",
                   "[conformance][array][process]", Array) {
  using A = typename TestType::template Array<uint64_t>;
  const std::size_t n = opaque(std::size_t{6});
  AnonymousRegion region(A::bytes_for(n));
  A* a = A::create_at(region.data(), n);
  CHECK(a->size() == 6);
  CHECK_THROWS_AS(a->load(6), std::out_of_range);
  constexpr int kProcs = 3, kOps = 1500;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p)
    kids.push_back(spawn_child([&, p] {
      for (int i = 0; i < kOps; ++i) {
        std::scoped_lock g(a->get_lock());
        for (std::size_t j = 0; j < a->size(); ++j) (*a)[j] = (*a)[j] + 1;  // plain memory, under the lock
        a->at(static_cast<std::size_t>(p)) += 0;
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join_within(k, 60) == 0);
  std::scoped_lock g(a->get_lock());
  for (std::size_t j = 0; j < n; ++j) CHECK(a->load(j) == uint64_t{kProcs} * kOps);
}
