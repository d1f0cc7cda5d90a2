#!/usr/bin/python3
"""statsdash-scheduler over the real report chain: the Google API simulator,
the broker, a GA worker, the aggregator and the reporter on loopback, with
an aiosmtpd SMTP server on loopback receiving the mails.

The schedule has one DAILY ga-core report over all sites. The dataset ends
with 2026-12-01 complete and 2026-12-02 partial (GA4 hours 00-13 only), so
the GA worker's availability check finds hours 14-23 of 2026-12-02 missing
on every site. Each step sets STATSDASH_NOW for every process, restarting
the chain when "now" moves, and checks the mails, the scheduler's
deliveries table and the reporter's sent table:

  1. 2026-12-02T18:00Z: the report never ran, so the scheduler starts with
     the most recent period whose run day (the day after) has come: it
     mails 2026-12-01. 2026-12-02 is not due before 2026-12-03.
  2. 2026-12-03T09:00Z: 2026-12-02 is due but incomplete, so it waits.
  3. 2026-12-05T09:00Z: 2026-12-02 is 2 days past its run day, so it goes
     out late, and the error mail to smtp.error_recipients names the
     incomplete sites. 2026-12-03 (no data at all, not late yet) waits.
     Another tick sends nothing new.
  4. 2026-12-06T09:00Z: 2026-12-03 is late. The SMTP server delays its
     reply to the report mail's DATA, and the scheduler is killed
     (SIGKILL) while the reporter is mailing, leaving the period
     "sending". The next tick sends the same delivery id again, the
     reporter replies "already_sent", and the report is mailed once in
     total. The error mail of that tick names the sites without data.

The dataset is generated into a temporary folder, unless --dataset env is
given: then STATSDASH_DATASET names it, the test exits 77 (skipped) when the
variable is unset and fails when the folder cannot be read.

Usage: scheduler_integration.py --dataset generate|env --bin-scheduler PATH
       --bin-simulator PATH --bin-broker PATH --bin-worker-ga PATH
       --bin-aggregator PATH --bin-reporter PATH --bin-statsdash PATH
       --generator PATH
"""
import argparse
import asyncio
import datetime
import email
import email.policy
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from aiosmtpd.controller import Controller

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e_ga_core as chain  # noqa: E402  (the chain's process helpers)
from e2e_ga_core import TestFailure, check  # noqa: E402

SKIPPED = 77
REPORT_ID = "daily-core"
EDITORS = ["editors@example.com", "chief@example.org"]
OPERATORS = ["ops@example.com"]
SENDER = "statsdash@example.com"
SITES = sorted(chain.SITES)
SCHEDULER_TIMEOUT_S = 90
# The reporter's deadline for one report; the held mail of step 4 must be
# released well before it.
REPORT_DEADLINE_MS = 60000


