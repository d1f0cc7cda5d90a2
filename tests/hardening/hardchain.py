"""Starts the whole Statsdash chain as processes on loopback for the
hardening tests and the soak run: the Google API simulator, the broker, GA
and YouTube workers, aggregators, reporters and, when asked, an SMTP server
(aiosmtpd) that requires a login.

Every process gets a config of its own (its reporter id, its CURVE key
pair), logs to FOLDER/NAME.log and receives SIGTERM when the Python process
that started it dies (PR_SET_PDEATHSIG). Secrets are written with mode 0600
at run time.
"""
import copy
import ctypes
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

NOW = "2026-12-02T18:00:00Z"
CLIENT_ID = "statsdash-hardening.apps.googleusercontent.com"
# concurrent_jobs of every fetch worker: each process registers this many
# MDP workers, so the broker lists that many per process.
CONCURRENT_JOBS = 2


class ChainError(Exception):
    """A service failed to start, exited early or did not get ready."""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_with_parent():
    """Ask the kernel to send SIGTERM to the child when its parent dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def write_secret(path, text):
    """Write text to a new file with mode 0600 from the start."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    return path


def read_rss_kib(pid):
    """Return VmRSS of pid in KiB, or None when the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Process:
    """One service: its command, its log file and its current Popen."""

    def __init__(self, name, command, log_path, environment):
        self.name = name
        self.command = command
        self.log_path = log_path
        self.environment = environment
        self.popen = None
        self.starts = 0

    def start(self):
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=log, env=self.environment,
                                          preexec_fn=stop_with_parent)
        self.starts += 1

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def kill(self):
        """Send SIGKILL and reap the process."""
        if self.running():
            self.popen.kill()
        self.popen.wait()

    def stop(self, timeout=30):
        """Send SIGTERM and wait. Return a problem text, or None on exit 0."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
            return "%s did not stop within %d s of SIGTERM (killed)" % (self.name, timeout)
        if self.popen.returncode != 0:
            return "%s exited with status %d" % (self.name, self.popen.returncode)
        return None

    def log_bytes(self):
        with open(self.log_path, "rb") as log:
            return log.read()


class SmtpServer:
    """An aiosmtpd server on loopback that requires AUTH with one user and
    password, and keeps every message it accepts."""

    def __init__(self, user, password):
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.user = user
        self.password = password
        self.messages = []
        self.logins = []

        def authenticate(server, session, envelope, mechanism, auth_data):
            login = auth_data.login.decode() if isinstance(auth_data.login, bytes) \
                else auth_data.login
            secret = auth_data.password.decode() if isinstance(auth_data.password, bytes) \
                else auth_data.password
            accepted = login == self.user and secret == self.password
            self.logins.append((login, accepted))
            return AuthResult(success=accepted)

        server = self

        class Handler:
            async def handle_DATA(self, smtp, session, envelope):
                server.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                                        envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                     authenticator=authenticate, auth_required=True,
                                     auth_require_tls=False)
        self.controller.start()

    def stop(self):
        self.controller.stop()


