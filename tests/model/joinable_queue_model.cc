// joinable_queue_model.cc — JoinableQueue (joinable_queue.hpp) under the C++ memory model.
//   join() returns only after every task_done(): each consumer writes its result (rl::var)
//     before task_done(), and the producer reads both after join() — a data race or a failed
//     assertion if join() returned early or without the consumers' writes being visible;
//   no lost wake-up of the joiner (deadlock otherwise).
#include "ipcsync/joinable_queue.hpp"
#include "model.hpp"

namespace {
using namespace ipcsync;

struct JoinableJoin : rl::test_suite<JoinableJoin, 3> {
  JoinableQueue<uint32_t, 2> q;
  rl::var<int> result[2];
  void before() {
    result[0]($) = 0;
    result[1]($) = 0;
  }
  void thread(unsigned i) {
    if (i == 0) {
      q.put(1);
      q.put(2);
      q.join();
      RL_ASSERT(result[0]($) == 1 && result[1]($) == 1);
      RL_ASSERT(q.unfinished() == 0);
    } else {
      const uint32_t v = q.get();
      result[v - 1]($) = 1;
      q.task_done();
    }
  }
};

struct JoinablePair : rl::test_suite<JoinablePair, 2> {
  JoinableQueue<uint32_t, 1> q;
  rl::var<int> result;
  void before() { result($) = 0; }
  void thread(unsigned i) {
    if (i == 0) {
      q.put(7);
      q.join();
      RL_ASSERT(result($) == 7);
    } else {
      result($) = static_cast<int>(q.get());
      q.task_done();
    }
  }
};

IPCSYNC_MODEL_SUITE("joinable_queue", model::simulate<JoinableJoin, JoinablePair>, 50000, 2,
                    {detail::mutant::joinable_task_done_relaxed, detail::mutant::parking_waiter_no_fence,
                     detail::mutant::parking_leave_no_fence}, 100000,
                    model::simulate<JoinablePair>)
}  // namespace
