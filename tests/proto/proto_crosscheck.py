#!/usr/bin/python3
"""Cross-check of sd_proto against python3-msgpack, an independent msgpack
implementation.

The C tool writes one encoded body per message type. This script decodes
each one and compares it, field by field and type by type, with the values
written out below. Then this script encodes the same values, plus version 1
bodies without warnings, bodies without optional fields and one with an
unknown key, and the C tool decodes and checks them.

Usage: proto_crosscheck.py PATH-TO-proto_crosscheck_tool
"""
import copy
import math
import os
import subprocess
import sys
import tempfile

import msgpack


def period(label, start, end):
    return {"label": label, "start": start, "end": end}


CURRENT = period("current", "2024-02-23", "2024-02-29")
PREVIOUS = period("previous", "2024-02-16", "2024-02-22")
YEARLY = period("yearly", "2023-02-23", "2023-03-01")

SPEC_FULL = {
    "keys": ["site"],
    "sum": ["screenPageViews", "sessions"],
    "derived": [
        {"name": "pageviews", "op": "scale", "a": "screenPageViews", "b": "",
         "scale": 1.0, "unit": "count"},
        {"name": "avg_session_time", "op": "ratio", "a": "userEngagementDuration",
         "b": "sessions", "scale": 1.0 / 60.0, "unit": "minutes"},
    ],
    "sort": [{"column": "pageviews", "descending": True}],
    "limit": 20,
    "compare": ["previous", "yearly"],
    "rules": [{"name": "rest_of_world", "args": ["United Kingdom", "C\u00f4te d'Ivoire"]}],
}

SPEC_EMPTY = {"keys": [], "sum": [], "derived": [], "sort": [], "limit": 0, "compare": [],
              "rules": []}


def column(name, kind, unit):
    return {"name": name, "kind": kind, "unit": unit}


