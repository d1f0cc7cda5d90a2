#!/usr/bin/python3
"""Hostile text in the data breaks no output.

Two small datasets are written. In the hostile one, page titles, country
names, session sources and YouTube video titles carry markup, quotes,
CR/LF, HTML entities or 100 KB of text. The twin has the same numbers and
plain text in their place. The config's site, channel and country
names are hostile too (the config rejects control characters there). The
API responses pass through a proxy that swaps marker words for bytes that
the simulator cannot serve: invalid UTF-8 (a lone continuation byte, an
overlong '<', an encoded surrogate, a cut sequence) and the JSON escapes
\\u0000 and \\udc80.

ga-core and youtube are requested from both chains in JSON, CSV and HTML,
and mailed. The CASE argument picks the titles: text (markup, quotes,
CR/LF, entities), long (one 100 KB title) or invalid-utf8 (the proxy's
bytes). For every output of the hostile chain:
  HTML  html.parser finds exactly the twin's sequence of tags (so the same
        tables, rows and cells, and no injected element), and every hostile
        value as text;
  CSV   every record of a block has as many fields as its header, the
        blocks have the twin's record counts, and every hostile value is a
        field as it was;
  JSON  json.loads succeeds, each table has the twin's row count, and every
        hostile value is a string as it was;
  mail  the email package parses the message without defects, with the
        twin's header names, and its HTML part has the twin's tags;
  logs  every line of every process starts with the log prefix, so no
        value forged a line.

Invalid UTF-8 from an API is replaced, one U+FFFD per maximal invalid
subpart (as Python's "replace" error handler does), and the row is kept;
the escaped NUL and lone surrogate become U+FFFD as well. Text values of
more than SHOWN_MAX_CHARS characters are cut there and end with "…" in
the HTML and CSV outputs (docs/templates.md); JSON keeps them whole.

Usage: hostile_test.py CASE --bin-simulator PATH --bin-broker PATH
       --bin-worker-ga PATH --bin-worker-youtube PATH --bin-aggregator PATH
       --bin-reporter PATH --bin-statsdash PATH
"""
import argparse
import csv
import email
import email.policy
import html.parser
import http.client
import http.server
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hardchain  # noqa: E402

LONG_TITLE = ('<b>"&\'</td>' * 10000)[:100 * 1024]
# (label, hostile text, text expected in the outputs)
TEXT_TITLES = [
    ("markup", '<script>alert("t")</script></table></tr><tr><td>INJECTED</td>',
     '<script>alert("t")</script></table></tr><tr><td>INJECTED</td>'),
    ("quotes", 'He said "hi" & \'bye\'', 'He said "hi" & \'bye\''),
    ("crlf", "first\r\nX-Injected: title\r\nsecond\nthird\rfourth",
     "first\r\nX-Injected: title\r\nsecond\nthird\rfourth"),
    ("entities", "&lt;script&gt;x&lt;/script&gt; &amp;amp; &#39;q&#39;",
     "<script>x</script> &amp; 'q'"),
]
LONG_TITLES = [("long", LONG_TITLE, LONG_TITLE)]
# Marker words that the proxy replaces in every API response body, with
# the bytes put in their place and the text expected after replacement.
MARKERS = [
    ("lone continuation", b"ZZCONTZZ", b"\x80", "\ufffd"),
    ("overlong", b"ZZOVERLONGZZ", b"\xc0\xbc", "\ufffd\ufffd"),
    ("surrogate", b"ZZSURRZZ", b"\xed\xa0\x80", "\ufffd\ufffd\ufffd"),
    ("cut sequence", b"ZZCUTZZ", b"\xe2\x82", "\ufffd"),
    ("escaped NUL", b"ZZESCNULZZ", b"\\u0000", "\ufffd"),
    ("escaped surrogate", b"ZZESCSURZZ", b"\\udc80", "\ufffd"),
]
INVALID_TITLES = [(label, "bad %s here" % marker.decode(), "bad %s here" % replaced)
                  for label, marker, _, replaced in MARKERS]
