#!/usr/bin/python3
"""Every GA report type through the whole chain: the Google API simulator,
the broker, a GA worker, the aggregator and the reporter on loopback, driven
by `statsdash request`. The figures of each table are recomputed here from
ga4-facts.csv and the report semantics, without the project's code, so the
test also checks what the GA worker returns for each query.

Cases (the first argument):
  ga-core           WOW_DAILY for every site, MONTHLY for every site and
                    WEEKLY for two sites (network overview)
  ga-social         WEEKLY for every site and MONTHLY for one site
  ga-year-social    MONTHLY for every site (36 months)
  ga-social-export  MONTHLY CSV for every site (12 months)
  youtube           WEEKLY for every channel (needs --bin-worker-youtube),
                    checked against youtube-facts.csv and the channel and
                    video lists
  ga-warnings       WEEKLY ga-core with GA4 metadata marking one property
                    sampled and another thresholded (the simulator's
                    --ga-metadata), then a WOW_DAILY ga-core for a day past
                    the data (partial, one warning per site)

The HTML forms of the MONTHLY ga-core and the WEEKLY ga-social report must
carry their charts (device_months, social_days) as PNG data URIs.

The dataset is generated into a temporary folder, unless --dataset env is
given: then STATSDASH_DATASET names it, the case exits 77 (skipped) when the
variable is unset and fails when the folder cannot be read.

Usage: reporter_chain.py CASE --dataset generate|env --bin-simulator PATH
       --bin-broker PATH --bin-worker-ga PATH [--bin-worker-youtube PATH]
       --bin-aggregator PATH --bin-reporter PATH --bin-statsdash PATH
       --generator PATH
"""
import argparse
import base64
import csv
import ctypes
import datetime
import html
import io
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SKIPPED = 77
NOW = "2026-12-02T18:00:00Z"
REQUEST_TIMEOUT_S = 60

SITES = {
    "gamesnews.example": ["310000001", "310000002"],
    "retrotech.example": ["310000003"],
    "boardplay.example": ["310000004"],
    "jeuxvideo.example": ["310000005"],
}

# The config the test writes has a short country list and the default
# source blacklist. Its social map leaves out youtube.com, whose sessions
# must be dropped. Its path blacklist has one unanchored pattern, which
# the GA4 API filter cannot express, so the aggregator rule applies it.
COUNTRIES = ["United States", "United Kingdom", "Germany", "France", "Canada"]
SOURCE_BLACKLIST = ["google", "(direct)"]
SOCIAL_SOURCES = {
    "facebook.com": "Facebook", "m.facebook.com": "Facebook", "l.facebook.com": "Facebook",
    "t.co": "Twitter", "reddit.com": "reddit", "lnkd.in": "LinkedIn",
    "instagram.com": "Instagram",
}
PATH_BLACKLIST = ["^/$", "^/page/[0-9]+/?$", "^/\\?", "^/forum", "^/login\\.php",
                  "^/cookies\\.php", "review-3[0-9]"]
LEADING_NETWORKS = ["Facebook", "Twitter", "reddit"]

CHANNELS = {
    "GamesNews TV": ["UCgamesnews0000000000001", "UCgamesnews0000000000002"],
    "RetroTech Clips": ["UCretrotech0000000000003"],
    "BoardPlay": ["UCboardplay0000000000004"],
}
# The simulator's OAuth client; the YouTube worker reads it from the
# client secret file the test writes.
YOUTUBE_CLIENT = {"client_id": "statsdash-simulator.apps.googleusercontent.com",
                  "client_secret": "simulator-client-secret"}
YOUTUBE_METRICS = ["views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost",
                   "likes", "dislikes", "comments", "shares"]

METRIC_COLUMNS = ["screenPageViews", "totalUsers", "sessions", "userEngagementDuration"]

# GA4 metadata the simulator sets in the ga-warnings case: one property of
# retrotech.example is sampled, the one of boardplay.example thresholded.
SAMPLED_PROPERTY = "310000003"
THRESHOLDED_PROPERTY = "310000004"
SIMULATOR_OPTIONS = {
    "ga-warnings": ["--ga-metadata", "sampled:" + SAMPLED_PROPERTY,
                    "--ga-metadata", "thresholded:" + THRESHOLDED_PROPERTY],
}


class TestFailure(Exception):
    """A check of the report or of a service failed."""


def check(condition, message):
    if not condition:
        raise TestFailure(message)


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def check_number(actual, expected, where):
    check(isinstance(actual, (int, float)) and not isinstance(actual, bool),
          "%s: %r is not a number (expected %r)" % (where, actual, expected))
    check(close(actual, expected), "%s: %r, expected %r" % (where, actual, expected))


# ---------------------------------------------------------------------------
# The facts and the periods.

class Facts:
    """The rows of ga4-facts.csv with their metrics as integers."""

    def __init__(self, path):
        self.rows = []
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                row["day"] = datetime.datetime.strptime(row["date"], "%Y%m%d").date()
                for column in METRIC_COLUMNS:
                    row[column] = int(row[column])
                self.rows.append(row)
        self.first_day = min(row["day"] for row in self.rows)

    def select(self, sites, period, where=None):
        """Yields (site, row) for the rows of the sites' properties in the
        period (first day, last day) that pass where(row)."""
        owner = {prop: site for site in sites for prop in SITES[site]}
        first, last = period
        for row in self.rows:
            site = owner.get(row["property"])
            if site and first <= row["day"] <= last and (where is None or where(row)):
                yield site, row


def year_earlier(day):
    if day.month == 2 and day.day == 29:
        return datetime.date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def month_range(year, month):
    first = datetime.date(year, month, 1)
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return first, following - datetime.timedelta(days=1)


