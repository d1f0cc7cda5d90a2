#!/usr/bin/python3
"""statsdash-worker-ga against the real simulator and broker, as processes.

Each test class starts statsdash-simulator (with the fault, quota or key
options it needs), statsdash-broker and statsdash-worker-ga over a dataset
from scripts/generate-dataset. The test is an MDP/0.1 client of service
"ga" and reads table.raw parts from the table bus. Sums are computed from
the dataset's CSV here; request counts come from the simulator's /stats.

The cache tests send the worker's Data API requests through a recording
proxy on 127.0.0.1 (RecordingProxy), so they can check which dateRanges
each report asked for.

Every fault test passes --seed, so it repeats. STATSDASH_RETRY_BASE_MS
makes the worker's backoff start at 20 ms; Retry-After (1 s from the
simulator) is still honoured.

Usage: worker_ga_stack.py GROUP, with the environment SIMULATOR, BROKER,
WORKER and GENERATOR naming the executables. GROUP is one of: faults,
cache, quota, auth, availability.
"""

import csv
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

import msgpack
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "simulator"))
import simlib  # noqa: E402

BROKER = os.environ.get("BROKER", "")
WORKER = os.environ.get("WORKER", "")
NOW = "2026-12-02T18:00:00Z"
METRICS = ["screenPageViews", "totalUsers", "sessions", "userEngagementDuration"]
REPLY_TIMEOUT_S = 60
PART_TIMEOUT_S = 15
STOP_TIMEOUT_S = 30

# October 2026 and the months around it ended more than 3 days before NOW,
# so their rows are cached. In RECENT_PERIODS only the current week, which
# ends 2026-12-01, less than 3 days before NOW, is fetched every time.
CLOSED_PERIODS = [("current", "2026-10-01", "2026-10-31"),
                  ("previous", "2026-09-01", "2026-09-30"),
                  ("yearly", "2025-10-01", "2025-10-31")]
RECENT_PERIODS = [("current", "2026-11-25", "2026-12-01"),
                  ("previous", "2026-11-18", "2026-11-24"),
                  ("yearly", "2025-11-25", "2025-12-01")]
# A WOW_DAILY report of 2026-12-01: the day itself is open (it ended less
# than 3 days before NOW), the same weekday a week and a year before are
# closed.
WOW_DAILY_PERIODS = [("current", "2026-12-01", "2026-12-01"),
                     ("previous", "2026-11-24", "2026-11-24"),
                     ("yearly", "2025-12-02", "2025-12-02")]
# 310000002 has data in only some hours of a day, so it cannot hold up the
# data check of several sites.
SITES = {
    "gamesnews.example": [{"property": "310000001"},
                          {"property": "310000002", "wait_for_data": False}],
    "retrotech.example": [{"property": "310000003"}],
    "mobile.example": [{"property": "310000004"},
                       {"property": "310000005", "wait_for_data": False}],
    "broken.example": [{"property": "310000099"}],
}

_shared = {}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shared_setup():
    """Generate the dataset and the keys once for every test class."""
    if not _shared:
        folder = tempfile.mkdtemp(prefix="worker-ga-stack-")
        _shared["folder"] = folder
        _shared["dataset"] = simlib.generate_dataset(os.path.join(folder, "dataset"))
        _shared["private"], _shared["public"] = simlib.make_key(folder)
        _shared["other_private"], _shared["other_public"] = simlib.make_key(folder, "other")
    return _shared


def csv_value(row, name):
    if name == "sessionSourceMedium":
        return "%s / %s" % (row["sessionSource"], row["sessionMedium"])
    return row[name]


def csv_sums(properties, start, end, dimensions, keep=lambda row: True):
    """Return {row key: [sums of METRICS]} straight from the CSV, over the
    rows that keep accepts."""
    start, end = start.replace("-", ""), end.replace("-", "")
    sums = {}
    path = os.path.join(_shared["dataset"], "ga4-facts.csv")
    with open(path, newline="", encoding="utf-8") as facts:
        for row in csv.DictReader(facts):
            if row["property"] in properties and start <= row["date"] <= end and keep(row):
                key = "\x1f".join(csv_value(row, name) for name in dimensions)
                values = sums.setdefault(key, [0] * len(METRICS))
                for position, metric in enumerate(METRICS):
                    values[position] += int(row[metric])
    return sums


