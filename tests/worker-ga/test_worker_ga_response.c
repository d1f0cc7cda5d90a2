/*  Tests of the GA worker's pure parts: runReport response parsing
    (sd_ga_response), the roll-up over properties (sd_ga_rollup), query
    grouping and request bodies (sd_ga_query).

    Usage: test_worker_ga_response parser|rollup|query
*/
#include "sd_ga_query.h"
#include "sd_ga_response.h"
#include "sd_ga_rollup.h"

#include <czmq.h>
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void s_assert_close(double actual, double expected)
{
    double tolerance = 1e-9 * fmax(1.0, fabs(expected));
    if (fabs(actual - expected) > tolerance)
        fail_msg("%.17g differs from %.17g", actual, expected);
}

//  Fixed request shapes used by the cases.
static char *s_country_items[] = {"country"};
static char *s_summary_metrics[] = {"screenPageViews", "totalUsers", "sessions",
                                    "userEngagementDuration"};
static const sd_strings s_no_dimensions = {NULL, 0};
static const sd_strings s_country = {s_country_items, 1};
static const sd_strings s_summary = {s_summary_metrics, 4};
static sd_period s_periods[] = {
    {"current", "2026-11-01", "2026-11-30"},
    {"previous", "2026-10-01", "2026-10-31"},
    {"yearly", "2025-11-01", "2025-11-30"},
};

static const char s_metric_headers[] =
    "\"metricHeaders\": [{\"name\": \"screenPageViews\", \"type\": \"TYPE_INTEGER\"},"
    " {\"name\": \"totalUsers\", \"type\": \"TYPE_INTEGER\"},"
    " {\"name\": \"sessions\", \"type\": \"TYPE_INTEGER\"},"
    " {\"name\": \"userEngagementDuration\", \"type\": \"TYPE_SECONDS\"}]";

static int s_parse(const char *body, const sd_strings *dimensions, size_t period_count,
                   sd_ga_page *page, char *error, size_t size)
{
    sd_ga_expect expect = {dimensions, &s_summary, s_periods, period_count};
    return sd_ga_page_parse(body, strlen(body), &expect, page, error, size);
}

//  -------------------------------------------------------------------------
//  Parser

static void test_parse_one_range(void **state)
{
    (void)state;
    char *body = zsys_sprintf(
        "{\"dimensionHeaders\": [{\"name\": \"country\"}], %s,"
        " \"rows\": [{\"dimensionValues\": [{\"value\": \"France\"}],"
        "   \"metricValues\": [{\"value\": \"1200\"}, {\"value\": \"300\"}, {\"value\": \"400\"},"
        "   {\"value\": \"5400.5\"}]},"
        "  {\"dimensionValues\": [{\"value\": \"(not set)\"}],"
        "   \"metricValues\": [{\"value\": \"-3\"}, {\"value\": \"0\"}, {\"value\": \"9007199254740993\"},"
        "   {\"value\": \"12\"}]}],"
        " \"rowCount\": 2, \"metadata\": {\"currencyCode\": \"USD\"}, \"kind\": \"analyticsData#runReport\"}",
        s_metric_headers);
    char error[256] = "";
    sd_ga_page page;
    assert_int_equal(s_parse(body, &s_country, 1, &page, error, sizeof error), 0);
    assert_int_equal(page.rows, 2);
    assert_int_equal(page.row_count, 2);
    assert_string_equal(page.dimension_values[0], "France");
    assert_string_equal(page.dimension_values[1], "(not set)");
    assert_int_equal(page.periods[0], 0);
    assert_int_equal(page.periods[1], 0);
    assert_true(page.metric_integer[0]);
    assert_false(page.metric_integer[3]);
    assert_true(page.metric_seconds[3]);
    assert_false(page.metric_seconds[0]);
    assert_int_equal(page.metric_values[0].kind, SD_VALUE_INT);
    assert_int_equal(page.metric_values[0].as.i, 1200);
    assert_int_equal(page.metric_values[2].as.i, 400);
    assert_int_equal(page.metric_values[3].kind, SD_VALUE_FLOAT);
    s_assert_close(page.metric_values[3].as.f, 5400.5);
    assert_int_equal(page.metric_values[4].as.i, -3);
    assert_int_equal(page.metric_values[6].as.i, 9007199254740993LL);   //  exact past 2^53
    assert_int_equal(page.warnings.count, 0);
    sd_ga_page_clear(&page);
    sd_ga_page_clear(&page);
    zstr_free(&body);
}

