"""Token endpoint: a valid service-account JWT gets a bearer token. Bad
signatures, wrong audiences, stale or long-lived assertions and other grant
types get Google's error shapes."""

import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402


class TokenEndpointTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="simulator-oauth-")
        dataset = simlib.generate_dataset(os.path.join(cls.folder, "dataset"))
        cls.private, cls.public = simlib.make_key(cls.folder)
        cls.other_private, _ = simlib.make_key(cls.folder, "other")
        cls.simulator = simlib.Simulator(dataset, public_key=cls.public)

    @classmethod
    def tearDownClass(cls):
        status = cls.simulator.stop()
        if status != 0:
            raise AssertionError("simulator exited with %d:\n%s"
                                 % (status, cls.simulator.log_text()))

    def assert_grant_error(self, status, body, error="invalid_grant"):
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"], error)
        self.assertIsInstance(body["error_description"], str)
        self.assertEqual(set(body), {"error", "error_description"})

    def test_valid_assertion_gets_token(self):
        claims = simlib.service_claims(self.simulator.token_uri)
        status, body = self.simulator.token(simlib.sign_jwt(self.private, claims))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 3599)
        self.assertGreater(len(body["access_token"]), 20)

    def test_tokens_differ(self):
        first = self.simulator.access_token(self.private)
        second = self.simulator.access_token(self.private)
        self.assertNotEqual(first, second)

    def test_other_key_signature_rejected(self):
        claims = simlib.service_claims(self.simulator.token_uri)
        status, body = self.simulator.token(simlib.sign_jwt(self.other_private, claims))
        self.assert_grant_error(status, body)
        self.assertEqual(body["error_description"], "Invalid JWT Signature.")

    def test_tampered_claims_rejected(self):
        token = simlib.sign_jwt(self.private, simlib.service_claims(self.simulator.token_uri))
        header, _, signature = token.split(".")
        forged = simlib.service_claims(self.simulator.token_uri, scope="https://example.test/all")
        payload = simlib.b64url(json.dumps(forged).encode())
        status, body = self.simulator.token("%s.%s.%s" % (header, payload, signature))
        self.assert_grant_error(status, body)
        self.assertEqual(body["error_description"], "Invalid JWT Signature.")

    def test_wrong_audience_rejected(self):
        claims = simlib.service_claims("https://oauth2.googleapis.com/token")
        status, body = self.simulator.token(simlib.sign_jwt(self.private, claims))
        self.assert_grant_error(status, body)
        self.assertIn("audience", body["error_description"])

    def test_expired_assertion_rejected(self):
        claims = simlib.service_claims(self.simulator.token_uri,
                                       issued=int(time.time()) - 7200)
        status, body = self.simulator.token(simlib.sign_jwt(self.private, claims))
        self.assert_grant_error(status, body)
        self.assertIn("iat and exp", body["error_description"])

    def test_assertion_over_an_hour_rejected(self):
        claims = simlib.service_claims(self.simulator.token_uri, lifetime=7200)
        status, body = self.simulator.token(simlib.sign_jwt(self.private, claims))
        self.assert_grant_error(status, body)
        self.assertIn("iat and exp", body["error_description"])

    def test_future_iat_rejected(self):
        claims = simlib.service_claims(self.simulator.token_uri,
                                       issued=int(time.time()) + 1800)
        status, body = self.simulator.token(simlib.sign_jwt(self.private, claims))
        self.assert_grant_error(status, body)

    def test_other_algorithm_rejected(self):
        claims = simlib.service_claims(self.simulator.token_uri)
        token = simlib.sign_jwt(self.private, claims, header={"alg": "HS256", "typ": "JWT"})
        status, body = self.simulator.token(token)
        self.assert_grant_error(status, body)

    def test_malformed_assertion_rejected(self):
        status, body = self.simulator.token("not-a-jwt")
        self.assert_grant_error(status, body)

    def test_missing_scope_rejected(self):
        claims = simlib.service_claims(self.simulator.token_uri)
        del claims["scope"]
        status, body = self.simulator.token(simlib.sign_jwt(self.private, claims))
        self.assert_grant_error(status, body, "invalid_scope")

    def test_other_grant_type_rejected(self):
        status, body = self.simulator.json(
            "POST", "/token", form={"grant_type": "client_credentials"})
        self.assert_grant_error(status, body, "unsupported_grant_type")

    def test_missing_assertion_rejected(self):
        status, body = self.simulator.json("POST", "/token",
                                           form={"grant_type": simlib.JWT_BEARER})
        self.assert_grant_error(status, body, "invalid_request")

    def test_token_requests_counted(self):
        before = self.simulator.stats()["endpoints"].get("token", {}).get("requests", 0)
        self.simulator.token("not-a-jwt")
        after = self.simulator.stats()["endpoints"]["token"]
        self.assertEqual(after["requests"], before + 1)


if __name__ == "__main__":
    unittest.main()
