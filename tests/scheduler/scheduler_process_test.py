#!/usr/bin/python3
"""statsdash-scheduler as a process, against a scripted broker and SMTP server.

The script plays the broker itself: a ROUTER socket that replies to MDP/0.1
client requests for the services "ga" (availability.request) and "report"
(report.request), like a GA worker and a reporter would. The reporter side
remembers delivery ids and replies "already_sent" to one it has delivered.
Error mails go to an aiosmtpd server on loopback. Each step runs the
scheduler with STATSDASH_NOW and checks the requests it sent and the rows
of its SQLite database.

Usage: scheduler_process_test.py PATH_TO_STATSDASH_SCHEDULER
"""
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import msgpack
import zmq
from aiosmtpd.controller import Controller

SCHEDULER = sys.argv[1]
TIMEOUT_S = 60


class FakeBroker:
    """Replies to availability and report requests on a ROUTER socket."""

    def __init__(self):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.ROUTER)
        self.socket.bind("tcp://127.0.0.1:*")
        self.endpoint = self.socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self.lock = threading.Lock()
        self.complete = {}          # date -> set of sites with complete data
        self.availability = []      # (date, sites) requested
        self.reports = []           # report.request bodies received
        self.delivered_ids = set()  # delivery ids the "reporter" mailed
        self.partial = {}           # date -> missing sites for a partial reply
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        poller = zmq.Poller()
        poller.register(self.socket, zmq.POLLIN)
        while self.running:
            if not poller.poll(100):
                continue
            frames = self.socket.recv_multipart()
            identity, empty, header, service, body = frames[:5]
            assert empty == b"", frames
            assert header == b"MDPC01", frames
            request = msgpack.unpackb(body, raw=False)
            with self.lock:
                reply = self.answer(service.decode(), request)
            self.socket.send_multipart(
                [identity, b"", b"MDPC01", service, msgpack.packb(reply, use_bin_type=True)])

    def answer(self, service, request):
        if request["type"] == "availability.request":
            assert service == "ga", service
            self.availability.append((request["date"], list(request["sites"])))
            done = self.complete.get(request["date"], set())
            return {"v": 2, "type": "availability.reply", "id": request["id"],
                    "date": request["date"],
                    "sites": [{"site": s, "complete": s in done,
                               "detail": "" if s in done else "21 of 24 hours"}
                              for s in request["sites"]]}
        assert service == "report", service
        assert request["type"] == "report.request", request
        self.reports.append(request)
        delivery = request["delivery_id"]
        missing = self.partial.get(request["date"], [])
        status = "already_sent" if delivery in self.delivered_ids else \
            "partial" if missing else "complete"
        self.delivered_ids.add(delivery)
        return {"v": 2, "type": "report.reply", "request_id": request["request_id"],
                "status": status, "subject": "Daily report", "outputs": [],
                "missing": missing,
                "warnings": ["missing data for " + ", ".join(missing)] if missing else [],
                "delivered": True}

    def take(self):
        """Returns and clears what was requested since the last call."""
        with self.lock:
            requested, self.availability = self.availability, []
            reports, self.reports = self.reports, []
        return requested, reports

    def close(self):
        self.running = False
        self.thread.join()
        self.socket.close(0)
        self.context.term()


