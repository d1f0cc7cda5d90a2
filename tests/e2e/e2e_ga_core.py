#!/usr/bin/python3
"""The first report chain end to end: the Google API simulator, the broker,
two GA workers, the aggregator and the reporter on loopback, driven by
`statsdash request`.

Cases (the first argument):
  reports         ga-core in JSON for the four sites of the sample dataset,
                  WOW_DAILY 2026-12-01, WEEKLY 2026-11-29, MONTHLY 2026-11-30
                  and MONTHLY 2026-09-30. Every figure of the summary and
                  site_summary tables must equal sums computed here from
                  ga4-facts.csv, and both GA workers must have run jobs.
  unknown-site    an extra site whose GA4 property the dataset lacks: the
                  report comes back partial (exit 2) and names that site.

The dataset is generated into a temporary folder, unless --dataset env is
given: then STATSDASH_DATASET names it, the case exits 77 (skipped) when the
variable is unset and fails when the folder cannot be read.

Every service must stop with exit status 0 on SIGTERM, and is stopped on
failure as well.

Usage: e2e_ga_core.py CASE --dataset generate|env --bin-simulator PATH
       --bin-broker PATH --bin-worker-ga PATH --bin-aggregator PATH
       --bin-reporter PATH --bin-statsdash PATH --generator PATH
"""
import argparse
import csv
import ctypes
import datetime
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SKIPPED = 77

# The sites of the sample dataset and their GA4 properties. 310000002 is the
# AMP copy of gamesnews.example; its data counts although it is excused from
# the availability check.
SITES = {
    "gamesnews.example": ["310000001", "310000002"],
    "retrotech.example": ["310000003"],
    "boardplay.example": ["310000004"],
    "jeuxvideo.example": ["310000005"],
}
UNKNOWN_SITE = "ghost.example"
UNKNOWN_PROPERTY = "310000099"

# Every process reads "now" from STATSDASH_NOW: the evening after the last
# complete day of the dataset.
NOW = "2026-12-02T18:00:00Z"
REPORTER_ID = "e2e"
# ga.concurrent_jobs of both GA workers: each process registers this many
# MDP workers, so the broker lists that many per process.
GA_CONCURRENT_JOBS = 2
REQUEST_TIMEOUT_S = 40

METRICS = ["pageviews", "users", "sessions", "pv_per_session", "avg_session_time"]
FACT_COLUMNS = ["screenPageViews", "totalUsers", "sessions", "userEngagementDuration"]

# (frequency, --date, expected subject suffix). The generated dataset starts
# in October 2025, so September 2026 has no yearly data there: its yearly
# figures are 0, their percentages 0 and every row is flagged new.
REPORTS = [
    ("WOW_DAILY", "2026-12-01", "Tue 01 Dec 2026"),
    ("WEEKLY", "2026-11-29", "Mon 23 Nov 2026 - Sun 29 Nov 2026"),
    ("MONTHLY", "2026-11-30", "November 2026"),
    ("MONTHLY", "2026-09-30", "September 2026"),
]