def months_back(day, count):
    """The first day of the month `count` months before day's month."""
    index = day.year * 12 + day.month - 1 - count
    return datetime.date(index // 12, index % 12 + 1, 1)


def report_periods(frequency, date_text):
    day = datetime.date.fromisoformat(date_text)
    week = datetime.timedelta(days=7)
    one = datetime.timedelta(days=1)
    if frequency == "DAILY":
        current, previous = (day, day), (day - one, day - one)
    elif frequency == "WOW_DAILY":
        current, previous = (day, day), (day - week, day - week)
    elif frequency == "WEEKLY":
        current, previous = (day - 6 * one, day), (day - 13 * one, day - week)
    else:
        current = month_range(day.year, day.month)
        before = current[0] - one
        previous = month_range(before.year, before.month)
    yearly = (year_earlier(current[0]), year_earlier(current[1]))
    return {"current": current, "previous": previous, "yearly": yearly}


def article_periods(frequency, date_text):
    """Top articles compare a one-day report with the day before."""
    periods = report_periods(frequency, date_text)
    first, last = periods["current"]
    if first == last:
        day = first - datetime.timedelta(days=1)
        periods["previous"] = (day, day)
    return periods


def byte_key(text):
    return text.encode("utf-8")


# ---------------------------------------------------------------------------
# Expected tables.

def blacklisted(path):
    return any(re.search(pattern, path) for pattern in PATH_BLACKLIST)


def article_key(path, title):
    """Applies the article rules to a raw (path, title): the query string
    is cut, entities decoded and AMP pages marked."""
    path = path.split("?", 1)[0]
    title = html.unescape(title)
    if "/amp/" in path:
        title += " (AMP)"
    return path, title


def sums_by(facts, sites, period, key, where=None, metrics=METRIC_COLUMNS):
    """Sums metrics per key(site, row); a key of None drops the row."""
    table = {}
    for site, row in facts.select(sites, period, where):
        value = key(site, row)
        if value is None:
            continue
        totals = table.setdefault(value, [0] * len(metrics))
        for i, column in enumerate(metrics):
            totals[i] += row[column]
    return table


def ranked(table, metric_index, limit=None, key_order=lambda key: key):
    keys = sorted(table, key=lambda key: (-table[key][metric_index], key_order(key)))
    return keys[:limit] if limit else keys


def check_compare(row, name, current, compared, where):
    """Checks a metric and its comparison columns: compared maps a label
    to the comparison figure."""
    check_number(row.get(name), current, "%s %s" % (where, name))
    for label, figure in compared.items():
        change = current - figure
        check_number(row.get("%s_figure_%s" % (label, name)), figure,
                     "%s %s_figure_%s" % (where, label, name))
        check_number(row.get("%s_change_%s" % (label, name)), change,
                     "%s %s_change_%s" % (where, label, name))
        check_number(row.get("%s_percentage_%s" % (label, name)),
                     change / figure * 100 if figure else 0.0,
                     "%s %s_percentage_%s" % (where, label, name))


def check_ranked_table(report, name, key_column, keys, sums, metrics, where, labels):
    """Checks rows keyed by key_column against sums[label][key]. metrics
    is a list of (report name, function of the sum list)."""
    rows = report["tables"][name]["rows"]
    actual = [row.get(key_column) for row in rows]
    check(actual == list(keys), "%s %s: rows %r, expected %r" % (where, name, actual, list(keys)))
    for row in rows:
        key = row[key_column]
        for metric, compute in metrics:
            current = compute(sums["current"].get(key))
            compared = {label: compute(sums[label].get(key)) for label in labels}
            check_compare(row, metric, current, compared, "%s %s[%s]" % (where, name, key))


def value_of(index):
    return lambda totals: totals[index] if totals else 0


def ratio_of(a, b):
    return lambda totals: totals[a] / totals[b] if totals and totals[b] else 0.0


def check_country(report, facts, sites, periods, where):
    def key(site, row):
        return row["country"] if row["country"] in COUNTRIES else "Rest of World"

    sums = {label: sums_by(facts, sites, period, key) for label, period in periods.items()}
    keys = ranked(sums["current"], 1, key_order=byte_key)
    metrics = [("pageviews", value_of(0)), ("users", value_of(1)), ("sessions", value_of(2)),
               ("pv_per_visitor", ratio_of(0, 1))]
    check_ranked_table(report, "country", "country", keys, sums, metrics, where,
                       ["previous", "yearly"])
    check("Rest of World" in keys, "%s: no Rest of World row" % where)


def articles(facts, sites, period, where=None, group=None):
    """Returns {(group, site, path): [pageviews, {title: pageviews}]} of the
    article rows in the period."""
    table = {}
    for site, row in facts.select(sites, period, where):
        if blacklisted(row["pagePath"]):
            continue
        path, title = article_key(row["pagePath"], row["pageTitle"])
        key = (group(row) if group else None, site, path)
        entry = table.setdefault(key, [0, {}])
        entry[0] += row["screenPageViews"]
        entry[1][title] = entry[1].get(title, 0) + row["screenPageViews"]
    return table


def top_title(titles):
    return sorted(titles, key=lambda title: (-titles[title], byte_key(title)))[0]


def article_order(table):
    return sorted(table, key=lambda key: (-table[key][0], tuple(byte_key(part or "")
                                                                for part in key)))


def check_article_rows(rows, expected, current, previous, where, group_column=None):
    actual = [((row.get(group_column) if group_column else None), row.get("site"),
               row.get("pagePath")) for row in rows]
    check(actual == expected, "%s: rows %r, expected %r" % (where, actual, expected))
    for row, key in zip(rows, expected):
        label = "%s %s" % (where, key)
        check(row.get("pageTitle") == top_title(current[key][1]),
              "%s: title %r, expected %r" % (label, row.get("pageTitle"),
                                             top_title(current[key][1])))
        figure = previous[key][0] if key in previous else 0
        check_compare(row, "pageviews", current[key][0], {"previous": figure}, label)


def check_top_articles(report, facts, sites, frequency, date_text, where):
    periods = article_periods(frequency, date_text)
    current = articles(facts, sites, periods["current"])
    previous = articles(facts, sites, periods["previous"])
    expected = article_order(current)[:20]
    rows = report["tables"]["top_articles"]["rows"]
    check_article_rows(rows, expected, current, previous, where + " top_articles")
    check(any(row["pagePath"].startswith("/amp/") and row["pageTitle"].endswith(" (AMP)")
              for row in rows) or not any(key[2].startswith("/amp/") for key in expected),
          "%s: no AMP article marked" % where)
    check(all("?" not in row["pagePath"] and "&#" not in row["pageTitle"] for row in rows),
          "%s: a query string or entity is left in the top articles" % where)


def check_traffic(report, facts, sites, periods, where):
    sums = {label: sums_by(facts, sites, period,
                           lambda site, row: row["sessionSource"] + " / " + row["sessionMedium"])
            for label, period in periods.items()}
    keys = ranked(sums["current"], 1, 10, byte_key)
    metrics = [("pageviews", value_of(0)), ("users", value_of(1)), ("sessions", value_of(2))]
    check_ranked_table(report, "traffic_sources", "source_medium", keys, sums, metrics, where,
                       ["previous", "yearly"])


def check_referrers(report, facts, sites, frequency, date_text, where):
    periods = report_periods(frequency, date_text)

    def key(site, row):
        return None if row["sessionSource"] in SOURCE_BLACKLIST else row["sessionSource"]

    sums = {label: sums_by(facts, sites, period, key) for label, period in periods.items()}
    sources = ranked(sums["current"], 1, 5, byte_key)
    metrics = [("pageviews", value_of(0)), ("users", value_of(1)), ("sessions", value_of(2))]
    check_ranked_table(report, "referring_sites", "source", sources, sums, metrics, where,
                       ["previous", "yearly"])

    per_source = 5 if frequency == "MONTHLY" else 1
    aperiods = article_periods(frequency, date_text)
    group = lambda row: row["sessionSource"]
    only = lambda row: row["sessionSource"] in sources
    current = articles(facts, sites, aperiods["current"], only, group)
    previous = articles(facts, sites, aperiods["previous"], only, group)
    order = article_order(current)
    expected = [key for source in sources
                for key in [k for k in order if k[0] == source][:per_source]]
    check_article_rows(report["tables"]["referring_articles"]["rows"], expected, current,
                       previous, where + " referring_articles", "source")


def check_devices(report, facts, sites, periods, where):
    sums = {label: sums_by(facts, sites, period, lambda site, row: row["deviceCategory"])
            for label, period in periods.items()}
    keys = ranked(sums["current"], 1, 6, byte_key)
    metrics = [("users", value_of(1)), ("pageviews", value_of(0)), ("sessions", value_of(2))]
    check_ranked_table(report, "devices", "device", keys, sums, metrics, where,
                       ["previous", "yearly"])
    total = sum(values[1] for values in sums["current"].values())
    for row in report["tables"]["devices"]["rows"]:
        check_number(row["share_of_users"], row["users"] / total * 100,
                     "%s devices share %s" % (where, row["device"]))


def social_network(row):
    if row["sessionDefaultChannelGroup"] != "Organic Social":
        return None
    return SOCIAL_SOURCES.get(row["sessionSource"])


def check_social(report, facts, sites, frequency, date_text, where, shown, per_network):
    """Checks social_networks and social_articles; shown is how many
    networks get articles (None: all of them)."""
    periods = report_periods(frequency, date_text)
    sums = {label: sums_by(facts, sites, period, lambda site, row: social_network(row))
            for label, period in periods.items()}
    networks = ranked(sums["current"], 1, 15, byte_key)
    metrics = [("pageviews", value_of(0)), ("users", value_of(1)), ("sessions", value_of(2))]
    check_ranked_table(report, "social_networks", "network", networks, sums, metrics, where,
                       ["previous", "yearly"])
    social_users = sum(values[1] for values in sums["current"].values())
    all_users = sum(row["totalUsers"] for _, row in facts.select(sites, periods["current"]))
    for row in report["tables"]["social_networks"]["rows"]:
        label = "%s social %s" % (where, row["network"])
        check_number(row["share_of_social_users"], row["users"] / social_users * 100, label)
        check_number(row["share_of_all_users"], row["users"] / all_users * 100, label)
    check("YouTube" not in networks, "%s: an unmapped source counted as a network" % where)

    chosen = networks[:shown] if shown else networks
    aperiods = article_periods(frequency, date_text)
    only = lambda row: social_network(row) in chosen
    current = articles(facts, sites, aperiods["current"], only, social_network)
    previous = articles(facts, sites, aperiods["previous"], only, social_network)
    order = article_order(current)
    expected = [key for network in chosen
                for key in [k for k in order if k[0] == network][:per_network]]
    check_article_rows(report["tables"]["social_articles"]["rows"], expected, current,
                       previous, where + " social_articles", "network")


def totals_of(facts, sites, period):
    totals = [0, 0, 0, 0]
    for _, row in facts.select(sites, period):
        for i, column in enumerate(METRIC_COLUMNS):
            totals[i] += row[column]
    return totals


def check_summary(report, name, facts, sites, periods, where):
    row = report["tables"][name]["rows"][0]
    figures = {label: totals_of(facts, sites, period) for label, period in periods.items()}
    for metric, compute in [("pageviews", value_of(0)), ("users", value_of(1)),
                            ("sessions", value_of(2)), ("pv_per_session", ratio_of(0, 2))]:
        check_compare(row, metric, compute(figures["current"]),
                      {label: compute(figures[label]) for label in ("previous", "yearly")},
                      "%s %s" % (where, name))


def check_month_to_date(report, facts, sites, date_text, where):
    day = datetime.date.fromisoformat(date_text)
    first = day.replace(day=1)
    last_year = year_earlier(first)
    whole = month_range(last_year.year, last_year.month)
    current = totals_of(facts, sites, (first, day))[0]
    last_month = totals_of(facts, sites, whole)[0]
    same_dates = totals_of(facts, sites, (last_year, year_earlier(day)))[0]
    row = report["tables"]["month_to_date"]["rows"][0]
    check_compare(row, "pageviews", current, {"previous": last_month, "yearly": same_dates},
                  where + " month_to_date")
    days_left = month_range(day.year, day.month)[1].day - day.day
    needed = max(0, last_month - current)
    check(row.get("days_left") == days_left, "%s: days_left %r" % (where, row.get("days_left")))
    check(row.get("pageviews_needed") == needed,
          "%s: pageviews_needed %r, expected %r" % (where, row.get("pageviews_needed"), needed))
    per_day = -(-needed // days_left) if days_left else 0
    check(row.get("pageviews_needed_per_day") == per_day,
          "%s: pageviews_needed_per_day %r, expected %r"
          % (where, row.get("pageviews_needed_per_day"), per_day))


def month_label(day):
    return "%04d-%02d" % (day.year, day.month)


def month_labels(first, last):
    labels = []
    day = first
    while day <= last:
        labels.append(month_label(day))
        day = months_back(day, -1)
    return labels


def monthly_sums(facts, sites, period, key, metrics):
    table = {}
    for site, row in facts.select(sites, period):
        value = key(row)
        if value is None:
            continue
        totals = table.setdefault((value, month_label(row["day"])), [0] * len(metrics))
        for i, column in enumerate(metrics):
            totals[i] += row[column]
    return table


def check_month_rows(rows, groups, months, sums, names, first_data, where, key_column):
    """Checks the (group, month) rows of a monthly table; months before
    first_data have null figures."""
    expected = [(group, month) for group in groups for month in months]
    actual = [(row.get(key_column), row.get("month")) for row in rows]
    check(actual == expected, "%s: rows %r, expected %r" % (where, actual[:8], expected[:8]))
    for row in rows:
        key = (row[key_column], row["month"])
        for i, name in enumerate(names):
            label = "%s %s %s" % (where, key, name)
            if row["month"] < first_data:
                check(row.get(name) is None, "%s: %r before the data starts" % (label, row.get(name)))
            else:
                check_number(row.get(name), sums.get(key, [0] * len(names))[i], label)


def check_device_months(report, facts, sites, date_text, where):
    day = datetime.date.fromisoformat(date_text)
    first = months_back(day, 11)
    sums = monthly_sums(facts, sites, (first, day), lambda row: row["deviceCategory"],
                        ["totalUsers"])
    months = month_labels(first, day)
    first_data = month_label(max(first, facts.first_day))
    rows = report["tables"]["device_months"]["rows"]
    devices = sorted({device for device, _ in sums},
                     key=lambda device: (-sum(v[0] for k, v in sums.items() if k[0] == device),
                                         byte_key(device)))
    expected = [(month, device) for month in months for device in devices]
    actual = [(row.get("month"), row.get("device")) for row in rows]
    check(actual == expected, "%s device_months rows %r" % (where, actual[:6]))
    for row in rows:
        if row["month"] < first_data:
            continue
        users = sums.get((row["device"], row["month"]), [0])[0]
        month_total = sum(v[0] for k, v in sums.items() if k[1] == row["month"])
        check_number(row["users"], users, "%s device_months users" % where)
        check_number(row["share_of_users"], users / month_total * 100 if month_total else 0.0,
                     "%s device_months share" % where)


# ---------------------------------------------------------------------------
# Services.

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_with_parent():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Services:
    def __init__(self, directory):
        self.directory = directory
        self.processes = []

    def start(self, name, command):
        log_path = os.path.join(self.directory, name + ".log")
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=log,
                                       preexec_fn=stop_with_parent)
        self.processes.append((name, process, log_path))

    def check_running(self):
        for name, process, _ in self.processes:
            check(process.poll() is None, "%s exited early with status %r"
                  % (name, process.returncode))

    def stop(self):
        problems = []
        for name, process, _ in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                problems.append("%s did not stop within 30 s of SIGTERM" % name)
                continue
            if process.returncode != 0:
                problems.append("%s exited with status %d" % (name, process.returncode))
        return problems

    def print_logs(self, limit=5000):
        for name, _, log_path in self.processes:
            with open(log_path, "rb") as log:
                text = log.read().decode("utf-8", "replace")
            sys.stderr.write("----- %s log (end) -----\n%s\n" % (name, text[-limit:]))


def wait_for(services, condition, seconds, what):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        services.check_running()
        if condition():
            return
        time.sleep(0.2)
    raise TestFailure("timed out after %d s waiting for %s" % (seconds, what))


def log_contains(path, text):
    with open(path, "rb") as log:
        return text.encode() in log.read()


def write_key_pair(directory):
    """Generates an RSA key pair with openssl. Returns (private PEM path,
    public PEM path)."""
    private = os.path.join(directory, "service-account.pem")
    public = os.path.join(directory, "service-account.pub")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                    "rsa_keygen_bits:2048", "-out", private], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public], check=True)
    return private, public