class MailServer:
    """An aiosmtpd handler that keeps every message it accepts. While hold
    is set, a report mail (one to EDITORS) waits in DATA until release is
    set, and holding is set once such a mail arrived."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []  # (envelope sender, envelope recipients, parsed message)
        self.hold = threading.Event()
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold.is_set() and envelope.rcpt_tos == EDITORS:
            self.holding.set()
            waited = 0.0
            while not self.release.is_set() and waited < 120:
                await asyncio.sleep(0.05)
                waited += 0.05
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def take(self):
        """Return and forget the messages received since the last call, as
        (report mails, error mails)."""
        with self.lock:
            received, self.messages = self.messages, []
        reports = [m for m in received if m[1] == EDITORS]
        errors = [m for m in received if m[1] != EDITORS]
        return reports, errors


def epoch_ms(now):
    moment = datetime.datetime.strptime(now, "%Y-%m-%dT%H:%M:%SZ")
    return int(moment.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def subject_of(day_text):
    """Return the reporter's subject of the DAILY ga-core report for a day,
    for example "Statsdash ga-core: Tue 01 Dec 2026"."""
    day = datetime.date.fromisoformat(day_text)
    return "Statsdash ga-core: " + day.strftime("%a %d %b %Y")


# ---------------------------------------------------------------------------
# The chain and the scheduler.

def write_config(directory, api_base, key_file, smtp_port):
    config = {
        "broker": {
            "endpoint": "tcp://127.0.0.1:%d" % chain.free_port(),
            "bus_publish": "tcp://127.0.0.1:%d" % chain.free_port(),
            "bus_subscribe": "tcp://127.0.0.1:%d" % chain.free_port(),
            "heartbeat_ms": 500,
            "liveness": 10,
        },
        "ga": {
            "api_base": api_base,
            "key_file": key_file,
            "sites": {site: [{"property": prop, "wait_for_data": prop != "310000002"}
                             for prop in properties]
                      for site, properties in chain.SITES.items()},
        },
        "reporter": {"id": "scheduler-it", "deadline_ms": REPORT_DEADLINE_MS,
                     "state_file": os.path.join(directory, "reporter-sent.db")},
        "smtp": {"url": "smtp://127.0.0.1:%d" % smtp_port, "from": SENDER,
                 "error_recipients": OPERATORS},
        "scheduler": {"database": os.path.join(directory, "scheduler.db"),
                      "lock_file": os.path.join(directory, "scheduler.lock"),
                      "interval_s": 3600, "timezone": "UTC"},
        "schedule": [{"id": REPORT_ID, "report": "ga-core", "sites": "all",
                      "frequency": "DAILY", "recipients": EDITORS}],
        "log": {"level": "info"},
    }
    path = os.path.join(directory, "statsdash.json")
    with open(path, "w") as handle:
        json.dump(config, handle, indent=2)
    return path


class Chain:
    """The report chain of one STATSDASH_NOW, with its logs in a folder of
    its own. Every chain of the test uses the same scheduler and reporter
    databases."""

    def __init__(self, args, directory, now):
        self.args = args
        self.directory = directory
        self.now = now
        self.logs = os.path.join(directory, now.replace(":", ""))
        os.mkdir(self.logs)
        self.services = chain.Services(self.logs)
        self.config = None

    def start(self, dataset, smtp_port):
        """Start every service with STATSDASH_NOW set to self.now and wait
        until the workers are registered."""
        args = self.args
        os.environ["STATSDASH_NOW"] = self.now
        private_pem, public_pem = chain.write_key_pair(self.logs)
        port_file = os.path.join(self.logs, "simulator.port")
        self.services.start("simulator", [args.bin_simulator, "--dataset", dataset, "--listen",
                                          "127.0.0.1:0", "--port-file", port_file,
                                          "--public-key", public_pem])
        chain.wait_for(self.services, lambda: os.path.exists(port_file), 60,
                       "the simulator's port file")
        with open(port_file) as handle:
            api_base = "http://127.0.0.1:%d" % int(handle.read())
        key_file = chain.write_service_account(self.logs, private_pem, api_base + "/token")
        self.config = write_config(self.directory, api_base, key_file, smtp_port)
        for name, binary in (("broker", args.bin_broker), ("worker-ga", args.bin_worker_ga),
                             ("aggregator", args.bin_aggregator),
                             ("reporter", args.bin_reporter)):
            self.services.start(name, [binary, "-c", self.config])
        chain.wait_for(self.services, self.live, 60,
                       "`statsdash status` to show a ga worker and a report worker")
        # The broker logs a subscription once its XPUB delivers the topic.
        # Parts published before that line would be lost.
        broker_log = os.path.join(self.logs, "broker.log")
        chain.wait_for(self.services,
                       lambda: chain.log_contains(broker_log, "bus subscription added topic=raw.")
                       and chain.log_contains(broker_log,
                                              "bus subscription added topic=table.scheduler-it."),
                       30, "the aggregator's and the reporter's bus subscriptions")

    def live(self):
        counts = chain.worker_counts(self.args.bin_statsdash, self.config)
        return counts.get("ga", 0) >= 1 and counts.get("report", 0) >= 1

    def command(self, *options):
        return [self.args.bin_scheduler, "-c", self.config, *options]

    def scheduler(self, *options):
        """Run statsdash-scheduler to its end. Return the CompletedProcess."""
        self.services.check_running()
        return subprocess.run(self.command(*options), capture_output=True, text=True,
                              timeout=SCHEDULER_TIMEOUT_S, preexec_fn=chain.stop_with_parent)


def check_run(result, status, label):
    """Check a scheduler run's exit status; show its output when it differs."""
    check(result.returncode == status,
          "%s: exit status %d, expected %d\nstdout:\n%s\nstderr:\n%s"
          % (label, result.returncode, status, result.stdout, result.stderr[-6000:]))


