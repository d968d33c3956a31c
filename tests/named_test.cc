// named_test.cc — NamedSegment: primitives created by name here and found by name from an
// unrelated process (the exec'd named_peer), RAII removal, errors, a robust RLock across
// unrelated processes, a stored Barrier action refused by another executable, and stale
// segments of dead creators removed. Nothing may be left in /dev/shm.
#include <catch2/catch.hpp>

#if IPCSYNC_WITH_BOOST_INTERPROCESS && defined(IPCSYNC_NAMED_PEER_EXE)

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "ipcsync/array.hpp"
#include "ipcsync/barrier.hpp"
#include "ipcsync/event.hpp"
#include "ipcsync/queue.hpp"
#include "ipcsync/rlock.hpp"
#include "ipcsync/shm.hpp"
#include "ipcsync/value.hpp"
#include "support.hpp"

using namespace ipcsync;
using namespace ipcsync::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kPeer = IPCSYNC_NAMED_PEER_EXE;

std::string unique_name(const char* what) { return std::string("test-") + what + "-" + std::to_string(getpid()); }

bool shm_exists(const std::string& name) { return fs::exists(NamedSegment::shm_path(name)); }

// exec_peer(): fork + exec named_peer with a clean signal mask; returns its pid.
pid_t exec_peer(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> argv{const_cast<char*>(kPeer.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

void stored_action_here() {}

}  // namespace

TEST_CASE("NamedSegment: the creator removes it and open fails afterwards", "[named]") {
  const std::string name = unique_name("raii");
  {
    NamedSegment seg = NamedSegment::create(name, 1 << 16);
    CHECK(seg.owner());
    CHECK(seg.creator_pid() == getpid());
    CHECK(shm_exists(name));
    CHECK_THROWS_AS(NamedSegment::create(name, 1 << 16), error);  // exists
    NamedSegment other = NamedSegment::open(name);
    CHECK_FALSE(other.owner());
    Event* e = seg.construct<Event>("e");
    CHECK(reinterpret_cast<uintptr_t>(e) % 64 == 0);
    CHECK(other.find<Event>("e") != nullptr);
    CHECK(other.find<Event>("nope") == nullptr);
    CHECK_THROWS_AS(other.find<RLock>("e"), error);       // another type
    CHECK_THROWS_AS(seg.construct<Event>("e"), error);    // name taken
    CHECK_THROWS_AS(seg.construct_sized<Array<char>>("big", 1 << 20, std::size_t{1} << 20), error);  // no room
  }
  CHECK_FALSE(shm_exists(name));
  CHECK_THROWS_AS(NamedSegment::open(name), error);
  CHECK_THROWS_AS(NamedSegment::create("bad/name", 4096), error);
  CHECK(run_cmd({kPeer, "open-missing", name}).status == 0);
}

TEST_CASE("NamedSegment: an unrelated process finds primitives by name and works with them", "[named][process]") {
  const std::string name = unique_name("serve");
  {
    NamedSegment seg = NamedSegment::create(name, 1 << 20);
    auto* start = seg.construct<Barrier>("start", 2u);
    auto* items = seg.construct_sized<Queue<uint64_t>>("items", Queue<uint64_t>::bytes_for(16), 16u);
    auto* total = seg.construct<Value<uint64_t>>("total", 0u);
    auto* rlock = seg.construct<RLock>("rlock");
    auto* squares = seg.construct_sized<Array<uint64_t>>("squares", Array<uint64_t>::bytes_for(100), std::size_t{100});
    auto* done = seg.construct<Event>("done");
    const pid_t peer = exec_peer({"serve", name});
    REQUIRE(start->wait_for(10s) < 2);  // the peer found the barrier by name
    for (uint64_t i = 1; i <= 1000; ++i) items->put(i);
    items->close();
    REQUIRE(done->wait_for(10s));
    CHECK(join(peer) == 0);
    CHECK(total->load() == 500500);
    CHECK(squares->load(99) == 99u * 99u);
    CHECK(squares->load(7) == 49u);
    CHECK_FALSE(rlock->locked());
  }
  CHECK_FALSE(shm_exists(name));
}

TEST_CASE("NamedSegment: an RLock held by an unrelated process that is SIGKILLed is recovered",
          "[named][process][robust]") {
  const std::string name = unique_name("robust");
  {
    NamedSegment seg = NamedSegment::create(name, 1 << 16);
    auto* rlock = seg.construct<RLock>("rlock");
    auto* held = seg.construct<Event>("held");
    const pid_t peer = exec_peer({"hold-rlock", name});
    REQUIRE(held->wait_for(10s));
    CHECK(rlock->locked());
    CHECK(rlock->depth() == 2);
    CHECK_FALSE(rlock->try_acquire());
    kill(peer, SIGKILL);
    CHECK(join(peer) == 128 + SIGKILL);
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(rlock->acquire_for(3s));
    CHECK(elapsed_s(t0) < 1.0);
    CHECK(rlock->owner_died());
    CHECK(rlock->depth() == 1);
    rlock->release();
  }
  CHECK_FALSE(shm_exists(name));
}

TEST_CASE("NamedSegment: a Barrier action stored by one executable is refused by another", "[named][barrier]") {
  const std::string name = unique_name("action");
  {
    NamedSegment seg = NamedSegment::create(name, 1 << 16);
    auto* solo = seg.construct<Barrier>("solo", 1u, &stored_action_here);
    CHECK(solo->wait() == 0);  // here, the stored function is valid
    CHECK(run_cmd({kPeer, "stored-action", name}).status == 0);
    CHECK(solo->broken());
  }
  CHECK_FALSE(shm_exists(name));
}

TEST_CASE("NamedSegment: stale segments of dead creators are removed and live ones kept", "[named][stale]") {
  const std::string dead = unique_name("stale"), live = unique_name("live");
  NamedSegment keep = NamedSegment::create(live, 1 << 16);
  const CmdResult died = run_cmd({kPeer, "create-and-die", dead});
  CHECK(died.status == 128 + SIGKILL);
  REQUIRE(shm_exists(dead));  // left behind: no destructor ran
  const CmdResult r = run_cmd({kPeer, "remove-stale"});
  CHECK(r.status == 0);
  CHECK(r.out.find(dead + "\n") != std::string::npos);
  CHECK(r.out.find(live) == std::string::npos);
  CHECK_FALSE(shm_exists(dead));
  CHECK(shm_exists(live));
  // The library function does the same in-process.
  CHECK(run_cmd({kPeer, "create-and-die", dead}).status == 128 + SIGKILL);
  const auto removed = NamedSegment::remove_stale();
  CHECK(std::find(removed.begin(), removed.end(), dead) != removed.end());
  CHECK(std::find(removed.begin(), removed.end(), live) == removed.end());
  CHECK_FALSE(shm_exists(dead));
}

TEST_CASE("NamedSegment: the tests leave nothing in /dev/shm", "[named]") {
  const std::string mine = std::string(NamedSegment::kPrefix) + "test-";
  const std::string suffix = "-" + std::to_string(getpid());
  for (const auto& e : fs::directory_iterator("/dev/shm")) {
    const std::string n = e.path().filename().string();
    INFO(n);
    CHECK_FALSE((n.rfind(mine, 0) == 0 && n.size() > suffix.size() &&
                 n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0));
  }
}

#endif
