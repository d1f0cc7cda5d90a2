/*  Tests of the merged-report derivation (sd_ga_merge) and the worker's
    filter evaluator (sd_ga_filter) on two inputs that the fuzz target
    found them mishandling: a long sessionSourceMedium and a short totals
    row.
*/
#include "sd_ga_filter.h"
#include "sd_ga_merge.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *s_traffic_items[] = {"sessionSource", "sessionMedium"};
static const sd_strings s_traffic = {s_traffic_items, 2};

static json_t *s_json(const char *text)
{
    json_t *value = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(value);
    return value;
}

static void test_filter_long_source_medium(void **state)
{
    (void)state;
    char source[1101];
    memset(source, 'x', sizeof source - 1);
    source[sizeof source - 1] = '\0';
    const char *values[] = {source, "organic"};
    json_t *ends_with = s_json("{\"filter\": {\"fieldName\": \"sessionSourceMedium\", "
                               "\"stringFilter\": {\"matchType\": \"ENDS_WITH\", "
                               "\"value\": \"/ organic\"}}}");
    json_t *contains = s_json("{\"filter\": {\"fieldName\": \"sessionSourceMedium\", "
                              "\"stringFilter\": {\"matchType\": \"CONTAINS\", "
                              "\"value\": \"x / organic\"}}}");
    assert_true(sd_ga_filter_supported(ends_with, &s_traffic));
    assert_true(sd_ga_filter_supported(contains, &s_traffic));

    //  "xxx...x / organic" is 1,110 bytes, more than the 1,024-byte stack
    //  buffer, so the evaluator must build it on the heap instead of
    //  truncating it.
    assert_true(sd_ga_filter_match(ends_with, &s_traffic, values));
    assert_true(sd_ga_filter_match(contains, &s_traffic, values));
    values[1] = "referral";
    assert_false(sd_ga_filter_match(ends_with, &s_traffic, values));
    json_decref(ends_with);
    json_decref(contains);
}

static char *s_country_items[] = {"country"};
static char *s_country_metrics[] = {"sessions", "totalUsers"};
static char *s_totals_metrics[] = {"sessions", "screenPageViews"};
static sd_period s_period = {"current", "2026-11-01", "2026-11-30"};

//  Plans a totals query that rides on a country query, and returns the
//  totals query's feed report built from body.
static json_t *s_totals_report(const char *body, char *error, size_t error_size)
{
    sd_query queries[2] = {
        {.id = "country", .api = SD_GA_API_RUN_REPORT, .params_json = "{}",
         .metrics = {s_country_metrics, 2}, .dimensions = {s_country_items, 1},
         .periods = &s_period, .period_count = 1},
        {.id = "totals", .api = SD_GA_API_RUN_REPORT, .params_json = "{}",
         .metrics = {s_totals_metrics, 2}, .periods = &s_period, .period_count = 1},
    };
    const sd_query *members[2] = {&queries[0], &queries[1]};
    sd_ga_group groups[2] = {{&queries[0], &members[0], 1}, {&queries[1], &members[1], 1}};
    bool valid[2] = {true, true};
    sd_ga_request *requests = NULL;
    size_t request_count = 0;
    assert_int_equal(sd_ga_plan_requests(groups, 2, valid, &requests, &request_count), 0);
    assert_int_equal(request_count, 1);
    assert_int_equal(requests[0].feed_count, 2);
    const sd_ga_feed *feed = &requests[0].feeds[1];
    assert_int_equal(feed->kind, SD_GA_FEED_TOTALS);

    json_t *report = s_json(body);
    bool needed = true;
    json_t *derived = sd_ga_feed_report(&requests[0], feed, &queries[1], report, &s_period,
                                        &needed, 1, true, error, error_size);
    json_decref(report);
    sd_ga_requests_free(&requests, request_count);
    return derived;
}

//  The merged request's metrics are sessions, totalUsers, screenPageViews.
#define S_HEADERS                                                                              \
    "\"dimensionHeaders\": [{\"name\": \"country\"}], \"metricHeaders\": ["                     \
    "{\"name\": \"sessions\", \"type\": \"TYPE_INTEGER\"}, "                                   \
    "{\"name\": \"totalUsers\", \"type\": \"TYPE_INTEGER\"}, "                                 \
    "{\"name\": \"screenPageViews\", \"type\": \"TYPE_INTEGER\"}], "                           \
    "\"rows\": [{\"dimensionValues\": [{\"value\": \"France\"}], \"metricValues\": ["          \
    "{\"value\": \"4\"}, {\"value\": \"3\"}, {\"value\": \"9\"}]}], \"rowCount\": 1, "

static void test_totals_row_values(void **state)
{
    (void)state;
    char error[256] = "";
    json_t *derived = s_totals_report(
        "{" S_HEADERS "\"totals\": [{\"dimensionValues\": [{\"value\": \"RESERVED_TOTAL\"}], "
        "\"metricValues\": [{\"value\": \"4\"}, {\"value\": \"3\"}, {\"value\": \"9\"}]}]}",
        error, sizeof error);
    assert_non_null(derived);
    json_t *row = json_array_get(json_object_get(derived, "rows"), 0);
    json_t *metrics = json_object_get(row, "metricValues");
    assert_int_equal(json_array_size(json_object_get(derived, "rows")), 1);
    assert_int_equal(json_array_size(metrics), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(metrics, 0), "value")),
                        "4");
    assert_string_equal(json_string_value(json_object_get(json_array_get(metrics, 1), "value")),
                        "9");
    json_decref(derived);
}

static void test_totals_row_missing_metric(void **state)
{
    (void)state;
    char error[256] = "";
    json_t *derived = s_totals_report(
        "{" S_HEADERS "\"totals\": [{\"dimensionValues\": [{\"value\": \"RESERVED_TOTAL\"}], "
        "\"metricValues\": [{\"value\": \"4\"}]}]}",
        error, sizeof error);
    assert_null(derived);
    assert_non_null(strstr(error, "\"totals\" row has fewer metric values"));
    assert_null(strstr(error, "out of memory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_long_source_medium),
        cmocka_unit_test(test_totals_row_values),
        cmocka_unit_test(test_totals_row_missing_metric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