CASES = {"text": TEXT_TITLES, "long": LONG_TITLES, "invalid-utf8": INVALID_TITLES}
# The titles of the case being run.
TITLES = []

COUNTRIES = [
    ("markup", "<i>Land</i></table>", "<i>Land</i></table>"),
    ("quotes", "Côte \"d'Ivoire\"", "Côte \"d'Ivoire\""),
    ("crlf", "Nowhere\r\nX-Injected: country", None),   # not in the config: Rest of World
    ("plain", "France", "France"),
]
SOURCES = [
    ("markup", "<a href=x>src</a>", "<a href=x>src</a>"),
    ("quotes", "quote\"s'src", "quote\"s'src"),
    ("crlf", "cr\r\nX-Injected: source", "cr\r\nX-Injected: source"),
    ("plain", "news.example", "news.example"),
]
HOSTILE_SITE = "<td>\"Evil\" & 'Site'</table>"
PLAIN_SITE = "plain.example"
HOSTILE_CHANNEL = "<script>TV</script> \"Chan\" & 'nel'"
PLAIN_CHANNEL = "Plain Channel"
SITE_PROPERTIES = {HOSTILE_SITE: ["310000001"], PLAIN_SITE: ["310000003"]}
CHANNEL_IDS = {HOSTILE_CHANNEL: ["UChostile000000000000001"],
               PLAIN_CHANNEL: ["UCplain00000000000000002"]}
GA_DATES = ["20261201", "20261130", "20261124", "20251201", "20251130"]
YT_DATES = ["2026-12-01", "2026-11-30", "2026-11-24", "2025-12-01"]
COUNTS = {"worker-ga": 1, "worker-youtube": 1, "aggregator": 1, "reporter": 1}
RECIPIENTS = ["editors@example.com"]
LOG_LINE = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z]+ [\w.-]+\[\d+\]: ")


