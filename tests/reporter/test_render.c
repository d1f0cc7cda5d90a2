/*  Rendering: number formats, the JSON shape and values, HTML escaping and
    the warning box, CSV quoting.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "sd_catalog.h"
#include "sd_format.h"
#include "sd_render_csv.h"
#include "sd_render_html.h"
#include "sd_render_json.h"

#define HOSTILE_SITE "<script>alert(\"x\")</script>'s & co"

static const fixture_row s_rows[] = {
    {HOSTILE_SITE,
     {1234567, 45678, 50000, 24.69134, 2.5},
     {1178000, 40000, 48000, 24.5416666, 2.4},
     {2469134, 45678, 25000, 98.76536, 0}},
    {"plain.example", {1000, 900, 800, 1.25, 1.0}, {1000, 1000, 800, 1.25, 1.0},
     {0, 0, 0, 0, 0}},
};

typedef struct {
    sd_msg *summary;
    sd_msg *sites;
    sd_report_periods periods;
    sd_strings missing;
    sd_strings warnings;
    sd_document_table tables[3];
    sd_document document;
} fixture;

//  Returns the ga-core table definition with the given name.
static const sd_table_def *s_def(const char *name)
{
    const sd_report_def *report = sd_catalog_find("ga-core");
    for (size_t i = 0; report->tables[i]; i++) {
        if (strcmp(report->tables[i]->name, name) == 0)
            return report->tables[i];
    }
    return NULL;
}

static int s_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    fixture_row total = s_rows[0];
    for (size_t m = 0; m < 3; m++) {
        total.current[m] += s_rows[1].current[m];
        total.previous[m] += s_rows[1].previous[m];
        total.yearly[m] += s_rows[1].yearly[m];
    }
    f->summary = fixture_table("r1", "r1.summary", &total, 1, false);
    f->sites = fixture_table("r1", "r1.site_summary", s_rows, 2, true);
    sd_date date;
    sd_date_parse("2026-12-01", &date);
    sd_report_periods_compute(SD_FREQUENCY_WOW_DAILY, date, false, &f->periods);
    sd_strings_push(&f->missing, HOSTILE_SITE);
    sd_strings_push(&f->warnings, HOSTILE_SITE ": HTTP 503 <from> the API (summary/current)");
    f->tables[0] = (sd_document_table){s_def("summary"), &f->summary->as.table_normalized};
    f->tables[1] = (sd_document_table){s_def("site_summary"), &f->sites->as.table_normalized};
    f->document = (sd_document){
        .report = "ga-core",
        .subject = "Statsdash ga-core: Tue 01 Dec 2026",
        .frequency = SD_FREQUENCY_WOW_DAILY,
        .periods = &f->periods,
        .status = "partial",
        .missing = &f->missing,
        .warnings = &f->warnings,
        .tables = f->tables,
        .table_count = 2,
    };
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    fixture *f = *state;
    sd_msg_destroy(&f->summary);
    sd_msg_destroy(&f->sites);
    sd_strings_clear(&f->missing);
    sd_strings_clear(&f->warnings);
    free(f);
    return 0;
}

static void format_thousands_separators(void **state)
{
    (void)state;
    char text[SD_FORMAT_SIZE];
    sd_format_integer(1234567, false, text, sizeof text);
    assert_string_equal(text, "1,234,567");
    sd_format_integer(-1234, true, text, sizeof text);
    assert_string_equal(text, "-1,234");
    sd_format_integer(999, true, text, sizeof text);
    assert_string_equal(text, "+999");
    sd_format_integer(0, true, text, sizeof text);
    assert_string_equal(text, "0");
    sd_format_integer(INT64_MIN, false, text, sizeof text);
    assert_string_equal(text, "-9,223,372,036,854,775,808");
    sd_format_double(1234567.891, 2, false, text, sizeof text);
    assert_string_equal(text, "1,234,567.89");
    sd_format_double(-0.04, 1, true, text, sizeof text);
    assert_string_equal(text, "0.0");
    sd_format_double(NAN, 1, false, text, sizeof text);
    assert_string_equal(text, "n/a");
}

static void format_percent_one_decimal(void **state)
{
    (void)state;
    char text[SD_FORMAT_SIZE];
    sd_format_percent(4.8019, text, sizeof text);
    assert_string_equal(text, "+4.8%");
    sd_format_percent(-12.06, text, sizeof text);
    assert_string_equal(text, "-12.1%");
    sd_format_percent(0.0, text, sizeof text);
    assert_string_equal(text, "0.0%");
    sd_format_percent(1523.44, text, sizeof text);
    assert_string_equal(text, "+1,523.4%");
}

static void format_significant_digits(void **state)
{
    (void)state;
    static const struct {
        double value;
        bool sign;
        const char *text;
    } cases[] = {
        {3.14159, false, "3.1"}, {0.01234, false, "0.012"}, {1234.5, false, "1,200"},
        {0.0, false, "0"},       {9.96, false, "10"},       {-0.5, false, "-0.50"},
        {2.0, true, "+2.0"},     {45.0, false, "45"},       {NAN, false, "n/a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[SD_FORMAT_SIZE];
        sd_format_significant(cases[i].value, 2, cases[i].sign, text, sizeof text);
        assert_string_equal(text, cases[i].text);
    }
}

static bool s_close(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b));
}

static json_t *s_render_json(fixture *f)
{
    size_t size = 0;
    char *text = sd_render_json(&f->document, &size);
    assert_non_null(text);
    assert_int_equal(strlen(text), size);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    free(text);
    assert_non_null(root);
    return root;
}

static void json_report_fields(void **state)
{
    fixture *f = *state;
    json_t *root = s_render_json(f);
    assert_string_equal(json_string_value(json_object_get(root, "report")), "ga-core");
    assert_string_equal(json_string_value(json_object_get(root, "subject")),
                        "Statsdash ga-core: Tue 01 Dec 2026");
    assert_string_equal(json_string_value(json_object_get(root, "frequency")), "WOW_DAILY");
    assert_string_equal(json_string_value(json_object_get(root, "status")), "partial");
    json_t *periods = json_object_get(root, "periods");
    assert_string_equal(json_string_value(json_array_get(json_object_get(periods, "current"), 0)),
                        "2026-12-01");
    assert_string_equal(json_string_value(json_array_get(json_object_get(periods, "current"), 1)),
                        "2026-12-01");
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(periods, "previous"), 0)), "2026-11-24");
    assert_string_equal(json_string_value(json_array_get(json_object_get(periods, "yearly"), 1)),
                        "2025-12-01");
    json_t *missing = json_object_get(root, "missing");
    assert_int_equal(json_array_size(missing), 1);
    assert_string_equal(json_string_value(json_array_get(missing, 0)), HOSTILE_SITE);
    assert_int_equal(json_array_size(json_object_get(root, "warnings")), 1);
    json_decref(root);
}

static void json_table_values(void **state)
{
    fixture *f = *state;
    json_t *root = s_render_json(f);
    json_t *tables = json_object_get(root, "tables");
    assert_int_equal(json_object_size(tables), 2);
    json_t *sites = json_object_get(tables, "site_summary");
    json_t *columns = json_object_get(sites, "columns");
    assert_int_equal(json_array_size(columns), 1 + 5 * 7);
    assert_string_equal(json_string_value(json_array_get(columns, 0)), "site");
    assert_string_equal(json_string_value(json_array_get(columns, 1)), "pageviews");

    json_t *row = json_array_get(json_object_get(sites, "rows"), 0);
    assert_string_equal(json_string_value(json_object_get(row, "site")), HOSTILE_SITE);
    json_t *pageviews = json_object_get(row, "pageviews");
    assert_true(json_is_integer(pageviews));
    assert_int_equal(json_integer_value(pageviews), 1234567);
    assert_int_equal(json_integer_value(json_object_get(row, "previous_change_pageviews")),
                     1234567 - 1178000);
    json_t *percentage = json_object_get(row, "previous_percentage_pageviews");
    assert_true(json_is_real(percentage));
    assert_true(s_close(json_real_value(percentage), (1234567.0 - 1178000.0) / 1178000.0 * 100));
    assert_true(json_is_real(json_object_get(row, "pv_per_session")));
    assert_true(s_close(json_real_value(json_object_get(row, "avg_session_time")), 2.5));

    json_t *totals = json_object_get(sites, "totals");
    assert_null(json_object_get(totals, "site"));
    assert_int_equal(json_integer_value(json_object_get(totals, "users")), 45678 + 900);

    json_t *summary_row = json_array_get(json_object_get(json_object_get(tables, "summary"),
                                                         "rows"), 0);
    assert_int_equal(json_integer_value(json_object_get(summary_row, "sessions")), 50800);
    json_decref(root);
}

static void json_missing_table_empty(void **state)
{
    fixture *f = *state;
    f->tables[1].table = NULL;
    json_t *root = s_render_json(f);
    json_t *sites = json_object_get(json_object_get(root, "tables"), "site_summary");
    assert_non_null(sites);
    assert_int_equal(json_array_size(json_object_get(sites, "columns")), 0);
    assert_int_equal(json_array_size(json_object_get(sites, "rows")), 0);
    assert_int_equal(json_object_size(json_object_get(sites, "totals")), 0);
    json_decref(root);
}

static char *s_render_html(fixture *f)
{
    size_t size = 0;
    char *html = sd_render_html(&f->document, &size);
    assert_non_null(html);
    assert_int_equal(strlen(html), size);
    return html;
}

static void html_escapes_hostile_site(void **state)
{
    fixture *f = *state;
    char *html = s_render_html(f);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "alert(\"x\")"));
    assert_null(strstr(html, "<from>"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;s &amp; co"));
    assert_non_null(strstr(html, "HTTP 503 &lt;from&gt; the API"));
    free(html);
}

static void html_numbers_and_labels(void **state)
{
    fixture *f = *state;
    char *html = s_render_html(f);
    assert_non_null(strstr(html, "<title>Statsdash ga-core: Tue 01 Dec 2026</title>"));
    assert_non_null(strstr(html, "1,234,567"));
    assert_non_null(strstr(html, "1,235,567"));       //  summary pageviews
    assert_non_null(strstr(html, "+56,567 (+4.8%)"));
    assert_non_null(strstr(html, "-1,234,567 (-50.0%)"));
    assert_non_null(strstr(html, "24.69"));
    assert_non_null(strstr(html, "WoW"));
    assert_non_null(strstr(html, "YoY"));
    assert_non_null(strstr(html, "Tue 24 Nov 2026"));
    assert_non_null(strstr(html, "#1a7f37"));
    assert_non_null(strstr(html, "#cf222e"));
    free(html);
}

//  The warning box: a heading, the missing sites and one item per warning,
//  every text escaped; shown for warnings alone too, absent without any.
static void html_warning_box_listed(void **state)
{
    fixture *f = *state;
    sd_strings_push(&f->warnings, "sent 2 days late: plain.example has no data for hours 14-23");
    char *html = s_render_html(f);
    assert_non_null(strstr(html, ">Warnings</p>"));
    assert_non_null(strstr(html, "<strong>Missing data:</strong> <span>&lt;script&gt;alert("
                                 "&quot;x&quot;)&lt;/script&gt;&#39;s &amp; co</span>"));
    assert_non_null(strstr(html, "<li>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;s "
                                 "&amp; co: HTTP 503 &lt;from&gt; the API (summary/current)</li>"));
    assert_non_null(strstr(html, "<li>sent 2 days late: plain.example has no data for hours "
                                 "14-23</li>"));
    free(html);

    sd_strings_clear(&f->missing);
    char *warnings_only = s_render_html(f);
    assert_non_null(strstr(warnings_only, ">Warnings</p>"));
    assert_null(strstr(warnings_only, "Missing data:"));
    assert_non_null(strstr(warnings_only, "<li>sent 2 days late"));
    free(warnings_only);

    sd_strings_clear(&f->warnings);
    char *clean = s_render_html(f);
    assert_null(strstr(clean, ">Warnings</p>"));
    assert_null(strstr(clean, "Missing data:"));
    assert_null(strstr(clean, "<li>"));
    free(clean);
}

//  The periods compared and the GA4 sampling statement head the page, the
//  text part and the JSON.
static void report_states_periods_and_quality(void **state)
{
    fixture *f = *state;
    f->document.quality = "GA4 marked some figures as sampled (see the warnings); none as "
                          "thresholded.";
    char *html = s_render_html(f);
    assert_non_null(strstr(html, "Period: Tue 01 Dec 2026, compared with the previous period "
                                 "(Tue 24 Nov 2026) and the same period a year earlier "
                                 "(Mon 01 Dec 2025)."));
    assert_non_null(strstr(html, "GA4 marked some figures as sampled"));
    free(html);

    sd_html_images images = {0};
    char *text = NULL;
    char *mail = sd_render_html_mail(&f->document, &images, &text, NULL);
    assert_non_null(mail);
    assert_non_null(strstr(text, "Period: Tue 01 Dec 2026, compared with"));
    assert_non_null(strstr(text, "GA4 marked some figures as sampled"));
    assert_non_null(strstr(text, "Warnings:\n* " HOSTILE_SITE ": HTTP 503"));
    free(text);
    free(mail);
    sd_html_images_clear(&images);

    json_t *root = s_render_json(f);
    assert_string_equal(json_string_value(json_object_get(root, "quality")), f->document.quality);
    json_decref(root);
}

//  Returns the definition of a youtube table.
static const sd_table_def *s_youtube_def(const char *name)
{
    const sd_report_def *report = sd_catalog_find("youtube");
    for (size_t i = 0; report->tables[i]; i++) {
        if (strcmp(report->tables[i]->name, name) == 0)
            return report->tables[i];
    }
    return NULL;
}

//  A normalized table with a "channel" key and float metric columns.
static sd_msg *s_channel_table(const char *table_id, const char *const *metrics,
                               size_t metric_count, const char *const *channels,
                               const double *values, size_t row_count, const double *totals)
{
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_NORMALIZED);
    sd_table_normalized *table = &msg->as.table_normalized;
    table->request_id = strdup("y1");
    table->reporter_id = strdup("rep1");
    table->table_id = strdup(table_id);
    sd_column columns[8] = {{"channel", SD_COLUMN_DIMENSION, ""}};
    for (size_t m = 0; m < metric_count; m++)
        columns[1 + m] = (sd_column){(char *)metrics[m], SD_COLUMN_METRIC, "percent"};
    assert_int_equal(sd_table_data_init(&table->data, columns, 1 + metric_count, row_count), 0);
    for (size_t r = 0; r < row_count; r++) {
        sd_value *cells = sd_table_data_append_row(&table->data);
        sd_value_set_string(&cells[0], channels[r], strlen(channels[r]));
        for (size_t m = 0; m < metric_count; m++)
            cells[1 + m] = (sd_value){.kind = SD_VALUE_FLOAT, .as.f = values[r * metric_count + m]};
    }
    table->totals = calloc(1 + metric_count, sizeof *table->totals);
    for (size_t m = 0; totals && m < metric_count; m++)
        table->totals[1 + m] = (sd_value){.kind = SD_VALUE_FLOAT, .as.f = totals[m]};
    return msg;
}

//  The likes:dislikes ratio shows 2 significant digits (0 without
//  dislikes) in HTML and text, and its exact value in JSON; the traffic
//  source shares show as a channels x source types matrix.
static void youtube_ratio_and_matrix(void **state)
{
    (void)state;
    static const char *const channels[] = {"GamesNews TV", "BoardPlay"};
    static const char *const stats_metrics[] = {"views", "like_dislike_ratio"};
    static const double stats[] = {1000, 12.3456, 10, 0.0};
    static const char *const share_metrics[] = {"watch_time", "share_YT_SEARCH",
                                                "share_EXT_URL"};
    static const double shares[] = {500, 60.04, 39.96, 100, 30.0, 70.0};
    static const double share_totals[] = {600, 55.04, 44.96};
    sd_msg *stats_table = s_channel_table("y1.channel_stats", stats_metrics, 2, channels, stats,
                                          2, NULL);
    sd_msg *share_table = s_channel_table("y1.traffic_sources", share_metrics, 3, channels,
                                          shares, 2, share_totals);
    sd_report_periods periods;
    sd_date date;
    sd_date_parse("2026-11-29", &date);
    sd_report_periods_compute(SD_FREQUENCY_WEEKLY, date, false, &periods);
    sd_document_table tables[] = {
        {s_youtube_def("channel_stats"), &stats_table->as.table_normalized},
        {s_youtube_def("traffic_sources"), &share_table->as.table_normalized},
    };
    sd_document document = {.report = "youtube", .subject = "YouTube", .frequency =
                            SD_FREQUENCY_WEEKLY, .periods = &periods, .status = "complete",
                            .tables = tables, .table_count = 2};

    sd_html_images images = {0};
    char *text = NULL;
    char *html = sd_render_html_mail(&document, &images, &text, NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, ">12<br>"));
    assert_non_null(strstr(html, ">0<br>"));
    assert_null(strstr(html, "12.35"));
    assert_non_null(strstr(text, "Likes:dislikes 12 "));
    assert_non_null(strstr(text, "Likes:dislikes 0 "));
    assert_non_null(strstr(html, ">YT SEARCH</th>"));
    assert_non_null(strstr(html, ">EXT URL</th>"));
    assert_non_null(strstr(html, ">60.0%</td>"));
    assert_non_null(strstr(html, ">40.0%</td>"));
    assert_non_null(strstr(html, ">Total</td>"));
    assert_non_null(strstr(html, ">55.0%</td>"));
    assert_non_null(strstr(text, "- BoardPlay | YT SEARCH 30.0%; EXT URL 70.0%; "));
    free(html);
    free(text);

    size_t size = 0;
    char *json_text = sd_render_json(&document, &size);
    json_t *root = json_loads(json_text, 0, NULL);
    json_t *row = json_array_get(
        json_object_get(json_object_get(json_object_get(root, "tables"), "channel_stats"),
                        "rows"),
        0);
    assert_true(s_close(json_real_value(json_object_get(row, "like_dislike_ratio")), 12.3456));
    assert_true(json_is_null(json_object_get(root, "quality")));
    json_decref(root);
    free(json_text);
    sd_msg_destroy(&stats_table);
    sd_msg_destroy(&share_table);
}

static void csv_quotes_fields(void **state)
{
    fixture *f = *state;
    size_t size = 0;
    char *csv = sd_render_csv(&f->document, &size);
    assert_non_null(csv);
    assert_int_equal(strlen(csv), size);
    assert_non_null(strstr(csv, "table,site,pageviews,"));
    assert_non_null(strstr(csv, "site_summary,\"<script>alert(\"\"x\"\")</script>'s & co\",1234567,"));
    assert_non_null(strstr(csv, "\r\nsite_summary totals,,1235567,"));
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_thousands_separators),
        cmocka_unit_test(format_percent_one_decimal),
        cmocka_unit_test_setup_teardown(json_report_fields, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(json_table_values, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(json_missing_table_empty, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(html_escapes_hostile_site, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(html_numbers_and_labels, s_setup, s_teardown),
        cmocka_unit_test(format_significant_digits),
        cmocka_unit_test_setup_teardown(html_warning_box_listed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(report_states_periods_and_quality, s_setup, s_teardown),
        cmocka_unit_test(youtube_ratio_and_matrix),
        cmocka_unit_test_setup_teardown(csv_quotes_fields, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
