#!/usr/bin/python3
"""`statsdash status` lists a service as live while a worker (written here
from the MDP/0.1 spec) is registered with the real statsdash-broker, and
exits 1 with one line on stderr when no broker replies.

Usage: broker_cli_status.py PATH/TO/statsdash-broker PATH/TO/statsdash
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import zmq

WAIT_S = 10


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(folder, name):
    ports = [free_port() for _ in range(3)]
    config = {
        "broker": {
            "endpoint": "tcp://127.0.0.1:%d" % ports[0],
            "bus_publish": "tcp://127.0.0.1:%d" % ports[1],
            "bus_subscribe": "tcp://127.0.0.1:%d" % ports[2],
            "heartbeat_ms": 200,
            # Each status run may take a second under sanitizers: a high
            # liveness keeps the worker registered meanwhile.
            "liveness": 50,
        }
    }
    path = os.path.join(folder, name)
    with open(path, "w") as out:
        json.dump(config, out)
    return path, config["broker"]["endpoint"]


def status_table(cli, config_path):
    """Runs statsdash status; returns (exit status, {service: live}, stderr)."""
    run = subprocess.run([cli, "status", "-c", config_path], capture_output=True, text=True,
                         timeout=60)
    table = {}
    for line in run.stdout.splitlines()[1:]:
        fields = line.split()
        if len(fields) == 2:
            table[fields[0]] = fields[1]
    return run.returncode, table, run.stderr


def main():
    broker_path, cli = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as folder:
        config_path, endpoint = write_config(folder, "live.json")
        broker = subprocess.Popen([broker_path, "-c", config_path])
        context = zmq.Context()
        try:
            worker = context.socket(zmq.DEALER)
            worker.linger = 0
            worker.connect(endpoint)
            worker.send_multipart([b"", b"MDPW01", b"\x01", b"ga"])

            # Registration is asynchronous: retry until ga shows as live, and
            # send heartbeats meanwhile so that the worker stays registered.
            deadline = time.monotonic() + WAIT_S
            table = {}
            while time.monotonic() < deadline:
                worker.send_multipart([b"", b"MDPW01", b"\x04"])
                status, table, errors = status_table(cli, config_path)
                assert status == 0, "status exited %d: %s" % (status, errors)
                if table.get("ga") == "yes":
                    break
                time.sleep(0.1)
            assert table == {"ga": "yes", "youtube": "no", "report": "no"}, table
            worker.close()
        finally:
            context.term()
            broker.send_signal(signal.SIGTERM)
            assert broker.wait(timeout=30) == 0

        # No process listens on the ports of this config.
        silent_path, _ = write_config(folder, "silent.json")
        status, table, errors = status_table(cli, silent_path)
        assert status == 1, status
        assert "no reply from the broker" in errors, errors
    print("ok")


if __name__ == "__main__":
    main()