# ---------------------------------------------------------------------------
# The databases.

def deliveries(directory):
    """Return {period_end: (state, delivery_id, created_ms, updated_ms)} of
    the report from the scheduler's database."""
    with sqlite3.connect(os.path.join(directory, "scheduler.db")) as db:
        rows = db.execute("SELECT report_id, period_end, state, delivery_id, created_ms,"
                          " updated_ms FROM deliveries ORDER BY period_end").fetchall()
    check(all(row[0] == REPORT_ID for row in rows), "rows of other reports: %r" % rows)
    return {row[1]: tuple(row[2:]) for row in rows}


def sent_ids(directory):
    """Return {delivery_id: sent_ms} from the reporter's state file."""
    path = os.path.join(directory, "reporter-sent.db")
    if not os.path.exists(path):
        return {}
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT delivery_id, sent_ms FROM sent").fetchall())


def check_states(directory, expected, label):
    """Check that the deliveries table has exactly the periods and states of
    expected ({period_end: state}). Return the rows."""
    rows = deliveries(directory)
    states = {end: row[0] for end, row in rows.items()}
    check(states == expected, "%s: deliveries %r, expected %r" % (label, states, expected))
    for end, row in rows.items():
        check(len(row[1]) == 32 and all(c in "0123456789abcdef" for c in row[1]),
              "%s: period %s has delivery id %r, expected 32 hex digits" % (label, end, row[1]))
    return rows


def check_report_mail(mail, day_text, label):
    sender, recipients, message = mail
    check(sender == SENDER, "%s: envelope sender %r" % (label, sender))
    check(recipients == EDITORS, "%s: envelope recipients %r" % (label, recipients))
    check(str(message["Subject"]) == subject_of(day_text),
          "%s: subject %r, expected %r" % (label, str(message["Subject"]), subject_of(day_text)))
    check(sorted(a.addr_spec for a in message["To"].addresses) == sorted(EDITORS),
          "%s: To %r" % (label, str(message["To"])))


def text_of(message):
    part = message.get_body(preferencelist=("plain",))
    check(part is not None, "mail %r has no text/plain part" % str(message["Subject"]))
    return part.get_content()


def check_late_warning(mail, label):
    """Check that a late report mail warns its readers, in the HTML warning
    box and in the text part, naming each incomplete site and its missing
    hours."""
    message = mail[2]
    html = message.get_body(preferencelist=("html",)).get_content()
    text = text_of(message)
    warning = "sent 2 or more days late without complete data: "
    box = html.split(">Warnings</p>", 1)
    check(len(box) == 2, "%s: the report mail has no warning box:\n%s" % (label, html[:3000]))
    items = [item.split("</li>", 1)[0] for item in box[1].split("<li>")[1:]]
    late = [item for item in items if item.startswith(warning)]
    check(len(late) == 1, "%s: warning box items %r" % (label, items))
    lines = [line for line in text.splitlines() if line.startswith("* " + warning)]
    check(len(lines) == 1, "%s: text part lacks the late warning:\n%s" % (label, text))
    for where, found in (("warning box", late[0]), ("text part", lines[0])):
        for site in SITES:
            check("%s (property " % site in found,
                  "%s: the %s does not name %s: %r" % (label, where, site, found))
        check(found.count("no data yet for hours 14-23") == len(SITES),
              "%s: the %s does not give the missing hours of each site: %r"
              % (label, where, found))


