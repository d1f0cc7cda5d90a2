"""Helpers for the YouTube tests: read the dataset's YouTube CSV files with
the csv module and sum them independently of the C code, and call the
simulator's YouTube and OAuth endpoints.

The simulator tests and the worker-youtube tests both import this module.
"""

import csv
import os
import urllib.parse

METRICS = ["views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost",
           "likes", "dislikes", "comments", "shares"]
ANALYTICS_SCOPE = "https://www.googleapis.com/auth/yt-analytics.readonly"
DATA_SCOPE = "https://www.googleapis.com/auth/youtube.readonly"
CLIENT_ID = "statsdash-simulator.apps.googleusercontent.com"
CLIENT_SECRET = "simulator-client-secret"
CONTENT_OWNER = "sampleOwner01"
REVOKED = "Token has been expired or revoked."


def load_facts(folder):
    """Return the rows of youtube-facts.csv as dicts with integer metrics."""
    with open(os.path.join(folder, "youtube-facts.csv"), encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for metric in METRICS:
            row[metric] = int(row[metric])
    return rows


def load_csv(folder, name):
    with open(os.path.join(folder, name), encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def sums(facts, channels, start, end, dimensions, metrics, filters=None):
    """Sum metrics over facts of channels with start <= date <= end whose
    columns match filters ({column: set of values}), per tuple of the
    dimension columns ("day" is the date column). Returns {key: [sums]}."""
    result = {}
    filters = filters or {}
    columns = ["date" if name == "day" else name for name in dimensions]
    for row in facts:
        if row["channel"] not in channels or not start <= row["date"] <= end:
            continue
        if any(row[column] not in values for column, values in filters.items()):
            continue
        key = tuple(row[column] for column in columns)
        totals = result.setdefault(key, [0] * len(metrics))
        for index, metric in enumerate(metrics):
            totals[index] += row[metric]
    return result


def mint_refresh_token(simulator, channel):
    """Return a refresh token for channel from the simulator's mint endpoint."""
    status, body = simulator.json("POST", "/sim/youtube/refresh-token", form={"channel": channel})
    if status != 200:
        raise AssertionError("minting a refresh token failed: %d %s" % (status, body))
    return body["refresh_token"]


def refresh(simulator, refresh_token, client_secret=CLIENT_SECRET):
    """Return (status, body) of a refresh_token grant."""
    return simulator.json("POST", "/token", form={
        "grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": client_secret,
        "refresh_token": refresh_token})


def access_token(simulator, channel):
    """Return an access token bound to channel."""
    status, body = refresh(simulator, mint_refresh_token(simulator, channel))
    if status != 200:
        raise AssertionError("refresh grant failed: %d %s" % (status, body))
    return body["access_token"]


def get(simulator, token, path, params):
    """Return (status, decoded body) of a GET with a bearer token."""
    headers = {"Authorization": "Bearer " + token} if token else {}
    return simulator.json("GET", path + "?" + urllib.parse.urlencode(params), headers=headers)


def report(simulator, token, **params):
    return get(simulator, token, "/v2/reports", params)


def rows_by_key(body, dimension_count):
    """Return {tuple of dimension values: [metric values]} of a result table."""
    return {tuple(row[:dimension_count]): row[dimension_count:] for row in body.get("rows", [])}
