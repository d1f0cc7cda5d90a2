#!/usr/bin/python3
"""Print the GA4 sums the worker should publish, computed straight from a
dataset's ga4-facts.csv, for the worker-ga integration test.

Usage: worker_ga_expected.py CSV < QUERIES.json > SUMS.json

QUERIES is a JSON list of {"properties": [...], "start": "YYYY-MM-DD",
"end": "YYYY-MM-DD", "dimensions": [...]}. For each query the output list
contains an object mapping the row key (the dimension values joined with the
unit separator U+001F, "" without dimensions) to the sums of
[screenPageViews, totalUsers, sessions, userEngagementDuration] over every
CSV row of those properties and dates.
"""

import csv
import json
import sys

METRICS = ["screenPageViews", "totalUsers", "sessions", "userEngagementDuration"]


def compact(date):
    return date.replace("-", "")


def main():
    queries = json.load(sys.stdin)
    results = [{} for _ in queries]
    wanted = []
    for query in queries:
        wanted.append((set(query["properties"]), compact(query["start"]),
                       compact(query["end"]), query["dimensions"]))
    with open(sys.argv[1], newline="", encoding="utf-8") as facts:
        for row in csv.DictReader(facts):
            for index, (properties, start, end, dimensions) in enumerate(wanted):
                if row["property"] not in properties or not start <= row["date"] <= end:
                    continue
                key = "\x1f".join(row[name] for name in dimensions)
                sums = results[index].setdefault(key, [0] * len(METRICS))
                for position, metric in enumerate(METRICS):
                    sums[position] += int(row[metric])
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
