"""compare.py: ratios, spreads and significance marks for fixtures with known numbers."""

import csv
import math
import os
import unittest

import helpers as H
import ipcsync_results as R
import compare

SIZE = R.fig_pixels(R.COMPARE_FIG_SIZE_IN)     # (1200, 500)


def read_ratios(out_dir):
    """{(workload, backend or '', procs): row} from ratios.csv."""
    with open(os.path.join(out_dir, "ratios.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {(r["workload"], r.get("backend", ""), int(r["procs"])): r for r in rows}


class CompareTwoHostsTest(H.TempDirTestCase):
    """alpha vs beta: beta's medians are alpha's x0.5 (native), x1 (posix), x1.25 (boost), x1
    (spin, x10 at procs 4); repetitions are 0.98x, 1x, 1.02x the median, 3 of them."""

    def run_compare(self, *extra):
        proc = H.run_script("compare.py", H.ALPHA, H.BETA, "--out", self.tmp, *extra)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc, read_ratios(self.tmp)

    def test_ratios_spread_and_marks(self):
        proc, r = self.run_compare()
        native = r[("counter", "native", 1)]
        self.assertAlmostEqual(float(native["ratio"]), 2.0)
        self.assertAlmostEqual(float(native["ratio_min"]), 19.6 / 10.2)
        self.assertAlmostEqual(float(native["ratio_max"]), 20.4 / 9.8)
        self.assertAlmostEqual(float(native["ops_a_min"]), 19.6e6)
        self.assertAlmostEqual(float(native["ops_b_max"]), 10.2e6)
        self.assertAlmostEqual(float(native["p50_ratio"]), 0.5)
        self.assertEqual((native["n_a"], native["n_b"]), ("3", "3"))
        for procs in (1, 2, 4, 8):
            self.assertAlmostEqual(float(r[("counter", "native", procs)]["ratio"]), 2.0)
            self.assertAlmostEqual(float(r[("counter", "posix", procs)]["ratio"]), 1.0)
            self.assertAlmostEqual(float(r[("counter", "boost", procs)]["ratio"]), 0.8)
        self.assertAlmostEqual(float(r[("counter", "spin", 4)]["ratio"]), 0.1)
        # 3 vs 3 repetitions: the exact test's smallest p is 2/20 = 0.1, never below 0.05
        self.assertEqual({row["mark"] for row in r.values()}, {"?"})
        self.assertAlmostEqual(float(native["p_value"]), 0.1)
        # the verify_failed repetition of alpha spin/8 and the timeout of beta boost/8 are
        # counted but not used
        spin8 = r[("counter", "spin", 8)]
        self.assertEqual((spin8["n_a"], spin8["reps_a"]), ("2", "3"))
        self.assertIn("verify_failed", spin8["failures_a"])
        boost8 = r[("bounded_buffer", "boost", 8)]
        self.assertEqual((boost8["n_b"], boost8["reps_b"]), ("2", "3"))
        self.assertAlmostEqual(float(boost8["ratio"]), 625_000 / ((765_625 + 781_250) / 2))
        self.assertEqual(r[("counter", "native", 4)]["oversubscribed"], "A")
        self.assertEqual(r[("counter", "native", 8)]["oversubscribed"], "A,B")
        # event_broadcast exists only on alpha
        self.assertNotIn(("event_broadcast", "native", 1), r)
        self.assertIn("Unmatched: 8 configuration(s) only in A, 0 only in B", proc.stdout)

    def test_alpha_0_2_lets_separated_samples_be_significant(self):
        _, r = self.run_compare("--alpha", "0.2")
        self.assertEqual(r[("counter", "native", 1)]["mark"], "*")      # p = 0.1 < 0.2
        self.assertEqual(r[("counter", "boost", 2)]["mark"], "*")
        self.assertEqual(r[("counter", "posix", 1)]["mark"], "")        # same numbers: p = 1
        self.assertAlmostEqual(float(r[("counter", "posix", 1)]["p_value"]), 1.0)
        self.assertEqual(r[("counter", "spin", 8)]["mark"], "?")        # 2 vs 3: p >= 0.2

    def test_range_rule(self):
        proc, r = self.run_compare("--rule", "range")
        self.assertEqual(r[("counter", "native", 1)]["mark"], "*")      # 19.6-20.4M vs 9.8-10.2M
        self.assertEqual(r[("counter", "posix", 1)]["mark"], "")        # identical ranges
        self.assertEqual(r[("counter", "spin", 8)]["mark"], "")         # 2 ok reps: allowed
        self.assertEqual(r[("counter", "native", 1)]["p_value"], "")
        self.assertIn("range rule", proc.stdout)

    def test_outputs_and_contexts_side_by_side(self):
        proc, _ = self.run_compare()
        printed = proc.stdout.strip().split("\n")[-7:]
        names = ["ratios.csv", "contexts.csv", "bounded_buffer-compare.png",
                 "bounded_buffer-compare.svg", "counter-compare.png", "counter-compare.svg",
                 "compare.html"]
        self.assertEqual(printed, [os.path.join(self.tmp, n) for n in names])
        for name in names:
            if name.endswith((".png", ".svg")):
                self.assertImage(os.path.join(self.tmp, name), SIZE)
        with open(os.path.join(self.tmp, "contexts.csv"), encoding="utf-8") as f:
            contexts = {row["field"]: row for row in csv.DictReader(f)}
        self.assertEqual(contexts["CPU model"]["alpha"], "Fixture CPU A @ 2.60GHz")
        self.assertEqual(contexts["CPU model"]["beta"], "Fixture CPU B @ 3.50GHz")
        self.assertEqual(contexts["CPU model"]["differs"], "1")
        self.assertEqual(contexts["kernel"]["differs"], "0")
        line = [l for l in proc.stdout.splitlines() if l.startswith("CPU model")][0]
        self.assertIn("Fixture CPU A", line)
        self.assertIn("Fixture CPU B", line)
        with open(os.path.join(self.tmp, "compare.html"), encoding="utf-8") as f:
            page = f.read()
        for section in ("contexts", "ratios", "plots", "unmatched", "reproduce"):
            self.assertIn(f'<section id="{section}">', page)
        self.assertEqual(page.count("data:image/png;base64,"), 2)
        self.assertIn("./build/bench --primitive lock", page)


class CompareCommitsTest(H.TempDirTestCase):
    """commit-a vs commit-b: one host, 5 repetitions (make_fixtures.COMMIT_SERIES)."""

    def test_mann_whitney_marks(self):
        proc = H.run_script("compare.py", H.COMMIT_A, H.COMMIT_B, "--out", self.tmp,
                            "--no-plots")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        r = read_ratios(self.tmp)
        separated = r[("counter", "native", 1)]          # 10.0-10.4M vs 9.0-9.4M
        self.assertAlmostEqual(float(separated["ratio"]), 10.2 / 9.2)
        self.assertAlmostEqual(float(separated["p_value"]), 2 / math.comb(10, 5))
        self.assertEqual(separated["mark"], "*")
        interleaved = r[("counter", "native", 2)]        # 8.0, 8.2.. vs 8.1, 8.3..
        self.assertEqual(interleaved["mark"], "")
        self.assertGreater(float(interleaved["p_value"]), 0.5)
        crashed = r[("counter", "posix", 1)]             # B lost one repetition: 5 vs 4
        self.assertEqual((crashed["n_a"], crashed["n_b"]), ("5", "4"))
        self.assertAlmostEqual(float(crashed["ratio"]), 5.1e6 / 4.075e6)
        self.assertAlmostEqual(float(crashed["p_value"]), 2 / math.comb(9, 4))
        self.assertEqual(crashed["mark"], "*")
        self.assertIn("crashed", crashed["failures_b"])
        failed = r[("counter", "posix", 2)]              # every repetition of A failed
        self.assertEqual((failed["n_a"], failed["mark"], failed["ratio"]), ("0", "!", ""))
        self.assertIn("error", failed["failures_a"])
        self.assertIn("A = commit-a", proc.stdout)
        self.assertEqual(os.listdir(self.tmp).count("compare.html"), 0)     # --no-plots

    def test_range_rule_without_scipy(self):
        """With scipy unimportable, compare falls back to the range rule and says so."""
        fake = os.path.join(self.tmp, "noscipy", "scipy")
        os.makedirs(fake)
        with open(os.path.join(fake, "__init__.py"), "w") as f:
            f.write("raise ImportError('scipy hidden by the test')\n")
        out = os.path.join(self.tmp, "out")
        proc = H.run_script("compare.py", H.COMMIT_A, H.COMMIT_B, "--out", out, "--no-plots",
                            env={"PYTHONPATH": os.path.dirname(fake)})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("scipy is unavailable: using the range rule", proc.stderr)
        r = read_ratios(out)
        self.assertEqual(r[("counter", "native", 1)]["mark"], "*")      # ranges apart
        self.assertEqual(r[("counter", "native", 2)]["mark"], "")       # ranges overlap
        self.assertEqual(r[("counter", "posix", 2)]["mark"], "!")
        proc = H.run_script("compare.py", H.COMMIT_A, H.COMMIT_B, "--out", out, "--no-plots",
                            "--rule", "mannwhitney", env={"PYTHONPATH": os.path.dirname(fake)})
        self.assertOneLineError(proc, "compare.py", "needs scipy")


class CompareBackendsTest(H.TempDirTestCase):
    def test_native_vs_posix_in_one_file(self):
        proc = H.run_script("compare.py", H.ALPHA, "--backend-a", "native", "--backend-b",
                            "posix", "--out", self.tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        r = read_ratios(self.tmp)
        self.assertEqual(len(r), 12)                     # 3 workloads x 4 procs
        self.assertAlmostEqual(float(r[("counter", "", 1)]["ratio"]), 20 / 16)
        self.assertAlmostEqual(float(r[("counter", "", 1)]["p50_ratio"]), 50 / 62.5)
        self.assertAlmostEqual(float(r[("event_broadcast", "", 8)]["ratio"]), 200 / 150)
        self.assertIn("A = native", proc.stdout)
        self.assertIn("B = posix", proc.stdout)
        self.assertImage(os.path.join(self.tmp, "counter-compare.png"), SIZE)


class SignificanceUnitTest(unittest.TestCase):
    def test_rules(self):
        self.assertEqual(compare.min_two_sided_p(3, 3), 0.1)
        self.assertEqual(compare.reps_needed(0.05), 4)
        self.assertEqual(compare.significance([1, 2, 3], [4, 5, 6], 0.05, "range"), (None, "*"))
        self.assertEqual(compare.significance([1, 5], [4, 6], 0.05, "range"), (None, ""))
        self.assertEqual(compare.significance([1], [4, 6], 0.05, "range"), (None, "?"))
        self.assertEqual(compare.significance([], [4, 6], 0.05, "mannwhitney"), (None, "!"))
        p, mark = compare.significance([1, 2, 3, 4], [5, 6, 7, 8], 0.05, "mannwhitney")
        self.assertAlmostEqual(p, 2 / 70)
        self.assertEqual(mark, "*")


if __name__ == "__main__":
    unittest.main()
