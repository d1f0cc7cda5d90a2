"""Runs the simulator, the broker and statsdash-worker-youtube as processes
for the worker tests, and plays the reporter: a Majordomo client that sends
fetch.request messages (msgpack) and a subscriber of the raw table bus.

CTest passes SIMULATOR, GENERATOR, BROKER and WORKER in the environment.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "simulator"))
import simlib  # noqa: E402
import ytlib  # noqa: E402

BROKER = os.environ.get("BROKER", "")
WORKER = os.environ.get("WORKER", "")
NOW = "2026-12-02T18:00:00Z"
WAIT_S = 60
STOP_TIMEOUT = 30
CHANNELS = {
    "GamesNews TV": ["UCgamesnews0000000000001", "UCgamesnews0000000000002"],
    "RetroTech Clips": ["UCretrotech0000000000003"],
    "BoardPlay": ["UCboardplay0000000000004"],
}
SPEC = {"keys": [], "sum": [], "derived": [], "sort": [], "limit": 0, "compare": [],
        "rules": []}
CURRENT = {"label": "current", "start": "2026-11-01", "end": "2026-11-30"}
PREVIOUS = {"label": "previous", "start": "2026-10-01", "end": "2026-10-31"}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def query(query_id, metrics, dimensions=(), api="youtube.reports", limit=0, params=None,
          periods=(CURRENT, PREVIOUS)):
    return {"id": query_id, "table_id": "t-" + query_id, "expected_parts": 2 * len(periods),
            "spec": SPEC, "api": api, "metrics": list(metrics), "dimensions": list(dimensions),
            "params_json": json.dumps(params or {}), "limit": limit, "periods": list(periods)}


class Process:
    """A child process whose output goes to a log file."""

    def __init__(self, name, command, folder, environment):
        self.name = name
        self.log_path = os.path.join(folder, name + ".log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=self.log,
                                        env=environment)

    def log_text(self):
        with open(self.log_path, errors="replace") as handle:
            return handle.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


class Cluster:
    """Simulator, broker and one YouTube worker over a dataset. With
    content_owner the config queries contentOwner==OWNER with the refresh
    token in youtube.owner_refresh_token_file (a user token of the first
    channel id, whom the simulator lets manage the owner) and the channel
    ids have no token files; without, every id has its own refresh token.
    youtube_options are added to the config's youtube section."""

    def __init__(self, dataset, content_owner=None, simulator_options=(), youtube_options=None,
                 now=NOW):
        self.folder = tempfile.mkdtemp(prefix="worker-youtube-")
        self.now = now
        self.simulator = simlib.Simulator(dataset, *simulator_options, now=now)
        self.token_files = {}
        self.youtube_options = youtube_options or {}
        self.processes = []
        try:
            self._start(content_owner)
        except Exception:
            self.stop()
            raise

    def _start(self, content_owner):
        config = self._write_config(content_owner)
        environment = dict(os.environ, STATSDASH_NOW=self.now, STATSDASH_RETRY_BASE_MS="50")
        self.processes.append(Process("broker", [BROKER, "-c", config], self.folder,
                                      environment))
        self.processes.append(Process("worker", [WORKER, "-c", config], self.folder,
                                      environment))
        self.context = zmq.Context()
        self.client = self.context.socket(zmq.DEALER)
        self.client.setsockopt(zmq.LINGER, 0)
        self.client.connect(self.config["broker"]["endpoint"])
        self.bus = self.context.socket(zmq.SUB)
        self.bus.setsockopt(zmq.LINGER, 0)
        self.bus.setsockopt(zmq.SUBSCRIBE, b"raw.")
        self.bus.connect(self.config["broker"]["bus_subscribe"])
        # Let the subscription reach the worker's PUB socket through the
        # broker's proxy before anything is published.
        time.sleep(1.0)

    def _write_secret(self, name, text):
        path = os.path.join(self.folder, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as handle:
            handle.write(text)
        return path

    def _write_config(self, content_owner):
        client = self._write_secret("client_secret.json", json.dumps({"installed": {
            "client_id": ytlib.CLIENT_ID, "client_secret": ytlib.CLIENT_SECRET,
            "token_uri": self.simulator.token_uri}}))
        channels = {}
        for name, ids in CHANNELS.items():
            channels[name] = []
            for channel_id in ids:
                entry = {"id": channel_id}
                if content_owner is None:
                    token = ytlib.mint_refresh_token(self.simulator, channel_id)
                    entry["refresh_token_file"] = self._write_secret(channel_id + ".token",
                                                                     token + "\n")
                    self.token_files[channel_id] = entry["refresh_token_file"]
                channels[name].append(entry)
        ports = [free_port() for _ in range(3)]
        self.config = {
            "broker": {"endpoint": "tcp://127.0.0.1:%d" % ports[0],
                       "bus_publish": "tcp://127.0.0.1:%d" % ports[1],
                       "bus_subscribe": "tcp://127.0.0.1:%d" % ports[2],
                       "heartbeat_ms": 500, "liveness": 20},
            "youtube": {"analytics_api_base": self.simulator.base,
                        "data_api_base": self.simulator.base + "/youtube/v3",
                        "token_uri": self.simulator.token_uri,
                        "client_secret_file": client, "channels": channels},
            "log": {"level": "debug"},
        }
        if content_owner:
            first_id = next(iter(CHANNELS.values()))[0]
            token = ytlib.mint_refresh_token(self.simulator, first_id)
            owner_file = self._write_secret("owner.token", token + "\n")
            self.token_files["owner"] = owner_file
            self.config["youtube"]["content_owner"] = content_owner
            self.config["youtube"]["owner_refresh_token_file"] = owner_file
        self.config["youtube"].update(self.youtube_options)
        path = os.path.join(self.folder, "statsdash.json")
        with open(path, "w") as handle:
            json.dump(self.config, handle)
        return path

    def refresh_token(self, channel_id):
        with open(self.token_files[channel_id]) as handle:
            return handle.read().strip()

    def availability(self, sites, date, request_id="availability-1"):
        """Send an availability.request for service youtube; return the reply."""
        request = {"v": 2, "type": "availability.request", "id": request_id,
                   "service": "youtube", "sites": list(sites), "date": date,
                   "deadline_ms": int(time.time() * 1000) + WAIT_S * 1000}
        self.client.send_multipart([b"", b"MDPC01", b"youtube", msgpack.packb(request)])
        if not self.client.poll(WAIT_S * 1000):
            raise AssertionError("no availability.reply within %d s; worker log:\n%s"
                                 % (WAIT_S, self.processes[1].log_text()))
        frames = self.client.recv_multipart()
        assert frames[:3] == [b"", b"MDPC01", b"youtube"], frames[:3]
        return msgpack.unpackb(frames[3], raw=False)

    def fetch(self, site, queries, job_id="job-1"):
        """Send a fetch.request and return (reply, {(table_id, label): part})."""
        request = {"v": 2, "type": "fetch.request", "job_id": job_id, "request_id": "req-1",
                   "reporter_id": "r1", "service": "youtube", "site": site,
                   "deadline_ms": int(time.time() * 1000) + WAIT_S * 1000,
                   "queries": queries}
        self.client.send_multipart([b"", b"MDPC01", b"youtube", msgpack.packb(request)])
        parts = {}
        reply = None
        deadline = time.monotonic() + WAIT_S
        expected = sum(len(item["periods"]) for item in queries)
        poller = zmq.Poller()
        poller.register(self.client, zmq.POLLIN)
        poller.register(self.bus, zmq.POLLIN)
        while (reply is None or len(parts) < expected) and time.monotonic() < deadline:
            for sock, _ in poller.poll(1000):
                frames = sock.recv_multipart()
                if sock is self.client:
                    assert frames[:3] == [b"", b"MDPC01", b"youtube"], frames[:3]
                    reply = msgpack.unpackb(frames[3], raw=False)
                else:
                    part = msgpack.unpackb(frames[1], raw=False)
                    if part["job_id"] == job_id:
                        parts[(part["table_id"], part["period"]["label"])] = part
        if reply is None:
            raise AssertionError("no fetch.reply within %d s; worker log:\n%s"
                                 % (WAIT_S, self.processes[1].log_text()))
        return reply, parts

    def worker_log(self):
        return self.processes[1].log_text()

    def stop(self):
        """Stop everything; return the exit statuses by name."""
        statuses = {}
        for process in reversed(self.processes):
            statuses[process.name] = process.stop()
        if hasattr(self, "context"):
            self.context.destroy(linger=0)
        statuses["simulator"] = self.simulator.stop()
        return statuses
