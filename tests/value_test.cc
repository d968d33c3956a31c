// value_test.cc — Value<T> and AtomicValue<T>: atomic load/store/fetch_add without the lock,
// locked update/snapshot/assign for any T, get_lock(), exact counts across processes.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

#include "ipcsync/value.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;

namespace {
struct Big {  // not lock-free as an atomic: only the locked accessors apply
  uint64_t a, b, c, d;
};
}  // namespace

TEST_CASE("Value: load and store and fetch_add and update and the lock it carries", "[value]") {
  static_assert(sizeof(Value<int>) == 128 && alignof(Value<int>) == 64);
  Value<int> v(5);
  CHECK(v.load() == 5);
  v.store(7);
  CHECK(v.fetch_add(3) == 7);
  CHECK(v.load() == 10);
  CHECK(v.update([](int x) { return x * 2; }) == 20);
  CHECK(v.snapshot() == 20);
  v.assign(1);
  CHECK(v.ref() == 1);
  {
    std::scoped_lock g(v.get_lock());  // load/store never take the lock: no self-deadlock
    v.store(v.load() + 1);
    CHECK(v.get_lock().locked());
  }
  CHECK_FALSE(v.get_lock().locked());
  CHECK(v.load() == 2);
  Value<double> d(0.5);
  CHECK(d.fetch_add(0.25) == 0.5);
  CHECK(d.load() == 0.75);
}

TEST_CASE("Value: a T too large for a lock-free atomic goes through the lock", "[value]") {
  Value<Big> v(Big{1, 2, 3, 4});
  CHECK(v.snapshot().d == 4);
  v.assign(Big{5, 6, 7, 8});
  CHECK(v.update([](Big b) { b.a += 10; return b; }).a == 15);
  std::scoped_lock g(v.get_lock());
  CHECK(v.ref().b == 6);
}

TEST_CASE("Value: zero-filled memory is a zero Value with an unlocked lock", "[value]") {
  alignas(64) unsigned char raw[sizeof(Value<uint64_t>)] = {};
  auto* v = reinterpret_cast<Value<uint64_t>*>(raw);
  CHECK(v->load() == 0);
  CHECK_FALSE(v->get_lock().locked());
  v->fetch_add(2);
  CHECK(v->load() == 2);
}

TEST_CASE("Value: locked and atomic increments from 4 processes are exact", "[value][process]") {
  struct S {
    Value<uint64_t> locked;
    AtomicValue<uint64_t> atomic;
    Value<uint64_t> updated;
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < 4; ++p)
    kids.push_back(spawn([&] {
      for (int i = 0; i < 20000; ++i) {
        {
          std::scoped_lock g(s->locked.get_lock());
          s->locked.store(s->locked.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        }
        s->atomic.fetch_add(1);
        if (i % 4 == 0) s->updated.update([](uint64_t x) { return x + 1; });
      }
      return 0;
    }));
  for (pid_t k : kids) CHECK(join(k) == 0);
  CHECK(s->locked.load() == 80000);
  CHECK(s->atomic.load() == 80000);
  CHECK(s->updated.load() == 20000);
}

TEST_CASE("AtomicValue: exchange and compare_exchange and update", "[value]") {
  static_assert(sizeof(AtomicValue<int>) == 64);
  AtomicValue<int> a(3);
  CHECK(a.exchange(4) == 3);
  int expected = 3;
  CHECK_FALSE(a.compare_exchange(expected, 9));
  CHECK(expected == 4);
  CHECK(a.compare_exchange(expected, 9));
  CHECK(a.update([](int x) { return x + 1; }) == 10);
  a.store(-1);
  CHECK(a.load() == -1);
}
