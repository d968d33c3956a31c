// workloads/cinema.cc — the guide's cinema reservations ("Sistema de Reservas de Cine"): a
// Semaphore (or BoundedSemaphore) of --seats permits guards a hall of --seats seats.
//
// Each op is one customer: it wants 1..--party seats (a per-worker xorshift draw) and takes
// that many permits with try_acquire(), never waiting — if the hall cannot seat the whole
// party the booking fails at once and the permits it got are given back (the guide's "si
// intenta reservar más asientos de los que quedan, debe fallar"). A booking that got its
// permits counts them into `held` (more than --seats held is an oversell), claims that many
// concrete seats by compare-and-swap on a seat map (a permit with no free seat left is an
// oversell too), holds them --cs-ns, then cancels: frees each seat (which must still be its
// own: sold to nobody else meanwhile), uncounts, and releases the permits. --think-ns outside.
// A release the semaphore refuses (BoundedSemaphore's over_release) is counted, not fatal.
// Verify: never oversold, no seat sold twice, no release refused; at the end nothing is held,
// every seat is free and all --seats permits are back; bookings + refusals == ops.
#include <atomic>
#include <new>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_cinema {
namespace {

constexpr int kMaxSeats = 4096;
constexpr int kMaxPasses = 1000;  // a held permit that finds no free seat in this many scans: oversold
constexpr uint32_t kExtraEvery = 64;  // extra_release fault: one cancellation in this many

template <class Sem>
struct Shared {
  explicit Shared(uint32_t seats) : sem(seats), seats(seats) {}
  explicit Shared(const RunConfig& c) : Shared(static_cast<uint32_t>(c.param("seats"))) {}
  Sem sem;
  const uint32_t seats;
  alignas(64) std::atomic<uint32_t> held{0};  // seats booked right now
  alignas(64) std::atomic<uint64_t> oversold{0}, seat_errors{0}, refused{0};
  std::atomic<uint64_t> bookings{0}, rejections{0};
  alignas(64) std::atomic<uint32_t> seat[kMaxSeats] = {};  // 0 free, else the holder's index + 1
};

template <class Sem>
Instance make_cinema() {
  using S = Shared<Sem>;
  auto body = [](S* s, WorkerEnv& env) {
    const uint64_t cs = static_cast<uint64_t>(env.cfg->param("cs_ns"));
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    const uint32_t party = static_cast<uint32_t>(env.cfg->param("party"));
    const uint32_t seats = s->seats;
    const uint32_t me = static_cast<uint32_t>(env.index) + 1;
    const bool extra = env.cfg->fault == "extra_release";  // test-only: a cancellation releases one permit too many
    uint64_t x = 0x9e3779b97f4a7c15ull * me;
    uint64_t booked = 0, rejected = 0, cancels = 0;
    uint32_t mine[64];
    auto draw = [&] {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      return x;
    };
    auto release = [&](uint32_t k) {
      try {
        s->sem.release(k);
      } catch (const over_release&) {
        s->refused.fetch_add(1, std::memory_order_relaxed);
      }
    };
    run_ops(env, [&] {
      const uint32_t want = 1 + static_cast<uint32_t>(draw() % party);
      uint32_t got = 0;
      while (got < want && s->sem.try_acquire()) ++got;
      if (got < want) {  // sold out for this party: give back what it took, and fail
        if (got) release(got);
        ++rejected;
        return;
      }
      if (s->held.fetch_add(want, std::memory_order_relaxed) + want > seats)
        s->oversold.fetch_add(1, std::memory_order_relaxed);
      uint32_t claimed = 0;
      uint32_t i = static_cast<uint32_t>(draw() % seats);
      for (uint64_t tries = 0; claimed < want && tries < uint64_t{kMaxPasses} * seats; ++tries, i = i + 1 == seats ? 0 : i + 1) {
        uint32_t free = 0;
        if (s->seat[i].load(std::memory_order_relaxed) == 0 &&
            s->seat[i].compare_exchange_strong(free, me, std::memory_order_acquire))
          mine[claimed++] = i;
      }
      if (claimed < want) s->oversold.fetch_add(1, std::memory_order_relaxed);  // a permit with no seat
      ++booked;
      Clock::busy_ns(cs);
      for (uint32_t c = 0; c < claimed; ++c)
        if (s->seat[mine[c]].exchange(0, std::memory_order_release) != me)
          s->seat_errors.fetch_add(1, std::memory_order_relaxed);
      s->held.fetch_sub(want, std::memory_order_relaxed);
      release(extra && ++cancels % kExtraEvery == 0 ? want + 1 : want);
    }, [&] { Clock::busy_ns(think); });
    s->bookings.fetch_add(booked, std::memory_order_relaxed);
    s->rejections.fetch_add(rejected, std::memory_order_relaxed);
  };
  auto verify = [](S* s, const RunConfig&, const Totals& t) {
    uint32_t taken = 0;
    for (uint32_t i = 0; i < s->seats; ++i) taken += s->seat[i].load() != 0;
    int64_t value = -1;  // the permits left, where the role can tell
    if constexpr (requires { s->sem.value(); }) value = static_cast<int64_t>(s->sem.value());
    const uint64_t booked = s->bookings.load(), rejected = s->rejections.load();
    VerifyResult r;
    r.ok = s->oversold.load() == 0 && s->seat_errors.load() == 0 && s->refused.load() == 0 && s->held.load() == 0 &&
           taken == 0 && (value < 0 || value == s->seats) && booked + rejected == t.warm_ops + t.ops && booked > 0;
    r.detail = "seats=" + std::to_string(s->seats) + " bookings=" + std::to_string(booked) +
               " sold_out=" + std::to_string(rejected) + " oversold=" + std::to_string(s->oversold.load()) +
               " seat_errors=" + std::to_string(s->seat_errors.load()) +
               " refused_releases=" + std::to_string(s->refused.load()) +
               (value >= 0 ? " permits_left=" + std::to_string(value) : "") +
               (taken ? " seats_still_taken=" + std::to_string(taken) : "");
    return r;
  };
  return instance_of<S>(body, verify);
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Semaphore, roles::BoundedSemaphore>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_cinema<roles::type_of<R, B>>();
  });
}

IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "cinema",
    .description = "Customers book 1..party seats of a hall guarded by a Semaphore of --seats permits, hold them, cancel (never oversold)",
    .primitives = DrivenRoles::names(),
    .default_for = {},
    .params = {{"seats", "seats in the hall (the semaphore's permits)", 8, 1, kMaxSeats},
               {"party", "a customer books 1..party seats at once", 4, 1, 64},
               {"cs_ns", "busy work inside the critical section (ns): how long a booking holds its seats", 1000, 0, 1'000'000'000},
               {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}},
    .python_primitives = {},
    .faults = {"extra_release"},
    .make = make,
    .validate = {},
    .default_sample_every = 64,
});

}  // namespace
}  // namespace ipcsync::harness::wl_cinema