def query(query_id, dimensions=(), params="{}", periods=CLOSED_PERIODS, limit=0):
    return {"id": query_id, "table_id": query_id, "expected_parts": len(periods),
            "spec": {"keys": list(dimensions), "sum": ["screenPageViews"], "derived": [],
                     "sort": [], "limit": 0, "compare": [], "rules": []},
            "api": "ga4.runReport", "metrics": METRICS, "dimensions": list(dimensions),
            "params_json": params, "limit": limit,
            "periods": [{"label": label, "start": start, "end": end}
                        for label, start, end in periods]}


class RecordingProxy:
    """An HTTP server on 127.0.0.1 that forwards every request to target and
    records the dateRange names of each report a Data API request asked
    for: one list per runReport, one per item of a batchRunReports."""

    def __init__(self, target):
        self.reports = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy.record(self.path, body)
                request = urllib.request.Request(target + self.path, data=body, method="POST")
                for name in ("Authorization", "Content-Type", "Accept"):
                    if self.headers.get(name):
                        request.add_header(name, self.headers[name])
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        status, headers, reply = response.status, response.headers, response.read()
                except urllib.error.HTTPError as error:
                    status, headers, reply = error.code, error.headers, error.read()
                self.send_response(status)
                for name in ("Content-Type", "Retry-After"):
                    if headers.get(name):
                        self.send_header(name, headers[name])
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, path, body):
        try:
            request = json.loads(body)
        except ValueError:
            return
        items = request.get("requests", []) if path.endswith(":batchRunReports") else [request]
        with self.lock:
            for item in items:
                self.reports.append([r.get("name") for r in item.get("dateRanges", [])])

    def take(self):
        """Return the reports recorded since the last call."""
        with self.lock:
            reports, self.reports = self.reports, []
        return reports

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Stack:
    """Simulator, broker and worker as processes, plus an MDP client and a
    bus subscriber. stop() checks that the worker exits 0 after SIGTERM,
    which under AddressSanitizer also means it leaked nothing."""

    def __init__(self, *simulator_options, public_key=None, cache=True, proxy=False):
        shared = shared_setup()
        self.folder = tempfile.mkdtemp(prefix="stack-", dir=shared["folder"])
        self.simulator = simlib.Simulator(shared["dataset"], "--seed", "5",
                                          *simulator_options,
                                          public_key=public_key or shared["public"], now=NOW)
        self.proxy = RecordingProxy(self.simulator.base) if proxy else None
        self.cache_path = os.path.join(self.folder, "cache.sqlite") if cache else ""
        self.config = self.write_config(shared["private"])
        self.logs = []
        self.broker = self.spawn("broker", BROKER)
        self.worker = self.spawn("worker", WORKER)
        self.context = zmq.Context()
        self.client = self.context.socket(zmq.DEALER)
        self.client.setsockopt(zmq.LINGER, 0)
        self.client.connect(self.endpoint)
        self.bus = self.context.socket(zmq.SUB)
        self.bus.setsockopt(zmq.LINGER, 0)
        self.bus.setsockopt(zmq.SUBSCRIBE, b"raw.")
        self.bus.connect(self.bus_subscribe)
        self.jobs = 0
        self.wait_bus_ready()

    def write_config(self, private_key):
        self.endpoint = "tcp://127.0.0.1:%d" % free_port()
        self.bus_publish = "tcp://127.0.0.1:%d" % free_port()
        self.bus_subscribe = "tcp://127.0.0.1:%d" % free_port()
        with open(private_key) as handle:
            pem = handle.read()
        key_file = os.path.join(self.folder, "service-account.json")
        key = {"type": "service_account", "private_key_id": "stack-key", "private_key": pem,
               "client_email": "worker@statsdash-test.iam.gserviceaccount.com",
               "token_uri": self.simulator.token_uri}
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(key, handle)
        config = {
            "broker": {"endpoint": self.endpoint, "bus_publish": self.bus_publish,
                       "bus_subscribe": self.bus_subscribe, "heartbeat_ms": 1000},
            "ga": {"api_base": self.proxy.base if self.proxy else self.simulator.base,
                   "token_uri": self.simulator.token_uri,
                   "key_file": key_file, "max_in_flight": 2, "page_size": 10000,
                   "cache": {"path": self.cache_path, "max_bytes": 64 * 1024 * 1024},
                   "sites": SITES},
            "log": {"level": "debug"},
        }
        path = os.path.join(self.folder, "statsdash.json")
        with open(path, "w") as handle:
            json.dump(config, handle)
        return path

    def spawn(self, name, executable):
        environment = dict(os.environ, STATSDASH_NOW=NOW, STATSDASH_RETRY_BASE_MS="20")
        log = open(os.path.join(self.folder, name + ".log"), "a")
        self.logs.append(log)
        return subprocess.Popen([executable, "-c", self.config], stdout=log, stderr=log,
                                env=environment, preexec_fn=simlib.stop_with_parent)

    def log_text(self, name):
        with open(os.path.join(self.folder, name + ".log"), errors="replace") as handle:
            return handle.read()

    def restart_worker(self):
        assert self.stop_process(self.worker) == 0, self.log_text("worker")
        self.worker = self.spawn("worker", WORKER)
        self.wait_bus_ready()

    def wait_bus_ready(self):
        """Run probe jobs until their parts arrive: the bus drops messages
        until the subscription has reached the worker through the proxy."""
        for attempt in range(20):
            if self.worker.poll() is not None:
                raise RuntimeError("worker exited at start:\n" + self.log_text("worker"))
            job_id = self.next_job_id("probe")
            reply = self.fetch(job_id, "retrotech.example",
                               [query("probe", periods=RECENT_PERIODS)])
            assert reply["type"] == "fetch.reply", reply
            if len(self.parts(job_id, 3, timeout=2)) == 3:
                return
        raise RuntimeError("no part arrived on the bus")

    def next_job_id(self, name):
        self.jobs += 1
        return "%s-%d" % (name, self.jobs)

    def request(self, message):
        self.client.send_multipart([b"", b"MDPC01", b"ga",
                                    msgpack.packb(message, use_bin_type=True)])
        if not self.client.poll(REPLY_TIMEOUT_S * 1000):
            raise AssertionError("no reply within %d s" % REPLY_TIMEOUT_S)
        frames = self.client.recv_multipart()
        assert frames[:3] == [b"", b"MDPC01", b"ga"], frames[:3]
        return msgpack.unpackb(frames[3], raw=False)

    def fetch(self, job_id, site, queries):
        return self.request({
            "v": 2, "type": "fetch.request", "job_id": job_id, "request_id": "request-stack",
            "reporter_id": "r1", "service": "ga", "site": site,
            "deadline_ms": int(time.time() * 1000) + 50000, "queries": queries})

    def availability(self, sites, date):
        return self.request({
            "v": 2, "type": "availability.request", "id": "availability-" + date,
            "service": "ga", "sites": sites, "date": date,
            "deadline_ms": int(time.time() * 1000) + 50000})

    def parts(self, job_id, count, timeout=PART_TIMEOUT_S):
        """Return {(table_id, period label): part} for count parts of job_id."""
        found = {}
        deadline = time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            if not self.bus.poll(100):
                continue
            topic, body = self.bus.recv_multipart()
            part = msgpack.unpackb(body, raw=False)
            if part["job_id"] == job_id:
                found[(part["table_id"], part["period"]["label"])] = part
        return found

    def api_requests(self):
        """Return (runReport, batchRunReports) request counts so far."""
        endpoints = self.simulator.stats()["endpoints"]
        return tuple(endpoints.get(name, {}).get("requests", 0)
                     for name in ("runReport", "batchRunReports"))

    @staticmethod
    def stop_process(process):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def stop(self):
        self.client.close()
        self.bus.close()
        self.context.term()
        worker_status = self.stop_process(self.worker)
        self.stop_process(self.broker)
        if self.proxy:
            self.proxy.stop()
        simulator_status = self.simulator.stop()
        for log in self.logs:
            log.close()
        return worker_status, simulator_status


