"""Bad input: every script answers a missing, empty or malformed CSV, or a mismatched schema,
with one line on stderr and exit status 2."""

import csv
import io
import json
import os
import shutil
import unittest
from concurrent.futures import ThreadPoolExecutor

import helpers as H
import ipcsync_results as R

with open(H.ALPHA, encoding="utf-8") as _f:
    GOOD = _f.read()
GOOD_ROWS = list(csv.reader(io.StringIO(GOOD)))


with open(H.COMMIT_A, encoding="utf-8") as _f:       # a schema-2 file (no labels column)
    _V2 = _f.read().splitlines()
V2_WITH_V3_ROW = "\n".join([_V2[0], "3" + _V2[1][1:]] + _V2[2:]) + "\n"


def rows_text(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def without_columns(*names):
    drop = {GOOD_ROWS[0].index(n) for n in names}
    return rows_text([[c for i, c in enumerate(r) if i not in drop] for r in GOOD_ROWS])


def with_cell(line, column, value):
    rows = [list(r) for r in GOOD_ROWS[:4]]
    rows[line - 1][GOOD_ROWS[0].index(column)] = value
    return rows_text(rows)


def renamed(old, new):
    rows = [list(r) for r in GOOD_ROWS]
    rows[0][rows[0].index(old)] = new
    return rows_text(rows)


# name: (CSV bytes or None for "no file", JSON text or None, substrings of the message)
CASES = {
    "missing": (None, None, ["no such file"]),
    "empty": (b"", None, ["empty file"]),
    "blank": (b"\n\n  \n", None, ["empty file"]),
    "header_only": (GOOD.split("\n", 1)[0].encode() + b"\n", None, ["no data rows"]),
    "not_results": (b"a,b,c\n1,2,3\n", None, ["not an ipcsync results header"]),
    "missing_columns": (without_columns("fairness", "lat_p99_ns").encode(), None,
                        ["missing column(s) fairness, lat_p99_ns"]),
    "renamed_column": (renamed("host_id", "host").encode(), None,
                       ["missing column(s) host_id", "unexpected column(s) host"]),
    "ragged_row": ((GOOD[:GOOD.index("\n", GOOD.index("\n") + 1) + 1] + "1,2,3\n").encode(),
                   None, [":3:", "3 fields"]),
    "unterminated_quote": ((GOOD.split("\n", 1)[0] + '\n1,"open\n').encode(), None,
                           ["malformed CSV"]),
    "schema_v4": (with_cell(2, "schema_version", "4").encode(), None,
                  ["schema_version 4", "header is schema 3"]),
    "schema_v1_in_v3_header": (with_cell(2, "schema_version", "1").encode(), None,
                               ["schema_version 1", "header is schema 3"]),
    "schema_v3_in_v2_header": (V2_WITH_V3_ROW.encode(), None,
                               ["schema_version 3", "header is schema 2"]),
    "bad_labels": (with_cell(2, "labels", "smt").encode(), None,
                   [":2:", "column labels", "'smt' is not key=value pairs"]),
    "not_a_number": (with_cell(3, "ops_per_sec", "fast").encode(), None,
                     [":3:", "ops_per_sec", "'fast'"]),
    "bad_status": (with_cell(2, "status", "great").encode(), None, ["unknown status 'great'"]),
    "bad_procs": (with_cell(2, "procs", "0").encode(), None, ["procs"]),
    "binary": (bytes(range(256)) * 4, None, ["not a UTF-8 text file"]),
    "malformed_json": (GOOD.encode(), "{not json", ["malformed JSON context"]),
    "json_schema_v2": (GOOD.encode(), json.dumps({"json_schema_version": 2, "runs": []}),
                       ["json_schema_version 2"]),
}
# The loader test checks every case in-process; the scripts are run (as subprocesses, which
# is slower) on COMMON, and plot.py also on PLOT_ONLY.
COMMON = ("missing", "empty", "missing_columns", "not_a_number", "malformed_json")
PLOT_ONLY = ("binary", "ragged_row", "schema_v4", "bad_labels")


class BadInputTest(H.TempDirTestCase):
    def make_case(self, name, directory=None):
        """Write the case's files; return the CSV path."""
        data, json_text, _ = CASES[name]
        directory = directory or os.path.join(self.tmp, name)
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"{name}.csv")
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
        if json_text is not None:
            with open(os.path.join(directory, f"{name}.json"), "w") as f:
                f.write(json_text)
        return path

    def run_all(self, jobs):
        """Run (label, script, args, needles) jobs two at a time; check each."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            procs = list(pool.map(lambda j: H.run_script(j[1], *j[2], cwd=self.tmp), jobs))
        for (label, script, _, needles), proc in zip(jobs, procs):
            with self.subTest(label):
                self.assertOneLineError(proc, script, *needles)
                self.assertEqual(proc.stdout, "")

    def test_loader_rejects_every_case(self):
        for name, (_, _, needles) in CASES.items():
            with self.subTest(name):
                with self.assertRaises(R.InputError) as cm:
                    R.load(self.make_case(name))
                message = str(cm.exception)
                self.assertNotIn("\n", message)
                for needle in needles:
                    self.assertIn(needle, message)

    def test_scripts(self):
        out = os.path.join(self.tmp, "out")
        jobs = []
        for name in COMMON + PLOT_ONLY:
            jobs.append((f"plot {name}", "plot.py", [self.make_case(name), "--out", out],
                         CASES[name][2]))
        for name in COMMON:
            path, needles = self.make_case(name), CASES[name][2]
            jobs += [
                (f"report {name}", "report.py", [path, "--out", f"{out}/r.html"], needles),
                (f"compare A {name}", "compare.py", [path, H.BETA, "--out", out], needles),
            ]
        jobs += [
            ("compare B", "compare.py", [H.BETA, self.make_case("missing_columns"), "--out", out],
             CASES["missing_columns"][2]),
            ("compare backends", "compare.py", [self.make_case("empty"), "--backend-a", "native",
                                                "--backend-b", "posix", "--out", out],
             CASES["empty"][2]),
        ]
        self.run_all(jobs)
        self.assertFalse(os.path.exists(out), "nothing is written for bad input")

    def test_show_latest_on_bad_newest_file(self):
        results = os.path.join(self.tmp, "results")
        self.make_case("missing_columns", os.path.join(results, "somehost"))
        self.run_all([("newest malformed", "show_latest.py", ["--results", results],
                       CASES["missing_columns"][2]),
                      ("no results dir", "show_latest.py",
                       ["--results", os.path.join(self.tmp, "nothing")], ["no results directory"])])

    def test_usage_errors(self):
        empty_results = os.path.join(self.tmp, "empty-results")
        os.makedirs(empty_results)
        bad_bench = os.path.join(self.tmp, "bad_bench")
        with open(bad_bench, "w") as f:
            f.write("#!/bin/sh\necho not json\n")
        os.chmod(bad_bench, 0o755)
        self.run_all([
            ("compare one file", "compare.py", [H.ALPHA], ["--backend-a"]),
            ("compare half backends", "compare.py", [H.ALPHA, "--backend-a", "native"],
             ["both --backend-a and --backend-b"]),
            ("compare unknown backend", "compare.py",
             [H.ALPHA, "--backend-a", "native", "--backend-b", "nope"],
             ["no rows with backend=nope", "'native'"]),
            ("compare half sides", "compare.py", [H.ALPHA, "--a", "pin=compact"],
             ["give both --a and --b"]),
            ("compare not key=value", "compare.py", [H.ALPHA, "--a", "pin", "--b", "pin=x"],
             ["--a 'pin': expected KEY=VALUE"]),
            ("compare unknown key", "compare.py", [H.ALPHA, "--a", "colour=red", "--b",
                                                   "colour=blue"], ["unknown key 'colour'"]),
            ("compare no such value", "compare.py", [H.ALPHA, "--a", "pin=compact", "--b",
                                                     "pin=scatter"],
             ["--b: no rows with pin=scatter", "'compact'"]),
            ("compare overlapping sides", "compare.py",
             [H.ALPHA, "--a", "backend=native", "--b", "pin=compact"], ["the sides overlap"]),
            ("compare three files", "compare.py", [H.ALPHA, H.BETA, H.COMMIT_A],
             ["3 result files", "--a KEY=VALUE"]),
            ("compare bad metric", "compare.py", [H.ALPHA, H.BETA, "--metric", "speed"],
             ["--metric 'speed'", "lat_p50_ns"]),
            ("compare bad threshold", "compare.py", [H.ALPHA, H.BETA, "--threshold", "lots"],
             ["--threshold 'lots'"]),
            ("report no manifest", "report.py", [H.ALPHA, "--sweep",
                                                 os.path.join(self.tmp, "nope.json")],
             ["--sweep", "no such file"]),
            ("report bad manifest", "report.py", [H.ALPHA, "--sweep", H.ALPHA[:-4] + ".json"],
             ["not a sweep manifest"]),
            ("plot unknown workload", "plot.py", [H.ALPHA, "--workload", "nope"],
             ["workload 'nope'", "counter"]),
            ("show_latest nothing", "show_latest.py", ["--results", empty_results],
             ["no results CSV"]),
            ("sweep no bench", "sweep.py", ["--bench", os.path.join(self.tmp, "nope")],
             ["no bench executable"]),
            ("sweep bad list", "sweep.py", ["--bench", bad_bench, "--dry-run"],
             ["not JSON"]),
        ])

    def test_no_configuration_matches(self):
        rows = [list(r) for r in GOOD_ROWS]
        mode = rows[0].index("mode")
        for r in rows[1:]:
            r[mode] = "threads"
        path = os.path.join(self.tmp, "threads.csv")
        with open(path, "w") as f:
            f.write(rows_text(rows))
        shutil.copy(H.ALPHA[:-4] + ".json", os.path.join(self.tmp, "threads.json"))
        self.run_all([("no match", "compare.py", [H.ALPHA, path, "--out", self.tmp],
                       ["no configuration matches"])])


if __name__ == "__main__":
    unittest.main()