class TestFailure(Exception):
    """A check of the report or of a service failed."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


# ---------------------------------------------------------------------------
# Expected values, from the CSV and the period rules only.

def read_facts(path):
    """Sum the additive metrics of ga4-facts.csv per (property, date).
    Return {(property, datetime.date): [pageviews, users, sessions, seconds]}."""
    sums = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = datetime.datetime.strptime(row["date"], "%Y%m%d").date()
            totals = sums.setdefault((row["property"], day), [0, 0, 0, 0])
            for i, column in enumerate(FACT_COLUMNS):
                totals[i] += int(row[column])
    return sums


def one_year_earlier(day):
    """Return the same date a year earlier, mapping 29 February to 28 February."""
    if day.month == 2 and day.day == 29:
        return datetime.date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def month_range(year, month):
    first = datetime.date(year, month, 1)
    next_first = datetime.date(year + month // 12, month % 12 + 1, 1)
    return first, next_first - datetime.timedelta(days=1)


def report_periods(frequency, date_text):
    """Return the current, previous and yearly periods as (first day, last day)."""
    day = datetime.date.fromisoformat(date_text)
    week = datetime.timedelta(days=7)
    if frequency == "WOW_DAILY":
        current, previous = (day, day), (day - week, day - week)
    elif frequency == "WEEKLY":
        start = day - datetime.timedelta(days=6)
        current, previous = (start, day), (start - week, day - week)
    elif frequency == "MONTHLY":
        current = month_range(day.year, day.month)
        before = current[0] - datetime.timedelta(days=1)
        previous = month_range(before.year, before.month)
    else:
        raise ValueError("frequency not covered by this test: " + frequency)
    yearly = (one_year_earlier(current[0]), one_year_earlier(current[1]))
    return {"current": current, "previous": previous, "yearly": yearly}


def days_of(period):
    day = period[0]
    while day <= period[1]:
        yield day
        day += datetime.timedelta(days=1)


def sum_period(facts, properties, period):
    totals = [0, 0, 0, 0]
    for day in days_of(period):
        for prop in properties:
            for i, value in enumerate(facts.get((prop, day), (0, 0, 0, 0))):
                totals[i] += value
    return totals


def has_rows(facts, properties, period):
    """Return True when the CSV has a row of one of the properties in the period."""
    return any((prop, day) in facts for day in days_of(period) for prop in properties)


def expected_flags(facts, properties, periods):
    """Return the expected new flags. A row is new in a comparison period
    where it has no rows."""
    return {label + "_new": not has_rows(facts, properties, periods[label])
            for label in ("previous", "yearly")}


def report_metrics(sums):
    """Compute the five report metrics from summed facts. Ratios come from the
    sums, session time is in minutes, and zero sessions give ratios of 0."""
    pageviews, users, sessions, seconds = sums
    per_session = pageviews / sessions if sessions else 0.0
    minutes = seconds / sessions / 60 if sessions else 0.0
    return dict(zip(METRICS, [pageviews, users, sessions, per_session, minutes]))


def expected_row(facts, properties, periods):
    """Compute every column of a shared-format row for the given properties."""
    figures = {label: report_metrics(sum_period(facts, properties, period))
               for label, period in periods.items()}
    row = {}
    for metric in METRICS:
        current = figures["current"][metric]
        row[metric] = current
        for label in ("previous", "yearly"):
            base = figures[label][metric]
            change = current - base
            row[label + "_figure_" + metric] = base
            row[label + "_change_" + metric] = change
            row[label + "_percentage_" + metric] = change / base * 100 if base else 0.0
    return row


def check_row(actual, expected, where):
    for column, value in expected.items():
        check(column in actual, "%s: column %s missing; columns are %s"
              % (where, column, sorted(actual)))
        got = actual[column]
        check(isinstance(got, (int, float)) and not isinstance(got, bool),
              "%s: %s is %r, expected a number" % (where, column, got))
        check(math.isclose(got, value, rel_tol=1e-9, abs_tol=1e-12),
              "%s: %s is %r, expected %r" % (where, column, got, value))


def check_flags(row, expected, where):
    for column, value in expected.items():
        check(row.get(column) is value, "%s: %s is %r, expected %r"
              % (where, column, row.get(column), value))


def check_header(report, frequency, date_text, subject_period, missing, without_rows=()):
    """Check the report's type, periods, subject, status and warnings.
    missing lists the sites expected to fail, which makes the status
    partial. without_rows lists the sites without rows in some period, and
    a warning must name each of them. With both lists empty, the report must
    have no warnings."""
    where = "%s %s" % (frequency, date_text)
    check(report.get("report") == "ga-core", "%s: report %r" % (where, report.get("report")))
    check(report.get("frequency") == frequency,
          "%s: frequency %r" % (where, report.get("frequency")))
    status = "partial" if missing else "complete"
    check(report.get("status") == status, "%s: status %r, expected %s; missing %r, warnings %r"
          % (where, report.get("status"), status, report.get("missing"), report.get("warnings")))
    check(report.get("missing") == missing, "%s: missing %r, expected %r"
          % (where, report.get("missing"), missing))
    warnings = report.get("warnings")
    if not missing and not without_rows:
        check(warnings == [], "%s: warnings %r" % (where, warnings))
    for site in without_rows:
        check(any(site in warning for warning in warnings),
              "%s: no warning names %s, which has no rows in a period: %r"
              % (where, site, warnings))
    check(report.get("subject") == "Statsdash ga-core: " + subject_period,
          "%s: subject %r" % (where, report.get("subject")))
    for label, (first, last) in report_periods(frequency, date_text).items():
        check(report["periods"].get(label) == [first.isoformat(), last.isoformat()],
              "%s: %s period %r, expected %s to %s"
              % (where, label, report["periods"].get(label), first, last))


def check_columns(table, expected_row_columns, keys, where):
    """Check that the table has exactly the expected columns, so that no
    figure goes unchecked."""
    expected = set(keys) | set(expected_row_columns) | {"previous_new", "yearly_new"}
    check(set(table["columns"]) == expected, "%s: columns %r, expected %r"
          % (where, sorted(table["columns"]), sorted(expected)))


def check_tables(report, facts, sites, frequency, date_text):
    """Check every figure of the summary and site_summary tables against the
    CSV. sites lists the sites expected to have data."""
    where = "%s %s" % (frequency, date_text)
    periods = report_periods(frequency, date_text)
    all_properties = [prop for site in sites for prop in SITES[site]]
    network = expected_row(facts, all_properties, periods)
    summary = report["tables"]["summary"]
    check_columns(summary, network, [], where + " summary")
    check(len(summary["rows"]) == 1, "%s: summary has %d rows" % (where, len(summary["rows"])))
    check_row(summary["rows"][0], network, where + " summary row")
    check_flags(summary["rows"][0], expected_flags(facts, all_properties, periods),
                where + " summary row")
    check_row(summary["totals"], network, where + " summary totals")

    site_summary = report["tables"]["site_summary"]
    check_columns(site_summary, network, ["site"], where + " site_summary")
    rows = site_summary["rows"]
    expected = {site: expected_row(facts, SITES[site], periods) for site in sites}
    check(sorted(row.get("site") for row in rows) == sorted(sites),
          "%s: site_summary sites %r" % (where, [row.get("site") for row in rows]))
    by_users = sorted(sites, key=lambda site: expected[site]["users"], reverse=True)
    check([row["site"] for row in rows] == by_users,
          "%s: site_summary order %r, expected by users %r"
          % (where, [row["site"] for row in rows], by_users))
    for row in rows:
        check_row(row, expected[row["site"]], "%s site_summary %s" % (where, row["site"]))
        check_flags(row, expected_flags(facts, SITES[row["site"]], periods),
                    "%s site_summary %s" % (where, row["site"]))
    check_row(site_summary["totals"], network, where + " site_summary totals")


# ---------------------------------------------------------------------------
# Services.

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_with_parent():
    """Ask the kernel to send SIGTERM to the child when this script dies, so
    that a killed test (CTest timeout) leaves no service running."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Services:
    """The processes started by the test, stopped in reverse order."""

    def __init__(self, directory):
        self.directory = directory
        self.processes = []  # (name, Popen, log path)

    def start(self, name, command):
        log_path = os.path.join(self.directory, name + ".log")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=log,
                                       preexec_fn=stop_with_parent)
        self.processes.append((name, process, log_path))
        return process

    def check_running(self):
        for name, process, _ in self.processes:
            check(process.poll() is None, "%s exited early with status %r"
                  % (name, process.returncode))

    def stop(self):
        """Send SIGTERM to every service and wait for it. Return a message
        for each service that did not exit with status 0."""
        problems = []
        for name, process, _ in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                problems.append("%s did not stop within 30 s of SIGTERM (killed)" % name)
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
    """Poll condition until it is true. Fail when a service exits first."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        services.check_running()
        if condition():
            return
        time.sleep(0.2)
    raise TestFailure("timed out after %d s waiting for %s" % (seconds, what))


def write_key_pair(directory):
    """Generate an RSA key pair with openssl. Return (private PEM path, public PEM path)."""
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
        "project_id": "statsdash-e2e",
        "private_key_id": "e2e",
        "private_key": private_key,
        "client_email": "statsdash-e2e@statsdash-e2e.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }
    path = os.path.join(directory, "service-account.json")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(key, handle)
    return path


def write_config(directory, api_base, key_file, sites, shards):
    config = {
        "broker": {
            "endpoint": "tcp://127.0.0.1:%d" % free_port(),
            "bus_publish": "tcp://127.0.0.1:%d" % free_port(),
            "bus_subscribe": "tcp://127.0.0.1:%d" % free_port(),
            "heartbeat_ms": 500,
            "liveness": 10,
        },
        "ga": {
            "api_base": api_base,
            "key_file": key_file,
            "concurrent_jobs": GA_CONCURRENT_JOBS,
            "sites": {site: [{"property": prop, "wait_for_data": prop != "310000002"}
                             for prop in properties]
                      for site, properties in sites.items()},
        },
        "aggregator": {"shards": shards},
        "reporter": {"id": REPORTER_ID},
        "log": {"level": "info"},
    }
    path = os.path.join(directory, "statsdash.json")
    with open(path, "w") as handle:
        json.dump(config, handle, indent=2)
    return path


def worker_counts(statsdash, config):
    """Return {service: live workers} from `statsdash status`, which prints
    a header row (service, workers, idle, ...) and one row per service, or
    {} when the broker does not answer."""
    result = subprocess.run([statsdash, "status", "-c", config], capture_output=True,
                            text=True, timeout=30, preexec_fn=stop_with_parent)
    lines = result.stdout.splitlines()
    if result.returncode != 0 or not lines:
        return {}
    header = lines[0].split()
    check("service" in header and "workers" in header,
          "`statsdash status` printed an unexpected header: %r" % lines[0])
    counts = {}
    for line in lines[1:]:
        fields = line.split()
        if len(fields) == len(header):
            counts[fields[header.index("service")]] = int(fields[header.index("workers")])
    return counts


def services_live(statsdash, config):
    """Return True when the broker has the MDP workers of both GA worker
    processes and a reporter."""
    counts = worker_counts(statsdash, config)
    return counts.get("ga", 0) >= 2 * GA_CONCURRENT_JOBS and counts.get("report", 0) >= 1


def subscription_count(broker_log, topic):
    """Return how many bus subscriptions to topics starting with topic the
    broker has logged."""
    with open(broker_log, "rb") as log:
        return log.read().count(b"bus subscription added topic=" + topic.encode())


def log_contains(path, text):
    with open(path, "rb") as log:
        return text.encode() in log.read()


def start_aggregators(args, services, directory, config, shards):
    """Start one aggregator, or with shards=2 one per shard plus a second
    one for shard 0, so tables of shard 0 are published twice and the
    reporter must keep the first copy. Return their log paths."""
    if shards == 1:
        plan = [("aggregator", [])]
    else:
        plan = [("aggregator-0", ["--shard", "0"]), ("aggregator-1", ["--shard", "1"]),
                ("aggregator-0-copy", ["--shard", "0"])]
    logs = []
    for name, options in plan:
        services.start(name, [args.bin_aggregator, "-c", config] + options)
        logs.append(os.path.join(directory, name + ".log"))
    return logs


def start_chain(args, services, directory, dataset, sites, shards=1):
    """Start every service over the dataset. Return the config path."""
    private_pem, public_pem = write_key_pair(directory)
    port_file = os.path.join(directory, "simulator.port")
    services.start("simulator", [args.bin_simulator, "--dataset", dataset, "--listen",
                                 "127.0.0.1:0", "--port-file", port_file,
                                 "--public-key", public_pem])
    wait_for(services, lambda: os.path.exists(port_file), 60, "the simulator's port file")
    with open(port_file) as handle:
        api_base = "http://127.0.0.1:%d" % int(handle.read())

    key_file = write_service_account(directory, private_pem, api_base + "/token")
    config = write_config(directory, api_base, key_file, sites, shards)
    services.start("broker", [args.bin_broker, "-c", config])
    services.start("worker-ga-1", [args.bin_worker_ga, "-c", config])
    services.start("worker-ga-2", [args.bin_worker_ga, "-c", config])
    aggregator_logs = start_aggregators(args, services, directory, config, shards)
    services.start("reporter", [args.bin_reporter, "-c", config])

    wait_for(services, lambda: services_live(args.bin_statsdash, config), 60,
             "`statsdash status` to show 2 ga workers and a report worker")
    # Parts published before an aggregator's subscription reaches the
    # broker would be lost. The broker logs each subscription once its XPUB
    # delivers the topic.
    broker_log = os.path.join(directory, "broker.log")
    wait_for(services, lambda: subscription_count(broker_log, "raw.") >= len(aggregator_logs)
             and subscription_count(broker_log, "table.") >= 1, 30,
             "the aggregators' and the reporter's bus subscriptions")
    return config


def request_report(statsdash, config, frequency, date_text, yearly="calendar"):
    """Run `statsdash request` for ga-core in JSON. Return (exit status,
    parsed report or None, stderr)."""
    command = [statsdash, "request", "-c", config, "--report", "ga-core", "--sites", "all",
               "--frequency", frequency, "--date", date_text, "--format", "json",
               "--timeout", str(REQUEST_TIMEOUT_S), "--yearly", yearly]
    result = subprocess.run(command, capture_output=True, text=True,
                            timeout=REQUEST_TIMEOUT_S + 30, preexec_fn=stop_with_parent)
    report = None
    if result.stdout.strip():
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError as error:
            raise TestFailure("%s %s: stdout is not JSON (%s): %r"
                              % (frequency, date_text, error, result.stdout[:500]))
    return result.returncode, report, result.stderr


# ---------------------------------------------------------------------------
# Cases.

def case_reports(args, config, dataset):
    facts = read_facts(os.path.join(dataset, "ga4-facts.csv"))
    for frequency, date_text, subject_period in REPORTS:
        status, report, err = request_report(args.bin_statsdash, config, frequency, date_text)
        check(status == 0, "%s %s: exit status %d, stderr: %s"
              % (frequency, date_text, status, err))
        check(report is not None, "%s %s: no report on stdout" % (frequency, date_text))
        periods = report_periods(frequency, date_text).values()
        without_rows = [site for site in SITES
                        if not all(has_rows(facts, SITES[site], period) for period in periods)]
        check_header(report, frequency, date_text, subject_period, [], without_rows)
        check_tables(report, facts, list(SITES), frequency, date_text)
        print("ok %s %s" % (frequency, date_text))
    check_weekday_aligned(args, config, facts)

    # Each report sends one fetch job per site at once, and an MDP worker
    # takes one job at a time, so the broker hands jobs to both workers.
    for n in (1, 2):
        log_path = os.path.join(os.path.dirname(config), "worker-ga-%d.log" % n)
        check(log_contains(log_path, "job started"), "worker-ga-%d ran no fetch job" % n)


def check_weekday_aligned(args, config, facts):
    """With --yearly weekday the yearly period is 364 days earlier (a
    Tuesday for a Tuesday), and the yearly figures follow it."""
    date_text = "2026-12-01"
    status, report, err = request_report(args.bin_statsdash, config, "WOW_DAILY", date_text,
                                         "weekday")
    where = "WOW_DAILY %s --yearly weekday" % date_text
    check(status == 0, "%s: exit status %d, stderr: %s" % (where, status, err))
    day = datetime.date.fromisoformat(date_text)
    aligned = day - datetime.timedelta(days=364)
    check(report["periods"]["yearly"] == [aligned.isoformat()] * 2,
          "%s: yearly period %r" % (where, report["periods"]["yearly"]))
    periods = report_periods("WOW_DAILY", date_text)
    periods["yearly"] = (aligned, aligned)
    properties = [prop for props in SITES.values() for prop in props]
    check_row(report["tables"]["summary"]["rows"][0], expected_row(facts, properties, periods),
              where + " summary")
    print("ok", where)


def case_shards(args, config, dataset):
    """Two shards and a duplicate aggregator of shard 0: every figure must
    still be right, and each shard must have published tables."""
    case_reports(args, config, dataset)
    directory = os.path.dirname(config)
    for name in ("aggregator-0", "aggregator-1", "aggregator-0-copy"):
        check(log_contains(os.path.join(directory, name + ".log"), "table published"),
              "%s published no table" % name)
    print("ok shards")


def case_unknown_site(args, config, dataset):
    """Check that the report is partial and names the extra site, and that
    the figures of the four known sites are still whole."""
    frequency, date_text, subject_period = REPORTS[0]
    status, report, err = request_report(args.bin_statsdash, config, frequency, date_text)
    check(status == 2, "unknown site: exit status %d, expected 2; stderr: %s" % (status, err))
    check(UNKNOWN_SITE in err, "unknown site: stderr does not name %s: %s" % (UNKNOWN_SITE, err))
    check(report is not None, "unknown site: no report on stdout")
    check_header(report, frequency, date_text, subject_period, [UNKNOWN_SITE])
    check(any(UNKNOWN_SITE in warning for warning in report.get("warnings", [])),
          "unknown site: no warning names it: %r" % report.get("warnings"))
    facts = read_facts(os.path.join(dataset, "ga4-facts.csv"))
    check_tables(report, facts, list(SITES), frequency, date_text)
    print("ok unknown site")


def prepare_dataset(mode, generator, directory):
    """Return the dataset folder, or None when the case is skipped."""
    if mode == "env":
        dataset = os.environ.get("STATSDASH_DATASET", "")
        if not dataset:
            return None
        facts = os.path.join(dataset, "ga4-facts.csv")
        check(os.access(facts, os.R_OK),
              "STATSDASH_DATASET=%s: cannot read %s" % (dataset, facts))
        return dataset
    dataset = os.path.join(directory, "dataset")
    subprocess.run([sys.executable, generator, dataset], check=True)
    return dataset


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=["reports", "unknown-site", "shards"])
    parser.add_argument("--dataset", choices=["generate", "env"], required=True)
    for name in ("simulator", "broker", "worker-ga", "aggregator", "reporter", "statsdash"):
        parser.add_argument("--bin-" + name, required=True)
    parser.add_argument("--generator", required=True)
    return parser.parse_args()


def main():
    args = parse_arguments()
    # SIGTERM to this script raises SystemExit, so the finally block below
    # still stops the services.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("e2e: terminated"))
    os.environ["STATSDASH_NOW"] = NOW
    sites = dict(SITES)
    if args.case == "unknown-site":
        sites[UNKNOWN_SITE] = [UNKNOWN_PROPERTY]

    with tempfile.TemporaryDirectory(prefix="statsdash-e2e-") as directory:
        services = Services(directory)
        failure = None
        try:
            dataset = prepare_dataset(args.dataset, args.generator, directory)
            if dataset is None:
                print("STATSDASH_DATASET is not set; skipping")
                return SKIPPED
            shards = 2 if args.case == "shards" else 1
            config = start_chain(args, services, directory, dataset, sites, shards)
            if args.case == "shards":
                case_shards(args, config, dataset)
            elif args.case == "reports":
                case_reports(args, config, dataset)
            else:
                case_unknown_site(args, config, dataset)
        except (TestFailure, subprocess.SubprocessError, OSError) as error:
            failure = str(error)
        finally:
            problems = services.stop()
        if failure or problems:
            services.print_logs()
            for text in ([failure] if failure else []) + problems:
                print("FAILED: " + text)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
