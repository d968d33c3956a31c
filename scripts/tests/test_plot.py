"""plot.py: the files it writes, their pixel size, and what the figures contain."""

import os
import unittest

import helpers as H
import ipcsync_results as R
import plot

SIZE = R.fig_pixels(R.FIG_SIZE_IN)        # (1000, 600)
WORKLOADS = ("bounded_buffer", "counter", "event_broadcast")


def expected_files(out, workloads=WORKLOADS):
    return {os.path.join(out, f"{w}-{kind}.{ext}")
            for w in workloads for kind in plot.KINDS for ext in plot.FORMATS}


class PlotCliTest(H.TempDirTestCase):
    def test_two_hosts_every_workload(self):
        out = os.path.join(self.tmp, "plots")
        proc = H.run_script("plot.py", H.ALPHA, H.BETA, "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        printed = proc.stdout.split()
        self.assertEqual(len(printed), len(set(printed)))
        self.assertEqual(set(printed), expected_files(out))     # one line per written file
        self.assertEqual(set(os.path.join(out, f) for f in os.listdir(out)), expected_files(out))
        for path in printed:
            self.assertImage(path, SIZE)

    def test_default_out_dir_and_workload_filter(self):
        csv_path = H.copy_fixture("alpha", self.tmp)
        proc = H.run_script("plot.py", csv_path, "--workload", "counter")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = os.path.join(self.tmp, "alpha-plots")
        self.assertEqual(set(proc.stdout.split()), expected_files(out, ["counter"]))
        for path in proc.stdout.split():
            self.assertImage(path, SIZE)

    def test_whatever_rows_exist(self):
        """Only failed rows, or a single row: still four figures of the right size."""
        with open(H.COMMIT_A, encoding="utf-8") as f:
            lines = f.read().splitlines(keepends=True)
        cases = {"failed_only": [lines[0]] + [l for l in lines[1:] if ",ok," not in l],
                 "one_row": lines[:2]}
        for name, content in cases.items():
            with self.subTest(name):
                path = os.path.join(self.tmp, f"{name}.csv")
                with open(path, "w", encoding="utf-8") as f:
                    f.writelines(content)
                out = os.path.join(self.tmp, f"{name}-out")
                proc = H.run_script("plot.py", path, "--out", out)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertEqual(set(proc.stdout.split()), expected_files(out, ["counter"]))
                for p in proc.stdout.split():
                    self.assertImage(p, SIZE)

    def test_missing_json_is_a_warning(self):
        csv_path = H.copy_fixture("beta", self.tmp, with_json=False)
        proc = H.run_script("plot.py", csv_path, "--workload", "counter")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("plot.py: warning: no JSON context", proc.stderr)
        self.assertEqual(len(proc.stdout.split()), 8)


class PlotContentTest(unittest.TestCase):
    """Draw into axes in-process and inspect what was drawn."""

    def tearDown(self):
        plot.plt.close("all")

    def throughput_axes(self, rs, workload="counter"):
        df = rs.rows[rs.rows["workload"] == workload]
        fig, (ax,) = plot.new_figure()
        plot.draw_throughput(ax, rs, df, plot.make_series(rs, df))
        return ax

    def lines(self, ax):
        """Label -> data line, for plain lines and error-bar plots (whose label is on the
        container)."""
        out = {line.get_label(): line for line in ax.get_lines()}
        out.update({c.get_label(): c.lines[0] for c in ax.containers})
        return out

    def test_medians_and_ideal_line(self):
        ax = self.throughput_axes(R.load(H.ALPHA))
        native = self.lines(ax)["native"]
        self.assertEqual(list(native.get_xdata()), [1, 2, 4, 8])
        self.assertEqual(list(native.get_ydata()), [20e6, 16e6, 10e6, 5e6])
        ideal = [l for l in ax.get_lines() if l.get_label() == "_ideal"
                 and l.get_color() == native.get_color()][0]
        self.assertEqual(list(ideal.get_ydata()), [20e6, 40e6, 80e6, 160e6])
        self.assertEqual(ax.get_yscale(), "log")

    def test_failed_rows_never_plotted_as_throughput(self):
        rs = R.load(H.ALPHA)
        failed = rs.rows["status"] != "ok"
        self.assertEqual(failed.sum(), 1)
        rs.rows.loc[failed, "ops_per_sec"] = 9e12        # would stand out if it were used
        ax = self.throughput_axes(rs)
        spin = self.lines(ax)["spin"]
        self.assertEqual(list(spin.get_ydata()), [25e6, 20e6, 1e6, 500e3])
        for line in ax.get_lines():
            if line.get_label() != "_ideal" and len(line.get_ydata()):
                self.assertLess(max(line.get_ydata()), 1e9, line.get_label())
        marks = [l for l in ax.get_lines() if l.get_label().startswith("failed repetition")]
        self.assertEqual([list(m.get_xdata()) for m in marks], [[8]])

    def test_configuration_with_only_failures_has_no_point(self):
        ax = self.throughput_axes(R.load(H.COMMIT_A))
        self.assertEqual(list(self.lines(ax)["posix"].get_xdata()), [1])

    def test_oversubscribed_region_is_shaded(self):
        for files, starts in (([H.ALPHA], [2.5]), ([H.ALPHA, H.BETA], [2.5, 4.5])):
            ax = self.throughput_axes(R.load(files))
            shaded = [p for p in ax.patches if p.get_label().startswith("oversubscribed")]
            to_data = ax.transData.inverted()
            lefts = sorted(to_data.transform((p.get_extents().x0, 0))[0] for p in shaded)
            self.assertEqual(len(lefts), len(starts), files)
            for got, want in zip(lefts, starts):
                self.assertAlmostEqual(got, want, places=3)

    def test_latency_panels_and_cdf_points(self):
        rs = R.load(H.ALPHA)
        df = rs.rows[rs.rows["workload"] == "counter"]
        series = plot.make_series(rs, df)
        fig, (ax,) = plot.new_figure()
        plot.draw_metric(ax, rs, df, series, "lat_p50_ns", "p50")
        self.assertEqual(list(self.lines(ax)["native"].get_ydata()), [50, 125, 400, 1600])
        self.assertEqual(plot.cdf_procs(df), [1, 2, 8])
        fig, (ax,) = plot.new_figure()
        plot.draw_cdf(ax, rs, df, series, 1)
        native = self.lines(ax)["native"]
        self.assertEqual(list(native.get_xdata()), [50, 75, 200, 500, 2500])
        self.assertEqual(list(native.get_ydata()), [0.5, 0.9, 0.99, 0.999, plot.CDF_MAX_AT])

    def test_cdf_title_says_it_comes_from_percentiles(self):
        self.assertIn("percentile points", plot.CDF_NOTE)
        out = self._tmp_plots()
        with open(os.path.join(out, "counter-cdf.svg"), encoding="utf-8") as f:
            self.assertIn("percentile points", f.read())

    def _tmp_plots(self):
        import tempfile
        tmp = tempfile.TemporaryDirectory(prefix="ipcsync-test-")
        self.addCleanup(tmp.cleanup)
        rs = R.load(H.ALPHA, workload="counter")
        plot.plot_all(rs, tmp.name)
        return tmp.name


if __name__ == "__main__":
    unittest.main()
