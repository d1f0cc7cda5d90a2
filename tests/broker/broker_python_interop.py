#!/usr/bin/python3
"""A Majordomo client and worker written here from the MDP/0.1 spec (ZeroMQ
RFC 7) exchange requests through the real statsdash-broker. Every frame is
checked byte for byte. Also checks the mmi.service (RFC 8) codes and that
the broker exits 0 after SIGTERM.

Usage: broker_python_interop.py PATH/TO/statsdash-broker
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

WAIT_MS = 10000
HEARTBEAT_MS = 200

MDPC = b"MDPC01"
MDPW = b"MDPW01"
READY, REQUEST, REPLY, HEARTBEAT, DISCONNECT = b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(folder):
    ports = [free_port() for _ in range(3)]
    config = {
        "broker": {
            "endpoint": "tcp://127.0.0.1:%d" % ports[0],
            "bus_publish": "tcp://127.0.0.1:%d" % ports[1],
            "bus_subscribe": "tcp://127.0.0.1:%d" % ports[2],
            "heartbeat_ms": HEARTBEAT_MS,
            # Expiry is tested elsewhere: a high liveness keeps a slow run
            # from expiring the worker between its messages.
            "liveness": 10,
        },
        "log": {"level": "debug"},
    }
    path = os.path.join(folder, "statsdash.json")
    with open(path, "w") as out:
        json.dump(config, out)
    return path, config["broker"]["endpoint"]


def recv(sock, timeout_ms=WAIT_MS):
    if not sock.poll(timeout_ms):
        raise AssertionError("no message within %d ms" % timeout_ms)
    return sock.recv_multipart()


def recv_worker(sock):
    """Returns the next broker message to the worker that is not HEARTBEAT,
    checking the HEARTBEATs skipped on the way."""
    while True:
        frames = recv(sock)
        if frames[2:3] == [HEARTBEAT]:
            assert frames == [b"", MDPW, HEARTBEAT], frames
            continue
        return frames


def mmi(client, service):
    client.send_multipart([b"", MDPC, b"mmi.service", service])
    frames = recv(client)
    assert frames[:3] == [b"", MDPC, b"mmi.service"], frames
    assert len(frames) == 4, frames
    return frames[3]


def wait_mmi(client, service, expected):
    deadline = time.monotonic() + WAIT_MS / 1000
    code = None
    while time.monotonic() < deadline:
        code = mmi(client, service)
        if code == expected:
            return
        time.sleep(0.05)
    raise AssertionError("mmi.service %r: expected %r, last %r" % (service, expected, code))


def exchange(client, worker):
    # Client request: [empty]["MDPC01"][service][body...]
    client.send_multipart([b"", MDPC, b"py.echo", b"first\x00part", b"", b"third"])

    # Worker receives REQUEST [empty]["MDPW01"][0x02][client][empty][body...]
    frames = recv_worker(worker)
    assert len(frames) == 8, frames
    assert frames[0:3] == [b"", MDPW, REQUEST], frames
    address = frames[3]
    assert len(address) > 0, frames
    assert frames[4] == b"", frames
    assert frames[5:] == [b"first\x00part", b"", b"third"], frames

    # Worker REPLY [empty]["MDPW01"][0x03][client][empty][body...]
    worker.send_multipart([b"", MDPW, REPLY, address, b"", b"answer", b"\xff\x00"])

    # Client receives [empty]["MDPC01"][service][body...]
    frames = recv(client)
    assert frames == [b"", MDPC, b"py.echo", b"answer", b"\xff\x00"], frames


def check_heartbeat_and_disconnect(worker, broker_endpoint, context):
    # The broker heartbeats an idle worker with exactly three frames.
    frames = recv(worker)
    assert frames == [b"", MDPW, HEARTBEAT], frames
    worker.send_multipart([b"", MDPW, HEARTBEAT])

    # An unregistered worker that sends HEARTBEAT receives DISCONNECT.
    stranger = context.socket(zmq.DEALER)
    stranger.linger = 0
    stranger.connect(broker_endpoint)
    stranger.send_multipart([b"", MDPW, HEARTBEAT])
    assert recv(stranger) == [b"", MDPW, DISCONNECT]
    stranger.close()


def main():
    broker_path = sys.argv[1]
    with tempfile.TemporaryDirectory() as folder:
        config_path, endpoint = write_config(folder)
        broker = subprocess.Popen([broker_path, "-c", config_path])
        context = zmq.Context()
        try:
            client = context.socket(zmq.DEALER)
            worker = context.socket(zmq.DEALER)
            for sock in (client, worker):
                sock.linger = 0
                sock.connect(endpoint)

            wait_mmi(client, b"py.echo", b"404")
            worker.send_multipart([b"", MDPW, READY, b"py.echo"])
            wait_mmi(client, b"py.echo", b"200")
            client.send_multipart([b"", MDPC, b"mmi.nothing", b"x"])
            assert recv(client) == [b"", MDPC, b"mmi.nothing", b"501"]

            for _ in range(5):
                exchange(client, worker)
            check_heartbeat_and_disconnect(worker, endpoint, context)

            # The worker leaves with DISCONNECT: the service is gone.
            worker.send_multipart([b"", MDPW, DISCONNECT])
            wait_mmi(client, b"py.echo", b"404")

            client.close()
            worker.close()
        finally:
            context.term()
            broker.send_signal(signal.SIGTERM)
            status = broker.wait(timeout=30)
        assert status == 0, "statsdash-broker exited with %d after SIGTERM" % status
    print("ok")


if __name__ == "__main__":
    main()
