// guide_test.cc — the worked examples of the concurrency guide (../shared/seeds, Spanish), each
// as a test with the outcome the guide states, on ipcsync's primitives in forked processes.
// The guide's sleeps are scaled down to milliseconds; its prints become checks.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "ipcsync/array.hpp"
#include "ipcsync/barrier.hpp"
#include "ipcsync/bounded_semaphore.hpp"
#include "ipcsync/condition.hpp"
#include "ipcsync/event.hpp"
#include "ipcsync/lock.hpp"
#include "ipcsync/queue.hpp"
#include "ipcsync/rlock.hpp"
#include "ipcsync/semaphore.hpp"
#include "ipcsync/shm.hpp"
#include "ipcsync/value.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;

namespace {

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

int random_ms(int lo, int hi) {
  static thread_local std::mt19937 rng(static_cast<unsigned>(getpid()));
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

void join_all(const std::vector<pid_t>& kids) {
  for (pid_t k : kids) CHECK(join(k) == 0);
}

}  // namespace

// 1.4 Contador Seguro: two processes, 10000 locked increments each -> exactly 20000.
TEST_CASE("guide: the safe counter with a Lock ends at exactly 20000", "[guide][lock][value]") {
  struct S {
    Value<int> counter{0};
    Lock lock;
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < 2; ++p)
    kids.push_back(spawn([&] {
      for (int i = 0; i < 10000; ++i) {
        std::scoped_lock g(s->lock);
        const int temp = s->counter.load(std::memory_order_relaxed);
        s->counter.store(temp + 1, std::memory_order_relaxed);
      }
      return 0;
    }));
  join_all(kids);
  CHECK(s->counter.load() == 20000);
}

// 2.4 / 2.5 AccountRL: deposit and withdraw_and_log both take the RLock and call
// _internal_update, which takes it again. Two processes: 1000 + 2*200 - 2*100 = 1200.
TEST_CASE("guide: the RLock account with nested deposit and withdraw ends at 1200", "[guide][rlock]") {
  struct Account {
    RLock lock;
    Value<double> balance{1000.0};
    int max_depth = 0;
    void internal_update(double amount) {
      std::scoped_lock g(lock);  // explicit re-acquisition: fine with an RLock
      max_depth = std::max(max_depth, static_cast<int>(lock.depth()));
      sleep_ms(1);
      balance.store(balance.load() + amount);
    }
    void deposit(double amount) {
      std::scoped_lock g(lock);
      internal_update(amount);
    }
    bool withdraw_and_log(double amount) {
      std::scoped_lock g(lock);
      if (balance.load() < amount) return false;
      internal_update(-amount);
      return true;
    }
  };
  Shared<Account> acc;
  std::vector<pid_t> kids;
  for (int p = 0; p < 2; ++p)
    kids.push_back(spawn([&] {
      acc->deposit(200);
      return acc->withdraw_and_log(100) ? 0 : 1;
    }));
  join_all(kids);
  CHECK(acc->balance.load() == 1200.0);
  CHECK(acc->max_depth == 2);
  CHECK_FALSE(acc->lock.locked());
  // 2.4: three processes each acquire twice without deadlocking.
  std::vector<pid_t> twice;
  for (int p = 0; p < 3; ++p)
    twice.push_back(spawn([&] {
      acc->lock.acquire();
      acc->lock.acquire();
      sleep_ms(5);
      acc->lock.release();
      acc->lock.release();
      return 0;
    }));
  join_all(twice);
}

// 3.4 Pool de Conexiones: Semaphore(3), 10 processes: never more than 3 connected at once.
TEST_CASE("guide: the 3-connection pool never has more than 3 holders among 10 processes", "[guide][semaphore]") {
  struct S {
    Semaphore sem{3};
    std::atomic<int> holders{0}, max_holders{0}, served{0};
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < 10; ++p)
    kids.push_back(spawn([&] {
      s->sem.acquire();
      const int h = s->holders.fetch_add(1) + 1;
      int m = s->max_holders.load();
      while (h > m && !s->max_holders.compare_exchange_weak(m, h)) {
      }
      sleep_ms(random_ms(15, 30));
      s->holders.fetch_sub(1);
      s->served.fetch_add(1);
      s->sem.release();
      return 0;
    }));
  join_all(kids);
  CHECK(s->served.load() == 10);
  CHECK(s->max_holders.load() <= 3);
  CHECK(s->max_holders.load() == 3);  // with 10 contenders the pool does fill up
  CHECK(s->sem.value() == 3);
}

// 3.5 Buffer Limitado: empty_s = Semaphore(5), full_s = Semaphore(0) around a queue; the
// producer never finds the buffer full, the consumer never finds it empty, order is kept.
TEST_CASE("guide: the bounded buffer with an empty and a full semaphore delivers every item in order",
          "[guide][semaphore][queue]") {
  struct S {
    Semaphore empty{5}, full{0};
    Queue<int, 5> buffer;
    std::atomic<int> max_fill{0};
    int received[10] = {};
  };
  Shared<S> s;
  const pid_t producer = spawn([&] {
    for (int i = 0; i < 10; ++i) {
      s->empty.acquire();
      s->buffer.put_nowait(i);  // never full: empty_s counted the room
      const int fill = static_cast<int>(s->buffer.qsize());
      if (fill > s->max_fill.load()) s->max_fill.store(fill);
      if (i % 3 == 0) sleep_ms(1);
      s->full.release();
    }
    return 0;
  });
  const pid_t consumer = spawn([&] {
    for (int i = 0; i < 10; ++i) {
      s->full.acquire();
      s->received[i] = s->buffer.get_nowait();  // never empty: full_s counted the items
      if (i % 4 == 0) sleep_ms(2);
      s->empty.release();
    }
    return 0;
  });
  CHECK(join(producer) == 0);
  CHECK(join(consumer) == 0);
  for (int i = 0; i < 10; ++i) CHECK(s->received[i] == i);
  CHECK(s->max_fill.load() <= 5);
  CHECK(s->empty.value() == 5);
  CHECK(s->full.value() == 0);
}

// 4.4 BoundedSemaphore(1): the worker's second release raises ValueError (over_release), and so
// does the main process's release afterwards.
TEST_CASE("guide: BoundedSemaphore's extra release raises in the worker and in the main process",
          "[guide][bounded_semaphore]") {
  Shared<BoundedSemaphore> b(1u);
  const pid_t worker = spawn([&] {
    b->acquire();
    sleep_ms(5);
    b->release();
    try {
      b->release();
    } catch (const over_release&) {
      return 0;  // "¡ERROR! ..."
    }
    return 1;
  });
  CHECK(join(worker) == 0);
  CHECK_THROWS_AS(b->release(), over_release);
  CHECK(b->value() == 1);
  // 4.5: a pool of 2 connections, 5 processes, each releasing twice by mistake: every one of
  // them catches the error, and the pool ends intact.
  Shared<BoundedSemaphore> pool(2u);
  std::vector<pid_t> kids;
  for (int p = 0; p < 5; ++p)
    kids.push_back(spawn([&] {
      try {
        pool->acquire();
        sleep_ms(random_ms(2, 8));
        pool->release();
        pool->release();  // the deliberate mistake
      } catch (const over_release&) {
        return 0;  // "¡ERROR DETECTADO!"
      }
      return 1;
    }));
  // A double release succeeds only while another process holds a permit, and then some later
  // release is refused instead: of the 10 releases only 5 can succeed (2 permits, 5 acquires),
  // so at least 3 of the 5 processes must catch the error, and the count never passes 2.
  int refused = 0;
  for (pid_t k : kids) refused += join(k) == 0;
  CHECK(refused >= 3);
  CHECK(pool->value() == 2);
}

// 5.4 Productor-Consumidor con Condition: the producer sets 1..5 and notify_all()s each time;
// three consumers wait while value < 3 and wake seeing value >= 3.
TEST_CASE("guide: Condition consumers wake only at value >= 3", "[guide][condition]") {
  struct S {
    Lock lock;
    Condition<Lock> cond{lock};
    Value<int> value{0};
    int seen[3] = {};
    std::atomic<int> waiting{0};
  };
  Shared<S> s;
  std::vector<pid_t> consumers;
  for (int c = 0; c < 3; ++c)
    consumers.push_back(spawn([&, c] {
      std::scoped_lock g(s->cond);
      s->waiting.fetch_add(1);
      while (s->value.load() < 3) s->cond.wait();
      s->seen[c] = s->value.load();
      return 0;
    }));
  while (s->waiting.load() < 3) sleep_ms(1);
  const pid_t producer = spawn([&] {
    for (int i = 1; i <= 5; ++i) {
      {
        std::scoped_lock g(s->cond);
        s->value.store(i);
        s->cond.notify_all();
      }
      sleep_ms(10);
    }
    return 0;
  });
  CHECK(join(producer) == 0);
  join_all(consumers);
  for (int c = 0; c < 3; ++c) CHECK(s->seen[c] >= 3);
}

// 6.4 Event: five waiters, released together by one set() from a setter process.
TEST_CASE("guide: five Event waiters are all released by one set", "[guide][event]") {
  struct S {
    Event event;
    std::atomic<int> released{0};
    std::atomic<int> early{0};
  };
  Shared<S> s;
  std::vector<pid_t> waiters;
  for (int w = 0; w < 5; ++w)
    waiters.push_back(spawn([&] {
      s->event.wait();
      if (!s->event.is_set()) s->early.fetch_add(1);
      s->released.fetch_add(1);
      return 0;
    }));
  sleep_ms(30);
  CHECK(s->released.load() == 0);  // nobody passes before the set
  const pid_t setter = spawn([&] {
    sleep_ms(20);
    s->event.set();
    return 0;
  });
  CHECK(join(setter) == 0);
  join_all(waiters);
  CHECK(s->released.load() == 5);
  CHECK(s->early.load() == 0);
}

// 7.4 Trabajo por Fases: 4 processes, random phase-1 work, Barrier; nobody starts phase 2 before
// all four finished phase 1; wait() returns distinct indexes 0..3. 7.5: a 3x4 matrix updated in
// 2 phases, the arrival with index 0 announcing each phase once.
TEST_CASE("guide: nobody enters phase 2 before every process finished phase 1", "[guide][barrier]") {
  struct S {
    Barrier barrier{4};
    std::atomic<int> phase1_done{0};
    std::atomic<int> early{0};
    std::atomic<uint32_t> indexes{0};
  };
  Shared<S> s;
  std::vector<pid_t> kids;
  for (int p = 0; p < 4; ++p)
    kids.push_back(spawn([&] {
      sleep_ms(random_ms(5, 30));  // phase 1
      s->phase1_done.fetch_add(1);
      const uint32_t idx = s->barrier.wait();
      if (s->phase1_done.load() != 4) s->early.fetch_add(1);  // phase 2 starts here
      s->indexes.fetch_or(1u << idx);
      sleep_ms(random_ms(1, 10));
      return 0;
    }));
  join_all(kids);
  CHECK(s->early.load() == 0);
  CHECK(s->indexes.load() == 0xfu);

  struct M {
    Barrier barrier{3};
    Array<int, 12> matrix;
    std::atomic<int> announced[2] = {};
  };
  Shared<M> m;
  std::vector<pid_t> rows;
  for (int row = 0; row < 3; ++row)
    rows.push_back(spawn([&, row] {
      for (int phase = 0; phase < 2; ++phase) {
        {
          std::scoped_lock g(m->matrix.get_lock());
          for (int col = 0; col < 4; ++col) m->matrix[static_cast<std::size_t>(row * 4 + col)] += (row + 1) * (phase + 1);
        }
        sleep_ms(random_ms(1, 5));
        if (m->barrier.wait() == 0) m->announced[phase].fetch_add(1);
      }
      return 0;
    }));
  join_all(rows);
  for (int row = 0; row < 3; ++row)
    for (int col = 0; col < 4; ++col) CHECK(m->matrix[static_cast<std::size_t>(row * 4 + col)] == (row + 1) * 3);
  CHECK(m->announced[0].load() == 1);
  CHECK(m->announced[1].load() == 1);
}

// 8.4 Productor-Consumidor con Queue: the producer puts 5 tasks and one "DONE_Q" per consumer;
// consumers stop at the sentinel having seen every task once. Messages are strings, so this is
// the byte-message queue.
TEST_CASE("guide: the Queue producer and consumers end on the DONE sentinel", "[guide][queue]") {
  AnonymousRegion region(MessageQueue::bytes_for(8, 64) + (1 << 16));
  MessageQueue* q = region.make_sized<MessageQueue>(MessageQueue::bytes_for(8, 64), 8u, 64u);
  auto* got = region.make<std::atomic<int>>(0);
  auto* sum = region.make<std::atomic<int>>(0);
  for (int consumers : {1, 2}) {
    got->store(0);
    sum->store(0);
    const pid_t producer = spawn([&] {
      for (int i = 0; i < 5; ++i) {
        q->put("Tarea " + std::to_string(i) + " from PID " + std::to_string(getpid()) + " (Queue)");
        sleep_ms(2);
      }
      for (int c = 0; c < consumers; ++c) q->put("DONE_Q");  // one sentinel per consumer
      return 0;
    });
    std::vector<pid_t> kids;
    for (int c = 0; c < consumers; ++c)
      kids.push_back(spawn([&] {
        for (;;) {
          const std::string task = q->get();
          if (task == "DONE_Q") return 0;
          if (task.rfind("Tarea ", 0) != 0) return 1;
          got->fetch_add(1);
          sum->fetch_add(task[6] - '0');
        }
      }));
    CHECK(join(producer) == 0);
    join_all(kids);
    CHECK(got->load() == 5);
    CHECK(sum->load() == 0 + 1 + 2 + 3 + 4);
    CHECK(q->empty());
  }
}

// 9.5 Flag de Parada con Value: three workers loop until the manager sets the flag to 1 under
// the lock; all of them stop.
TEST_CASE("guide: the Value stop flag stops every worker", "[guide][value]") {
  struct S {
    Value<int> stop_flag{0};
    Lock lock;
    std::atomic<int> iterations[3] = {};
  };
  Shared<S> s;
  std::vector<pid_t> workers;
  for (int w = 0; w < 3; ++w)
    workers.push_back(spawn([&, w] {
      for (;;) {
        {
          std::scoped_lock g(s->lock);
          if (s->stop_flag.load() == 1) return 0;
        }
        s->iterations[w].fetch_add(1);
        sleep_ms(random_ms(2, 5));
      }
    }));
  const pid_t manager = spawn([&] {
    sleep_ms(40);
    std::scoped_lock g(s->lock);
    s->stop_flag.store(1);
    return 0;
  });
  CHECK(join(manager) == 0);
  join_all(workers);  // a worker that missed the flag would hang here
  for (int w = 0; w < 3; ++w) CHECK(s->iterations[w].load() >= 1);
}

// 10.4 Llenado Paralelo: two processes fill the two halves of a 10-int Array under its lock.
TEST_CASE("guide: two processes fill an Array in parallel", "[guide][array]") {
  Shared<Array<int, 10>> arr;
  CHECK(arr->locked_slice(0, 10) == std::vector<int>(10, 0));  // "Array inicial"
  auto fill = [&](std::size_t start, std::size_t count, int base) {
    return spawn([&, start, count, base] {
      for (std::size_t i = 0; i < count; ++i) {
        const int v = base + random_ms(0, static_cast<int>(i) * 10);
        std::scoped_lock g(arr->get_lock());
        arr->at(start + i) = v;
      }
      return 0;
    });
  };
  const pid_t p1 = fill(0, 5, 100), p2 = fill(5, 5, 200);
  CHECK(join(p1) == 0);
  CHECK(join(p2) == 0);
  const std::vector<int> final = arr->locked_slice(0, 10);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(final[i] >= 100);
    CHECK(final[i] <= 100 + static_cast<int>(i) * 10);
    CHECK(final[5 + i] >= 200);
    CHECK(final[5 + i] <= 200 + static_cast<int>(i) * 10);
  }
}

// 10.5 Inversión Paralela: an 11-element Array [0..10] reversed by 2 workers swapping pairs
// (i, 10-i) under its lock -> [10..0], the middle element untouched.
TEST_CASE("guide: parallel reversal of an 11-element Array", "[guide][array]") {
  constexpr std::size_t kSize = 11;
  constexpr int kWorkers = 2;
  Shared<Array<int, kSize>> arr;
  for (std::size_t i = 0; i < kSize; ++i) arr->store(i, static_cast<int>(i));
  std::vector<pid_t> kids;
  for (int w = 0; w < kWorkers; ++w)
    kids.push_back(spawn([&, w] {
      for (std::size_t i = static_cast<std::size_t>(w); i < kSize / 2; i += kWorkers) {
        const std::size_t j = kSize - 1 - i;
        std::scoped_lock g(arr->get_lock());
        const int temp = arr->at(i);
        arr->at(i) = arr->at(j);
        arr->at(j) = temp;
      }
      return 0;
    }));
  join_all(kids);
  CHECK(arr->locked_slice(0, kSize) == std::vector<int>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
}