class StackTest(unittest.TestCase):
    simulator_options = ()
    public_key = None
    proxy = False
    cache = True

    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(*cls.simulator_options, public_key=cls.public_key, proxy=cls.proxy,
                          cache=cls.cache)

    @classmethod
    def tearDownClass(cls):
        worker_status, simulator_status = cls.stack.stop()
        if worker_status != 0:
            raise AssertionError("worker exited with %s:\n%s"
                                 % (worker_status, cls.stack.log_text("worker")))
        if simulator_status != 0:
            raise AssertionError("simulator exited with %s" % simulator_status)

    def run_job(self, site, queries):
        """Run a job and return (reply, parts by (table, label))."""
        job_id = self.stack.next_job_id("job")
        reply = self.stack.fetch(job_id, site, queries)
        self.assertEqual(reply["type"], "fetch.reply", reply)
        expected = sum(len(q["periods"]) for q in queries)
        parts = self.stack.parts(job_id, expected)
        self.assertEqual(len(parts), expected)
        return reply, parts

    def assert_sums(self, part, properties, dimensions, keep=lambda row: True):
        self.assertIsNone(part.get("error"), part.get("error"))
        period = part["period"]
        expected = csv_sums(properties, period["start"], period["end"], dimensions, keep)
        names = [column["name"] for column in part["columns"]]
        first = names.index(METRICS[0])
        rows = {}
        for row in part["rows"]:
            rows["\x1f".join(row[:len(dimensions)])] = row[first:first + len(METRICS)]
        self.assertEqual(set(rows), set(expected))
        for key, values in expected.items():
            for position, value in enumerate(values):
                self.assertAlmostEqual(rows[key][position], value, delta=1e-9 * max(1, value))

    def assert_failed(self, reply, parts, *texts):
        for part in parts.values():
            self.assertIsNotNone(part.get("error"))
            for text in texts:
                self.assertIn(text, part["error"])
            self.assertEqual(part["rows"], [])
        for status in reply["parts"]:
            self.assertIsNotNone(status.get("error"))


