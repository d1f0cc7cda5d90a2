#!/usr/bin/python3
"""The YouTube report chain end to end, counting API calls: the simulator,
the broker, statsdash-worker-youtube, the aggregator and the reporter on
loopback, driven by

  statsdash request --report youtube --sites all --frequency MONTHLY
                    --date 2026-11-30 --format json

with STATSDASH_NOW=2026-12-02T18:00:00Z, once with a refresh token per
channel id (channel==MINE) and once in content-owner mode. Afterwards the
simulator's /stats gives the number of calls per endpoint. The videos the
report shows are computed here from the dataset's CSV: the top 10 by watch
time of each channel id in the current period (the only period of the top
videos table, and what reports.query returns with maxResults 10), then the
top 10 of those over all channels. The reporter requests their titles in
one job after the top videos table arrived, so the check is exactly
ceil(videos shown / 50) videos.list calls, and every title shown must be
the video's title in youtube-videos.csv. A third run points the Data API
at a path where every call fails: the report must still come, partial,
with the same videos, null titles and a warning about the titles.

The dataset is generated into a temporary folder, unless --dataset env is
given: then STATSDASH_DATASET names it, the test exits 77 (skipped) when the
variable is unset and fails when the folder cannot be read. --print writes
the counts as JSON on stdout.

Usage: e2e_youtube_videos.py --dataset generate|env --bin-simulator PATH
       --bin-broker PATH --bin-worker-youtube PATH --bin-aggregator PATH
       --bin-reporter PATH --bin-statsdash PATH --generator PATH
       [--mode mine|owner|broken|all] [--print]
"""
import argparse
import csv
import ctypes
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SKIPPED = 77
NOW = "2026-12-02T18:00:00Z"
FREQUENCY = "MONTHLY"
DATE = "2026-11-30"
REQUEST_TIMEOUT_S = 90
TOP_VIDEOS = 10
TOP_VIDEOS_SHOWN = 10
VIDEOS_PER_CALL = 50
MISSING_TITLE = "Video not found"
CONTENT_OWNER = "sampleOwner01"
CHANNELS = {
    "GamesNews TV": ["UCgamesnews0000000000001", "UCgamesnews0000000000002"],
    "RetroTech Clips": ["UCretrotech0000000000003"],
    "BoardPlay": ["UCboardplay0000000000004"],
}
# The simulator's OAuth client (see tests/simulator/ytlib.py).
CLIENT = {"client_id": "statsdash-simulator.apps.googleusercontent.com",
          "client_secret": "simulator-client-secret"}


class TestFailure(Exception):
    """A check of the calls or of a service failed."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


# ---------------------------------------------------------------------------
# Expected videos, from the CSV.

def report_periods(report):
    """Returns the (start, end) date strings of the report's periods."""
    periods = report.get("periods", {})
    return {label: tuple(value) for label, value in periods.items() if value}


def top_videos(facts, channel_id, start, end):
    """Returns the top videos of one channel id with their watch time, as
    reports.query sorted by -estimatedMinutesWatched with maxResults 10
    returns them (ties by video id)."""
    minutes = {}
    for row in facts:
        if row["channel"] == channel_id and start <= row["date"] <= end:
            minutes[row["video"]] = minutes.get(row["video"], 0) + row["minutes"]
    ranked = sorted(minutes.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:TOP_VIDEOS]


def channel_top_videos(facts, start, end):
    """Returns {video: (channel name, watch time)} of the videos that some
    channel id has in its top videos."""
    result = {}
    for name, ids in CHANNELS.items():
        for channel_id in ids:
            for video, minutes in top_videos(facts, channel_id, start, end):
                result[video] = (name, minutes)
    return result


def shown_videos(facts, start, end):
    """Returns the set of videos the top videos table shows: the top
    TOP_VIDEOS_SHOWN of all channels' top videos by watch time. Fails when
    a tie at the cut makes that set ambiguous."""
    candidates = channel_top_videos(facts, start, end)
    ranked = sorted(candidates.items(), key=lambda item: -item[1][1])
    if len(ranked) > TOP_VIDEOS_SHOWN:
        check(ranked[TOP_VIDEOS_SHOWN - 1][1][1] != ranked[TOP_VIDEOS_SHOWN][1][1],
              "the dataset has a tie at rank %d of the top videos" % TOP_VIDEOS_SHOWN)
    return {video for video, _ in ranked[:TOP_VIDEOS_SHOWN]}


