"""statsdash-worker-youtube end to end: simulator, broker and worker run as
processes, the test sends fetch.request messages and reads the table.raw
parts from the bus. Every number is checked against sums computed here from
the dataset's CSV files, in content-owner mode and in channel==MINE mode. A
revoked refresh token fails the parts with an error that says to run
`statsdash auth youtube` again, and the worker keeps serving."""

import datetime
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ytcluster  # noqa: E402
from ytcluster import CURRENT, PREVIOUS, query  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "simulator"))
import simlib  # noqa: E402
import ytlib  # noqa: E402

GAMESNEWS = "GamesNews TV"
RETROTECH = "RetroTech Clips"
SUMMARY_METRICS = ["views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost",
                   "likes", "dislikes", "comments", "shares"]
QUERIES = [
    query("summary", SUMMARY_METRICS),
    query("country", ["views", "estimatedMinutesWatched", "subscribersGained"], ["country"]),
    query("videos", ["estimatedMinutesWatched", "views"], ["video"], limit=10,
          params={"sort": "-estimatedMinutesWatched"}),
    query("traffic", ["estimatedMinutesWatched"], ["insightTrafficSourceType"]),
    query("subscribers", ["subscriberCount"], api="youtube.channels"),
]
YESTERDAY = "2026-12-01"
MISSING_VIDEO = "noSuchVideo"
MISSING_TITLE = "Video not found"


def day_after(text):
    return (datetime.date.fromisoformat(text) + datetime.timedelta(days=1)).isoformat()