def write_key_file(directory, private, token_uri):
    """Writes the service-account JSON key with mode 0600 from the start."""
    with open(private) as handle:
        key = {"type": "service_account", "project_id": "statsdash-test",
               "private_key_id": "test", "private_key": handle.read(),
               "client_email": "reporter-test@statsdash-test.iam.gserviceaccount.com",
               "client_id": "1", "token_uri": token_uri}
    path = os.path.join(directory, "service-account.json")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(key, handle)
    return path


def write_secret(directory, name, text):
    path = os.path.join(directory, name)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    return path


def mint_refresh_token(api_base, channel_id):
    """Asks the simulator for a refresh token of the channel, as the
    consent screen would give its owner."""
    body = urllib.parse.urlencode({"channel": channel_id}).encode()
    with urllib.request.urlopen(api_base + "/sim/youtube/refresh-token", body, timeout=30) as reply:
        return json.load(reply)["refresh_token"]


def youtube_section(directory, api_base):
    """The youtube config: every channel id reads its own data
    (channel==MINE) with a refresh token minted by the simulator."""
    client = dict(YOUTUBE_CLIENT, token_uri=api_base + "/token")
    secret = write_secret(directory, "client_secret.json", json.dumps({"installed": client}))
    channels = {}
    for name, ids in CHANNELS.items():
        channels[name] = [{"id": channel_id, "refresh_token_file": write_secret(
            directory, channel_id + ".token", mint_refresh_token(api_base, channel_id) + "\n")}
            for channel_id in ids]
    return {"analytics_api_base": api_base, "data_api_base": api_base + "/youtube/v3",
            "token_uri": api_base + "/token", "client_secret_file": secret,
            "channels": channels}