class FaultTest(StackTest):
    simulator_options = ("--fail", "429:burst:3")

    def test_429_burst_retried(self):
        # The first 3 requests of each property get 429 with Retry-After: 1.
        before = self.stack.simulator.stats()["faults"].get("429", 0)
        reply, parts = self.run_job("gamesnews.example",
                                    [query("summary"), query("country", ["country"])])
        for (table, _), part in parts.items():
            dimensions = ["country"] if table == "country" else []
            self.assert_sums(part, ["310000001", "310000002"], dimensions)
        faults = self.stack.simulator.stats()["faults"]
        self.assertEqual(faults.get("429", 0) - before, 2 * 3)
        for status in reply["parts"]:
            self.assertIsNone(status.get("error"))

    def test_403_fails_at_once(self):
        reply, parts = self.run_job("broken.example", [query("summary")])
        self.assert_failed(reply, parts, "site broken.example property 310000099",
                           "query summary", "403 PERMISSION_DENIED",
                           "User does not have sufficient permissions")
        runs = self.stack.simulator.stats()["endpoints"]["runReport"]["properties"]
        # 3 burst 429s are retried; the 403 that follows is not.
        self.assertEqual(runs["310000099"], 3 + 1)


class TruncatedTest(StackTest):
    simulator_options = ("--fail", "truncated:1.0")

    def test_truncated_body_fails_cleanly(self):
        reply, parts = self.run_job("mobile.example", [query("summary")])
        self.assert_failed(reply, parts, "site mobile.example property 3100000",
                           "query summary", "gave up after 5 tries")
        self.assertEqual(self.stack.worker.poll(), None)


