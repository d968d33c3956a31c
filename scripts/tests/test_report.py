"""report.py: one self-contained HTML page with every section, and Chromium renders it."""

import base64
import os
import re
import shutil
import subprocess
import unittest

import helpers as H
import ipcsync_results as R

CHROMIUM = "/usr/bin/chromium"
RUNS = os.path.join(H.FIXTURES, "runs.csv")
DELTA = os.path.join(H.FIXTURES, "delta.csv")
SECTIONS = ("summary", "contexts", "workload-bounded_buffer", "workload-counter",
            "workload-event_broadcast", "warnings", "reproduce")
WINDOW = (1280, 2000)


def section(page, sid):
    """The HTML of <section id=sid>."""
    m = re.search(rf'<section id="{re.escape(sid)}">(.*?)</section>', page, re.S)
    if not m:
        raise AssertionError(f"no section {sid}")
    return m.group(1)


class ReportTest(H.TempDirTestCase):
    @classmethod
    def setUpClass(cls):
        import tempfile
        cls._shared = tempfile.TemporaryDirectory(prefix="ipcsync-test-report-")
        cls.html = os.path.join(cls._shared.name, "report.html")
        cls.proc = H.run_script("report.py", H.ALPHA, H.BETA, "--out", cls.html)
        with open(cls.html, encoding="utf-8") as f:
            cls.page = f.read()

    @classmethod
    def tearDownClass(cls):
        cls._shared.cleanup()

    def test_written_and_path_printed(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertEqual(self.proc.stdout.strip(), self.html)
        self.assertEqual(self.proc.stderr, "")

    def test_every_section(self):
        for sid in SECTIONS:
            section(self.page, sid)
            self.assertIn(f'href="#{sid}"', self.page)          # and in the navigation

    def test_self_contained_with_embedded_plots(self):
        self.assertNotRegex(self.page, r'(src|href)="(https?:|//|file:)')
        self.assertNotIn("<link", self.page)
        self.assertNotIn("<script", self.page)
        images = re.findall(r'<img[^>]*src="data:image/png;base64,([^"]+)"', self.page)
        self.assertEqual(len(images), 3 * 4 + 1)          # 3 workloads x 4 plots + wake-ups
        for data in images:
            png = base64.b64decode(data)
            self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"))
            path = os.path.join(self.tmp, "x.png")
            with open(path, "wb") as f:
                f.write(png)
            self.assertEqual(H.png_size(path), R.fig_pixels(R.FIG_SIZE_IN))
        for sid in SECTIONS[2:5]:
            self.assertEqual(section(self.page, sid).count("<img"),
                             5 if sid == "workload-event_broadcast" else 4, sid)

    def test_contexts(self):
        contexts = section(self.page, "contexts")
        for text in ("Fixture CPU A @ 2.60GHz", "Fixture CPU B @ 3.50GHz", "1/2/2", "1/4/4",
                     "L3 16 MiB x1"):
            self.assertIn(text, contexts)

    def test_workload_tables(self):
        counter = section(self.page, "workload-counter")
        self.assertIn("<th>median ops/s</th>", counter)
        self.assertIn("<td class=\"num\">20M</td>", counter)              # alpha native/1
        self.assertIn("19.6M–20.4M", counter)
        self.assertIn("<th>p50 (µs)</th>", counter)                         # one unit: µs
        self.assertIn('<td class="num">1.6</td>', counter)                  # alpha native/8 p50
        self.assertNotIn(" ns<", counter)
        self.assertIn("<th>scaling</th>", counter)                          # counter-like
        self.assertIn("rep 1: verify_failed", counter)                      # failure in table
        self.assertIn("counter=499990, expected=500000", counter)           # failures table
        self.assertIn("oversubscribed</span>", counter)
        self.assertIn("<th>fairness</th>", counter)
        event = section(self.page, "workload-event_broadcast")
        self.assertIn("<th>wake p50 (µs)</th>", event)
        self.assertNotIn("<th>wake p50 (µs)</th>", counter)
        self.assertNotIn("<th>scaling</th>", event)                         # not counter-like
        self.assertIn("a broadcaster with no listener", event)
        self.assertNotIn("<td>1</td>", event.split("<h3>Summary</h3>")[1].split("</table>")[0])

    def test_highlights_rank_only_significant_differences(self):
        """3 repetitions a side cannot show a difference (Mann-Whitney's smallest p is 0.1):
        the highlights rank nothing and say why, though the medians differ."""
        counter = section(self.page, "workload-counter")
        highlights = counter.split("<h3>Highlights</h3>")[1].split("<h3>")[0]
        self.assertIn("alpha, procs 2 of 2 PUs: no backend is significantly faster than the "
                      "others (native 16M, posix 12.8M, boost 9.6M, spin 20M ops/s)", highlights)
        self.assertIn("fewer than 5", highlights)
        self.assertNotIn("<b>", highlights)

    def test_summary_counts_rows_not_ok_and_floors(self):
        summary = section(self.page, "summary")
        self.assertIn("1 verify_failed, 1 timeout", summary)
        self.assertIn("Cache-line floor of alpha: unknown", summary)
        self.assertNotIn('<section id="provenance">', self.page)    # one build everywhere
        self.assertNotIn('<section id="sweep">', self.page)

    def test_warnings(self):
        warnings = section(self.page, "warnings")
        self.assertIn("CPU scaling is enabled", warnings)                 # runs[].warnings
        self.assertIn("verify_failed", warnings)
        self.assertIn("timeout", warnings)
        self.assertIn("rows oversubscribed (procs 4, 8 &gt; 2 PUs)", warnings)
        self.assertIn("rows oversubscribed (procs 8 &gt; 4 PUs)", warnings)

    def test_reproduce(self):
        reproduce = section(self.page, "reproduce")
        self.assertIn("./build/bench --primitive lock --workload counter", reproduce)
        self.assertIn("./build/bench --primitive semaphore", reproduce)
        self.assertIn("/usr/bin/python3 scripts/report.py", reproduce)
        self.assertIn("/usr/bin/python3 scripts/plot.py", reproduce)

    def test_missing_json_is_a_warning_in_the_page(self):
        csv_path = H.copy_fixture("beta", self.tmp, with_json=False)
        proc = H.run_script("report.py", csv_path, "--workload", "counter")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        html = os.path.join(self.tmp, "beta-report.html")
        self.assertEqual(proc.stdout.strip(), html)
        self.assertIn("report.py: warning: no JSON context", proc.stderr)
        with open(html, encoding="utf-8") as f:
            page = f.read()
        self.assertIn("no JSON context beside", section(page, "warnings"))
        self.assertIn("No JSON context for host beta-5e6f7a8b", section(page, "contexts"))
        self.assertIn("No command lines for host", section(page, "reproduce"))
        self.assertEqual(page.count("<img"), 4)

    def test_significant_highlights_provenance_and_floor(self):
        """runs.csv (10 repetitions a side, three runs of two builds): highlights rank what is
        significant; the runs' provenance differs and is shown; wake-ups are multiples of the
        floor (the pingpong/cacheline median)."""
        html = os.path.join(self.tmp, "runs.html")
        proc = H.run_script("report.py", RUNS, "--out", html)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(html, encoding="utf-8") as f:
            page = f.read()
        counter = section(page, "workload-counter")
        self.assertIn("gamma, procs 4 of 4 PUs smt=on: <b>native</b> 7.89M ops/s is "
                      "significantly faster than posix 3.99M (1.98×, 95% CI", counter)
        self.assertNotIn("fewer than 5", counter)
        prov = section(page, "provenance")
        for text in ("Clang 16.0.6", "GNU 12.2.0", "-O3 -march=native -DNDEBUG", "3.11.2",
                     "label smt", "2026-11-22T15:00:00Z-gamma-smt-off"):
            self.assertIn(text, prov)
        self.assertNotIn("build type", prov)                       # every run is Release
        summary = section(page, "summary")
        self.assertIn("2 not ok (1 short_window, 1 crashed)", summary)
        self.assertIn("Cache-line floor of gamma: 0.0788 µs (median pingpong/cacheline "
                      "round trip)", summary)
        rs = R.load(RUNS, workload="event_broadcast")
        rows = rs.rows[(rs.rows["backend"] == "native") & (rs.rows["procs"] == 2)
                       & (rs.rows["labels"] == "smt=off")]
        wake = R.summarize(rows, ["procs"])["wake_p50_ns"].iloc[0]
        floor = rs.floor("gamma-9c8b7a6d")[0]
        self.assertIn(f"{R.fmt_us(wake)} ({wake / floor:.3g}× floor)",
                      section(page, "workload-event_broadcast"))

    def test_c2c_section(self):
        html = os.path.join(self.tmp, "delta.html")
        proc = H.run_script("report.py", DELTA, "--out", html)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(html, encoding="utf-8") as f:
            page = f.read()
        c2c = section(page, "workload-c2c")
        self.assertEqual(c2c.count("<img"), 1)
        self.assertIn("delta: 28 PU pairs", c2c)
        self.assertIn("Floor: 0.176 µs (median c2c round trip over 28 PU pair(s))", c2c)
        self.assertIn('<td>0 – 1</td><td class="num">0.03</td>', c2c)
        self.assertIn("Cache-line floor of delta: 0.176 µs", section(page, "summary"))
        # native at procs 2: wake-up p50 20 µs = 113x the 176.4 ns floor
        self.assertIn("20 (113× floor)", section(page, "workload-event_broadcast"))

    def test_chromium_renders_it(self):
        """Headless Chromium loads the page and takes a screenshot (CI installs chromium:
        a missing browser fails this test)."""
        if not os.access(CHROMIUM, os.X_OK):
            self.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        shot = os.path.join(self.tmp, "shot.png")
        profile = os.path.join(self.tmp, "profile")
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
               f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
               f"file://{self.html}"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        self.assertEqual(proc.returncode, 0, proc.stderr[-2000:])
        self.assertTrue(os.path.isfile(shot), proc.stderr[-2000:])
        self.assertGreater(os.path.getsize(shot), 10_000)
        self.assertEqual(H.png_size(shot), WINDOW)
        self.assertFalse(H.png_is_blank(shot))
        self.assertNotIn("Failed to load resource", proc.stderr)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