def write_config(directory, api_base, key_file, youtube=None):
    config = {
        "broker": {
            "endpoint": "tcp://127.0.0.1:%d" % free_port(),
            "bus_publish": "tcp://127.0.0.1:%d" % free_port(),
            "bus_subscribe": "tcp://127.0.0.1:%d" % free_port(),
            "heartbeat_ms": 500,
            "liveness": 10,
        },
        "ga": {
            "api_base": api_base,
            "key_file": key_file,
            "sites": {site: [{"property": prop, "wait_for_data": prop != "310000002"}
                             for prop in properties]
                      for site, properties in SITES.items()},
            "countries": COUNTRIES,
            "source_blacklist": SOURCE_BLACKLIST,
            "social_sources": SOCIAL_SOURCES,
            "article_path_blacklist": PATH_BLACKLIST,
        },
        "reporter": {"id": "chain"},
        "log": {"level": "info"},
    }
    if youtube:
        config["youtube"] = youtube
    path = os.path.join(directory, "statsdash.json")
    with open(path, "w") as handle:
        json.dump(config, handle, indent=2)
    return path


def start_chain(args, services, directory, dataset):
    port_file = os.path.join(directory, "simulator.port")
    private, public = write_key_pair(directory)
    services.start("simulator", [args.bin_simulator, "--dataset", dataset, "--listen",
                                 "127.0.0.1:0", "--port-file", port_file,
                                 "--public-key", public] + SIMULATOR_OPTIONS.get(args.case, []))
    wait_for(services, lambda: os.path.exists(port_file) and os.path.getsize(port_file) > 0,
             90, "the simulator's port file")
    with open(port_file) as handle:
        api_base = "http://127.0.0.1:%d" % int(handle.read())
    youtube = youtube_section(directory, api_base) if args.case == "youtube" else None
    config = write_config(directory, api_base, write_key_file(directory, private,
                                                              api_base + "/token"), youtube)
    services.start("broker", [args.bin_broker, "-c", config])
    services.start("worker-ga", [args.bin_worker_ga, "-c", config])
    if youtube:
        services.start("worker-youtube", [args.bin_worker_youtube, "-c", config])
    services.start("aggregator", [args.bin_aggregator, "-c", config])
    services.start("reporter", [args.bin_reporter, "-c", config])
    # The broker logs each bus subscription once its XPUB delivers the
    # topic. Parts published before that would be lost.
    for name, text in (("worker-ga", "started"), ("broker", "bus subscription added topic=raw."),
                       ("reporter", "reporter ready"),
                       ("broker", "bus subscription added topic=table.")):
        log_path = os.path.join(directory, name + ".log")
        wait_for(services, lambda: log_contains(log_path, text), 60, name + " to start")
    broker_log = os.path.join(directory, "broker.log")
    for service in ("ga", "report") + (("youtube",) if youtube else ()):
        wait_for(services, lambda: log_contains(broker_log, "service=%s " % service), 60,
                 "the broker to register a worker of " + service)
    return config