static void test_parse_several_ranges(void **state)
{
    (void)state;
    char *body = zsys_sprintf(
        "{\"dimensionHeaders\": [{\"name\": \"dateRange\"}], %s,"
        " \"rows\": ["
        "  {\"dimensionValues\": [{\"value\": \"yearly\"}], \"metricValues\": [{\"value\": \"1\"},"
        "   {\"value\": \"2\"}, {\"value\": \"3\"}, {\"value\": \"4\"}]},"
        "  {\"dimensionValues\": [{\"value\": \"current\"}], \"metricValues\": [{\"value\": \"10\"},"
        "   {\"value\": \"20\"}, {\"value\": \"30\"}, {\"value\": \"40\"}]},"
        "  {\"dimensionValues\": [{\"value\": \"previous\"}], \"metricValues\": [{\"value\": \"100\"},"
        "   {\"value\": \"200\"}, {\"value\": \"300\"}, {\"value\": \"400\"}]}],"
        " \"rowCount\": \"3\", \"metadata\": {\"subjectToThresholding\": true}}",
        s_metric_headers);
    char error[256] = "";
    sd_ga_page page;
    assert_int_equal(s_parse(body, &s_no_dimensions, 3, &page, error, sizeof error), 0);
    assert_int_equal(page.rows, 3);
    assert_int_equal(page.row_count, 3);
    assert_int_equal(page.dimension_count, 0);
    assert_int_equal(page.periods[0], 2);
    assert_int_equal(page.periods[1], 0);
    assert_int_equal(page.periods[2], 1);
    assert_int_equal(page.metric_values[4].as.i, 10);
    assert_int_equal(page.warnings.count, 1);
    assert_string_equal(page.warnings.items[0], SD_GA_WARNING_THRESHOLDED);
    sd_ga_page_clear(&page);
    zstr_free(&body);
}

static void test_parse_metadata_warnings(void **state)
{
    (void)state;
    char *body = zsys_sprintf(
        "{\"dimensionHeaders\": [{\"name\": \"country\"}], %s, \"rowCount\": 0,"
        " \"metadata\": {\"samplingMetadatas\": [{\"samplesReadCount\": \"10\","
        " \"samplingSpaceSize\": \"100\"}], \"subjectToThresholding\": true,"
        " \"dataLossFromOtherRow\": true}}",
        s_metric_headers);
    char error[256] = "";
    sd_ga_page page;
    assert_int_equal(s_parse(body, &s_country, 1, &page, error, sizeof error), 0);
    assert_int_equal(page.warnings.count, 3);
    assert_string_equal(page.warnings.items[0], SD_GA_WARNING_SAMPLED);
    assert_string_equal(page.warnings.items[1], SD_GA_WARNING_THRESHOLDED);
    assert_string_equal(page.warnings.items[2], SD_GA_WARNING_OTHER_ROW);
    sd_ga_page_clear(&page);
    zstr_free(&body);
}

static void test_batch_envelope(void **state)
{
    (void)state;
    char error[256] = "";
    const char *two = "{\"reports\": [{\"rowCount\": 1}, {}], \"kind\": \"x\"}";
    json_t *reports = sd_ga_batch_parse(two, strlen(two), 2, error, sizeof error);
    assert_non_null(reports);
    assert_int_equal(json_array_size(reports), 2);
    json_decref(reports);

    static const char *const bad[] = {
        "{\"reports\": [{}]}",
        "{\"reports\": {}}",
        "{\"kind\": \"analyticsData#batchRunReports\"}",
        "{\"reports\": [{}, {}",
        "<html><body>Bad Gateway</body></html>",
        "[1, 2]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        error[0] = '\0';
        assert_null(sd_ga_batch_parse(bad[i], strlen(bad[i]), 2, error, sizeof error));
        assert_true(strlen(error) > 0);
    }
    assert_null(sd_ga_batch_parse(bad[0], strlen(bad[0]), 2, error, sizeof error));
    assert_non_null(strstr(error, "expected an array of 2 reports"));
}

