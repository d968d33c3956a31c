"""plot.py never tells a reader "no successful runs" when runs succeeded. A workload whose ok
rows carry no per-op latency (bounded_buffer times hand-offs, in wake_*, not single ops) gets no
latency or CDF figure, one line on stderr says why, and plot.py exits 0; report.py embeds only
the figures that exist. Fixtures are built by hand from results/fixtures/alpha.csv: nothing here
depends on the machine's speed."""

import csv
import os
import re
import unittest

import helpers as H
import ipcsync_results as R
import plot

LATENCY = [c for c, _, _ in R.PERCENTILES]                  # lat_p50_ns .. lat_max_ns
SIZE = R.fig_pixels(R.FIG_SIZE_IN)
CLAIM = "no successful runs"


def alpha_rows(workloads):
    with open(H.ALPHA, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, [r for r in reader if r["workload"] in workloads]


def without_latency(row, to_wake=False):
    """The row as a workload that times no single op writes it: lat_* empty, no samples; with
    `to_wake`, its percentiles moved to wake_* (bounded_buffer's put-to-get hand-off)."""
    row = dict(row)
    if to_wake:
        row.update(wake_p50_ns=row["lat_p50_ns"], wake_p99_ns=row["lat_p99_ns"],
                   wake_max_ns=row["lat_max_ns"])
    row["lat_samples"] = "0" if row["status"] == "ok" else row["lat_samples"]
    row.update({c: "" for c in LATENCY})
    return row


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def written(proc):
    """{basename} of the files plot.py printed (one per line on stdout)."""
    return {os.path.basename(p) for p in proc.stdout.split()}


def svg_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class NoLatencyTest(H.TempDirTestCase):
    def setUp(self):
        super().setUp()
        header, rows = alpha_rows({"bounded_buffer", "counter"})
        self.header = header
        self.bb = [without_latency(r, to_wake=True) for r in rows
                   if r["workload"] == "bounded_buffer"]
        self.counter = [without_latency(r) for r in rows if r["workload"] == "counter"]
        self.assertTrue(any(r["status"] == "ok" for r in self.bb))

    def plot(self, name, rows):
        path = write_csv(os.path.join(self.tmp, f"{name}.csv"), self.header, rows)
        out = os.path.join(self.tmp, f"{name}-plots")
        proc = H.run_script("plot.py", path, "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc, out

    def test_ok_rows_without_latency_get_no_latency_figure(self):
        proc, out = self.plot("nolat", self.bb + self.counter)
        files = written(proc)
        self.assertEqual(files, set(os.listdir(out)))
        for workload, wake in (("bounded_buffer", True), ("counter", False)):
            with self.subTest(workload):
                for kind in ("latency", "cdf"):
                    for ext in plot.FORMATS:
                        self.assertNotIn(f"{workload}-{kind}.{ext}", files)
                for kind in ("throughput", "fairness"):
                    self.assertIn(f"{workload}-{kind}.png", files)
                self.assertEqual(f"{workload}-wakeup.png" in files, wake)
                said = [l for l in proc.stderr.splitlines() if l.startswith(f"{workload}:")]
                self.assertEqual(len(said), 1, proc.stderr)                  # said once
                self.assertIn("no per-op latency recorded", said[0])
                self.assertEqual("wake-up figure" in said[0], wake, said[0])
        for path in proc.stdout.split():
            self.assertImage(path, SIZE)

    def test_no_figure_claims_no_successful_runs_when_ok_rows_exist(self):
        """Every procs of these workloads has ok rows, so no panel may say otherwise: not
        when no row has latency, not when only some series or some procs have it, not when
        every recorded latency is 0 (net of the clock), not for the wake-up figure."""
        bb, counter = alpha_rows({"bounded_buffer"})[1], alpha_rows({"counter"})[1]
        some = [r if r["backend"] == "native" else without_latency(r, to_wake=True)
                for r in bb]
        procs_8 = [without_latency(r) if r["procs"] == "8" else r for r in counter]
        zero = [dict(r, **{c: "0" for c in LATENCY if r[c]}, wake_p50_ns="0", wake_p99_ns="0",
                     wake_max_ns="0") if r["status"] == "ok" else r for r in counter]
        cases = {"none": self.bb + self.counter, "some_series": some, "some_procs": procs_8,
                 "zero": zero}
        for name, rows in cases.items():
            with self.subTest(name):
                per_procs = {}
                for r in rows:
                    per_procs.setdefault((r["workload"], r["procs"]), set()).add(r["status"])
                self.assertTrue(all("ok" in s for s in per_procs.values()), per_procs)
                proc, out = self.plot(name, rows)
                svgs = [p for p in proc.stdout.split() if p.endswith(".svg")]
                self.assertTrue(svgs)
                for path in svgs:
                    self.assertFalse(CLAIM in svg_text(path),
                                     f"{os.path.basename(path)} says {CLAIM!r}")

    def test_the_claim_stays_where_it_is_true(self):
        """Only failed rows: the figures are drawn and do say there was no successful run."""
        failed = [r for r in alpha_rows({"counter"})[1] if r["status"] != "ok"]
        self.assertTrue(failed)
        proc, out = self.plot("failed", failed)
        self.assertIn("counter-latency.svg", written(proc))
        self.assertIn(CLAIM, svg_text(os.path.join(out, "counter-latency.svg")))

    def test_report_embeds_only_the_figures_that_exist(self):
        path = write_csv(os.path.join(self.tmp, "report.csv"), self.header, self.bb)
        html = os.path.join(self.tmp, "report.html")
        proc = H.run_script("report.py", path, "--out", html)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(html, encoding="utf-8") as f:
            page = f.read()
        section = H.section(page, "workload-bounded_buffer")
        alts = re.findall(r'<img class="plot" alt="([^"]*)" src="data:image/png;base64,', section)
        self.assertEqual(alts, ["bounded_buffer throughput", "bounded_buffer fairness",
                                "bounded_buffer wakeup"])
        self.assertEqual(section.count("<img"), len(alts))   # nothing but embedded PNGs
        self.assertNotIn(CLAIM, page)


if __name__ == "__main__":
    unittest.main()
