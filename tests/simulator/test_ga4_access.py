"""runReport access and validation: 401 without a valid token, 403 for an
unknown property or a token without an analytics scope, 400 with Google's
error shape for invalid requests."""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

PROPERTY = "310000003"
VALID_REQUEST = {
    "dateRanges": [{"startDate": "2026-11-01", "endDate": "2026-11-30"}],
    "dimensions": [{"name": "country"}],
    "metrics": [{"name": "sessions"}],
}


def with_changes(**changes):
    request = dict(VALID_REQUEST)
    request.update(changes)
    return request


class Ga4AccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="simulator-access-")
        dataset = simlib.generate_dataset(os.path.join(cls.folder, "dataset"))
        cls.private, cls.public = simlib.make_key(cls.folder)
        cls.simulator = simlib.Simulator(dataset, "--token-lifetime", "2",
                                         public_key=cls.public, now="2026-12-02T18:00:00Z")
        cls.token = None

    @classmethod
    def tearDownClass(cls):
        status = cls.simulator.stop()
        if status != 0:
            raise AssertionError("simulator exited with %d:\n%s"
                                 % (status, cls.simulator.log_text()))

    def fresh_token(self):
        return self.simulator.access_token(self.private)

    def assert_google_error(self, status, body, code, google_status):
        self.assertEqual(status, code, body)
        self.assertEqual(body["error"]["code"], code)
        self.assertEqual(body["error"]["status"], google_status)
        self.assertIsInstance(body["error"]["message"], str)

    def test_missing_token_unauthenticated(self):
        status, body = self.simulator.run_report(None, PROPERTY, VALID_REQUEST)
        self.assert_google_error(status, body, 401, "UNAUTHENTICATED")
        self.assertTrue(body["error"]["message"].startswith(
            "Request had invalid authentication credentials."))

    def test_unknown_token_unauthenticated(self):
        status, body = self.simulator.run_report("ya29.made-up", PROPERTY, VALID_REQUEST)
        self.assert_google_error(status, body, 401, "UNAUTHENTICATED")

    def test_expired_token_unauthenticated(self):
        token = self.fresh_token()
        time.sleep(3)
        status, body = self.simulator.run_report(token, PROPERTY, VALID_REQUEST)
        self.assert_google_error(status, body, 401, "UNAUTHENTICATED")

    def test_unknown_property_denied(self):
        status, body = self.simulator.run_report(self.fresh_token(), "399999999", VALID_REQUEST)
        self.assert_google_error(status, body, 403, "PERMISSION_DENIED")
        self.assertTrue(body["error"]["message"].startswith(
            "User does not have sufficient permissions for this property."))

    def test_token_without_scope_denied(self):
        token = self.simulator.access_token(
            self.private, scope="https://www.googleapis.com/auth/youtube.readonly")
        status, body = self.simulator.run_report(token, PROPERTY, VALID_REQUEST)
        self.assert_google_error(status, body, 403, "PERMISSION_DENIED")

    def test_valid_request_succeeds(self):
        status, body = self.simulator.run_report(self.fresh_token(), PROPERTY, VALID_REQUEST)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["kind"], "analyticsData#runReport")

    def assert_invalid(self, request, text):
        status, body = self.simulator.run_report(self.fresh_token(), PROPERTY, request)
        self.assert_google_error(status, body, 400, "INVALID_ARGUMENT")
        self.assertIn(text, body["error"]["message"])

    def test_unknown_metric_invalid(self):
        self.assert_invalid(with_changes(metrics=[{"name": "ga:pageviews"}]),
                            "ga:pageviews is not a valid metric")

    def test_social_network_dimension_invalid(self):
        self.assert_invalid(with_changes(dimensions=[{"name": "socialNetwork"}]),
                            "socialNetwork is not a valid dimension")

    def test_bad_date_invalid(self):
        self.assert_invalid(with_changes(
            dateRanges=[{"startDate": "2026-02-30", "endDate": "2026-03-01"}]), "2026-02-30")

    def test_reversed_range_invalid(self):
        self.assert_invalid(with_changes(
            dateRanges=[{"startDate": "2026-03-02", "endDate": "2026-03-01"}]), "after")

    def test_five_date_ranges_invalid(self):
        ranges = [{"startDate": "2026-11-0%d" % day, "endDate": "2026-11-0%d" % day}
                  for day in range(1, 6)]
        self.assert_invalid(with_changes(dateRanges=ranges), "at most 4 dateRanges")

    def test_unknown_field_invalid(self):
        self.assert_invalid(with_changes(dateRange=[]), 'Unknown name "dateRange"')

    def test_filter_on_unknown_field_invalid(self):
        bad_filter = {"filter": {"fieldName": "browser",
                                 "stringFilter": {"value": "Chrome"}}}
        self.assert_invalid(with_changes(dimensionFilter=bad_filter), "browser")

    def test_order_by_missing_metric_invalid(self):
        self.assert_invalid(with_changes(orderBys=[{"metric": {"metricName": "totalUsers"}}]),
                            "totalUsers")

    def test_body_not_json_invalid(self):
        status, _, data = self.simulator.request(
            "POST", "/v1beta/properties/%s:runReport" % PROPERTY, b"{not json",
            {"Authorization": "Bearer " + self.fresh_token()})
        self.assertEqual(status, 400, data)

    def test_unknown_method_not_found(self):
        status, body = self.simulator.json(
            "POST", "/v1beta/properties/%s:runPivotReport" % PROPERTY, VALID_REQUEST,
            {"Authorization": "Bearer " + self.fresh_token()})
        self.assert_google_error(status, body, 404, "NOT_FOUND")

    def test_health_check(self):
        status, body = self.simulator.json("GET", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"status": "ok"})

    def test_requests_counted_per_property(self):
        before = self.simulator.stats()["endpoints"].get("runReport", {})
        before_count = before.get("properties", {}).get("310000004", 0)
        token = self.fresh_token()
        for _ in range(3):
            self.simulator.run_report(token, "310000004", VALID_REQUEST)
        after = self.simulator.stats()["endpoints"]["runReport"]
        self.assertEqual(after["properties"]["310000004"], before_count + 3)


if __name__ == "__main__":
    unittest.main()
