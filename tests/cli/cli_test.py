"""Tests of the `statsdash` command line.

Usage: cli_test.py STATSDASH GROUP, where GROUP is help, options,
request_checks or request_broker. The broker tests run a fake MDP broker
(a ROUTER socket on loopback) so that each reply is under the test's control.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

import zmq

STATSDASH = sys.argv[1]
GROUP = sys.argv[2]

# A process that waited for the whole --timeout (120 s) instead of failing
# fast hits this limit, so the tests need no timing asserts.
RUN_LIMIT_S = 60

REQUEST_ARGS = ["--report", "ga-core", "--sites", "all", "--frequency", "DAILY",
                "--date", "2026-11-01"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args, env=None):
    full_env = dict(os.environ)
    full_env.pop("STATSDASH_NOW", None)
    full_env.update(env or {})
    return subprocess.run([STATSDASH, *args], capture_output=True, text=True,
                          timeout=RUN_LIMIT_S, env=full_env)


class ConfigFolder:
    """A temporary folder that writes config files."""

    def __init__(self):
        self.folder = tempfile.TemporaryDirectory(prefix="sd-cli-")

    def write(self, config, name="config.json"):
        path = os.path.join(self.folder.name, name)
        with open(path, "w", encoding="utf-8") as file:
            json.dump(config, file)
        return path

    def cleanup(self):
        self.folder.cleanup()


def base_config(endpoint=None, timezone="UTC"):
    return {
        "broker": {"endpoint": endpoint or "tcp://127.0.0.1:%d" % free_port(),
                   "heartbeat_ms": 200, "liveness": 2},
        "ga": {"sites": {"one.example": [{"property": "310000001"}],
                         "two.example": [{"property": "310000002"}]}},
        "youtube": {"channels": {"GamesNews TV": [{"id": "UCgamesnews0000000000001",
                                                   "refresh_token_file": "/tmp/none"}]}},
        "scheduler": {"timezone": timezone},
    }


class HelpTest(unittest.TestCase):
    def test_top_level_statuses_per_command(self):
        result = run("--help")
        self.assertEqual(result.returncode, 0)
        text = result.stdout
        status_part = text[text.index("Exit status"):]
        self.assertIn("request                0 complete report, 2 report delivered with "
                      "missing data,", status_part)
        self.assertIn("1 error (no report), usage errors included", status_part)
        for command in ("status", "config check", "auth youtube", "keygen"):
            line = next(line for line in status_part.splitlines()
                        if line.strip().startswith(command))
            self.assertIn("2 usage error", line, line)
        self.assertNotIn("2 usage error", next(line for line in status_part.splitlines()
                                                if line.strip().startswith("request")))

    def test_request_help_statuses(self):
        result = run("request", "--help")
        self.assertEqual(result.returncode, 0)
        text = " ".join(result.stdout[result.stdout.index("Exit status"):].split())
        self.assertIn("0 complete report", text)
        self.assertIn("2 report delivered with missing data", text)
        self.assertIn("1 error: no report, usage errors included", text)
        self.assertIn("-v, --verbose", result.stdout)

    def test_each_command_help_has_statuses(self):
        for args in (["status"], ["config", "check"], ["auth"], ["keygen"]):
            with self.subTest(command=args):
                result = run(*args, "--help")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("Exit status", result.stdout)


class OptionsTest(unittest.TestCase):
    def setUp(self):
        self.configs = ConfigFolder()
        self.config = self.configs.write(base_config())

    def tearDown(self):
        self.configs.cleanup()

    # Each command: its arguments before the options under test, its name in
    # messages, and its exit status for a usage error.
    COMMANDS = [
        (["request"], "request", 1),
        (["status"], "status", 2),
        (["config", "check"], "config check", 2),
        (["auth", "youtube"], "auth", 2),
        (["keygen"], "keygen", 2),
    ]

    def assert_one_line(self, result, prefix, *words):
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith(prefix), lines[0])
        for word in words:
            self.assertIn(word, lines[0])

    def test_unknown_long_option(self):
        for args, name, status in self.COMMANDS:
            with self.subTest(command=name):
                result = run(*args, "--bogus=1")
                self.assertEqual(result.returncode, status)
                self.assert_one_line(result, "statsdash %s: " % name, "unknown option --bogus;")

    def test_unknown_short_option(self):
        for args, name, status in self.COMMANDS:
            with self.subTest(command=name):
                result = run(*args, "-x")
                self.assertEqual(result.returncode, status)
                self.assert_one_line(result, "statsdash %s: " % name, "unknown option -x;")

    def test_option_without_value(self):
        result = run("request", "-c", self.config, "--report")
        self.assertEqual(result.returncode, 1)
        self.assert_one_line(result, "statsdash request: ", "option --report needs a value")
        result = run("status", "-c")
        self.assertEqual(result.returncode, 2)
        self.assert_one_line(result, "statsdash status: ", "option -c needs a value")

    def test_missing_config(self):
        cases = [
            (["request", *REQUEST_ARGS], "request", 1),
            (["status"], "status", 2),
            (["config", "check"], "config check", 2),
            (["auth", "youtube"], "auth", 2),
        ]
        for args, name, status in cases:
            with self.subTest(command=name):
                result = run(*args)
                self.assertEqual(result.returncode, status)
                self.assertEqual(result.stdout, "")
                self.assert_one_line(result, "statsdash %s: " % name, "missing option -c FILE")

    def test_unexpected_argument(self):
        for args, name, status in self.COMMANDS[:4]:
            with self.subTest(command=name):
                result = run(*args, "-c", self.config, "extra")
                self.assertEqual(result.returncode, status)
                self.assert_one_line(result, "statsdash %s: " % name, "\"extra\"")


class RequestChecksTest(unittest.TestCase):
    """Checks made before the broker is contacted. No broker listens at the
    config's endpoint, so a request that passes them ends at the probe."""

    def setUp(self):
        self.configs = ConfigFolder()
        self.config = self.configs.write(base_config())

    def tearDown(self):
        self.configs.cleanup()

    def request(self, *args, env=None, config=None):
        return run("request", "-c", config or self.config, "--timeout", "1", *args, env=env)

    def test_unknown_ga_site(self):
        result = self.request("--report", "ga-social", "--sites", "one.example,nosuch.example",
                              "--frequency", "DAILY", "--date", "2026-11-01")
        self.assertEqual(result.returncode, 1)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("unknown site \"nosuch.example\"", lines[0])
        self.assertIn("one.example, two.example", lines[0])
        self.assertIn(self.config, lines[0])

    def test_unknown_youtube_channel(self):
        # A GA site name is not a channel name.
        result = self.request("--report", "youtube", "--sites", "one.example",
                              "--frequency", "MONTHLY", "--date", "2026-10-31")
        self.assertEqual(result.returncode, 1)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("unknown channel \"one.example\"", lines[0])
        self.assertIn("youtube.channels", lines[0])
        self.assertIn("GamesNews TV", lines[0])

    def test_control_character_in_sites(self):
        result = self.request("--report", "ga-core", "--sites", "one.example,\ttwo",
                              "--frequency", "DAILY", "--date", "2026-11-01")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn("invalid --sites", result.stderr)

    def test_known_names_reach_the_broker(self):
        for report, sites in (("ga-core", "two.example,one.example"),
                              ("youtube", "GamesNews TV"), ("ga-core", "all")):
            with self.subTest(report=report, sites=sites):
                result = self.request("--report", report, "--sites", sites, "--frequency",
                                      "DAILY", "--date", "2026-11-01")
                self.assertEqual(result.returncode, 1)
                self.assertNotIn("unknown", result.stderr)
                self.assertIn("is statsdash-broker running?", result.stderr)

    def period_warnings(self, frequency, date, now, config=None):
        result = self.request("--report", "ga-core", "--sites", "all", "--frequency", frequency,
                              "--date", date, env={"STATSDASH_NOW": now}, config=config)
        # The request goes on after the warning, to the probe.
        self.assertIn("is statsdash-broker running?", result.stderr)
        return [line for line in result.stderr.splitlines() if "not over yet" in line]

    def test_open_period_warns(self):
        cases = [
            # frequency, date, now, end of the period or None when it is over
            ("DAILY", "2026-12-02", "2026-12-02T10:00:00Z", "2026-12-02"),
            ("DAILY", "2026-12-05", "2026-12-02T10:00:00Z", "2026-12-05"),
            ("DAILY", "2026-12-01", "2026-12-02T00:00:00Z", None),
            ("WEEKLY", "2026-11-29", "2026-11-30T00:00:01Z", None),
            ("MONTHLY", "2026-11-15", "2026-11-20T12:00:00Z", "2026-11-30"),
            ("MONTHLY", "2026-10-31", "2026-11-20T12:00:00Z", None),
        ]
        for frequency, date, now, end in cases:
            with self.subTest(frequency=frequency, date=date, now=now):
                warnings = self.period_warnings(frequency, date, now)
                if end is None:
                    self.assertEqual(warnings, [])
                    continue
                self.assertEqual(len(warnings), 1)
                self.assertEqual(warnings[0],
                                 "statsdash request: warning: the period ends on %s, which is "
                                 "not over yet; its data is incomplete" % end)

    def test_open_period_uses_scheduler_timezone(self):
        # At 20:00 UTC on 1 December it is already 2 December in Tokyo (UTC+9).
        tokyo = self.configs.write(base_config(timezone="Asia/Tokyo"), "tokyo.json")
        now = "2026-12-01T20:00:00Z"
        self.assertEqual(self.period_warnings("DAILY", "2026-12-01", now, config=tokyo), [])
        self.assertEqual(len(self.period_warnings("DAILY", "2026-12-01", now)), 1)


