"""sweep.py against fake_bench.py (no C++ build needed): the commands it runs, the results
it collects, and the report it writes."""

import json
import os
import shlex

import helpers as H
import ipcsync_results as R

PRIMITIVES = ("lock", "semaphore", "event")      # what fake_bench --list reports


def bench_command(primitive, procs, out_csv, duration="1", repeat="5"):
    return [H.FAKE_BENCH, "--primitive", primitive, "--backend", "all", "--procs", procs,
            "--duration", duration, "--repeat", repeat, "--out", out_csv, "--format", "csv"]


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

    def test_dry_run_prints_the_matrix(self):
        out = os.path.join(self.tmp, "out")
        proc = self.sweep("--dry-run", "--pus", "3", "--out-dir", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.strip().split("\n")
        self.assertIn("procs 1-6 (3 PUs from --pus)", lines[0])
        csv_path = os.path.join(out, "sweep.csv")
        self.assertEqual([shlex.split(l) for l in lines[1:4]],
                         [bench_command(p, "1-6", csv_path) for p in PRIMITIVES])
        self.assertIn("scripts/report.py " + shlex.quote(csv_path), lines[4])
        self.assertEqual(len(lines), 5)
        self.assertEqual(self.calls(), [["--list", "--format", "json"]])   # nothing ran
        self.assertFalse(os.path.exists(out))

    def test_pus_detection(self):
        proc = self.sweep("--dry-run", "--out-dir", self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        pus = len(os.sched_getaffinity(0))
        self.assertIn(f"--procs 1-{2 * pus} ", proc.stdout)
        proc = self.sweep("--dry-run", "--out-dir", self.tmp, env={"FAKE_BENCH_LIST_PUS": "8"})
        self.assertIn("procs 1-16 (8 PUs from bench --list topology.pus)", proc.stdout)
        self.assertIn("--procs 1-16 ", proc.stdout)

    def test_primitive_subset_and_unknown(self):
        proc = self.sweep("--dry-run", "--pus", "1", "--primitives", "event",
                          "--out-dir", self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.count("--primitive "), 1)
        self.assertIn("--primitive event ", proc.stdout)
        proc = self.sweep("--dry-run", "--primitives", "lock,nope", "--out-dir", self.tmp)
        self.assertOneLineError(proc, "sweep.py", "unknown primitive(s) nope")

    def test_full_sweep_writes_results_and_report(self):
        out = os.path.join(self.tmp, "out")
        proc = self.sweep("--pus", "2", "--repeat", "2", "--duration", "0.01", "--out-dir", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        csv_path = os.path.join(out, "sweep.csv")
        self.assertEqual(self.calls()[1:],
                         [bench_command(p, "1-4", csv_path, "0.01", "2")[1:] for p in PRIMITIVES])
        rs = R.load(csv_path)
        self.assertEqual(rs.warnings, [])
        rows = rs.rows
        self.assertEqual(sorted(rows["primitive"].unique()), sorted(PRIMITIVES))
        self.assertEqual(sorted(rows["procs"].unique()), [1, 2, 3, 4])
        self.assertEqual(len(rows), (4 + 3 + 2) * 4 * 2)     # backends x procs x repetitions
        self.assertEqual(len(rs.runs()), 3)
        report = os.path.join(out, "report.html")
        self.assertIn(report, proc.stdout.split())
        with open(report, encoding="utf-8") as f:
            page = f.read()
        for sid in ("contexts", "workload-counter", "workload-bounded_buffer",
                    "workload-event_broadcast", "warnings", "reproduce"):
            self.assertIn(f'<section id="{sid}">', page)
        self.assertIn("ipcsync sweep", page)
        self.assertIn("--primitive semaphore --backend all --procs 1-4", page)
        plots = os.path.join(out, "plots")
        self.assertEqual(len(os.listdir(plots)), 3 * 4 * 2)
        self.assertImage(os.path.join(plots, "counter-throughput.png"),
                         R.fig_pixels(R.FIG_SIZE_IN))
        # a second sweep into the same directory would mix results: refused
        again = self.sweep("--pus", "2", "--out-dir", out)
        self.assertOneLineError(again, "sweep.py", "already exists")

    def test_failed_bench_call(self):
        out = os.path.join(self.tmp, "out")
        proc = self.sweep("--pus", "1", "--repeat", "1", "--duration", "0.01", "--out-dir", out,
                          env={"FAKE_BENCH_FAIL": "semaphore"})
        self.assertEqual(proc.returncode, 1)
        self.assertIn("bench failed for semaphore (exit 1)", proc.stderr)
        rows = R.load(os.path.join(out, "sweep.csv")).rows
        self.assertEqual(sorted(rows["primitive"].unique()), ["event", "lock"])
        self.assertTrue(os.path.isfile(os.path.join(out, "report.html")))
