"""show_latest.py: finds the newest results CSV, plots its latest run, prints the paths."""

import os
import shutil

import helpers as H
import ipcsync_results as R

SIZE = R.fig_pixels(R.FIG_SIZE_IN)


class ShowLatestTest(H.TempDirTestCase):
    def setUp(self):
        super().setUp()
        self.results = os.path.join(self.tmp, "results")
        older = os.path.join(self.results, "alpha")
        newer = os.path.join(self.results, "beta", "sweep-20261121T100000Z")
        decoy = os.path.join(self.results, "alpha", "x-vs-y-compare")
        fixtures = os.path.join(self.results, "fixtures")
        for d in (older, newer, decoy, fixtures):
            os.makedirs(d)
        self.alpha = H.copy_fixture("alpha", older, new_name="2026-11-20")
        self.beta = H.copy_fixture("beta", newer, new_name="sweep")
        # newer still, but not results files of a host: must be skipped
        fixture = H.copy_fixture("commit-a", fixtures)
        ratios = os.path.join(decoy, "ratios.csv")
        with open(ratios, "w") as f:
            f.write("workload,procs,ratio\ncounter,1,2.0\n")
        for mtime, path in ((1_000, self.alpha), (2_000, self.beta), (3_000, fixture),
                            (3_000, ratios)):
            os.utime(path, (mtime, mtime))

    def show(self, *args):
        proc = H.run_script("show_latest.py", "--results", self.results, *args)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.strip().split("\n"), proc.stderr

    def test_latest_run_of_newest_file(self):
        paths, info = self.show()
        # beta's last run is its bounded_buffer run
        out = self.beta[:-4] + "-run-2026-11-21T10_02_00Z-beta-2-plots"
        self.assertEqual(len(paths), 4 * 2)
        for p in paths:
            self.assertEqual(os.path.dirname(p), out)
            self.assertTrue(os.path.basename(p).startswith("bounded_buffer-"), p)
            self.assertImage(p, SIZE if p.endswith(".png") else None)
        self.assertIn(self.beta, info)
        self.assertIn("run 2026-11-21T10:02:00Z-beta-2", info)

    def test_all_runs_and_report(self):
        paths, _ = self.show("--all", "--report")
        self.assertEqual(len(paths), 2 * 4 * 2 + 1)
        self.assertTrue(all(os.path.dirname(p) == self.beta[:-4] + "-plots" for p in paths[:-1]))
        self.assertEqual(paths[-1], self.beta[:-4] + "-report.html")
        with open(paths[-1], encoding="utf-8") as f:
            page = f.read()
        self.assertIn('<section id="workload-counter">', page)
        self.assertEqual(page.count("<img"), 8)

    def test_host_filter(self):
        paths, info = self.show("--host", "alpha")
        self.assertIn(self.alpha, info)
        self.assertTrue(all(os.path.basename(p).startswith("event_broadcast-") for p in paths))

    def test_newer_file_wins(self):
        os.utime(self.alpha, (5_000, 5_000))
        _, info = self.show()
        self.assertIn(self.alpha, info)
        shutil.rmtree(os.path.join(self.results, "alpha"))
        shutil.rmtree(os.path.join(self.results, "beta"))
        proc = H.run_script("show_latest.py", "--results", self.results)
        self.assertOneLineError(proc, "show_latest.py", "no results CSV")
