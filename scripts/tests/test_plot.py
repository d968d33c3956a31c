"""plot.py: the files it writes, their pixel size, and what the figures contain."""

import os
import unittest

import numpy as np

import helpers as H
import ipcsync_results as R
import plot

SIZE = R.fig_pixels(R.FIG_SIZE_IN)        # (1000, 600)
WORKLOADS = ("bounded_buffer", "counter", "event_broadcast")
DELTA = os.path.join(H.FIXTURES, "delta.csv")
RUNS = os.path.join(H.FIXTURES, "runs.csv")


def expected_files(out, workloads=WORKLOADS, wake=("event_broadcast",)):
    kinds = {w: list(plot.KINDS) + ([plot.WAKE_KIND] if w in wake else []) for w in workloads}
    return {os.path.join(out, f"{w}-{kind}.{ext}")
            for w in workloads for kind in kinds[w] for ext in plot.FORMATS}


def svg_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


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
        # event_broadcast at procs 1 is a broadcaster with no listener: left out, and said so
        self.assertIn("left out: a broadcaster with no listener",
                      svg_text(os.path.join(out, "event_broadcast-throughput.svg")))
        self.assertIn("fairness (Jain", svg_text(os.path.join(out, "counter-fairness.svg")))

    def test_default_out_dir_workload_filter_and_run_id(self):
        csv_path = H.copy_fixture("alpha", self.tmp)
        proc = H.run_script("plot.py", csv_path, "--workload", "counter")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = os.path.join(self.tmp, "alpha-plots")
        self.assertEqual(set(proc.stdout.split()), expected_files(out, ["counter"]))
        for path in proc.stdout.split():
            self.assertImage(path, SIZE)
        # bench --plot passes --run-id: a directory per run
        proc = H.run_script("plot.py", csv_path, "--run-id", "2026-11-20T10:01:00Z-alpha-1")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        out = os.path.join(self.tmp, "alpha-run-2026-11-20T10_01_00Z-alpha-1-plots")
        self.assertEqual(set(proc.stdout.split()), expected_files(out, ["counter"]))

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

    def test_c2c_heatmap_and_wakeups_as_multiples_of_the_floor(self):
        out = os.path.join(self.tmp, "delta")
        proc = H.run_script("plot.py", DELTA, "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        names = sorted(os.path.basename(p) for p in proc.stdout.split())
        self.assertEqual([n for n in names if n.startswith("c2c")],
                         ["c2c-heatmap.png", "c2c-heatmap.svg"])      # not the procs figures
        for p in proc.stdout.split():
            self.assertImage(p, SIZE)
        wake = svg_text(os.path.join(out, "event_broadcast-wakeup.svg"))
        self.assertIn("× cache-line floor", wake)
        self.assertIn("cache-line floor 0.176 µs", wake)


class PlotContentTest(unittest.TestCase):
    """Draw into axes in-process and inspect what was drawn."""

    def tearDown(self):
        plot.plt.close("all")

    def throughput_axes(self, rs, workload="counter"):
        df = rs.rows[rs.rows["workload"] == workload]
        fig, (ax,) = plot.new_figure()
        plot.draw_throughput(ax, rs, df, plot.make_series(rs, df),
                             ideal=workload in R.COUNTER_LIKE)
        return ax

    def lines(self, ax):
        """Label -> data line, for plain lines and error-bar plots (whose label is on the
        container)."""
        out = {line.get_label(): line for line in ax.get_lines()}
        out.update({c.get_label(): c.lines[0] for c in ax.containers})
        return out

    def ideal_lines(self, ax):
        return [l for l in ax.get_lines() if l.get_label() == "_ideal"]

    def test_medians_and_ideal_line_up_to_the_pus(self):
        ax = self.throughput_axes(R.load(H.ALPHA))
        native = self.lines(ax)["native"]
        self.assertEqual(list(native.get_xdata()), [1, 2, 4, 8])
        self.assertEqual(list(native.get_ydata()), [20e6, 16e6, 10e6, 5e6])
        ideal = [l for l in self.ideal_lines(ax) if l.get_color() == native.get_color()][0]
        self.assertEqual(list(ideal.get_xdata()), [1, 2])           # alpha has 2 PUs
        self.assertEqual(list(ideal.get_ydata()), [20e6, 40e6])
        self.assertEqual(ax.get_yscale(), "log")
        # two hosts: each series' line stops at its own host's PUs (alpha 2, beta 4)
        ax = self.throughput_axes(R.load([H.ALPHA, H.BETA]))
        self.assertEqual(sorted({tuple(l.get_xdata()) for l in self.ideal_lines(ax)}),
                         [(1, 2), (1, 4)])

    def test_no_ideal_line_where_the_workload_does_not_scale(self):
        rs = R.load(H.ALPHA)
        for workload in ("bounded_buffer", "event_broadcast"):
            self.assertEqual(self.ideal_lines(self.throughput_axes(rs, workload)), [], workload)
        self.assertIn("counter", R.COUNTER_LIKE)
        self.assertNotIn("event_broadcast", R.COUNTER_LIKE)

    def test_event_broadcast_without_a_listener_is_not_a_baseline(self):
        rs = R.load(H.ALPHA, workload="event_broadcast")
        kept, dropped = R.meaningful(rs.rows)
        self.assertEqual(sorted(dropped["procs"].unique()), [1])
        self.assertEqual(sorted(kept["procs"].unique()), [2, 4, 8])

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

    def test_colour_is_the_host_when_several_and_legend_groups(self):
        rs = R.load([H.ALPHA, H.BETA])
        df = rs.rows[rs.rows["workload"] == "counter"]
        styling = plot.make_series(rs, df)
        self.assertEqual(styling.colour_key, "host_id")
        by_host = {}
        for s in styling:
            by_host.setdefault(s.values["host_id"], set()).add(s.color)
        self.assertEqual([len(c) for c in by_host.values()], [1, 1])      # one colour a host
        self.assertEqual(len(set.union(*by_host.values())), 2)
        self.assertEqual(styling.style_keys, ["backend"])
        groups = styling.legend_groups()
        self.assertEqual([title for title, _ in groups], ["host", "backend"])
        self.assertEqual([label for _, label in groups[0][1]], ["alpha", "beta"])
        self.assertEqual(sorted(label for _, label in groups[1][1]),
                         ["boost", "native", "posix", "spin"])
        # what every line shares is in the title, not in the legend
        self.assertEqual(styling.constants_text(), "lock · processes · pin compact · "
                                                   "cs_ns=0;think_ns=0")
        # one host: colour is the backend; labels vary and join the legend as styles
        rs = R.load(RUNS, workload="counter")
        styling = plot.make_series(rs, rs.rows)
        self.assertEqual(styling.colour_key, "backend")
        self.assertEqual(styling.style_keys, ["labels"])
        self.assertEqual(self.lines_colours(styling), {"native": "C0", "posix": "C1",
                                                       "spin": "C3"})

    @staticmethod
    def lines_colours(styling):
        return {s.values["backend"]: s.color for s in styling}

    def test_latency_in_microseconds_and_cdf_points(self):
        rs = R.load(H.ALPHA)
        df = rs.rows[rs.rows["workload"] == "counter"]
        series = plot.make_series(rs, df)
        fig, (ax,) = plot.new_figure()
        plot.draw_metric(ax, rs, df, series, "lat_p50_ns", "p50", latency=True)
        self.assertEqual(list(self.lines(ax)["native"].get_ydata()), [0.05, 0.125, 0.4, 1.6])
        self.assertEqual(plot.cdf_procs(df), [1, 2, 8])
        fig, (ax,) = plot.new_figure()
        plot.draw_cdf(ax, rs, df, series, 1)
        native = self.lines(ax)["native"]
        self.assertEqual(list(native.get_xdata()), [0.05, 0.075, 0.2, 0.5, 2.5])
        self.assertEqual(list(native.get_ydata()), [0.5, 0.9, 0.99, 0.999, plot.CDF_MAX_AT])
        self.assertIn("µs", ax.get_xlabel())

    def test_latency_panels_have_two_labelled_ticks_whatever_the_span(self):
        """Every latency panel of every fixture, and a panel whose values span 50-60 ns
        (less than a decade: a plain log axis labels no tick there)."""
        for files in ([H.ALPHA, H.BETA], [RUNS], [DELTA], [H.COMMIT_A]):
            rs = R.load(files)
            for workload in rs.workloads():
                df = rs.rows[rs.rows["workload"] == workload]
                series = plot.make_series(rs, df)
                for column, _ in plot.LATENCY_PANELS + plot.WAKE_PANELS:
                    fig, (ax,) = plot.new_figure()
                    if plot.draw_metric(ax, rs, df, series, column, "", latency=True):
                        with self.subTest(files=files, workload=workload, column=column):
                            self.assertGreaterEqual(len(plot.labelled_ticks(ax)), 2)
                    plot.plt.close(fig)
        rs = R.load(H.ALPHA, workload="counter")
        rs.rows["lat_p50_ns"] = 50 + 10 * (rs.rows["procs"] / 8.0)     # 51.25 .. 60 ns
        series = plot.make_series(rs, rs.rows)
        fig, (ax,) = plot.new_figure()
        plot.draw_metric(ax, rs, rs.rows, series, "lat_p50_ns", "", latency=True)
        self.assertGreaterEqual(len(plot.labelled_ticks(ax)), 2, ax.get_ylim())

    def test_c2c_matrix(self):
        rs = R.load(DELTA, workload="c2c")
        pus, matrix = plot.c2c_matrix(rs.rows)
        self.assertEqual(pus, list(range(8)))
        self.assertTrue(np.isnan(np.diag(matrix)).all())                  # diagonal blank
        off = ~np.eye(8, dtype=bool)
        self.assertTrue(np.allclose(matrix[off], matrix.T[off]))          # symmetric
        self.assertAlmostEqual(matrix[0, 1], 30.0)                        # SMT siblings
        self.assertAlmostEqual(matrix[0, 2], 70.0)                        # same L3
        self.assertAlmostEqual(matrix[7, 0], 180.0)                       # across L3
        self.assertAlmostEqual(rs.floor("delta-0d1e2f3a")[0], 176.4)

    def test_cdf_title_says_it_comes_from_percentiles(self):
        self.assertIn("percentile points", plot.CDF_NOTE)
        out = self._tmp_plots()
        self.assertIn("percentile points", svg_text(os.path.join(out, "counter-cdf.svg")))

    def _tmp_plots(self):
        import tempfile
        tmp = tempfile.TemporaryDirectory(prefix="ipcsync-test-")
        self.addCleanup(tmp.cleanup)
        rs = R.load(H.ALPHA, workload="counter")
        plot.plot_all(rs, tmp.name)
        return tmp.name


if __name__ == "__main__":
    unittest.main()
