// harness_env.hpp — the one harness environment the tests that call run_once() share: the
// machine's topology, the SignalGate (one per process: it blocks the signals bench handles and
// owns their signalfd) and the calibrated clock.
#pragma once

#include "harness/clock.hpp"
#include "harness/runner.hpp"
#include "harness/topology.hpp"

namespace ipcsync::test {

struct HarnessEnv {
  harness::Topology topo;
  harness::SignalGate gate;
  HarnessEnv() { harness::Clock::calibrate(); }
};

inline HarnessEnv& env() {
  static HarnessEnv e;
  return e;
}

}  // namespace ipcsync::test
