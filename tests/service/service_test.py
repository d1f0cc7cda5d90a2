#!/usr/bin/python3
"""Start-up and exit of one service executable, as sd_service.h defines them.

Checks that --help exits 0 and prints the usage, and that --version prints
"NAME VERSION". A missing -c FILE, an invalid option and an invalid config
must exit 2 with one line on stderr, and the config line names the file and
the key. SIGTERM after start-up must end the service with status 0. The
aggregator and the scheduler have extra cases for their own options.

Usage: service_test.py NAME PATH VERSION

NAME is the executable's name (statsdash-broker, ...), PATH the built
executable and VERSION the project version. Every service binds or connects
only to loopback ports picked free at run time, and the GA and YouTube API
addresses in its config point at a loopback port that nothing serves.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

NAME, PROGRAM, VERSION = sys.argv[1:4]
RUN_TIMEOUT_S = 30
START_TIMEOUT_S = 45

# Text of the log line that each service writes once its loop is about to run.
STARTED_LINES = {
    "statsdash-broker": "broker started",
    "statsdash-worker-ga": "started config=",
    "statsdash-worker-youtube": "started config=",
    "statsdash-aggregator": "started shard=",
    "statsdash-reporter": "started reporter=",
    "statsdash-scheduler": "started mode=service",
}

# Nothing listens there: the APIs are only called for a job, and no job is sent.
UNSERVED_BASE = "http://127.0.0.1:9"

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAILED: " + message)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(*arguments):
    return subprocess.run([PROGRAM, *arguments], capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)


def write_secret(folder, name, text):
    path = os.path.join(folder, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(text)
    return path


def ga_section(folder):
    """Return a GA section whose service-account key contains a new RSA key."""
    pem_path = os.path.join(folder, "ga-key.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", pem_path],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(pem_path) as handle:
        pem = handle.read()
    key = {"type": "service_account", "private_key_id": "service-test", "private_key": pem,
           "client_email": "worker@statsdash-test.iam.gserviceaccount.com",
           "token_uri": UNSERVED_BASE + "/token"}
    key_file = write_secret(folder, "ga-service-account.json", json.dumps(key))
    return {"api_base": UNSERVED_BASE, "token_uri": UNSERVED_BASE + "/token",
            "key_file": key_file, "sites": {"one.example": [{"property": "310000001"}]}}


def youtube_section(folder):
    """Return a YouTube section with one channel id and its refresh token file."""
    client = write_secret(folder, "youtube-client.json", json.dumps({"installed": {
        "client_id": "service-test.apps.example", "client_secret": "service-test-secret",
        "token_uri": UNSERVED_BASE + "/token"}}))
    token = write_secret(folder, "channel.token", "service-test-refresh-token\n")
    return {"analytics_api_base": UNSERVED_BASE, "data_api_base": UNSERVED_BASE + "/youtube/v3",
            "token_uri": UNSERVED_BASE + "/token", "client_secret_file": client,
            "channels": {"One": [{"id": "UCservicetest00000000001",
                                  "refresh_token_file": token}]}}


def write_config(folder, extra=None):
    """Write a config that lets the service start on free loopback ports."""
    config = {
        "broker": {"endpoint": "tcp://127.0.0.1:%d" % free_port(),
                   "bus_publish": "tcp://127.0.0.1:%d" % free_port(),
                   "bus_subscribe": "tcp://127.0.0.1:%d" % free_port()},
        "log": {"level": "info"},
    }
    if NAME == "statsdash-worker-ga":
        config["ga"] = ga_section(folder)
    elif NAME == "statsdash-worker-youtube":
        config["youtube"] = youtube_section(folder)
    elif NAME == "statsdash-reporter":
        config["reporter"] = {"id": "service-test"}
    elif NAME == "statsdash-scheduler":
        config["scheduler"] = {"database": os.path.join(folder, "scheduler.db")}
    config.update(extra or {})
    path = os.path.join(folder, "statsdash.json")
    with open(path, "w") as handle:
        json.dump(config, handle)
    return path


def check_usage_error(result, where, expected_text):
    lines = result.stderr.splitlines()
    check(result.returncode == 2, "%s: exit status %d, expected 2; stderr: %s"
          % (where, result.returncode, result.stderr))
    check(len(lines) == 1, "%s: %d lines on stderr, expected 1: %r"
          % (where, len(lines), result.stderr))
    check(expected_text in result.stderr, "%s: %r not in stderr: %r"
          % (where, expected_text, result.stderr))
    check(result.stdout == "", "%s: unexpected stdout: %r" % (where, result.stdout))


def test_help():
    result = run("--help")
    check(result.returncode == 0, "--help: exit status %d" % result.returncode)
    check(result.stdout.startswith("Usage: %s -c FILE" % NAME),
          "--help: stdout does not start with the usage line: %r" % result.stdout[:200])
    for option in ("-c, --config FILE", "-h, --help", "--version"):
        check(option in result.stdout, "--help: option %s not described" % option)
    check(result.stderr == "", "--help: unexpected stderr: %r" % result.stderr)


def test_version():
    result = run("--version")
    check(result.returncode == 0, "--version: exit status %d" % result.returncode)
    check(result.stdout == "%s %s\n" % (NAME, VERSION),
          "--version: stdout %r, expected %r" % (result.stdout, "%s %s\n" % (NAME, VERSION)))


def test_usage_errors():
    check_usage_error(run(), "no arguments", "-c FILE")
    check_usage_error(run("--no-such-option", "-c", "x.json"), "unknown option",
                      "--no-such-option")
    check_usage_error(run("-c"), "-c without a value", "missing value for option -c")
    check_usage_error(run("-c", "x.json", "extra"), "argument left over", '"extra"')


def test_config_errors(folder):
    missing = os.path.join(folder, "no-such-file.json")
    check_usage_error(run("-c", missing), "config file not found", missing)

    bad = write_config(folder, {"broker": {"heartbeat_ms": "fast"}})
    result = run("-c", bad)
    check_usage_error(result, "invalid config value", bad)
    check("broker.heartbeat_ms" in result.stderr,
          "invalid config value: key not named in %r" % result.stderr)


def test_sigterm(folder):
    config = write_config(folder)
    log_path = os.path.join(folder, "service.log")
    with open(log_path, "w") as log:
        process = subprocess.Popen([PROGRAM, "-c", config], stdout=subprocess.DEVNULL,
                                   stderr=log, cwd=folder)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        started = False
        while time.monotonic() < deadline and process.poll() is None and not started:
            time.sleep(0.1)
            with open(log_path) as log:
                started = STARTED_LINES[NAME] in log.read()
        check(started, "service did not log %r within %d s (exit status %r)"
              % (STARTED_LINES[NAME], START_TIMEOUT_S, process.poll()))
        process.send_signal(signal.SIGTERM)
        status = process.wait(timeout=START_TIMEOUT_S)
        check(status == 0, "SIGTERM after start: exit status %d, expected 0" % status)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        with open(log_path) as log:
            text = log.read()
        if failures:
            print("service log:\n" + text[-6000:])


def test_aggregator_shard(folder):
    result = run("-c", "x.json", "--shard", "one")
    check_usage_error(result, "--shard one", 'invalid --shard "one"')
    config = write_config(folder, {"aggregator": {"shards": 2}})
    result = run("-c", config, "--shard", "2")
    check_usage_error(result, "--shard 2 of 2 shards", "aggregator.shards")


def test_scheduler_modes():
    check_usage_error(run("-c", "x.json", "--once", "--dry-run"), "two modes",
                      "give only one of")
    check_usage_error(run("-c", "x.json", "--resend", "daily"), "--resend without --date",
                      "need --date")


def main():
    with tempfile.TemporaryDirectory(prefix="statsdash-service-test-") as folder:
        test_help()
        test_version()
        test_usage_errors()
        test_config_errors(folder)
        if NAME == "statsdash-aggregator":
            test_aggregator_shard(folder)
        if NAME == "statsdash-scheduler":
            test_scheduler_modes()
        test_sigterm(folder)
    if failures:
        print("%d checks failed for %s" % (len(failures), NAME))
        return 1
    print("ok %s" % NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
