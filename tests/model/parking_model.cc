// parking_model.cc — the parking protocol itself (parking.hpp: sleepers, awake, seq; one spinner,
// the woken inherits the flag, the leaving waiter passes a wake on, the park slice's repair),
// with a counted predicate as Queue and RLock use it: post() publishes a token with a seq_cst
// RMW and calls wake_one(); waiters take a token with a CAS.
//   no lost wake-up: a waiter asleep while a token is available is a deadlock;
//   visibility: the poster's writes before post() are visible to the taker of its token;
//   the slice: with timed park slices (suite parking_slices), waiters also time out at any
//     point and run the quiet-slice repair (clearing a possibly live holder's flag), which must
//     cost at most extra wake-ups, never a wrong result.
#include "ipcsync/parking.hpp"
#include "model.hpp"

namespace {
using namespace ipcsync;

template <int Waiters>
struct ParkingTokens : rl::test_suite<ParkingTokens<Waiters>, Waiters + 1> {
  detail::Parking park;
  detail::atomic<uint32_t> tokens{0};
  rl::var<int> payload;

  bool take() {
    uint32_t t = tokens.load(std::memory_order_relaxed);
    while (t != 0)
      if (tokens.compare_exchange_weak(t, t - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    return false;
  }
  void post() {
    tokens.fetch_add(1, std::memory_order_seq_cst);
    park.wake_one();
  }
  void before() { payload($) = 0; }
  void thread(unsigned i) {
    if (i == 0) {
      payload($) = 42;
      for (int k = 0; k < Waiters; ++k) post();
    } else {
      park.wait_until([&] { return take(); }, [&] { return tokens.load(std::memory_order_seq_cst) != 0; },
                      kNoDeadline, /*heavy=*/false);
      RL_ASSERT(payload($) == 42);
    }
  }
  void after() { RL_ASSERT(tokens.load(std::memory_order_relaxed) == 0); }
};

// Tokens passed around: each thread takes one, works, and posts it back (a mutex on Parking).
struct ParkingMutex : rl::test_suite<ParkingMutex, 3> {
  detail::Parking park;
  detail::atomic<uint32_t> tokens{1};
  rl::var<int> data;
  bool take() {
    uint32_t t = tokens.load(std::memory_order_relaxed);
    while (t != 0)
      if (tokens.compare_exchange_weak(t, t - 1, std::memory_order_acquire, std::memory_order_relaxed)) return true;
    return false;
  }
  void before() { data($) = 0; }
  void thread(unsigned) {
    for (int r = 0; r < 2; ++r) {
      park.wait_until([&] { return take(); }, [&] { return tokens.load(std::memory_order_seq_cst) != 0; },
                      kNoDeadline, false);
      data($) = data($) + 1;
      tokens.fetch_add(1, std::memory_order_seq_cst);
      park.wake_one();
    }
  }
  void after() { RL_ASSERT(data($) == 6); }
};

IPCSYNC_MODEL_SUITE("parking", model::simulate<ParkingTokens<2>, ParkingMutex>, 100000, 3,
                    {detail::mutant::parking_no_recheck_after_awake, detail::mutant::parking_waiter_no_fence,
                     detail::mutant::parking_waker_no_retry},
                    200000, model::simulate<ParkingTokens<1>>)
IPCSYNC_MODEL_SUITE("parking_slices", model::simulate<ParkingTokens<2>, ParkingMutex>, 50000, 0,
                    {detail::mutant::parking_slice_ends_wait}, 100000, {}, /*timeouts=*/true)
}  // namespace
