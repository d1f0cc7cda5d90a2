#!/usr/bin/python3
"""The reporter service over loopback: a real broker and reporter, and this
script as the GA worker and the aggregator.

Each case runs `statsdash request` and checks its exit status, its stderr
and the JSON report against the tables this script published. The figures
of the report come only from those tables, so the expected values are the
ones written below.

Usage: reporter_service.py BROKER REPORTER STATSDASH
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

SITES = ["one.example", "two.example"]
METRICS = ["pageviews", "users", "sessions", "pv_per_session", "avg_session_time"]
PREFIXES = ["", "previous_figure_", "previous_change_", "previous_percentage_",
            "yearly_figure_", "yearly_change_", "yearly_percentage_"]
PERIODS = [{"label": "current", "start": "2026-12-01", "end": "2026-12-01"},
           {"label": "previous", "start": "2026-11-24", "end": "2026-11-24"},
           {"label": "yearly", "start": "2025-12-01", "end": "2025-12-01"}]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def metric_cells(figures):
    """Cells of the five metrics: figure, then figure, change and percentage
    per compared period. figures maps a period label to five numbers."""
    cells = []
    for m in range(len(METRICS)):
        current = figures["current"][m]
        cells.append(current)
        for period in ("previous", "yearly"):
            base = figures[period][m]
            cells += [base, current - base, (current - base) / base * 100 if base else 0.0]
    return cells


def columns(with_site):
    result = [{"name": "site", "kind": "dimension", "unit": ""}] if with_site else []
    for metric in METRICS:
        result += [{"name": p + metric, "kind": "metric", "unit": "count"} for p in PREFIXES]
    return result


FIGURES = {
    "one.example": {"current": [1000, 400, 500, 2.0, 1.5], "previous": [800, 400, 400, 2.0, 1.0],
                    "yearly": [500, 200, 250, 2.0, 3.0]},
    "two.example": {"current": [3000, 900, 1000, 3.0, 0.5], "previous": [3000, 1000, 1000, 3.0, 0.5],
                    "yearly": [1500, 450, 500, 3.0, 0.25]},
}
TOTAL = {"current": [4000, 1300, 1500, 4000 / 1500, 2.0], "previous": [3800, 1400, 1400, 3800 / 1400, 1.5],
         "yearly": [2000, 650, 750, 2000 / 750, 3.25]}


def id_prefix(job):
    """The "<request_id>.<attempt>" that starts every table id of the job."""
    return job["queries"][0]["table_id"].rsplit(".", 1)[0]


def table_message(request_id, prefix, reporter_id, name, missing, scale=1):
    with_site = name == "site_summary"
    if with_site:
        rows = [[site] + metric_cells(FIGURES[site]) for site in ("two.example", "one.example")]
        totals = [None] + metric_cells(TOTAL)
    else:
        figures = {k: [v * scale for v in values] for k, values in TOTAL.items()}
        rows = [metric_cells(figures)]
        totals = metric_cells(figures)
    return {"v": 2, "type": "table.normalized", "request_id": request_id,
            "reporter_id": reporter_id, "table_id": prefix + "." + name,
            "periods": PERIODS, "columns": columns(with_site), "rows": rows,
            "totals": totals, "missing": missing, "warnings": []}


def empty_table(request_id, reporter_id, table_id):
    """A table with no rows, for the tables a case does not look at."""
    return {"v": 2, "type": "table.normalized", "request_id": request_id,
            "reporter_id": reporter_id, "table_id": table_id, "periods": PERIODS,
            "columns": [], "rows": [], "totals": [], "missing": [], "warnings": []}


def publish_other_tables(peers, reporter_id, job):
    """Publishes an empty table for every table of the job other than the
    summary tables. Empty parents leave their dependent tables nothing to
    fetch, so no second-stage job follows."""
    for query in job["queries"]:
        name = query["table_id"][len(id_prefix(job)) + 1:]
        if name not in ("summary", "site_summary"):
            peers.publish(reporter_id, empty_table(job["request_id"], reporter_id,
                                                   query["table_id"]))


class Peers:
    """The fake GA worker (MDP) and the fake aggregator (bus publisher)."""

    def __init__(self, context, endpoint, bus_publish):
        self.worker = context.socket(zmq.DEALER)
        self.worker.linger = 0
        self.worker.connect(endpoint)
        self.worker.send_multipart([b"", b"MDPW01", b"\x01", b"ga"])
        self.publisher = context.socket(zmq.PUB)
        self.publisher.linger = 0
        self.publisher.connect(bus_publish)
        self.last_heartbeat = time.monotonic()

    def poll_jobs(self, seconds):
        """Returns the fetch jobs received within seconds, with their return
        addresses, while sending heartbeats."""
        jobs = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if time.monotonic() - self.last_heartbeat > 0.5:
                self.worker.send_multipart([b"", b"MDPW01", b"\x04"])
                self.last_heartbeat = time.monotonic()
            if not self.worker.poll(100):
                continue
            frames = self.worker.recv_multipart()
            if frames[2] == b"\x02":
                body = msgpack.unpackb(frames[5], raw=False)
                jobs.append((frames[3], body))
        return jobs

    def publish(self, reporter_id, message):
        topic = ("table.%s." % reporter_id).encode()
        self.publisher.send_multipart([topic, msgpack.packb(message, use_bin_type=True)])

    def reply(self, address, job, part_error=None):
        parts = []
        for query in job["queries"]:
            for period in ("current", "previous", "yearly"):
                part = {"table_id": query["table_id"], "part_id": job["site"] + "/" + period,
                        "rows": 1, "digest": ""}
                if part_error and period == "yearly" and job["site"] == "two.example":
                    part["error"] = part_error
                    part["digest"] = ""
                parts.append(part)
        body = {"v": 2, "type": "fetch.reply", "job_id": job["job_id"],
                "request_id": job["request_id"], "site": job["site"], "parts": parts,
                "warnings": []}
        self.worker.send_multipart([b"", b"MDPW01", b"\x03", address, b"",
                                    msgpack.packb(body, use_bin_type=True)])


def run_request(statsdash, config, args, peers, serve):
    """Runs `statsdash request`; serve(jobs) is called with each batch of
    fetch jobs that arrive while it runs.
    Returns (exit status, stdout, stderr)."""
    command = [statsdash, "request", "-c", config] + args
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    end = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < end:
        serve(peers.poll_jobs(0.2))
    if process.poll() is None:
        process.kill()
        process.communicate()
        raise AssertionError("statsdash request did not exit within 60 s: %r" % command)
    out, err = process.communicate()
    return process.returncode, out.decode(), err.decode()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def case_partial_report(statsdash, config, peers, reporter_id):
    """Two sites; two.example lacks its yearly part. A second copy of the
    summary and a table of another request must be ignored."""
    seen = []

    def serve(jobs):
        # MDP hands the worker one job at a time: reply to each at once, and
        # publish the tables once both sites' jobs were seen.
        for address, job in jobs:
            peers.reply(address, job, part_error="HTTP 503 from the API")
            publish_other_tables(peers, reporter_id, job)
            seen.append(job)
        if len(seen) != 2 or not jobs:
            return
        request_id = seen[0]["request_id"]
        prefix = id_prefix(seen[0])
        missing = [{"site": "two.example", "period": "yearly", "error": "HTTP 503 from the API"}]
        peers.publish(reporter_id, table_message("other", "other.0", reporter_id, "summary", []))
        peers.publish(reporter_id, table_message(request_id, prefix, reporter_id, "summary", missing))
        peers.publish(reporter_id, table_message(request_id, prefix, reporter_id, "summary", [], scale=7))
        peers.publish(reporter_id, table_message(request_id, prefix, reporter_id, "site_summary",
                                                 missing))

    status, out, err = run_request(statsdash, config, ["--report", "ga-core", "--sites", "all",
                                   "--frequency", "WOW_DAILY", "--date", "2026-12-01",
                                   "--format", "json", "--timeout", "30"], peers, serve)
    check(status == 2, "partial report: exit %d, stderr %s" % (status, err))
    check("two.example: HTTP 503 from the API" in err, "warning missing from stderr: " + err)
    report = json.loads(out)
    check(report["status"] == "partial", "status " + report["status"])
    check(report["missing"] == ["two.example"], "missing %r" % report["missing"])
    check(report["subject"] == "Statsdash ga-core: Tue 01 Dec 2026", report["subject"])
    check(report["periods"]["previous"] == ["2026-11-24", "2026-11-24"], "previous period")
    summary = report["tables"]["summary"]["rows"][0]
    check(summary["pageviews"] == 4000, "first copy of the summary kept: %r" % summary["pageviews"])
    check(summary["previous_change_pageviews"] == 200, "pageviews change")
    check(close(summary["yearly_percentage_users"], (1300 - 650) / 650 * 100), "users YoY %")
    rows = report["tables"]["site_summary"]["rows"]
    check([row["site"] for row in rows] == ["two.example", "one.example"], "site order")
    check(close(rows[1]["avg_session_time"], 1.5), "session time")


def case_complete_report(statsdash, config, peers, reporter_id):
    def serve(jobs):
        for address, job in jobs:
            for name in ("summary", "site_summary"):
                peers.publish(reporter_id, table_message(job["request_id"], id_prefix(job), reporter_id,
                                                         name, []))
            publish_other_tables(peers, reporter_id, job)
            peers.reply(address, job)

    status, out, err = run_request(statsdash, config, ["--report", "ga-core", "--sites",
                                   "one.example", "--frequency", "WOW_DAILY", "--date",
                                   "2026-12-01", "--format", "html", "--timeout", "30"], peers,
                                   serve)
    check(status == 0, "complete report: exit %d, stderr %s" % (status, err))
    check("Statsdash ga-core: Tue 01 Dec 2026" in out, "subject in the HTML")
    check("4,000" in out and "Missing data" not in out, "HTML figures and no warning box")


def case_render_at_deadline(statsdash, config, peers, reporter_id):
    """No table ever arrives: the reporter renders before the deadline."""
    status, out, err = run_request(statsdash, config, ["--report", "ga-core", "--sites", "all",
                                   "--frequency", "DAILY", "--date", "2026-12-01", "--format",
                                   "json", "--timeout", "6"], peers, lambda jobs: None)
    check(status == 2, "report at the deadline: exit %d, stderr %s" % (status, err))
    report = json.loads(out)
    check(sorted(report["missing"]) == SITES, "missing %r, warnings %r" % (report["missing"], report["warnings"]))
    check("no data arrived before the deadline" in err, "warning: " + err)


def case_errors(statsdash, config, peers, reporter_id):
    status, _, err = run_request(statsdash, config, ["--report", "ga-core", "--sites",
                                 "one.example,nosuch.example", "--frequency", "DAILY", "--date",
                                 "2026-12-01"], peers, lambda jobs: None)
    # statsdash request checks the names against its config before sending.
    check(status == 1 and "unknown site \"nosuch.example\"" in err, "unknown site: " + err)
    check(len(err.strip().splitlines()) == 1, "one line: " + err)
    for args, word in ((["--date", "2026-13-01", "--frequency", "DAILY"], "2026-13-01"),
                       (["--date", "2026-12-01", "--frequency", "HOURLY"], "HOURLY")):
        status, _, err = run_request(statsdash, config, ["--report", "ga-core", "--sites", "all"]
                                     + args, peers, lambda jobs: None)
        check(status == 1 and word in err and len(err.strip().splitlines()) == 1,
              "bad argument %s: %d %s" % (word, status, err))
    status, _, err = run_request(statsdash, config, ["--report", "ga-core", "--sites", "all",
                                 "--frequency", "DAILY", "--date", "2026-12-01", "--format",
                                 "pdf"], peers, lambda jobs: None)
    check(status == 1 and "pdf" in err and "html, csv or json" in err, "bad format: " + err)


def write_config(directory, ports, reporter_id, endpoint_port=None):
    config = {
        "broker": {"endpoint": "tcp://127.0.0.1:%d" % (endpoint_port or ports[0]),
                   "bus_publish": "tcp://127.0.0.1:%d" % ports[1],
                   "bus_subscribe": "tcp://127.0.0.1:%d" % ports[2],
                   "heartbeat_ms": 500, "liveness": 10},
        "reporter": {"id": reporter_id, "render_margin_ms": 2000, "table_margin_ms": 500},
        "ga": {"sites": {site: [{"property": "31000000%d" % (i + 1)}]
                         for i, site in enumerate(SITES)}},
        "log": {"level": "debug"},
    }
    path = os.path.join(directory, "config-%d.json" % (endpoint_port or ports[0]))
    with open(path, "w") as file:
        json.dump(config, file)
    return path


def case_no_broker(statsdash, directory, ports):
    config = write_config(directory, ports, "nobroker", endpoint_port=free_port())
    process = subprocess.run([statsdash, "request", "-c", config, "--report", "ga-core",
                              "--sites", "all", "--frequency", "DAILY", "--date", "2026-12-01",
                              "--timeout", "1"], capture_output=True, timeout=60)
    err = process.stderr.decode()
    check(process.returncode == 1, "no broker: exit %d" % process.returncode)
    check("no reply from the broker at tcp://127.0.0.1:" in err, "no broker: " + err)


def main():
    broker, reporter, statsdash = sys.argv[1:4]
    reporter_id = "rtest%d" % os.getpid()
    with tempfile.TemporaryDirectory() as directory:
        ports = [free_port() for _ in range(3)]
        config = write_config(directory, ports, reporter_id)
        logs = open(os.path.join(directory, "services.log"), "w")
        processes = [subprocess.Popen([broker, "-c", config], stderr=logs)]
        time.sleep(0.5)
        processes.append(subprocess.Popen([reporter, "-c", config], stderr=logs))
        context = zmq.Context()
        failed = None
        try:
            peers = Peers(context, "tcp://127.0.0.1:%d" % ports[0],
                          "tcp://127.0.0.1:%d" % ports[1])
            peers.poll_jobs(1.5)
            for case in (case_partial_report, case_complete_report, case_render_at_deadline,
                         case_errors):
                case(statsdash, config, peers, reporter_id)
                print("ok", case.__name__)
            case_no_broker(statsdash, directory, ports)
            print("ok case_no_broker")
        except Exception as error:  # reported with the service logs below
            failed = error
        finally:
            for process in reversed(processes):
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            context.destroy(linger=0)
            logs.close()
            statuses = [process.returncode for process in processes]
            if failed or any(statuses):
                with open(os.path.join(directory, "services.log")) as file:
                    sys.stderr.write(file.read()[-20000:])
        if failed:
            print("FAILED:", failed)
            return 1
        if any(statuses):
            print("FAILED: a service did not stop cleanly: exit statuses %r" % statuses)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