static void test_parse_empty_result(void **state)
{
    (void)state;
    //  GA4 leaves out rows and rowCount when nothing matches.
    char *body = zsys_sprintf("{\"dimensionHeaders\": [{\"name\": \"country\"}], %s}",
                              s_metric_headers);
    char error[256] = "";
    sd_ga_page page;
    assert_int_equal(s_parse(body, &s_country, 1, &page, error, sizeof error), 0);
    assert_int_equal(page.rows, 0);
    assert_int_equal(page.row_count, 0);
    sd_ga_page_clear(&page);
    zstr_free(&body);
}

static void test_parse_time_units(void **state)
{
    (void)state;
    static char *names[] = {"a", "b", "c"};
    const sd_strings metrics = {names, 3};
    const char *body =
        "{\"metricHeaders\": [{\"name\": \"a\", \"type\": \"TYPE_MILLISECONDS\"},"
        " {\"name\": \"b\", \"type\": \"TYPE_MINUTES\"}, {\"name\": \"c\", \"type\": \"TYPE_FLOAT\"}],"
        " \"rows\": [{\"metricValues\": [{\"value\": \"2500\"}, {\"value\": \"1.5\"},"
        " {\"value\": \"0.25\"}]}], \"rowCount\": 1}";
    sd_ga_expect expect = {&s_no_dimensions, &metrics, s_periods, 1};
    char error[256] = "";
    sd_ga_page page;
    assert_int_equal(sd_ga_page_parse(body, strlen(body), &expect, &page, error, sizeof error), 0);
    s_assert_close(page.metric_values[0].as.f, 2.5);
    s_assert_close(page.metric_values[1].as.f, 90);
    s_assert_close(page.metric_values[2].as.f, 0.25);
    assert_true(page.metric_seconds[0]);
    assert_true(page.metric_seconds[1]);
    assert_false(page.metric_seconds[2]);
    sd_ga_page_clear(&page);
}

//  Bodies that must be rejected, each with a word the error must contain.
static void test_parse_rejects_bad_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *metrics;        //  the row's metricValues, or NULL for a whole body
        const char *body;
        const char *expected;
    } cases[] = {
        {"{\"value\": \"12a\"}, {\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"1\"}", NULL,
         "\"12a\""},
        {"{\"value\": \"\"}, {\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"1\"}", NULL,
         "screenPageViews"},
        {"{\"value\": \"1.5\"}, {\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"1\"}", NULL,
         "integer"},
        {"{\"value\": 12}, {\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"1\"}", NULL,
         "not a string"},
        {"{\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"nan\"}", NULL,
         "userEngagementDuration"},
        {"{\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"1e999\"}", NULL,
         "userEngagementDuration"},
        {"{\"value\": \"99999999999999999999\"}, {\"value\": \"1\"}, {\"value\": \"1\"},"
         " {\"value\": \"1\"}",
         NULL, "screenPageViews"},
        {"{\"value\": \"1\"}, {\"value\": \"1\"}, {\"value\": \"1\"}", NULL, "metric values"},
        {NULL, "<html><body>502 Bad Gateway</body></html>", "not a JSON object"},
        {NULL, "{\"dimensionHeaders\": [{\"name\": \"country\"}], \"rows\": [", "not a JSON object"},
        {NULL, "", "not a JSON object"},
        {NULL, "[]", "not a JSON object"},
        {NULL, "{\"dimensionHeaders\": [{\"name\": \"city\"}], \"metricHeaders\": []}", "city"},
        {NULL, "{\"dimensionHeaders\": [{\"name\": \"country\"}], \"metricHeaders\": []}",
         "metricHeaders"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = cases[i].metrics
                         ? zsys_sprintf("{\"dimensionHeaders\": [{\"name\": \"country\"}], %s,"
                                        " \"rows\": [{\"dimensionValues\": [{\"value\": "
                                        "\"France\"}], \"metricValues\": [%s]}], \"rowCount\": 1}",
                                        s_metric_headers, cases[i].metrics)
                         : strdup(cases[i].body);
        char error[256] = "";
        sd_ga_page page;
        assert_int_equal(s_parse(body, &s_country, 1, &page, error, sizeof error), -1);
        if (!strstr(error, cases[i].expected))
            fail_msg("case %zu: error \"%s\" does not contain \"%s\"", i, error,
                     cases[i].expected);
        assert_int_equal(page.rows, 0);
        assert_null(page.dimension_values);
        free(body);
    }
}