class Chain:
    """The simulator and the Statsdash services over one dataset.

    bins maps simulator, broker, worker-ga, worker-youtube, aggregator,
    reporter and statsdash to executables. sites maps GA site names to
    property ids; channels maps YouTube channel names to channel ids (empty:
    no YouTube worker). counts gives how many of each service to start."""

    def __init__(self, bins, folder, dataset, sites, channels, counts, log_level="debug",
                 curve=False, smtp=None, simulator_options=(), client_secret=None,
                 environment=None, api_proxy=None, config_edit=None):
        self.bins = bins
        self.folder = folder
        self.dataset = dataset
        self.sites = sites
        self.channels = channels
        self.counts = counts
        self.log_level = log_level
        self.curve = curve
        self.smtp = smtp
        self.simulator_options = list(simulator_options)
        self.client_secret = client_secret or "hardening-client-secret-%d" % os.getpid()
        self.environment = dict(os.environ, STATSDASH_NOW=NOW, **(environment or {}))
        # Called with the simulator's base URL, returns the base URL that the
        # workers send API requests to (a rewriting proxy); tokens still come
        # from the simulator.
        self.api_proxy = api_proxy
        self.config_edit = config_edit      # called with the base config dict
        self.processes = {}
        self.secrets = {}           # description -> secret text
        self.configs = {}           # process name -> config path

    # -- start ---------------------------------------------------------------

    def start(self, wait_s=90):
        self._start_simulator()
        self._write_ga_key()
        self._write_youtube_secrets()
        if self.curve:
            self._make_curve_keys()
        self._write_configs()
        self._add("broker", [self.bins["broker"], "-c", self.configs["broker"]])
        for name in self.service_names():
            kind = name.rsplit("-", 1)[0]
            command = [self.bins[kind], "-c", self.configs[name]]
            if kind == "aggregator":
                command += ["--shard", str(self.shard_of(name))]
            self._add(name, command)
        self.wait_ready(wait_s)

    def service_names(self):
        """Return the names of every service but the broker, in start order."""
        names = []
        for kind in ("worker-ga", "worker-youtube", "aggregator", "reporter"):
            names += ["%s-%d" % (kind, n) for n in range(1, self.counts.get(kind, 0) + 1)]
        return names

    def shard_of(self, name):
        """Aggregators serve the shards in turn: with 2 aggregators and 1
        shard both serve shard 0."""
        index = int(name.rsplit("-", 1)[1]) - 1
        return index % self.counts.get("shards", 1)

    def _add(self, name, command):
        process = Process(name, command, os.path.join(self.folder, name + ".log"),
                          self.environment)
        self.processes[name] = process
        process.start()
        return process

    def _start_simulator(self):
        port_file = os.path.join(self.folder, "simulator.port")
        self.private_pem = os.path.join(self.folder, "service-account.pem")
        public_pem = os.path.join(self.folder, "service-account.pub")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", self.private_pem], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.chmod(self.private_pem, 0o600)
        subprocess.run(["openssl", "pkey", "-in", self.private_pem, "-pubout", "-out",
                        public_pem], check=True)
        command = [self.bins["simulator"], "--dataset", self.dataset, "--listen", "127.0.0.1:0",
                   "--port-file", port_file, "--public-key", public_pem,
                   "--youtube-client-id", CLIENT_ID,
                   "--youtube-client-secret", self.client_secret,
                   "--log-level", self.log_level] + self.simulator_options
        self._add("simulator", command)
        self._wait(lambda: os.path.exists(port_file), 120, "the simulator's port file")
        with open(port_file) as handle:
            self.sim_port = int(handle.read())
        self.api_base = "http://127.0.0.1:%d" % self.sim_port
        self.data_base = self.api_proxy(self.api_base) if self.api_proxy else self.api_base

    def _write_ga_key(self):
        with open(self.private_pem) as handle:
            pem = handle.read()
        self.secrets["service-account private key"] = pem
        key = {"type": "service_account", "project_id": "statsdash-hardening",
               "private_key_id": "hardening", "private_key": pem,
               "client_email": "hardening@statsdash-hardening.iam.gserviceaccount.com",
               "client_id": "1", "token_uri": self.api_base + "/token"}
        self.key_file = write_secret(os.path.join(self.folder, "service-account.json"),
                                     json.dumps(key))

    def mint_refresh_token(self, channel_id):
        """Return a refresh token for channel_id from the simulator."""
        connection = http.client.HTTPConnection("127.0.0.1", self.sim_port, timeout=30)
        try:
            connection.request("POST", "/sim/youtube/refresh-token",
                               urllib.parse.urlencode({"channel": channel_id}),
                               {"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise ChainError("minting a refresh token for %s failed: %d %r"
                             % (channel_id, response.status, body[:200]))
        return json.loads(body)["refresh_token"]

    def _write_youtube_secrets(self):
        self.secrets["YouTube client secret"] = self.client_secret
        self.client_secret_file = write_secret(
            os.path.join(self.folder, "client_secret.json"),
            json.dumps({"installed": {"client_id": CLIENT_ID,
                                      "client_secret": self.client_secret,
                                      "token_uri": self.api_base + "/token"}}))
        self.channel_entries = {}
        for name, ids in self.channels.items():
            entries = []
            for channel_id in ids:
                token = self.mint_refresh_token(channel_id)
                self.secrets["refresh token of " + channel_id] = token
                path = write_secret(os.path.join(self.folder, channel_id + ".token"),
                                    token + "\n")
                entries.append({"id": channel_id, "refresh_token_file": path})
            self.channel_entries[name] = entries

    def _make_curve_keys(self):
        """Write a CURVE key pair per process with `statsdash keygen`."""
        keys_dir = os.path.join(self.folder, "keys")
        os.makedirs(keys_dir, mode=0o700)
        self.curve_keys = {}
        for name in ["broker", "client"] + self.service_names():
            path = os.path.join(keys_dir, name)
            subprocess.run([self.bins["statsdash"], "keygen", path], check=True,
                           capture_output=True)
            self.curve_keys[name] = (path, path + "_secret")
            with open(path + "_secret") as handle:
                for line in handle:
                    if line.strip().startswith("secret-key"):
                        z85 = line.split("=", 1)[1].strip().strip('"')
                        self.secrets["CURVE secret key of " + name] = z85

    def _curve_section(self, name):
        public, secret = self.curve_keys[name]
        if name == "broker":
            allowed = [self.curve_keys[other][0] for other in self.curve_keys if other != name]
            return {"public_key_file": public, "secret_key_file": secret,
                    "allowed_keys": allowed}
        return {"public_key_file": public, "secret_key_file": secret,
                "server_public_key_file": self.curve_keys["broker"][0]}

    def _base_config(self):
        config = {
            "broker": {"endpoint": "tcp://127.0.0.1:%d" % free_port(),
                       "bus_publish": "tcp://127.0.0.1:%d" % free_port(),
                       "bus_subscribe": "tcp://127.0.0.1:%d" % free_port(),
                       "heartbeat_ms": 500, "liveness": 10},
            "aggregator": {"shards": self.counts.get("shards", 1)},
            "ga": {"api_base": self.data_base, "key_file": self.key_file,
                   "concurrent_jobs": CONCURRENT_JOBS,
                   "sites": {site: [{"property": prop, "wait_for_data": True}
                                    for prop in properties]
                             for site, properties in self.sites.items()}},
            "reporter": {"id": "hardening"},
            "log": {"level": self.log_level},
        }
        if self.channels:
            config["youtube"] = {"analytics_api_base": self.data_base,
                                 "data_api_base": self.data_base + "/youtube/v3",
                                 "token_uri": self.api_base + "/token",
                                 "client_secret_file": self.client_secret_file,
                                 "concurrent_jobs": CONCURRENT_JOBS,
                                 "channels": self.channel_entries}
        if self.smtp:
            self.secrets["SMTP password"] = self.smtp.password
            password_file = write_secret(os.path.join(self.folder, "smtp.password"),
                                         self.smtp.password + "\n")
            config["smtp"] = {"url": "smtp://127.0.0.1:%d" % self.smtp.port,
                              "user": self.smtp.user, "password_file": password_file,
                              "from": "statsdash@example.com"}
        return config

    def _write_configs(self):
        base = self._base_config()
        if self.config_edit:
            self.config_edit(base)
        self.reporter_ids = {}
        for name in ["broker", "client"] + self.service_names():
            config = copy.deepcopy(base)
            if name.startswith("reporter-"):
                config["reporter"]["id"] = "hardening-" + name.rsplit("-", 1)[1]
                self.reporter_ids[name] = config["reporter"]["id"]
            if self.curve:
                config["broker"]["curve"] = self._curve_section(name)
            path = os.path.join(self.folder, name + ".json")
            with open(path, "w") as handle:
                json.dump(config, handle, indent=2)
            self.configs[name] = path
        self.config = base

    # -- readiness -----------------------------------------------------------

    def _wait(self, condition, seconds, what):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.check_running()
            if condition():
                return
            time.sleep(0.2)
        raise ChainError("timed out after %d s waiting for %s" % (seconds, what))

    def check_running(self):
        for name, process in self.processes.items():
            if not process.running():
                raise ChainError("%s exited early with status %r; log:\n%s"
                                 % (name, process.popen.returncode,
                                    process.log_bytes()[-3000:].decode("utf-8", "replace")))

    def worker_counts(self):
        """Return {service: live workers} from `statsdash status`."""
        result = subprocess.run([self.bins["statsdash"], "status", "-c", self.configs["client"]],
                                capture_output=True, text=True, timeout=30,
                                env=self.environment, preexec_fn=stop_with_parent)
        lines = result.stdout.splitlines()
        if result.returncode != 0 or not lines:
            return {}
        header = lines[0].split()
        counts = {}
        for line in lines[1:]:
            fields = line.split()
            if len(fields) == len(header) and "service" in header and "workers" in header:
                counts[fields[header.index("service")]] = int(fields[header.index("workers")])
        return counts

    def _services_live(self):
        counts = self.worker_counts()
        return (counts.get("ga", 0) >= self.counts.get("worker-ga", 0) * CONCURRENT_JOBS
                and counts.get("youtube", 0)
                >= self.counts.get("worker-youtube", 0) * CONCURRENT_JOBS
                and counts.get("report", 0) >= self.counts.get("reporter", 0))

    def aggregator_subscribed(self, name):
        return b"subscribed topic=" in self.processes[name].log_bytes()

    def wait_ready(self, seconds=90):
        self._wait(self._services_live, seconds, "`statsdash status` to list every worker")
        for name in self.processes:
            if name.startswith("aggregator-"):
                self._wait(lambda n=name: self.aggregator_subscribed(n), seconds,
                           "%s to subscribe to the table bus" % name)

    # -- use -----------------------------------------------------------------

    def request(self, report, frequency, date_text, output_format="json", recipients=None,
                timeout_s=60, extra=()):
        """Run `statsdash request`. Return the CompletedProcess (stdout bytes)."""
        command = [self.bins["statsdash"], "request", "-c", self.configs["client"], "--report",
                   report, "--sites", "all", "--frequency", frequency, "--date", date_text,
                   "--format", output_format, "--timeout", str(timeout_s)] + list(extra)
        if recipients:
            command += ["--to", ",".join(recipients)]
        return subprocess.run(command, capture_output=True, timeout=timeout_s + 60,
                              env=self.environment, preexec_fn=stop_with_parent)

    def stop(self):
        """Stop every process in reverse start order. Return the problems."""
        problems = []
        for name in reversed(list(self.processes)):
            problem = self.processes[name].stop()
            if problem:
                problems.append(problem)
        if self.smtp:
            self.smtp.stop()
        return problems

    def log_files(self):
        return {name: process.log_path for name, process in self.processes.items()}

    def print_logs(self, limit=4000):
        for name, process in self.processes.items():
            text = process.log_bytes().decode("utf-8", "replace")
            sys.stderr.write("----- %s log (last %d characters) -----\n%s\n"
                             % (name, limit, text[-limit:]))