class WorkerChecks:
    """Checks shared by both modes; a subclass starts CLUSTER."""

    @classmethod
    def setUpClass(cls):
        folder = tempfile.mkdtemp(prefix="worker-youtube-data-")
        cls.dataset = simlib.generate_dataset(os.path.join(folder, "dataset"))
        cls.facts = ytlib.load_facts(cls.dataset)
        cls.channels = {row["channel"]: row for row in ytlib.load_csv(cls.dataset,
                                                                      "youtube-channels.csv")}
        cls.titles = {row["video"]: row["title"] for row in ytlib.load_csv(
            cls.dataset, "youtube-videos.csv")}
        cls.cluster = ytcluster.Cluster(cls.dataset, **cls.CLUSTER_OPTIONS)

    @classmethod
    def tearDownClass(cls):
        statuses = cls.cluster.stop()
        for name, status in statuses.items():
            if status != 0:
                raise AssertionError("%s exited with %d; worker log:\n%s"
                                     % (name, status, cls.cluster.worker_log()))

    def rows_by_key(self, part, dimension_count):
        return {tuple(row[:dimension_count]): row[dimension_count:] for row in part["rows"]}

    def titles_query(self):
        """A youtube.videos query for every video of the dataset (more than
        one videos.list call of 50), then an id the API does not know and
        a repeated id."""
        ids = sorted(self.titles) + [MISSING_VIDEO, sorted(self.titles)[0]]
        return query("titles", [], ["video", "title"], api="youtube.videos",
                     params={"ids": ids}, periods=(CURRENT,))

    def fetch_all(self, site, job_id):
        # Five queries over two periods, then the titles of one period.
        reply, parts = self.cluster.fetch(site, QUERIES + [self.titles_query()], job_id)
        self.assertEqual(reply["type"], "fetch.reply", reply)
        self.assertEqual(len(reply["parts"]), 11)
        for status in reply["parts"]:
            self.assertIsNone(status.get("error"), status)
            self.assertEqual(len(status["digest"]), 64)
        self.assertEqual(len(parts), 11)
        return parts

    def check_channel(self, site, job_id):
        ids = set(ytcluster.CHANNELS[site])
        parts = self.fetch_all(site, job_id)
        self.check_titles(parts[("t-titles", CURRENT["label"])])
        for period in (CURRENT, PREVIOUS):
            label, start, end = period["label"], period["start"], period["end"]
            with self.subTest(period=label):
                summary = parts[("t-summary", label)]
                self.assertEqual([column["name"] for column in summary["columns"]],
                                 SUMMARY_METRICS)
                self.assertEqual(summary["rows"], [ytlib.sums(self.facts, ids, start, end, [],
                                                              SUMMARY_METRICS)[()]])
                self.assertEqual(summary["part_id"], "%s/%s" % (site, label))

                country = parts[("t-country", label)]
                expected = ytlib.sums(self.facts, ids, start, end, ["country"],
                                      ["views", "estimatedMinutesWatched", "subscribersGained"])
                self.assertEqual(self.rows_by_key(country, 1), expected)

                traffic = parts[("t-traffic", label)]
                expected = ytlib.sums(self.facts, ids, start, end, ["insightTrafficSourceType"],
                                      ["estimatedMinutesWatched"])
                self.assertEqual(self.rows_by_key(traffic, 1), expected)

                self.check_videos(parts[("t-videos", label)], ids, start, end)
                self.check_subscribers(parts[("t-subscribers", label)], ids, end)

    def check_videos(self, part, ids, start, end):
        self.assertEqual([(column["name"], column["kind"]) for column in part["columns"]],
                         [("video", "dimension"), ("estimatedMinutesWatched", "metric"),
                          ("views", "metric")])
        expected = ytlib.sums(self.facts, ids, start, end, ["video"],
                              ["estimatedMinutesWatched", "views"])
        for video, minutes, views in part["rows"]:
            self.assertEqual([minutes, views], expected[(video,)])
        # Each id's top 10 come back, so the channel's top 10 are among them.
        self.assertLessEqual(len(part["rows"]), 10 * len(ids))
        top = sorted((value[0] for value in expected.values()), reverse=True)[:10]
        got = sorted((row[1] for row in part["rows"]), reverse=True)[:10]
        self.assertEqual(got, top)

    def check_titles(self, part):
        self.assertEqual([(column["name"], column["kind"]) for column in part["columns"]],
                         [("video", "dimension"), ("title", "dimension")])
        expected = [[video, self.titles[video]] for video in sorted(self.titles)]
        expected.append([MISSING_VIDEO, MISSING_TITLE])
        self.assertEqual(part["rows"], expected)

    def check_subscribers(self, part, ids, end):
        change = ytlib.sums(self.facts, ids, day_after(end), YESTERDAY, [],
                            ["subscribersGained", "subscribersLost"])
        gained, lost = change.get((), [0, 0])
        today = sum(int(self.channels[channel_id]["subscriberCount"]) for channel_id in ids)
        self.assertEqual(part["rows"], [[today - (gained - lost)]])
        self.assertEqual(part["columns"], [{"name": "subscriberCount", "kind": "metric",
                                            "unit": "count"}])

    def test_rolled_up_channel_matches_csv(self):
        self.check_channel(GAMESNEWS, "job-gamesnews")

    def test_single_id_channel_matches_csv(self):
        self.check_channel(RETROTECH, "job-retrotech")

    def test_expired_access_token_is_refreshed_once(self):
        cluster = self.cluster
        reply, _ = cluster.fetch(RETROTECH, QUERIES[:1], "job-before-expiry")
        self.assertTrue(all(status.get("error") is None for status in reply["parts"]))
        status, _ = cluster.simulator.json("POST", "/sim/youtube/expire-access-tokens")
        self.assertEqual(status, 200)
        before = cluster.simulator.stats()["endpoints"]["reports"]["statuses"].get("401", 0)
        reply, parts = cluster.fetch(RETROTECH, QUERIES[:1], "job-after-expiry")
        for status in reply["parts"]:
            self.assertIsNone(status.get("error"), status)
        after = cluster.simulator.stats()["endpoints"]["reports"]["statuses"].get("401", 0)
        self.assertGreaterEqual(after - before, 1)
        expected = ytlib.sums(self.facts, set(ytcluster.CHANNELS[RETROTECH]), CURRENT["start"],
                              CURRENT["end"], [], SUMMARY_METRICS)[()]
        self.assertEqual(parts[("t-summary", "current")]["rows"], [expected])

    def test_unknown_channel_fails_its_parts(self):
        reply, parts = self.cluster.fetch("No Such Channel", QUERIES[:1], "job-unknown")
        self.assertEqual(len(reply["parts"]), 2)
        for status in reply["parts"]:
            self.assertIn("not in youtube.channels", status["error"])
        for part in parts.values():
            self.assertEqual(part["rows"], [])
            self.assertIn("No Such Channel", part["error"])

    def test_bad_query_fails_its_parts_only(self):
        bad = query("bad", ["views"], ["video"])
        reply, parts = self.cluster.fetch(RETROTECH, [bad, QUERIES[0]], "job-bad")
        errors = {status["part_id"] + " " + status["table_id"]: status.get("error")
                  for status in reply["parts"]}
        self.assertIn("limit", errors["%s/current t-bad" % RETROTECH])
        self.assertIsNone(errors["%s/current t-summary" % RETROTECH])
        self.assertEqual(parts[("t-bad", "current")]["rows"], [])


