"""STATSDASH_NOW sets "today" for relative dates and hides data after it."""

import datetime
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ga4checks  # noqa: E402
import simlib  # noqa: E402

PROPERTY = "310000001"
NOW_DAY = datetime.date(2026, 11, 20)
NOW = "2026-11-20T05:30:00Z"


class NowCutoffTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="simulator-now-")
        dataset = simlib.generate_dataset(os.path.join(cls.folder, "dataset"))
        cls.rows = ga4checks.load_facts(dataset)
        cls.private, public = simlib.make_key(cls.folder)
        cls.simulator = simlib.Simulator(dataset, public_key=public, now=NOW)
        cls.token = cls.simulator.access_token(cls.private)

    @classmethod
    def tearDownClass(cls):
        status = cls.simulator.stop()
        if status != 0:
            raise AssertionError("simulator exited with %d:\n%s"
                                 % (status, cls.simulator.log_text()))

    def report(self, start, end, dimensions):
        status, body = self.simulator.run_report(self.token, PROPERTY, {
            "dateRanges": [{"startDate": start, "endDate": end}],
            "dimensions": [{"name": name} for name in dimensions],
            "metrics": [{"name": "screenPageViews"}],
        })
        self.assertEqual(status, 200, body)
        return ga4checks.response_rows(body)

    def expected(self, first, last, dimensions, keep=lambda row: True):
        groups = ga4checks.expected_groups(self.rows, PROPERTY, [(first, last, "")], dimensions,
                                           keep)
        return {key: [str(sums[0])] for key, sums in groups.items()}

    def test_today_has_hours_up_to_now(self):
        rows = self.report("today", "today", ["hour"])
        self.assertEqual(sorted(key[0] for key in rows), ["00", "01", "02", "03", "04", "05"])
        self.assertEqual(rows, self.expected(NOW_DAY, NOW_DAY, ["hour"],
                                             lambda row: row["hour"] <= "05"))

    def test_yesterday_is_complete(self):
        yesterday = NOW_DAY - datetime.timedelta(days=1)
        rows = self.report("yesterday", "yesterday", ["date"])
        self.assertEqual(rows, self.expected(yesterday, yesterday, ["date"]))

    def test_days_ago_range(self):
        first = NOW_DAY - datetime.timedelta(days=7)
        last = NOW_DAY - datetime.timedelta(days=1)
        rows = self.report("7daysAgo", "1daysAgo", ["date"])
        self.assertEqual(len(rows), 7)
        self.assertEqual(rows, self.expected(first, last, ["date"]))

    def test_future_dates_have_no_rows(self):
        rows = self.report("2026-11-20", "2026-11-30", ["date"])
        self.assertEqual(list(rows), [("20261120",)])


if __name__ == "__main__":
    unittest.main()
