#!/usr/bin/python3
"""statsdash-worker-ga with several MDP sessions (ga.concurrent_jobs), as
processes: the simulator, the broker and one or two workers.

An MDP/0.1 worker processes one request at a time, so a worker process with
concurrent_jobs 3 registers 3 MDP workers with the broker. The tests check
that the broker lists 3 workers for "ga" and that three slow fetch jobs sent
at once all run in the one process at the same time (mmi.status: 0 idle,
0 queued). They check that the jobs share the per-property limit
ga.max_in_flight, measured as the simulator's peak of requests in flight for
the property. Each client must get exactly one reply with its own job id,
also after the process that ran the three jobs is killed.

The simulator delays every API response by LATENCY_MS, so that a job stays
in progress long enough to be observed. Sums are computed from the
dataset's CSV, as in worker_ga_stack.py, whose Stack this test reuses.

Usage: worker_ga_sessions.py, with the environment SIMULATOR, BROKER, WORKER
and GENERATOR naming the executables.
"""

import json
import os
import signal
import sys
import time
import unittest

import msgpack
import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker_ga_stack as stack  # noqa: E402

SESSIONS = 3
LATENCY_MS = 1000
JOBS = 3
PROPERTY = "310000003"
SITE = "retrotech.example"
# Generous deadlines: every wait ends as soon as its condition is met.
STATE_TIMEOUT_S = 30
SETTLE_S = 2


class SessionStack(stack.Stack):
    """The stack of worker_ga_stack.py, with ga.concurrent_jobs set."""

    def write_config(self, private_key):
        path = super().write_config(private_key)
        with open(path) as handle:
            config = json.load(handle)
        config["ga"]["concurrent_jobs"] = SESSIONS
        with open(path, "w") as handle:
            json.dump(config, handle)
        return path


