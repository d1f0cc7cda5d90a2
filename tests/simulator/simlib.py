"""Helpers for the simulator tests: generate a dataset, start and stop
statsdash-simulator on a free loopback port, sign JWTs with the openssl
command, and call the HTTP endpoints.

CTest passes the simulator executable in SIMULATOR and the dataset generator
in GENERATOR.
"""

import base64
import ctypes
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


def stop_with_parent():
    """Ask the kernel to send SIGTERM to this child when the test process
    dies, so a test that fails or is killed leaves no server running."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


SIMULATOR = os.environ.get("SIMULATOR", "")
GENERATOR = os.environ.get("GENERATOR", "")
GA4_SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def generate_dataset(folder, *options):
    """Run scripts/generate-dataset into folder and return folder."""
    subprocess.run([GENERATOR, folder, *options], check=True)
    return folder


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_key(folder, name="key"):
    """Generate an RSA key pair with openssl. Return (private, public) paths."""
    private = os.path.join(folder, name + ".pem")
    public = os.path.join(folder, name + ".pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", private],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True)
    return private, public


def sign_jwt(private_key, claims, header=None):
    """Return a compact RS256 JWS of claims, signed by `openssl dgst`."""
    header = header or {"alg": "RS256", "typ": "JWT"}
    signing_input = "%s.%s" % (b64url(json.dumps(header).encode()),
                               b64url(json.dumps(claims).encode()))
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", private_key],
                               input=signing_input.encode(), check=True,
                               capture_output=True).stdout
    return signing_input + "." + b64url(signature)


def service_claims(audience, lifetime=3600, issued=None, scope=GA4_SCOPE):
    issued = int(time.time()) if issued is None else issued
    return {"iss": "reporter@statsdash-test.iam.gserviceaccount.com", "scope": scope,
            "aud": audience, "iat": issued, "exp": issued + lifetime}


class Simulator:
    """A running statsdash-simulator; use it as a context manager. stop()
    checks that the process exits with status 0 after SIGTERM, which under
    AddressSanitizer also means it leaked nothing."""

    def __init__(self, dataset, *options, public_key=None, now=None):
        self.folder = tempfile.mkdtemp(prefix="simulator-")
        self.port_file = os.path.join(self.folder, "port")
        self.log_path = os.path.join(self.folder, "simulator.log")
        command = [SIMULATOR, "--dataset", dataset, "--listen", "127.0.0.1:0",
                   "--port-file", self.port_file, *options]
        if public_key:
            command += ["--public-key", public_key]
        environment = dict(os.environ)
        environment.pop("STATSDASH_NOW", None)
        if now:
            environment["STATSDASH_NOW"] = now
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=self.log,
                                        env=environment, preexec_fn=stop_with_parent)
        self.port = self._wait_for_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.token_uri = self.base + "/token"

    def _wait_for_port(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(self.port_file):
                with open(self.port_file) as handle:
                    return int(handle.read())
            if self.process.poll() is not None:
                raise RuntimeError("simulator exited with %d before listening:\n%s"
                                   % (self.process.returncode, self.log_text()))
            time.sleep(0.05)
        self.process.kill()
        raise RuntimeError("simulator did not write its port file within %d s" % START_TIMEOUT)

    def log_text(self):
        with open(self.log_path, errors="replace") as handle:
            return handle.read()

    def stop(self):
        """Send SIGTERM and return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        status = self.stop()
        if kind is None and status != 0:
            raise AssertionError("simulator exited with %d:\n%s" % (status, self.log_text()))

    def request(self, method, path, body=None, headers=None, form=None):
        """Return (status, headers, body bytes) of one request."""
        data = None
        headers = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def json(self, method, path, body=None, headers=None, form=None):
        """Return (status, decoded JSON body) of one request."""
        status, _, data = self.request(method, path, body, headers, form)
        return status, json.loads(data)

    def token(self, assertion, grant_type=JWT_BEARER):
        return self.json("POST", "/token", form={"grant_type": grant_type,
                                                 "assertion": assertion})

    def access_token(self, private_key, scope=GA4_SCOPE):
        status, body = self.token(sign_jwt(private_key, service_claims(self.token_uri,
                                                                       scope=scope)))
        if status != 200:
            raise AssertionError("token request failed: %d %s" % (status, body))
        return body["access_token"]

    def run_report(self, token, property_id, request):
        headers = {"Authorization": "Bearer " + token} if token else {}
        return self.json("POST", "/v1beta/properties/%s:runReport" % property_id, request,
                         headers)

    def stats(self):
        return self.json("GET", "/stats")[1]