def read_facts(dataset):
    path = os.path.join(dataset, "youtube-facts.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        return [{"channel": row["channel"], "date": row["date"], "video": row["video"],
                 "minutes": int(row["estimatedMinutesWatched"])}
                for row in csv.DictReader(handle)]


def read_titles(dataset):
    """Returns {video: title} from youtube-videos.csv."""
    path = os.path.join(dataset, "youtube-videos.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["video"]: row["title"] for row in csv.DictReader(handle)}


# ---------------------------------------------------------------------------
# Services.

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_with_parent():
    """Ask the kernel to send SIGTERM to the child when this script dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Services:
    """The processes started by the test, stopped in reverse order."""

    def __init__(self, directory):
        self.directory = directory
        self.processes = []

    def start(self, name, command):
        log_path = os.path.join(self.directory, name + ".log")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=log,
                                       preexec_fn=stop_with_parent)
        self.processes.append((name, process, log_path))

    def check_running(self):
        for name, process, _ in self.processes:
            check(process.poll() is None, "%s exited early with status %r"
                  % (name, process.returncode))

    def stop(self):
        problems = []
        for name, process, _ in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                problems.append("%s did not stop within 30 s of SIGTERM" % name)
                continue
            if process.returncode != 0:
                problems.append("%s exited with status %d" % (name, process.returncode))
        return problems

    def print_logs(self, limit=6000):
        for name, _, log_path in self.processes:
            with open(log_path, "rb") as log:
                text = log.read().decode("utf-8", "replace")
            sys.stderr.write("----- %s log (last %d characters) -----\n%s\n"
                             % (name, limit, text[-limit:]))


def wait_for(services, condition, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        services.check_running()
        if condition():
            return
        time.sleep(0.2)
    raise TestFailure("timed out after %d s waiting for %s" % (seconds, what))


def log_contains(path, text):
    with open(path, "rb") as log:
        return text.encode() in log.read()


def write_secret(directory, name, text):
    path = os.path.join(directory, name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    return path


def mint_refresh_token(api_base, channel_id):
    body = urllib.parse.urlencode({"channel": channel_id}).encode()
    with urllib.request.urlopen(api_base + "/sim/youtube/refresh-token", body,
                                timeout=30) as reply:
        return json.load(reply)["refresh_token"]


def write_config(directory, api_base, mode):
    """Writes the config of one mode. "mine" has a refresh token per channel
    id. "owner" has contentOwner==CONTENT_OWNER with one user token of the
    first channel id, which the simulator lets manage the owner. "broken"
    is "mine" with a Data API base where every call gets HTTP 404."""
    client = dict(CLIENT, token_uri=api_base + "/token")
    secret = write_secret(directory, "client_secret.json", json.dumps({"installed": client}))
    channels = {}
    for name, ids in CHANNELS.items():
        channels[name] = [{"id": channel_id} for channel_id in ids]
        for entry in channels[name] if mode != "owner" else []:
            token = mint_refresh_token(api_base, entry["id"])
            entry["refresh_token_file"] = write_secret(directory, entry["id"] + ".token",
                                                       token + "\n")
    config = {
        "broker": {"endpoint": "tcp://127.0.0.1:%d" % free_port(),
                   "bus_publish": "tcp://127.0.0.1:%d" % free_port(),
                   "bus_subscribe": "tcp://127.0.0.1:%d" % free_port(),
                   "heartbeat_ms": 500, "liveness": 10},
        "youtube": {"analytics_api_base": api_base,
                    "data_api_base": api_base + ("/no-such-api" if mode == "broken"
                                                 else "/youtube/v3"),
                    "token_uri": api_base + "/token", "client_secret_file": secret,
                    "channels": channels},
        "reporter": {"id": "ytvideos"},
        "log": {"level": "info"},
    }
    if mode == "owner":
        first_id = next(iter(CHANNELS.values()))[0]
        token = mint_refresh_token(api_base, first_id)
        config["youtube"]["content_owner"] = CONTENT_OWNER
        config["youtube"]["owner_refresh_token_file"] = write_secret(directory, "owner.token",
                                                                     token + "\n")
    path = os.path.join(directory, "statsdash.json")
    with open(path, "w") as handle:
        json.dump(config, handle, indent=2)
    return path


def start_chain(args, services, directory, dataset, mode):
    port_file = os.path.join(directory, "simulator.port")
    services.start("simulator", [args.bin_simulator, "--dataset", dataset, "--listen",
                                 "127.0.0.1:0", "--port-file", port_file])
    wait_for(services, lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0,
             90, "the simulator's port file")
    with open(port_file) as handle:
        api_base = "http://127.0.0.1:%d" % int(handle.read())
    config = write_config(directory, api_base, mode)
    services.start("broker", [args.bin_broker, "-c", config])
    services.start("worker-youtube", [args.bin_worker_youtube, "-c", config])
    services.start("aggregator", [args.bin_aggregator, "-c", config])
    services.start("reporter", [args.bin_reporter, "-c", config])
    # The broker logs each bus subscription once its XPUB delivers the
    # topic. Parts published before that would be lost.
    for name, text in (("worker-youtube", "started"), ("broker", "bus subscription added topic=raw."),
                       ("reporter", "reporter ready"),
                       ("broker", "bus subscription added topic=table.")):
        log_path = os.path.join(directory, name + ".log")
        wait_for(services, lambda: log_contains(log_path, text), 60, name + " to start")
    broker_log = os.path.join(directory, "broker.log")
    for service in ("youtube", "report"):
        wait_for(services, lambda: log_contains(broker_log, "service=%s " % service), 60,
                 "the broker to register a worker of " + service)
    return config, api_base


def request_report(statsdash, config, expected_status=0):
    command = [statsdash, "request", "-c", config, "--report", "youtube", "--sites", "all",
               "--frequency", FREQUENCY, "--date", DATE, "--format", "json",
               "--timeout", str(REQUEST_TIMEOUT_S)]
    result = subprocess.run(command, capture_output=True, text=True,
                            timeout=REQUEST_TIMEOUT_S + 30, preexec_fn=stop_with_parent)
    check(result.returncode == expected_status, "statsdash request exited with %d, not %d: %s"
          % (result.returncode, expected_status, result.stderr.strip()))
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise TestFailure("stdout is not JSON (%s): %r" % (error, result.stdout[:300]))


def simulator_stats(api_base):
    with urllib.request.urlopen(api_base + "/stats", timeout=30) as reply:
        return json.load(reply)


# ---------------------------------------------------------------------------
# The check.

def check_report(report, stats, facts, titles):
    """Checks the top videos table and the videos.list calls. Returns the
    counts."""
    check(report.get("status") == "complete", "the report is %r, not complete: %r"
          % (report.get("status"), report.get("warnings")))
    check("video_titles" not in report["tables"], "the report shows the titles lookup table")
    table = report["tables"].get("top_videos")
    check(table is not None, "the report has no top_videos table: %r" % list(report["tables"]))
    rows = table["rows"]
    table_videos = {row["video"] for row in rows}
    check(table_videos, "the top_videos table is empty")
    # The top videos table compares no periods, so its query runs for the
    # current period only.
    start, end = report_periods(report)["current"]
    expected = shown_videos(facts, start, end)
    check(table_videos == expected, "the table shows %r; the CSV gives %r"
          % (sorted(table_videos), sorted(expected)))
    for row in rows:
        expected_title = titles.get(row["video"], MISSING_TITLE)
        check(row.get("title") == expected_title, "video %s has the title %r; youtube-videos.csv "
              "gives %r" % (row["video"], row.get("title"), expected_title))
    endpoints = stats["endpoints"]
    calls = endpoints.get("videos.list", {}).get("requests", 0)
    bound = math.ceil(len(expected) / VIDEOS_PER_CALL)
    counts = {
        "videos.list": calls,
        "videos_shown": len(expected),
        "ceil_videos_shown_over_50": bound,
        "calls": {name: value.get("requests", 0) for name, value in sorted(endpoints.items())},
        "quota_youtube": stats.get("quota", {}).get("youtube", 0),
    }
    check(calls == bound, "%d videos.list calls for the %d videos shown; expected "
          "ceil(%d / %d) = %d" % (calls, len(expected), len(expected), VIDEOS_PER_CALL, bound))
    return counts


def check_failed_titles(report, facts):
    """Checks a report whose Data API calls all failed: it still shows the
    top videos, with null titles, and warns that the titles are missing."""
    check(report.get("status") == "partial", "the report is %r, not partial"
          % report.get("status"))
    rows = report["tables"]["top_videos"]["rows"]
    start, end = report_periods(report)["current"]
    expected = shown_videos(facts, start, end)
    check({row["video"] for row in rows} == expected, "the table shows %r; the CSV gives %r"
          % (sorted(row["video"] for row in rows), sorted(expected)))
    check(all(row.get("title") is None for row in rows), "titles shown without videos.list: %r"
          % [row.get("title") for row in rows])
    check(any("video_titles" in warning for warning in report.get("warnings", [])),
          "no warning names the video titles: %r" % report.get("warnings"))
    return {"videos_shown": len(expected), "warnings": report.get("warnings")}


def run_mode(args, dataset, mode):
    """Runs the chain in one mode and checks the report. Returns the
    counts, or raises TestFailure."""
    with tempfile.TemporaryDirectory(prefix="statsdash-ytvideos-") as directory:
        services = Services(directory)
        failure = None
        counts = None
        try:
            config, api_base = start_chain(args, services, directory, dataset, mode)
            if mode == "broken":
                report = request_report(args.bin_statsdash, config, expected_status=2)
                counts = check_failed_titles(report, read_facts(dataset))
            else:
                report = request_report(args.bin_statsdash, config)
                counts = check_report(report, simulator_stats(api_base), read_facts(dataset),
                                      read_titles(dataset))
        except (TestFailure, subprocess.SubprocessError, OSError) as error:
            failure = error
        problems = services.stop()
        if failure is not None or problems:
            services.print_logs()
            texts = ([str(failure)] if failure is not None else []) + problems
            raise TestFailure("%s mode: %s" % (mode, "; ".join(texts)))
        return counts


def prepare_dataset(mode, generator, directory):
    if mode == "env":
        dataset = os.environ.get("STATSDASH_DATASET", "")
        if not dataset:
            return None
        for name in ("youtube-facts.csv", "youtube-videos.csv"):
            path = os.path.join(dataset, name)
            check(os.access(path, os.R_OK), "STATSDASH_DATASET=%s: cannot read %s"
                  % (dataset, path))
        return dataset
    dataset = os.path.join(directory, "dataset")
    subprocess.run([sys.executable, generator, dataset], check=True)
    return dataset


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", choices=["generate", "env"], required=True)
    for name in ("simulator", "broker", "worker-youtube", "aggregator", "reporter",
                 "statsdash"):
        parser.add_argument("--bin-" + name, required=True)
    parser.add_argument("--generator", required=True)
    parser.add_argument("--mode", choices=["mine", "owner", "broken", "all"], default="all",
                        help="channel==MINE tokens, content-owner mode, a Data API that "
                        "fails every call, or all three in turn")
    parser.add_argument("--print", action="store_true", help="print the counts as JSON")
    return parser.parse_args()


def main():
    args = parse_arguments()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("e2e: terminated"))
    os.environ["STATSDASH_NOW"] = NOW
    modes = ["mine", "owner", "broken"] if args.mode == "all" else [args.mode]
    with tempfile.TemporaryDirectory(prefix="statsdash-ytdataset-") as directory:
        try:
            dataset = prepare_dataset(args.dataset, args.generator, directory)
            if dataset is None:
                print("STATSDASH_DATASET is not set; skipping")
                return SKIPPED
            counts = {mode: run_mode(args, dataset, mode) for mode in modes}
        except (TestFailure, subprocess.SubprocessError, OSError) as error:
            sys.stderr.write("FAIL: %s\n" % error)
            return 1
    if args.print:
        print(json.dumps(counts, indent=2, sort_keys=True))
    for mode, found in counts.items():
        if mode == "broken":
            print("ok broken mode: %d videos shown without titles" % found["videos_shown"])
        else:
            print("ok %s mode: %d videos.list calls for %d videos shown"
                  % (mode, found["videos.list"], found["videos_shown"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