class MailSink:
    """Keeps the messages the SMTP server received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.content.decode("utf-8")))
        return "250 OK"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(folder, broker, smtp_port):
    config = {
        "broker": {"endpoint": broker},
        "ga": {"sites": {"a": [{"property": "1"}], "b": [{"property": "2"}]}},
        "reporter": {"deadline_ms": 10000, "render_margin_ms": 1000, "table_margin_ms": 1000},
        "smtp": {"url": "smtp://127.0.0.1:%d" % smtp_port, "from": "statsdash@example.com",
                 "error_recipients": ["ops@example.com"]},
        "scheduler": {"database": os.path.join(folder, "scheduler.db"),
                      "lock_file": os.path.join(folder, "scheduler.lock"),
                      "interval_s": 3600, "timezone": "UTC"},
        "schedule": [{"id": "daily-core", "report": "ga-core", "sites": "all",
                      "frequency": "DAILY", "recipients": ["editors@example.com"],
                      "subject": "Tägliche Zahlen"}],
        "log": {"level": "info"},
    }
    path = os.path.join(folder, "statsdash.json")
    with open(path, "w") as file:
        json.dump(config, file)
    return path


def run(config, now, *options):
    env = dict(os.environ, STATSDASH_NOW=now)
    return subprocess.run([SCHEDULER, "-c", config, *options], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)


def rows(folder):
    with sqlite3.connect(os.path.join(folder, "scheduler.db")) as db:
        return {end: (state, delivery) for end, state, delivery in db.execute(
            "SELECT period_end, state, delivery_id FROM deliveries"
            " WHERE report_id = 'daily-core'")}


def check(condition, message, result=None):
    if not condition:
        if result is not None:
            message += "\nexit %d\nstdout:\n%s\nstderr:\n%s" % (
                result.returncode, result.stdout, result.stderr)
        raise AssertionError(message)


def step_first_run(broker, config, folder):
    """A report that never ran sends the latest due day once its data is in."""
    broker.complete["2026-12-01"] = {"a", "b"}
    result = run(config, "2026-12-02T18:00:00Z", "--once")
    check(result.returncode == 0, "first tick failed", result)
    requested, reports = broker.take()
    check(requested == [("2026-12-01", ["a", "b"])], "availability requested: %r" % requested)
    check([r["date"] for r in reports] == ["2026-12-01"], "reports: %r" % reports)
    request = reports[0]
    check(request["report"] == "ga-core" and request["frequency"] == "DAILY"
          and request["sites"] == ["all"] and request["recipients"] == ["editors@example.com"]
          and request["subject"] == "T\u00e4gliche Zahlen",
          "request fields: %r" % request)
    check(len(request["delivery_id"]) == 32, "delivery id: %r" % request["delivery_id"])
    check(rows(folder) == {"2026-12-01": ("sent", request["delivery_id"])},
          "rows: %r" % rows(folder))

    # The same day again: nothing is due, nothing is sent.
    result = run(config, "2026-12-02T20:00:00Z", "--once")
    check(result.returncode == 0, "second tick failed", result)
    check(broker.take() == ([], []), "second tick sent something")


def step_waits_then_late(broker, config, folder, mails):
    """Incomplete data keeps a report waiting until it is 2 days late."""
    result = run(config, "2026-12-03T06:00:00Z", "--once")
    check(result.returncode == 0, "waiting tick failed", result)
    requested, reports = broker.take()
    check(requested == [("2026-12-02", ["a", "b"])] and reports == [],
          "waiting tick: %r %r" % (requested, reports))
    check("2026-12-02" not in rows(folder), "a waiting period was recorded")
    check("waiting for data" in result.stderr, "no waiting log line", result)
    check(mails.messages == [], "mail sent while only waiting")

    # 5 December: 2 December is late (run day 3 December + 2), so it goes
    # out without complete data; 3 December is not late and still waits.
    broker.complete["2026-12-02"] = {"a"}
    broker.partial["2026-12-02"] = ["b"]
    result = run(config, "2026-12-05T09:00:00Z", "--once")
    check(result.returncode == 0, "late tick failed", result)
    requested, reports = broker.take()
    check([a[0] for a in requested] == ["2026-12-02", "2026-12-03"], "requested: %r" % requested)
    check([r["date"] for r in reports] == ["2026-12-02"], "late reports: %r" % reports)
    check(rows(folder)["2026-12-02"][0] == "sent", "late period not recorded")
    check(len(mails.messages) == 1, "error mails: %d" % len(mails.messages), result)
    sender, recipients, text = mails.messages[0]
    check(sender == "statsdash@example.com" and recipients == ["ops@example.com"],
          "mail envelope: %r %r" % (sender, recipients))
    check("2026-12-02" in text and "b (21 of 24 hours)" in text and "missing data for b" in text,
          "mail text:\n" + text)

    # A restart on the same day sends nothing new (3 December still waits).
    result = run(config, "2026-12-05T09:30:00Z", "--once")
    requested, reports = broker.take()
    check(result.returncode == 0 and reports == [], "restart sent: %r" % reports, result)


def step_crash_resends_same_id(broker, config, folder):
    """A row left "sending" is sent again with its delivery id, and the
    reporter's already_sent reply completes it without a second mail."""
    delivery = "feedface" * 4
    with sqlite3.connect(os.path.join(folder, "scheduler.db")) as db:
        db.execute("INSERT INTO deliveries VALUES ('daily-core', '2026-12-03', 'sending', ?,"
                   " 1, 1)", (delivery,))
    broker.delivered_ids.add(delivery)
    broker.complete["2026-12-04"] = {"a", "b"}
    result = run(config, "2026-12-05T10:00:00Z", "--once")
    check(result.returncode == 0, "crash tick failed", result)
    requested, reports = broker.take()
    check([(r["date"], r["delivery_id"]) for r in reports][0] == ("2026-12-03", delivery),
          "resent: %r" % reports)
    check(("2026-12-03", ["a", "b"]) not in requested, "the pending period was checked again")
    check(rows(folder)["2026-12-03"] == ("sent", delivery), "rows: %r" % rows(folder))
    check(rows(folder)["2026-12-04"][0] == "sent", "the next day was not sent after it")
    check("status=already_sent" in result.stderr, "no already_sent log line", result)