static void test_parse_rejects_truncated_body(void **state)
{
    (void)state;
    char *body = zsys_sprintf(
        "{\"dimensionHeaders\": [{\"name\": \"country\"}], %s, \"rows\": [{\"dimensionValues\":"
        " [{\"value\": \"France\"}], \"metricValues\": [{\"value\": \"1\"}, {\"value\": \"2\"},"
        " {\"value\": \"3\"}, {\"value\": \"4\"}]}], \"rowCount\": 1}",
        s_metric_headers);
    //  Every prefix of a valid body is invalid.
    for (size_t length = 0; length < strlen(body); length += 7) {
        char error[256] = "";
        sd_ga_page page;
        sd_ga_expect expect = {&s_country, &s_summary, s_periods, 1};
        assert_int_equal(sd_ga_page_parse(body, length, &expect, &page, error, sizeof error), -1);
        assert_non_null(strstr(error, "not a JSON object"));
    }
    zstr_free(&body);
}

static void test_parse_range_tags(void **state)
{
    (void)state;
    //  Several ranges: the dateRange dimension must be there and name a range.
    static const struct {
        const char *headers;
        const char *tag;
        const char *expected;
    } cases[] = {
        {"[{\"name\": \"country\"}]", "current", "dimensionHeaders"},
        {"[{\"name\": \"dateRange\"}, {\"name\": \"country\"}]", "current", "\"dateRange\""},
        {"[{\"name\": \"country\"}, {\"name\": \"dateRange\"}]", "date_range_0", "date_range_0"},
        {"[{\"name\": \"country\"}, {\"name\": \"dateRange\"}]", "yearly", "yearly"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = zsys_sprintf(
            "{\"dimensionHeaders\": %s, %s, \"rows\": [{\"dimensionValues\": [{\"value\": \"France\"},"
            " {\"value\": \"%s\"}], \"metricValues\": [{\"value\": \"1\"}, {\"value\": \"2\"},"
            " {\"value\": \"3\"}, {\"value\": \"4\"}]}], \"rowCount\": 1}",
            cases[i].headers, s_metric_headers, cases[i].tag);
        char error[256] = "";
        sd_ga_page page;
        //  Two periods: current and previous; "yearly" is not one of them.
        assert_int_equal(s_parse(body, &s_country, 2, &page, error, sizeof error), -1);
        if (!strstr(error, cases[i].expected))
            fail_msg("case %zu: error \"%s\" does not contain \"%s\"", i, error,
                     cases[i].expected);
        zstr_free(&body);
    }
}

static void test_error_text(void **state)
{
    (void)state;
    char text[512];
    const char *body = "{\"error\": {\"code\": 403, \"message\": \"User does not have sufficient "
                       "permissions for this property.\", \"status\": \"PERMISSION_DENIED\"}}";
    sd_ga_error_text(403, body, strlen(body), "application/json", text, sizeof text);
    assert_string_equal(text, "403 PERMISSION_DENIED: User does not have sufficient permissions "
                              "for this property.");
    const char *html = "<html>Bad Gateway</html>";
    sd_ga_error_text(502, html, strlen(html), "text/html", text, sizeof text);
    assert_non_null(strstr(text, "HTTP 502"));
    assert_non_null(strstr(text, "text/html"));
    sd_ga_error_text(500, "", 0, "", text, sizeof text);
    assert_string_equal(text, "HTTP 500 with an empty body");
}

//  -------------------------------------------------------------------------
//  Roll-up

//  Builds a page by hand: rows of (country, period, four integer metrics).
static void s_page(sd_ga_page *page, size_t rows, const char *const *countries,
                   const size_t *periods, const int64_t (*values)[4])
{
    memset(page, 0, sizeof *page);
    page->rows = rows;
    page->row_count = (int64_t)rows;
    page->dimension_count = 1;
    page->metric_count = 4;
    page->dimension_values = calloc(rows + 1, sizeof(char *));
    page->periods = calloc(rows + 1, sizeof(size_t));
    page->metric_values = calloc(rows * 4 + 1, sizeof(sd_value));
    page->metric_integer = calloc(4, sizeof(bool));
    page->metric_seconds = calloc(4, sizeof(bool));
    for (size_t m = 0; m < 4; m++)
        page->metric_integer[m] = true;
    page->metric_seconds[3] = true;
    for (size_t r = 0; r < rows; r++) {
        page->dimension_values[r] = strdup(countries[r]);
        page->periods[r] = periods[r];
        for (size_t m = 0; m < 4; m++)
            page->metric_values[r * 4 + m] = (sd_value){.kind = SD_VALUE_INT, .as.i = values[r][m]};
    }
}

static const sd_value *s_cell(const sd_table_data *table, size_t row, size_t column)
{
    return &table->cells[row * table->column_count + column];
}

//  Returns the row whose first cell is country, or fails.
static size_t s_find(const sd_table_data *table, const char *country)
{
    for (size_t r = 0; r < table->row_count; r++) {
        if (strcmp(s_cell(table, r, 0)->as.s.ptr, country) == 0)
            return r;
    }
    fail_msg("no row for %s", country);
    return 0;
}

static void test_rollup_sums_properties(void **state)
{
    (void)state;
    sd_ga_rollup *rollup = sd_ga_rollup_new(3, &s_country, &s_summary);
    assert_non_null(rollup);
    char error[256] = "";

    //  Property A, a chunk of periods current and previous.
    const char *a_countries[] = {"France", "Spain", "France"};
    const size_t a_periods[] = {0, 0, 1};
    const int64_t a_values[][4] = {{100, 10, 20, 300}, {50, 5, 6, 70}, {7, 1, 1, 9}};
    sd_ga_page page;
    s_page(&page, 3, a_countries, a_periods, a_values);
    assert_int_equal(sd_ga_rollup_add(rollup, &page, 0, error, sizeof error), 0);
    sd_ga_page_clear(&page);

    //  Property B: France again in current, Italy only in B.
    const char *b_countries[] = {"France", "Italy"};
    const size_t b_periods[] = {0, 0};
    const int64_t b_values[][4] = {{1000, 100, 200, 3000}, {1, 2, 3, 4}};
    s_page(&page, 2, b_countries, b_periods, b_values);
    assert_int_equal(sd_ga_rollup_add(rollup, &page, 0, error, sizeof error), 0);
    sd_ga_page_clear(&page);

    //  A later chunk whose period 0 is the roll-up's period 2.
    const char *c_countries[] = {"Spain"};
    const size_t c_periods[] = {0};
    const int64_t c_values[][4] = {{3, 3, 3, 3}};
    s_page(&page, 1, c_countries, c_periods, c_values);
    assert_int_equal(sd_ga_rollup_add(rollup, &page, 2, error, sizeof error), 0);
    sd_ga_page_clear(&page);

    assert_int_equal(sd_ga_rollup_rows(rollup, 0), 3);
    assert_int_equal(sd_ga_rollup_rows(rollup, 1), 1);
    assert_int_equal(sd_ga_rollup_rows(rollup, 2), 1);

    sd_table_data table = {0};
    assert_int_equal(sd_ga_rollup_table(rollup, 0, false, &table), 0);
    assert_int_equal(table.column_count, 5);
    assert_string_equal(table.columns[0].name, "country");
    assert_int_equal(table.columns[0].kind, SD_COLUMN_DIMENSION);
    assert_string_equal(table.columns[1].name, "screenPageViews");
    assert_int_equal(table.columns[1].kind, SD_COLUMN_METRIC);
    assert_string_equal(table.columns[1].unit, "count");
    assert_string_equal(table.columns[4].unit, "seconds");
    assert_int_equal(table.row_count, 3);
    size_t france = s_find(&table, "France");
    assert_int_equal(s_cell(&table, france, 1)->kind, SD_VALUE_INT);
    assert_int_equal(s_cell(&table, france, 1)->as.i, 1100);
    assert_int_equal(s_cell(&table, france, 2)->as.i, 110);
    assert_int_equal(s_cell(&table, france, 3)->as.i, 220);
    assert_int_equal(s_cell(&table, france, 4)->as.i, 3300);
    assert_int_equal(s_cell(&table, s_find(&table, "Spain"), 1)->as.i, 50);
    assert_int_equal(s_cell(&table, s_find(&table, "Italy"), 4)->as.i, 4);
    sd_table_data_clear(&table);

    memset(&table, 0, sizeof table);
    assert_int_equal(sd_ga_rollup_table(rollup, 2, false, &table), 0);
    assert_int_equal(table.row_count, 1);
    assert_int_equal(s_cell(&table, 0, 1)->as.i, 3);
    sd_table_data_clear(&table);

    memset(&table, 0, sizeof table);
    assert_int_equal(sd_ga_rollup_table(rollup, 0, true, &table), 0);
    assert_int_equal(table.column_count, 5);
    assert_int_equal(table.row_count, 0);
    sd_table_data_clear(&table);
    sd_ga_rollup_destroy(&rollup);
    assert_null(rollup);
}

static void test_rollup_mixed_types(void **state)
{
    (void)state;
    sd_ga_rollup *rollup = sd_ga_rollup_new(1, &s_country, &s_summary);
    char error[256] = "";
    const char *countries[] = {"France"};
    const size_t periods[] = {0};
    const int64_t values[][4] = {{1, 2, 3, 4}};
    sd_ga_page page;
    s_page(&page, 1, countries, periods, values);
    assert_int_equal(sd_ga_rollup_add(rollup, &page, 0, error, sizeof error), 0);

    //  The second property gives the duration as a decimal.
    page.metric_integer[3] = false;
    page.metric_values[3] = (sd_value){.kind = SD_VALUE_FLOAT, .as.f = 0.5};
    assert_int_equal(sd_ga_rollup_add(rollup, &page, 0, error, sizeof error), 0);
    sd_ga_page_clear(&page);

    sd_table_data table = {0};
    assert_int_equal(sd_ga_rollup_table(rollup, 0, false, &table), 0);
    assert_int_equal(s_cell(&table, 0, 1)->kind, SD_VALUE_INT);
    assert_int_equal(s_cell(&table, 0, 1)->as.i, 2);
    assert_int_equal(s_cell(&table, 0, 4)->kind, SD_VALUE_FLOAT);
    s_assert_close(s_cell(&table, 0, 4)->as.f, 4.5);
    sd_table_data_clear(&table);
    sd_ga_rollup_destroy(&rollup);
}

static void test_rollup_rejects_overflow_and_bad_period(void **state)
{
    (void)state;
    sd_ga_rollup *rollup = sd_ga_rollup_new(1, &s_country, &s_summary);
    char error[256] = "";
    const char *countries[] = {"France"};
    const size_t periods[] = {0};
    const int64_t values[][4] = {{INT64_MAX, 1, 1, 1}};
    sd_ga_page page;
    s_page(&page, 1, countries, periods, values);
    assert_int_equal(sd_ga_rollup_add(rollup, &page, 0, error, sizeof error), 0);
    assert_int_equal(sd_ga_rollup_add(rollup, &page, 0, error, sizeof error), -1);
    assert_non_null(strstr(error, "screenPageViews"));
    assert_int_equal(sd_ga_rollup_add(rollup, &page, 1, error, sizeof error), -1);
    assert_non_null(strstr(error, "out of range"));
    sd_ga_page_clear(&page);
    sd_ga_rollup_destroy(&rollup);
}

static void test_rollup_keys_are_unambiguous(void **state)
{
    (void)state;
    //  ("a:b", "c") and ("a", "b:c") must stay two rows.
    static char *names[] = {"x", "y"};
    const sd_strings dimensions = {names, 2};
    sd_ga_rollup *rollup = sd_ga_rollup_new(1, &dimensions, &s_summary);
    sd_ga_page page = {0};
    page.rows = 2;
    page.dimension_count = 2;
    page.metric_count = 4;
    char *cells[] = {strdup("a:b"), strdup("c"), strdup("a"), strdup("b:c")};
    page.dimension_values = cells;
    size_t periods[] = {0, 0};
    page.periods = periods;
    sd_value metrics[8];
    for (size_t i = 0; i < 8; i++)
        metrics[i] = (sd_value){.kind = SD_VALUE_INT, .as.i = 1};
    page.metric_values = metrics;
    bool integer[4] = {true, true, true, true};
    bool seconds[4] = {false, false, false, true};
    page.metric_integer = integer;
    page.metric_seconds = seconds;
    char error[256] = "";
    assert_int_equal(sd_ga_rollup_add(rollup, &page, 0, error, sizeof error), 0);
    assert_int_equal(sd_ga_rollup_rows(rollup, 0), 2);
    for (size_t i = 0; i < 4; i++)
        free(cells[i]);
    sd_ga_rollup_destroy(&rollup);
}

//  -------------------------------------------------------------------------
//  Queries

static void s_query(sd_query *query, const char *id, const char *params, size_t period_count)
{
    memset(query, 0, sizeof *query);
    query->id = (char *)id;
    query->table_id = (char *)id;
    query->api = "ga4.runReport";
    query->metrics = s_summary;
    query->dimensions = s_country;
    query->params_json = (char *)params;
    query->periods = s_periods;
    query->period_count = period_count;
}

static void test_query_groups(void **state)
{
    (void)state;
    sd_query queries[4];
    s_query(&queries[0], "summary", "{}", 3);
    s_query(&queries[1], "site_summary", "{ }", 3);
    s_query(&queries[2], "filtered", "{\"dimensionFilter\": {}}", 3);
    s_query(&queries[3], "two_periods", "{}", 2);
    sd_ga_group *groups = NULL;
    size_t count = 0;
    assert_int_equal(sd_ga_group_queries(queries, 4, &groups, &count), 0);
    assert_int_equal(count, 3);
    assert_ptr_equal(groups[0].query, &queries[0]);
    assert_int_equal(groups[0].member_count, 2);
    assert_ptr_equal(groups[0].members[1], &queries[1]);
    assert_int_equal(groups[1].member_count, 1);
    assert_ptr_equal(groups[2].query, &queries[3]);
    sd_ga_groups_free(&groups, count);
    assert_null(groups);
}

static void test_query_body(void **state)
{
    (void)state;
    sd_query query;
    s_query(&query, "country", "{\"orderBys\": [{\"metric\": {\"metricName\": \"totalUsers\"},"
                               " \"desc\": true}], \"keepEmptyRows\": false}", 3);
    char error[256] = "";
    char *text = sd_ga_request_body(&query, 1, 2, 10000, 500, error, sizeof error);
    assert_non_null(text);
    json_t *body = json_loads(text, 0, NULL);
    assert_true(json_is_object(body));
    json_t *ranges = json_object_get(body, "dateRanges");
    assert_int_equal(json_array_size(ranges), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(ranges, 0), "name")),
                        "previous");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ranges, 0), "startDate")),
                        "2026-10-01");
    assert_string_equal(json_string_value(json_object_get(json_array_get(ranges, 1), "endDate")),
                        "2025-11-30");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(body, "dimensions"), 0), "name")),
                        "country");
    assert_int_equal(json_array_size(json_object_get(body, "metrics")), 4);
    assert_int_equal(json_integer_value(json_object_get(body, "offset")), 10000);
    assert_int_equal(json_integer_value(json_object_get(body, "limit")), 500);
    assert_true(json_is_array(json_object_get(body, "orderBys")));
    assert_true(json_is_false(json_object_get(body, "keepEmptyRows")));
    json_decref(body);
    free(text);

    query.dimensions = s_no_dimensions;
    text = sd_ga_request_body(&query, 0, 1, 0, 0, error, sizeof error);
    body = json_loads(text, 0, NULL);
    assert_null(json_object_get(body, "dimensions"));
    assert_null(json_object_get(body, "offset"));
    assert_null(json_object_get(body, "limit"));
    json_decref(body);
    free(text);
}

