#!/usr/bin/python3
"""Secrets stay out of logs, and secret files with loose modes stop the
process that needs them.

Cases (the first argument):
  logs    The whole chain with CURVE on every connection, log level debug
          everywhere, two GA workers, a YouTube worker and an SMTP server
          that requires a login. ga-core (JSON, and HTML mailed) and youtube
          (JSON, mailed) are requested. Then every log file of every process,
          the simulator's and the CLI's stderr included, is searched for
          each secret. The secrets are every line of the service-account
          private key's PEM body, the YouTube client secret, each refresh token, the SMTP
          password, each CURVE secret key in Z85, and the access tokens and
          JWT assertions, found by the prefixes the simulator and RS256
          JWTs always have ("ya29.sim.", "eyJhbGciOi").
  modes   Each process is started with one of its secret files at mode 0644:
          the GA worker (service-account key), the YouTube worker (client
          secret, then a refresh token), the broker (its CURVE secret key)
          and the reporter (the SMTP password). Each must exit with a
          non-zero status within 30 s and write a line naming the file and
          `chmod 600`. --only NAME checks one of them.

Usage: secrets_test.py CASE [--only NAME] --bin-simulator PATH --bin-broker PATH
       --bin-worker-ga PATH --bin-worker-youtube PATH --bin-aggregator PATH
       --bin-reporter PATH --bin-statsdash PATH --generator PATH
"""
import argparse
import email
import email.policy
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hardchain  # noqa: E402

SITES = {
    "gamesnews.example": ["310000001", "310000002"],
    "retrotech.example": ["310000003"],
}
CHANNELS = {
    "GamesNews TV": ["UCgamesnews0000000000001", "UCgamesnews0000000000002"],
    "RetroTech Clips": ["UCretrotech0000000000003"],
}
COUNTS = {"worker-ga": 2, "worker-youtube": 1, "aggregator": 1, "reporter": 1}
SMTP_USER = "statsdash-hardening"
RECIPIENTS = ["editors@example.com"]
# Prefixes that every access token of the simulator and every RS256 JWT
# (base64url of '{"alg":') start with.
TOKEN_MARKERS = {"access token (ya29.sim. prefix)": "ya29.sim.",
                 "JWT assertion (eyJhbGciOi prefix)": "eyJhbGciOi"}
STOP_WAIT_S = 30
MODE_CASES = ["worker-ga-key", "worker-youtube-client-secret", "worker-youtube-refresh-token",
              "broker-curve", "reporter-smtp-password"]


class TestFailure(Exception):
    """A check failed."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def secret_needles(secrets):
    """Return [(description, bytes)] to search for. The PEM is searched by
    each line of its base64 body, so a partial dump is found too."""
    needles = []
    for description, text in secrets.items():
        if "PRIVATE KEY" in text:
            for number, line in enumerate(text.splitlines()):
                if line and not line.startswith("-----"):
                    needles.append(("%s, body line %d" % (description, number), line.encode()))
        else:
            needles.append((description, text.strip().encode()))
    for description, marker in TOKEN_MARKERS.items():
        needles.append((description, marker.encode()))
    return needles


def find_leaks(logs, needles):
    """Return one text per (log, secret) pair where the secret appears."""
    leaks = []
    for log_name, data in logs.items():
        for description, needle in needles:
            position = data.find(needle)
            if position >= 0:
                line_start = data.rfind(b"\n", 0, position) + 1
                line_end = data.find(b"\n", position)
                line = data[line_start:line_end if line_end >= 0 else len(data)]
                leaks.append("%s log contains the %s: %r"
                             % (log_name, description, line[:300]))
    return leaks


def run_reports(chain, cli_logs):
    """Request the reports and check that they and their mails came back."""
    requests = [
        ("ga-core", "json", None),
        ("ga-core", "html", RECIPIENTS),
        ("youtube", "json", RECIPIENTS),
    ]
    for report, output_format, recipients in requests:
        result = chain.request(report, "WOW_DAILY", "2026-12-01", output_format, recipients)
        cli_logs["statsdash request %s %s" % (report, output_format)] = result.stderr
        check(result.returncode in (0, 2), "%s %s: exit status %d, stderr: %s"
              % (report, output_format, result.returncode, result.stderr[-2000:]))
        check(result.stdout.strip(), "%s %s: no report on stdout" % (report, output_format))
    mailed = sum(1 for _, _, recipients in requests if recipients)
    check(len(chain.smtp.messages) == mailed, "the SMTP server received %d messages, "
          "expected %d; logins %r" % (len(chain.smtp.messages), mailed, chain.smtp.logins))
    check(all(accepted for _, accepted in chain.smtp.logins) and chain.smtp.logins,
          "SMTP logins %r: expected only accepted logins as %s"
          % (chain.smtp.logins, SMTP_USER))
    for _, _, content in chain.smtp.messages:
        message = email.message_from_bytes(content, policy=email.policy.default)
        check(message["Subject"], "a mail has no subject")


def case_logs(args, folder, dataset):
    smtp = hardchain.SmtpServer(SMTP_USER, "smtp-password-%s" % os.urandom(12).hex())
    chain = hardchain.Chain(bins(args), folder, dataset, SITES, CHANNELS, COUNTS,
                            log_level="debug", curve=True, smtp=smtp)
    cli_logs = {}
    failure = None
    try:
        chain.start()
        run_reports(chain, cli_logs)
    except (TestFailure, hardchain.ChainError, subprocess.SubprocessError, OSError) as error:
        failure = str(error)
    finally:
        problems = chain.stop()
    if failure or problems:
        chain.print_logs()
        raise TestFailure("; ".join(([failure] if failure else []) + problems))

    logs = {name: open(path, "rb").read() for name, path in chain.log_files().items()}
    logs.update(cli_logs)
    check(any(b"DEBUG" in data or b"debug" in data for data in logs.values()),
          "no log has a debug line; is log.level honoured?")
    needles = secret_needles(chain.secrets)
    expected = ["service-account private key", "YouTube client secret", "refresh token of",
                "SMTP password", "CURVE secret key of broker"]
    for prefix in expected:
        check(any(description.startswith(prefix) for description, _ in needles),
              "the test has no %s to search for" % prefix)
    leaks = find_leaks(logs, needles)
    check(not leaks, "secrets found in logs:\n" + "\n".join(leaks))
    print("ok %d secrets searched in %d logs (%d bytes)"
          % (len(needles), len(logs), sum(len(data) for data in logs.values())))


# ---------------------------------------------------------------------------
# Loose modes

def start_and_wait(command, environment, log_path):
    """Run command until it exits (at most STOP_WAIT_S). Return (status, log
    text); status None when it was still running (then it is stopped)."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   env=environment, preexec_fn=hardchain.stop_with_parent)
    try:
        status = process.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        status = None
    with open(log_path, "rb") as log:
        return status, log.read().decode("utf-8", "replace")


