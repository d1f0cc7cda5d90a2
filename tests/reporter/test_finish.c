/*  The reporter's own steps on arrived tables: rows per parent value, the
    month-to-date target, the share of all users, months from days, columns
    looked up in another table, and the key columns' report names.  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "sd_finish.h"
#include "sd_plan.h"

static const char *const s_sites[] = {"alpha.example", "beta.example"};

typedef struct {
    sd_config *config;
    sd_msg *request;
    sd_plan *plan;
    sd_msg *tables[SD_CATALOG_MAX_ITEMS];
} fixture;

//  A hand-built row: key strings, then integer metrics.
typedef struct {
    const char *keys[4];
    int64_t metrics[4];
} s_row;

static int s_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->config = fixture_config(s_sites, 2, 4000, 1500);
    f->request = sd_msg_new(SD_MSG_REPORT_REQUEST);
    sd_report_request *r = &f->request->as.report_request;
    r->request_id = strdup("r9");
    r->delivery_id = strdup("");
    r->yearly_alignment = strdup("calendar");
    r->deadline_ms = INT64_C(1800000000000);
    sd_strings_push(&r->sites, "all");
    *state = f;
    return f->config ? 0 : -1;
}

static void s_drop_tables(fixture *f)
{
    for (size_t t = 0; t < SD_CATALOG_MAX_ITEMS; t++)
        sd_msg_destroy(&f->tables[t]);
}

static int s_teardown(void **state)
{
    fixture *f = *state;
    s_drop_tables(f);
    sd_plan_destroy(&f->plan);
    sd_msg_destroy(&f->request);
    sd_config_destroy(&f->config);
    free(f);
    return 0;
}

static void s_plan(fixture *f, const char *report, const char *frequency, const char *date)
{
    sd_report_request *r = &f->request->as.report_request;
    free(r->report);
    free(r->frequency);
    free(r->date);
    r->report = strdup(report);
    r->frequency = strdup(frequency);
    r->date = strdup(date);
    sd_plan_error err;
    s_drop_tables(f);
    sd_plan_destroy(&f->plan);
    f->plan = sd_plan_new(r, f->config, "rep1", &err);
    assert_non_null(f->plan);
}

static size_t s_index(const fixture *f, const char *name)
{
    char id[64];
    snprintf(id, sizeof id, "%s.%s", f->plan->id_prefix, name);
    int index = sd_plan_find_table(f->plan, id);
    assert_true(index >= 0);
    return (size_t)index;
}

//  Builds table `name` of the plan with key_count key columns and
//  metric_count integer metric columns, named by names in that order.
static sd_table_normalized *s_table(fixture *f, const char *name, const char *const *names,
                                    size_t key_count, size_t metric_count, const s_row *rows,
                                    size_t row_count)
{
    size_t index = s_index(f, name);
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_NORMALIZED);
    sd_table_normalized *table = &msg->as.table_normalized;
    sd_column columns[8];
    size_t width = key_count + metric_count;
    for (size_t c = 0; c < width; c++)
        columns[c] = (sd_column){(char *)names[c],
                                 c < key_count ? SD_COLUMN_DIMENSION : SD_COLUMN_METRIC, ""};
    sd_table_data_init(&table->data, columns, width, row_count);
    for (size_t r = 0; r < row_count; r++) {
        sd_value *cells = sd_table_data_append_row(&table->data);
        for (size_t k = 0; k < key_count; k++)
            sd_value_set_string(&cells[k], rows[r].keys[k], strlen(rows[r].keys[k]));
        for (size_t m = 0; m < metric_count; m++) {
            cells[key_count + m].kind = SD_VALUE_INT;
            cells[key_count + m].as.i = rows[r].metrics[m];
        }
    }
    sd_msg_destroy(&f->tables[index]);
    f->tables[index] = msg;
    return table;
}

static const sd_value *s_cell(const sd_table_normalized *table, size_t row, const char *column)
{
    int index = sd_table_data_column(&table->data, column);
    if (index < 0)
        fail_msg("no column %s", column);
    if (row == SIZE_MAX)
        return &table->totals[index];
    return &table->data.cells[row * table->data.column_count + (size_t)index];
}

static void s_expect_text(const sd_table_normalized *table, size_t row, const char *column,
                          const char *text)
{
    const sd_value *cell = s_cell(table, row, column);
    assert_int_equal(cell->kind, SD_VALUE_STRING);
    assert_string_equal(cell->as.s.ptr, text);
}

static void s_expect_int(const sd_table_normalized *table, size_t row, const char *column,
                         int64_t value)
{
    const sd_value *cell = s_cell(table, row, column);
    assert_int_equal(cell->kind, SD_VALUE_INT);
    assert_int_equal(cell->as.i, value);
}

static void s_expect_float(const sd_table_normalized *table, size_t row, const char *column,
                           double value)
{
    const sd_value *cell = s_cell(table, row, column);
    assert_int_equal(cell->kind, SD_VALUE_FLOAT);
    if (fabs(cell->as.f - value) > 1e-9 * fmax(1.0, fabs(value)))
        fail_msg("%s is %.12g, expected %.12g", column, cell->as.f, value);
}

static const s_row s_articles[] = {
    {{"a.example", "alpha.example", "/x", "X"}, {50}},
    {{"b.example", "alpha.example", "/y", "Y"}, {40}},
    {{"a.example", "beta.example", "/z", "Z"}, {30}},
    {{"c.example", "alpha.example", "/w", "W"}, {20}},
    {{"b.example", "beta.example", "/v", "V"}, {10}},
};
static const char *const s_article_columns[] = {"sessionSource", "site", "pagePath", "pageTitle",
                                                "pageviews"};
static const char *const s_source_columns[] = {"sessionSource", "users"};

static void s_per_parent_case(fixture *f, const char *frequency, const char *date,
                              const char *const *expected, size_t count)
{
    s_plan(f, "ga-core", frequency, date);
    static const s_row parents[] = {{{"b.example"}, {9}}, {{"a.example"}, {8}}};
    s_table(f, "referring_sites", s_source_columns, 1, 1, parents, 2);
    sd_table_normalized *table = s_table(f, "referring_articles", s_article_columns, 4, 1,
                                         s_articles, 5);
    assert_int_equal(sd_finish_tables(f->plan, f->tables), 0);
    assert_int_equal(table->data.row_count, count);
    for (size_t r = 0; r < count; r++)
        s_expect_text(table, r, "pagePath", expected[r]);
    //  The key column has its report name now, in the parent as well.
    s_expect_text(table, 0, "source", "b.example");
    const sd_table_normalized *parent =
        &f->tables[s_index(f, "referring_sites")]->as.table_normalized;
    s_expect_text(parent, 0, "source", "b.example");
}

static void finish_per_parent_daily(void **state)
{
    static const char *const expected[] = {"/y", "/x"};
    s_per_parent_case(*state, "WOW_DAILY", "2026-12-01", expected, 2);
}

static void finish_per_parent_monthly(void **state)
{
    static const char *const expected[] = {"/y", "/v", "/x", "/z"};
    s_per_parent_case(*state, "MONTHLY", "2026-11-30", expected, 4);
}

static void s_month_target_case(fixture *f, int64_t current, int64_t last_year, int64_t days,
                                int64_t needed, int64_t per_day)
{
    static const char *const columns[] = {"pageviews", "previous_figure_pageviews"};
    s_plan(f, "ga-core", "WOW_DAILY", "2026-12-01");
    s_row row = {{NULL}, {current, last_year}};
    sd_table_normalized *table = s_table(f, "month_to_date", columns, 0, 2, &row, 1);
    assert_int_equal(sd_finish_tables(f->plan, f->tables), 0);
    s_expect_int(table, 0, "days_left", days);
    s_expect_int(table, 0, "pageviews_needed", needed);
    s_expect_int(table, 0, "pageviews_needed_per_day", per_day);
    assert_null(table->totals);
}

static void finish_month_target(void **state)
{
    //  1 December: 30 days of December are left.
    s_month_target_case(*state, 1000, 31000, 30, 30000, 1000);
    s_month_target_case(*state, 1001, 31000, 30, 29999, 1000);
    s_month_target_case(*state, 1031, 31000, 30, 29969, 999);
    s_month_target_case(*state, 40000, 31000, 30, 0, 0);
}

static void finish_share_of_all(void **state)
{
    fixture *f = *state;
    s_plan(f, "ga-social", "WEEKLY", "2026-11-29");
    static const char *const summary_columns[] = {"users"};
    s_row total = {{NULL}, {2000}};
    s_table(f, "summary", summary_columns, 0, 1, &total, 1);
    static const s_row networks[] = {{{"Facebook"}, {500}}, {{"reddit"}, {100}}};
    sd_table_normalized *table = s_table(f, "social_networks", s_source_columns, 1, 1, networks,
                                         2);
    assert_int_equal(sd_finish_tables(f->plan, f->tables), 0);
    s_expect_float(table, 0, "share_of_all_users", 25.0);
    s_expect_float(table, 1, "share_of_all_users", 5.0);
    s_expect_text(table, 1, "network", "reddit");
}

static const char *const s_social_day_columns[] = {"sessionSource", "date", "pageviews",
                                                   "sessions"};

static void finish_months_export(void **state)
{
    fixture *f = *state;
    s_plan(f, "ga-social-export", "DAILY", "2026-12-01");
    static const s_row days[] = {
        {{"Facebook", "20260305"}, {10, 2}}, {{"Twitter", "20260401"}, {7, 3}},
        {{"Facebook", "20260310"}, {5, 1}},  {{"Facebook", "20261201"}, {1, 1}},
        {{"Facebook", "20251231"}, {99, 99}},
    };
    sd_table_normalized *table = s_table(f, "social_export", s_social_day_columns, 2, 2, days,
                                         5);
    assert_int_equal(sd_finish_tables(f->plan, f->tables), 0);
    //  Two networks x 12 months, Facebook first (more pageviews).
    assert_int_equal(table->data.row_count, 24);
    assert_int_equal(table->data.column_count, 4);
    assert_string_equal(table->data.columns[0].name, "network");
    assert_string_equal(table->data.columns[1].name, "month");
    s_expect_text(table, 0, "network", "Facebook");
    s_expect_text(table, 0, "month", "2026-01");
    //  No data before March: null figures, not zero.
    assert_int_equal(s_cell(table, 0, "pageviews")->kind, SD_VALUE_NIL);
    assert_int_equal(s_cell(table, 1, "sessions")->kind, SD_VALUE_NIL);
    s_expect_int(table, 2, "pageviews", 15);
    s_expect_int(table, 2, "sessions", 3);
    s_expect_int(table, 3, "pageviews", 0);
    s_expect_int(table, 11, "pageviews", 1);
    s_expect_text(table, 12, "network", "Twitter");
    s_expect_int(table, 15, "pageviews", 7);
    s_expect_int(table, 14, "pageviews", 0);
    assert_null(table->totals);
}

static void finish_top_network_months(void **state)
{
    fixture *f = *state;
    s_plan(f, "ga-year-social", "MONTHLY", "2026-11-30");
    static const char *const columns[] = {"sessionSource", "date", "pageviews", "users",
                                          "sessions"};
    static const s_row days[] = {
        {{"LinkedIn", "20261101"}, {50, 1, 1}}, {{"Twitter", "20261101"}, {7, 1, 1}},
        {{"Instagram", "20261102"}, {40, 1, 1}}, {{"Mastodon", "20261102"}, {30, 1, 1}},
        {{"Bluesky", "20261103"}, {20, 1, 1}},  {{"Threads", "20261103"}, {10, 1, 1}},
    };
    sd_table_normalized *table = s_table(f, "social_months", columns, 2, 3, days, 6);
    assert_int_equal(sd_finish_tables(f->plan, f->tables), 0);
    static const char *const order[] = {"Facebook", "Twitter", "reddit", "LinkedIn", "Instagram",
                                        "Mastodon"};
    assert_int_equal(table->data.row_count, 6 * 36);
    for (size_t n = 0; n < 6; n++)
        s_expect_text(table, n * 36, "network", order[n]);
    s_expect_text(table, 35, "month", "2026-11");
    //  The data starts in the last month: Facebook has no rows but 0 there.
    s_expect_int(table, 35, "pageviews", 0);
    assert_int_equal(s_cell(table, 34, "pageviews")->kind, SD_VALUE_NIL);
    s_expect_int(table, 36 + 35, "pageviews", 7);
}

static void finish_device_share(void **state)
{
    fixture *f = *state;
    s_plan(f, "ga-core", "MONTHLY", "2026-11-30");
    static const char *const columns[] = {"date", "deviceCategory", "users", "share_of_users"};
    static const s_row days[] = {
        {{"20261101", "mobile"}, {30, 0}},  {{"20261102", "mobile"}, {30, 0}},
        {{"20261101", "desktop"}, {40, 0}}, {{"20261001", "desktop"}, {5, 0}},
    };
    sd_table_normalized *table = s_table(f, "device_months", columns, 2, 2, days, 4);
    assert_int_equal(sd_finish_tables(f->plan, f->tables), 0);
    //  Month-major: 12 months x 2 devices, mobile first (more users).
    assert_int_equal(table->data.row_count, 24);
    s_expect_text(table, 0, "month", "2025-12");
    s_expect_text(table, 22, "month", "2026-11");
    s_expect_text(table, 22, "device", "mobile");
    s_expect_int(table, 22, "users", 60);
    s_expect_float(table, 22, "share_of_users", 60.0);
    s_expect_float(table, 23, "share_of_users", 40.0);
    s_expect_float(table, 21, "share_of_users", 100.0);
}

//  Replaces the fixture's config with one YouTube channel.
static void s_use_youtube_config(fixture *f)
{
    char path[] = "/tmp/reporter-finish-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *file = fdopen(fd, "w");
    assert_non_null(file);
    //  Planning does not read the token file, so the file need not exist.
    fputs("{\"youtube\": {\"channels\": {\"Games TV\": [{\"id\": "
          "\"UCgames00000000000000001\", \"refresh_token_file\": \"/nonexistent/1.token\"}]}}}\n",
          file);
    fclose(file);
    sd_config_error err;
    sd_config_destroy(&f->config);
    f->config = sd_config_load(path, &err);
    unlink(path);
    if (!f->config)
        fail_msg("config rejected: %s: %s", err.key, err.text);
}

static const char *const s_video_columns[] = {"site", "video", "estimatedMinutesWatched"};
static const s_row s_videos[] = {
    {{"Games TV", "vid-a"}, {30}},
    {{"Games TV", "vid-b"}, {20}},
};

static void finish_lookup_titles(void **state)
{
    fixture *f = *state;
    s_use_youtube_config(f);
    s_plan(f, "youtube", "MONTHLY", "2026-11-30");
    sd_table_normalized *top = s_table(f, "top_videos", s_video_columns, 2, 1, s_videos, 2);
    static const char *const title_columns[] = {"video", "title"};
    static const s_row titles[] = {{{"vid-b", "Second"}, {0}}, {{"vid-a", "First"}, {0}}};
    s_table(f, "video_titles", title_columns, 2, 0, titles, 2);
    assert_int_equal(sd_finish_tables(f->plan, f->tables), 0);
    //  The title column follows the video column, in the catalog's key order.
    assert_int_equal(top->data.column_count, 4);
    assert_string_equal(top->data.columns[2].name, "title");
    assert_int_equal(top->data.columns[2].kind, SD_COLUMN_DIMENSION);
    s_expect_text(top, 0, "title", "First");
    s_expect_text(top, 1, "title", "Second");
    s_expect_text(top, 1, "video", "vid-b");
    s_expect_int(top, 1, "estimatedMinutesWatched", 20);
    s_expect_text(top, 0, "channel", "Games TV");
}

static void finish_lookup_without_titles(void **state)
{
    fixture *f = *state;
    s_use_youtube_config(f);
    s_plan(f, "youtube", "MONTHLY", "2026-11-30");
    sd_table_normalized *top = s_table(f, "top_videos", s_video_columns, 2, 1, s_videos, 2);
    //  Without a titles table (its job failed), the video ids stay and the
    //  titles are null.
    assert_int_equal(sd_finish_tables(f->plan, f->tables), 0);
    assert_int_equal(top->data.row_count, 2);
    s_expect_text(top, 0, "video", "vid-a");
    assert_int_equal(s_cell(top, 0, "title")->kind, SD_VALUE_NIL);
    assert_int_equal(s_cell(top, 1, "title")->kind, SD_VALUE_NIL);

    //  A titles table without the row of a video leaves that title null.
    s_plan(f, "youtube", "MONTHLY", "2026-11-30");
    top = s_table(f, "top_videos", s_video_columns, 2, 1, s_videos, 2);
    static const char *const title_columns[] = {"video", "title"};
    static const s_row titles[] = {{{"vid-b", "Second"}, {0}}};
    s_table(f, "video_titles", title_columns, 2, 0, titles, 1);
    assert_int_equal(sd_finish_tables(f->plan, f->tables), 0);
    assert_int_equal(s_cell(top, 0, "title")->kind, SD_VALUE_NIL);
    s_expect_text(top, 1, "title", "Second");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(finish_per_parent_daily, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(finish_per_parent_monthly, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(finish_month_target, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(finish_share_of_all, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(finish_months_export, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(finish_top_network_months, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(finish_device_share, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(finish_lookup_titles, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(finish_lookup_without_titles, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
