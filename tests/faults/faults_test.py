#!/usr/bin/python3
"""Fault tests of the report chain with real processes on loopback.

Cases (the first argument):
  killed-workers   three GA workers: one is SIGKILLed before the request and
                   another while it works on a fetch job (the simulator delays
                   every API response so that jobs last long enough). The
                   report must complete on the surviving worker, with the
                   figures of a run without faults, and the client (an MDP
                   client written here) must get exactly one reply.
  no-workers       every GA worker is stopped: `statsdash request --timeout
                   10` must exit with status 2 before its deadline, and a
                   warning on stderr must name every site.
  broker-restart   four `statsdash request` runs and two requests of the
                   MDP client written here are in progress when the broker
                   is restarted on the same ports. Every run must end with
                   status 0, 2 or 1 within its timeout, no request of the
                   MDP client may get two replies, and the client's
                   requests sent after the restart must get one reply each.
  killed-reporter  two reporters: the one that took a request (the simulator
                   delays every API response, so the report lasts seconds)
                   is SIGKILLed once the aggregator published a first table
                   of the request. The broker hands the request to the other
                   reporter, whose attempt has table ids of its own, so the
                   aggregator does not drop its parts as late parts of the
                   first attempt's tables. The client must get exactly one
                   reply, complete, with the figures that `statsdash
                   request` (exit status 0) gets afterwards.

Usage: faults_test.py CASE --bin-simulator PATH --bin-broker PATH
       --bin-worker-ga PATH --bin-aggregator PATH --bin-reporter PATH
       --bin-statsdash PATH --generator PATH
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults_chain as chain  # noqa: E402
from faults_chain import TestFailure, check  # noqa: E402

# Every API response of the simulator waits this long in killed-workers, so
# that a fetch job (several API requests) is in progress for seconds.
LATENCY_MS = 700
REQUEST_TIMEOUT_S = 40
SHORT_TIMEOUT_S = 10
# How long the MDP client keeps listening after every request has a reply,
# so that a second reply would be seen.
SETTLE_S = 5


def start_chain(args, services, directory, ga_workers, latency_ms=0):
    """Start every service. Return the config path."""
    dataset = chain.generate_dataset(args.generator, directory)
    private_pem, public_pem = chain.write_key_pair(directory)
    api_base = chain.start_simulator(services, args.bin_simulator, dataset, public_pem,
                                     latency_ms=latency_ms)
    key_file = chain.write_service_account(directory, private_pem, api_base + "/token")
    config = chain.write_config(os.path.join(directory, "statsdash.json"),
                                chain.loopback_broker_section(), api_base, key_file)
    services.start("broker", [args.bin_broker, "-c", config])
    for n in range(1, ga_workers + 1):
        services.start("worker-ga-%d" % n, [args.bin_worker_ga, "-c", config])
    services.start("aggregator", [args.bin_aggregator, "-c", config])
    services.start("reporter", [args.bin_reporter, "-c", config])
    chain.wait_for_workers(services, args.bin_statsdash, config, ga_workers)
    chain.wait_for_aggregator(services)
    return config


def ga_status(statsdash, config):
    table = chain.status_table(statsdash, config)
    return table.get("ga") if table else None


def reply_report(body):
    """Return the JSON report inside a report.reply body."""
    check(body.get("type") == "report.reply", "reply is %r, expected a report.reply: %r"
          % (body.get("type"), body))
    outputs = [o for o in body.get("outputs", []) if o.get("format") == "json"]
    check(len(outputs) == 1, "reply has no JSON output: %r" % body.get("outputs"))
    return json.loads(outputs[0]["body"])


def jobs_started(services, name):
    return services.log_text(name).count("job started")


def case_killed_workers(args, services, directory):
    config = start_chain(args, services, directory, ga_workers=3, latency_ms=LATENCY_MS)
    status, baseline, err, _ = chain.run_request(args.bin_statsdash, config, REQUEST_TIMEOUT_S)
    check(status == 0 and baseline is not None,
          "report without faults: exit status %d, stderr: %s" % (status, err))

    services.kill("worker-ga-1")
    chain.wait_for(services,
                   lambda: ga_status(args.bin_statsdash, config) == 2 * chain.GA_CONCURRENT_JOBS,
                   30,
                   "the broker to remove the killed worker-ga-1",
                   names=["broker", "worker-ga-2", "worker-ga-3"])

    survivors = ["worker-ga-2", "worker-ga-3"]
    started_before = {name: jobs_started(services, name) for name in survivors}
    client = chain.MdpClient(json.load(open(config))["broker"]["endpoint"])
    try:
        request_id = client.send_report_request(REQUEST_TIMEOUT_S)
        holder = []

        def job_in_progress():
            holder[:] = [n for n in survivors if jobs_started(services, n) > started_before[n]]
            return bool(holder)
        chain.wait_for(services, job_in_progress, 30, "a surviving worker to start a job",
                       names=["broker", "reporter"] + survivors)
        services.kill(holder[0])
        print("killed %s while it held a fetch job" % holder[0])
        client.receive(REQUEST_TIMEOUT_S + 5, settle=SETTLE_S)
        replies = client.replies[request_id]
    finally:
        client.close()

    check(len(replies) == 1, "request %s got %d replies, expected exactly 1"
          % (request_id, len(replies)))
    check(replies[0].get("status") == "complete", "report status %r, missing %r, warnings %r"
          % (replies[0].get("status"), replies[0].get("missing"), replies[0].get("warnings")))
    report = reply_report(replies[0])
    check(chain.figures(report) == chain.figures(baseline),
          "figures after the kills differ from the run without faults")
    survivor = [n for n in survivors if n != holder[0]][0]
    check(jobs_started(services, survivor) > started_before[survivor],
          "%s, the surviving worker, ran no job of the request" % survivor)
    print("ok killed workers: one complete reply with the figures of the run without faults")


def case_no_workers(args, services, directory):
    config = start_chain(args, services, directory, ga_workers=2)
    for name in ("worker-ga-1", "worker-ga-2"):
        problem = services.stop_one(name)
        check(problem is None, problem or "")
    chain.wait_for(services, lambda: not ga_status(args.bin_statsdash, config), 30,
                   "the broker to list no GA worker", names=["broker", "reporter"])

    status, report, err, elapsed = chain.run_request(args.bin_statsdash, config, SHORT_TIMEOUT_S)
    check(status == 2, "exit status %d, expected 2 (partial); stderr: %s" % (status, err))
    check(elapsed < SHORT_TIMEOUT_S, "statsdash request took %.1f s, past its %d s deadline"
          % (elapsed, SHORT_TIMEOUT_S))
    for site in chain.SITES:
        check(site in err, "stderr names no %s: %s" % (site, err))
    check(report is not None and report.get("status") == "partial",
          "report status %r" % (report or {}).get("status"))
    check(sorted(report.get("missing", [])) == sorted(chain.SITES),
          "missing %r, expected every site" % report.get("missing"))
    print("ok no workers: exit 2 after %.1f s naming every site" % elapsed)


def case_broker_restart(args, services, directory):
    config = start_chain(args, services, directory, ga_workers=2)
    endpoint = json.load(open(config))["broker"]["endpoint"]
    runs = [subprocess.Popen(chain.request_command(args.bin_statsdash, config, REQUEST_TIMEOUT_S),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=chain.stop_with_parent) for _ in range(4)]
    client = chain.MdpClient(endpoint)
    try:
        before = [client.send_report_request(REQUEST_TIMEOUT_S) for _ in range(2)]
        chain.wait_for(services, lambda: chain.log_contains(services, "reporter",
                                                           "report started"),
                       30, "the reporter to start a report")
        problem = services.stop_one("broker")
        check(problem is None, problem or "")
        services.start("broker", [args.bin_broker, "-c", config])
        print("broker restarted")
        after = [client.send_report_request(REQUEST_TIMEOUT_S) for _ in range(2)]
        client.receive(REQUEST_TIMEOUT_S + 5, settle=SETTLE_S, request_ids=after)
        replies = dict(client.replies)
    finally:
        client.close()

    statuses = []
    for n, run in enumerate(runs):
        try:
            out, err = run.communicate(timeout=REQUEST_TIMEOUT_S + 30)
        except subprocess.TimeoutExpired:
            run.kill()
            run.communicate()
            raise TestFailure("statsdash request %d hangs past its timeout" % n)
        check(run.returncode in (0, 1, 2), "statsdash request %d: exit status %d, stderr: %s"
              % (n, run.returncode, err))
        if run.returncode in (0, 2):
            # One reply gives one JSON document; a second would not parse.
            json.loads(out)
        statuses.append(run.returncode)
        print("statsdash request %d: exit status %d %s" % (n, run.returncode, err.strip()))
    for request_id in before:
        check(len(replies[request_id]) <= 1, "request %s sent before the restart got %d replies"
              % (request_id, len(replies[request_id])))
    for request_id in after:
        check(len(replies[request_id]) == 1, "request %s sent after the restart got %d replies"
              % (request_id, len(replies[request_id])))
    print("ok broker restart: exit statuses %s; MDP client replies before %s, after %s"
          % (statuses, [len(replies[r]) for r in before],
             [(body.get("type"), body.get("status", body.get("code")))
              for r in after for body in replies[r]]))


def reporter_holding(services, request_id):
    """Return the names of the reporters that started request_id."""
    return [name for name in ("reporter", "reporter-2")
            if "request=%s" % request_id in services.log_text(name)
            and "report started" in services.log_text(name)]


def case_killed_reporter(args, services, directory):
    config = start_chain(args, services, directory, ga_workers=2, latency_ms=LATENCY_MS)
    services.start("reporter-2", [args.bin_reporter, "-c", config])
    chain.wait_for(services, lambda: (chain.status_table(args.bin_statsdash, config) or {})
                   .get("report") == 2, 60, "`statsdash status` to show 2 report workers")
    client = chain.MdpClient(json.load(open(config))["broker"]["endpoint"])
    try:
        request_id = client.send_report_request(REQUEST_TIMEOUT_S)
        holder = []

        def report_in_progress():
            holder[:] = reporter_holding(services, request_id)
            return bool(holder)
        chain.wait_for(services, report_in_progress, 30, "a reporter to start the report",
                       names=["broker", "reporter", "reporter-2"])
        # Once a table of the first attempt is published, a retry that used
        # the same table ids would see its parts dropped as late parts.
        published = "table published rows="
        chain.wait_for(services, lambda: any(
            published in line and "request=%s " % request_id in line
            for line in services.log_text("aggregator").splitlines()), 30,
            "the aggregator to publish a table of the first attempt",
            names=["broker", "aggregator", holder[0]])
        services.kill(holder[0])
        print("killed %s while it held report %s" % (holder[0], request_id))
        client.receive(REQUEST_TIMEOUT_S + 5, settle=SETTLE_S)
        replies = client.replies[request_id]
    finally:
        client.close()

    survivor = "reporter-2" if holder[0] == "reporter" else "reporter"
    check(survivor in reporter_holding(services, request_id),
          "%s, the surviving reporter, never started report %s" % (survivor, request_id))
    check(len(replies) == 1, "request %s got %d replies, expected exactly 1"
          % (request_id, len(replies)))
    check(replies[0].get("status") == "complete", "report status %r, missing %r, warnings %r"
          % (replies[0].get("status"), replies[0].get("missing"), replies[0].get("warnings")))
    report = reply_report(replies[0])
    status, baseline, err, _ = chain.run_request(args.bin_statsdash, config, REQUEST_TIMEOUT_S)
    check(status == 0 and baseline is not None,
          "report after the kill: exit status %d, stderr: %s" % (status, err))
    check(chain.figures(report) == chain.figures(baseline),
          "figures of the retried report differ from those of a later run")
    print("ok killed reporter: the retry completed with one reply")


CASES = {
    "killed-reporter": case_killed_reporter,
    "killed-workers": case_killed_workers,
    "no-workers": case_no_workers,
    "broker-restart": case_broker_restart,
}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=sorted(CASES))
    for name in ("simulator", "broker", "worker-ga", "aggregator", "reporter", "statsdash"):
        parser.add_argument("--bin-" + name, required=True)
    parser.add_argument("--generator", required=True)
    return parser.parse_args()


def main():
    args = parse_arguments()
    # SIGTERM to this script raises SystemExit, so the services still stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("faults: terminated"))
    os.environ["STATSDASH_NOW"] = chain.NOW
    with tempfile.TemporaryDirectory(prefix="statsdash-faults-") as directory:
        services = chain.Services(directory)
        failure = None
        try:
            CASES[args.case](args, services, directory)
        except (TestFailure, subprocess.SubprocessError, OSError, ValueError) as error:
            failure = "%s: %s" % (type(error).__name__, error)
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
