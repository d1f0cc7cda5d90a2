#!/usr/bin/python3
"""mmi.status of the real statsdash-broker, decoded here with python3-msgpack,
and the table `statsdash status` prints from it, after known traffic from a
client and workers written here from the MDP/0.1 spec. With no broker
listening, `statsdash status` exits 1 with one line on stderr.

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

import msgpack
import zmq

WAIT_S = 10
SERVED = 3
QUEUED = 2


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
            # liveness keeps the workers registered meanwhile.
            "liveness": 50,
        }
    }
    path = os.path.join(folder, name)
    with open(path, "w") as out:
        json.dump(config, out)
    return path, config["broker"]["endpoint"]


def recv(sock, timeout_s=WAIT_S):
    assert sock.poll(int(timeout_s * 1000)), "no message within %d s" % timeout_s
    return sock.recv_multipart()


def worker(context, endpoint, service):
    sock = context.socket(zmq.DEALER)
    sock.linger = 0
    sock.connect(endpoint)
    sock.send_multipart([b"", b"MDPW01", b"\x01", service])
    return sock


def serve_one(sock):
    """Replies to the next REQUEST, skipping heartbeats."""
    while True:
        frames = recv(sock)
        if frames[2] == b"\x02":
            break
    client, body = frames[3], frames[5:]
    sock.send_multipart([b"", b"MDPW01", b"\x03", client, b""] + body)


def mmi_status(client):
    client.send_multipart([b"", b"MDPC01", b"mmi.status"])
    frames = recv(client)
    assert frames[:3] == [b"", b"MDPC01", b"mmi.status"], frames
    assert len(frames) == 4, frames
    return msgpack.unpackb(frames[3], raw=False)


def status_table(cli, config_path):
    """Runs statsdash status; returns (exit status, header, {service: counts}, stderr)."""
    run = subprocess.run([cli, "status", "-c", config_path], capture_output=True, text=True,
                         timeout=60)
    lines = run.stdout.splitlines()
    table = {}
    for line in lines[1:]:
        fields = line.split()
        table[fields[0]] = [int(field) for field in fields[1:]]
    return run.returncode, lines[0].split() if lines else [], table, run.stderr


def traffic(context, endpoint):
    """ga serves SERVED requests; report gets QUEUED requests and no worker;
    custom has one idle worker. Returns the sockets to keep open."""
    ga = worker(context, endpoint, b"ga")
    custom = worker(context, endpoint, b"custom")
    client = context.socket(zmq.DEALER)
    client.linger = 0
    client.connect(endpoint)
    for number in range(SERVED):
        client.send_multipart([b"", b"MDPC01", b"ga", b"request %d" % number])
        serve_one(ga)
        frames = recv(client)
        assert frames == [b"", b"MDPC01", b"ga", b"request %d" % number], frames
    for number in range(QUEUED):
        client.send_multipart([b"", b"MDPC01", b"report", b"queued %d" % number])
    return ga, custom, client


def heartbeat(*workers):
    for sock in workers:
        sock.send_multipart([b"", b"MDPW01", b"\x04"])


def check_live_broker(cli, config_path, endpoint):
    context = zmq.Context()
    try:
        ga, custom, client = traffic(context, endpoint)
        expected = {
            "ga": {"workers": 1, "idle": 1, "queued": 0, "served": SERVED},
            "custom": {"workers": 1, "idle": 1, "queued": 0, "served": 0},
            "report": {"workers": 0, "idle": 0, "queued": QUEUED, "served": 0},
        }
        # The report requests may still be on their way: ask until they show.
        deadline = time.monotonic() + WAIT_S
        status = mmi_status(client)
        while status != expected and time.monotonic() < deadline:
            heartbeat(ga, custom)
            time.sleep(0.1)
            status = mmi_status(client)
        assert status == expected, status

        heartbeat(ga, custom)
        code, header, table, errors = status_table(cli, config_path)
        assert code == 0, "status exited %d: %s" % (code, errors)
        assert header == ["service", "workers", "idle", "queued", "served"], header
        assert table == {
            "ga": [1, 1, 0, SERVED],
            "youtube": [0, 0, 0, 0],
            "report": [0, 0, QUEUED, 0],
            "custom": [1, 1, 0, 0],
        }, table
        for sock in (ga, custom, client):
            sock.close()
    finally:
        context.term()


def main():
    broker_path, cli = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as folder:
        config_path, endpoint = write_config(folder, "live.json")
        broker = subprocess.Popen([broker_path, "-c", config_path])
        try:
            check_live_broker(cli, config_path, endpoint)
        finally:
            broker.send_signal(signal.SIGTERM)
            assert broker.wait(timeout=30) == 0

        # No process listens on the ports of this config.
        silent_path, _ = write_config(folder, "silent.json")
        code, _, table, errors = status_table(cli, silent_path)
        assert code == 1, code
        assert table == {}, table
        assert "no reply from the broker" in errors, errors
    print("ok")


if __name__ == "__main__":
    main()
