"""Start and stop the Statsdash report chain for the fault tests.

The chain is the Google API simulator, the broker, GA workers, the
aggregator and the reporter, over a dataset generated at run time, with
ports picked at run time. A service may run inside a network namespace:
its command is then prefixed with `ip netns exec NAME`, which execs the
service in place, so the process started here is the service itself and
signals reach it.

Every child gets SIGTERM when the test script dies (PR_SET_PDEATHSIG), so
a test killed by CTest leaves no service running.
"""
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import msgpack
import zmq

# The sites of the generated dataset and their GA4 properties.
SITES = {
    "gamesnews.example": ["310000001", "310000002"],
    "retrotech.example": ["310000003"],
    "boardplay.example": ["310000004"],
    "jeuxvideo.example": ["310000005"],
}

# Every process reads "now" from STATSDASH_NOW: the evening after the last
# complete day of the generated dataset.
NOW = "2026-12-02T18:00:00Z"
REPORT = ("WOW_DAILY", "2026-12-01")
# ga.concurrent_jobs of every GA worker: each process registers this many
# MDP workers, so the broker lists that many per process.
GA_CONCURRENT_JOBS = 2


class TestFailure(Exception):
    """A check of a report or of a service failed."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def stop_with_parent():
    """Ask the kernel to send SIGTERM to the child when this script dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def netns_prefix(namespace):
    return ["ip", "netns", "exec", namespace] if namespace else []


class Services:
    """The processes started by a test, stopped in reverse order."""

    def __init__(self, directory):
        self.directory = directory
        self.processes = {}  # name -> (Popen, log path)

    def start(self, name, command, namespace=None):
        log_path = os.path.join(self.directory, name + ".log")
        with open(log_path, "ab") as log:
            process = subprocess.Popen(netns_prefix(namespace) + command,
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=log, preexec_fn=stop_with_parent)
        self.processes[name] = (process, log_path)
        return process

    def process(self, name):
        return self.processes[name][0]

    def log_path(self, name):
        return self.processes[name][1]

    def log_text(self, name):
        with open(self.log_path(name), "rb") as log:
            return log.read().decode("utf-8", "replace")

    def check_running(self, names=None):
        for name in names or self.processes:
            process = self.process(name)
            check(process.poll() is None, "%s exited early with status %r"
                  % (name, process.returncode))

    def kill(self, name):
        """SIGKILL a service and reap it."""
        process = self.process(name)
        process.kill()
        process.wait(timeout=30)

    def stop_one(self, name, timeout=30):
        """SIGTERM a service and wait. Return a problem message or None."""
        process = self.process(name)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return "%s did not stop within %d s of SIGTERM (killed)" % (name, timeout)
        if process.returncode not in (0, -signal.SIGKILL):
            return "%s exited with status %d" % (name, process.returncode)
        return None

    def stop(self):
        """Stop every service still running. Return the problems found.
        A service the test killed on purpose counts as stopped."""
        problems = []
        for name in reversed(list(self.processes)):
            problem = self.stop_one(name)
            if problem:
                problems.append(problem)
        return problems

    def print_logs(self, limit=5000):
        for name in self.processes:
            text = self.log_text(name)
            sys.stderr.write("----- %s log (last %d characters) -----\n%s\n"
                             % (name, limit, text[-limit:]))


