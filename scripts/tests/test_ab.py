"""ab.py against fake_bench.py: runs alternate A B B A ..., every run is labelled with its
side, compare.py then counts runs (not repetitions), and bad input or a failing bench call
stops it with one clear line."""

import csv
import json
import os
import stat

import helpers as H

FLAGS = ["--primitive", "lock", "--backend", "native,posix", "--procs", "1,2", "--repeat", "2",
         "--duration", "0.1"]


def ratios(out_dir):
    with open(os.path.join(out_dir, "compare", "ratios.csv"), encoding="utf-8") as f:
        return list(csv.DictReader(f))


class AbTest(H.TempDirTestCase):
    def ab(self, a, b, *args, flags=FLAGS, env=None):
        self.log = os.path.join(self.tmp, "calls.log")
        env = dict(env or {}, FAKE_BENCH_LOG=self.log)
        return H.run_script("ab.py", "--a", a, "--b", b, *args, "--", *flags, env=env)

    def runs(self):
        """The side label of each bench call that ran something, in order."""
        with open(self.log) as f:
            calls = [json.loads(line) for line in f]
        return [c[c.index("--label") + 1] for c in calls if "--dry-run" not in c]

    def slower_bench(self, scale):
        path = os.path.join(self.tmp, "slower_bench")
        with open(path, "w") as f:
            f.write(f'#!/bin/sh\nFAKE_BENCH_SCALE={scale} exec "{H.FAKE_BENCH}" "$@"\n')
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        return path

    def test_a_a_alternates_runs_and_compares_them_run_by_run(self):
        out = os.path.join(self.tmp, "aa")
        proc = self.ab(H.FAKE_BENCH, H.FAKE_BENCH, "--runs", "3", "--out-dir", out,
                       "--compare-arg=--no-plots")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.runs(), ["side=A", "side=B", "side=B", "side=A", "side=A",
                                       "side=B"])
        rows = ratios(out)
        self.assertEqual(len(rows), 4)                     # 2 backends x 2 procs
        for row in rows:
            self.assertEqual((row["unit"], row["n_a"], row["n_b"], row["reps_a"]),
                             ("run", "3", "3", "6"))
            self.assertEqual(row["verdict"], "same")
        self.assertIn("fewer than 5 ok runs on a side", proc.stderr)
        self.assertNotIn("single bench run", proc.stderr)
        self.assertTrue(os.path.isfile(os.path.join(out, "bench.log")))

    def test_a_b_finds_a_build_twice_as_fast(self):
        out = os.path.join(self.tmp, "ab")
        proc = self.ab(H.FAKE_BENCH, self.slower_bench(0.5), "--out-dir", out,
                       "--compare-arg=--no-plots")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(self.runs()), 10)
        for row in ratios(out):
            self.assertEqual((row["unit"], row["n_a"], row["n_b"]), ("run", "5", "5"))
            self.assertAlmostEqual(float(row["ratio"]), 2.0, places=3)
            self.assertEqual(row["verdict"], "faster")
        self.assertNotIn("warning", proc.stderr)

    def test_bad_input_is_one_line_and_exit_2(self):
        out = os.path.join(self.tmp, "bad")
        cases = [
            ((H.FAKE_BENCH, H.FAKE_BENCH, "--runs", "1"), FLAGS, "at least 2 runs"),
            ((H.FAKE_BENCH, H.FAKE_BENCH), FLAGS + ["--out", "x.csv"], "--out: ab.py sets it"),
            ((H.FAKE_BENCH, H.FAKE_BENCH), FLAGS + ["--label", "side=C"], "labels the sides"),
            ((H.FAKE_BENCH, os.path.join(self.tmp, "nope")), FLAGS, "not an executable"),
            ((H.FAKE_BENCH, H.FAKE_BENCH), [], "no bench flags"),
            # bench itself refuses the flags (--dry-run): its message, and nothing is run
            ((H.FAKE_BENCH, H.FAKE_BENCH), ["--primitive", "semaphore", "--procs", "1"],
             "needs at least 2"),
        ]
        for (a, b, *args), flags, message in cases:
            with self.subTest(message=message):
                proc = self.ab(a, b, *args, "--out-dir", out, flags=flags)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertFalse(os.path.exists(out))

    def test_a_failing_bench_call_stops_with_its_command(self):
        out = os.path.join(self.tmp, "fail")
        proc = self.ab(H.FAKE_BENCH, H.FAKE_BENCH, "--out-dir", out,
                       env={"FAKE_BENCH_FAIL": "lock"})
        self.assertEqual(proc.returncode, 1)
        self.assertIn("ab.py: error: bench failed (exit 1)", proc.stderr)
        self.assertIn("pretend failure", proc.stderr)
        self.assertEqual(len(self.runs()), 1)
        self.assertFalse(os.path.exists(os.path.join(out, "compare")))
