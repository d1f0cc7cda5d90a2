"""Data checks of runReport: every response is compared with sums computed
here from ga4-facts.csv with the csv module, independently of the C code.

Ga4DataChecks is a unittest mixin; a test module sets DATASET on a subclass
(a generated dataset, or the folder named by STATSDASH_DATASET).
"""

import csv
import datetime
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402

METRIC_COLUMNS = ["screenPageViews", "totalUsers", "sessions", "userEngagementDuration"]
ALL_METRICS = METRIC_COLUMNS + ["screenPageViewsPerSession", "averageSessionDuration"]
METRIC_TYPES = {
    "screenPageViews": "TYPE_INTEGER", "totalUsers": "TYPE_INTEGER", "sessions": "TYPE_INTEGER",
    "userEngagementDuration": "TYPE_SECONDS", "screenPageViewsPerSession": "TYPE_FLOAT",
    "averageSessionDuration": "TYPE_SECONDS",
}
RELATIVE_TOLERANCE = 1e-9


def load_facts(folder):
    """Return the rows of folder/ga4-facts.csv as dicts with integer metrics."""
    path = os.path.join(folder, "ga4-facts.csv")
    rows = []
    with open(path, encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle):
            row = {key: sys.intern(value) for key, value in record.items()
                   if key not in METRIC_COLUMNS}
            for column in METRIC_COLUMNS:
                row[column] = int(record[column])
            rows.append(row)
    if not rows:
        raise AssertionError("%s has no rows" % path)
    return rows


def dimension_value(row, name):
    if name == "dateHour":
        return row["date"] + row["hour"]
    if name == "sessionSourceMedium":
        return "%s / %s" % (row["sessionSource"], row["sessionMedium"])
    return row[name]


def compact(day):
    return day.strftime("%Y%m%d")


def parse_compact(text):
    return datetime.datetime.strptime(text, "%Y%m%d").date()


def expected_groups(rows, property_id, ranges, dimensions, keep=lambda row: True):
    """Sum the metric columns of matching rows per dimension tuple.
    ranges: [(first day, last day, dateRange value)]; a dimension named
    dateRange takes the range's value."""
    groups = {}
    for first, last, range_name in ranges:
        low, high = compact(first), compact(last)
        for row in rows:
            if row["property"] != property_id or not low <= row["date"] <= high or not keep(row):
                continue
            key = tuple(range_name if name == "dateRange" else dimension_value(row, name)
                        for name in dimensions)
            sums = groups.setdefault(key, [0, 0, 0, 0])
            for index, column in enumerate(METRIC_COLUMNS):
                sums[index] += row[column]
    return groups


def metric_value(name, sums):
    if name in METRIC_COLUMNS:
        return sums[METRIC_COLUMNS.index(name)]
    numerator = sums[0] if name == "screenPageViewsPerSession" else sums[3]
    return numerator / sums[2] if sums[2] else 0.0


def date_ranges(*ranges):
    return [dict(startDate=first.isoformat(), endDate=last.isoformat(), **extra)
            for first, last, extra in ranges]


def response_rows(response):
    """Return {dimension tuple: [metric strings]} of a response."""
    result = {}
    for row in response.get("rows", []):
        key = tuple(value["value"] for value in row.get("dimensionValues", []))
        result[key] = [value["value"] for value in row.get("metricValues", [])]
    return result