def wait_for(services, condition, seconds, what, names=None):
    """Poll condition until it is true. Fail when a watched service exits."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        services.check_running(names)
        if condition():
            return
        time.sleep(0.2)
    raise TestFailure("timed out after %d s waiting for %s" % (seconds, what))


def generate_dataset(generator, directory):
    dataset = os.path.join(directory, "dataset")
    subprocess.run([sys.executable, generator, dataset], check=True,
                   stdout=subprocess.DEVNULL)
    return dataset


def write_key_pair(directory):
    """Generate an RSA key pair for the service account with openssl.
    Return (private PEM path, public PEM path)."""
    private = os.path.join(directory, "service-account.pem")
    public = os.path.join(directory, "service-account.pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", private], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True)
    return private, public


def write_service_account(directory, private_pem, token_uri):
    """Write the service-account JSON key with mode 0600 from the start."""
    with open(private_pem) as handle:
        private_key = handle.read()
    key = {
        "type": "service_account",
        "project_id": "statsdash-faults",
        "private_key_id": "faults",
        "private_key": private_key,
        "client_email": "statsdash-faults@statsdash-faults.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = os.path.join(directory, "service-account.json")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(key, handle)
    return path


def write_config(path, broker, api_base=None, key_file=None, curve=None,
                 reporter_id="faults"):
    """Write a config file. broker is the broker section; curve, when given,
    becomes broker.curve."""
    section = dict(broker)
    if curve:
        section["curve"] = curve
    config = {"broker": section, "reporter": {"id": reporter_id}, "log": {"level": "info"}}
    if api_base:
        config["ga"] = {
            "api_base": api_base,
            "key_file": key_file,
            "concurrent_jobs": GA_CONCURRENT_JOBS,
            "sites": {site: [{"property": prop, "wait_for_data": prop != "310000002"}
                             for prop in properties]
                      for site, properties in SITES.items()},
        }
    with open(path, "w") as handle:
        json.dump(config, handle, indent=2)
    return path


def loopback_broker_section():
    return {
        "endpoint": "tcp://127.0.0.1:%d" % free_port(),
        "bus_publish": "tcp://127.0.0.1:%d" % free_port(),
        "bus_subscribe": "tcp://127.0.0.1:%d" % free_port(),
        "heartbeat_ms": 500,
        "liveness": 6,
    }


def start_simulator(services, binary, dataset, public_pem, listen="127.0.0.1",
                    latency_ms=0, namespace=None):
    """Start the simulator and return its API base URL."""
    port_file = os.path.join(services.directory, "simulator.port")
    command = [binary, "--dataset", dataset, "--listen", listen + ":0", "--port-file", port_file,
               "--public-key", public_pem]
    if latency_ms:
        command += ["--latency-ms", str(latency_ms)]
    services.start("simulator", command, namespace)
    wait_for(services, lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0,
             60, "the simulator's port file")
    with open(port_file) as handle:
        return "http://%s:%d" % (listen, int(handle.read()))


def status_table(statsdash, config, namespace=None):
    """Run `statsdash status`. Return {service: workers} or None when the
    broker does not reply."""
    result = subprocess.run(netns_prefix(namespace) + [statsdash, "status", "-c", config],
                            capture_output=True, text=True, timeout=30,
                            preexec_fn=stop_with_parent)
    if result.returncode != 0:
        return None
    table = {}
    for line in result.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 2 and fields[1].isdigit():
            table[fields[0]] = int(fields[1])
    return table


def wait_for_workers(services, statsdash, config, ga_workers, seconds=60, namespace=None):
    """Wait until the broker lists the MDP workers of ga_workers GA worker
    processes and one reporter."""
    expected = ga_workers * GA_CONCURRENT_JOBS

    def ready():
        table = status_table(statsdash, config, namespace)
        return table is not None and table.get("ga") == expected and table.get("report") == 1
    wait_for(services, ready, seconds,
             "`statsdash status` to show %d ga workers and 1 report worker" % expected)


def log_contains(services, name, text):
    return text in services.log_text(name)


def wait_for_aggregator(services, name="aggregator"):
    # Parts published before the aggregator subscribes would be lost.
    wait_for(services, lambda: log_contains(services, name, "subscribed topic="), 30,
             "the aggregator to subscribe to the table bus")


def request_command(statsdash, config, timeout_s, report=REPORT):
    frequency, date_text = report
    return [statsdash, "request", "-c", config, "--report", "ga-core", "--sites", "all",
            "--frequency", frequency, "--date", date_text, "--format", "json",
            "--timeout", str(timeout_s)]


def run_request(statsdash, config, timeout_s, namespace=None):
    """Run `statsdash request` for ga-core in JSON. Return (exit status,
    parsed report or None, stderr, seconds taken)."""
    started = time.monotonic()
    result = subprocess.run(netns_prefix(namespace) + request_command(statsdash, config, timeout_s),
                            capture_output=True, text=True, timeout=timeout_s + 30,
                            preexec_fn=stop_with_parent)
    elapsed = time.monotonic() - started
    report = None
    if result.stdout.strip():
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError as error:
            raise TestFailure("stdout of statsdash request is not JSON (%s): %r"
                              % (error, result.stdout[:500]))
    return result.returncode, report, result.stderr, elapsed


def figures(report):
    """Return the summary and site_summary tables of a JSON report, for
    comparing two runs of the same request."""
    tables = report.get("tables", {})
    return {name: tables.get(name) for name in ("summary", "site_summary")}


class MdpClient:
    """A minimal MDP/0.1 client, written from the spec, that sends
    report.request messages and counts every reply per request id."""

    def __init__(self, endpoint):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)
        self.replies = {}  # request_id -> [decoded bodies]

    def send_report_request(self, timeout_s, report=REPORT):
        request_id = "faults-" + uuid.uuid4().hex[:12]
        frequency, date_text = report
        body = {
            "v": 2, "type": "report.request", "request_id": request_id,
            "report": "ga-core", "sites": ["all"], "frequency": frequency,
            "date": date_text, "formats": ["json"], "recipients": [],
            "deadline_ms": int(time.time() * 1000) + timeout_s * 1000,
            "delivery_id": "", "yearly_alignment": "calendar", "subject": "",
        }
        self.socket.send_multipart([b"", b"MDPC01", b"report", msgpack.packb(body)])
        self.replies[request_id] = []
        return request_id

    def receive(self, seconds, settle=None, request_ids=None):
        """Collect replies for the given number of seconds. With settle,
        stop settle seconds after each of request_ids (default: every
        request) has a reply, so that a second reply still has time to
        arrive."""
        end = time.monotonic() + seconds
        while True:
            waited = request_ids if request_ids is not None else list(self.replies)
            if settle is not None and all(self.replies[i] for i in waited):
                end = min(end, time.monotonic() + settle)
                settle = None
            left = end - time.monotonic()
            if left <= 0:
                return
            if not self.socket.poll(int(left * 1000) + 1):
                continue
            frames = self.socket.recv_multipart()
            check(len(frames) == 4 and frames[0] == b"" and frames[1] == b"MDPC01"
                  and frames[2] == b"report", "malformed reply frames: %r" % frames[:3])
            body = msgpack.unpackb(frames[3], raw=False)
            request_id = body.get("request_id", body.get("id", ""))
            self.replies.setdefault(request_id, []).append(body)

    def close(self):
        self.socket.close()
        self.context.term()
