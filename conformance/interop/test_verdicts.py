#!/usr/bin/env python3
"""Tests of verdicts.py, the interop matrix's comparison (run by scripts/interop.sh first)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def report(verdicts):
    rules = [{"id": rule, "verdict": v} for rule, v in verdicts.items()]
    counts = {}
    for v in verdicts.values():
        counts[v] = counts.get(v, 0) + 1
    return {"counts": counts, "rules": rules}


class Verdicts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.results = os.path.join(self.tmp.name, "results")
        self.expected = os.path.join(self.tmp.name, "expected")
        os.makedirs(self.results)
        os.makedirs(self.expected)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, folder, name, data):
        with open(os.path.join(folder, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(data, f)

    def run_compare(self, *extra):
        return subprocess.run(
            [sys.executable, os.path.join(HERE, "verdicts.py"), "--results", self.results,
             "--expected", self.expected, *extra, "srv"],
            capture_output=True, text=True, check=False)

    def test_same_verdicts_pass(self):
        self.write(self.results, "srv", report({"a": "pass", "b": "fail"}))
        self.write(self.expected, "srv", {"a": "pass", "b": "fail"})
        out = self.run_compare()
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("| srv |", out.stdout)
        self.assertIn("as expected", out.stdout)
        with open(os.path.join(self.results, "differs.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "")

    def test_changed_new_and_missing_rules_fail(self):
        self.write(self.results, "srv", report({"a": "fail", "new": "pass"}))
        self.write(self.expected, "srv", {"a": "pass", "gone": "skip"})
        out = self.run_compare()
        self.assertEqual(out.returncode, 1)
        self.assertIn("srv: a: expected pass, got fail", out.stdout)
        self.assertIn("srv: new: expected not run, got pass", out.stdout)
        self.assertIn("srv: gone: expected skip, got not run", out.stdout)
        with open(os.path.join(self.results, "differs.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read(), "srv\n")  # interop.sh checks these servers once more

    def test_a_list_allows_each_of_its_verdicts(self):
        self.write(self.expected, "srv", {"race": ["fail", "pass"]})
        for seen, code in (("fail", 0), ("pass", 0), ("skip", 1)):
            self.write(self.results, "srv", report({"race": seen}))
            self.assertEqual(self.run_compare().returncode, code, seen)

    def test_missing_report_fails(self):
        self.write(self.expected, "srv", {"a": "pass"})
        out = self.run_compare()
        self.assertEqual(out.returncode, 1)
        self.assertIn("srv: no report", out.stdout)

    def test_update_writes_expectations_and_keeps_lists(self):
        self.write(self.results, "srv", report({"race": "pass", "b": "warn"}))
        self.write(self.expected, "srv", {"race": ["fail", "pass"], "b": "pass"})
        self.assertEqual(self.run_compare("--update").returncode, 0)
        with open(os.path.join(self.expected, "srv.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f), {"race": ["fail", "pass"], "b": "warn"})


if __name__ == "__main__":
    unittest.main()
