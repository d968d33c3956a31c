// rlock.cc — RLock's contended path and owner-death recovery (fast paths are in rlock.hpp).
//
// The wait is detail::Parking's (Lock's protocol, parking.hpp). What RLock adds is the
// liveness check: glibc's robust mutexes get EOWNERDEAD from the kernel's robust-futex list,
// which belongs to glibc (one list head per thread) and cannot be shared with it, so RLock asks
// instead, as Lock does: detail::thread_alive(tid) (futex.cc) is false once no thread has that
// id or it is a zombie (a SIGKILLed holder not yet reaped). The check runs after
// every quiet park slice (kParkSlice), never on the uncontended or spinning paths, so a
// contended handoff costs no extra syscall and recovery takes at most about one slice.
#include "ipcsync/rlock.hpp"

namespace ipcsync {

bool RLock::take_over_if_dead(uint32_t self) noexcept {
  uint32_t o = owner_.load(std::memory_order_relaxed);
  if (o == 0 || o == self || detail::thread_alive(o)) return false;
  // Only one contender wins the CAS from the dead tid; the others keep waiting.
  if (!owner_.compare_exchange_strong(o, self, std::memory_order_acquire, std::memory_order_relaxed)) return false;
  depth_.store(1, std::memory_order_relaxed);
  died_.store(1, std::memory_order_relaxed);
  recoveries_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool RLock::acquire_slow(deadline until) {
  const uint32_t self = detail::self_id();
  bool died = false;
  // take() is the waiter's last look before it sleeps (Parking::wait_until), so a false must
  // mean "held": a strong CAS, since a weak one may fail spuriously (LL/SC) on a free lock, and
  // a waiter would then sleep beside it with nobody left to wake it.
  auto take = [&] {
    uint32_t expected = 0;
    if (owner_.load(std::memory_order_relaxed) != 0) return false;
    if (IPCSYNC_MUTANT(rlock_take_weak_cas))
      return owner_.compare_exchange_weak(expected, self, std::memory_order_acquire, std::memory_order_relaxed);
    return owner_.compare_exchange_strong(expected, self, std::memory_order_acquire, std::memory_order_relaxed);
  };
  auto avail = [&] { return owner_.load(std::memory_order_seq_cst) == 0; };
  auto on_quiet = [&] { return died = take_over_if_dead(self); };

  const bool got = park_.wait_until(take, avail, until, /*heavy=*/true, on_quiet);
  if (got && !died) depth_.store(1, std::memory_order_relaxed);
  return got;
}

}  // namespace ipcsync
