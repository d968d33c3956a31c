// torture.hpp — bench --torture: a seeded, randomized soak that hunts for the bugs a measurement
// never meets, in the spirit of the kernel's locktorture.
//
// For each chosen role x backend, --procs worker processes run a random mix of the role's whole
// API (blocking, try and timed acquires with short and long timeouts, notify(n), notify_all,
// predicate waits, set/clear, barrier abort/reset, every form of put/get, task_done/join, locked
// and atomic updates, ...) with random hold times and rare long holds, and check the
// role's invariant on every operation:
//   lock, rlock        exclusivity: a holder writes its token on entry and finds it unchanged on
//                      exit; a half-done update is only ever found together with owner_died()
//   semaphore          permits in use never exceed the initial value
//   bounded_semaphore  the same, and a release beyond the bound throws over_release
//   condition          notify(n) wakes at most n waiters (woken <= notified, under the lock)
//   event              a wait() that returns true overlapped a set()
//   barrier            phases never mix: every party is a worker, and one that passes a round
//                      finds every other at its own phase or one more; indexes unique per round
//   queue              exactly once (counts and sums of item hashes: put = got + left) and
//                      FIFO per producer (a consumer never sees a producer's item after a later one)
//   joinable_queue     the same, and a join() that returns saw every item put before it began
//                      task_done()'d
//   value              the value does not change while its lock is held, never goes backwards,
//                      and equals the increments done (locked ones and lock-free fetch_add()s)
//   array              the elements are equal whenever the lock is free (a half-done update only
//                      with owner_died(), rolled back), and equal the updates done
// while the parent injects faults (--faults, default every one that applies to the role):
//   kill      SIGKILL a worker (preferring a holder), then respawn it. The parent stops the victim
//             first and reads what it holds, so the outcome is exact. A robust Lock/RLock (native,
//             posix) is killed anywhere, even inside acquire() or release(): it must be taken
//             over, and the new holder sees owner_died() and repairs the protected record (a
//             recovery); native's Event too. The other roles are killed only outside their calls
//             or while holding (a worker inside one is continued instead, counted as deferred): a
//             semaphore's permits held by the dead worker are a counted, expected loss that is
//             given back; a Condition's worker is killed acquiring or holding its lock (taken
//             over), and native's inside wait() too, where one later notify(n) may then wake n + 1
//             (condition.hpp, "Owner death"): that wake-up is allowed once per dead waiter and
//             the death counted as a loss. Value and Array holders are killed holding or
//             acquiring their robust lock (the parent reads whether the victim's update landed
//             before anyone takes over). A JoinableQueue consumer is killed while processing an
//             item: its task_done() is a counted loss, given back. Barrier and Queue workers are
//             killed between calls only. Not applied where nothing can be
//             recovered: boost's and spin's Lock, RLock and Condition (not robust).
//             Left out on purpose: posix's Event killed inside wait() (a pthread condvar is not
//             robust: the next broadcast blocks for the dead waiter; the torture found it).
//   stop      SIGSTOP a worker for 1-200 ms (preemption of a holder or a waiter)
//   stutter   SIGSTOP every worker for 20-300 ms, then SIGCONT them all together (a thundering herd)
//   shuffle   re-pin a worker to a random allowed PU
//   signal    SIGUSR1 (handled, no SA_RESTART) every millisecond or so: EINTR in every wait
// The parent never calls a primitive (a worker it stopped may hold one's internal mutex, and only
// the parent can continue it): one more process, the agent, never faulted, runs the role's
// ticker (an event set(), a notify(1) with an item, so a wait() without timeout always ends),
// gives back a killed worker's permits (and task_done()s), keeps a queue that every worker waits on
// moving, at the end aborts the barrier and closes the queue (waking whoever still waits), and
// runs the role's quiescent check during a stutter (a semaphore holds its permits, a queue's
// counts balance, a value equals its increments).
// A worker that is not stopped and completes no operation for kStarveS seconds is reported as
// starved, with what it was doing. A stats line is printed every --stat-interval seconds; the
// run ends with one SUCCESS or FAILURE line (exit 0 or 1), one CSV row per role and backend,
// and a JSON context (seed, faults, the fault schedule) beside the CSV.
#pragma once

namespace ipcsync::harness {

class SignalGate;
class Topology;

// kStarveS: how long a running (not SIGSTOPped) worker may go without completing an operation
// before it is reported as starved. Every legitimate wait in the mix is far shorter: the longest
// timeout is 0.5 s, the agent's ticker unblocks a queue every 20 ms, a stopped holder is continued within 200 ms, a stutter lasts at most 300 ms.
inline constexpr double kStarveS = 5.0;
// kSlowStopS, kStopWaitS: a SIGSTOP that takes longer than kSlowStopS to stop its worker is
// noted in the fault schedule ("slow stop", with the worker's kernel state); one not obeyed
// within kStopWaitS is given up ("stop given up"), so the parent never waits on one worker
// while the others' stops run over.
inline constexpr double kSlowStopS = 0.5, kStopWaitS = 2.0;

// torture_requested(): argv holds --torture (main dispatches to run_torture before parsing).
bool torture_requested(int argc, char** argv);

// run_torture(): parses the torture command line and runs it. Returns the exit status: 0
// SUCCESS, 1 FAILURE, 2 bad input (one line on stderr), 128+signo when interrupted.
int run_torture(int argc, char** argv, const Topology& topo, SignalGate& gate);

}  // namespace ipcsync::harness
