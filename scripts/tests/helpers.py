"""helpers.py — shared by the scripts/ tests: paths, running a script, reading a PNG."""

import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.dirname(HERE)
REPO = os.path.dirname(SCRIPTS)
FIXTURES = os.path.join(REPO, "results", "fixtures")
PYTHON = "/usr/bin/python3"          # Debian's, with matplotlib/pandas/scipy
FAKE_BENCH = os.path.join(HERE, "fake_bench.py")

ALPHA = os.path.join(FIXTURES, "alpha.csv")
BETA = os.path.join(FIXTURES, "beta.csv")
COMMIT_A = os.path.join(FIXTURES, "commit-a.csv")
COMMIT_B = os.path.join(FIXTURES, "commit-b.csv")

sys.path.insert(0, SCRIPTS)
sys.path.insert(0, HERE)


def run_script(script, *args, cwd=REPO, env=None, timeout=120):
    """Run scripts/<script> under /usr/bin/python3; return the CompletedProcess (text)."""
    full_env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    full_env.update(env or {})
    return subprocess.run([PYTHON, os.path.join(SCRIPTS, script)] + [str(a) for a in args],
                          cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def png_size(path):
    """(width, height) from a PNG's IHDR chunk."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise AssertionError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def png_is_blank(path):
    """True when every pixel of the PNG has the same colour."""
    import matplotlib.image as mpimg
    pixels = mpimg.imread(path)
    return float(pixels.std()) == 0.0


def section(page, sid):
    """The HTML of <section id=sid> in a page of report.py or compare.py."""
    m = re.search(rf'<section id="{re.escape(sid)}">(.*?)</section>', page, re.S)
    if not m:
        raise AssertionError(f"no section {sid}")
    return m.group(1)


def copy_fixture(name, directory, with_json=True, new_name=None):
    """Copy results/fixtures/<name>.csv (and .json) into directory; return the CSV path."""
    new_name = new_name or name
    csv_path = os.path.join(directory, f"{new_name}.csv")
    shutil.copy(os.path.join(FIXTURES, f"{name}.csv"), csv_path)
    if with_json:
        shutil.copy(os.path.join(FIXTURES, f"{name}.json"),
                    os.path.join(directory, f"{new_name}.json"))
    return csv_path


class TempDirTestCase(unittest.TestCase):
    """A test case with self.tmp, a fresh directory removed afterwards."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="ipcsync-test-")
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def assertImage(self, path, size):
        """A non-empty, non-blank PNG of the given pixel size, or a non-empty SVG."""
        self.assertTrue(os.path.isfile(path), path)
        self.assertGreater(os.path.getsize(path), 1000, path)
        if path.endswith(".png"):
            self.assertEqual(png_size(path), size, path)
            self.assertFalse(png_is_blank(path), path)
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            self.assertIn("<svg", text, path)
            self.assertIn("</svg>", text, path)

    def assertOneLineError(self, proc, script, *needles):
        """Exit status 2 and one line `<script>: error: ...` on stderr containing needles."""
        self.assertEqual(proc.returncode, 2, (proc.stdout, proc.stderr))
        lines = proc.stderr.strip("\n").split("\n")
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith(f"{script}: error: "), lines[0])
        for needle in needles:
            self.assertIn(needle, lines[0])
