"""The installed-application OAuth flow of the YouTube APIs: the
authorization page redirects to a loopback URI with a code, the code is
exchanged once with the PKCE verifier, refresh tokens give access tokens
bound to the user's channel, and revoked refresh tokens get invalid_grant."""

import base64
import hashlib
import http.client
import os
import secrets
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402
import ytlib  # noqa: E402

USER_CHANNEL = "UCboardplay0000000000004"
REDIRECT_URI = "http://127.0.0.1:45678/callback"
SCOPE = ytlib.ANALYTICS_SCOPE + " " + ytlib.DATA_SCOPE


def challenge_of(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class YoutubeAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        folder = tempfile.mkdtemp(prefix="simulator-youtube-auth-")
        cls.dataset = simlib.generate_dataset(os.path.join(folder, "dataset"))
        cls.simulator = simlib.Simulator(cls.dataset, "--youtube-user-channel", USER_CHANNEL,
                                         now="2026-12-02T18:00:00Z")

    @classmethod
    def tearDownClass(cls):
        status = cls.simulator.stop()
        if status != 0:
            raise AssertionError("simulator exited with %d:\n%s"
                                 % (status, cls.simulator.log_text()))

    def authorize(self, simulator=None, **overrides):
        """GET the authorization page without following the redirect.
        Returns (status, Location query as a dict or None)."""
        simulator = simulator or self.simulator
        params = {"client_id": ytlib.CLIENT_ID, "redirect_uri": REDIRECT_URI,
                  "response_type": "code", "scope": SCOPE,
                  "code_challenge": challenge_of(self.verifier),
                  "code_challenge_method": "S256", "state": "st-" + secrets.token_hex(4)}
        params.update(overrides)
        params = {key: value for key, value in params.items() if value is not None}
        connection = http.client.HTTPConnection("127.0.0.1", simulator.port, timeout=60)
        connection.request("GET", "/o/oauth2/auth?" + urllib.parse.urlencode(params))
        response = connection.getresponse()
        response.read()
        location = response.getheader("Location")
        connection.close()
        if location is None:
            return response.status, None
        self.assertTrue(location.startswith(params["redirect_uri"] + "?"), location)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        query = {key: values[0] for key, values in query.items()}
        if "state" in params:
            self.assertEqual(query.get("state"), params["state"])
        return response.status, query

    def exchange(self, code, verifier=None, redirect_uri=REDIRECT_URI,
                 client_secret=ytlib.CLIENT_SECRET):
        form = {"grant_type": "authorization_code", "code": code,
                "client_id": ytlib.CLIENT_ID, "client_secret": client_secret,
                "redirect_uri": redirect_uri}
        if verifier is not False:
            form["code_verifier"] = verifier or self.verifier
        return self.simulator.json("POST", "/token", form=form)

    def setUp(self):
        self.verifier = secrets.token_urlsafe(48)

    def test_code_flow_gives_tokens_for_the_users_channel(self):
        status, query = self.authorize()
        self.assertEqual(status, 302)
        self.assertIn("code", query)
        status, body = self.exchange(query["code"])
        self.assertEqual(status, 200, body)
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["scope"], SCOPE)
        self.assertIn("refresh_token", body)
        status, table = ytlib.report(self.simulator, body["access_token"], ids="channel==MINE",
                                     startDate="2026-11-01", endDate="2026-11-01",
                                     metrics="views")
        self.assertEqual(status, 200, table)
        self.assertEqual(self.simulator.stats()["endpoints"]["reports"]["channels"]
                         [USER_CHANNEL], 1)

    def test_code_is_single_use(self):
        _, query = self.authorize()
        status, _ = self.exchange(query["code"])
        self.assertEqual(status, 200)
        status, body = self.exchange(query["code"])
        self.assertEqual(status, 400)
        self.assertEqual(body["error"], "invalid_grant")

    def test_wrong_or_missing_verifier_rejected(self):
        _, query = self.authorize()
        status, body = self.exchange(query["code"], verifier=secrets.token_urlsafe(48))
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        status, body = self.exchange(query["code"], verifier=False)
        self.assertEqual((status, body["error"]), (400, "invalid_grant"))
        status, _ = self.exchange(query["code"])
        self.assertEqual(status, 200)

    def test_redirect_uri_must_match(self):
        _, query = self.authorize()
        status, body = self.exchange(query["code"], redirect_uri="http://127.0.0.1:45679/")
        self.assertEqual((status, body["error"]), (400, "redirect_uri_mismatch"))

    def test_client_secret_checked(self):
        _, query = self.authorize()
        status, body = self.exchange(query["code"], client_secret="wrong")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))

    def test_bad_authorization_requests(self):
        status, query = self.authorize(redirect_uri="http://example.test:8080/")
        self.assertEqual((status, query), (400, None))
        status, query = self.authorize(redirect_uri="urn:ietf:wg:oauth:2.0:oob")
        self.assertEqual((status, query), (400, None))
        status, query = self.authorize(client_id="other.apps.googleusercontent.com")
        self.assertEqual((status, query), (401, None))
        cases = [
            ({"scope": ytlib.ANALYTICS_SCOPE}, "invalid_scope"),
            ({"code_challenge_method": "plain"}, "invalid_request"),
            ({"code_challenge": None}, "invalid_request"),
            ({"response_type": "token"}, "invalid_request"),
        ]
        for overrides, error in cases:
            with self.subTest(overrides=overrides):
                status, query = self.authorize(**overrides)
                self.assertEqual(status, 302)
                self.assertEqual(query["error"], error)
                self.assertNotIn("code", query)

    def test_no_user_channel_denies_access(self):
        with simlib.Simulator(self.dataset) as simulator:
            status, query = self.authorize(simulator)
            self.assertEqual(status, 302)
            self.assertEqual(query["error"], "access_denied")

    def test_refresh_and_revoke(self):
        refresh_token = ytlib.mint_refresh_token(self.simulator, USER_CHANNEL)
        status, body = ytlib.refresh(self.simulator, refresh_token)
        self.assertEqual(status, 200, body)
        self.assertNotIn("refresh_token", body)
        access = body["access_token"]
        params = {"ids": "channel==MINE", "startDate": "2026-11-01", "endDate": "2026-11-01",
                  "metrics": "views"}
        self.assertEqual(ytlib.report(self.simulator, access, **params)[0], 200)

        status, _ = self.simulator.json("POST", "/revoke?token=" + refresh_token)
        self.assertEqual(status, 200)
        status, body = ytlib.refresh(self.simulator, refresh_token)
        self.assertEqual(status, 400)
        self.assertEqual(body, {"error": "invalid_grant", "error_description": ytlib.REVOKED})
        self.assertEqual(ytlib.report(self.simulator, access, **params)[0], 401)
        status, body = self.simulator.json("POST", "/revoke?token=" + refresh_token)
        self.assertEqual((status, body["error"]), (400, "invalid_token"))

    def test_revoking_an_access_token_revokes_its_refresh_token(self):
        refresh_token = ytlib.mint_refresh_token(self.simulator, USER_CHANNEL)
        access = ytlib.refresh(self.simulator, refresh_token)[1]["access_token"]
        status, _ = self.simulator.json("POST", "/revoke", form={"token": access})
        self.assertEqual(status, 200)
        self.assertEqual(ytlib.refresh(self.simulator, refresh_token)[0], 400)

    def test_expired_access_tokens_get_401(self):
        refresh_token = ytlib.mint_refresh_token(self.simulator, USER_CHANNEL)
        access = ytlib.refresh(self.simulator, refresh_token)[1]["access_token"]
        params = {"ids": "channel==MINE", "startDate": "2026-11-01", "endDate": "2026-11-01",
                  "metrics": "views"}
        status, _ = self.simulator.json("POST", "/sim/youtube/expire-access-tokens")
        self.assertEqual(status, 200)
        self.assertEqual(ytlib.report(self.simulator, access, **params)[0], 401)
        status, body = ytlib.refresh(self.simulator, refresh_token)
        self.assertEqual(status, 200, body)
        self.assertEqual(ytlib.report(self.simulator, body["access_token"], **params)[0], 200)

    def test_unknown_refresh_token_rejected(self):
        status, body = ytlib.refresh(self.simulator, "1//sim.unknown")
        self.assertEqual(status, 400)
        self.assertEqual(body["error_description"], ytlib.REVOKED)
        status, body = ytlib.refresh(self.simulator,
                                     ytlib.mint_refresh_token(self.simulator, USER_CHANNEL),
                                     client_secret="wrong")
        self.assertEqual((status, body["error"]), (401, "invalid_client"))


if __name__ == "__main__":
    unittest.main()
