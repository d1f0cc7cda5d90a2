"""Tests of `statsdash config check` and `statsdash --version`.

Usage: config_cli_test.py STATSDASH EXAMPLE_CONFIG VERSION
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

STATSDASH, EXAMPLE, VERSION = sys.argv[1:4]

# Each bad file: its name, the JSON text, and the key its error must name.
BAD_FILES = [
    ("syntax.json", '{\n  "log": {"level": "info",}\n}\n', "line 2"),
    ("wrong-type.json", '{"broker": {"liveness": "three"}}', "broker.liveness"),
    ("unknown-key.json", '{"smtp": {"host": "mail"}}', "smtp.host"),
    ("endpoint.json", '{"broker": {"endpoint": "127.0.0.1:5555"}}', "broker.endpoint"),
    ("day.json",
     '{"schedule": [{"id": "m", "report": "ga-core", "frequency": "MONTHLY", "day": 30}]}',
     "schedule[0].day"),
    ("site.json",
     '{"schedule": [{"id": "d", "report": "ga-core", "frequency": "DAILY",'
     ' "sites": ["nowhere"]}]}',
     "schedule[0].sites[0]"),
    ("frequency.json",
     '{"schedule": [{"id": "d", "report": "ga-core", "frequency": "HOURLY"}]}',
     "schedule[0].frequency"),
    ("property.json", '{"ga": {"sites": {"s": [{"property": "UA-1"}]}}}',
     "ga.sites.s[0].property"),
    ("timezone.json", '{"scheduler": {"timezone": "Europe/Londres"}}', "scheduler.timezone"),
]


def run(*args):
    return subprocess.run([STATSDASH, *args], capture_output=True, text=True, timeout=60)


class ConfigCheckTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory(prefix="sd-config-cli-")

    def tearDown(self):
        self.folder.cleanup()

    def write(self, name, text):
        path = os.path.join(self.folder.name, name)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        return path

    def test_example_is_valid(self):
        result = run("config", "check", "-c", EXAMPLE)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{EXAMPLE}: configuration is valid\n")
        self.assertEqual(result.stderr, "")

    def test_example_has_every_section(self):
        with open(EXAMPLE, encoding="utf-8") as file:
            config = json.load(file)
        sections = {"broker", "aggregator", "ga", "youtube", "reporter", "smtp",
                    "scheduler", "schedule", "log"}
        self.assertEqual(set(config), sections)
        frequencies = {report["frequency"] for report in config["schedule"]}
        self.assertTrue({"DAILY", "WEEKLY", "MONTHLY"} <= frequencies)

    def test_bad_files_one_line_each(self):
        for name, text, key in BAD_FILES:
            with self.subTest(file=name):
                path = self.write(name, text)
                result = run("config", "check", "-c", path)
                self.assertEqual(result.returncode, 1)
                self.assertEqual(result.stdout, "")
                lines = result.stderr.splitlines()
                self.assertEqual(len(lines), 1, result.stderr)
                self.assertTrue(lines[0].startswith(path + ": "), lines[0])
                self.assertIn(key, lines[0])

    def test_timezone_checked_like_scheduler(self):
        # The scheduler's sd_timezone accepts UTC, offsets within 14 hours
        # and names of the tz database; the check must agree on each.
        cases = [("UTC", True), ("Z", True), ("+01:00", True), ("-0500", True),
                 ("+14:00", True), ("+15:00", False), ("+01:60", False), ("0100", False),
                 ("Europe/London", True), ("Asia/Tokyo", True), ("Europe/Londres", False),
                 ("../etc/passwd", False), ("Europe", False), ("", False)]
        for value, valid in cases:
            with self.subTest(timezone=value):
                path = self.write("tz.json", json.dumps({"scheduler": {"timezone": value}}))
                result = run("config", "check", "-c", path)
                self.assertEqual(result.returncode, 0 if valid else 1, result.stderr)
                if valid:
                    continue
                lines = result.stderr.splitlines()
                self.assertEqual(len(lines), 1, result.stderr)
                self.assertIn("scheduler.timezone", lines[0])
                self.assertIn(json.dumps(value), lines[0])
                self.assertIn("Europe/London", lines[0])
                self.assertIn("+01:00", lines[0])

    def test_example_keys_documented(self):
        docs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(EXAMPLE))),
                            "docs", "configuration.md")
        with open(docs, encoding="utf-8") as file:
            text = file.read()
        with open(EXAMPLE, encoding="utf-8") as file:
            config = json.load(file)
        for section, values in config.items():
            self.assertIn("## %s" % section, text)
            if not isinstance(values, dict):
                continue
            for key in values:
                with self.subTest(key="%s.%s" % (section, key)):
                    self.assertIn("`%s`" % key, text)

    def test_example_youtube_owner_mode(self):
        # With content_owner set every call uses the owner's token, so the
        # example needs owner_refresh_token_file and no per-channel token.
        with open(EXAMPLE, encoding="utf-8") as file:
            youtube = json.load(file)["youtube"]
        self.assertIn("content_owner", youtube)
        self.assertIn("owner_refresh_token_file", youtube)
        for ids in youtube["channels"].values():
            for entry in ids:
                self.assertNotIn("refresh_token_file", entry)
        path = self.write("no-owner-token.json", json.dumps(
            {"youtube": {"content_owner": "owner1",
                         "channels": {"c": [{"id": "UC" + "a" * 22}]}}}))
        result = run("config", "check", "-c", path)
        self.assertEqual(result.returncode, 1)
        self.assertIn("youtube.owner_refresh_token_file", result.stderr)

    def test_missing_file(self):
        path = os.path.join(self.folder.name, "absent.json")
        result = run("config", "check", "-c", path)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.splitlines()), 1)
        self.assertTrue(result.stderr.startswith(path + ": "))

    def test_every_error_listed(self):
        path = self.write("several.json",
                          '{"aggregator": {"shards": 0}, "log": {"level": "loud"},'
                          ' "reporter": {"colour": "red"}}')
        result = run("config", "check", "-c", path)
        self.assertEqual(result.returncode, 1)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 3, result.stderr)
        self.assertIn("aggregator.shards", result.stderr)
        self.assertIn("log.level", result.stderr)
        self.assertIn("reporter.colour", result.stderr)

    def test_usage_errors(self):
        self.assertEqual(run("config", "check").returncode, 2)
        self.assertEqual(run("config").returncode, 2)
        self.assertEqual(run("no-such-command").returncode, 2)
        self.assertEqual(run().returncode, 2)


class VersionHelpTest(unittest.TestCase):
    def test_version(self):
        result = run("--version")
        self.assertEqual(result.returncode, 0)
        self.assertEqual(result.stdout, f"statsdash {VERSION}\n")

    def test_help(self):
        result = run("--help")
        self.assertEqual(result.returncode, 0)
        for command in ("request", "status", "config check", "auth youtube", "keygen"):
            self.assertIn(command, result.stdout)
        self.assertIn("Exit status", result.stdout)
        self.assertEqual(run("config", "check", "--help").returncode, 0)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