static void test_query_check(void **state)
{
    (void)state;
    static sd_period duplicated[] = {{"current", "2026-11-01", "2026-11-30"},
                                     {"current", "2026-10-01", "2026-10-31"}};
    sd_query query;
    char error[256] = "";
    s_query(&query, "q", "{}", 3);
    assert_int_equal(sd_ga_query_check(&query, error, sizeof error), 0);
    assert_int_equal(sd_ga_chunk_count(&query), 1);
    query.period_count = 0;
    assert_int_equal(sd_ga_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, "no periods"));
    s_query(&query, "q", "{\"limit\": 5}", 3);
    assert_int_equal(sd_ga_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, "\"limit\""));
    s_query(&query, "q", "[1]", 3);
    assert_int_equal(sd_ga_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, "params_json"));
    s_query(&query, "q", "{}", 3);
    query.api = "youtube.reports";
    assert_int_equal(sd_ga_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, "youtube.reports"));
    s_query(&query, "q", "{}", 2);
    query.periods = duplicated;
    assert_int_equal(sd_ga_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, "twice"));
    static char *tagged_items[] = {"country", "dateRange"};
    const sd_strings tagged = {tagged_items, 2};
    s_query(&query, "q", "{}", 3);
    query.dimensions = tagged;
    assert_int_equal(sd_ga_query_check(&query, error, sizeof error), -1);
    assert_non_null(strstr(error, "dateRange"));
}

