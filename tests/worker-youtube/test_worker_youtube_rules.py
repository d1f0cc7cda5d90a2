"""statsdash-worker-youtube: data availability, paging, the response cache,
the content owner's own refresh token, new traffic source types and the
limit of requests in flight per channel id. Simulator, broker and worker
run as processes over a generated dataset with STATSDASH_NOW set to
2026-12-02T18:00:00Z, and every expected value is computed here from the
dataset's CSV files.

Each test class is its own CTest test: the class name is the first argument.
"""

import csv
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ytcluster  # noqa: E402
from ytcluster import CHANNELS, CURRENT, PREVIOUS, query  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "simulator"))
import simlib  # noqa: E402
import ytlib  # noqa: E402

GAMESNEWS = "GamesNews TV"
RETROTECH = "RetroTech Clips"
COMPLETE_DAY = "2026-12-01"
INCOMPLETE_DAY = "2026-12-02"
NEW_SOURCE = "SOME_NEW_TYPE"
# October 2026 ended more than 3 days before STATSDASH_NOW; November did not.
OCTOBER = {"label": "previous", "start": "2026-10-01", "end": "2026-10-31"}


def generate(prefix):
    folder = tempfile.mkdtemp(prefix=prefix)
    return simlib.generate_dataset(os.path.join(folder, "dataset"))


def reports_requests(cluster):
    return cluster.simulator.stats()["endpoints"].get("reports", {}).get("requests", 0)


class ClusterTest(unittest.TestCase):
    """Starts one cluster for the class; CLUSTER_OPTIONS go to ytcluster."""

    CLUSTER_OPTIONS = {}

    @classmethod
    def setUpClass(cls):
        cls.dataset = cls.make_dataset()
        cls.facts = ytlib.load_facts(cls.dataset)
        cls.cluster = ytcluster.Cluster(cls.dataset, **cls.cluster_options())

    @classmethod
    def make_dataset(cls):
        return generate("worker-youtube-rules-")

    @classmethod
    def cluster_options(cls):
        return dict(cls.CLUSTER_OPTIONS)

    @classmethod
    def tearDownClass(cls):
        statuses = cls.cluster.stop()
        for name, status in statuses.items():
            if status != 0:
                raise AssertionError("%s exited with %d; worker log:\n%s"
                                     % (name, status, cls.cluster.worker_log()))

    def assert_no_part_errors(self, reply):
        self.assertEqual(reply["type"], "fetch.reply", reply)
        for status in reply["parts"]:
            self.assertIsNone(status.get("error"), status)


class AvailabilityTest(ClusterTest):
    """A channel is complete for a day when every channel id has rows."""

    CLUSTER_OPTIONS = {"content_owner": ytlib.CONTENT_OWNER}

    def ids_with_rows(self, day):
        return {fact["channel"] for fact in self.facts if fact["date"] == day}

    def sites(self, reply):
        self.assertEqual(reply["type"], "availability.reply", reply)
        return {item["site"]: item for item in reply["sites"]}

    def test_day_with_rows_is_complete(self):
        with_rows = self.ids_with_rows(COMPLETE_DAY)
        reply = self.cluster.availability(list(CHANNELS), COMPLETE_DAY, "avail-complete")
        self.assertEqual(reply["id"], "avail-complete")
        self.assertEqual(reply["date"], COMPLETE_DAY)
        sites = self.sites(reply)
        self.assertEqual(set(sites), set(CHANNELS))
        for name, ids in CHANNELS.items():
            with self.subTest(channel=name):
                self.assertTrue(set(ids) <= with_rows)
                self.assertTrue(sites[name]["complete"], sites[name])
                self.assertEqual(sites[name]["detail"], "")

    def test_day_without_rows_names_the_ids(self):
        self.assertEqual(self.ids_with_rows(INCOMPLETE_DAY), set())
        reply = self.cluster.availability(list(CHANNELS), INCOMPLETE_DAY, "avail-incomplete")
        sites = self.sites(reply)
        for name, ids in CHANNELS.items():
            with self.subTest(channel=name):
                self.assertFalse(sites[name]["complete"])
                for channel_id in ids:
                    self.assertIn(channel_id, sites[name]["detail"])
        for channel_id in CHANNELS[RETROTECH]:
            self.assertNotIn(channel_id, sites[GAMESNEWS]["detail"])

    def test_unknown_channel_is_incomplete(self):
        reply = self.cluster.availability([RETROTECH, "No Such Channel"], COMPLETE_DAY,
                                          "avail-unknown")
        sites = self.sites(reply)
        self.assertTrue(sites[RETROTECH]["complete"])
        self.assertFalse(sites["No Such Channel"]["complete"])
        self.assertIn("not in youtube.channels", sites["No Such Channel"]["detail"])

    def test_invalid_date_gets_error(self):
        reply = self.cluster.availability([RETROTECH], "2026-02-30", "avail-bad-date")
        self.assertEqual(reply["type"], "error", reply)
        self.assertEqual(reply["code"], 400)
        self.assertIn("2026-02-30", reply["text"])

    def test_probes_are_views_by_day(self):
        before = reports_requests(self.cluster)
        self.cluster.availability([GAMESNEWS], COMPLETE_DAY, "avail-count")
        self.assertEqual(reports_requests(self.cluster) - before, len(CHANNELS[GAMESNEWS]))