def check_error_mail(mail, day_text, today_text, label):
    """Check the scheduler's error mail: sent to OPERATORS, naming the late
    period and each site with its missing hours."""
    sender, recipients, message = mail
    check(sender == SENDER and recipients == OPERATORS,
          "%s: error mail envelope %r -> %r" % (label, sender, recipients))
    subject = str(message["Subject"])
    check(subject == "Statsdash scheduler: 1 problem on " + today_text,
          "%s: error mail subject %r" % (label, subject))
    text = text_of(message)
    check("%s %s: 2 or more days late, sent without complete data" % (REPORT_ID, day_text)
          in text, "%s: error mail does not name the late period:\n%s" % (label, text))
    for site in SITES:
        check(site in text, "%s: error mail does not name %s:\n%s" % (label, site, text))
    return text


# ---------------------------------------------------------------------------
# Steps.

def step_first_run(ctx, mails, state):
    """A report that never ran starts with the latest due period."""
    result = ctx.scheduler("--once")
    check_run(result, 0, "first tick")
    reports, errors = mails.take()
    check(len(reports) == 1, "first tick: %d report mails, expected 1" % len(reports))
    check_report_mail(reports[0], "2026-12-01", "first tick")
    check(errors == [], "first tick: error mails %r" % [str(m[2]["Subject"]) for m in errors])
    rows = check_states(ctx.directory, {"2026-12-01": "sent"}, "first tick")
    delivery = rows["2026-12-01"][1]
    check(rows["2026-12-01"][2:] == (epoch_ms(ctx.now), epoch_ms(ctx.now)),
          "first tick: created/updated ms %r, expected STATSDASH_NOW" % (rows["2026-12-01"][2:],))
    check(sent_ids(ctx.directory) == {delivery: epoch_ms(ctx.now)},
          "first tick: reporter sent table %r, expected %s" % (sent_ids(ctx.directory), delivery))

    # The same evening again: 2026-12-02 runs on 2026-12-03, so nothing is due.
    result = ctx.scheduler("--once")
    check_run(result, 0, "second tick on 2026-12-02")
    check(mails.take() == ([], []), "second tick on 2026-12-02 mailed something")
    check(deliveries(ctx.directory) == rows, "second tick on 2026-12-02 changed the deliveries")

    # The plan names the next period, its run day, and the missing hours.
    result = ctx.scheduler("--dry-run")
    check_run(result, 0, "dry run")
    line = result.stdout.strip()
    expected = ("%s last=2026-12-01 last_state=sent next=2026-12-02 run_day=2026-12-03 due=no "
                "data=incomplete: " % REPORT_ID)
    check(line.startswith(expected), "dry run printed %r, expected it to start with %r"
          % (line, expected))
    for site in SITES:
        check("%s (property" % site in line, "dry run line does not name %s: %r" % (site, line))
    check(line.count("no data yet for hours 14-23") == len(SITES),
          "dry run: expected hours 14-23 missing on each of the %d sites: %r" % (len(SITES), line))
    check(deliveries(ctx.directory) == rows, "the dry run changed the deliveries")
    state["first_delivery"] = delivery
    state["rows"] = rows


def step_waits(ctx, mails, state):
    """2026-12-02 is due on 2026-12-03 but its data is incomplete: it waits."""
    before = state["rows"]
    result = ctx.scheduler("--once")
    check_run(result, 0, "tick on 2026-12-03")
    check(mails.take() == ([], []), "tick on 2026-12-03 mailed something")
    check(deliveries(ctx.directory) == before, "tick on 2026-12-03 changed the deliveries")
    check("waiting for data:" in result.stderr and "period=2026-12-02" in result.stderr
          and "hours 14-23" in result.stderr,
          "tick on 2026-12-03: no 'waiting for data' line naming hours 14-23:\n"
          + result.stderr[-4000:])