class CacheTest(StackTest):
    proxy = True

    def test_closed_periods_cached_across_restart(self):
        queries = [query("summary"), query("country", ["country"]),
                   query("source", ["sessionSource"])]
        self.run_job("gamesnews.example", queries)
        first = self.stack.api_requests()
        self.stack.proxy.take()
        _, parts = self.run_job("gamesnews.example", queries)
        self.assertEqual(self.stack.api_requests(), first)
        self.assertEqual(self.stack.proxy.take(), [])
        self.assert_sums(parts[("country", "current")], ["310000001", "310000002"], ["country"])

        self.stack.restart_worker()
        probes = self.stack.api_requests()
        _, parts = self.run_job("gamesnews.example", queries)
        self.assertEqual(self.stack.api_requests(), probes)
        self.assert_sums(parts[("summary", "yearly")], ["310000001", "310000002"], [])

    def test_wow_daily_rerun_requests_open_period(self):
        queries = [query("wow-summary", periods=WOW_DAILY_PERIODS),
                   query("wow-country", ["country"], periods=WOW_DAILY_PERIODS),
                   query("wow-device", ["deviceCategory"], periods=WOW_DAILY_PERIODS)]
        properties = ["310000001", "310000002"]
        self.stack.proxy.take()
        before = self.stack.api_requests()
        self.run_job("gamesnews.example", queries)
        first = self.stack.api_requests()
        # One batch per property, every period in each report: the summary's
        # totals come with the country report, so 2 reports per property.
        self.assertEqual((first[0] - before[0], first[1] - before[1]), (0, 2))
        self.assertEqual(self.stack.proxy.take(), [["current", "previous", "yearly"]] * 4)

        for restart in (False, True):
            if restart:
                self.stack.restart_worker()
                self.stack.proxy.take()
                first = self.stack.api_requests()
            _, parts = self.run_job("gamesnews.example", queries)
            after = self.stack.api_requests()
            self.assertEqual((after[0] - first[0], after[1] - first[1]), (0, 2))
            self.assertEqual(self.stack.proxy.take(), [["current"]] * 4)
            for label in ("current", "previous", "yearly"):
                self.assert_sums(parts[("wow-country", label)], properties, ["country"])
                self.assert_sums(parts[("wow-device", label)], properties, ["deviceCategory"])
                self.assert_sums(parts[("wow-summary", label)], properties, [])

    def test_traffic_queries_share_one_report(self):
        blacklist = ["google", "(direct)"]
        referrers = {"notExpression": {"filter": {"fieldName": "sessionSource", "inListFilter": {
            "values": blacklist, "caseSensitive": True}}}}
        social = {"filter": {"fieldName": "sessionDefaultChannelGroup", "stringFilter": {
            "matchType": "EXACT", "value": "Organic Social", "caseSensitive": True}}}
        queries = [
            query("traffic-sources", ["sessionSourceMedium"], periods=WOW_DAILY_PERIODS),
            query("traffic-referrers", ["sessionSource"],
                  json.dumps({"dimensionFilter": referrers}), periods=WOW_DAILY_PERIODS),
            query("traffic-social", ["sessionSource"], json.dumps({"dimensionFilter": social}),
                  periods=WOW_DAILY_PERIODS)]
        checks = [("traffic-sources", ["sessionSourceMedium"], lambda row: True),
                  ("traffic-referrers", ["sessionSource"],
                   lambda row: row["sessionSource"] not in blacklist),
                  ("traffic-social", ["sessionSource"],
                   lambda row: row["sessionDefaultChannelGroup"] == "Organic Social")]
        properties = ["310000001", "310000002"]
        self.stack.proxy.take()
        # The three queries go as one report per property, and a re-run
        # requests only the open current period.
        for reports in ([["current", "previous", "yearly"]] * 2, [["current"]] * 2):
            _, parts = self.run_job("gamesnews.example", queries)
            self.assertEqual(self.stack.proxy.take(), reports)
            for table, dimensions, keep in checks:
                for label in ("current", "previous", "yearly"):
                    self.assert_sums(parts[(table, label)], properties, dimensions, keep)

    def test_recent_period_fetched_every_time(self):
        # Only the current week ended less than 3 days before NOW.
        queries = [query("recent", ["deviceCategory"], periods=RECENT_PERIODS)]
        self.stack.proxy.take()
        self.run_job("retrotech.example", queries)
        self.assertEqual(self.stack.proxy.take(), [["current", "previous", "yearly"]])
        for _ in range(2):
            _, parts = self.run_job("retrotech.example", queries)
            self.assertEqual(self.stack.proxy.take(), [["current"]])
            for label in ("current", "previous", "yearly"):
                self.assert_sums(parts[("recent", label)], ["310000003"], ["deviceCategory"])

    def test_batch_of_five(self):
        # Six reports of one property: a batchRunReports of 5 and a runReport.
        queries = [query("q%d" % i, ["country"],
                         '{"orderBys": [{"metric": {"metricName": "%s"}, "desc": %s}]}'
                         % (METRICS[i % 3], "true" if i < 3 else "false"),
                         periods=RECENT_PERIODS)
                   for i in range(6)]
        before = self.stack.api_requests()
        _, parts = self.run_job("retrotech.example", queries)
        after = self.stack.api_requests()
        self.assertEqual(after[0] - before[0], 1)
        self.assertEqual(after[1] - before[1], 1)
        self.assert_sums(parts[("q4", "current")], ["310000003"], ["country"])


class QuotaTest(StackTest):
    # A report of retrotech's summary costs 1 token; the probe that checks
    # the bus costs the first. Without the cache every job sends a report.
    simulator_options = ("--ga-tokens-per-day", "3")
    cache = False

    def test_spent_quota_stops_calls(self):
        summary = [query("summary", periods=RECENT_PERIODS)]
        reply, parts = self.run_job("retrotech.example", summary)
        self.assert_sums(parts[("summary", "current")], ["310000003"], [])
        reply, parts = self.run_job("retrotech.example", summary)
        self.assertIsNone(parts[("summary", "current")].get("error"))

        reply, parts = self.run_job("retrotech.example", summary)
        self.assert_failed(reply, parts, "property 310000003", "RESOURCE_EXHAUSTED",
                           "tokens per day", "no calls to it before 2026-12-03T00:00:00Z")
        requests = self.stack.api_requests()

        # Blocked: the next job fails without calling GA4 at all.
        reply, parts = self.run_job("retrotech.example", summary)
        self.assert_failed(reply, parts, "no calls to it before")
        self.assertEqual(self.stack.api_requests(), requests)
        runs = self.stack.simulator.stats()["endpoints"]["runReport"]
        self.assertEqual(runs["statuses"]["429"], 1)


