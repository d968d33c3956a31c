"""Tests of ipcsync_results (the shared loader) and of the committed fixtures."""

import math
import os
import re
import tempfile
import unittest

import helpers as H
import ipcsync_results as R
import make_fixtures


class SchemaTest(unittest.TestCase):
    def test_columns_are_the_documented_ones_in_order(self):
        with open(os.path.join(H.REPO, "docs", "results-format.md"), encoding="utf-8") as f:
            doc = f.read()
        section = doc.split("## CSV columns, in order", 1)[1].split("\n## ", 1)[0]
        documented = []
        for line in section.splitlines():
            m = re.match(r"\|\s*([a-z0-9_, ]+?)\s*\|\s*(int|text|float|0/1)\s*\|", line)
            if m:
                documented += [c.strip() for c in m.group(1).split(",")]
        self.assertEqual(tuple(documented), R.COLUMNS)

    def test_schema_1_files_still_load(self):
        """The committed reference results are schema 1: read, with the new columns empty and
        noisy 0; a schema-1 file is one header or the other, never a mix."""
        path = os.path.join(H.REPO, "results", "reference", "vm-49ae7fe5", "sweep.csv")
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.readline().strip(), ",".join(R.COLUMNS_V1))
        rows = R.read_csv(path)
        self.assertGreater(len(rows), 0)
        self.assertTrue((rows["schema_version"] == 1).all())
        self.assertTrue((rows["noisy"] == 0).all())
        self.assertTrue(rows["cpu_ns_per_op"].isna().all())
        self.assertEqual(len(R.ok_rows(rows)), (rows["status"] == "ok").sum())

    def test_schema_2_files_still_load(self):
        """commit-a/-b are schema 2 (no labels column): read with labels empty."""
        with open(H.COMMIT_A, encoding="utf-8") as f:
            self.assertEqual(f.readline().strip(), ",".join(R.COLUMNS_V2))
        rows = R.read_csv(H.COMMIT_A)
        self.assertTrue((rows["schema_version"] == 2).all())
        self.assertEqual(set(rows["labels"]), {""})
        rs = R.load(H.COMMIT_A)
        self.assertEqual(set(R.key_values(rs, "label.smt")), {""})

    def test_schema_3_header_has_labels_after_params(self):
        self.assertEqual(R.COLUMNS[R.COLUMNS.index("params") + 1], "labels")
        with open(H.ALPHA, encoding="utf-8") as f:
            self.assertEqual(f.readline().strip(), ",".join(R.COLUMNS))


        with open(H.ALPHA, encoding="utf-8") as f:
            text = f.read().splitlines()
        header = text[0].split(",")
        status = header.index("status")
        cells = text[1].split(",")
        cells[status] = "short_window"
        with tempfile.TemporaryDirectory() as tmp:
            p = os.path.join(tmp, "s.csv")
            with open(p, "w", encoding="utf-8") as f:
                f.write("\n".join([text[0], ",".join(cells)] + text[2:]) + "\n")
            rows = R.read_csv(p)
        self.assertEqual((rows["status"] == "short_window").sum(), 1)
        self.assertEqual(len(R.ok_rows(rows)), (rows["status"] == "ok").sum())
        self.assertNotIn("short_window", set(R.ok_rows(rows)["status"]))

    def test_fixtures_are_current(self):
        for name, text in make_fixtures.generate().items():
            with open(os.path.join(H.FIXTURES, name), encoding="utf-8") as f:
                self.assertEqual(f.read(), text, f"{name} is stale: run make_fixtures.py")