class SessionTest(stack.StackTest):
    """A new stack for each test, since one test kills the worker."""

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def setUp(self):
        self.stack = SessionStack("--latency-ms", str(LATENCY_MS))
        self.worker_killed = False
        self.context = zmq.Context()
        self.clients = []
        self.status_client = self.new_client()

    def tearDown(self):
        for client in self.clients:
            client.close()
        self.context.term()
        worker_status, simulator_status = self.stack.stop()
        if not self.worker_killed:
            self.assertEqual(worker_status, 0, self.stack.log_text("worker"))
        self.assertEqual(simulator_status, 0)

    def new_client(self):
        client = self.context.socket(zmq.DEALER)
        client.setsockopt(zmq.LINGER, 0)
        client.connect(self.stack.endpoint)
        self.clients.append(client)
        return client

    def ga_status(self):
        """Return the mmi.status counts of service "ga" ({} when absent)."""
        self.status_client.send_multipart([b"", b"MDPC01", b"mmi.status"])
        self.assertTrue(self.status_client.poll(STATE_TIMEOUT_S * 1000), "no mmi.status reply")
        frames = self.status_client.recv_multipart()
        self.assertEqual(frames[:3], [b"", b"MDPC01", b"mmi.status"])
        return msgpack.unpackb(frames[3], raw=False).get("ga", {})

    def wait_status(self, expected):
        """Wait until every count in expected matches mmi.status of "ga"."""
        deadline = time.monotonic() + STATE_TIMEOUT_S
        status = self.ga_status()
        while time.monotonic() < deadline:
            if all(status.get(name) == value for name, value in expected.items()):
                return status
            time.sleep(0.05)
            status = self.ga_status()
        self.fail("mmi.status of ga is %r, expected %r" % (status, expected))

    def send_jobs(self, name):
        """Send JOBS fetch requests at once, each from its own client.
        Return {job id: client}."""
        sent = {}
        for index in range(JOBS):
            job_id = "%s-%d" % (name, index)
            request = {
                "v": 2, "type": "fetch.request", "job_id": job_id,
                "request_id": "request-sessions", "reporter_id": "r1", "service": "ga",
                "site": SITE, "deadline_ms": int(time.time() * 1000) + 50000,
                "queries": [stack.query("sessions", periods=stack.RECENT_PERIODS)]}
            client = self.new_client()
            client.send_multipart([b"", b"MDPC01", b"ga",
                                   msgpack.packb(request, use_bin_type=True)])
            sent[job_id] = client
        return sent

    def receive_replies(self, sent):
        """Return {job id: [reply bodies]} of every client in sent, read
        until each has one reply and SETTLE_S more seconds passed."""
        replies = {job_id: [] for job_id in sent}
        poller = zmq.Poller()
        owners = {}
        for job_id, client in sent.items():
            poller.register(client, zmq.POLLIN)
            owners[client] = job_id
        deadline = time.monotonic() + stack.REPLY_TIMEOUT_S
        settle_end = None
        while time.monotonic() < (settle_end or deadline):
            for client, _ in poller.poll(100):
                frames = client.recv_multipart()
                self.assertEqual(frames[:3], [b"", b"MDPC01", b"ga"])
                replies[owners[client]].append(msgpack.unpackb(frames[3], raw=False))
            if settle_end is None and all(replies.values()):
                settle_end = time.monotonic() + SETTLE_S
        return replies

    def assert_one_reply_each(self, replies):
        for job_id, bodies in replies.items():
            self.assertEqual(len(bodies), 1, "job %s got %d replies" % (job_id, len(bodies)))
            self.assertEqual(bodies[0]["type"], "fetch.reply", bodies[0])
            self.assertEqual(bodies[0]["job_id"], job_id)

    def jobs_started(self, name, job_ids):
        """Return the job ids of job_ids with a "job started" line in the log of
        process name."""
        lines = [line for line in self.stack.log_text(name).splitlines()
                 if "job started" in line]
        return [job_id for job_id in job_ids
                if any("job=%s " % job_id in line for line in lines)]

    def bus_parts(self, job_ids):
        """Return {(job id, period label): part} of the "sessions" table of
        every job of job_ids, read from the table bus in one pass."""
        expected = len(job_ids) * len(stack.RECENT_PERIODS)
        found = {}
        deadline = time.monotonic() + stack.PART_TIMEOUT_S
        while len(found) < expected and time.monotonic() < deadline:
            if not self.stack.bus.poll(100):
                continue
            _, body = self.stack.bus.recv_multipart()
            part = msgpack.unpackb(body, raw=False)
            if part["job_id"] in job_ids and part["table_id"] == "sessions":
                found[(part["job_id"], part["period"]["label"])] = part
        return found

    def test_sessions_registered(self):
        status = self.wait_status({"workers": SESSIONS, "idle": SESSIONS})
        self.assertEqual(status["queued"], 0)

    def test_jobs_run_at_once(self):
        self.wait_status({"workers": SESSIONS, "idle": SESSIONS})
        sent = self.send_jobs("together")

        # Every session has a job in progress and none waits in the queue.
        self.wait_status({"workers": SESSIONS, "idle": 0, "queued": 0})
        replies = self.receive_replies(sent)
        self.assert_one_reply_each(replies)
        parts = self.bus_parts(sent)
        self.assertEqual(len(parts), JOBS * len(stack.RECENT_PERIODS), sorted(parts))
        for part in parts.values():
            self.assert_sums(part, {PROPERTY}, [])

        # The three jobs share the per-property limit ga.max_in_flight (2 in
        # the stack's config): together they reached it and never passed it.
        endpoints = self.stack.simulator.stats()["endpoints"]
        peaks = {}
        for name in ("runReport", "batchRunReports"):
            peaks.update(endpoints.get(name, {}).get("in_flight_max", {}))
        self.assertEqual(peaks.get(PROPERTY), 2, peaks)

    def test_killed_worker_requeues_all(self):
        self.wait_status({"workers": SESSIONS, "idle": SESSIONS})
        sent = self.send_jobs("killed")
        self.wait_status({"workers": SESSIONS, "idle": 0, "queued": 0})
        self.stack.worker.send_signal(signal.SIGKILL)
        self.stack.worker.wait()
        self.worker_killed = True

        # The broker expires the killed sessions and queues their jobs again
        # for the sessions of a new process.
        replacement = self.stack.spawn("worker-2", stack.WORKER)
        try:
            replies = self.receive_replies(sent)
            self.assert_one_reply_each(replies)
            self.assertEqual(sorted(self.jobs_started("worker-2", sent)), sorted(sent),
                             self.stack.log_text("worker-2"))
            self.wait_status({"workers": SESSIONS, "idle": SESSIONS, "queued": 0})
        finally:
            self.assertEqual(self.stack.stop_process(replacement), 0,
                             self.stack.log_text("worker-2"))


def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(SessionTest)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