class AuthTest(StackTest):
    """The simulator checks signatures with a key the worker does not hold."""

    @classmethod
    def setUpClass(cls):
        shared = shared_setup()
        cls.public_key = shared["other_public"]
        cls.stack = Stack(public_key=cls.public_key, cache=False)

    def test_assertion_signed_with_other_key(self):
        job_id = self.stack.next_job_id("job")
        reply = self.stack.fetch(job_id, "retrotech.example", [query("summary")])
        self.assertEqual(len(reply["parts"]), 3)
        for status in reply["parts"]:
            self.assertIn("invalid_grant", status["error"])
            self.assertIn("Invalid JWT Signature", status["error"])
            self.assertIn("check that the key file is a current key", status["error"])
            self.assertIn("clock", status["error"])
        self.assertEqual(self.stack.api_requests(), (0, 0))


class AvailabilityTest(StackTest):
    def check(self, sites, date):
        reply = self.stack.availability(sites, date)
        self.assertEqual(reply["type"], "availability.reply", reply)
        self.assertEqual(reply["date"], date)
        return {entry["site"]: entry for entry in reply["sites"]}

    def test_complete_day(self):
        sites = self.check(["gamesnews.example", "retrotech.example", "mobile.example"],
                           "2026-12-01")
        for name in ("gamesnews.example", "retrotech.example", "mobile.example"):
            self.assertTrue(sites[name]["complete"], sites[name]["detail"])
            self.assertEqual(sites[name]["detail"], "")

    def test_day_in_progress(self):
        sites = self.check(["gamesnews.example", "retrotech.example"], "2026-12-02")
        for name in ("gamesnews.example", "retrotech.example"):
            self.assertFalse(sites[name]["complete"])
            self.assertIn("no data yet for hours 14-23", sites[name]["detail"])
        self.assertIn("property 310000001", sites["gamesnews.example"]["detail"])
        self.assertNotIn("310000002", sites["gamesnews.example"]["detail"])

    def test_wait_for_data_false_skipped_for_several_sites(self):
        before = self.stack.simulator.stats()["endpoints"]["runReport"]["properties"]
        self.check(["mobile.example", "retrotech.example"], "2026-12-01")
        after = self.stack.simulator.stats()["endpoints"]["runReport"]["properties"]
        self.assertEqual(after.get("310000005", 0), before.get("310000005", 0))
        self.assertEqual(after["310000004"], before.get("310000004", 0) + 1)

        # Alone, the site checks every property.
        sites = self.check(["mobile.example"], "2026-12-02")
        self.assertIn("property 310000005", sites["mobile.example"]["detail"])

    def test_unknown_site_and_bad_date(self):
        sites = self.check(["nosuch.example", "broken.example"], "2026-12-01")
        self.assertFalse(sites["nosuch.example"]["complete"])
        self.assertIn("not in ga.sites", sites["nosuch.example"]["detail"])
        self.assertFalse(sites["broken.example"]["complete"])
        self.assertIn("403 PERMISSION_DENIED", sites["broken.example"]["detail"])
        reply = self.stack.availability(["retrotech.example"], "2026-13-01")
        self.assertEqual(reply["type"], "error")
        self.assertIn("2026-13-01", reply["text"])


GROUPS = {
    "faults": [FaultTest, TruncatedTest],
    "cache": [CacheTest],
    "quota": [QuotaTest],
    "auth": [AuthTest],
    "availability": [AvailabilityTest],
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in GROUPS:
        sys.stderr.write("usage: worker_ga_stack.py %s\n" % "|".join(GROUPS))
        return 2
    suite = unittest.TestSuite()
    for case in GROUPS[sys.argv[1]]:
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    try:
        result = unittest.TextTestRunner(verbosity=2).run(suite)
    finally:
        if _shared:
            shutil.rmtree(_shared["folder"], ignore_errors=True)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
