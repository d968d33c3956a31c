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
        self.assertEqual(len(images), 3 * 4)                      # 3 workloads x 4 plots
        for data in images:
            png = base64.b64decode(data)
            self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"))
            path = os.path.join(self.tmp, "x.png")
            with open(path, "wb") as f:
                f.write(png)
            self.assertEqual(H.png_size(path), R.fig_pixels(R.FIG_SIZE_IN))
        for sid in SECTIONS[2:5]:
            self.assertEqual(section(self.page, sid).count("<img"), 4, sid)

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
        self.assertIn("1.6 µs", counter)                                  # alpha native/8 p50
        self.assertIn("rep 1: verify_failed", counter)                    # failure in table
        self.assertIn("counter=499990, expected=500000", counter)         # failures table
        self.assertIn("oversubscribed</span>", counter)
        self.assertIn("fastest <b>spin</b> 20M ops/s", counter)           # alpha at procs 2
        event = section(self.page, "workload-event_broadcast")
        self.assertIn("<th>wake p50</th>", event)
        self.assertNotIn("<th>wake p50</th>", counter)

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