class FakeBroker:
    """A ROUTER socket that answers MDP client requests: mmi.service with
    service_code, and nothing else. It records the services requested."""

    def __init__(self, service_code):
        self.context = zmq.Context()
        self.router = self.context.socket(zmq.ROUTER)
        self.router.linger = 0
        self.router.bind("tcp://127.0.0.1:*")
        self.endpoint = self.router.getsockopt_string(zmq.LAST_ENDPOINT)
        self.service_code = service_code
        self.requests = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            if not self.router.poll(100):
                continue
            frames = self.router.recv_multipart()
            identity, body = frames[0], frames[1:]
            if len(body) < 4 or body[0] != b"" or body[1] != b"MDPC01":
                continue
            service, payload = body[2], body[3]
            self.requests.append((service, payload))
            # Only the probe for "report" is answered: the client's own
            # silence probes ("mmi.service" for "mmi.service") are not.
            if service == b"mmi.service" and payload == b"report":
                self.router.send_multipart([identity, b"", b"MDPC01", b"mmi.service",
                                            self.service_code])

    def close(self):
        self.stop.set()
        self.thread.join()
        self.router.close()
        self.context.term()


class RequestBrokerTest(unittest.TestCase):
    def setUp(self):
        self.configs = ConfigFolder()

    def tearDown(self):
        self.configs.cleanup()

    def test_no_broker(self):
        config = base_config()
        path = self.configs.write(config)
        result = run("request", "-c", path, *REQUEST_ARGS)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertEqual(result.stderr.splitlines(), [
            "statsdash request: no reply from the broker at %s within 3 s; is statsdash-broker "
            "running? check broker.endpoint in %s" % (config["broker"]["endpoint"], path)])

    def test_probe_waits_less_than_timeout(self):
        config = base_config()
        path = self.configs.write(config)
        result = run("request", "-c", path, "--timeout", "1", *REQUEST_ARGS)
        self.assertEqual(result.returncode, 1)
        self.assertIn("within 1 s;", result.stderr)

    def test_no_reporter(self):
        broker = FakeBroker(b"404")
        try:
            path = self.configs.write(base_config(endpoint=broker.endpoint))
            result = run("request", "-c", path, *REQUEST_ARGS)
        finally:
            broker.close()
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.splitlines(), [
            "statsdash request: no statsdash-reporter is registered with the broker at %s; "
            "start statsdash-reporter" % broker.endpoint])
        services = {service for service, _ in broker.requests}
        self.assertEqual(services, {b"mmi.service"})

    def test_timeout_names_total_wait(self):
        # The broker says a reporter is there but never replies to the report
        # request, and falls silent, so the client reconnects and resends.
        broker = FakeBroker(b"200")
        try:
            path = self.configs.write(base_config(endpoint=broker.endpoint))
            quiet = run("request", "-c", path, "--timeout", "1", *REQUEST_ARGS)
            verbose = run("request", "-c", path, "--timeout", "1", "-v", *REQUEST_ARGS)
        finally:
            broker.close()
        self.assertEqual(quiet.returncode, 1)
        self.assertEqual(quiet.stderr.splitlines(), [
            "statsdash request: no reply from the broker at %s within 4 s (--timeout 1 s plus "
            "3 s of grace); raise --timeout if the report needs longer, or run with -v for "
            "details" % broker.endpoint])
        self.assertIn(b"report", {service for service, _ in broker.requests})
        self.assertEqual(verbose.returncode, 1)
        self.assertIn("broker lost", verbose.stderr)
        self.assertIn("within 4 s", verbose.stderr)


GROUPS = {"help": HelpTest, "options": OptionsTest, "request_checks": RequestChecksTest,
          "request_broker": RequestBrokerTest}

if __name__ == "__main__":
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(GROUPS[GROUP])
    outcome = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if outcome.wasSuccessful() else 1)