class TestFailure(Exception):
    """A check failed."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


# ---------------------------------------------------------------------------
# Datasets

def pick(values, twin, index):
    """Return the dataset text of values[index], plain in the twin."""
    label, text, _ = values[index % len(values)]
    return "plain-%s-%d" % (label, index % len(values)) if twin else text


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_ga(folder, twin):
    header = ["property", "date", "hour", "hostName", "pagePath", "pageTitle", "country",
              "sessionSource", "sessionMedium", "sessionDefaultChannelGroup", "socialNetwork",
              "deviceCategory", "screenPageViews", "totalUsers", "sessions",
              "userEngagementDuration"]
    rows = []
    count = max(len(TITLES), len(COUNTRIES), len(SOURCES))
    for prop, host in (("310000001", "www.hostile.example"), ("310000003", "www.plain.example")):
        for day_index, day in enumerate(GA_DATES):
            for i in range(count):
                article = i % len(TITLES)
                title = TITLES[article][1] if not twin else "plain-title-%d" % article
                views = 5000 - 100 * i - 10 * day_index
                rows.append([prop, day, "%02d" % (i % 24), host, "/article-%d" % article, title,
                             pick(COUNTRIES, twin, i), pick(SOURCES, twin, i), "referral",
                             "Referral", "(not set)", "desktop",
                             views, views // 2, views // 3, views * 4])
            # One Organic Social row, so that the social tables have data.
            rows.append([prop, day, "23", host, "/article-0",
                         TITLES[0][1] if not twin else "plain-title-0", pick(COUNTRIES, twin, 0),
                         "facebook.com", "social", "Organic Social", "Facebook", "mobile",
                         700, 350, 233, 2800])
    write_csv(os.path.join(folder, "ga4-facts.csv"), header, rows)


def write_youtube(folder, twin):
    videos, facts = [], []
    for channel, ids in CHANNEL_IDS.items():
        channel_id = ids[0]
        for i in range(len(TITLES)):
            video = "v%s%07d" % (channel_id[2], i) + "xx"
            title = TITLES[i][1] if not twin else "plain-video-%d" % i
            videos.append([video, channel_id, title])
            for day_index, day in enumerate(YT_DATES):
                views = 3000 - 100 * i - 10 * day_index
                facts.append([channel_id, day, "FR", video, "YT_SEARCH", views, views * 3,
                              5, 1, 40, 2, 7, 3])
    write_csv(os.path.join(folder, "youtube-videos.csv"), ["video", "channel", "title"], videos)
    write_csv(os.path.join(folder, "youtube-facts.csv"),
              ["channel", "date", "country", "video", "insightTrafficSourceType", "views",
               "estimatedMinutesWatched", "subscribersGained", "subscribersLost", "likes",
               "dislikes", "comments", "shares"], facts)
    write_csv(os.path.join(folder, "youtube-channels.csv"),
              ["channel", "name", "subscriberCount", "videoCount", "viewCount"],
              [[ids[0], name if not twin else "plain channel", 1000, len(TITLES), 90000]
               for name, ids in CHANNEL_IDS.items()])


def write_dataset(folder, twin):
    os.makedirs(folder)
    write_ga(folder, twin)
    write_youtube(folder, twin)
    return folder


# ---------------------------------------------------------------------------
# The proxy that puts invalid bytes in API responses

class RewritingProxy:
    """Forwards every request to the simulator and replaces the marker
    words in response bodies."""

    def __init__(self, upstream_port):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {name: value for name, value in self.headers.items()
                           if name.lower() not in ("host", "accept-encoding", "connection",
                                                   "content-length")}
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body, headers)
                    response = upstream.getresponse()
                    data = response.read()
                    response_headers = response.getheaders()
                    status = response.status
                finally:
                    upstream.close()
                for _, marker, replacement, _ in MARKERS:
                    proxy.replaced += data.count(marker)
                    data = data.replace(marker, replacement)
                self.send_response(status)
                for name, value in response_headers:
                    if name.lower() not in ("content-length", "transfer-encoding", "connection",
                                            "content-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = forward
            do_POST = forward

        self.replaced = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------
# Output checks

class TagRecorder(html.parser.HTMLParser):
    """Records the sequence of start and end tags and the text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append("<" + tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append("<" + tag + "/")

    def handle_endtag(self, tag):
        self.tags.append("/" + tag)

    def handle_data(self, data):
        self.text.append(data)


def parse_html(text):
    recorder = TagRecorder()
    recorder.feed(text)
    recorder.close()
    return recorder.tags, "".join(recorder.text)


def first_difference(left, right):
    for index, (a, b) in enumerate(zip(left, right)):
        if a != b:
            return "tag %d: %r vs %r (context %r)" % (index, a, b, left[max(0, index - 5):index + 5])
    return "lengths %d vs %d" % (len(left), len(right))


def check_html(where, hostile, twin, expected):
    tags, text = parse_html(hostile)
    twin_tags, _ = parse_html(twin)
    check(tags == twin_tags, "%s: the HTML tags differ from the twin's: %s"
          % (where, first_difference(tags, twin_tags)))
    check("<script" not in tags, "%s: a script element appears" % where)
    for label, value in expected:
        check(value in text, "%s: the %s value is not in the HTML text" % (where, label))


def csv_blocks(text):
    """Split CSV text into blocks (lists of records) at empty records."""
    blocks, block = [], []
    for record in csv.reader(io.StringIO(text, newline="")):
        if not record:
            if block:
                blocks.append(block)
            block = []
        else:
            block.append(record)
    if block:
        blocks.append(block)
    return blocks


def check_csv(where, hostile, twin, expected):
    blocks, twin_blocks = csv_blocks(hostile), csv_blocks(twin)
    check([len(b) for b in blocks] == [len(b) for b in twin_blocks],
          "%s: CSV record counts %r, the twin's %r"
          % (where, [len(b) for b in blocks], [len(b) for b in twin_blocks]))
    for block in blocks:
        widths = {len(record) for record in block}
        check(len(widths) == 1, "%s: block %r has records of %s fields"
              % (where, block[0][:2], sorted(widths)))
    fields = {field for block in blocks for record in block for field in record}
    for label, value in expected:
        check(value in fields, "%s: the %s value is not a CSV field" % (where, label))


def json_strings(value, found):
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, list):
        for item in value:
            json_strings(item, found)
    elif isinstance(value, dict):
        for key, item in value.items():
            found.add(key)
            json_strings(item, found)
    return found


