// event_model.cc — Event (event.hpp) under the C++ memory model.
//   no lost wake-up: set() releases every waiter, whether spinning, announcing or parked;
//   visibility: what the setter wrote before set() is visible to every returning waiter;
//   clear(): a waiter that started before a set() returns even if clear() follows at once
//     (the generation in the state word), and wait() after clear() blocks until the next set().
#include "ipcsync/event.hpp"
#include "model.hpp"

namespace {
using namespace ipcsync;

struct EventSetWait : rl::test_suite<EventSetWait, 3> {
  Event ev;
  rl::var<int> payload;
  void before() { payload($) = 0; }
  void thread(unsigned i) {
    if (i == 0) {
      payload($) = 42;
      ev.set();
    } else {
      ev.wait();
      RL_ASSERT(payload($) == 42);
    }
  }
  void after() { RL_ASSERT(ev.is_set()); }
};

// set() then clear() at once: waiters that were waiting must still return (set happened), and
// a second round (set again) releases a waiter that came after the clear.
struct EventSetClear : rl::test_suite<EventSetClear, 3> {
  Event ev;
  Event done;  // the second round
  void thread(unsigned i) {
    if (i == 0) {
      ev.set();
      ev.clear();
      ev.set();
    } else if (i == 1) {
      ev.wait();
      done.set();
    } else {
      done.wait();
      ev.wait();  // the last set() is not cleared
    }
  }
};

struct EventPair : rl::test_suite<EventPair, 2> {
  Event ev;
  rl::var<int> payload;
  void before() { payload($) = 0; }
  void thread(unsigned i) {
    if (i == 0) {
      payload($) = 1;
      ev.set();
    } else {
      ev.wait();
      RL_ASSERT(payload($) == 1);
    }
  }
};

IPCSYNC_MODEL_SUITE("event", model::simulate<EventSetWait, EventSetClear, EventPair>, 100000, 3,
                    {detail::mutant::event_set_relaxed, detail::mutant::parking_waiter_no_fence}, 100000,
                    model::simulate<EventPair>)
}  // namespace
