"""spin_sweep.py and tuning_table.py: bad input is one line and exit 2; spin_sweep's table is the
median per budget of what bench measured under that budget, with the rows that are not ok left
out and counted (a fake bench whose figures are a function of IPCSYNC_SPIN_NS)."""

import os
import stat
import tempfile
import unittest

import helpers as H

# The fake bench: one CSV row on stdout for whatever it is asked, its figures derived from the
# budget it was given (ops/s = budget x 1e6, p50 = 1000 + budget); budget 250 is a short window.
# It refuses to run with IPCSYNC_SPIN set (spin_sweep must drop it: it would override the budget),
# and writes the JSON context beside --out with the PAUSE calibration.
FAKE = r'''#!/usr/bin/python3
import json, os, sys
if "IPCSYNC_SPIN" in os.environ:
    print("IPCSYNC_SPIN leaked into the sweep", file=sys.stderr); sys.exit(3)
b = int(os.environ["IPCSYNC_SPIN_NS"])
out = sys.argv[sys.argv.index("--out") + 1]
ctx = os.path.splitext(out)[0] + ".json"
runs = json.load(open(ctx))["runs"] if os.path.exists(ctx) else []
runs.append({"spin": {"pause_ns": 20.0, "budget_ns": b, "limit_pauses": b // 20, "source": "IPCSYNC_SPIN_NS"}})
json.dump({"runs": runs}, open(ctx, "w"))
print("status,ops_per_sec,lat_p50_ns,fairness")
print(f"{'short_window' if b == 250 else 'ok'},{b * 1e6},{1000 + b},0.97")
'''


class SpinSweep(unittest.TestCase):
    def test_medians_per_budget_rows_not_ok_counted(self):
        with tempfile.TemporaryDirectory() as d:
            fake = os.path.join(d, "bench")
            with open(fake, "w") as f:
                f.write(FAKE)
            os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
            r = H.run_script("spin_sweep.py", "--build", d, "--budgets", "0,250,4000", "--repeat", "3",
                             "--duration", "0.1", env={"IPCSYNC_SPIN": "7"})
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = {line.split()[0]: line.split() for line in r.stdout.splitlines()
                    if line.split() and line.split()[0].isdigit()}
            self.assertEqual(sorted(rows), ["0", "250", "4000"])
            # budget, PAUSEs, counter_2, pingpong_p50, buffer_2, counter_8, fairness_8
            self.assertEqual(rows["4000"], ["4000", "200", "4000.00M", "5000", "4000.00M", "4000.00M", "0.970"])
            self.assertEqual(rows["0"][2:4], ["0.00M", "1000"])
            self.assertEqual(rows["250"][2:], ["-"] * 5)
            self.assertIn("12 rows not ok left out", r.stdout)  # 4 figures x 3 repetitions
            self.assertIn("PAUSE on this host: 20.0 ns", r.stdout)
            self.assertEqual(os.listdir(d), ["bench"])  # the temporary rows are gone


class BadInput(unittest.TestCase):
    def check(self, script, *args):
        r = H.run_script(script, *args)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertNotIn("Traceback", r.stderr)
        return r.stderr

    def test_spin_sweep(self):
        self.assertIn("--budgets", self.check("spin_sweep.py", "--budgets", "x,1"))
        self.assertIn("--budgets", self.check("spin_sweep.py", "--budgets", "-5"))
        self.assertIn("--repeat", self.check("spin_sweep.py", "--repeat", "0"))
        self.assertIn("no bench", self.check("spin_sweep.py", "--build", "/nonexistent"))

    def test_tuning_table(self):
        self.assertIn("not built", self.check("tuning_table.py", "--build", "/nonexistent"))


if __name__ == "__main__":
    unittest.main()