EXPECTED = {
    "report.request": {
        "v": 2, "type": "report.request", "request_id": "req-1", "report": "ga-core",
        "sites": ["site-a", "Site \u00dc"], "frequency": "WEEKLY", "date": "2024-02-29",
        "formats": ["html", "csv"], "recipients": ["ops@example.org"],
        "deadline_ms": 1767225600123, "delivery_id": "dlv-7", "yearly_alignment": "weekday",
        "subject": "Wochenbericht \u00fcber ga-core",
        "warnings": ["sent 2 days late: site-a has no data for hours 14-23"],
    },
    "report.reply": {
        "v": 2, "type": "report.reply", "request_id": "req-1", "status": "partial",
        "subject": "Weekly report \u2014 Mon 23 Nov 2026",
        "outputs": [
            {"format": "html", "content_type": "text/html; charset=utf-8",
             "body": b"<p>\x00\xff</p>"},
            {"format": "csv", "content_type": "text/csv", "body": b""},
        ],
        "missing": ["site-b"], "warnings": ["site-b: no data"], "delivered": True,
    },
    "fetch.request": {
        "v": 2, "type": "fetch.request", "job_id": "job-9", "request_id": "req-1",
        "reporter_id": "r1", "service": "ga", "site": "site-a", "deadline_ms": 1767225600123,
        "queries": [
            {"id": "q1", "table_id": "summary", "expected_parts": 6, "spec": SPEC_FULL,
             "api": "ga4.runReport", "metrics": ["screenPageViews", "sessions"],
             "dimensions": ["pagePath"], "params_json": '{"keepEmptyRows":true}',
             "limit": 10000, "periods": [CURRENT, PREVIOUS]},
            {"id": "q2", "table_id": "devices", "expected_parts": 3, "spec": SPEC_EMPTY,
             "api": "ga4.runReport", "metrics": ["totalUsers"], "dimensions": [],
             "params_json": "{}", "limit": 0, "periods": [YEARLY]},
        ],
    },
    "fetch.reply": {
        "v": 2, "type": "fetch.reply", "job_id": "job-9", "request_id": "req-1",
        "site": "site-a",
        "parts": [
            {"table_id": "summary", "part_id": "site-a/current", "rows": 3,
             "digest": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
            {"table_id": "devices", "part_id": "site-a/yearly", "rows": 0, "digest": "",
             "error": "HTTP 403: permission denied"},
        ],
        "warnings": ["thresholding applied"],
    },
    "table.raw": {
        "v": 2, "type": "table.raw", "request_id": "req-1", "reporter_id": "r1",
        "job_id": "job-9", "table_id": "summary", "part_id": "site-a/current",
        "site": "site-a", "period": CURRENT, "expected_parts": 6,
        "deadline_ms": 1767225600000, "spec": SPEC_FULL,
        "columns": [
            column("pagePath", "dimension", ""),
            column("screenPageViews", "metric", "count"),
            column("userEngagementDuration", "metric", "seconds"),
            column("isNew", "dimension", ""),
        ],
        "rows": [
            ["/news/a\x00b", 1234, 56.5, True],
            ["/\u00e9t\u00e9/\U0001F3AE", -9007199254740993, 0.1, None],
            ["", 9223372036854775807, -1.5e300, False],
        ],
        "warnings": ["sampling: 50%"],
        "error": "partial data",
    },
    "table.normalized": {
        "v": 2, "type": "table.normalized", "request_id": "req-1", "reporter_id": "r1",
        "table_id": "summary", "periods": [CURRENT, PREVIOUS, YEARLY],
        "columns": [
            column("site", "dimension", ""),
            column("pageviews", "metric", "count"),
            column("previous_figure_pageviews", "metric", "count"),
            column("previous_percentage_pageviews", "metric", "percent"),
        ],
        "rows": [["site-a", 1200, 1000, 20.0], ["site-b", 0, 0, 0.0]],
        "totals": [None, 1200, 1000, 20.0],
        "missing": [{"site": "site-c", "period": "yearly", "error": "HTTP 500"}],
        "warnings": ["site-c has no yearly data"],
    },
    "availability.request": {
        "v": 2, "type": "availability.request", "id": "avail-3", "service": "youtube",
        "sites": ["channel-1", "channel-2"], "date": "2024-03-01",
        "deadline_ms": 1767225600000,
    },
    "availability.reply": {
        "v": 2, "type": "availability.reply", "id": "avail-3", "date": "2024-03-01",
        "sites": [
            {"site": "channel-1", "complete": True, "detail": ""},
            {"site": "channel-2", "complete": False, "detail": "no rows for UCabc"},
        ],
    },
    "error": {
        "v": 2, "type": "error", "id": "req-1", "code": 503,
        "text": 'no worker for service "ga"',
    },
}

WITH_WARNINGS = ["fetch.reply", "table.raw", "table.normalized"]


def version_1(body):
    """Returns body as a version 1 sender writes it when there are no warnings."""
    body = copy.deepcopy(body)
    body["v"] = 1
    del body["warnings"]
    return body


def without(body, *keys):
    body = copy.deepcopy(body)
    for key in keys:
        del body[key]
    return body


def differences(expected, actual, path="body"):
    """Lists where actual differs from expected, comparing types strictly
    (True is not 1, 1 is not 1.0) and floats with a relative tolerance of 1e-9."""
    if type(expected) is not type(actual):
        return [f"{path}: expected {type(expected).__name__} {expected!r}, "
                f"got {type(actual).__name__} {actual!r}"]
    if isinstance(expected, dict):
        found = []
        if set(expected) != set(actual):
            found.append(f"{path}: keys differ: expected {sorted(expected)}, got {sorted(actual)}")
        for key in sorted(set(expected) & set(actual)):
            found += differences(expected[key], actual[key], f"{path}.{key}")
        return found
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return [f"{path}: expected {len(expected)} items, got {len(actual)}"]
        found = []
        for index, (left, right) in enumerate(zip(expected, actual)):
            found += differences(left, right, f"{path}[{index}]")
        return found
    if isinstance(expected, float):
        if not math.isclose(expected, actual, rel_tol=1e-9):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        return []
    if expected != actual:
        return [f"{path}: expected {expected!r}, got {actual!r}"]
    return []


def check_c_bodies(folder):
    """Decodes what C wrote and compares it with EXPECTED. Returns the failures."""
    cases = dict(EXPECTED)
    for name in WITH_WARNINGS:
        cases[name + ".v1"] = version_1(EXPECTED[name])
    failures = []
    for name, expected in cases.items():
        with open(os.path.join(folder, name + ".msgpack"), "rb") as body:
            data = body.read()
        # unpackb rejects trailing bytes (ExtraData) and invalid UTF-8 in str.
        actual = msgpack.unpackb(data, raw=False)
        found = differences(expected, actual, name)
        # Both implementations choose the smallest form of every value, so
        # encoding what was decoded gives back the same bytes.
        if msgpack.packb(actual, use_bin_type=True) != data:
            found.append(f"{name}: python3-msgpack encodes the decoded body differently")
        failures += found
        print(f"{'ok' if not found else 'FAILED'} C -> Python {name}")
    return failures


def write_python_bodies(folder):
    bodies = dict(EXPECTED)
    for name in WITH_WARNINGS:
        bodies[name + ".v1"] = version_1(EXPECTED[name])
    bodies["report.request.defaults"] = without(
        EXPECTED["report.request"], "recipients", "delivery_id", "yearly_alignment",
        "subject", "warnings")
    bodies["error.defaults"] = without(EXPECTED["error"], "id")
    extra = copy.deepcopy(EXPECTED["table.raw"])
    extra["added_in_a_later_version"] = {"nested": [1, 2.5, None, b"\x01"]}
    bodies["table.raw.extra"] = extra
    for name, body in bodies.items():
        with open(os.path.join(folder, name + ".msgpack"), "wb") as out:
            out.write(msgpack.packb(body, use_bin_type=True))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="proto-crosscheck-") as folder:
        c_folder = os.path.join(folder, "from-c")
        python_folder = os.path.join(folder, "from-python")
        os.mkdir(c_folder)
        os.mkdir(python_folder)

        subprocess.run([tool, "write", c_folder], check=True, timeout=60)
        failures = check_c_bodies(c_folder)

        write_python_bodies(python_folder)
        result = subprocess.run([tool, "check", python_folder], timeout=60)
        if result.returncode != 0:
            failures.append(f"the C tool rejected or misread Python's bodies "
                            f"(exit status {result.returncode})")

    for failure in failures:
        print(failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
