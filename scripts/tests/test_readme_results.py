"""readme_results.py: the README's results section names the host it describes, and its
comparison section is the table compare.py computed, on fixtures."""

import csv
import json
import os
import unittest

import helpers as H

README = """# title

<!-- results:begin -->
stale results
<!-- results:end -->

<!-- compare:begin -->
stale comparison
<!-- compare:end -->

tail
"""


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


class ReadmeResultsTest(H.TempDirTestCase):
    def readme(self, text=README, name="README.md"):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def test_results_section_names_the_host_and_its_trimmed_cpu(self):
        """A CPU model padded as CPUID pads it is trimmed; the heading says which host."""
        csv_path = H.copy_fixture("alpha", self.tmp)
        ctx_path = os.path.join(self.tmp, "alpha.json")
        with open(ctx_path, encoding="utf-8") as f:
            ctx = json.load(f)
        model = ctx["cpu_model"]
        ctx["cpu_model"] = model + " " * 13
        with open(ctx_path, "w", encoding="utf-8") as f:
            json.dump(ctx, f)
        readme = self.readme()
        r = H.run_script("readme_results.py", csv_path, "--readme", readme)
        self.assertEqual(r.returncode, 0, r.stderr)
        text = read(readme)
        self.assertIn(f"## Results on host {ctx['host_id']} ({model})\n", text)
        self.assertNotIn("stale results", text)
        self.assertIn("stale comparison", text)  # untouched without --compare
        self.assertTrue(text.startswith("# title\n") and text.endswith("tail\n"))

    def test_compare_section_is_compare_pys_table(self):
        out = os.path.join(self.tmp, "cmp")
        r = H.run_script("compare.py", H.ALPHA, H.BETA, "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "ratios.csv"), encoding="utf-8") as f:
            ratios = list(csv.DictReader(f))
        readme = self.readme()
        command = "/usr/bin/python3 scripts/compare.py alpha.csv beta.csv"
        r = H.run_script("readme_results.py", H.ALPHA, "--readme", readme, "--compare", out,
                         "--compare-command", command)
        self.assertEqual(r.returncode, 0, r.stderr)
        text = read(readme)
        section = text.split("<!-- compare:begin -->", 1)[1].split("<!-- compare:end -->", 1)[0]
        self.assertIn("## Comparing two machines", section)
        self.assertIn(command, section)
        self.assertNotIn("stale comparison", text)
        fitting = [row for row in ratios if not row["oversubscribed"]]
        self.assertGreater(len(fitting), 0)
        self.assertLess(len(fitting), len(ratios))  # alpha has oversubscribed rows: left out
        table = [line for line in section.splitlines()
                 if line.startswith("| ") and not line.startswith("| workload")
                 and line.count("|") == 11]
        self.assertEqual(len(table), len(fitting))
        for row in fitting:
            cells = (f"| {row['workload']} | {row['primitive']} | {row['backend']} | "
                     f"{row['procs']} | {float(row['ratio']):.2f} | "
                     f"{float(row['ci_low']):.2f}–{float(row['ci_high']):.2f} | {row['verdict']} |")
            self.assertTrue(any(line.startswith(cells) for line in table), cells)
        counts = {v: sum(1 for row in ratios if row["verdict"] == v) for v in ("faster", "slower")}
        for verdict, n in counts.items():
            if n:
                self.assertIn(f"{n} {verdict}", section)
        # alpha and beta are one run per configuration each: the section says what that means
        single = sum(1 for row in ratios if row["single_run"] == "1")
        self.assertEqual(single, len(ratios))
        self.assertIn(f"In {single} of the {len(ratios)} rows a side is a single bench run",
                      section)

    def test_bad_input_is_one_line_and_exit_2(self):
        readme = self.readme("# no markers\n")
        r = H.run_script("readme_results.py", H.ALPHA, "--readme", readme)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("markers", r.stderr)
        good = self.readme(name="GOOD.md")
        r = H.run_script("readme_results.py", H.ALPHA, "--readme", good,
                         "--compare", os.path.join(self.tmp, "nowhere"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("ratios.csv", r.stderr)
        self.assertEqual(read(readme), "# no markers\n")  # untouched
        self.assertEqual(read(good), README)  # nothing half-written


if __name__ == "__main__":
    unittest.main()