class FixtureShapeTest(unittest.TestCase):
    """The fixtures have what the brief asks of them."""

    @classmethod
    def setUpClass(cls):
        cls.rs = R.load([H.ALPHA, H.BETA])

    def test_two_hosts_with_contexts(self):
        self.assertEqual(sorted(self.rs.contexts), ["alpha-1a2b3c4d", "beta-5e6f7a8b"])
        self.assertEqual(self.rs.pus("alpha-1a2b3c4d"), 2)
        self.assertEqual(self.rs.pus("beta-5e6f7a8b"), 4)
        self.assertEqual(self.rs.warnings, [])

    def test_matrix(self):
        rows = self.rs.rows
        self.assertEqual(sorted(rows["procs"].unique()), [1, 2, 4, 8])
        self.assertEqual(sorted(rows["repetition"].unique()), [0, 1, 2])
        self.assertGreaterEqual(rows["workload"].nunique(), 2)
        self.assertGreaterEqual(rows["backend"].nunique(), 3)
        alpha = rows[rows["host_id"] == "alpha-1a2b3c4d"]
        self.assertTrue((alpha["oversubscribed"] == (alpha["procs"] > 2)).all())
        self.assertIn("verify_failed", set(rows["status"]))

    def test_typed_values(self):
        rows = self.rs.rows
        self.assertEqual(len(rows), 108 + 84)
        self.assertEqual(rows["procs"].dtype.kind, "i")
        failed = rows[rows["status"] == "verify_failed"].iloc[0]
        self.assertEqual(failed["detail"], "counter=499990, expected=500000")  # quoted comma
        timeout = rows[rows["status"] == "timeout"].iloc[0]
        self.assertTrue(math.isnan(timeout["ops_per_sec"]))
        self.assertTrue(rows["wake_p50_ns"][rows["workload"] == "counter"].isna().all())
        self.assertTrue(rows["wake_p50_ns"][rows["workload"] == "event_broadcast"].notna().all())


class KeysTest(unittest.TestCase):
    """Selecting rows by any key of the row or its context."""

    @classmethod
    def setUpClass(cls):
        cls.runs = R.load(os.path.join(H.FIXTURES, "runs.csv"))
        cls.two = R.load([H.ALPHA, H.BETA])

    def count(self, rs, *conditions):
        return int(R.matching(rs, [R.parse_condition(c, "--a") for c in conditions]).sum())

    def test_columns_aliases_labels_and_context(self):
        self.assertEqual(self.count(self.two, "backend=native"), 24 + 12 + 24)
        self.assertEqual(self.count(self.two, "procs=2", "backend=native"), 3 + 3 + 3 + 3 + 3)
        self.assertEqual(self.count(self.two, "host=alpha-1a2b3c4d"), 108)
        self.assertEqual(self.count(self.two, "host=beta"), 84)                 # host name
        self.assertEqual(self.count(self.two, "file=beta.csv"), 84)
        self.assertEqual(self.count(self.two, "cpu_model=Fixture CPU B @ 3.50GHz"), 84)
        self.assertEqual(self.count(self.two, "topology.pus=2"), 108)
        self.assertEqual(self.count(self.two, "backend=native", "backend=posix"), 2 * 60)
        self.assertEqual(self.count(self.runs, "label.smt=off"), 140)
        self.assertEqual(self.count(self.runs, "labels=smt=on"), 280)
        self.assertEqual(self.count(self.runs, "run=2026-11-22T14:00:00Z-gamma-aa-2"), 140)
        self.assertEqual(self.count(self.runs, "compiler=Clang 16.0.6"), 140)
        self.assertEqual(self.count(self.runs, "library_versions.python=3.11.2"), 140)
        # older runs record their build once per file: the file's value stands in
        self.assertEqual(self.count(self.two, "build_type=Release"), 192)
        self.assertEqual(self.count(self.two, "commit=0123456789abcdef0123456789abcdef01234567"),
                         192)

    def test_errors_name_what_exists(self):
        with self.assertRaisesRegex(R.InputError, r"unknown key 'colour'"):
            self.count(self.two, "colour=red")
        with self.assertRaisesRegex(R.InputError, r"no rows with label.smt=maybe.*'off', 'on'"):
            self.count(self.runs, "label.smt=maybe")
        with self.assertRaisesRegex(R.InputError, r"expected KEY=VALUE"):
            R.parse_condition("smt", "--a")
        self.assertEqual(R.parse_labels("a=1;b=x=y"), {"a": "1", "b": "x=y"})