def request(statsdash, config, report, sites, frequency, date_text, output_format="json"):
    command = [statsdash, "request", "-c", config, "--report", report, "--sites", sites,
               "--frequency", frequency, "--date", date_text, "--format", output_format,
               "--timeout", str(REQUEST_TIMEOUT_S)]
    # Bytes, so that CRLF line ends reach the checks unchanged.
    result = subprocess.run(command, capture_output=True, timeout=REQUEST_TIMEOUT_S + 30,
                            preexec_fn=stop_with_parent)
    where = "%s %s %s %s" % (report, sites, frequency, date_text)
    check(result.returncode == 0, "%s: exit status %d, stderr: %s"
          % (where, result.returncode, result.stderr.decode("utf-8", "replace")))
    output = result.stdout.decode("utf-8")
    if output_format != "json":
        return output, where
    report_json = json.loads(output)
    check(report_json["status"] == "complete", "%s: status %r, warnings %r"
          % (where, report_json["status"], report_json["warnings"]))
    return report_json, where


# ---------------------------------------------------------------------------
# Cases.

def case_ga_core(args, config, facts):
    runs = [("all", "WOW_DAILY", "2026-12-01"), ("all", "MONTHLY", "2026-11-30"),
            ("retrotech.example,boardplay.example", "WEEKLY", "2026-11-29")]
    for site_arg, frequency, date_text in runs:
        sites = list(SITES) if site_arg == "all" else site_arg.split(",")
        report, where = request(args.bin_statsdash, config, "ga-core", site_arg, frequency,
                                date_text)
        check(report["warnings"] == [], "%s: warnings %r" % (where, report["warnings"]))
        periods = report_periods(frequency, date_text)
        check_summary(report, "summary", facts, sites, periods, where)
        if site_arg == "all":
            check("network_summary" not in report["tables"], "%s: network overview" % where)
        else:
            check_summary(report, "network_summary", facts, list(SITES), periods, where)
        if frequency == "MONTHLY":
            check("month_to_date" not in report["tables"], "%s: month to date" % where)
            check_device_months(report, facts, sites, date_text, where)
        else:
            check_month_to_date(report, facts, sites, date_text, where)
        check_country(report, facts, sites, periods, where)
        check_top_articles(report, facts, sites, frequency, date_text, where)
        check_traffic(report, facts, sites, periods, where)
        check_referrers(report, facts, sites, frequency, date_text, where)
        check_devices(report, facts, sites, periods, where)
        per_network = 5 if frequency == "MONTHLY" else 1
        check_social(report, facts, sites, frequency, date_text, where, 5, per_network)
        print("ok", where)

    # The HTML form of the same report renders, with the hostile title of
    # the dataset escaped.
    page, where = request(args.bin_statsdash, config, "ga-core", "all", "WEEKLY", "2026-11-29",
                          "html")
    check("<html" in page.lower(), "%s: no HTML document" % where)
    check("<script>alert" not in page, "%s: a page title is not escaped" % where)
    check("GA4 marked none of the figures as sampled or thresholded." in page,
          "%s: the page does not say whether GA4 sampled the data" % where)
    check_page_figures(page, facts, list(SITES), report_periods("WEEKLY", "2026-11-29"), where)
    print("ok", where)

    page, where = request(args.bin_statsdash, config, "ga-core", "all", "MONTHLY", "2026-11-30",
                          "html")
    check_chart(page, "Device share by month", where)
    check("Period: November 2026, compared with the previous period (October 2026) and the "
          "same period a year earlier (November 2025)." in page,
          "%s: the page does not state the periods compared" % where)
    print("ok", where, "chart")


