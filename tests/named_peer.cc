// named_peer.cc — an unrelated process for the NamedSegment tests, and the stale-segment CLI.
//
//   named_peer remove-stale          remove ipcsync.* segments whose creator is dead; print their
//                                    names, one per line (exit 0)
//   named_peer serve SEG             meet the test at Barrier "start", drain Queue "items" into
//                                    Value "total" until the queue is closed, fill Array "squares"
//                                    holding RLock "rlock" twice, then set Event "done"
//   named_peer hold-rlock SEG        take RLock "rlock" twice, set Event "held", wait to be killed
//   named_peer stored-action SEG     wait on Barrier "solo" (1 party, an action stored by the
//                                    test executable): must refuse to run another image's code
//   named_peer create-and-die NAME   create segment NAME with an Event in it, then SIGKILL itself
//   named_peer open-missing NAME     opening NAME must fail with ipcsync::error
//
// It is exec'd, not forked: it shares no mapping and no code addresses with the test, so
// everything it touches it finds by name. Exit status 0 means the scenario went as expected.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "ipcsync/array.hpp"
#include "ipcsync/barrier.hpp"
#include "ipcsync/event.hpp"
#include "ipcsync/queue.hpp"
#include "ipcsync/rlock.hpp"
#include "ipcsync/shm.hpp"
#include "ipcsync/value.hpp"

using namespace ipcsync;

namespace {

template <class T>
T& need(NamedSegment& seg, const char* name) {
  T* p = seg.find<T>(name);
  if (!p) {
    std::fprintf(stderr, "named_peer: no object '%s' in segment '%s'\n", name, seg.name().c_str());
    std::exit(10);
  }
  return *p;
}

int serve(const std::string& name) {
  NamedSegment seg = NamedSegment::open(name);
  auto& start = need<Barrier>(seg, "start");
  auto& items = need<Queue<uint64_t>>(seg, "items");
  auto& total = need<Value<uint64_t>>(seg, "total");
  auto& rlock = need<RLock>(seg, "rlock");
  auto& squares = need<Array<uint64_t>>(seg, "squares");
  auto& done = need<Event>(seg, "done");
  start.wait_for(std::chrono::seconds(10));
  for (;;) {
    uint64_t v;
    try {
      v = items.get();
    } catch (const queue_closed&) {
      break;
    }
    total.update([v](uint64_t t) { return t + v; });
  }
  rlock.acquire();
  rlock.acquire();
  for (std::size_t i = 0; i < squares.size(); ++i) squares.store(i, i * i);
  rlock.release();
  rlock.release();
  done.set();
  return 0;
}

int hold_rlock(const std::string& name) {
  NamedSegment seg = NamedSegment::open(name);
  auto& rlock = need<RLock>(seg, "rlock");
  rlock.acquire();
  rlock.acquire();
  need<Event>(seg, "held").set();
  for (;;) pause();
}

int stored_action(const std::string& name) {
  NamedSegment seg = NamedSegment::open(name);
  auto& solo = need<Barrier>(seg, "solo");
  try {
    solo.wait();
  } catch (const error&) {
    return solo.broken() ? 0 : 2;  // refused, and the barrier is broken for the others
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  try {
    if (cmd == "remove-stale" && argc == 2) {
      for (const auto& n : NamedSegment::remove_stale()) std::printf("%s\n", n.c_str());
      return 0;
    }
    if (argc == 3) {
      const std::string arg = argv[2];
      if (cmd == "serve") return serve(arg);
      if (cmd == "hold-rlock") return hold_rlock(arg);
      if (cmd == "stored-action") return stored_action(arg);
      if (cmd == "create-and-die") {
        NamedSegment seg = NamedSegment::create(arg, 1 << 16);
        seg.construct<Event>("ev");
        raise(SIGKILL);  // no destructor runs: the segment is left behind
      }
      if (cmd == "open-missing") {
        try {
          NamedSegment::open(arg);
        } catch (const error&) {
          return 0;
        }
        return 1;
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "named_peer %s: %s\n", cmd.c_str(), e.what());
    return 20;
  }
  std::fprintf(stderr,
               "usage: named_peer remove-stale | serve SEG | hold-rlock SEG | stored-action SEG | "
               "create-and-die NAME | open-missing NAME\n");
  return 2;
}