class ProvenanceAndFloorTest(unittest.TestCase):
    def test_provenance_only_when_runs_differ(self):
        self.assertIsNone(R.provenance_table(R.load([H.ALPHA, H.BETA])))    # older files
        self.assertIsNone(R.provenance_table(R.load(H.COMMIT_A)))           # one run
        headers, rows = R.provenance_table(R.load(os.path.join(H.FIXTURES, "runs.csv")))
        self.assertEqual(headers, ["run", "host", "date", "C++ flags", "compiler", "python",
                                   "label smt"])
        self.assertEqual(rows[2][3:], ["-O3 -march=native -DNDEBUG", "Clang 16.0.6", "3.11.2",
                                       "off"])
        # two commits of one host, older run entries: the commits differ
        headers, rows = R.provenance_table(R.load([H.COMMIT_A, H.COMMIT_B]))
        self.assertEqual(headers, ["run", "host", "date", "commit"])
        # the host context lists every run's own build, not only the file's
        ctx = R.load(os.path.join(H.FIXTURES, "runs.csv")).contexts["gamma-9c8b7a6d"]
        fields = dict(R.context_fields(ctx))
        self.assertEqual(fields["compiler"], "Clang 16.0.6, GNU 12.2.0")
        self.assertIn("python 3.11.2", fields["library versions"])

    def test_floors(self):
        delta = R.load(os.path.join(H.FIXTURES, "delta.csv"), workload="event_broadcast")
        self.assertAlmostEqual(delta.floor("delta-0d1e2f3a")[0], 176.4)     # from c2c rows
        self.assertIn("c2c", delta.floor("delta-0d1e2f3a")[1])
        runs = R.load(os.path.join(H.FIXTURES, "runs.csv"))
        pp = R.ok_rows(runs.rows)
        pp = pp[pp["workload"] == "pingpong"]["lat_p50_ns"]
        self.assertAlmostEqual(runs.floor("gamma-9c8b7a6d")[0], float(pp.median()))
        self.assertIn("pingpong", runs.floor("gamma-9c8b7a6d")[1])
        self.assertEqual(R.load(H.ALPHA).floor("alpha-1a2b3c4d"), (None, None))


class SummaryTest(unittest.TestCase):
    def test_failed_repetitions_are_counted_not_used(self):
        rs = R.load(H.ALPHA, workload="counter", backend="spin")
        s = R.summarize(rs.rows, ["procs"]).set_index("procs")
        self.assertEqual(s.loc[8, "reps"], 3)
        self.assertEqual(s.loc[8, "n_ok"], 2)
        self.assertEqual(s.loc[8, "failures"], "rep 1: verify_failed")
        self.assertEqual(s.loc[8, "ops_median"], 500_000)      # median of 490000 and 510000
        self.assertEqual(s.loc[1, "ops_median"], 25_000_000)
        self.assertEqual((s.loc[1, "ops_min"], s.loc[1, "ops_max"]), (24_500_000, 25_500_000))

    def test_all_failed_configuration_has_no_statistics(self):
        rs = R.load(H.COMMIT_A, backend="posix")
        s = R.summarize(rs.rows, ["procs"]).set_index("procs")
        self.assertEqual(s.loc[2, "n_ok"], 0)
        self.assertTrue(math.isnan(s.loc[2, "ops_median"]))

    def test_select_unknown_value_names_what_exists(self):
        with self.assertRaisesRegex(R.InputError, r"no rows with workload 'nope'.*counter"):
            R.load(H.ALPHA, workload="nope")

    def test_pus_inferred_without_context(self):
        rs = R.load(H.ALPHA)
        rs.contexts.clear()
        self.assertEqual(rs.pus("alpha-1a2b3c4d"), 2)   # largest procs not oversubscribed

    def test_formatting(self):
        self.assertEqual(R.fmt_rate(20_000_000), "20M")
        self.assertEqual(R.fmt_rate(612_500), "612k")
        self.assertEqual(R.fmt_ns(1600), "1.6 µs")
        self.assertEqual(R.fmt_ns(float("nan")), "-")
        self.assertEqual([R.fmt_us(x) for x in (50, 1600, 12500, 1.25e6)],
                         ["0.05", "1.6", "12.5", "1250"])
        self.assertEqual(R.fmt_us(176.4, unit=True), "0.176 µs")
        self.assertEqual(R.status_counts(R.load(H.COMMIT_B).rows), "1 crashed")
        self.assertEqual(R.fig_pixels(R.FIG_SIZE_IN), (1000, 600))
        self.assertEqual(R.fig_pixels(R.COMPARE_FIG_SIZE_IN), (1200, 500))


if __name__ == "__main__":
    unittest.main()