static void test_chunk_count(void **state)
{
    (void)state;
    sd_query query;
    s_query(&query, "q", "{}", 1);
    static const size_t expected[] = {0, 1, 1, 1, 1, 2, 2, 2, 2, 3};
    for (size_t periods = 0; periods < 10; periods++) {
        query.period_count = periods;
        assert_int_equal(sd_ga_chunk_count(&query), expected[periods]);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest parser[] = {
        cmocka_unit_test(test_parse_one_range),
        cmocka_unit_test(test_parse_several_ranges),
        cmocka_unit_test(test_parse_metadata_warnings),
        cmocka_unit_test(test_batch_envelope),
        cmocka_unit_test(test_parse_empty_result),
        cmocka_unit_test(test_parse_time_units),
        cmocka_unit_test(test_parse_rejects_bad_bodies),
        cmocka_unit_test(test_parse_rejects_truncated_body),
        cmocka_unit_test(test_parse_range_tags),
        cmocka_unit_test(test_error_text),
    };
    const struct CMUnitTest rollup[] = {
        cmocka_unit_test(test_rollup_sums_properties),
        cmocka_unit_test(test_rollup_mixed_types),
        cmocka_unit_test(test_rollup_rejects_overflow_and_bad_period),
        cmocka_unit_test(test_rollup_keys_are_unambiguous),
    };
    const struct CMUnitTest query[] = {
        cmocka_unit_test(test_query_groups),
        cmocka_unit_test(test_query_body),
        cmocka_unit_test(test_query_check),
        cmocka_unit_test(test_chunk_count),
    };
    const char *group = argc > 1 ? argv[1] : "";
    if (strcmp(group, "parser") == 0)
        return cmocka_run_group_tests(parser, NULL, NULL);
    if (strcmp(group, "rollup") == 0)
        return cmocka_run_group_tests(rollup, NULL, NULL);
    if (strcmp(group, "query") == 0)
        return cmocka_run_group_tests(query, NULL, NULL);
    fprintf(stderr, "usage: %s parser|rollup|query\n", argv[0]);
    return 2;
}