class ContentOwnerTest(WorkerChecks, unittest.TestCase):
    CLUSTER_OPTIONS = {"content_owner": ytlib.CONTENT_OWNER}

    def test_reports_use_the_content_owner(self):
        self.cluster.fetch(RETROTECH, QUERIES[:1], "job-owner")
        stats = self.cluster.simulator.stats()
        channels = stats["endpoints"]["reports"]["channels"]
        self.assertGreaterEqual(channels["UCretrotech0000000000003"], 2)


class MineTest(WorkerChecks, unittest.TestCase):
    CLUSTER_OPTIONS = {}

    def test_revoked_token_fails_parts_with_advice(self):
        cluster = self.cluster
        token = cluster.refresh_token("UCretrotech0000000000003")
        status, _ = cluster.simulator.json("POST", "/revoke?token=" + token)
        self.assertEqual(status, 200)
        reply, parts = cluster.fetch(RETROTECH, QUERIES[:2], "job-revoked")
        self.assertEqual(len(reply["parts"]), 4)
        for status in reply["parts"]:
            self.assertIn("statsdash auth youtube", status["error"])
            self.assertIn(RETROTECH, status["error"])
            self.assertEqual(status["digest"], "")
        for part in parts.values():
            self.assertEqual(part["rows"], [])
            self.assertIn("expired or revoked", part["error"])
        self.assertNotIn(token, cluster.worker_log())
        # The worker goes on serving the other channel.
        reply, _ = cluster.fetch(GAMESNEWS, QUERIES[:1], "job-after-revoke")
        self.assertTrue(all(status.get("error") is None for status in reply["parts"]))

    def test_group_readable_token_file_fails_parts(self):
        # BoardPlay is used by this test only, so its token file is read here first.
        os.chmod(self.cluster.token_files["UCboardplay0000000000004"], 0o640)
        reply, parts = self.cluster.fetch("BoardPlay", QUERIES[:1], "job-mode")
        for status in reply["parts"]:
            self.assertIn("chmod 600", status["error"])
        self.assertEqual(len(parts), 2)

    # Runs last (unittest sorts by name): it revokes a token.
    test_zz_revoked_token_fails_parts_with_advice = test_revoked_token_fails_parts_with_advice
    del test_revoked_token_fails_parts_with_advice



class RetryTest(unittest.TestCase):
    """Injected 503 and 429 responses are retried (5 tries with backoff), so
    every part still arrives complete."""

    def test_faults_are_retried(self):
        folder = tempfile.mkdtemp(prefix="worker-youtube-retry-")
        dataset = simlib.generate_dataset(os.path.join(folder, "dataset"))
        facts = ytlib.load_facts(dataset)
        cluster = ytcluster.Cluster(dataset, simulator_options=("--fail", "503:0.1", "--fail",
                                                                "429:0.05", "--seed", "3"))
        try:
            reply, parts = cluster.fetch(GAMESNEWS, QUERIES[:2], "job-retry")
            stats = cluster.simulator.stats()
        finally:
            statuses = cluster.stop()
        self.assertEqual(statuses, {"worker": 0, "broker": 0, "simulator": 0})
        for status in reply["parts"]:
            self.assertIsNone(status.get("error"), status)
        ids = set(ytcluster.CHANNELS[GAMESNEWS])
        expected = ytlib.sums(facts, ids, CURRENT["start"], CURRENT["end"], [],
                              SUMMARY_METRICS)[()]
        self.assertEqual(parts[("t-summary", "current")]["rows"], [expected])
        requests = stats["endpoints"]["reports"]["requests"]
        self.assertEqual(requests, 8 + sum(stats["faults"].values()))


if __name__ == "__main__":
    unittest.main()