def check_refused(name, command, path, environment, folder):
    os.chmod(path, 0o644)
    try:
        status, text = start_and_wait(command, environment,
                                      os.path.join(folder, "refused-%s.log" % name))
    finally:
        os.chmod(path, 0o600)
    check(status is not None, "%s kept running with %s at mode 0644; log: %s"
          % (name, path, text[-1500:]))
    check(status != 0, "%s exited 0 with %s at mode 0644" % (name, path))
    lines = [line for line in text.splitlines() if path in line and "chmod 600" in line]
    check(lines, "%s: no line names %s and chmod 600; log: %s" % (name, path, text[-1500:]))
    print("ok %s refused %s: %s" % (name, os.path.basename(path), lines[0][-160:]))


def case_modes(args, folder, dataset):
    smtp = hardchain.SmtpServer(SMTP_USER, "smtp-password-%s" % os.urandom(12).hex())
    chain = hardchain.Chain(bins(args), folder, dataset, SITES, CHANNELS, COUNTS,
                            log_level="info", curve=True, smtp=smtp)
    failures = []
    try:
        chain.start()
        environment = chain.environment
        first_channel = CHANNELS["GamesNews TV"][0]
        token_file = chain.channel_entries["GamesNews TV"][0]["refresh_token_file"]
        check(first_channel in token_file, "unexpected token file %s" % token_file)
        cases = [
            ("worker-ga key", [args.bin_worker_ga, "-c", chain.configs["worker-ga-1"]],
             chain.key_file),
            ("worker-youtube client secret",
             [args.bin_worker_youtube, "-c", chain.configs["worker-youtube-1"]],
             chain.client_secret_file),
            ("worker-youtube refresh token",
             [args.bin_worker_youtube, "-c", chain.configs["worker-youtube-1"]], token_file),
            ("broker curve", [args.bin_broker, "-c", chain.configs["broker"]],
             chain.curve_keys["broker"][1]),
            ("reporter smtp password", [args.bin_reporter, "-c", chain.configs["reporter-1"]],
             chain.config["smtp"]["password_file"]),
        ]
        for name, command, path in cases:
            if args.only and name.replace(" ", "-") != args.only:
                continue
            try:
                check_refused(name, command, path, environment, folder)
            except TestFailure as error:
                failures.append(str(error))
    except (hardchain.ChainError, subprocess.SubprocessError, OSError) as error:
        failures.append(str(error))
    finally:
        problems = chain.stop()
    check(not failures and not problems, "\n".join(failures + problems))


def bins(args):
    return {"simulator": args.bin_simulator, "broker": args.bin_broker,
            "worker-ga": args.bin_worker_ga, "worker-youtube": args.bin_worker_youtube,
            "aggregator": args.bin_aggregator, "reporter": args.bin_reporter,
            "statsdash": args.bin_statsdash}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=["logs", "modes"])
    for name in ("simulator", "broker", "worker-ga", "worker-youtube", "aggregator",
                 "reporter", "statsdash"):
        parser.add_argument("--bin-" + name, required=True)
    parser.add_argument("--generator", required=True)
    parser.add_argument("--only", choices=MODE_CASES,
                        help="modes: check only this process and secret file")
    return parser.parse_args()


def main():
    args = parse_arguments()
    with tempfile.TemporaryDirectory(prefix="statsdash-hardening-") as folder:
        dataset = os.path.join(folder, "dataset")
        subprocess.run([sys.executable, args.generator, dataset], check=True)
        try:
            if args.case == "logs":
                case_logs(args, folder, dataset)
            else:
                case_modes(args, folder, dataset)
        except TestFailure as error:
            print("FAILED: %s" % error)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
