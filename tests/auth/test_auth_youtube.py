"""`statsdash auth youtube` against the simulator: the test plays the browser
by following the printed authorization URL with curl, the simulator
redirects to the command's loopback listener, and the command stores a
refresh token (mode 0600) that works at the simulator. Bad secret file
modes, a wrong state, a denied authorization and a missing browser end
with a clear error."""

import json
import os
import stat
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "simulator"))
import simlib  # noqa: E402
import ytlib  # noqa: E402

STATSDASH = os.environ.get("STATSDASH", "")
CHANNEL = "RetroTech Clips"
CHANNEL_ID = "UCretrotech0000000000003"
PROCESS_TIMEOUT = 60


class AuthYoutubeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="auth-youtube-")
        cls.dataset = simlib.generate_dataset(os.path.join(cls.folder, "dataset"))
        cls.facts = ytlib.load_facts(cls.dataset)
        cls.simulator = simlib.Simulator(cls.dataset, "--youtube-user-channel", CHANNEL_ID,
                                         now="2026-12-02T18:00:00Z")

    @classmethod
    def tearDownClass(cls):
        status = cls.simulator.stop()
        if status != 0:
            raise AssertionError("simulator exited with %d:\n%s"
                                 % (status, cls.simulator.log_text()))

    def setUp(self):
        self.work = tempfile.mkdtemp(dir=self.folder)
        self.token_file = os.path.join(self.work, "retrotech.token")
        self.client_file = self.write_client_secret(0o600)
        self.config = self.write_config(self.simulator)

    def write_client_secret(self, mode):
        path = os.path.join(self.work, "client_secret.json")
        with open(path, "w") as handle:
            json.dump({"installed": {
                "client_id": ytlib.CLIENT_ID, "client_secret": ytlib.CLIENT_SECRET,
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": "https://oauth2.googleapis.com/token",
                "redirect_uris": ["http://localhost"]}}, handle)
        os.chmod(path, mode)
        return path

    def write_config(self, simulator):
        path = os.path.join(self.work, "statsdash.json")
        with open(path, "w") as handle:
            json.dump({"youtube": {
                "analytics_api_base": simulator.base, "data_api_base": simulator.base +
                "/youtube/v3", "token_uri": simulator.token_uri,
                "auth_uri": simulator.base + "/o/oauth2/auth",
                "client_secret_file": self.client_file,
                "channels": {CHANNEL: [{"id": CHANNEL_ID,
                                        "refresh_token_file": self.token_file}]}}}, handle)
        return path

    def write_owner_config(self, owner_file):
        """Rewrite the config for content-owner mode: the channel ids have
        no token files and the token goes to owner_refresh_token_file."""
        with open(self.config) as handle:
            config = json.load(handle)
        youtube = config["youtube"]
        youtube["content_owner"] = ytlib.CONTENT_OWNER
        youtube["owner_refresh_token_file"] = owner_file
        youtube["channels"] = {CHANNEL: [{"id": CHANNEL_ID}]}
        with open(self.config, "w") as handle:
            json.dump(config, handle)

    def start(self, *options):
        return subprocess.Popen([STATSDASH, "auth", "youtube", "-c", self.config, *options],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def read_url(self, process):
        """Return the authorization URL the command prints."""
        for line in process.stdout:
            if line.startswith("http://"):
                return line.strip()
        process.wait(timeout=PROCESS_TIMEOUT)
        self.fail("no URL printed; stderr: %s" % process.stderr.read())

    def browse(self, url):
        """Follow url with curl like a browser. Returns curl's output."""
        result = subprocess.run(["curl", "-sS", "-L", "--max-redirs", "3", "--max-time", "30",
                                 url], capture_output=True, text=True, timeout=PROCESS_TIMEOUT)
        return result.stdout + result.stderr

    def finish(self, process):
        """Return (exit status, stdout rest, stderr) of the command."""
        out, err = process.communicate(timeout=PROCESS_TIMEOUT)
        return process.returncode, out, err

    def test_loopback_flow_stores_a_working_token(self):
        process = self.start("--channel", CHANNEL)
        url = self.read_url(process)
        self.assertTrue(url.startswith(self.simulator.base + "/o/oauth2/auth?"), url)
        self.assertIn("code_challenge_method=S256", url)
        self.assertIn("redirect_uri=http%3A%2F%2F127.0.0.1%3A", url)
        self.assertIn("Authorization received", self.browse(url))
        status, out, err = self.finish(process)
        self.assertEqual(status, 0, err)
        self.assertIn(self.token_file, out)

        mode = stat.S_IMODE(os.stat(self.token_file).st_mode)
        self.assertEqual(mode, 0o600)
        with open(self.token_file) as handle:
            token = handle.read()
        self.assertTrue(token.endswith("\n"))
        self.assertNotIn(token.strip(), out + err)
        status, body = ytlib.refresh(self.simulator, token.strip())
        self.assertEqual(status, 200, body)
        status, table = ytlib.report(self.simulator, body["access_token"], ids="channel==MINE",
                                     startDate="2026-11-01", endDate="2026-11-01",
                                     metrics="views")
        self.assertEqual(status, 200, table)
        expected = ytlib.sums(self.facts, {CHANNEL_ID}, "2026-11-01", "2026-11-01", [],
                              ["views"])
        self.assertEqual(table["rows"], [expected[()]])

    def test_token_file_option_and_only_channel(self):
        other = os.path.join(self.work, "other.token")
        process = self.start("--token-file", other)
        self.browse(self.read_url(process))
        status, _, err = self.finish(process)
        self.assertEqual(status, 0, err)
        self.assertEqual(stat.S_IMODE(os.stat(other).st_mode), 0o600)
        self.assertFalse(os.path.exists(self.token_file))

    def test_owner_token_goes_to_owner_file(self):
        owner_file = os.path.join(self.work, "owner.token")
        self.write_owner_config(owner_file)
        for options in (("--owner",), ()):
            with self.subTest(options=options):
                if os.path.exists(owner_file):
                    os.unlink(owner_file)
                process = self.start(*options)
                self.browse(self.read_url(process))
                status, out, err = self.finish(process)
                self.assertEqual(status, 0, err)
                self.assertIn(owner_file, out)
                self.assertEqual(stat.S_IMODE(os.stat(owner_file).st_mode), 0o600)
        status, _, err = self.finish(self.start("--owner", "--channel", CHANNEL))
        self.assertEqual(status, 2, err)

    def test_wrong_state_is_ignored(self):
        process = self.start("--channel", CHANNEL)
        url = self.read_url(process)
        port = url.split("redirect_uri=http%3A%2F%2F127.0.0.1%3A")[1].split("%2F")[0]
        stray = "http://127.0.0.1:%s/?code=forged&state=wrong" % port
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(stray, timeout=30)
        self.assertEqual(raised.exception.code, 400)
        self.assertIn("Authorization received", self.browse(url))
        status, _, err = self.finish(process)
        self.assertEqual(status, 0, err)

    def test_group_readable_client_secret_rejected(self):
        os.chmod(self.client_file, 0o640)
        status, out, err = self.finish(self.start("--channel", CHANNEL))
        self.assertEqual(status, 1)
        self.assertIn("chmod 600", err)
        self.assertNotIn("http://", out)

    def test_unknown_channel_rejected(self):
        status, _, err = self.finish(self.start("--channel", "No Such Channel"))
        self.assertEqual(status, 1)
        self.assertIn("No Such Channel", err)

    def test_denied_authorization_fails(self):
        with simlib.Simulator(self.dataset) as simulator:
            self.config = self.write_config(simulator)
            process = self.start("--channel", CHANNEL)
            self.browse(self.read_url(process))
            status, _, err = self.finish(process)
        self.assertEqual(status, 1)
        self.assertIn("access_denied", err)
        self.assertFalse(os.path.exists(self.token_file))

    def test_no_browser_times_out(self):
        process = self.start("--channel", CHANNEL, "--timeout", "2")
        self.read_url(process)
        status, _, err = self.finish(process)
        self.assertEqual(status, 1)
        self.assertIn("no authorization arrived", err)


if __name__ == "__main__":
    unittest.main()
