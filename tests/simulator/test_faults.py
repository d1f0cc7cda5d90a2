"""Fault injection: --fail draws repeat for a seed, 429 carries
Retry-After, truncated bodies end early, and /stats counts the faults."""

import http.client
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

PROPERTY = "310000003"
REQUEST = {
    "dateRanges": [{"startDate": "2026-11-01", "endDate": "2026-11-07"}],
    "dimensions": [{"name": "date"}],
    "metrics": [{"name": "sessions"}],
}
REQUEST_COUNT = 40


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="simulator-faults-")
        cls.dataset = simlib.generate_dataset(os.path.join(cls.folder, "dataset"))
        cls.private, cls.public = simlib.make_key(cls.folder)

    def statuses(self, simulator):
        token = simulator.access_token(self.private)
        result = []
        for _ in range(REQUEST_COUNT):
            status, headers, _ = simulator.request(
                "POST", "/v1beta/properties/%s:runReport" % PROPERTY, REQUEST,
                {"Authorization": "Bearer " + token})
            result.append(status)
            if status == 429:
                self.assertEqual(headers["Retry-After"], "1")
        return result

    def run_with(self, *options):
        with simlib.Simulator(self.dataset, *options, public_key=self.public,
                              now="2026-12-02T18:00:00Z") as simulator:
            return self.statuses(simulator), simulator.stats()

    def test_same_seed_same_faults(self):
        options = ("--fail", "503:0.25", "--fail", "429:0.25", "--seed", "7")
        first, stats = self.run_with(*options)
        second, _ = self.run_with(*options)
        self.assertEqual(first, second)
        self.assertEqual(set(first), {200, 429, 503})
        self.assertEqual(stats["faults"].get("503", 0), first.count(503))
        self.assertEqual(stats["faults"].get("429", 0), first.count(429))
        self.assertEqual(stats["endpoints"]["runReport"]["requests"], REQUEST_COUNT)
        self.assertEqual(stats["endpoints"]["runReport"]["statuses"]["200"], first.count(200))

    def test_other_seed_other_faults(self):
        first, _ = self.run_with("--fail", "503:0.5", "--seed", "1")
        second, _ = self.run_with("--fail", "503:0.5", "--seed", "2")
        self.assertNotEqual(first, second)

    def test_truncated_body_ends_early(self):
        with simlib.Simulator(self.dataset, "--fail", "truncated:1", public_key=self.public,
                              now="2026-12-02T18:00:00Z") as simulator:
            token = simulator.access_token(self.private)
            connection = http.client.HTTPConnection("127.0.0.1", simulator.port, timeout=60)
            connection.request("POST", "/v1beta/properties/%s:runReport" % PROPERTY,
                               body=json.dumps(REQUEST),
                               headers={"Authorization": "Bearer " + token})
            response = connection.getresponse()
            self.assertEqual(response.status, 200)
            with self.assertRaises(http.client.IncompleteRead):
                response.read()
            connection.close()
            self.assertEqual(simulator.stats()["faults"]["truncated"], 1)

    def test_latency_delays_responses(self):
        with simlib.Simulator(self.dataset, "--latency-ms", "300", public_key=self.public,
                              now="2026-12-02T18:00:00Z") as simulator:
            token = simulator.access_token(self.private)
            started = time.monotonic()
            status, _ = simulator.run_report(token, PROPERTY, REQUEST)
            self.assertEqual(status, 200)
            self.assertGreaterEqual(time.monotonic() - started, 0.3)

    def test_bad_fail_rule_rejected(self):
        with self.assertRaises(RuntimeError):
            simlib.Simulator(self.dataset, "--fail", "503:2")


if __name__ == "__main__":
    unittest.main()