def check_json(where, hostile, twin, expected):
    report, twin_report = json.loads(hostile), json.loads(twin)
    counts = {name: len(table["rows"]) for name, table in report["tables"].items()}
    twin_counts = {name: len(table["rows"]) for name, table in twin_report["tables"].items()}
    check(counts == twin_counts, "%s: JSON row counts %r, the twin's %r"
          % (where, counts, twin_counts))
    check(report["status"] == twin_report["status"], "%s: status %r, the twin's %r; warnings %r"
          % (where, report["status"], twin_report["status"], report["warnings"]))
    strings = json_strings(report["tables"], set())
    for label, value in expected:
        check(value in strings, "%s: the %s value is not a JSON string" % (where, label))


def mail_summary(content):
    message = email.message_from_bytes(content, policy=email.policy.default)
    html_part = message.get_body(preferencelist=("html",))
    return message, html_part.get_content() if html_part else None


def check_mail(where, hostile, twin, subject):
    message, html_text = mail_summary(hostile)
    twin_message, twin_html = mail_summary(twin)
    check(not message.defects, "%s: mail defects %r" % (where, message.defects))
    check(sorted(message.keys()) == sorted(twin_message.keys()),
          "%s: mail headers %r, the twin's %r" % (where, message.keys(), twin_message.keys()))
    check(str(message["Subject"]) == subject, "%s: subject %r, expected %r"
          % (where, str(message["Subject"]), subject))
    check(html_text is not None, "%s: the mail has no HTML part" % where)
    check_html(where + " mail", html_text, twin_html, [])


def check_logs(chain):
    for name, path in chain.log_files().items():
        with open(path, "rb") as log:
            for number, line in enumerate(log.read().split(b"\n")):
                check(not line or LOG_LINE.match(line), "%s log line %d has no log prefix: %r"
                      % (name, number + 1, line[:300]))


# ---------------------------------------------------------------------------
# Runs

SHOWN_MAX_CHARS = 300


def shown(values):
    """The expected values as HTML and CSV show them: cut after
    SHOWN_MAX_CHARS characters, with "…" appended."""
    return [(label, text if len(text) <= SHOWN_MAX_CHARS else text[:SHOWN_MAX_CHARS] + "\u2026")
            for label, text in values]


def expected_values(report):
    values = [("site " + HOSTILE_SITE, HOSTILE_SITE)] if report == "ga-core" else \
        [("channel " + HOSTILE_CHANNEL, HOSTILE_CHANNEL)]
    if report == "ga-core":
        values += [("title " + label, text) for label, _, text in TITLES]
        values += [("country " + label, text) for label, _, text in COUNTRIES if text]
        # The traffic sources table shows "source / medium".
        values += [("source " + label, text + " / referral") for label, _, text in SOURCES]
    else:
        # YouTube titles are plain text: HTML entities in them stay as they are.
        values += [("title " + label, raw if label == "entities" else text)
                   for label, raw, text in TITLES]
    return values


