"""GA4 simulator features the GA worker relies on to spare quota: token
quotas with propertyQuota and RESOURCE_EXHAUSTED, batchRunReports, burst
and HTML faults, metadata options, ordering and paging."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

NOW = "2026-12-02T18:00:00Z"
REQUEST = {
    "dateRanges": [{"startDate": "2026-11-01", "endDate": "2026-11-07"}],
    "dimensions": [{"name": "date"}],
    "metrics": [{"name": "sessions"}],
    "returnPropertyQuota": True,
}


class QuotaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="simulator-quota-")
        cls.dataset = simlib.generate_dataset(os.path.join(cls.folder, "dataset"))
        cls.private, cls.public = simlib.make_key(cls.folder)

    def start(self, *options):
        return simlib.Simulator(self.dataset, *options, public_key=self.public, now=NOW)

    def post(self, simulator, token, property_id, method, body):
        status, headers, data = simulator.request(
            "POST", "/v1beta/properties/%s:%s" % (property_id, method), body,
            {"Authorization": "Bearer " + token})
        return status, headers, data

    def test_tokens_counted_until_hour_spent(self):
        with self.start("--ga-tokens-per-day", "10", "--ga-tokens-per-hour", "3") as simulator:
            token = simulator.access_token(self.private)
            for used in range(1, 4):
                status, body = simulator.run_report(token, "310000003", REQUEST)
                self.assertEqual(status, 200)
                quota = body["propertyQuota"]
                self.assertEqual(quota["tokensPerDay"], {"consumed": 1, "remaining": 10 - used})
                self.assertEqual(quota["tokensPerHour"], {"consumed": 1, "remaining": 3 - used})
            status, body = simulator.run_report(token, "310000003", REQUEST)
            self.assertEqual(status, 429)
            self.assertEqual(body["error"]["status"], "RESOURCE_EXHAUSTED")
            self.assertIn("tokens per hour", body["error"]["message"])
            self.assertIn("310000003", body["error"]["message"])

            # Quotas are per property.
            status, body = simulator.run_report(token, "310000001", REQUEST)
            self.assertEqual(status, 200)
            self.assertEqual(body["propertyQuota"]["tokensPerHour"]["remaining"], 2)

    def test_daily_quota_spent_by_batch(self):
        with self.start("--ga-tokens-per-day", "2") as simulator:
            token = simulator.access_token(self.private)
            batch = {"requests": [REQUEST, dict(REQUEST, dimensions=[{"name": "country"}])]}
            status, _, data = self.post(simulator, token, "310000003", "batchRunReports", batch)
            self.assertEqual(status, 200)
            reports = json.loads(data)["reports"]
            self.assertEqual(len(reports), 2)
            self.assertEqual(reports[0]["propertyQuota"]["tokensPerDay"]["remaining"], 1)
            self.assertEqual(reports[1]["propertyQuota"]["tokensPerDay"]["remaining"], 0)
            self.assertEqual([h["name"] for h in reports[1]["dimensionHeaders"]], ["country"])
            status, _, data = self.post(simulator, token, "310000003", "batchRunReports", batch)
            self.assertEqual(status, 429)
            self.assertIn("tokens per day", json.loads(data)["error"]["message"])

    def test_rows_cost_tokens(self):
        with self.start() as simulator:
            token = simulator.access_token(self.private)
            request = dict(REQUEST, dimensions=[{"name": "dateHour"}, {"name": "pagePath"}],
                           dateRanges=[{"startDate": "2025-10-01", "endDate": "2026-12-01"}],
                           limit=250000)
            status, body = simulator.run_report(token, "310000001", request)
            self.assertEqual(status, 200)
            consumed = body["propertyQuota"]["tokensPerDay"]["consumed"]
            self.assertEqual(consumed, 1 + len(body["rows"]) // 10000)

    def test_batch_limits(self):
        with self.start() as simulator:
            token = simulator.access_token(self.private)
            status, _, data = self.post(simulator, token, "310000003", "batchRunReports",
                                        {"requests": [REQUEST] * 6})
            self.assertEqual(status, 400)
            self.assertIn("1 to 5", json.loads(data)["error"]["message"])
            status, _, _ = self.post(simulator, token, "310000003", "batchRunReports",
                                     {"requests": [REQUEST] * 5})
            self.assertEqual(status, 200)
            stats = simulator.stats()["endpoints"]["batchRunReports"]
            self.assertEqual(stats["requests"], 2)

    def test_burst_fails_first_requests_per_property(self):
        with self.start("--fail", "429:burst:2", "--fail", "503:burst:1") as simulator:
            token = simulator.access_token(self.private)
            for property_id in ("310000001", "310000003"):
                statuses = []
                for _ in range(4):
                    status, headers, _ = self.post(simulator, token, property_id, "runReport",
                                                   REQUEST)
                    statuses.append(status)
                    if status == 429:
                        self.assertEqual(headers["Retry-After"], "1")
                self.assertEqual(statuses, [429, 429, 503, 200])
            self.assertEqual(simulator.stats()["faults"], {"429": 4, "503": 2})

    def test_html_fault(self):
        with self.start("--fail", "html:1") as simulator:
            token = simulator.access_token(self.private)
            status, headers, data = self.post(simulator, token, "310000003", "runReport",
                                              REQUEST)
            self.assertEqual(status, 200)
            self.assertTrue(headers["Content-Type"].startswith("text/html"))
            with self.assertRaises(ValueError):
                json.loads(data)
            self.assertEqual(simulator.stats()["faults"], {"html": 1})

    def test_bad_rules_rejected(self):
        for option in (("--fail", "429:burst:0"), ("--fail", "429:burst:x"),
                       ("--ga-metadata", "sampled"), ("--ga-metadata", "blurred:all"),
                       ("--ga-tokens-per-day", "0")):
            with self.assertRaises(RuntimeError):
                self.start(*option)

    def test_metadata_options(self):
        with self.start("--ga-metadata", "sampled:310000003", "--ga-metadata",
                        "thresholded:all", "--ga-metadata", "other-row:310000001") as simulator:
            token = simulator.access_token(self.private)
            request = dict(REQUEST, dateRanges=[
                {"startDate": "2026-11-01", "endDate": "2026-11-07"},
                {"startDate": "2025-11-01", "endDate": "2025-11-07"}])
            _, body = simulator.run_report(token, "310000003", request)
            metadata = body["metadata"]
            self.assertEqual(len(metadata["samplingMetadatas"]), 2)
            self.assertTrue(metadata["subjectToThresholding"])
            self.assertNotIn("dataLossFromOtherRow", metadata)
            _, body = simulator.run_report(token, "310000001", request)
            metadata = body["metadata"]
            self.assertNotIn("samplingMetadatas", metadata)
            self.assertTrue(metadata["subjectToThresholding"])
            self.assertTrue(metadata["dataLossFromOtherRow"])

    def test_order_paging_and_empty_rows(self):
        with self.start() as simulator:
            token = simulator.access_token(self.private)
            request = dict(REQUEST, dimensions=[{"name": "country"}],
                           orderBys=[{"dimension": {"dimensionName": "country"}, "desc": True}])
            _, whole = simulator.run_report(token, "310000003", request)
            names = [row["dimensionValues"][0]["value"] for row in whole["rows"]]
            self.assertEqual(names, sorted(names, reverse=True))

            _, page = simulator.run_report(token, "310000003", dict(request, offset=2, limit=3))
            self.assertEqual(page["rowCount"], whole["rowCount"])
            self.assertEqual([row["dimensionValues"][0]["value"] for row in page["rows"]],
                             names[2:5])

            by_metric = dict(request, orderBys=[{"metric": {"metricName": "sessions"}}])
            _, ordered = simulator.run_report(token, "310000003", by_metric)
            sessions = [int(row["metricValues"][0]["value"]) for row in ordered["rows"]]
            self.assertEqual(sessions, sorted(sessions))

            # The dataset has no row whose metrics are all zero, so keeping
            # empty rows changes nothing here; the field is accepted.
            status, kept = simulator.run_report(token, "310000003",
                                                dict(request, keepEmptyRows=True))
            self.assertEqual(status, 200)
            self.assertEqual(kept["rowCount"], whole["rowCount"])


if __name__ == "__main__":
    unittest.main()