def check_page_figures(page, facts, sites, periods, where):
    """Check that the HTML shows the network's pageviews, users and sessions
    of every period as the reader sees them: integers with thousands
    separators, summed from the CSV here."""
    text = html.unescape(page)
    for label, period in periods.items():
        totals = totals_of(facts, sites, period)
        for name, value in zip(("pageviews", "users", "sessions"), totals[:3]):
            shown = "{:,}".format(value)
            check(shown in text, "%s: the page lacks the %s %s %s" % (where, label, name, shown))


def check_chart(page, title, where):
    """Check that the table titled title shows a chart: an <img> right
    after its heading whose data URI contains a 900 x 380 PNG."""
    heading = ">%s</h2>" % html.escape(title)
    check(heading in page, "%s: no table %r" % (where, title))
    section = page.split(heading, 1)[1].split("<h2", 1)[0]
    match = re.search(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]*)"',
                      section)
    check(match is not None, "%s: the table %r has no chart" % (where, title))
    check(match.group(2) == html.escape(title), "%s: chart alt %r" % (where, match.group(2)))
    png = base64.b64decode(match.group(1))
    check(png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR",
          "%s: the %r chart is not a PNG" % (where, title))
    size = (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
    check(size == (900, 380), "%s: the %r chart is %r pixels" % (where, title, size))


def check_social_days(report, name, facts, sites, period, where):
    sums = sums_by(facts, sites, period, lambda site, row: row["date"],
                   lambda row: row["sessionDefaultChannelGroup"] == "Organic Social")
    rows = report["tables"][name]["rows"]
    check([row["date"] for row in rows] == sorted(sums), "%s %s dates" % (where, name))
    for row in rows:
        check_number(row["pageviews"], sums[row["date"]][0], "%s %s pageviews" % (where, name))
        check_number(row["users"], sums[row["date"]][1], "%s %s users" % (where, name))


def case_ga_social(args, config, facts):
    for site_arg, frequency, date_text in [("all", "WEEKLY", "2026-11-29"),
                                           ("gamesnews.example", "MONTHLY", "2026-11-30")]:
        sites = list(SITES) if site_arg == "all" else site_arg.split(",")
        report, where = request(args.bin_statsdash, config, "ga-social", site_arg, frequency,
                                date_text)
        periods = report_periods(frequency, date_text)
        check_summary(report, "summary", facts, sites, periods, where)
        check_social(report, facts, sites, frequency, date_text, where, None, 10)
        check_social_days(report, "social_days", facts, sites, periods["current"], where)
        if site_arg != "all":
            check_summary(report, "network_summary", facts, list(SITES), periods, where)
            check_social_days(report, "network_social_days", facts, list(SITES),
                              periods["current"], where)
        print("ok", where)

    page, where = request(args.bin_statsdash, config, "ga-social", "all", "WEEKLY", "2026-11-29",
                          "html")
    check_chart(page, "Social traffic by day", where)
    print("ok", where, "chart")


def network_groups(sums, leading):
    totals = {}
    for (network, _), values in sums.items():
        totals[network] = totals.get(network, 0) + values[0]
    others = sorted((n for n in totals if n not in leading),
                    key=lambda n: (-totals[n], byte_key(n)))
    return list(leading) + others


def case_ga_year_social(args, config, facts):
    date_text = "2026-11-30"
    report, where = request(args.bin_statsdash, config, "ga-year-social", "all", "MONTHLY",
                            date_text)
    day = datetime.date.fromisoformat(date_text)
    first = months_back(day, 35)
    sums = monthly_sums(facts, list(SITES), (first, day), social_network,
                        ["screenPageViews", "totalUsers", "sessions"])
    groups = network_groups(sums, LEADING_NETWORKS)[:6]
    first_data = month_label(max(first, facts.first_day))
    check_month_rows(report["tables"]["social_months"]["rows"], groups,
                     month_labels(first, day), sums, ["pageviews", "users", "sessions"],
                     first_data, where + " social_months", "network")
    check(first_data > month_label(first), "%s: the dataset starts within the 36 months, "
          "so some months must show no data" % where)
    print("ok", where)


def case_ga_social_export(args, config, facts):
    date_text = "2026-11-30"
    text, where = request(args.bin_statsdash, config, "ga-social-export", "all", "MONTHLY",
                          date_text, "csv")
    check("\r\n" in text, "%s: lines do not end in CRLF" % where)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    day = datetime.date.fromisoformat(date_text)
    first = months_back(day, 11)
    sums = monthly_sums(facts, list(SITES), (first, day), social_network,
                        ["screenPageViews", "sessions"])
    groups = network_groups(sums, [])
    first_data = month_label(max(first, facts.first_day))
    for row in rows:
        for name in ("pageviews", "sessions"):
            row[name] = int(row[name]) if row[name] != "" else None
    check_month_rows(rows, groups, month_labels(first, day), sums, ["pageviews", "sessions"],
                     first_data, where + " social_export", "network")
    print("ok", where)


# ---------------------------------------------------------------------------
# YouTube.

class YouTubeFacts:
    """youtube-facts.csv with integer metrics, and the channel and video lists."""

    def __init__(self, dataset):
        with open(os.path.join(dataset, "youtube-facts.csv"), newline="", encoding="utf-8") as f:
            self.rows = list(csv.DictReader(f))
        for row in self.rows:
            for metric in YOUTUBE_METRICS:
                row[metric] = int(row[metric])
        with open(os.path.join(dataset, "youtube-channels.csv"), newline="",
                  encoding="utf-8") as handle:
            self.counts = {row["channel"]: int(row["subscriberCount"])
                           for row in csv.DictReader(handle)}
        with open(os.path.join(dataset, "youtube-videos.csv"), newline="",
                  encoding="utf-8") as handle:
            self.titles = {row["video"]: row["title"] for row in csv.DictReader(handle)}

    def sums(self, channels, period, key):
        """Sums every metric per key(channel name, row) over the period."""
        owner = {channel_id: name for name in channels for channel_id in CHANNELS[name]}
        first, last = (day.isoformat() for day in period)
        table = {}
        for row in self.rows:
            name = owner.get(row["channel"])
            if name and first <= row["date"] <= last:
                totals = table.setdefault(key(name, row), [0] * len(YOUTUBE_METRICS))
                for i, metric in enumerate(YOUTUBE_METRICS):
                    totals[i] += row[metric]
        return table


def metric(name):
    index = YOUTUBE_METRICS.index(name)
    return lambda totals: totals[index] if totals else 0


def per_views(name, scale):
    index = YOUTUBE_METRICS.index(name)
    return lambda totals: totals[index] / totals[0] * scale if totals and totals[0] else 0.0


def like_ratio(totals):
    likes, dislikes = (totals[4], totals[5]) if totals else (0, 0)
    return likes / dislikes if dislikes else 0.0


def subscriber_change(totals):
    return totals[2] - totals[3] if totals else 0


def check_youtube_tables(report, facts, periods, where):
    channels = list(CHANNELS)
    labels = ["previous", "yearly"]
    by_channel = {label: facts.sums(channels, period, lambda name, row: name)
                  for label, period in periods.items()}
    order = ranked(by_channel["current"], 1, key_order=byte_key)
    check_ranked_table(report, "channel_summary", "channel", order, by_channel,
                       [("watch_time", metric("estimatedMinutesWatched")),
                        ("subscriber_change", subscriber_change)], where, labels)
    by_views = ranked(by_channel["current"], 0, key_order=byte_key)
    check_ranked_table(report, "channel_stats", "channel", by_views, by_channel,
                       [("views", metric("views")), ("like_dislike_ratio", like_ratio),
                        ("likes_per_1000", per_views("likes", 1000)),
                        ("subscribers_per_1000", per_views("subscribersGained", 1000)),
                        ("comments_per_1000", per_views("comments", 1000)),
                        ("shares_per_1000", per_views("shares", 1000))], where, labels)

    by_country = {label: facts.sums(channels, period, lambda name, row: row["country"])
                  for label, period in periods.items()}
    check_ranked_table(report, "country", "country",
                       ranked(by_country["current"], 1, 20, byte_key), by_country,
                       [("views", metric("views")),
                        ("watch_time", metric("estimatedMinutesWatched")),
                        ("subscriber_change", subscriber_change)], where, labels)

    videos = facts.sums(channels, periods["current"],
                        lambda name, row: (name, row["video"], facts.titles[row["video"]]))
    top = ranked(videos, 1, 10, lambda key: tuple(byte_key(part) for part in key))
    rows = report["tables"]["top_videos"]["rows"]
    actual = [(row["channel"], row["video"], row["title"]) for row in rows]
    check(actual == top, "%s top_videos: %r, expected %r" % (where, actual, top))
    for row, key in zip(rows, top):
        check_number(row["watch_time"], videos[key][1], "%s top_videos %s" % (where, key[1]))
        check_number(row["views"], videos[key][0], "%s top_videos %s views" % (where, key[1]))

    sources = facts.sums(channels, periods["current"],
                         lambda name, row: (name, row["insightTrafficSourceType"]))
    for row in report["tables"]["traffic_sources"]["rows"]:
        total = by_channel["current"][row["channel"]][1]
        for (name, source), values in sources.items():
            if name == row["channel"]:
                check_number(row.get("share_" + source), values[1] / total * 100,
                             "%s traffic_sources %s %s" % (where, name, source))
    check([row["channel"] for row in report["tables"]["traffic_sources"]["rows"]] == order,
          "%s traffic_sources: channels not ordered by watch time" % where)


def check_youtube_subscribers(report, facts, periods, where):
    """The count at the end of a period: today's count minus what was
    gained and lost from the day after the period to yesterday."""
    yesterday = datetime.date.fromisoformat(NOW[:10]) - datetime.timedelta(days=1)

    def count(name, end):
        change = facts.sums([name], (end + datetime.timedelta(days=1), yesterday),
                            lambda name, row: name).get(name)
        today = sum(facts.counts[channel_id] for channel_id in CHANNELS[name])
        return today - subscriber_change(change)

    rows = report["tables"]["channel_subscribers"]["rows"]
    check(sorted(row["channel"] for row in rows) == sorted(CHANNELS),
          "%s channel_subscribers: %r" % (where, [row["channel"] for row in rows]))
    for row in rows:
        name = row["channel"]
        check_compare(row, "subscribers", count(name, periods["current"][1]),
                      {label: count(name, periods[label][1]) for label in ("previous", "yearly")},
                      "%s channel_subscribers %s" % (where, name))


def case_youtube(args, config, facts):
    youtube = YouTubeFacts(args.dataset_folder)
    date_text = "2026-11-29"
    report, where = request(args.bin_statsdash, config, "youtube", "all", "WEEKLY", date_text)
    check(report["warnings"] == [], "%s: warnings %r" % (where, report["warnings"]))
    periods = report_periods("WEEKLY", date_text)
    check_youtube_tables(report, youtube, periods, where)
    check_youtube_subscribers(report, youtube, periods, where)
    print("ok", where)


def site_of_property(property_id):
    return next(site for site, properties in SITES.items() if property_id in properties)


def case_ga_warnings(args, config, facts):
    """GA4's sampling and thresholding marks reach the report's warnings,
    once per property, and a day past the data makes a partial report."""
    command = [args.bin_statsdash, "request", "-c", config, "--report", "ga-core", "--sites",
               "all", "--frequency", "WEEKLY", "--date", "2026-11-29", "--timeout",
               str(REQUEST_TIMEOUT_S)]
    expected = [
        "%s: data sampled: GA4 computed the figures from a sample of events (property %s; "
        % (site_of_property(SAMPLED_PROPERTY), SAMPLED_PROPERTY),
        "%s: thresholded: GA4 withheld rows with few users to protect their privacy "
        "(property %s; " % (site_of_property(THRESHOLDED_PROPERTY), THRESHOLDED_PROPERTY),
    ]
    where = "ga-core all WEEKLY 2026-11-29 with GA4 metadata"
    result = subprocess.run(command + ["--format", "json"], capture_output=True,
                            timeout=REQUEST_TIMEOUT_S + 30, preexec_fn=stop_with_parent)
    check(result.returncode == 0, "%s: exit status %d: %s"
          % (where, result.returncode, result.stderr.decode("utf-8", "replace")))
    report = json.loads(result.stdout)
    check(report["status"] == "complete", "%s: status %r" % (where, report["status"]))
    for start in expected:
        found = [w for w in report["warnings"] if w.startswith(start)]
        check(len(found) == 1, "%s: expected one warning starting %r in %r"
              % (where, start, report["warnings"]))
        check("summary" in found[0][len(start):], "%s: %r does not name the summary table"
              % (where, found[0]))
    check(report["quality"] == "GA4 marked some figures as sampled and some as thresholded "
          "(see the warnings).", "%s: quality %r" % (where, report["quality"]))
    page = subprocess.run(command + ["--format", "html"], capture_output=True,
                          timeout=REQUEST_TIMEOUT_S + 30,
                          preexec_fn=stop_with_parent).stdout.decode("utf-8")
    box = page.split(">Warnings</p>", 1)
    check(len(box) == 2, "%s: the page has no warning box" % where)
    for start in expected:
        check("<li>" + html.escape(start) in box[1], "%s: the warning box lacks %r"
              % (where, start))
    check("GA4 marked some figures as sampled and some as thresholded" in page,
          "%s: the page does not say that GA4 sampled the data" % where)
    print("ok", where)

    # 2026-12-31 is past the dataset: no site has any row in the current
    # period, which makes the report partial with one warning per site.
    where = "ga-core all WOW_DAILY 2026-12-31"
    command[command.index("WEEKLY")] = "WOW_DAILY"
    command[command.index("2026-11-29")] = "2026-12-31"
    result = subprocess.run(command + ["--format", "json"], capture_output=True,
                            timeout=REQUEST_TIMEOUT_S + 30, preexec_fn=stop_with_parent)
    check(result.returncode == 2, "%s: exit status %d, expected 2 (partial): %s"
          % (where, result.returncode, result.stderr.decode("utf-8", "replace")))
    report = json.loads(result.stdout)
    check(report["status"] == "partial", "%s: status %r" % (where, report["status"]))
    check(sorted(report["missing"]) == sorted(SITES), "%s: missing %r" % (where, report["missing"]))
    no_data = sorted(w for w in report["warnings"] if w.startswith("no data for site "))
    check(no_data == sorted("no data for site %s in the current period" % site for site in SITES),
          "%s: warnings %r" % (where, report["warnings"]))
    check(not any(w.startswith("no rows") or " no rows " in w for w in report["warnings"]),
          "%s: per-table warnings left: %r" % (where, report["warnings"]))
    print("ok", where)


CASES = {
    "ga-core": case_ga_core,
    "ga-social": case_ga_social,
    "ga-year-social": case_ga_year_social,
    "ga-social-export": case_ga_social_export,
    "youtube": case_youtube,
    "ga-warnings": case_ga_warnings,
}


def prepare_dataset(mode, generator, directory):
    if mode == "env":
        dataset = os.environ.get("STATSDASH_DATASET", "")
        if not dataset:
            return None
        facts = os.path.join(dataset, "ga4-facts.csv")
        check(os.access(facts, os.R_OK), "STATSDASH_DATASET=%s: cannot read %s"
              % (dataset, facts))
        return dataset
    dataset = os.path.join(directory, "dataset")
    subprocess.run([sys.executable, generator, dataset], check=True, stdout=subprocess.DEVNULL)
    return dataset


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--dataset", choices=["generate", "env"], required=True)
    for name in ("simulator", "broker", "worker-ga", "aggregator", "reporter", "statsdash"):
        parser.add_argument("--bin-" + name, required=True)
    parser.add_argument("--bin-worker-youtube")
    parser.add_argument("--generator", required=True)
    args = parser.parse_args()
    if args.case == "youtube" and not args.bin_worker_youtube:
        parser.error("the youtube case needs --bin-worker-youtube")
    return args


def main():
    args = parse_arguments()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("reporter_chain: terminated"))
    os.environ["STATSDASH_NOW"] = NOW
    with tempfile.TemporaryDirectory(prefix="reporter-chain-") as directory:
        try:
            dataset = prepare_dataset(args.dataset, args.generator, directory)
        except TestFailure as failure:
            print("FAIL: %s" % failure, file=sys.stderr)
            return 1
        if dataset is None:
            print("skipped: STATSDASH_DATASET is not set")
            return SKIPPED
        services = Services(directory)
        status = 0
        try:
            args.dataset_folder = dataset
            facts = Facts(os.path.join(dataset, "ga4-facts.csv"))
            config = start_chain(args, services, directory, dataset)
            CASES[args.case](args, config, facts)
        except (TestFailure, subprocess.TimeoutExpired, KeyError, ValueError) as failure:
            print("FAIL: %s: %s" % (type(failure).__name__, failure), file=sys.stderr)
            status = 1
        problems = services.stop()
        for problem in problems:
            print("FAIL: %s" % problem, file=sys.stderr)
        if status or problems:
            services.print_logs()
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