def step_late(ctx, mails, state):
    """2026-12-02 goes out 2 days after its run day despite missing data."""
    first_delivery = state["first_delivery"]
    result = ctx.scheduler("--once")
    check_run(result, 0, "tick on 2026-12-05")
    reports, errors = mails.take()
    check(len(reports) == 1, "tick on 2026-12-05: %d report mails, expected 1" % len(reports))
    check_report_mail(reports[0], "2026-12-02", "late report")
    check_late_warning(reports[0], "late report")
    check(len(errors) == 1, "tick on 2026-12-05: %d error mails, expected 1" % len(errors))
    text = check_error_mail(errors[0], "2026-12-02", "2026-12-05", "tick on 2026-12-05")
    check(text.count("no data yet for hours 14-23") == len(SITES),
          "error mail: expected hours 14-23 missing on each site:\n" + text)

    # 2026-12-03 has no data and is not late before 2026-12-06: it waits.
    rows = check_states(ctx.directory, {"2026-12-01": "sent", "2026-12-02": "sent"},
                        "tick on 2026-12-05")
    check(rows["2026-12-01"][1] == first_delivery, "the 2026-12-01 delivery id changed")
    late_delivery = rows["2026-12-02"][1]
    check(late_delivery != first_delivery, "two periods share delivery id %s" % late_delivery)
    check(rows["2026-12-02"][2:] == (epoch_ms(ctx.now), epoch_ms(ctx.now)),
          "late period: created/updated ms %r" % (rows["2026-12-02"][2:],))
    check(set(sent_ids(ctx.directory)) == {first_delivery, late_delivery},
          "reporter sent table %r" % sent_ids(ctx.directory))
    check("waiting for data:" in result.stderr and "period=2026-12-03" in result.stderr,
          "tick on 2026-12-05: 2026-12-03 did not wait:\n" + result.stderr[-4000:])

    # A restart on the same day sends nothing new.
    result = ctx.scheduler("--once")
    check_run(result, 0, "restart on 2026-12-05")
    check(mails.take() == ([], []), "restart on 2026-12-05 mailed something")
    check(deliveries(ctx.directory) == rows, "restart on 2026-12-05 changed the deliveries")


def wait_until(condition, seconds, label):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise TestFailure("timed out after %d s waiting for %s" % (seconds, label))


