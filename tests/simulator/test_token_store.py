"""Token store: the simulator drops expired access tokens, so the number it
stores (the "stored" object of GET /stats) stays bounded over thousands of
token and runReport requests, and never passes its cap of 10000."""

import http.client
import json
import os
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

LIFETIME = 2                # --token-lifetime of the first test, in seconds
PAIRS = 2000                # token + runReport request pairs
CHECK_EVERY = 250           # pairs between two reads of /stats
RETRIES = 5                 # new tokens tried when one expired before its report
TOKENS_MAX = 10000          # SIM_OAUTH_TOKENS_MAX in simulator/sim_oauth.c
REPORT = {"dateRanges": [{"startDate": "2026-11-01", "endDate": "2026-11-07"}],
          "dimensions": [{"name": "date"}], "metrics": [{"name": "sessions"}]}


def unsigned_assertion(audience):
    """Return a JWT whose signature is not checked (no --public-key)."""
    header = simlib.b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = simlib.b64url(json.dumps(simlib.service_claims(audience)).encode())
    return "%s.%s.%s" % (header, claims, simlib.b64url(b"\0" * 256))


class Client:
    """One keep-alive connection to the simulator."""

    def __init__(self, simulator):
        self.simulator = simulator
        self.connection = http.client.HTTPConnection("127.0.0.1", simulator.port, timeout=60)
        self.issued = 0

    def call(self, method, path, body, headers):
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())

    def token(self):
        form = urllib.parse.urlencode({"grant_type": simlib.JWT_BEARER,
                                       "assertion": unsigned_assertion(self.simulator.token_uri)})
        status, body = self.call("POST", "/token", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise AssertionError("token request failed: %d %s" % (status, body))
        self.issued += 1
        return body["access_token"]

    def report(self, property_id):
        """Run one report with a new token. Return the last status."""
        for _ in range(RETRIES):
            headers = {"Authorization": "Bearer " + self.token(),
                       "Content-Type": "application/json"}
            status, _ = self.call("POST", "/v1beta/properties/%s:runReport" % property_id,
                                  json.dumps(REPORT), headers)
            # A loaded machine may let a 2 s token expire before its report.
            if status != 401:
                return status
        return status

    def stored(self):
        status, body = self.call("GET", "/stats", None, {})
        if status != 200:
            raise AssertionError("GET /stats failed: %d %s" % (status, body))
        return body["stored"]["access_tokens"]

    def close(self):
        self.connection.close()


class TokenStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="simulator-tokens-")
        cls.dataset = simlib.generate_dataset(os.path.join(cls.folder, "dataset"))

    def test_expired_tokens_dropped(self):
        with simlib.Simulator(self.dataset, "--token-lifetime", str(LIFETIME),
                              "--log-level", "warning") as simulator:
            client = Client(simulator)
            self.assertEqual(client.stored(), 0)
            statuses = {}
            for number in range(PAIRS):
                status = client.report("31000000%d" % (1 + number % 5))
                statuses[status] = statuses.get(status, 0) + 1
                if (number + 1) % CHECK_EVERY == 0:
                    self.assertLessEqual(client.stored(), client.issued)
            self.assertEqual(statuses, {200: PAIRS})

            # Every token issued so far expires within LIFETIME + 1 s of
            # the real clock, and the next issue drops them all.
            time.sleep(LIFETIME + 1.5)
            client.token()
            self.assertEqual(client.stored(), 1)
            tokens_served = simulator.stats()["endpoints"]["token"]["requests"]
            self.assertEqual(tokens_served, client.issued)
            client.close()

    def test_live_tokens_capped(self):
        with simlib.Simulator(self.dataset, "--log-level", "warning") as simulator:
            client = Client(simulator)
            for _ in range(TOKENS_MAX + 50):
                client.token()
            self.assertEqual(client.stored(), TOKENS_MAX)
            client.close()


if __name__ == "__main__":
    unittest.main()
