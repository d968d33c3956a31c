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
        path = os.path.join(H.REPO, "results", "reference", "sweep.csv")
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.readline().strip(), ",".join(R.COLUMNS_V1))
        rows = R.read_csv(path)
        self.assertGreater(len(rows), 0)
        self.assertTrue((rows["schema_version"] == 1).all())
        self.assertTrue((rows["noisy"] == 0).all())
        self.assertTrue(rows["cpu_ns_per_op"].isna().all())
        self.assertEqual(len(R.ok_rows(rows)), (rows["status"] == "ok").sum())

    def test_short_window_rows_are_counted_not_used(self):
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
        self.assertEqual(R.fig_pixels(R.FIG_SIZE_IN), (1000, 600))
        self.assertEqual(R.fig_pixels(R.COMPARE_FIG_SIZE_IN), (1200, 500))


if __name__ == "__main__":
    unittest.main()