class Ga4DataChecks:
    DATASET = None

    @classmethod
    def setUpClass(cls):
        cls.rows = load_facts(cls.DATASET)
        cls.partial_day = parse_compact(max(row["date"] for row in cls.rows))
        cls.last_day = cls.partial_day - datetime.timedelta(days=1)
        cls.properties = sorted({row["property"] for row in cls.rows})
        cls.property_id = cls.properties[0]
        cls.folder = tempfile.mkdtemp(prefix="simulator-data-")
        cls.private, public = simlib.make_key(cls.folder)
        now = cls.partial_day.isoformat() + "T23:00:00Z"
        cls.simulator = simlib.Simulator(cls.DATASET, public_key=public, now=now)
        cls.token = cls.simulator.access_token(cls.private)

    @classmethod
    def tearDownClass(cls):
        status = cls.simulator.stop()
        if status != 0:
            raise AssertionError("simulator exited with %d:\n%s"
                                 % (status, cls.simulator.log_text()))

    def run_report(self, request, property_id=None):
        status, body = self.simulator.run_report(self.token, property_id or self.property_id,
                                                 request)
        self.assertEqual(status, 200, body)
        return body

    def previous_month(self):
        end = self.last_day.replace(day=1) - datetime.timedelta(days=1)
        return end.replace(day=1), end

    def assert_metrics_equal(self, metrics, values, sums, key):
        for name, value in zip(metrics, values):
            expected = metric_value(name, sums)
            if METRIC_TYPES[name] == "TYPE_INTEGER" or name == "userEngagementDuration":
                self.assertEqual(int(value), expected, "%s of %s" % (name, key))
            else:
                self.assertLessEqual(abs(float(value) - expected),
                                     RELATIVE_TOLERANCE * max(abs(expected), 1e-300),
                                     "%s of %s" % (name, key))

    def assert_report_matches(self, response, dimensions, metrics, groups):
        """Check headers, rowCount and every row of a complete response."""
        self.assertEqual([header["name"] for header in response.get("dimensionHeaders", [])],
                         dimensions)
        self.assertEqual([(header["name"], header["type"])
                          for header in response.get("metricHeaders", [])],
                         [(name, METRIC_TYPES[name]) for name in metrics])
        self.assertEqual(response.get("rowCount", 0), len(groups))
        rows = response_rows(response)
        self.assertEqual(set(rows), set(groups))
        for key, values in rows.items():
            self.assert_metrics_equal(metrics, values, groups[key], key)

    def test_one_range_all_metrics(self):
        first, last = self.previous_month()
        dimensions = ["country", "deviceCategory"]
        response = self.run_report({
            "dateRanges": date_ranges((first, last, {})),
            "dimensions": [{"name": name} for name in dimensions],
            "metrics": [{"name": name} for name in ALL_METRICS],
            "limit": 100000,
        })
        groups = expected_groups(self.rows, self.property_id, [(first, last, "")], dimensions)
        self.assertGreater(len(groups), 10)
        self.assert_report_matches(response, dimensions, ALL_METRICS, groups)
        self.assertEqual(response["kind"], "analyticsData#runReport")
        self.assertIn("timeZone", response["metadata"])

    def test_three_ranges_tag_rows(self):
        week = datetime.timedelta(days=7)
        current = (self.last_day - week + datetime.timedelta(days=1), self.last_day)
        previous = (current[0] - week, current[1] - week)
        yearly = (current[0] - datetime.timedelta(days=364),
                  current[1] - datetime.timedelta(days=364))
        metrics = ["sessions", "screenPageViews", "totalUsers"]
        response = self.run_report({
            "dateRanges": date_ranges((*current, {}), (*previous, {}),
                                      (*yearly, {"name": "yearly"})),
            "dimensions": [{"name": "sessionSourceMedium"}],
            "metrics": [{"name": name} for name in metrics],
        })
        ranges = [(*current, "date_range_0"), (*previous, "date_range_1"), (*yearly, "yearly")]
        groups = expected_groups(self.rows, self.property_id, ranges,
                                 ["sessionSourceMedium", "dateRange"])
        self.assertEqual({key[1] for key in groups}, {"date_range_0", "date_range_1", "yearly"})
        self.assert_report_matches(response, ["sessionSourceMedium", "dateRange"], metrics,
                                   groups)

    def test_filter_order_and_paging(self):
        first, last = self.previous_month()
        excluded = {"United States", "(not set)"}
        response = self.run_report({
            "dateRanges": date_ranges((first, last, {})),
            "dimensions": [{"name": "pagePath"}, {"name": "pageTitle"}],
            "metrics": [{"name": "screenPageViews"}, {"name": "sessions"}],
            "dimensionFilter": {"andGroup": {"expressions": [
                {"filter": {"fieldName": "pagePath", "stringFilter": {
                    "matchType": "BEGINS_WITH", "value": "/NEWS/"}}},
                {"notExpression": {"filter": {"fieldName": "country", "inListFilter": {
                    "values": sorted(excluded), "caseSensitive": True}}}},
            ]}},
            "orderBys": [{"metric": {"metricName": "screenPageViews"}, "desc": True}],
            "limit": 5,
            "offset": 3,
        })
        groups = expected_groups(
            self.rows, self.property_id, [(first, last, "")], ["pagePath", "pageTitle"],
            lambda row: row["pagePath"].lower().startswith("/news/")
            and row["country"] not in excluded)
        self.assertGreater(len(groups), 8)
        self.assertEqual(response["rowCount"], len(groups))
        views = sorted((sums[0] for sums in groups.values()), reverse=True)
        rows = response["rows"]
        self.assertEqual([int(row["metricValues"][0]["value"]) for row in rows], views[3:8])
        for row in rows:
            key = tuple(value["value"] for value in row["dimensionValues"])
            self.assertIn(key, groups)
            self.assert_metrics_equal(["screenPageViews", "sessions"],
                                      [value["value"] for value in row["metricValues"]],
                                      groups[key], key)

    def test_or_group_with_regexp(self):
        first, last = self.previous_month()
        pattern = r"(m\.|l\.)?facebook\.com"
        response = self.run_report({
            "dateRanges": date_ranges((first, last, {})),
            "dimensions": [{"name": "sessionSource"}],
            "metrics": [{"name": "totalUsers"}, {"name": "screenPageViewsPerSession"}],
            "dimensionFilter": {"orGroup": {"expressions": [
                {"filter": {"fieldName": "sessionSource", "stringFilter": {
                    "matchType": "FULL_REGEXP", "value": pattern}}},
                {"filter": {"fieldName": "sessionSource", "stringFilter": {
                    "matchType": "EXACT", "value": "T.CO"}}},
            ]}},
        })
        groups = expected_groups(
            self.rows, self.property_id, [(first, last, "")], ["sessionSource"],
            lambda row: re.fullmatch(pattern, row["sessionSource"], re.IGNORECASE) is not None
            or row["sessionSource"].lower() == "t.co")
        self.assertGreater(len(groups), 1)
        self.assert_report_matches(response, ["sessionSource"],
                                   ["totalUsers", "screenPageViewsPerSession"], groups)

    def test_hours_of_last_day(self):
        day = self.last_day
        response = self.run_report({
            "dateRanges": date_ranges((day, day, {})),
            "dimensions": [{"name": "dateHour"}],
            "metrics": [{"name": "screenPageViews"}],
        })
        groups = expected_groups(self.rows, self.property_id, [(day, day, "")], ["dateHour"])
        self.assertEqual(len(groups), 24)
        self.assert_report_matches(response, ["dateHour"], ["screenPageViews"], groups)

    def test_order_by_date(self):
        first, last = self.last_day - datetime.timedelta(days=9), self.last_day
        response = self.run_report({
            "dateRanges": date_ranges((first, last, {})),
            "dimensions": [{"name": "date"}],
            "metrics": [{"name": "sessions"}],
            "orderBys": [{"dimension": {"dimensionName": "date"}}],
        })
        dates = [row["dimensionValues"][0]["value"] for row in response["rows"]]
        self.assertEqual(dates, [compact(first + datetime.timedelta(days=offset))
                                 for offset in range(10)])

    def test_metrics_without_dimensions(self):
        first, last = self.previous_month()
        response = self.run_report({
            "dateRanges": date_ranges((first, last, {})),
            "metrics": [{"name": name} for name in ALL_METRICS],
        })
        groups = expected_groups(self.rows, self.property_id, [(first, last, "")], [])
        self.assert_report_matches(response, [], ALL_METRICS, groups)

    def test_totals_per_date_range(self):
        first, last = self.previous_month()
        week = (last - datetime.timedelta(days=6), last)
        metrics = ["screenPageViews", "totalUsers", "sessions", "userEngagementDuration"]
        request = {
            "dateRanges": date_ranges((first, last, {"name": "month"}), (*week, {})),
            "dimensions": [{"name": "country"}],
            "metrics": [{"name": name} for name in metrics],
            "metricAggregations": ["TOTAL"],
            "limit": 3,
            "offset": 2,
        }
        response = self.run_report(request)
        #  The totals cover every row of a range, not only the rows of the page.
        self.assertEqual(len(response["rows"]), 3)
        totals = response["totals"]
        self.assertEqual(len(totals), 2)
        for row, (low, high, name) in zip(totals, [(first, last, "month"),
                                                  (*week, "date_range_1")]):
            self.assertEqual([value["value"] for value in row["dimensionValues"]],
                             ["RESERVED_TOTAL", name])
            groups = expected_groups(self.rows, self.property_id, [(low, high, "")], [])
            self.assert_metrics_equal(metrics, [value["value"] for value in row["metricValues"]],
                                      groups[()], name)

    def test_totals_of_one_range(self):
        first, last = self.previous_month()
        response = self.run_report({
            "dateRanges": date_ranges((first, last, {})),
            "dimensions": [{"name": "deviceCategory"}],
            "metrics": [{"name": "sessions"}, {"name": "averageSessionDuration"}],
            "dimensionFilter": {"filter": {"fieldName": "sessionDefaultChannelGroup",
                                           "stringFilter": {"value": "Organic Social"}}},
            "metricAggregations": ["TOTAL"],
        })
        keep = lambda row: row["sessionDefaultChannelGroup"] == "Organic Social"  # noqa: E731
        groups = expected_groups(self.rows, self.property_id, [(first, last, "")], [], keep)
        self.assertEqual(len(response["totals"]), 1)
        row = response["totals"][0]
        self.assertEqual(row["dimensionValues"], [{"value": "RESERVED_TOTAL"}])
        self.assert_metrics_equal(["sessions", "averageSessionDuration"],
                                  [value["value"] for value in row["metricValues"]],
                                  groups[()], "totals")

    def test_totals_only_when_requested(self):
        first, last = self.previous_month()
        response = self.run_report({
            "dateRanges": date_ranges((first, last, {})),
            "dimensions": [{"name": "country"}],
            "metrics": [{"name": "sessions"}],
        })
        self.assertNotIn("totals", response)

    def test_other_aggregations_rejected(self):
        first, last = self.previous_month()
        for aggregation in ["MAXIMUM", "TOTALS"]:
            status, body = self.simulator.run_report(self.token, self.property_id, {
                "dateRanges": date_ranges((first, last, {})),
                "metrics": [{"name": "sessions"}],
                "metricAggregations": [aggregation],
            })
            self.assertEqual(status, 400, body)
            self.assertIn(aggregation, body["error"]["message"])

    def test_every_property_summed(self):
        first, last = self.previous_month()
        for property_id in self.properties:
            response = self.run_report({
                "dateRanges": date_ranges((first, last, {})),
                "dimensions": [{"name": "hostName"}],
                "metrics": [{"name": "screenPageViews"}, {"name": "averageSessionDuration"}],
            }, property_id)
            groups = expected_groups(self.rows, property_id, [(first, last, "")], ["hostName"])
            self.assert_report_matches(response, ["hostName"],
                                       ["screenPageViews", "averageSessionDuration"], groups)

    def test_future_range_has_no_rows(self):
        first = self.partial_day + datetime.timedelta(days=1)
        response = self.run_report({
            "dateRanges": date_ranges((first, first + datetime.timedelta(days=6), {})),
            "dimensions": [{"name": "date"}],
            "metrics": [{"name": "sessions"}],
        })
        self.assertNotIn("rows", response)
        self.assertNotIn("rowCount", response)
