#!/usr/bin/python3
"""The report chain across three network namespaces with CURVE on.

The test creates three network namespaces joined by a bridge in the
broker's namespace, on the private subnet 10.250.1.0/24 that exists only
inside them:

  broker namespace   10.250.1.1  statsdash-broker (CURVE server, allowlist)
  GA namespace       10.250.1.2  the simulator and two GA workers
  report namespace   10.250.1.3  the aggregator, the reporter and the clients

Every process has its own key pair from `statsdash keygen` and its own
config file, whose endpoints are the namespace addresses. The test checks
that `statsdash request` in the report namespace gets a complete report.
It also checks that a GA worker and a client whose keys the broker does
not list get nothing: the worker never registers, and the client's
request times out with exit status 1. The namespaces are deleted at the end, on failure too.

Exits 77 (skipped), saying why, when network namespaces cannot be created
(not root, no `ip`, or no permission in this container).

Usage: multihost_curve.py --bin-simulator PATH --bin-broker PATH
       --bin-worker-ga PATH --bin-aggregator PATH --bin-reporter PATH
       --bin-statsdash PATH --generator PATH
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faults_chain as chain  # noqa: E402
from faults_chain import TestFailure, check  # noqa: E402

SKIPPED = 77
SUBNET_PREFIX = "10.250.1."
BROKER_ADDRESS = SUBNET_PREFIX + "1"
GA_ADDRESS = SUBNET_PREFIX + "2"
REPORT_ADDRESS = SUBNET_PREFIX + "3"
REQUEST_TIMEOUT_S = 40
REJECTED_TIMEOUT_S = 10
# Ports inside the broker's namespace, which is new and empty.
MDP_PORT, BUS_PUBLISH_PORT, BUS_SUBSCRIBE_PORT = 5555, 5556, 5557


class Namespaces:
    """Three network namespaces named after this process, joined by a
    bridge in the broker's namespace."""

    def __init__(self):
        tag = "sdmh%d" % os.getpid()
        self.broker = tag + "b"
        self.ga = tag + "g"
        self.report = tag + "r"
        self.created = []

    def ip(self, *arguments):
        subprocess.run(["ip"] + list(arguments), check=True, capture_output=True, text=True)

    def create(self):
        for name in (self.broker, self.ga, self.report):
            self.ip("netns", "add", name)
            self.created.append(name)
            self.ip("-n", name, "link", "set", "lo", "up")
        self.ip("-n", self.broker, "link", "add", "br0", "type", "bridge")
        self.ip("-n", self.broker, "addr", "add", BROKER_ADDRESS + "/24", "dev", "br0")
        self.ip("-n", self.broker, "link", "set", "br0", "up")
        for name, address, port in ((self.ga, GA_ADDRESS, "vga"),
                                    (self.report, REPORT_ADDRESS, "vrep")):
            # The veth pair is created inside the broker's namespace and its
            # other end moved straight into the peer namespace.
            self.ip("-n", self.broker, "link", "add", port, "type", "veth", "peer", "name",
                    "eth0", "netns", name)
            self.ip("-n", self.broker, "link", "set", port, "master", "br0")
            self.ip("-n", self.broker, "link", "set", port, "up")
            self.ip("-n", name, "addr", "add", address + "/24", "dev", "eth0")
            self.ip("-n", name, "link", "set", "eth0", "up")

    def delete(self):
        """Delete every namespace created; their links go with them.
        Return the problems found."""
        problems = []
        for name in reversed(self.created):
            result = subprocess.run(["ip", "netns", "del", name], capture_output=True, text=True)
            if result.returncode != 0:
                problems.append("ip netns del %s failed: %s" % (name, result.stderr.strip()))
        self.created = []
        return problems