def run_chain(args, folder, twin):
    """Return {(report, format): output bytes or mail bytes} of one chain."""
    dataset = write_dataset(os.path.join(folder, "dataset"), twin)
    smtp = hardchain.SmtpServer("statsdash", "hostile-test-password")
    proxy = {}

    def start_proxy(base):
        proxy["proxy"] = RewritingProxy(int(base.rsplit(":", 1)[1]))
        return proxy["proxy"].base

    sites = {HOSTILE_SITE if not twin else "twin-site": SITE_PROPERTIES[HOSTILE_SITE],
             PLAIN_SITE: SITE_PROPERTIES[PLAIN_SITE]}
    channels = {HOSTILE_CHANNEL if not twin else "twin-channel": CHANNEL_IDS[HOSTILE_CHANNEL],
                PLAIN_CHANNEL: CHANNEL_IDS[PLAIN_CHANNEL]}
    countries = [text for _, text, _ in COUNTRIES if "\r" not in text]
    if twin:
        countries = ["plain-%s-%d" % (COUNTRIES[i][0], i) for i in range(len(COUNTRIES))
                     if "\r" not in COUNTRIES[i][1]]

    def set_countries(config):
        config["ga"]["countries"] = countries

    chain = hardchain.Chain(bins(args), folder, dataset, sites, channels, COUNTS,
                            log_level="debug", smtp=smtp, api_proxy=start_proxy,
                            config_edit=set_countries)
    outputs = {}
    failure = None
    try:
        chain.start()
        for report in ("ga-core", "youtube"):
            for output_format in ("json", "csv", "html"):
                result = chain.request(report, "WOW_DAILY", "2026-12-01", output_format,
                                       RECIPIENTS if output_format == "html" else None)
                check(result.returncode in (0, 2), "%s %s%s: exit status %d: %s"
                      % (report, output_format, " (twin)" if twin else "", result.returncode,
                         result.stderr[-1500:].decode("utf-8", "replace")))
                outputs[(report, output_format)] = result.stdout
                if output_format == "html":
                    check(smtp.messages, "%s: no mail arrived" % report)
                    outputs[(report, "mail")] = smtp.messages.pop()[2]
        if not twin:
            if TITLES is INVALID_TITLES or TITLES == INVALID_TITLES:
                check(proxy["proxy"].replaced > 0, "the proxy replaced no marker")
            check_logs(chain)
    except (TestFailure, hardchain.ChainError, subprocess.SubprocessError, OSError) as error:
        failure = str(error)
    finally:
        problems = chain.stop()
        if "proxy" in proxy:
            proxy["proxy"].stop()
    if failure or problems:
        chain.print_logs()
        raise TestFailure("; ".join(([failure] if failure else []) + problems))
    return outputs


def compare(hostile, twin):
    failures = []
    for report in ("ga-core", "youtube"):
        expected = expected_values(report)
        subject = json.loads(hostile[(report, "json")])["subject"]
        checks = [
            ("json", lambda h, t: check_json(report + " JSON", h, t, expected)),
            ("csv", lambda h, t: check_csv(report + " CSV", h, t, shown(expected))),
            ("html", lambda h, t: check_html(report + " HTML", h, t, shown(expected))),
            ("mail", lambda h, t: check_mail(report + " mail", h, t, subject)),
        ]
        for output_format, checker in checks:
            data, twin_data = hostile[(report, output_format)], twin[(report, output_format)]
            try:
                if output_format == "mail":
                    checker(data, twin_data)
                else:
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError as error:
                        raise TestFailure("%s %s is not UTF-8: %s" % (report, output_format, error))
                    checker(text, twin_data.decode("utf-8"))
                print("ok %s %s" % (report, output_format))
            except (TestFailure, ValueError, KeyError) as error:
                failures.append(str(error))
    return failures


def bins(args):
    return {"simulator": args.bin_simulator, "broker": args.bin_broker,
            "worker-ga": args.bin_worker_ga, "worker-youtube": args.bin_worker_youtube,
            "aggregator": args.bin_aggregator, "reporter": args.bin_reporter,
            "statsdash": args.bin_statsdash}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=sorted(CASES))
    for name in ("simulator", "broker", "worker-ga", "worker-youtube", "aggregator",
                 "reporter", "statsdash"):
        parser.add_argument("--bin-" + name, required=True)
    return parser.parse_args()


def main():
    args = parse_arguments()
    TITLES[:] = CASES[args.case]
    with tempfile.TemporaryDirectory(prefix="statsdash-hostile-") as folder:
        try:
            os.makedirs(os.path.join(folder, "hostile"))
            os.makedirs(os.path.join(folder, "twin"))
            hostile = run_chain(args, os.path.join(folder, "hostile"), twin=False)
            twin = run_chain(args, os.path.join(folder, "twin"), twin=True)
        except TestFailure as error:
            print("FAILED: %s" % error)
            return 1
        failures = compare(hostile, twin)
    for failure in failures:
        print("FAILED: %s" % failure[:3000])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
