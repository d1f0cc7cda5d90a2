"""scripts/generate-dataset: the same bytes on every run, the layout and
date span the simulator and the reports rely on, and the awkward values
(entities, non-ASCII titles, AMP paths, query strings) present."""

import csv
import datetime
import filecmp
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

FILES = ["ga4-facts.csv", "youtube-facts.csv", "youtube-channels.csv", "youtube-videos.csv"]
GA4_HEADER = [
    "property", "date", "hour", "hostName", "pagePath", "pageTitle", "country",
    "sessionSource", "sessionMedium", "sessionDefaultChannelGroup", "socialNetwork",
    "deviceCategory", "screenPageViews", "totalUsers", "sessions", "userEngagementDuration",
]


def read_csv(folder, name):
    with open(os.path.join(folder, name), encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


class GeneratorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="simulator-generator-")
        cls.first = simlib.generate_dataset(os.path.join(cls.folder, "first"))
        cls.ga4 = read_csv(cls.first, "ga4-facts.csv")
        cls.ga4_rows = [dict(zip(cls.ga4[0], row)) for row in cls.ga4[1:]]

    def test_runs_are_identical(self):
        second = simlib.generate_dataset(os.path.join(self.folder, "second"))
        for name in FILES:
            self.assertTrue(filecmp.cmp(os.path.join(self.first, name),
                                        os.path.join(second, name), shallow=False), name)

    def test_default_size_is_small(self):
        total = sum(os.path.getsize(os.path.join(self.first, name)) for name in FILES)
        self.assertLess(total, 12 * 1024 * 1024)

    def test_ga4_header(self):
        self.assertEqual(self.ga4[0], GA4_HEADER)

    def test_date_span(self):
        dates = sorted({row["date"] for row in self.ga4_rows})
        self.assertEqual(dates[0], "20251001")
        self.assertEqual(dates[-1], "20261202")
        first = datetime.datetime.strptime(dates[0], "%Y%m%d").date()
        self.assertEqual(len(dates), (datetime.date(2026, 12, 2) - first).days + 1)

    def test_partial_day_hours(self):
        for property_id in ("310000001", "310000003", "310000004", "310000005"):
            last = {row["hour"] for row in self.ga4_rows
                    if row["property"] == property_id and row["date"] == "20261201"}
            partial = {row["hour"] for row in self.ga4_rows
                       if row["property"] == property_id and row["date"] == "20261202"}
            self.assertEqual(len(last), 24, property_id)
            self.assertEqual(sorted(partial), ["%02d" % hour for hour in range(14)], property_id)

    def test_youtube_stops_at_end_date(self):
        dates = {row[1] for row in read_csv(self.first, "youtube-facts.csv")[1:]}
        self.assertEqual(max(dates), "2026-12-01")
        self.assertEqual(min(dates), "2025-10-01")

    def test_sites_and_properties(self):
        hosts = {(row["property"], row["hostName"]) for row in self.ga4_rows}
        self.assertEqual(hosts, {
            ("310000001", "www.gamesnews.example"), ("310000002", "www.gamesnews.example"),
            ("310000003", "www.retrotech.example"), ("310000004", "www.boardplay.example"),
            ("310000005", "www.jeuxvideo.example")})

    def test_dimension_values(self):
        values = lambda column: {row[column] for row in self.ga4_rows}  # noqa: E731
        self.assertEqual(values("deviceCategory"), {"mobile", "desktop", "tablet", "smart tv"})
        self.assertIn("(not set)", values("country"))
        self.assertIn("Organic Social", values("sessionDefaultChannelGroup"))
        self.assertTrue({"Facebook", "Twitter", "(not set)"} <= values("socialNetwork"))
        self.assertTrue({"facebook.com", "m.facebook.com", "t.co"} <= values("sessionSource"))

    def test_awkward_pages(self):
        amp = [row["pagePath"] for row in self.ga4_rows if row["property"] == "310000002"]
        self.assertGreater(sum(path.startswith("/amp/") for path in amp), len(amp) // 2)
        paths = [row["pagePath"] for row in self.ga4_rows]
        self.assertTrue(any("?" in path for path in paths))
        titles = {row["pageTitle"] for row in self.ga4_rows}
        self.assertTrue(any("&amp;" in title or "&#39;" in title for title in titles))
        self.assertTrue(any(not title.isascii() for title in titles))
        titles_per_path = {}
        for row in self.ga4_rows:
            titles_per_path.setdefault(row["pagePath"], set()).add(row["pageTitle"])
        self.assertTrue(any(len(titles) > 1 for titles in titles_per_path.values()))

    def test_metrics_consistent(self):
        for row in self.ga4_rows[:5000]:
            users, sessions = int(row["totalUsers"]), int(row["sessions"])
            self.assertLessEqual(users, sessions)
            self.assertLessEqual(sessions, int(row["screenPageViews"]))

    def test_youtube_files(self):
        channels = read_csv(self.first, "youtube-channels.csv")
        self.assertEqual(channels[0], ["channel", "name", "subscriberCount", "videoCount",
                                       "viewCount"])
        self.assertEqual(len(channels) - 1, 4)
        videos = read_csv(self.first, "youtube-videos.csv")[1:]
        self.assertTrue(all(len(video[0]) == 11 for video in videos))
        facts = read_csv(self.first, "youtube-facts.csv")
        known = {video[0] for video in videos}
        self.assertTrue(all(row[3] in known for row in facts[1:]))

    def test_end_date_option(self):
        folder = simlib.generate_dataset(os.path.join(self.folder, "march"), "--end-date",
                                         "2026-03-15")
        dates = sorted({row[1] for row in read_csv(folder, "ga4-facts.csv")[1:]})
        self.assertEqual((dates[0], dates[-1]), ("20250101", "20260316"))

    def test_invalid_end_date_rejected(self):
        result = subprocess.run([simlib.GENERATOR, os.path.join(self.folder, "bad"),
                                 "--end-date", "2026-02-30"], capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--end-date", result.stderr)


if __name__ == "__main__":
    unittest.main()