class OwnerTokenTest(ClusterTest):
    """In content-owner mode the worker uses owner_refresh_token_file and
    the channel ids need no token files."""

    CLUSTER_OPTIONS = {"content_owner": ytlib.CONTENT_OWNER}

    def test_channels_have_no_token_files(self):
        youtube = self.cluster.config["youtube"]
        self.assertIn("owner_refresh_token_file", youtube)
        for entries in youtube["channels"].values():
            for entry in entries:
                self.assertNotIn("refresh_token_file", entry)
        reply, parts = self.cluster.fetch(GAMESNEWS, [query("summary", ["views"])], "job-owner")
        self.assert_no_part_errors(reply)
        ids = set(CHANNELS[GAMESNEWS])
        expected = ytlib.sums(self.facts, ids, CURRENT["start"], CURRENT["end"], [], ["views"])
        self.assertEqual(parts[("t-summary", "current")]["rows"], [expected[()]])

    def test_same_query_of_two_tables_runs_once(self):
        twins = [query("summary", ["views", "likes"]), query("stats", ["views", "likes"])]
        before = reports_requests(self.cluster)
        reply, parts = self.cluster.fetch(GAMESNEWS, twins, "job-twins")
        self.assert_no_part_errors(reply)
        self.assertEqual(len(reply["parts"]), 4)
        ids = set(CHANNELS[GAMESNEWS])
        self.assertEqual(reports_requests(self.cluster) - before, len(ids) * 2)
        for period in (CURRENT, PREVIOUS):
            expected = ytlib.sums(self.facts, ids, period["start"], period["end"], [],
                                  ["views", "likes"])[()]
            for table_id in ("t-summary", "t-stats"):
                self.assertEqual(parts[(table_id, period["label"])]["rows"], [expected])

    def test_zz_revoked_owner_token_fails_parts(self):
        token = self.cluster.refresh_token("owner")
        status, _ = self.cluster.simulator.json("POST", "/revoke?token=" + token)
        self.assertEqual(status, 200)
        reply, _ = self.cluster.fetch(RETROTECH, [query("summary", ["views"])], "job-revoked")
        for status in reply["parts"]:
            self.assertIn("statsdash auth youtube", status["error"])
        self.assertNotIn(token, self.cluster.worker_log())


class PagingTest(ClusterTest):
    """With page_size 5, a query by country (14 countries) takes several
    reports.query pages per channel id and period, and the rows add up."""

    PAGE_SIZE = 5
    CLUSTER_OPTIONS = {"youtube_options": {"page_size": PAGE_SIZE}}

    def test_pages_add_up(self):
        metrics = ["views", "estimatedMinutesWatched"]
        before = reports_requests(self.cluster)
        reply, parts = self.cluster.fetch(GAMESNEWS, [query("country", metrics, ["country"])],
                                          "job-paging")
        self.assert_no_part_errors(reply)
        pages = 0
        for period in (CURRENT, PREVIOUS):
            expected = ytlib.sums(self.facts, set(CHANNELS[GAMESNEWS]), period["start"],
                                  period["end"], ["country"], metrics)
            got = {tuple(row[:1]): row[1:] for row in parts[("t-country", period["label"])]
                   ["rows"]}
            self.assertEqual(got, expected)
            for channel_id in CHANNELS[GAMESNEWS]:
                rows = len(ytlib.sums(self.facts, {channel_id}, period["start"], period["end"],
                                      ["country"], metrics))
                self.assertGreater(rows, self.PAGE_SIZE)
                # A full page is followed by one more request, which may be empty.
                pages += rows // self.PAGE_SIZE + 1
        self.assertEqual(reports_requests(self.cluster) - before, pages)

    def test_video_queries_are_not_paged(self):
        videos = query("videos", ["estimatedMinutesWatched"], ["video"], limit=10,
                       params={"sort": "-estimatedMinutesWatched"})
        before = reports_requests(self.cluster)
        reply, parts = self.cluster.fetch(RETROTECH, [videos], "job-videos")
        self.assert_no_part_errors(reply)
        self.assertEqual(reports_requests(self.cluster) - before, 2)
        self.assertEqual(len(parts[("t-videos", "current")]["rows"]), 10)


