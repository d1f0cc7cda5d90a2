"""YouTube Analytics reports.query and the Data API list calls over a
generated dataset: every number is compared with sums computed here from the
CSV files; ids, filters, sort and maxResults follow the real API's rules;
quota and faults show in /stats."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402
import ytlib  # noqa: E402

GAMESNEWS_1 = "UCgamesnews0000000000001"
GAMESNEWS_2 = "UCgamesnews0000000000002"
RETROTECH = "UCretrotech0000000000003"
NOW = "2026-12-02T18:00:00Z"


class YoutubeReportsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="simulator-youtube-")
        cls.dataset = simlib.generate_dataset(os.path.join(cls.folder, "dataset"))
        cls.facts = ytlib.load_facts(cls.dataset)
        cls.simulator = simlib.Simulator(cls.dataset, now=NOW)
        cls.retro_token = ytlib.access_token(cls.simulator, RETROTECH)
        cls.owner_token = ytlib.access_token(cls.simulator, GAMESNEWS_1)

    @classmethod
    def tearDownClass(cls):
        status = cls.simulator.stop()
        if status != 0:
            raise AssertionError("simulator exited with %d:\n%s"
                                 % (status, cls.simulator.log_text()))

    def owner_report(self, channel, **params):
        return ytlib.report(self.simulator, self.owner_token,
                            ids="contentOwner==" + ytlib.CONTENT_OWNER,
                            filters="channel==" + channel, **params)

    def assert_error(self, status, body, code):
        self.assertEqual(status, code, body)
        self.assertEqual(body["error"]["code"], code)
        self.assertIsInstance(body["error"]["message"], str)

    def test_mine_daily_views_match_csv(self):
        metrics = ["views", "estimatedMinutesWatched"]
        status, body = ytlib.report(self.simulator, self.retro_token, ids="channel==MINE",
                                    startDate="2026-11-01", endDate="2026-11-30",
                                    metrics=",".join(metrics), dimensions="day")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["kind"], "youtubeAnalytics#resultTable")
        self.assertEqual(body["columnHeaders"], [
            {"name": "day", "columnType": "DIMENSION", "dataType": "STRING"},
            {"name": "views", "columnType": "METRIC", "dataType": "INTEGER"},
            {"name": "estimatedMinutesWatched", "columnType": "METRIC", "dataType": "INTEGER"},
        ])
        expected = ytlib.sums(self.facts, {RETROTECH}, "2026-11-01", "2026-11-30", ["day"],
                              metrics)
        self.assertEqual(len(expected), 30)
        self.assertEqual(ytlib.rows_by_key(body, 1), {key: value for key, value
                                                      in expected.items()})
        days = [row[0] for row in body["rows"]]
        self.assertEqual(days, sorted(days))

    def test_metric_values_are_json_integers(self):
        status, body = ytlib.report(self.simulator, self.retro_token, ids="channel==MINE",
                                    startDate="2026-11-01", endDate="2026-11-01",
                                    metrics=",".join(ytlib.METRICS))
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["rows"]), 1)
        for value in body["rows"][0]:
            self.assertIsInstance(value, int)
        expected = ytlib.sums(self.facts, {RETROTECH}, "2026-11-01", "2026-11-01", [],
                              ytlib.METRICS)
        self.assertEqual(body["rows"][0], expected[()])

    def test_content_owner_country_matches_csv(self):
        metrics = ["views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost"]
        status, body = self.owner_report(GAMESNEWS_2, startDate="2026-10-01",
                                         endDate="2026-10-31", metrics=",".join(metrics),
                                         dimensions="country", sort="-estimatedMinutesWatched")
        self.assertEqual(status, 200, body)
        expected = ytlib.sums(self.facts, {GAMESNEWS_2}, "2026-10-01", "2026-10-31",
                              ["country"], metrics)
        self.assertEqual(ytlib.rows_by_key(body, 1), expected)
        minutes = [row[2] for row in body["rows"]]
        self.assertEqual(minutes, sorted(minutes, reverse=True))

    def test_content_owner_filter_on_country(self):
        status, body = self.owner_report(GAMESNEWS_1 + ";country==US,GB",
                                         startDate="2026-09-01", endDate="2026-11-30",
                                         metrics="views,likes,dislikes")
        self.assertEqual(status, 200, body)
        expected = ytlib.sums(self.facts, {GAMESNEWS_1}, "2026-09-01", "2026-11-30", [],
                              ["views", "likes", "dislikes"], {"country": {"US", "GB"}})
        self.assertEqual(body["rows"], [expected[()]])

    def test_traffic_sources_match_csv(self):
        status, body = self.owner_report(GAMESNEWS_1, startDate="2026-11-01",
                                         endDate="2026-11-07",
                                         metrics="estimatedMinutesWatched",
                                         dimensions="insightTrafficSourceType")
        self.assertEqual(status, 200, body)
        expected = ytlib.sums(self.facts, {GAMESNEWS_1}, "2026-11-01", "2026-11-07",
                              ["insightTrafficSourceType"], ["estimatedMinutesWatched"])
        self.assertEqual(ytlib.rows_by_key(body, 1), expected)

    def test_top_videos_sorted_and_limited(self):
        status, body = self.owner_report(GAMESNEWS_1, startDate="2026-11-01",
                                         endDate="2026-11-30",
                                         metrics="estimatedMinutesWatched,views",
                                         dimensions="video", sort="-estimatedMinutesWatched",
                                         maxResults="10")
        self.assertEqual(status, 200, body)
        expected = ytlib.sums(self.facts, {GAMESNEWS_1}, "2026-11-01", "2026-11-30", ["video"],
                              ["estimatedMinutesWatched", "views"])
        self.assertEqual(len(body["rows"]), 10)
        for row in body["rows"]:
            self.assertEqual(row[1:], expected[(row[0],)])
        top = sorted((value[0] for value in expected.values()), reverse=True)[:10]
        self.assertEqual([row[1] for row in body["rows"]], top)

    def test_video_dimension_needs_sort_and_max_results(self):
        common = {"startDate": "2026-11-01", "endDate": "2026-11-30", "metrics": "views",
                  "dimensions": "video"}
        cases = [
            {},
            {"sort": "-views"},
            {"sort": "views", "maxResults": "10"},
            {"sort": "-views", "maxResults": "201"},
        ]
        for extra in cases:
            with self.subTest(extra=extra):
                status, body = self.owner_report(GAMESNEWS_1, **common, **extra)
                self.assert_error(status, body, 400)
                self.assertIn("not supported", body["error"]["message"])
        status, body = self.owner_report(GAMESNEWS_1, **common, sort="-views", maxResults="200")
        self.assertEqual(status, 200, body)

    def test_start_index_pages(self):
        params = {"startDate": "2026-11-01", "endDate": "2026-11-30", "metrics": "views",
                  "dimensions": "day"}
        _, whole = self.owner_report(GAMESNEWS_1, **params)
        status, page = self.owner_report(GAMESNEWS_1, **params, startIndex="11",
                                         maxResults="5")
        self.assertEqual(status, 200, page)
        self.assertEqual(page["rows"], whole["rows"][10:15])

    def test_empty_result_has_no_rows_key(self):
        status, body = ytlib.report(self.simulator, self.retro_token, ids="channel==MINE",
                                    startDate="2020-01-01", endDate="2020-01-31",
                                    metrics="views", dimensions="day")
        self.assertEqual(status, 200, body)
        self.assertNotIn("rows", body)
        self.assertEqual(len(body["columnHeaders"]), 2)

    def test_days_from_today_are_not_served(self):
        status, body = ytlib.report(self.simulator, self.retro_token, ids="channel==MINE",
                                    startDate="2026-11-28", endDate="2026-12-05",
                                    metrics="views", dimensions="day")
        self.assertEqual(status, 200, body)
        self.assertEqual([row[0] for row in body["rows"]],
                         ["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"])

    def test_bad_queries_rejected(self):
        base = {"ids": "channel==MINE", "startDate": "2026-11-01", "endDate": "2026-11-30",
                "metrics": "views"}
        cases = [
            dict(base, metrics="views,pageviews"),
            dict(base, dimensions="day,city"),
            dict(base, startDate="2026-11-31"),
            dict(base, startDate="2026-12-01", endDate="2026-11-01"),
            dict(base, sort="-likes"),
            dict(base, maxResults="0"),
            dict(base, filters="country"),
            {key: value for key, value in base.items() if key != "metrics"},
            {key: value for key, value in base.items() if key != "ids"},
        ]
        for params in cases:
            with self.subTest(params=params):
                status, body = ytlib.report(self.simulator, self.retro_token, **params)
                self.assert_error(status, body, 400)

    def test_forbidden_ids_and_channels(self):
        base = {"startDate": "2026-11-01", "endDate": "2026-11-30", "metrics": "views"}
        cases = [
            dict(base, ids="contentOwner==someoneElse", filters="channel==" + RETROTECH),
            dict(base, ids="channel==" + GAMESNEWS_1),
            dict(base, ids="channel==MINE", filters="channel==" + GAMESNEWS_1),
            dict(base, ids="contentOwner==" + ytlib.CONTENT_OWNER,
                 filters="channel==UCunknown000000000000000"),
        ]
        for params in cases:
            with self.subTest(params=params):
                status, body = ytlib.report(self.simulator, self.retro_token, **params)
                self.assert_error(status, body, 403)

    def test_tokens_checked(self):
        params = {"ids": "channel==MINE", "startDate": "2026-11-01", "endDate": "2026-11-30",
                  "metrics": "views"}
        status, body = ytlib.report(self.simulator, None, **params)
        self.assert_error(status, body, 401)
        status, body = ytlib.report(self.simulator, "ya29.unknown", **params)
        self.assert_error(status, body, 401)

    def test_channels_list_statistics(self):
        channels = {row["channel"]: row for row in ytlib.load_csv(self.dataset,
                                                                  "youtube-channels.csv")}
        ids = [RETROTECH, "UCunknown000000000000000", GAMESNEWS_2]
        status, body = ytlib.get(self.simulator, self.retro_token, "/youtube/v3/channels",
                                 {"part": "statistics,snippet", "id": ",".join(ids)})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["kind"], "youtube#channelListResponse")
        self.assertEqual([item["id"] for item in body["items"]], [RETROTECH, GAMESNEWS_2])
        for item in body["items"]:
            row = channels[item["id"]]
            self.assertEqual(item["statistics"]["subscriberCount"], row["subscriberCount"])
            self.assertEqual(item["statistics"]["videoCount"], row["videoCount"])
            self.assertEqual(item["statistics"]["viewCount"], row["viewCount"])
            self.assertEqual(item["snippet"]["title"], row["name"])

    def test_videos_list_titles(self):
        videos = ytlib.load_csv(self.dataset, "youtube-videos.csv")
        ids = [row["video"] for row in videos[:49]] + ["xxxxxxxxxxx"]
        status, body = ytlib.get(self.simulator, self.retro_token, "/youtube/v3/videos",
                                 {"part": "snippet", "id": ",".join(ids)})
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body["items"]), 49)
        titles = {row["video"]: (row["title"], row["channel"]) for row in videos}
        for item in body["items"]:
            self.assertEqual((item["snippet"]["title"], item["snippet"]["channelId"]),
                             titles[item["id"]])

    def test_list_limits(self):
        ids = ",".join("v%010d" % number for number in range(51))
        status, body = ytlib.get(self.simulator, self.retro_token, "/youtube/v3/videos",
                                 {"part": "snippet", "id": ids})
        self.assert_error(status, body, 400)
        status, body = ytlib.get(self.simulator, self.retro_token, "/youtube/v3/videos",
                                 {"id": "abc"})
        self.assert_error(status, body, 400)
        status, body = ytlib.get(self.simulator, self.retro_token, "/youtube/v3/channels",
                                 {"part": "statistics"})
        self.assert_error(status, body, 400)

    def test_quota_counts_one_unit_per_call(self):
        before = self.simulator.stats()["quota"].get("youtube", 0)
        ytlib.report(self.simulator, self.retro_token, ids="channel==MINE",
                     startDate="2026-11-01", endDate="2026-11-01", metrics="views")
        ytlib.get(self.simulator, self.retro_token, "/youtube/v3/channels",
                  {"part": "statistics", "id": RETROTECH})
        ytlib.get(self.simulator, self.retro_token, "/youtube/v3/videos",
                  {"part": "snippet", "id": "abc,def"})
        ytlib.report(self.simulator, None, ids="channel==MINE", startDate="2026-11-01",
                     endDate="2026-11-01", metrics="views")
        after = self.simulator.stats()
        self.assertEqual(after["quota"]["youtube"] - before, 3)
        self.assertGreaterEqual(after["endpoints"]["reports"]["channels"][RETROTECH], 1)

    def test_fail_rules_apply_to_youtube(self):
        with simlib.Simulator(self.dataset, "--fail", "503:1", now=NOW) as simulator:
            token = ytlib.access_token(simulator, RETROTECH)
            status, _ = ytlib.report(simulator, token, ids="channel==MINE",
                                     startDate="2026-11-01", endDate="2026-11-01",
                                     metrics="views")
            self.assertEqual(status, 503)
            status, _ = ytlib.get(simulator, token, "/youtube/v3/channels",
                                  {"part": "statistics", "id": RETROTECH})
            self.assertEqual(status, 503)
            self.assertEqual(simulator.stats()["faults"]["503"], 2)


if __name__ == "__main__":
    unittest.main()