def why_namespaces_unavailable():
    """Return why network namespaces cannot be used here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root; this test runs as uid %d" % os.geteuid()
    if not shutil.which("ip"):
        return "the ip command (iproute2) is not installed"
    probe = "sdmhprobe%d" % os.getpid()
    result = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if result.returncode != 0:
        return "ip netns add failed: %s" % result.stderr.strip()
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def make_keys(statsdash, directory, names):
    """Write a key pair per name with `statsdash keygen`. Return
    {name: (public key file, secret key file)}."""
    keys_dir = os.path.join(directory, "keys")
    os.makedirs(keys_dir, mode=0o700)
    keys = {}
    for name in names:
        path = os.path.join(keys_dir, name)
        subprocess.run([statsdash, "keygen", path], check=True, capture_output=True)
        keys[name] = (path, path + "_secret")
    return keys


def broker_section():
    return {
        "endpoint": "tcp://%s:%d" % (BROKER_ADDRESS, MDP_PORT),
        "bus_publish": "tcp://%s:%d" % (BROKER_ADDRESS, BUS_PUBLISH_PORT),
        "bus_subscribe": "tcp://%s:%d" % (BROKER_ADDRESS, BUS_SUBSCRIBE_PORT),
        "heartbeat_ms": 500,
        "liveness": 6,
    }


def client_curve(keys, name):
    public, secret = keys[name]
    return {"public_key_file": public, "secret_key_file": secret,
            "server_public_key_file": keys["broker"][0]}


def write_configs(directory, keys, api_base, key_file):
    """Write one config per process. Return {name: path}."""
    listed = ["worker-ga-1", "worker-ga-2", "aggregator", "reporter", "client"]
    public, secret = keys["broker"]
    configs = {"broker": chain.write_config(
        os.path.join(directory, "broker.json"), broker_section(),
        curve={"public_key_file": public, "secret_key_file": secret,
               "allowed_keys": [keys[name][0] for name in listed]})}
    for name in listed + ["unlisted"]:
        configs[name] = chain.write_config(os.path.join(directory, name + ".json"),
                                           broker_section(), api_base, key_file,
                                           curve=client_curve(keys, name))
    return configs


def start_services(args, services, namespaces, directory, configs_out):
    dataset = chain.generate_dataset(args.generator, directory)
    private_pem, public_pem = chain.write_key_pair(directory)
    api_base = chain.start_simulator(services, args.bin_simulator, dataset, public_pem,
                                     listen=GA_ADDRESS, namespace=namespaces.ga)
    key_file = chain.write_service_account(directory, private_pem, api_base + "/token")
    keys = make_keys(args.bin_statsdash, directory,
                     ["broker", "worker-ga-1", "worker-ga-2", "aggregator", "reporter", "client",
                      "unlisted"])
    configs = write_configs(directory, keys, api_base, key_file)
    configs_out.update(configs)

    services.start("broker", [args.bin_broker, "-c", configs["broker"]], namespaces.broker)
    for name in ("worker-ga-1", "worker-ga-2"):
        services.start(name, [args.bin_worker_ga, "-c", configs[name]], namespaces.ga)
    services.start("aggregator", [args.bin_aggregator, "-c", configs["aggregator"]],
                   namespaces.report)
    services.start("reporter", [args.bin_reporter, "-c", configs["reporter"]], namespaces.report)
    chain.wait_for_workers(services, args.bin_statsdash, configs["client"], 2,
                           namespace=namespaces.report)
    chain.wait_for_aggregator(services)


def run_checks(args, services, namespaces, configs):
    status, report, err, _ = chain.run_request(args.bin_statsdash, configs["client"],
                                               REQUEST_TIMEOUT_S, namespace=namespaces.report)
    check(status == 0, "statsdash request: exit status %d, stderr: %s" % (status, err))
    check(report is not None and report.get("status") == "complete",
          "report status %r" % (report or {}).get("status"))
    check(sorted(row["site"] for row in report["tables"]["site_summary"]["rows"])
          == sorted(chain.SITES), "site_summary rows %r"
          % report["tables"]["site_summary"]["rows"])
    print("ok listed client: complete report over CURVE across namespaces")

    services.start("worker-ga-unlisted", [args.bin_worker_ga, "-c", configs["unlisted"]],
                   namespaces.ga)
    status, report, err, elapsed = chain.run_request(
        args.bin_statsdash, configs["unlisted"], REJECTED_TIMEOUT_S, namespace=namespaces.report)
    check(status == 1 and report is None,
          "unlisted client: exit status %d after %.1f s, expected 1 and no report; stderr: %s"
          % (status, elapsed, err))
    check("no reply" in err, "unlisted client: stderr does not say no reply came: %s" % err)
    table = chain.status_table(args.bin_statsdash, configs["client"], namespaces.report)
    expected = 2 * chain.GA_CONCURRENT_JOBS
    check(table is not None and table.get("ga") == expected,
          "the broker lists %r GA workers, expected %d: the unlisted worker registered"
          % ((table or {}).get("ga"), expected))
    services.check_running(["worker-ga-unlisted"])
    print("ok unlisted key: the client got no reply and the worker never registered")


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in ("simulator", "broker", "worker-ga", "aggregator", "reporter", "statsdash"):
        parser.add_argument("--bin-" + name, required=True)
    parser.add_argument("--generator", required=True)
    return parser.parse_args()


def main():
    args = parse_arguments()
    reason = why_namespaces_unavailable()
    if reason:
        print("skipping: " + reason)
        return SKIPPED
    # SIGTERM to this script raises SystemExit, so the cleanup still runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("multihost: terminated"))
    os.environ["STATSDASH_NOW"] = chain.NOW
    namespaces = Namespaces()
    with tempfile.TemporaryDirectory(prefix="statsdash-multihost-") as directory:
        services = chain.Services(directory)
        failure = None
        problems = []
        try:
            namespaces.create()
            configs = {}
            start_services(args, services, namespaces, directory, configs)
            run_checks(args, services, namespaces, configs)
        except subprocess.CalledProcessError as error:
            failure = "%s failed: %s" % (" ".join(error.cmd), (error.stderr or "").strip())
        except (TestFailure, subprocess.SubprocessError, OSError, ValueError) as error:
            failure = "%s: %s" % (type(error).__name__, error)
        finally:
            problems = services.stop()
            problems += namespaces.delete()
        if failure or problems:
            services.print_logs()
            for text in ([failure] if failure else []) + problems:
                print("FAILED: " + text)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