def step_operator_commands(broker, config, folder):
    """--skip, --resend and --backfill, and their checks of the dates."""
    now = "2026-12-06T09:00:00Z"
    result = run(config, now, "--skip", "daily-core", "--date", "2026-12-05")
    check(result.returncode == 0, "skip failed", result)
    check(rows(folder)["2026-12-05"][0] == "skipped", "skip not recorded")
    result = run(config, now, "--once")
    check(broker.take()[1] == [], "a skipped period was sent", result)

    first_id = rows(folder)["2026-12-01"][1]
    result = run(config, now, "--resend", "daily-core", "--date", "2026-12-01")
    check(result.returncode == 0, "resend failed", result)
    reports = broker.take()[1]
    check([r["date"] for r in reports] == ["2026-12-01"], "resend: %r" % reports)
    check(reports[0]["delivery_id"] != first_id, "resend reused the delivery id")
    check(rows(folder)["2026-12-01"] == ("sent", reports[0]["delivery_id"]), "resend row")

    result = run(config, now, "--backfill", "daily-core", "--from", "2026-11-28",
                 "--to", "2026-12-01")
    check(result.returncode == 0, "backfill failed", result)
    reports = broker.take()[1]
    check([r["date"] for r in reports] == ["2026-11-28", "2026-11-29", "2026-11-30"],
          "backfill order: %r" % reports)
    check("2026-12-01: already sent" in result.stdout, "backfill did not report the sent day",
          result)

    # Exit status 1: the command is well formed but the scheduler cannot do
    # it. Exit status 2: a usage error, found before the config is read.
    for options, expected, status in [
            (["--skip", "nope", "--date", "2026-12-01"], 'unknown report id "nope"', 1),
            (["--resend", "daily-core", "--date", "2026-12-06"], "is not due until 2026-12-07",
             1),
            (["--skip", "daily-core", "--date", "2026-13-01"], 'invalid date "2026-13-01"', 1),
            (["--backfill", "daily-core", "--from", "2026-12-02", "--to", "2026-12-01"],
             "invalid range", 1),
            (["--resend", "daily-core"], "need --date", 2),
            (["--once", "--dry-run"], "give only one of", 2)]:
        result = run(config, now, *options)
        check(result.returncode == status and expected in result.stderr,
              "%r: expected exit %d and %r" % (options, status, expected), result)
    broker.take()


def step_dry_run(broker, config, folder):
    """--dry-run prints the plan and changes nothing."""
    before = rows(folder)
    broker.complete["2026-12-06"] = {"a"}
    result = run(config, "2026-12-07T09:00:00Z", "--dry-run")
    check(result.returncode == 0, "dry run failed", result)
    line = "daily-core last=2026-12-05 last_state=skipped next=2026-12-06 run_day=2026-12-07 " \
           "due=yes data=incomplete: b (21 of 24 hours)"
    check(result.stdout.strip() == line, "dry run output", result)
    check(broker.take()[1] == [] and rows(folder) == before, "the dry run sent or recorded")


def step_lock(broker, config, folder):
    """A second scheduler exits 1 naming the lock file and the holder."""
    env = dict(os.environ, STATSDASH_NOW="2026-12-07T09:00:00Z")
    service = subprocess.Popen([SCHEDULER, "-c", config], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    lock_file = os.path.join(folder, "scheduler.lock")
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        with open(lock_file) if os.path.exists(lock_file) else open(os.devnull) as file:
            if file.read().strip() == str(service.pid):
                break
        time.sleep(0.1)
    result = run(config, "2026-12-07T09:00:00Z", "--once")
    expected = "the lock file %s is held by pid %d" % (lock_file, service.pid)
    check(result.returncode == 1 and expected in result.stderr, "second instance", result)
    service.send_signal(signal.SIGTERM)
    _, errors = service.communicate(timeout=TIMEOUT_S)
    check(service.returncode == 0, "service exit %d:\n%s" % (service.returncode, errors))
    broker.take()


def main():
    broker = FakeBroker()
    mails = MailSink()
    smtp = Controller(mails, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        with tempfile.TemporaryDirectory(prefix="sd-scheduler-") as folder:
            config = write_config(folder, broker.endpoint, smtp.port)
            step_first_run(broker, config, folder)
            step_waits_then_late(broker, config, folder, mails)
            step_crash_resends_same_id(broker, config, folder)
            step_operator_commands(broker, config, folder)
            step_dry_run(broker, config, folder)
            step_lock(broker, config, folder)
    finally:
        smtp.stop()
        broker.close()
    print("scheduler_process: all steps passed")


if __name__ == "__main__":
    main()