def start_scheduler(ctx, name):
    """Start statsdash-scheduler --once in the background, logging to a
    file. Return (process, log path)."""
    log_path = os.path.join(ctx.logs, name + ".log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(ctx.command("--once"), stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, preexec_fn=chain.stop_with_parent)
    return process, log_path


def read_log(path):
    with open(path, "rb") as log:
        return log.read().decode("utf-8", "replace")


def step_killed_while_mailing(ctx, mails, state):
    """A scheduler killed after it recorded "sending" and the reporter took
    the request: the next tick reuses the delivery id and nothing is mailed
    twice. The next tick starts while the reporter is still mailing. Its
    request then waits in the broker until the reporter is free, or it
    arrives after the reporter recorded the id. Both must end in
    "already_sent"."""
    known = deliveries(ctx.directory)
    mails.hold.set()
    killed, killed_log = start_scheduler(ctx, "scheduler-killed")
    restarted = None
    try:
        wait_until(lambda: mails.holding.is_set() or killed.poll() is not None, 60,
                   "the reporter to start mailing the 2026-12-03 report")
        check(killed.poll() is None, "the scheduler exited (status %r) before the reporter "
              "mailed:\n%s" % (killed.returncode, read_log(killed_log)[-4000:]))
        rows = check_states(ctx.directory, {"2026-12-01": "sent", "2026-12-02": "sent",
                                            "2026-12-03": "sending"}, "while mailing")
        delivery = rows["2026-12-03"][1]
        check(delivery not in [row[1] for row in known.values()],
              "2026-12-03 reused an older delivery id")
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        check(deliveries(ctx.directory) == rows, "the kill changed the deliveries")

        restarted, restarted_log = start_scheduler(ctx, "scheduler-restarted")
        wait_until(lambda: "report requested" in read_log(restarted_log)
                   or restarted.poll() is not None, 60,
                   "the restarted scheduler to request the report")
        mails.release.set()
        restarted.wait(timeout=SCHEDULER_TIMEOUT_S)
    finally:
        mails.release.set()
        for process in (killed, restarted):
            if process and process.poll() is None:
                process.kill()
                process.wait()
    log = read_log(restarted_log)
    check(restarted.returncode == 0, "restart after the kill: exit status %d\n%s"
          % (restarted.returncode, log[-6000:]))
    check("report requested report=%s period=2026-12-03 delivery=%s" % (REPORT_ID, delivery)
          in log, "restart after the kill did not reuse delivery id %s:\n%s"
          % (delivery, log[-4000:]))
    check("status=already_sent" in log,
          "restart after the kill: no already_sent reply:\n" + log[-4000:])

    reports, errors = mails.take()
    check(len(reports) == 1, "2026-12-03 was mailed %d times, expected once" % len(reports))
    check_report_mail(reports[0], "2026-12-03", "report mailed while the scheduler died")
    check(len(errors) == 1, "restart after the kill: %d error mails, expected 1" % len(errors))
    text = check_error_mail(errors[0], "2026-12-03", "2026-12-06", "restart after the kill")
    check(text.count("no data yet for hours 00-23") == len(SITES),
          "error mail: expected every hour missing on each site:\n" + text)
    rows = check_states(ctx.directory, {"2026-12-01": "sent", "2026-12-02": "sent",
                                        "2026-12-03": "sent"}, "restart after the kill")
    check(rows["2026-12-03"][1] == delivery, "the restart changed the delivery id")
    check(rows["2026-12-03"][3] == epoch_ms(ctx.now), "2026-12-03 updated_ms %r"
          % rows["2026-12-03"][3])
    sent = sent_ids(ctx.directory)
    check(len(sent) == 3 and delivery in sent, "reporter sent table %r" % sent)

    # 2026-12-04 is not late before 2026-12-07 and has no data: a third
    # tick waits and sends nothing.
    result = ctx.scheduler("--once")
    check_run(result, 0, "second restart after the kill")
    check(mails.take() == ([], []), "second restart after the kill mailed something")
    check(deliveries(ctx.directory) == rows, "second restart changed the deliveries")


# ---------------------------------------------------------------------------

# (STATSDASH_NOW, step). Each step gets the chain, the mail server and a
# dict that carries delivery ids and rows to the later steps.
STEPS = [
    ("2026-12-02T18:00:00Z", step_first_run),
    ("2026-12-03T09:00:00Z", step_waits),
    ("2026-12-05T09:00:00Z", step_late),
    ("2026-12-06T09:00:00Z", step_killed_while_mailing),
]


def run_steps(args, directory, dataset, mails, smtp_port):
    state = {}
    for now, step in STEPS:
        name = step.__name__
        ctx = Chain(args, directory, now)
        failure = None
        try:
            ctx.start(dataset, smtp_port)
            step(ctx, mails, state)
        except (TestFailure, subprocess.SubprocessError, OSError) as error:
            failure = error
        problems = ctx.services.stop()
        if failure or problems:
            ctx.services.print_logs()
        if failure:
            raise failure
        check(not problems, "%s (%s): %s" % (name, now, "; ".join(problems)))
        print("ok %s (%s)" % (name, now))


def prepare_dataset(mode, generator, directory):
    """Return the dataset folder, or None when the test is skipped."""
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
    parser.add_argument("--dataset", choices=["generate", "env"], required=True)
    for name in ("scheduler", "simulator", "broker", "worker-ga", "aggregator", "reporter",
                 "statsdash"):
        parser.add_argument("--bin-" + name, required=True)
    parser.add_argument("--generator", required=True)
    return parser.parse_args()


def main():
    args = parse_arguments()
    # SIGTERM to this script raises SystemExit, so the services still stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("scheduler_integration: terminated"))
    mails = MailServer()
    smtp = Controller(mails, hostname="127.0.0.1", port=chain.free_port())
    smtp.start()
    try:
        with tempfile.TemporaryDirectory(prefix="sd-scheduler-it-") as directory:
            dataset = prepare_dataset(args.dataset, args.generator, directory)
            if dataset is None:
                print("STATSDASH_DATASET is not set; skipping")
                return SKIPPED
            run_steps(args, directory, dataset, mails, smtp.port)
    except (TestFailure, subprocess.SubprocessError, OSError) as error:
        print("FAILED: %s" % error)
        return 1
    finally:
        mails.release.set()
        smtp.stop()
    print("scheduler_integration: all steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