class CacheTest(ClusterTest):
    """Responses of periods that ended more than 3 days before
    STATSDASH_NOW come from the on-disk cache the second time."""

    @classmethod
    def cluster_options(cls):
        cache = os.path.join(tempfile.mkdtemp(prefix="worker-youtube-cache-"), "cache.db")
        return {"youtube_options": {"cache": {"path": cache}, "page_size": 5}}

    def test_closed_period_is_cached(self):
        metrics = ["views", "estimatedMinutesWatched"]
        country = query("country", metrics, ["country"], periods=(CURRENT, OCTOBER))
        ids = CHANNELS[GAMESNEWS]
        first_before = reports_requests(self.cluster)
        first, first_parts = self.cluster.fetch(GAMESNEWS, [country], "job-cache-1")
        first_requests = reports_requests(self.cluster) - first_before
        second, second_parts = self.cluster.fetch(GAMESNEWS, [country], "job-cache-2")
        second_requests = reports_requests(self.cluster) - first_before - first_requests
        self.assert_no_part_errors(first)
        self.assert_no_part_errors(second)
        for period in (CURRENT, OCTOBER):
            key = ("t-country", period["label"])
            # Rows keep the order the pages arrived in, which may differ.
            self.assertEqual(sorted(first_parts[key]["rows"]), sorted(second_parts[key]["rows"]))
        pages = {}
        for period in (CURRENT, OCTOBER):
            pages[period["label"]] = sum(
                len(ytlib.sums(self.facts, {channel_id}, period["start"], period["end"],
                               ["country"], metrics)) // 5 + 1 for channel_id in ids)
        self.assertEqual(first_requests, pages["current"] + pages["previous"])
        # November ended 2 days before STATSDASH_NOW: asked again.
        self.assertEqual(second_requests, pages["current"])


class TrafficSourceTest(ClusterTest):
    """A traffic source type that YouTube adds later is a row like any
    other: the dataset gets rows of SOME_NEW_TYPE before the simulator
    loads it."""

    @classmethod
    def make_dataset(cls):
        dataset = generate("worker-youtube-sources-")
        path = os.path.join(dataset, "youtube-facts.csv")
        with open(path, newline="") as handle:
            rows = list(csv.DictReader(handle))
        fields = list(rows[0].keys())
        added = []
        for fact in rows:
            if fact["channel"] == CHANNELS[RETROTECH][0] and fact["date"] in ("2026-11-03",
                                                                               "2026-11-17"):
                copy = dict(fact, insightTrafficSourceType=NEW_SOURCE)
                added.append(copy)
                if len(added) == 4:
                    break
        with open(path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writerows(added)
        return dataset

    def test_new_source_type_is_kept(self):
        traffic = query("traffic", ["estimatedMinutesWatched", "views"],
                        ["insightTrafficSourceType"])
        reply, parts = self.cluster.fetch(RETROTECH, [traffic], "job-sources")
        self.assert_no_part_errors(reply)
        ids = set(CHANNELS[RETROTECH])
        expected = ytlib.sums(self.facts, ids, CURRENT["start"], CURRENT["end"],
                              ["insightTrafficSourceType"], ["estimatedMinutesWatched", "views"])
        self.assertIn((NEW_SOURCE,), expected)
        got = {tuple(row[:1]): row[1:] for row in parts[("t-traffic", "current")]["rows"]}
        self.assertEqual(got, expected)
        self.assertNotIn((NEW_SOURCE,), {tuple(row[:1]) for row in
                                         parts[("t-traffic", "previous")]["rows"]})


class InFlightTest(ClusterTest):
    """With max_in_flight 2, the simulator never has more than 2
    reports.query requests of one channel id in flight at once. The simulator's
    latency keeps each request in flight for 200 ms."""

    LIMIT = 2
    CLUSTER_OPTIONS = {"simulator_options": ("--latency-ms", "200"),
                       "youtube_options": {"max_in_flight": LIMIT, "page_size": 5}}

    def test_limit_per_channel_id(self):
        metrics = ["views", "estimatedMinutesWatched"]
        queries = [query("country", metrics, ["country"]),
                   query("traffic", metrics, ["insightTrafficSourceType"]),
                   query("summary", metrics)]
        reply, parts = self.cluster.fetch(GAMESNEWS, queries, "job-in-flight")
        self.assert_no_part_errors(reply)
        ids = set(CHANNELS[GAMESNEWS])
        expected = ytlib.sums(self.facts, ids, CURRENT["start"], CURRENT["end"], ["country"],
                              metrics)
        got = {tuple(row[:1]): row[1:] for row in parts[("t-country", "current")]["rows"]}
        self.assertEqual(got, expected)
        peaks = self.cluster.simulator.stats()["endpoints"]["reports"]["in_flight_max"]
        self.assertEqual(set(peaks), ids)
        for channel_id in ids:
            with self.subTest(channel_id=channel_id):
                self.assertGreaterEqual(peaks[channel_id], 1)
                self.assertLessEqual(peaks[channel_id], self.LIMIT)


if __name__ == "__main__":
    unittest.main()
