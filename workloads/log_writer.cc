// workloads/log_writer.cc — the guide's concurrent log ("Log Concurrente"): N processes append
// lines to one real file, a Lock keeping each line whole.
//
// init() creates an unnamed file under $TMPDIR (or /tmp) — O_TMPFILE, or mkostemp and an
// immediate unlink — opened O_APPEND, which every worker inherits; nothing is left behind even
// if bench is killed with SIGKILL. verify reads it back through that fd; destroy() closes it.
// Each op writes one line of --line-bytes bytes, in three write(2) calls as a logger writing its fields would — a header
// (worker id and the worker's sequence number 0, 1, 2...), a body derived from both, and a
// trailer with a checksum of the rest — all while holding the primitive (a Lock, or a
// Semaphore(1) as a binary semaphore). Then --think-ns outside. Verify reads the file back:
// every line has the exact length and layout and a matching checksum (nothing interleaved,
// nothing torn), each worker's lines appear in order with no gap or repeat, and each worker
// wrote exactly as many lines as ops it did.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ios>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

#include "harness/backends.hpp"
#include "harness/workload.hpp"

// Its own namespace, so that the workloads can be compiled together (a unity build, CMakeLists.txt).
namespace ipcsync::harness::wl_log_writer {
namespace {

constexpr int kHeader = 22;   // "w=%04d s=%012llu "
constexpr int kTrailer = 12;  // " c=%08x\n"
constexpr int kMinLine = kHeader + kTrailer + 6;
constexpr int kMaxLine = 4096;
constexpr uint64_t kSkipEvery = 16;       // skip_lock fault: one line in this many
constexpr uint64_t kLingerNs = 2'000'000;  // ... paused this long at most between its pieces

template <class M>
struct Shared {
  Shared()
    requires(std::is_constructible_v<M, uint32_t>)
      : mutex(1u) {}  // a Semaphore(1): a binary semaphore
  Shared()
    requires(!std::is_constructible_v<M, uint32_t>)
  = default;
  M mutex;
  alignas(64) int fd = -1;
  char path[512] = {};
  alignas(64) std::atomic<uint64_t> lines{0};  // lines written, counted under the mutex
};

uint32_t fnv1a(const char* p, std::size_t n) {
  uint32_t h = 2166136261u;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 16777619u;
  return h;
}

char body_char(uint64_t w, uint64_t seq, std::size_t i) { return static_cast<char>('a' + (w * 7 + seq + i) % 26); }

// The line worker w writes as its seq-th, `len` bytes with the newline.
void format_line(char* out, int len, uint64_t w, uint64_t seq) {
  std::snprintf(out, kHeader + 1, "w=%04llu s=%012llu ", static_cast<unsigned long long>(w),
                static_cast<unsigned long long>(seq % 1000000000000ull));
  const int body = len - kHeader - kTrailer;
  for (int i = 0; i < body; ++i) out[kHeader + i] = body_char(w, seq, static_cast<std::size_t>(i));
  const uint32_t sum = fnv1a(out, static_cast<std::size_t>(kHeader + body));
  std::snprintf(out + kHeader + body, kTrailer + 1, " c=%08x\n", sum);
}

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw std::system_error(errno, std::generic_category(), "log_writer: write");
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// FdReader: reads the log back from offset 0 through the workers' own fd (the file has no name
// to open), with the read()/gcount() shape of std::istream.
struct FdReader {
  int fd;
  off_t off = 0;
  std::streamsize n = 0;
  bool failed = false;
  bool read(char* p, int len) {
    n = 0;
    while (n < len) {
      const ssize_t r = ::pread(fd, p + n, static_cast<std::size_t>(len - n), off);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) failed = true;
      if (r <= 0) break;
      n += r;
      off += r;
    }
    return n == len;
  }
  std::streamsize gcount() const { return n; }
};

template <class M>
Instance make_log_writer() {
  using S = Shared<M>;
  Instance in;
  in.shared_bytes = sizeof(S);
  in.init = [](void* p, const RunConfig&) {
    auto* s = ::new (p) S();
    const char* dir = std::getenv("TMPDIR");
    const std::string d = dir && *dir ? dir : "/tmp";
    std::string tmpl = d + "/ipcsync-log_writer-XXXXXX";
    if (tmpl.size() >= sizeof s->path) throw std::runtime_error("log_writer: $TMPDIR is too long");
    // The file never outlives the run, even when bench is killed with SIGKILL: it has no name
    // (O_TMPFILE), or its name is removed at once (file systems without O_TMPFILE). The fd,
    // inherited by every worker across fork, and the verify step's pread keep it alive.
    s->fd = ::open(d.c_str(), O_TMPFILE | O_RDWR | O_APPEND | O_CLOEXEC, 0600);
    if (s->fd >= 0) {
      std::snprintf(s->path, sizeof s->path, "%s/(unnamed O_TMPFILE)", d.c_str());
      return;
    }
    std::memcpy(s->path, tmpl.c_str(), tmpl.size() + 1);
    s->fd = mkostemp(s->path, O_APPEND | O_CLOEXEC);
    if (s->fd < 0) throw std::system_error(errno, std::generic_category(), std::string("log_writer: mkostemp ") + s->path);
    ::unlink(s->path);
  };
  in.body = [](void* p, WorkerEnv& env) {
    auto* s = static_cast<S*>(p);
    const uint64_t think = static_cast<uint64_t>(env.cfg->param("think_ns"));
    const int len = static_cast<int>(env.cfg->param("line_bytes"));
    const int body = len - kHeader - kTrailer;
    const uint64_t me = static_cast<uint64_t>(env.index);
    // test-only: one line in kSkipEvery is written without the mutex, pausing between its
    // pieces until another line has gone out (as a preemption there would), at most kLingerNs.
    const bool skip = env.cfg->fault == "skip_lock";
    std::vector<char> line(static_cast<std::size_t>(len) + 1);
    uint64_t seq = 0;
    M& m = s->mutex;
    run_ops(env, [&] {
      format_line(line.data(), len, me, seq);
      const char* l = line.data();
      if (skip && seq % kSkipEvery == kSkipEvery - 1) {
        const uint64_t before = s->lines.load(std::memory_order_acquire);
        write_all(s->fd, l, kHeader);
        const uint64_t until = Clock::mono_ns() + kLingerNs;
        while (s->lines.load(std::memory_order_acquire) == before && Clock::mono_ns() < until) {
        }
        write_all(s->fd, l + kHeader, static_cast<std::size_t>(body));
        write_all(s->fd, l + kHeader + body, kTrailer);
      } else {
        m.acquire();
        write_all(s->fd, l, kHeader);
        write_all(s->fd, l + kHeader, static_cast<std::size_t>(body));
        write_all(s->fd, l + kHeader + body, kTrailer);
        s->lines.fetch_add(1, std::memory_order_release);
        m.release();
      }
      ++seq;
    }, [&] { Clock::busy_ns(think); });
  };
  in.verify = [](void* p, const RunConfig& cfg, const Totals& t) {
    auto* s = static_cast<S*>(p);
    const int len = static_cast<int>(cfg.param("line_bytes"));
    FdReader f{s->fd};
    std::vector<uint64_t> next(static_cast<std::size_t>(cfg.procs), 0);
    uint64_t lines = 0, bad = 0, out_of_order = 0, missing = 0;
    std::vector<char> want(static_cast<std::size_t>(len) + 1), got(static_cast<std::size_t>(len) + 1, '\0');
    std::string rest;
    while (f.read(got.data(), len) || f.gcount() > 0) {
      ++lines;
      unsigned long long w = 0, seq = 0;
      if (f.gcount() != len || std::sscanf(got.data(), "w=%4llu s=%12llu ", &w, &seq) != 2 ||
          w >= static_cast<unsigned long long>(cfg.procs)) {
        ++bad;
        continue;
      }
      format_line(want.data(), len, w, seq);
      if (std::memcmp(want.data(), got.data(), static_cast<std::size_t>(len)) != 0) {
        ++bad;  // torn, interleaved or corrupt: it is not the line its header claims
        continue;
      }
      if (seq != next[w] % 1000000000000ull) ++out_of_order;
      next[w] = seq + 1;
    }
    for (int w = 0; w < cfg.procs; ++w)
      if (next[static_cast<std::size_t>(w)] != t.per_worker_ops[static_cast<std::size_t>(w)]) ++missing;
    const bool opened = !f.failed;
    VerifyResult r;
    r.ok = opened && bad == 0 && out_of_order == 0 && missing == 0 && lines == t.warm_ops + t.ops;
    r.detail = "lines=" + std::to_string(lines) + " expected=" + std::to_string(t.warm_ops + t.ops) +
               " bad_lines=" + std::to_string(bad) + " out_of_order=" + std::to_string(out_of_order) +
               " workers_missing_lines=" + std::to_string(missing) + (opened ? "" : " CANNOT_READ_FILE");
    return r;
  };
  in.destroy = [](void* p) {
    auto* s = static_cast<S*>(p);
    if (s->fd >= 0) ::close(s->fd);
    s->~S();
  };
  return in;
}

// The roles it drives, declared once (WorkloadDef::primitives and the factory's dispatch).
using DrivenRoles = WorkloadRoles<roles::Lock, roles::Semaphore>;

std::optional<Instance> make(const std::string& primitive, const std::string& backend) {
  return DrivenRoles::make(primitive, backend, []<class R, class B>() {
    return make_log_writer<roles::type_of<R, B>>();
  });
}

IPCSYNC_WORKLOAD(WorkloadDef{
    .name = "log_writer",
    .description = "N processes append self-checking lines to one temporary file, each line written in pieces under the primitive",
    .primitives = DrivenRoles::names(),
    .default_for = {},
    .params = {{"line_bytes", "bytes per log line, newline included", 80, kMinLine, kMaxLine},
               {"think_ns", "busy work outside the critical section (ns)", 0, 0, 1'000'000'000}},
    .python_primitives = {},
    .faults = {"skip_lock"},
    .make = make,
    .validate = {},
    .default_sample_every = 64,
});

}  // namespace
}  // namespace ipcsync::harness::wl_log_writer
