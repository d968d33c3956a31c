// barrier.cc — Barrier's arrival, round transitions and the stored action.
//
// Every change is one CAS on state_ (round word << 32 | arrivals). Ending a round — complete,
// reset, or a reset of a broken round — is two steps owned by whoever wins the first CAS: mark
// the round closing (arrivals = kClosing), count a completion (not a reset), then publish the
// next generation with arrivals 0 and wake everyone. A waiter therefore never sees a new
// generation before its round's outcome is counted. abort() and a timed-out waiter only set the broken bit
// (same generation), which waiters see directly.
#include "ipcsync/barrier.hpp"

#include <sched.h>
#include <sys/stat.h>

#include <stdexcept>

namespace ipcsync {
namespace detail {

void barrier_anchor() noexcept {}

uint64_t image_id() noexcept {
  static const uint64_t id = [] {
    struct stat st {};
    if (::stat("/proc/self/exe", &st) != 0) return uint64_t{1};
    // FNV-1a over the fields that identify one build of one executable file.
    uint64_t h = 1469598103934665603ull;
    for (uint64_t v : {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                       static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_mtim.tv_sec),
                       static_cast<uint64_t>(st.st_mtim.tv_nsec)})
      for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 1099511628211ull;
    return h | 1;  // never 0, which means "no action"
  }();
  return id;
}

}  // namespace detail

Barrier::Barrier(uint32_t parties, action_fn action) : parties_(parties) {
  if (parties == 0 || parties >= kClosing) throw std::invalid_argument("Barrier: parties must be at least 1");
  if (action) {
    action_off_ = reinterpret_cast<intptr_t>(action) - reinterpret_cast<intptr_t>(&detail::barrier_anchor);
    action_image_ = detail::image_id();
  }
}

uint64_t Barrier::settled_state() const noexcept {
  // A round being closed is published a few instructions later; yield if its closer was
  // preempted in between.
  for (uint32_t i = 0;; ++i) {
    const uint64_t s = state_.load(std::memory_order_acquire);
    if (count_of(s) != kClosing) return s;
    if (i < 64)
      cpu_relax();
    else
      sched_yield();
  }
}

Barrier::Arrival Barrier::arrive(deadline until) {
  uint64_t s = state_.load(std::memory_order_acquire);
  for (;;) {
    const uint32_t round = round_of(s), count = count_of(s);
    if (round & 1) throw broken_barrier("Barrier::wait(): the barrier is broken");
    if (count >= parties_) {
      // The previous round's last arrival is running its action, or the round is closing:
      // wait for the next generation rather than join a full round.
      auto changed = [&] { return state_.load(std::memory_order_acquire) != s; };
      if (!park_.wait_until(changed, detail::never, until, /*heavy=*/false)) {
        break_round(round_of(settled_state()));
        throw broken_barrier("Barrier::wait(): timed out waiting for the previous round to finish");
      }
      s = state_.load(std::memory_order_acquire);
      continue;
    }
    // Read after s showed this round: a completion publishes its count before the next round,
    // and this round cannot complete before this arrival. So it counts the rounds before it.
    const uint32_t completed = completions_.load(std::memory_order_acquire);
    if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire))
      return {round, count, completed};
  }
}

uint32_t Barrier::await_round(const Arrival& a, deadline until) {
  const uint32_t round = a.round, index = a.index;
  auto moved = [&] { return round_of(state_.load(std::memory_order_acquire)) != round; };
  if (!park_.wait_until(moved, detail::never, until, /*heavy=*/false)) {
    // Timed out: break the round for everyone, as Python does — unless it ended meanwhile.
    if (break_round(round)) throw broken_barrier("Barrier::wait(): timed out; the barrier is now broken");
  }
  const uint32_t now = round_of(settled_state());
  // The round moved on. Only this round can have completed since this process arrived (a
  // later one would need it too), so a moved completion count means this round completed.
  if (completions_.load(std::memory_order_acquire) != a.completions) return index;
  if (now == (round | 1)) throw broken_barrier("Barrier::wait(): the barrier was aborted");
  throw broken_barrier("Barrier::wait(): the barrier was reset while waiting");
}

void Barrier::complete_round(uint32_t round) {
  if (!close_round(make(round, parties_), /*broken_outcome=*/false))
    throw broken_barrier("Barrier::wait(): the barrier was broken while the action ran");
}

bool Barrier::close_round(uint64_t expected, bool broken_outcome) noexcept {
  const uint32_t round = round_of(expected);
  if (!state_.compare_exchange_strong(expected, make(round, kClosing), std::memory_order_acq_rel,
                                      std::memory_order_relaxed))
    return false;
  const uint32_t gen = round >> 1;
  if (!broken_outcome) completions_.fetch_add(1, std::memory_order_release);  // before the next round is published
  state_.store(make(((gen + 1) << 1) & 0xfffffffeu, 0), std::memory_order_seq_cst);
  if (!IPCSYNC_MUTANT(barrier_no_wake)) park_.wake_all();
  return true;
}

bool Barrier::break_round(uint32_t round) noexcept {
  if (round & 1) return true;  // already broken
  for (;;) {
    uint64_t s = settled_state();
    if (round_of(s) == (round | 1)) return true;
    if (round_of(s) != round) return false;  // the round completed (or was reset) meanwhile
    if (state_.compare_exchange_weak(s, make(round | 1, count_of(s)), std::memory_order_seq_cst,
                                     std::memory_order_relaxed)) {
      if (!IPCSYNC_MUTANT(barrier_break_no_wake)) park_.wake_all();
      return true;
    }
  }
}

void Barrier::abort() noexcept {
  for (;;) {
    const uint64_t s = settled_state();
    if (break_round(round_of(s))) return;
  }
}

void Barrier::reset() noexcept {
  for (;;) {
    const uint64_t s = settled_state();
    const bool broken = (round_of(s) & 1) != 0;
    if (!broken && count_of(s) == 0) return;  // already empty and usable
    if (close_round(s, /*broken_outcome=*/!IPCSYNC_MUTANT(barrier_reset_keeps_outcome))) return;
  }
}

uint32_t Barrier::n_waiting() const noexcept {
  const uint64_t s = state_.load(std::memory_order_acquire);
  if (round_of(s) & 1) return 0;  // broken: nobody waits in a broken round (as in Python)
  const uint32_t c = count_of(s);
  if (c == kClosing) return 0;
  return c >= parties_ ? parties_ - 1 : c;
}

void Barrier::run_stored_action() {
  if (action_off_ == 0) return;
  if (action_image_ != detail::image_id())
    throw error("Barrier: the stored action belongs to another executable; pass the action to wait() instead");
  const auto fn = reinterpret_cast<action_fn>(reinterpret_cast<intptr_t>(&detail::barrier_anchor) + action_off_);
  fn();
}

}  // namespace ipcsync
