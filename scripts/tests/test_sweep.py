"""sweep.py against fake_bench.py (no C++ build needed): the matrix it plans (impossible
configurations skipped and listed), the commands it runs, the results it collects, and the
report it writes (with the sweep command and any failing bench call)."""

import json
import os
import re
import shlex

import helpers as H
import ipcsync_results as R

PRIMITIVES = ("lock", "semaphore", "event", "cacheline")     # what fake_bench --list reports


def bench_command(primitive, procs, out_csv, duration="1", repeat="5", extra=()):
    return [H.FAKE_BENCH, "--primitive", primitive, "--backend", "all", "--procs", procs,
            "--duration", duration, "--repeat", repeat, *extra, "--out", out_csv,
            "--format", "csv"]


def c2c_command(out_csv, duration="0.1", repeat="5", extra=()):
    return [H.FAKE_BENCH, "--workload", "c2c", "--duration", duration, "--repeat", repeat,
            *extra, "--out", out_csv, "--format", "csv"]


class SweepTest(H.TempDirTestCase):
    def sweep(self, *args, env=None):
        self.log = os.path.join(self.tmp, "calls.log")
        env = dict(env or {}, FAKE_BENCH_LOG=self.log)
        return H.run_script("sweep.py", "--bench", H.FAKE_BENCH, *args, env=env)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def runs(self):
        """The bench calls that ran something (not --list, not --dry-run)."""
        return [c for c in self.calls() if "--list" not in c and "--dry-run" not in c]

    def test_dry_run_plans_a_matrix_that_runs_anywhere(self):
        out = os.path.join(self.tmp, "out")
        proc = self.sweep("--dry-run", "--pus", "3", "--out-dir", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.strip().split("\n")
        self.assertIn("procs 1-6 (3 PUs from --pus)", lines[0])
        self.assertIn("and 3 PU pairs (c2c)", lines[0])
        csv_path = os.path.join(out, "sweep.csv")
        self.assertEqual([shlex.split(l) for l in lines[1:6]],
                         [bench_command("lock", "1-6", csv_path),
                          bench_command("semaphore", "2-6", csv_path),   # a producer + consumer
                          bench_command("event", "2-6", csv_path),       # a listener
                          bench_command("cacheline", "2,4,6", csv_path),  # pairs: even procs
                          c2c_command(csv_path)])
        skipped = [l for l in lines if l.startswith("skipped: ")]
        self.assertEqual(len(skipped), 3)
        self.assertIn("semaphore (bounded_buffer), procs 1: --procs: bounded_buffer needs at "
                      "least 2 processes", skipped[0])
        self.assertIn("event (event_broadcast), procs 1: event_broadcast at procs below 2 is "
                      "a broadcaster with no listener", skipped[1])
        self.assertIn("cacheline (pingpong), procs 1,3,5: --procs: pingpong pairs processes, "
                      "so it needs an even count", skipped[2])
        self.assertIn("scripts/report.py " + shlex.quote(csv_path), lines[-1])
        self.assertIn("--sweep " + shlex.quote(os.path.join(out, "sweep-manifest.json")),
                      lines[-1])
        self.assertEqual(len(lines), 1 + 5 + 3 + 1)
        # bench was only asked to list and to check (--dry-run): nothing ran, nothing written
        self.assertEqual(self.calls()[0], ["--list", "--format", "json"])
        self.assertEqual(self.runs(), [])
        self.assertFalse(os.path.exists(out))

    def test_pus_detection(self):
        proc = self.sweep("--dry-run", "--out-dir", self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        pus = len(os.sched_getaffinity(0))
        self.assertIn(f"--procs 1-{2 * pus} ", proc.stdout)
        proc = self.sweep("--dry-run", "--out-dir", self.tmp, env={"FAKE_BENCH_LIST_PUS": "8"})
        self.assertIn("procs 1-16 (8 PUs from bench --list topology.pus)", proc.stdout)
        self.assertIn("--procs 1-16 ", proc.stdout)

    def test_primitive_subset_unknown_and_no_c2c(self):
        proc = self.sweep("--dry-run", "--pus", "1", "--primitives", "event",
                          "--out-dir", self.tmp, "--no-c2c")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.count("--primitive "), 1)
        self.assertIn("--primitive event ", proc.stdout)
        self.assertNotIn("c2c", proc.stdout)
        proc = self.sweep("--dry-run", "--primitives", "lock,nope", "--out-dir", self.tmp)
        self.assertOneLineError(proc, "sweep.py", "unknown primitive(s) nope")
        # an older bench without c2c: skipped, and said why
        proc = self.sweep("--dry-run", "--pus", "1", "--primitives", "lock", "--out-dir",
                          self.tmp, env={"FAKE_BENCH_NO_C2C": "1"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("skipped: c2c: this bench has no c2c workload", proc.stdout)

    def test_full_sweep_writes_results_and_report(self):
        out = os.path.join(self.tmp, "out")
        proc = self.sweep("--pus", "2", "--repeat", "2", "--duration", "0.01", "--out-dir", out,
                          "--label", "smt=off")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        csv_path = os.path.join(out, "sweep.csv")
        label = ("--label", "smt=off")
        self.assertEqual(self.runs(), [c[1:] for c in (
            bench_command("lock", "1-4", csv_path, "0.01", "2", label),
            bench_command("semaphore", "2-4", csv_path, "0.01", "2", label),
            bench_command("event", "2-4", csv_path, "0.01", "2", label),
            bench_command("cacheline", "2,4", csv_path, "0.01", "2", label),
            c2c_command(csv_path, "0.1", "2", label))])
        rs = R.load(csv_path)
        self.assertEqual(rs.warnings, [])
        rows = rs.rows
        self.assertEqual(sorted(rows["primitive"].unique()), sorted(PRIMITIVES))
        self.assertEqual(sorted(rows["procs"].unique()), [1, 2, 3, 4])
        # backends x procs x repetitions: lock 4x4, semaphore 3x3, event 2x3, cacheline 1x2;
        # c2c: one PU pair
        self.assertEqual(len(rows), (4 * 4 + 3 * 3 + 2 * 3 + 1 * 2) * 2 + 1 * 2)
        self.assertEqual(set(rows["labels"]), {"smt=off"})
        self.assertEqual(list(rows.loc[rows["workload"] == "c2c", "pus"].unique()), ["0;1"])
        self.assertEqual(len(rs.runs()), 5)
        self.assertIsNotNone(rs.floor("fakehost-00c0ffee")[0])
        report = os.path.join(out, "report.html")
        self.assertIn(report, proc.stdout.split())
        with open(report, encoding="utf-8") as f:
            page = f.read()
        for sid in ("summary", "sweep", "contexts", "workload-c2c", "workload-counter",
                    "workload-bounded_buffer", "workload-event_broadcast", "workload-pingpong",
                    "warnings", "reproduce"):
            self.assertIn(f'<section id="{sid}">', page)
        sweep = H.section(page, "sweep")
        self.assertIn("scripts/sweep.py --bench", sweep)                 # the sweep command
        self.assertIn("--label smt=off", sweep)
        self.assertIn("Skipped: 3 impossible or meaningless configuration(s)", sweep)
        self.assertIn("pingpong pairs processes", sweep)
        self.assertIn("ipcsync sweep", page)
        self.assertIn("--primitive semaphore --backend all --procs 2-4", page)
        plots = os.path.join(out, "plots")
        # 4 figures per workload, wake-ups for event_broadcast, the c2c heatmap; PNG + SVG
        self.assertEqual(len(os.listdir(plots)), (4 * 4 + 1 + 1) * 2)
        self.assertImage(os.path.join(plots, "counter-throughput.png"),
                         R.fig_pixels(R.FIG_SIZE_IN))
        with open(os.path.join(out, "sweep-manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        self.assertEqual([c["exit"] for c in manifest["calls"]], [0] * 5)
        # a second sweep into the same directory would mix results: refused
        again = self.sweep("--pus", "2", "--out-dir", out)
        self.assertOneLineError(again, "sweep.py", "already exists")

    def test_failed_bench_call_is_in_the_report(self):
        out = os.path.join(self.tmp, "out")
        proc = self.sweep("--pus", "1", "--repeat", "1", "--duration", "0.01", "--out-dir", out,
                          "--no-c2c", env={"FAKE_BENCH_FAIL": "lock"})
        self.assertEqual(proc.returncode, 1)
        self.assertIn("bench failed for lock (counter) (exit 1): lock: pretend failure",
                      proc.stderr)
        failing = shlex.join(bench_command("lock", "1-2", os.path.join(out, "sweep.csv"),
                                           "0.01", "1"))
        self.assertIn(f"sweep.py: error: bench failed (exit 1): {failing}: lock: pretend "
                      f"failure (worker 1 could not be forked)", proc.stderr)
        rows = R.load(os.path.join(out, "sweep.csv")).rows
        self.assertEqual(sorted(rows["primitive"].unique()), ["cacheline", "event", "semaphore"])
        with open(os.path.join(out, "report.html"), encoding="utf-8") as f:
            page = f.read()
        sweep = H.section(page, "sweep")
        self.assertRegex(sweep, re.escape(failing.replace("'", "&#x27;")) + r".*?</code></td>"
                         r"<td>1</td><td><span class=\"bad\">lock: pretend failure")
        warnings = H.section(page, "warnings")
        self.assertIn("bench failed (exit 1)", warnings)
        self.assertIn("lock: pretend failure (worker 1 could not be forked)", warnings)

    def test_bad_label(self):
        proc = self.sweep("--dry-run", "--label", "smt", "--out-dir", self.tmp)
        self.assertOneLineError(proc, "sweep.py", "--label 'smt'", "KEY=VALUE")
