"""compare.py: sides chosen by files or by any key, ratios with intervals, corrected tests and
verdicts on fixtures with known numbers, the A/A check, plots and provenance."""

import csv
import math
import os
import shutil
import unittest

import matplotlib.colors as mcolors

import helpers as H
import ipcsync_results as R
import compare
import make_fixtures as F

SIZE = R.fig_pixels(R.COMPARE_FIG_SIZE_IN)     # (1200, 500)
RUNS = os.path.join(H.FIXTURES, "runs.csv")
DELTA = os.path.join(H.FIXTURES, "delta.csv")
DRIFT = os.path.join(H.FIXTURES, "drift.csv")
RUN_ID = {name: f"2026-11-22T1{3 + n}:00:00Z-gamma-{name}" for n, name in enumerate(F.RUNS)}


def read_ratios(out_dir, extra=()):
    """{(workload, backend or '', procs, *extra keys): row} from ratios.csv."""
    with open(os.path.join(out_dir, "ratios.csv"), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {(r["workload"], r.get("backend", ""), int(r["procs"]))
            + tuple(r[k] for k in extra): r for r in rows}


class CompareTwoHostsTest(H.TempDirTestCase):
    """alpha vs beta: beta's medians are alpha's x0.5 (native), x1 (posix), x1.25 (boost), x1
    (spin, x10 at procs 4); repetitions are 0.98x, 1x, 1.02x the median, 3 of them."""

    def run_compare(self, *extra, out=None):
        out = out or self.tmp
        proc = H.run_script("compare.py", H.ALPHA, H.BETA, "--out", out, *extra)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc, read_ratios(out)

    def test_ratios_intervals_and_verdicts(self):
        proc, r = self.run_compare("--no-plots")
        native = r[("counter", "native", 1)]
        self.assertAlmostEqual(float(native["ratio"]), 2.0)
        self.assertAlmostEqual(float(native["a_min"]), 19.6e6)
        self.assertAlmostEqual(float(native["b_max"]), 10.2e6)
        # the bootstrap interval holds the ratio and stays within the extreme ratios
        low, high = float(native["ci_low"]), float(native["ci_high"])
        self.assertLessEqual(low, 2.0)
        self.assertGreaterEqual(high, 2.0)
        self.assertGreaterEqual(low, 19.6 / 10.2 - 1e-9)
        self.assertLessEqual(high, 20.4 / 9.8 + 1e-9)
        self.assertEqual((native["n_a"], native["n_b"]), ("3", "3"))
        for procs in (1, 2, 4, 8):
            self.assertAlmostEqual(float(r[("counter", "native", procs)]["ratio"]), 2.0)
            self.assertAlmostEqual(float(r[("counter", "posix", procs)]["ratio"]), 1.0)
            self.assertAlmostEqual(float(r[("counter", "boost", procs)]["ratio"]), 0.8)
        self.assertAlmostEqual(float(r[("counter", "spin", 4)]["ratio"]), 0.1)
        # 3 vs 3: the exact test's smallest p is 0.1, so nothing is "faster" at alpha 0.05,
        # however far apart: rows beyond 5% are "inconclusive", the others "same"; every row
        # says n<5 and a warning is printed
        for key, row in r.items():
            within = abs(math.log(float(row["ratio"]))) < math.log(1.05)
            self.assertEqual(row["verdict"], "same" if within else "inconclusive", key)
        self.assertEqual(r[("counter", "native", 1)]["verdict"], "inconclusive")
        self.assertEqual(r[("counter", "posix", 1)]["verdict"], "same")
        self.assertEqual({row["few_reps"] for row in r.values()}, {"1"})
        self.assertAlmostEqual(float(native["p_value"]), 0.1)
        self.assertIn("fewer than 5 ok repetitions", proc.stderr)
        self.assertIn("n<5", proc.stdout)
        # the verify_failed repetition of alpha spin/8 and the timeout of beta boost/8 are
        # counted but not used
        spin8 = r[("counter", "spin", 8)]
        self.assertEqual((spin8["n_a"], spin8["reps_a"]), ("2", "3"))
        self.assertIn("verify_failed", spin8["failures_a"])
        boost8 = r[("bounded_buffer", "boost", 8)]
        self.assertEqual((boost8["n_b"], boost8["reps_b"]), ("2", "3"))
        self.assertAlmostEqual(float(boost8["ratio"]), 625_000 / ((765_625 + 781_250) / 2))
        self.assertIn("A: 1 verify_failed; B: 1 timeout", proc.stdout)
        self.assertEqual(r[("counter", "native", 4)]["oversubscribed"], "A")
        self.assertEqual(r[("counter", "native", 8)]["oversubscribed"], "A,B")
        # event_broadcast exists only on alpha
        self.assertNotIn(("event_broadcast", "native", 1), r)
        self.assertIn("Unmatched: 8 configuration(s) only in A, 0 only in B", proc.stdout)
        self.assertIn("host: A alpha, B beta", proc.stdout)       # what tells the sides apart

    def test_deterministic(self):
        self.run_compare("--no-plots", out=os.path.join(self.tmp, "1"))
        self.run_compare("--no-plots", out=os.path.join(self.tmp, "2"))
        texts = []
        for d in ("1", "2"):
            with open(os.path.join(self.tmp, d, "ratios.csv"), encoding="utf-8") as f:
                texts.append(f.read())
        self.assertEqual(texts[0], texts[1])

    def test_alpha_0_2_and_the_threshold(self):
        """With alpha 0.2, 3 vs 3 separated samples (p = 0.1; BH over the 28 rows: 0.175) are
        different: native faster, boost slower, posix the same. A 150% threshold makes the
        x2 of native 'same' again."""
        _, r = self.run_compare("--alpha", "0.2", "--no-plots")
        self.assertEqual(r[("counter", "native", 1)]["verdict"], "faster")
        self.assertAlmostEqual(float(r[("counter", "native", 1)]["p_adjusted"]), 0.1 * 28 / 16)
        self.assertEqual(r[("counter", "boost", 2)]["verdict"], "slower")
        self.assertEqual(r[("counter", "posix", 1)]["verdict"], "same")
        self.assertAlmostEqual(float(r[("counter", "posix", 1)]["p_value"]), 1.0)
        self.assertEqual(r[("counter", "spin", 8)]["verdict"], "same")    # 2 vs 3: p = 0.2
        _, r = self.run_compare("--alpha", "0.2", "--threshold", "150%", "--no-plots",
                                out=os.path.join(self.tmp, "t"))
        self.assertEqual(r[("counter", "native", 1)]["verdict"], "same")

    def test_latency_metric(self):
        """p50 A/B is the inverse of the throughput ratio; with alpha 0.2 lower latency is
        'faster'."""
        proc, r = self.run_compare("--metric", "p50", "--alpha", "0.2", "--no-plots")
        native = r[("counter", "native", 1)]
        self.assertEqual(native["metric"], "lat_p50_ns")
        self.assertAlmostEqual(float(native["ratio"]), 0.5, places=3)
        self.assertEqual(native["verdict"], "faster")
        self.assertEqual(r[("counter", "boost", 1)]["verdict"], "slower")
        self.assertIn("p50 latency (µs)", proc.stdout)
        self.assertIn("A: alpha (µs)", proc.stdout)

    def test_range_rule(self):
        proc, r = self.run_compare("--rule", "range", "--no-plots")
        self.assertEqual(r[("counter", "native", 1)]["verdict"], "faster")  # ranges apart, x2
        self.assertEqual(r[("counter", "posix", 1)]["verdict"], "same")     # identical ranges
        self.assertEqual(r[("counter", "spin", 8)]["verdict"], "same")
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
        self.assertNotIn('<section id="provenance">', page)      # one build, older files
        self.assertEqual(page.count("data:image/png;base64,"), 2)
        self.assertIn("./build/bench --primitive lock", page)
        self.assertIn('class="verdict-same"', page)
        self.assertIn('class="verdict-inconclusive"', page)


class CompareCommitsTest(H.TempDirTestCase):
    """commit-a vs commit-b (schema 2: no labels column): one host, 5 repetitions
    (make_fixtures.COMMIT_SERIES)."""

    def test_corrected_tests_and_verdicts(self):
        proc = H.run_script("compare.py", H.COMMIT_A, H.COMMIT_B, "--out", self.tmp,
                            "--no-plots")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        r = read_ratios(self.tmp)
        separated = r[("counter", "native", 1)]          # 10.0-10.4M vs 9.0-9.4M
        self.assertAlmostEqual(float(separated["ratio"]), 10.2 / 9.2)
        self.assertAlmostEqual(float(separated["p_value"]), 2 / math.comb(10, 5))
        # Benjamini-Hochberg over the 3 tested rows (posix/2 has no ok A): 0.0079 and 0.0159
        # both become 3 * 0.0079 = 0.0238
        self.assertAlmostEqual(float(separated["p_adjusted"]), 3 * 2 / math.comb(10, 5))
        self.assertEqual(separated["verdict"], "faster")
        self.assertEqual(separated["few_reps"], "0")
        interleaved = r[("counter", "native", 2)]        # 8.0, 8.2.. vs 8.1, 8.3..
        self.assertEqual(interleaved["verdict"], "same")
        self.assertGreater(float(interleaved["p_value"]), 0.5)
        crashed = r[("counter", "posix", 1)]             # B lost one repetition: 5 vs 4
        self.assertEqual((crashed["n_a"], crashed["n_b"]), ("5", "4"))
        self.assertAlmostEqual(float(crashed["ratio"]), 5.1e6 / 4.075e6)
        self.assertAlmostEqual(float(crashed["p_value"]), 2 / math.comb(9, 4))
        self.assertAlmostEqual(float(crashed["p_adjusted"]), 3 * 2 / math.comb(10, 5))
        self.assertEqual(crashed["verdict"], "faster")
        self.assertEqual(crashed["few_reps"], "1")
        self.assertIn("crashed", crashed["failures_b"])
        failed = r[("counter", "posix", 2)]              # every repetition of A failed
        self.assertEqual((failed["n_a"], failed["verdict"], failed["ratio"], failed["p_value"]),
                         ("0", "n/a", "", ""))
        self.assertIn("error", failed["failures_a"])
        self.assertIn("A = commit-a", proc.stdout)
        self.assertIn("verdicts: 2 faster, 1 same, 1 n/a", proc.stdout)
        self.assertEqual(os.listdir(self.tmp).count("compare.html"), 0)     # --no-plots

    def test_holm(self):
        proc = H.run_script("compare.py", H.COMMIT_A, H.COMMIT_B, "--out", self.tmp,
                            "--no-plots", "--correction", "holm")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        r = read_ratios(self.tmp)
        self.assertAlmostEqual(float(r[("counter", "native", 1)]["p_adjusted"]),
                               3 * 2 / math.comb(10, 5))
        self.assertAlmostEqual(float(r[("counter", "posix", 1)]["p_adjusted"]),
                               2 * 2 / math.comb(9, 4))
        self.assertIn("(Holm)", proc.stdout)

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
        self.assertEqual(r[("counter", "native", 1)]["verdict"], "faster")   # ranges apart
        self.assertEqual(r[("counter", "native", 1)]["ci_low"], "")          # no bootstrap
        self.assertEqual(r[("counter", "native", 2)]["verdict"], "same")     # ranges overlap
        self.assertEqual(r[("counter", "posix", 2)]["verdict"], "n/a")
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
        self.assertAlmostEqual(float(r[("event_broadcast", "", 8)]["ratio"]), 200 / 150)
        self.assertIn("A = backend=native", proc.stdout)
        self.assertIn("B = backend=posix", proc.stdout)
        self.assertImage(os.path.join(self.tmp, "counter-compare.png"), SIZE)
        # the same with --a/--b, and the p50 ratio
        out = os.path.join(self.tmp, "p50")
        proc = H.run_script("compare.py", H.ALPHA, "--a", "backend=native", "--b",
                            "backend=posix", "--metric", "lat_p50_ns", "--out", out, "--no-plots")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertAlmostEqual(float(read_ratios(out)[("counter", "", 1)]["ratio"]), 50 / 62.5)


class CompareSidesTest(H.TempDirTestCase):
    """Sides chosen by keys of the row or its context (runs.csv: three runs of 10
    repetitions; make_fixtures.RUN_MATRIX and RUN_SHIFT)."""

    def compare(self, files, *args, ok=True):
        out = os.path.join(self.tmp, f"out{len(os.listdir(self.tmp))}")
        proc = H.run_script("compare.py", *files, "--out", out, "--no-plots", *args)
        if ok:
            self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc, out

    def test_a_a_two_runs_of_one_distribution_are_the_same(self):
        """The A/A check: runs aa-1 and aa-2 draw from one distribution; every row of every
        metric is "same" (Benjamini-Hochberg and Holm), and nothing is flagged n<5. Each side
        is one run, so the only warning is that drift between runs is not in the test."""
        for metric, rows in (("ops_per_sec", 14), ("lat_p50_ns", 14), ("wake_p50_ns", 4),
                             ("cpu_ns_per_op", 14)):
            for correction in (("bh", "holm") if metric == "ops_per_sec" else ("bh",)):
                with self.subTest(metric=metric, correction=correction):
                    proc, out = self.compare([RUNS], "--a", f"run={RUN_ID['aa-1']}", "--b",
                                             f"run={RUN_ID['aa-2']}", "--metric", metric,
                                             "--correction", correction)
                    r = read_ratios(out)
                    self.assertEqual(len(r), rows)
                    self.assertEqual({row["verdict"] for row in r.values()}, {"same"},
                                     proc.stdout)
                    self.assertEqual({row["few_reps"] for row in r.values()}, {"0"})
                    self.assertEqual({(row["unit"], row["single_run"]) for row in r.values()},
                                     {("repetition", "1")})
                    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
                    self.assertEqual(len(warnings), 1, proc.stderr)
                    self.assertIn("a single bench run on a side", warnings[0])
                    if metric == "wake_p50_ns":
                        self.assertIn("10 matched configuration(s) have no wake_p50_ns",
                                      proc.stdout)

    def test_a_a_is_same_because_of_the_correction_and_the_threshold(self):
        """Without correction and without a practical threshold, the same A/A data would flag
        a row (the fixture's seed is chosen so): the verdicts above are not 'same' merely
        because nothing could ever differ."""
        rs = R.load(RUNS)
        ok = R.ok_rows(rs.rows)
        flagged = []
        for key, group in ok.groupby(["workload", "backend", "procs"]):
            a = group.loc[group["run_id"] == RUN_ID["aa-1"], "ops_per_sec"]
            b = group.loc[group["run_id"] == RUN_ID["aa-2"], "ops_per_sec"]
            ratio, _, _ = R.ratio_interval(a, b)
            raw = R.mann_whitney_p(list(a), list(b))
            if R.verdict(ratio, raw, 0.05, 0.0) != "same":
                flagged.append(key)
        self.assertGreaterEqual(len(flagged), 1)

    def test_labels_pool_runs_and_find_the_shift(self):
        """smt=on (runs aa-1 + aa-2, 20 repetitions) against smt=off (RUN_SHIFT: native x1.25,
        posix x0.8, spin x1): A is slower, faster, the same; non-ok rows are counted."""
        proc, out = self.compare([RUNS], "--a", "label.smt=on", "--b", "label.smt=off")
        r = read_ratios(out)
        for procs in (1, 2, 4):
            self.assertEqual(r[("counter", "native", procs)]["verdict"], "slower")
            self.assertEqual(r[("counter", "posix", procs)]["verdict"], "faster")
            self.assertEqual(r[("counter", "spin", procs)]["verdict"], "same")
            self.assertAlmostEqual(float(r[("counter", "native", procs)]["ratio"]), 0.8, delta=0.04)
        self.assertEqual(r[("pingpong", "native", 2)]["verdict"], "slower")
        native1 = r[("counter", "native", 1)]
        self.assertEqual((native1["n_a"], native1["n_b"], native1["reps_b"]), ("20", "9", "10"))
        posix2 = r[("counter", "posix", 2)]
        self.assertEqual((posix2["n_b"], posix2["reps_b"]), ("9", "10"))
        self.assertIn("crashed", posix2["failures_b"])
        self.assertIn("B: 1 short_window, 1 crashed", proc.stdout)
        self.assertIn("verdicts: 5 faster, 6 slower, 3 same", proc.stdout)
        # the runs differ in how they were built: the provenance table says how
        self.assertIn("Runs differ in their provenance", proc.stdout)
        for text in ("Clang 16.0.6", "-O3 -march=native", "3.11.2", "label smt"):
            self.assertIn(text, proc.stdout)
        # the same sides, chosen by run fields of the JSON context instead
        _, out2 = self.compare([RUNS], "--a", "compiler=GNU 12.2.0", "--b",
                               "compiler=Clang 16.0.6")
        self.assertEqual(read_ratios(out2).keys(), r.keys())
        _, out3 = self.compare([RUNS], "--a", "library_versions.python=", "--b",
                               "library_versions.python=3.11.2")
        self.assertEqual(read_ratios(out3)[("counter", "native", 1)]["n_a"], "20")

    def test_a_key_that_varies_within_a_side_is_matched(self):
        """native against posix over all three runs: label.smt takes two values on each side,
        so configurations match on it too (one row per smt value)."""
        proc, out = self.compare([RUNS], "--a", "backend=native", "--b", "backend=posix")
        r = read_ratios(out, extra=("label.smt",))
        self.assertEqual(len(r), 2 * (3 + 2))             # smt x (counter 3 procs + event 2)
        self.assertIn(("counter", "", 1, "on"), r)
        self.assertIn(("counter", "", 1, "off"), r)
        self.assertEqual(r[("counter", "", 1, "on")]["n_a"], "20")
        self.assertIn("only in A: pingpong", proc.stdout)

    def test_hosts_and_pins_from_pooled_files(self):
        """--a host=... --b host=... over two files gives the two-file comparison; pin
        sides of one file match on everything else."""
        _, out = self.compare([H.ALPHA, H.BETA], "--a", "host=alpha-1a2b3c4d", "--b",
                              "host=beta")                      # host id or host name
        r = read_ratios(out)
        self.assertAlmostEqual(float(r[("counter", "native", 1)]["ratio"]), 2.0)
        self.assertEqual(len(r), 28)
        # a file holding both pin policies: scatter rows are compact's, with native halved
        with open(H.ALPHA, encoding="utf-8") as f:
            lines = f.read().splitlines()
        header = lines[0].split(",")
        pin, name, ops = header.index("pin"), header.index("name"), header.index("ops_per_sec")
        backend = header.index("backend")
        rows = list(csv.reader(lines[1:]))
        scatter = []
        for row in rows:
            row = list(row)
            row[pin] = "scatter"
            row[name] = row[name].replace("pin:compact", "pin:scatter")
            if row[backend] == "native" and row[ops]:
                row[ops] = str(float(row[ops]) / 2)
            scatter.append(row)
        path = os.path.join(self.tmp, "pins.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(rows + scatter)
        shutil.copy(H.ALPHA[:-4] + ".json", os.path.join(self.tmp, "pins.json"))
        proc, out = self.compare([path], "--a", "pin=compact", "--b", "pin=scatter")
        r = read_ratios(out)
        self.assertEqual(len(r), 36)
        with open(os.path.join(out, "ratios.csv"), encoding="utf-8") as f:
            self.assertNotIn("pin", f.readline().strip().split(","))
        self.assertAlmostEqual(float(r[("counter", "native", 2)]["ratio"]), 2.0)
        self.assertAlmostEqual(float(r[("counter", "posix", 2)]["ratio"]), 1.0)
        self.assertIn("A = pin=compact", proc.stdout)

    def test_c2c_rows_match_on_their_pu_pair(self):
        for name in ("d1", "d2"):
            shutil.copy(DELTA, os.path.join(self.tmp, f"{name}.csv"))
            shutil.copy(DELTA[:-4] + ".json", os.path.join(self.tmp, f"{name}.json"))
        out = os.path.join(self.tmp, "out")
        proc = H.run_script("compare.py", os.path.join(self.tmp, "d1.csv"),
                            os.path.join(self.tmp, "d2.csv"), "--metric", "p50", "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(os.path.join(out, "ratios.csv"), encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r["workload"] == "c2c"]
        self.assertEqual(len(rows), 28)
        self.assertEqual(sorted(r["pair"] for r in rows)[:2], ["0;1", "0;2"])
        self.assertEqual({float(r["ratio"]) for r in rows}, {1.0})
        self.assertFalse(os.path.exists(os.path.join(out, "c2c-compare.png")))
        self.assertImage(os.path.join(out, "event_broadcast-compare.png"), SIZE)


class CompareRunsTest(H.TempDirTestCase):
    """drift.csv: 12 alternating runs of one build (side=A, side=B), each run offset by its own
    drift (make_fixtures.DRIFT_OFFSETS) with tight repetitions inside it."""

    def compare(self, *args, extra=()):
        out = os.path.join(self.tmp, f"out{len(os.listdir(self.tmp))}")
        proc = H.run_script("compare.py", DRIFT, "--out", out, "--no-plots", *args)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc, read_ratios(out, extra)

    def test_alternated_runs_are_compared_run_by_run(self):
        """Six runs a side: each run counts once (its median), the sides are the same
        distribution of runs, so every row is "same", with no warning."""
        proc, r = self.compare("--a", "label.side=A", "--b", "label.side=B")
        self.assertEqual(len(r), 4)
        for row in r.values():
            self.assertEqual((row["unit"], row["runs_a"], row["runs_b"], row["n_a"], row["n_b"],
                              row["reps_a"], row["single_run"]),
                             ("run", "6", "6", "6", "6", "30", "0"))
            self.assertEqual(row["verdict"], "same", proc.stdout)
            # the median of the run medians: offsets 0.99 (A) against 1.01 (B)
            self.assertAlmostEqual(float(row["ratio"]), 0.99 / 1.01, delta=0.002)
        self.assertNotIn("warning", proc.stderr)
        self.assertIn("per run: 6 vs 6", proc.stdout)

    def test_two_single_runs_show_their_drift_and_say_so(self):
        """Run d01 against run d02 of the same build: 30 repetitions each way do not see the
        8.7% between the two runs' offsets, so the test calls it faster; the record is flagged
        single_run and the warning says why such a verdict may be drift."""
        run = [F.drift_run_id(1), F.drift_run_id(2)]
        proc, r = self.compare("--a", f"run={run[0]}", "--b", f"run={run[1]}")
        for row in r.values():
            self.assertEqual((row["unit"], row["single_run"], row["n_a"]), ("repetition", "1", "5"))
            self.assertAlmostEqual(float(row["ratio"]), 1.00 / 0.92, delta=0.002)
            self.assertEqual(row["verdict"], "faster")
        self.assertIn("a single bench run on a side", proc.stderr)
        self.assertIn("1 run", proc.stdout)

    def test_sides_that_share_runs_compare_repetitions(self):
        """native against posix: both sides come from the same 12 runs, so the run's offset is
        common to both and the unit stays the repetition (30 a side: the label side varies, so
        rows match on it too), with no warning."""
        proc, r = self.compare("--a", "backend=native", "--b", "backend=posix",
                               extra=("label.side",))
        self.assertEqual(len(r), 4)
        for side in ("A", "B"):
            row = r[("counter", "", 1, side)]
            self.assertEqual((row["unit"], row["runs_a"], row["n_a"], row["single_run"]),
                             ("repetition", "6", "30", "0"))
            self.assertAlmostEqual(float(row["ratio"]), 20 / 8, delta=0.01)
        self.assertNotIn("single bench run", proc.stderr)

    def test_few_runs_warn_in_runs(self):
        """Two runs a side (d01, d03 against d02, d04): the run is the unit, and the n<5
        warning counts runs."""
        proc, r = self.compare("--a", f"run={F.drift_run_id(1)}", "--a",
                               f"run={F.drift_run_id(3)}", "--b", f"run={F.drift_run_id(2)}",
                               "--b", f"run={F.drift_run_id(4)}")
        row = r[("counter", "native", 1)]
        self.assertEqual((row["unit"], row["n_a"], row["few_reps"]), ("run", "2", "1"))
        self.assertNotEqual(row["verdict"], "faster")
        self.assertIn("ok runs on a side", proc.stderr)
        self.assertIn("n<5 runs", proc.stdout)


class ComparePlotTest(unittest.TestCase):
    """The figure itself: ratio axis log and centred on 1, colour by side, readable ticks."""

    def tearDown(self):
        compare.plot.plt.close("all")

    def figure(self, files, side_args, workload="counter", metric="ops_per_sec"):
        args = compare.argparse.Namespace(
            files=files, side_a=side_args[0], side_b=side_args[1], backend_a=None,
            backend_b=None, workload=None, label_a=None, label_b=None)
        sides = compare.make_sides(args)
        labels = [f"label.{n}" for n in compare.label_names(sides)]
        for side in sides:
            side.table = compare.side_table(side, labels)
        keys, _ = compare.matching_keys(sides, [s.table for s in sides])
        records, _, _, _ = compare.compare_rows([s.table for s in sides], keys, metric, 0.05,
                                                0.05, "bh", "mannwhitney")
        return compare.draw_workload(workload, sides, records, keys, metric, 0.05)

    def test_ratio_axis_log_centred_on_one(self):
        for files, sides in (([H.ALPHA, H.BETA], (None, None)),
                             ([RUNS], (["label.smt=on"], ["label.smt=off"]))):
            with self.subTest(files=files):
                fig, (left, right) = self.figure(files, sides)
                self.assertEqual(right.get_yscale(), "log")
                low, high = right.get_ylim()
                self.assertAlmostEqual(low * high, 1.0, places=6)
                self.assertGreaterEqual(len(compare.plot.labelled_ticks(right)), 3)
                self.assertGreaterEqual(len(compare.plot.labelled_ticks(left)), 2)
                colours = {mcolors.to_hex(l.get_color())
                           for l in left.get_lines() if len(l.get_xdata()) > 1}
                self.assertEqual(colours, set(compare.SIDE_COLORS.values()))


class SignificanceUnitTest(unittest.TestCase):
    def test_adjustments(self):
        p = [0.01, 0.04, 0.03, None, 0.005]
        bh = R.adjust_p(p, "bh")
        self.assertEqual(bh[3], None)
        for got, want in zip([bh[i] for i in (0, 1, 2, 4)], [0.02, 0.04, 0.04, 0.02]):
            self.assertAlmostEqual(got, want)
        holm = R.adjust_p(p, "holm")
        for got, want in zip([holm[i] for i in (0, 1, 2, 4)], [0.03, 0.06, 0.06, 0.02]):
            self.assertAlmostEqual(got, want)
        self.assertEqual(R.adjust_p([0.9, 0.8], "holm"), [1.0, 1.0])

    def test_verdicts(self):
        self.assertEqual(R.verdict(1.2, 0.01, 0.05, 0.05), "faster")
        self.assertEqual(R.verdict(1.2, 0.01, 0.05, 0.05, higher_is_better=False), "slower")
        self.assertEqual(R.verdict(0.8, 0.01, 0.05, 0.05), "slower")
        self.assertEqual(R.verdict(1.04, 0.0001, 0.05, 0.05), "same")     # below threshold
        self.assertEqual(R.verdict(2.0, 0.06, 0.05, 0.05), "inconclusive")  # not significant
        self.assertEqual(R.verdict(1.02, 0.06, 0.05, 0.05), "same")
        self.assertEqual(R.verdict(float("nan"), None, 0.05, 0.05), "n/a")
        self.assertEqual(R.verdict(2.0, None, 0.05, 0.05, significant=True), "faster")

    def test_interval_and_test(self):
        a, b = [10, 11, 12, 13, 14], [5, 5.5, 6, 6.5, 7]
        ratio, low, high = R.ratio_interval(a, b)
        self.assertAlmostEqual(ratio, 2.0)
        self.assertLess(low, ratio)
        self.assertGreater(high, ratio)
        self.assertEqual(R.ratio_interval(a, b), (ratio, low, high))      # seeded
        self.assertTrue(math.isnan(R.ratio_interval([1], b)[1]))          # one value: no CI
        self.assertAlmostEqual(R.mann_whitney_p(a, b), 2 / math.comb(10, 5))
        res = R.judge([(a, b), (a, a)], rule="range")
        self.assertEqual([r["verdict"] for r in res], ["faster", "same"])
        self.assertEqual([r["p"] for r in res], [None, None])


if __name__ == "__main__":
    unittest.main()
