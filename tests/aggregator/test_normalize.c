/*  Tests of sd_normalize and sd_compare: raw parts in, normalized table out.

    Every expected value below was worked out by hand from the part data
    (sums per period, then the ratio of the sums), written as the
    arithmetic that produces it so each one can be checked by reading.

    Usage: test_normalize [TEST-NAME]   (runs every test without a name)
*/
#include "sd_normalize.h"

#include "test_parts.h"

#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  ---------------------------------------------------------------------
//  Fixtures

#define GA_SUMS {"screenPageViews", "totalUsers", "sessions", "userEngagementDuration", NULL}
#define GA_DERIVED                                                                                 \
    {                                                                                              \
        {"pageviews", "scale", "screenPageViews", "", 1.0, "count"},                               \
        {"users", "scale", "totalUsers", "", 1.0, "count"},                                        \
        {"sessions", "scale", "sessions", "", 1.0, "count"},                                       \
        {"pv_per_session", "ratio", "screenPageViews", "sessions", 1.0, "ratio"},                  \
        {"avg_session_time", "ratio", "userEngagementDuration", "sessions", 1.0 / 60.0,            \
         "minutes"},                                                                               \
    }

static const test_columns s_ga_columns = {"screenPageViews", "totalUsers", "sessions",
                                          "userEngagementDuration", NULL};

//  Three sites, three periods; each part is one row of
//  screenPageViews, totalUsers, sessions, userEngagementDuration (s).
//  Sums: current 3500, 1400, 1700, 180000; previous 3000, 1350, 1500,
//  147000; yearly 2250, 950, 1100, 81000. Site c's previous row is zero.
static const test_part s_ga_parts[] = {
    {"a", "current", NULL, NULL, 1, {{I(1000), I(400), I(500), I(60000)}}},
    {"a", "previous", NULL, NULL, 1, {{I(800), I(350), I(400), I(48000)}}},
    {"a", "yearly", NULL, NULL, 1, {{I(500), I(200), I(250), I(15000)}}},
    {"b", "current", NULL, NULL, 1, {{I(2000), I(900), I(1000), I(90000)}}},
    {"b", "previous", NULL, NULL, 1, {{I(2200), I(1000), I(1100), I(99000)}}},
    {"b", "yearly", NULL, NULL, 1, {{I(1500), I(700), I(750), I(60000)}}},
    {"c", "current", NULL, NULL, 1, {{I(500), I(100), I(200), I(30000)}}},
    {"c", "previous", NULL, NULL, 1, {{I(0), I(0), I(0), I(0)}}},
    {"c", "yearly", NULL, NULL, 1, {{I(250), I(50), I(100), I(6000)}}},
};
#define GA_PART_COUNT (sizeof s_ga_parts / sizeof s_ga_parts[0])

static const test_spec s_summary_spec = {
    .keys = {NULL}, .sum = GA_SUMS, .derived = GA_DERIVED, .previous = true, .yearly = true};

static const test_spec s_site_summary_spec = {.keys = {"site", NULL},
                                              .sum = GA_SUMS,
                                              .derived = GA_DERIVED,
                                              .sort_column = "users",
                                              .descending = true,
                                              .previous = true,
                                              .yearly = true};

//  An expected cell: kind 'i' (integer), 'f' (float), 'b' (bool),
//  's' (string) or 'n' (nil).
typedef struct {
    const char *column;
    char kind;
    int64_t i;
    double f;
    const char *s;
} expect_cell;

#define EI(column, value) {(column), 'i', (value), 0.0, NULL}
#define EF(column, value) {(column), 'f', 0, (value), NULL}
#define EB(column, value) {(column), 'b', (value), 0.0, NULL}
#define ES(column, value) {(column), 's', 0, 0.0, (value)}
#define EN(column) {(column), 'n', 0, 0.0, NULL}
#define EXPECT_END {NULL, 0, 0, 0.0, NULL}

static void s_expect_cells(const sd_table_data *table, const sd_value *cells,
                           const expect_cell *expected)
{
    for (; expected->column; expected++) {
        switch (expected->kind) {
        case 'i':
            test_expect_int(table, cells, expected->column, expected->i);
            break;
        case 'f':
            test_expect_float(table, cells, expected->column, expected->f);
            break;
        case 'b':
            test_expect_bool(table, cells, expected->column, expected->i != 0);
            break;
        case 's':
            test_expect_string(table, cells, expected->column, expected->s);
            break;
        default:
            test_expect_nil(table, cells, expected->column);
            break;
        }
    }
}

//  The summed GA figures of all three sites, as the summary row and as
//  the totals of any table of these parts.
static const expect_cell s_ga_totals[] = {
    EI("pageviews", 3500),
    EI("previous_figure_pageviews", 3000),
    EI("previous_change_pageviews", 500),
    EF("previous_percentage_pageviews", 500.0 / 3000.0 * 100.0),
    EI("yearly_figure_pageviews", 2250),
    EI("yearly_change_pageviews", 1250),
    EF("yearly_percentage_pageviews", 1250.0 / 2250.0 * 100.0),
    EI("users", 1400),
    EI("previous_figure_users", 1350),
    EI("previous_change_users", 50),
    EF("previous_percentage_users", 50.0 / 1350.0 * 100.0),
    EI("yearly_figure_users", 950),
    EI("yearly_change_users", 450),
    EF("yearly_percentage_users", 450.0 / 950.0 * 100.0),
    EI("sessions", 1700),
    EI("previous_change_sessions", 200),
    EF("previous_percentage_sessions", 200.0 / 1500.0 * 100.0),
    EI("yearly_change_sessions", 600),
    //  Ratios of the sums, not the mean of the sites' ratios (2.1667).
    EF("pv_per_session", 3500.0 / 1700.0),
    EF("previous_figure_pv_per_session", 2.0),
    EF("previous_change_pv_per_session", 3500.0 / 1700.0 - 2.0),
    EF("previous_percentage_pv_per_session", (3500.0 / 1700.0 - 2.0) / 2.0 * 100.0),
    EF("yearly_figure_pv_per_session", 2250.0 / 1100.0),
    EF("yearly_percentage_pv_per_session",
       (3500.0 / 1700.0 - 2250.0 / 1100.0) / (2250.0 / 1100.0) * 100.0),
    EF("avg_session_time", 180000.0 / 1700.0 / 60.0),
    EF("previous_figure_avg_session_time", 147000.0 / 1500.0 / 60.0),
    EF("previous_change_avg_session_time", 180000.0 / 1700.0 / 60.0 - 147000.0 / 1500.0 / 60.0),
    EF("yearly_figure_avg_session_time", 81000.0 / 1100.0 / 60.0),
    EF("yearly_percentage_avg_session_time",
       (180000.0 / 1700.0 - 81000.0 / 1100.0) / (81000.0 / 1100.0) * 100.0),
    EB("previous_new", false),
    EB("yearly_new", false),
    EXPECT_END,
};

//  Merges the parts in the given order (NULL: as listed) and returns the
//  normalized message. expected_parts 0 means the number of parts.
static sd_msg *s_normalize(const test_spec *description, const test_columns columns,
                           const test_part *parts, size_t count, const size_t *order,
                           int64_t expected_parts)
{
    sd_table_spec spec;
    test_spec_build(description, &spec);
    sd_normalize *state = NULL;
    for (size_t i = 0; i < count; i++) {
        const test_part *part = &parts[order ? order[i] : i];
        sd_msg *raw = test_part_build(&spec, columns, part, "r1", "t1",
                                      expected_parts ? expected_parts : (int64_t)count, 0);
        if (!state)
            state = sd_normalize_new(&raw->as.table_raw);
        assert_non_null(state);
        assert_int_equal(sd_normalize_add(state, &raw->as.table_raw, NULL, 0),
                         SD_NORMALIZE_ADDED);
        sd_msg_destroy(&raw);
    }
    assert_non_null(state);
    sd_msg *msg = sd_normalize_finish(state);
    assert_non_null(msg);
    sd_normalize_destroy(&state);
    sd_table_spec_clear(&spec);
    return msg;
}

static void s_expect_no_missing(const sd_table_normalized *table)
{
    assert_int_equal(table->missing_count, 0);
}

static void s_expect_missing(const sd_table_normalized *table, size_t index, const char *site,
                             const char *period, const char *error)
{
    assert_true(index < table->missing_count);
    assert_string_equal(table->missing[index].site, site);
    assert_string_equal(table->missing[index].period, period);
    assert_string_equal(table->missing[index].error, error);
}

//  ---------------------------------------------------------------------
//  Tests

static void test_summary_three_sites(void **state)
{
    (void)state;
    sd_msg *msg = s_normalize(&s_summary_spec, s_ga_columns, s_ga_parts, GA_PART_COUNT, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_string_equal(table->request_id, "r1");
    assert_string_equal(table->table_id, "t1");
    assert_string_equal(table->reporter_id, "reporter-1");

    //  5 metrics x (value + 2 comparisons x 3) + 2 flags.
    assert_int_equal(table->data.column_count, 37);
    assert_string_equal(table->data.columns[0].name, "pageviews");
    assert_string_equal(table->data.columns[1].name, "previous_figure_pageviews");
    assert_string_equal(table->data.columns[4].name, "yearly_figure_pageviews");
    assert_string_equal(table->data.columns[35].name, "previous_new");
    assert_string_equal(table->data.columns[36].name, "yearly_new");
    assert_string_equal(table->data.columns[test_column(&table->data, "avg_session_time")].unit,
                        "minutes");
    assert_string_equal(
        table->data.columns[test_column(&table->data, "previous_percentage_users")].unit,
        "percent");

    assert_int_equal(table->data.row_count, 1);
    s_expect_cells(&table->data, test_row(&table->data, 0), s_ga_totals);
    s_expect_cells(&table->data, table->totals, s_ga_totals);

    assert_int_equal(table->period_count, 3);
    assert_string_equal(table->periods[0].label, "current");
    assert_string_equal(table->periods[0].start, "2026-11-01");
    assert_string_equal(table->periods[2].label, "yearly");
    assert_string_equal(table->periods[2].end, "2025-11-30");
    s_expect_no_missing(table);
    assert_int_equal(table->warnings.count, 0);
    sd_msg_destroy(&msg);
}

static const expect_cell s_site_b[] = {
    ES("site", "b"),
    EI("pageviews", 2000),
    EI("previous_figure_pageviews", 2200),
    EI("previous_change_pageviews", -200),
    EF("previous_percentage_pageviews", -200.0 / 2200.0 * 100.0),
    EI("yearly_change_pageviews", 500),
    EF("yearly_percentage_pageviews", 500.0 / 1500.0 * 100.0),
    EI("users", 900),
    EF("previous_percentage_users", -10.0),
    EF("yearly_percentage_users", 200.0 / 700.0 * 100.0),
    EF("pv_per_session", 2.0),
    EF("previous_change_pv_per_session", 0.0),
    EF("previous_percentage_pv_per_session", 0.0),
    EF("avg_session_time", 1.5),
    EF("yearly_figure_avg_session_time", 60000.0 / 750.0 / 60.0),
    EF("yearly_percentage_avg_session_time", 12.5),
    EB("previous_new", false),
    EB("yearly_new", false),
    EXPECT_END,
};

static const expect_cell s_site_a[] = {
    ES("site", "a"),
    EI("pageviews", 1000),
    EI("previous_change_pageviews", 200),
    EF("previous_percentage_pageviews", 25.0),
    EF("yearly_percentage_pageviews", 100.0),
    EI("users", 400),
    EF("previous_percentage_users", 50.0 / 350.0 * 100.0),
    EF("avg_session_time", 2.0),
    EF("yearly_figure_avg_session_time", 1.0),
    EF("yearly_change_avg_session_time", 1.0),
    EF("yearly_percentage_avg_session_time", 100.0),
    EXPECT_END,
};

//  Site c's previous row is all zeros: present (not new) but a zero base.
static const expect_cell s_site_c[] = {
    ES("site", "c"),
    EI("pageviews", 500),
    EI("previous_figure_pageviews", 0),
    EI("previous_change_pageviews", 500),
    EF("previous_percentage_pageviews", 0.0),
    EF("yearly_percentage_pageviews", 100.0),
    EF("pv_per_session", 2.5),
    EF("previous_figure_pv_per_session", 0.0),
    EF("previous_change_pv_per_session", 2.5),
    EF("previous_percentage_pv_per_session", 0.0),
    EF("avg_session_time", 2.5),
    EF("yearly_percentage_avg_session_time", 150.0),
    EB("previous_new", false),
    EXPECT_END,
};

static void test_site_summary_by_users(void **state)
{
    (void)state;
    sd_msg *msg =
        s_normalize(&s_site_summary_spec, s_ga_columns, s_ga_parts, GA_PART_COUNT, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.column_count, 38);
    assert_string_equal(table->data.columns[0].name, "site");
    assert_int_equal(table->data.columns[0].kind, SD_COLUMN_DIMENSION);
    assert_int_equal(table->data.row_count, 3);
    s_expect_cells(&table->data, test_row(&table->data, 0), s_site_b);
    s_expect_cells(&table->data, test_row(&table->data, 1), s_site_a);
    s_expect_cells(&table->data, test_row(&table->data, 2), s_site_c);
    test_expect_nil(&table->data, table->totals, "site");
    s_expect_cells(&table->data, table->totals, s_ga_totals);
    s_expect_no_missing(table);
    sd_msg_destroy(&msg);
}

static void test_site_summary_limit(void **state)
{
    (void)state;
    test_spec description = s_site_summary_spec;
    description.limit = 2;
    sd_msg *msg = s_normalize(&description, s_ga_columns, s_ga_parts, GA_PART_COUNT, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 2);
    s_expect_cells(&table->data, test_row(&table->data, 0), s_site_b);
    s_expect_cells(&table->data, test_row(&table->data, 1), s_site_a);

    //  Totals still cover site c, which the limit cut.
    s_expect_cells(&table->data, table->totals, s_ga_totals);
    sd_msg_destroy(&msg);
}

static void test_row_only_in_current(void **state)
{
    (void)state;
    static const test_spec description = {
        .keys = {"pagePath", NULL},
        .sum = {"screenPageViews", NULL},
        .derived = {{"pageviews", "scale", "screenPageViews", "", 1.0, "count"}},
        .sort_column = "pageviews",
        .descending = true,
        .previous = true,
        .yearly = true,
    };
    static const test_columns columns = {"pagePath", "screenPageViews", NULL};
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 2, {{S("/x"), I(10)}, {S("/y"), I(5)}}},
        {"a", "previous", NULL, NULL, 2, {{S("/x"), I(4)}, {S("/z"), I(7)}}},
        {"a", "yearly", NULL, NULL, 0, {{S("")}}},
    };
    static const expect_cell x[] = {
        ES("pagePath", "/x"),
        EI("pageviews", 10),
        EI("previous_figure_pageviews", 4),
        EI("previous_change_pageviews", 6),
        EF("previous_percentage_pageviews", 150.0),
        EB("previous_new", false),
        EI("yearly_figure_pageviews", 0),
        EI("yearly_change_pageviews", 10),
        EF("yearly_percentage_pageviews", 0.0),
        EB("yearly_new", true),
        EXPECT_END,
    };
    static const expect_cell y[] = {
        ES("pagePath", "/y"),
        EI("pageviews", 5),
        EI("previous_figure_pageviews", 0),
        EI("previous_change_pageviews", 5),
        EF("previous_percentage_pageviews", 0.0),
        EB("previous_new", true),
        EB("yearly_new", true),
        EXPECT_END,
    };
    //  Totals are over the table's rows, so /z (previous only) is not in
    //  the previous figure.
    static const expect_cell totals[] = {
        EN("pagePath"),
        EI("pageviews", 15),
        EI("previous_figure_pageviews", 4),
        EI("previous_change_pageviews", 11),
        EF("previous_percentage_pageviews", 275.0),
        EB("previous_new", false),
        EI("yearly_figure_pageviews", 0),
        EF("yearly_percentage_pageviews", 0.0),
        EB("yearly_new", true),
        EXPECT_END,
    };
    sd_msg *msg = s_normalize(&description, columns, parts, 3, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 2);
    s_expect_cells(&table->data, test_row(&table->data, 0), x);
    s_expect_cells(&table->data, test_row(&table->data, 1), y);
    s_expect_cells(&table->data, table->totals, totals);
    assert_int_equal(table->warnings.count, 1);
    assert_string_equal(table->warnings.items[0], "no rows for site a in period yearly");
    s_expect_no_missing(table);
    sd_msg_destroy(&msg);
}

static void test_zero_base(void **state)
{
    (void)state;
    static const test_spec description = {
        .keys = {NULL},
        .sum = {"views", "likes", "subscribersGained", "subscribersLost", NULL},
        .derived = {{"views", "scale", "views", "", 1.0, "count"},
                    {"likes_per_1000_views", "ratio", "likes", "views", 1000.0, "ratio"},
                    {"subscriber_change", "difference", "subscribersGained", "subscribersLost",
                     1.0, "count"}},
        .previous = true,
        .yearly = true,
    };
    static const test_columns columns = {"views", "likes", "subscribersGained",
                                         "subscribersLost", NULL};
    static const test_part parts[] = {
        {"ch", "current", NULL, NULL, 1, {{I(10), I(2), I(30), I(10)}}},
        {"ch", "previous", NULL, NULL, 1, {{I(0), I(0), I(5), I(15)}}},
        {"ch", "yearly", NULL, NULL, 1, {{I(0), I(0), I(0), I(0)}}},
    };
    static const expect_cell row[] = {
        EI("views", 10),
        EI("previous_figure_views", 0),
        EI("previous_change_views", 10),
        EF("previous_percentage_views", 0.0),
        EF("yearly_percentage_views", 0.0),
        EF("likes_per_1000_views", 200.0),
        EF("previous_figure_likes_per_1000_views", 0.0),
        EF("previous_change_likes_per_1000_views", 200.0),
        EF("previous_percentage_likes_per_1000_views", 0.0),
        EI("subscriber_change", 20),
        EI("previous_figure_subscriber_change", -10),
        EI("previous_change_subscriber_change", 30),
        EF("previous_percentage_subscriber_change", 30.0 / -10.0 * 100.0),
        EI("yearly_figure_subscriber_change", 0),
        EF("yearly_percentage_subscriber_change", 0.0),
        EB("previous_new", false),
        EB("yearly_new", false),
        EXPECT_END,
    };
    sd_msg *msg = s_normalize(&description, columns, parts, 3, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 1);
    s_expect_cells(&table->data, test_row(&table->data, 0), row);
    s_expect_cells(&table->data, table->totals, row);
    for (size_t c = 0; c < table->data.column_count; c++) {
        const sd_value *cell = &table->data.cells[c];
        assert_true(cell->kind != SD_VALUE_FLOAT || isfinite(cell->as.f));
        assert_true(table->totals[c].kind != SD_VALUE_FLOAT || isfinite(table->totals[c].as.f));
    }
    sd_msg_destroy(&msg);
}

static void test_share_of_column(void **state)
{
    (void)state;
    static const test_spec description = {
        .keys = {"deviceCategory", NULL},
        .sum = {"totalUsers", NULL},
        .derived = {{"users", "scale", "totalUsers", "", 1.0, "count"},
                    {"user_share", "share", "totalUsers", "", 1.0, "percent"}},
        .sort_column = "users",
        .descending = true,
        .previous = true,
    };
    static const test_columns columns = {"deviceCategory", "totalUsers", NULL};
    //  Merged: current desktop 100, mobile 90, tablet 10 (total 200);
    //  previous desktop 80, mobile 120 (total 200).
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 3,
         {{S("desktop"), I(60)}, {S("mobile"), I(30)}, {S("tablet"), I(10)}}},
        {"b", "current", NULL, NULL, 2, {{S("desktop"), I(40)}, {S("mobile"), I(60)}}},
        {"a", "previous", NULL, NULL, 2, {{S("desktop"), I(50)}, {S("mobile"), I(50)}}},
        {"b", "previous", NULL, NULL, 2, {{S("desktop"), I(30)}, {S("mobile"), I(70)}}},
    };
    static const expect_cell desktop[] = {
        ES("deviceCategory", "desktop"),
        EI("users", 100),
        EF("previous_percentage_users", 25.0),
        EF("user_share", 50.0),
        EF("previous_figure_user_share", 40.0),
        EF("previous_change_user_share", 10.0),
        EF("previous_percentage_user_share", 25.0),
        EXPECT_END,
    };
    static const expect_cell mobile[] = {
        ES("deviceCategory", "mobile"),
        EI("users", 90),
        EI("previous_change_users", -30),
        EF("previous_percentage_users", -25.0),
        EF("user_share", 45.0),
        EF("previous_figure_user_share", 60.0),
        EF("previous_percentage_user_share", -25.0),
        EXPECT_END,
    };
    static const expect_cell tablet[] = {
        ES("deviceCategory", "tablet"),
        EI("users", 10),
        EF("user_share", 5.0),
        EF("previous_figure_user_share", 0.0),
        EF("previous_change_user_share", 5.0),
        EB("previous_new", true),
        EXPECT_END,
    };
    static const expect_cell totals[] = {
        EI("users", 200),
        EI("previous_figure_users", 200),
        EF("user_share", 100.0),
        EF("previous_figure_user_share", 100.0),
        EF("previous_change_user_share", 0.0),
        EB("previous_new", false),
        EXPECT_END,
    };
    sd_msg *msg = s_normalize(&description, columns, parts, 4, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    //  1 key + 2 metrics x (1 + 3) + 1 flag: no yearly columns.
    assert_int_equal(table->data.column_count, 10);
    assert_int_equal(sd_table_data_column(&table->data, "yearly_new"), -1);
    assert_int_equal(table->data.row_count, 3);
    s_expect_cells(&table->data, test_row(&table->data, 0), desktop);
    s_expect_cells(&table->data, test_row(&table->data, 1), mobile);
    s_expect_cells(&table->data, test_row(&table->data, 2), tablet);
    s_expect_cells(&table->data, table->totals, totals);
    sd_msg_destroy(&msg);
}

static void test_float_and_overflow_sums(void **state)
{
    (void)state;
    static const test_spec description = {
        .keys = {"site", NULL},
        .sum = {"screenPageViews", NULL},
        .derived = {{"pageviews", "scale", "screenPageViews", "", 1.0, "count"}},
        .sort_column = "site",
    };
    static const test_columns columns = {"screenPageViews", NULL};
    //  Site a's rows add up as floats (1.5 + 2); site b's would overflow
    //  int64 and become a float.
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 2, {{F(1.5)}, {I(2)}}},
        {"b", "current", NULL, NULL, 2, {{I(INT64_MAX)}, {I(1)}}},
    };
    sd_msg *msg = s_normalize(&description, columns, parts, 2, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 2);
    test_expect_float(&table->data, test_row(&table->data, 0), "pageviews", 3.5);
    test_expect_float(&table->data, test_row(&table->data, 1), "pageviews",
                      (double)INT64_MAX + 1.0);
    sd_msg_destroy(&msg);
}

static void test_site_without_rows(void **state)
{
    (void)state;
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 1, {{I(1000), I(400), I(500), I(60000)}}},
        {"a", "previous", NULL, NULL, 1, {{I(800), I(350), I(400), I(48000)}}},
        {"a", "yearly", NULL, NULL, 1, {{I(500), I(200), I(250), I(15000)}}},
        {"b", "current", NULL, NULL, 0, {{I(0)}}},
        {"b", "previous", NULL, NULL, 1, {{I(2200), I(1000), I(1100), I(99000)}}},
        {"b", "yearly", NULL, "sampled data", 1, {{I(1500), I(700), I(750), I(60000)}}},
    };
    sd_msg *msg = s_normalize(&s_site_summary_spec, s_ga_columns, parts, 6, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 1);
    s_expect_cells(&table->data, test_row(&table->data, 0), s_site_a);
    test_expect_int(&table->data, table->totals, "pageviews", 1000);
    test_expect_int(&table->data, table->totals, "previous_figure_pageviews", 800);
    s_expect_no_missing(table);
    assert_int_equal(table->warnings.count, 2);
    assert_string_equal(table->warnings.items[0], "no rows for site b in period current");
    assert_string_equal(table->warnings.items[1], "sampled data");
    sd_msg_destroy(&msg);
}

static void test_error_part(void **state)
{
    (void)state;
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 1, {{I(1000), I(400), I(500), I(60000)}}},
        {"a", "previous", NULL, NULL, 1, {{I(800), I(350), I(400), I(48000)}}},
        {"a", "yearly", NULL, NULL, 1, {{I(500), I(200), I(250), I(15000)}}},
        {"b", "current", NULL, NULL, 1, {{I(2000), I(900), I(1000), I(90000)}}},
        {"b", "previous", "HTTP 403: the caller does not have permission", NULL, 0, {{I(0)}}},
        {"b", "yearly", NULL, NULL, 1, {{I(1500), I(700), I(750), I(60000)}}},
    };
    static const expect_cell b[] = {
        ES("site", "b"),
        EI("pageviews", 2000),
        EI("previous_figure_pageviews", 0),
        EI("previous_change_pageviews", 2000),
        EF("previous_percentage_pageviews", 0.0),
        EB("previous_new", true),
        EI("yearly_figure_pageviews", 1500),
        EB("yearly_new", false),
        EXPECT_END,
    };
    sd_msg *msg = s_normalize(&s_site_summary_spec, s_ga_columns, parts, 6, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 2);
    s_expect_cells(&table->data, test_row(&table->data, 0), b);
    s_expect_cells(&table->data, test_row(&table->data, 1), s_site_a);
    test_expect_int(&table->data, table->totals, "previous_figure_pageviews", 800);
    assert_int_equal(table->missing_count, 1);
    s_expect_missing(table, 0, "b", "previous", "HTTP 403: the caller does not have permission");
    assert_int_equal(table->warnings.count, 0);
    sd_msg_destroy(&msg);
}

static void test_missing_at_deadline(void **state)
{
    (void)state;
    //  b/previous never comes, and site c (expected: 9 parts) sends none.
    static const size_t order[] = {0, 1, 2, 3, 5};
    sd_msg *msg = s_normalize(&s_site_summary_spec, s_ga_columns, s_ga_parts, 5, order, 9);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 2);
    assert_int_equal(table->missing_count, 4);
    s_expect_missing(table, 0, "", "", "");
    s_expect_missing(table, 1, "", "", "");
    s_expect_missing(table, 2, "", "", "");
    s_expect_missing(table, 3, "b", "previous", "");
    assert_int_equal(table->warnings.count, 1);
    assert_string_equal(table->warnings.items[0],
                        "3 of 9 expected parts never arrived, from sites that sent no part");
    sd_msg_destroy(&msg);

    //  With 6 expected, only b/previous is missing.
    msg = s_normalize(&s_site_summary_spec, s_ga_columns, s_ga_parts, 5, order, 6);
    table = &msg->as.table_normalized;
    assert_int_equal(table->missing_count, 1);
    s_expect_missing(table, 0, "b", "previous", "");
    assert_int_equal(table->warnings.count, 0);
    sd_msg_destroy(&msg);
}

static void test_duplicate_part(void **state)
{
    (void)state;
    static const test_part second = {"a", "current", NULL, NULL, 1,
                                     {{I(7), I(7), I(7), I(7)}}};
    sd_table_spec spec;
    test_spec_build(&s_summary_spec, &spec);
    sd_msg *first = test_part_build(&spec, s_ga_columns, &s_ga_parts[0], "r1", "t1", 2, 0);
    sd_msg *again = test_part_build(&spec, s_ga_columns, &s_ga_parts[0], "r1", "t1", 2, 0);
    sd_msg *changed = test_part_build(&spec, s_ga_columns, &second, "r1", "t1", 2, 0);
    sd_normalize *normalize = sd_normalize_new(&first->as.table_raw);
    assert_non_null(normalize);
    assert_int_equal(sd_normalize_add(normalize, &first->as.table_raw, NULL, 0),
                     SD_NORMALIZE_ADDED);
    assert_int_equal(sd_normalize_add(normalize, &again->as.table_raw, NULL, 0),
                     SD_NORMALIZE_DUPLICATE);
    assert_int_equal(sd_normalize_add(normalize, &changed->as.table_raw, NULL, 0),
                     SD_NORMALIZE_DUPLICATE);
    assert_int_equal(sd_normalize_received(normalize), 1);
    assert_false(sd_normalize_complete(normalize));

    sd_msg *msg = sd_normalize_finish(normalize);
    assert_non_null(msg);
    const sd_table_data *data = &msg->as.table_normalized.data;
    test_expect_int(data, test_row(data, 0), "pageviews", 1000);
    test_expect_int(data, test_row(data, 0), "sessions", 500);
    sd_msg_destroy(&msg);
    sd_msg_destroy(&first);
    sd_msg_destroy(&again);
    sd_msg_destroy(&changed);
    sd_normalize_destroy(&normalize);
    sd_table_spec_clear(&spec);
}

static void test_rejected_parts(void **state)
{
    (void)state;
    static const test_columns without_sessions = {"screenPageViews", "totalUsers",
                                                  "userEngagementDuration", NULL};
    static const test_part bad_label = {"b", "weekly", NULL, NULL, 1,
                                        {{I(1), I(1), I(1), I(1)}}};
    static const test_part not_a_number = {"c", "current", NULL, NULL, 1,
                                           {{I(1), S("many"), I(1), I(1)}}};
    sd_table_spec spec;
    test_spec_build(&s_summary_spec, &spec);
    sd_msg *parts[] = {
        test_part_build(&spec, without_sessions, &s_ga_parts[0], "r1", "t1", 3, 0),
        test_part_build(&spec, s_ga_columns, &bad_label, "r1", "t1", 3, 0),
        test_part_build(&spec, s_ga_columns, &not_a_number, "r1", "t1", 3, 0),
    };
    static const char *reasons[] = {
        "metric column \"sessions\" is missing from the part",
        "period label \"weekly\" is not current, previous or yearly",
        "metric \"totalUsers\" in row 0 is not a finite number",
    };
    sd_normalize *normalize = sd_normalize_new(&parts[0]->as.table_raw);
    assert_non_null(normalize);
    for (size_t i = 0; i < 3; i++) {
        char reason[256] = "";
        assert_int_equal(sd_normalize_add(normalize, &parts[i]->as.table_raw, reason,
                                          sizeof reason),
                         SD_NORMALIZE_REJECTED);
        assert_string_equal(reason, reasons[i]);
    }
    assert_true(sd_normalize_complete(normalize));

    sd_msg *msg = sd_normalize_finish(normalize);
    assert_non_null(msg);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 0);
    test_expect_int(&table->data, table->totals, "pageviews", 0);
    test_expect_bool(&table->data, table->totals, "previous_new", true);
    assert_int_equal(table->missing_count, 3);
    s_expect_missing(table, 0, "a", "current", reasons[0]);
    s_expect_missing(table, 1, "b", "weekly", reasons[1]);
    s_expect_missing(table, 2, "c", "current", reasons[2]);
    sd_msg_destroy(&msg);
    for (size_t i = 0; i < 3; i++)
        sd_msg_destroy(&parts[i]);
    sd_normalize_destroy(&normalize);
    sd_table_spec_clear(&spec);
}

static void test_unknown_rule_ignored(void **state)
{
    (void)state;
    test_spec description = s_summary_spec;
    description.rules[0] = (test_rule){"no_such_rule", {"x", NULL}};
    sd_msg *msg = s_normalize(&description, s_ga_columns, s_ga_parts, GA_PART_COUNT, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 1);
    s_expect_cells(&table->data, test_row(&table->data, 0), s_ga_totals);
    assert_int_equal(table->warnings.count, 1);
    assert_non_null(strstr(table->warnings.items[0], "unknown rule \"no_such_rule\" ignored"));
    sd_msg_destroy(&msg);
}

static void test_ties_broken_by_keys(void **state)
{
    (void)state;
    static const test_spec description = {
        .keys = {"page", NULL},
        .sum = {"views", NULL},
        .derived = {{"views", "scale", "views", "", 1.0, "count"}},
        .sort_column = "views",
        .descending = true,
    };
    static const test_columns columns = {"page", "views", NULL};
    //  "ab" and "a" tie with "b" on 5 views: keys ascending, "a" before "ab".
    static const test_part parts[] = {
        {"s", "current", NULL, NULL, 4, {{S("b"), I(5)}, {S("ab"), I(5)}, {S("c"), I(7)},
                                         {S("a"), I(5)}}},
    };
    static const char *expected[] = {"c", "a", "ab", "b"};
    sd_msg *msg = s_normalize(&description, columns, parts, 1, NULL, 0);
    const sd_table_data *data = &msg->as.table_normalized.data;
    assert_int_equal(data->row_count, 4);
    for (size_t r = 0; r < 4; r++)
        test_expect_string(data, test_row(data, r), "page", expected[r]);
    sd_msg_destroy(&msg);

    //  A limit keeps the first rows of the same order.
    for (int64_t limit = 1; limit <= 3; limit++) {
        test_spec limited = description;
        limited.limit = limit;
        msg = s_normalize(&limited, columns, parts, 1, NULL, 0);
        data = &msg->as.table_normalized.data;
        assert_int_equal(data->row_count, (size_t)limit);
        for (size_t r = 0; r < (size_t)limit; r++)
            test_expect_string(data, test_row(data, r), "page", expected[r]);
        sd_msg_destroy(&msg);
    }
}

//  A daily report on 29 February 2024 compares with 28 February 2023:
//  the parts carry those dates, and they merge like any others.
static void test_leap_day_yearly(void **state)
{
    (void)state;
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 1, {{I(1000), I(400), I(500), I(60000)}}},
        {"a", "yearly", NULL, NULL, 1, {{I(500), I(200), I(250), I(15000)}}},
        {"b", "yearly", NULL, NULL, 1, {{I(1500), I(700), I(750), I(60000)}}},
        {"b", "current", NULL, NULL, 1, {{I(2000), I(900), I(1000), I(90000)}}},
    };
    test_spec description = s_site_summary_spec;
    description.previous = false;
    sd_table_spec spec;
    test_spec_build(&description, &spec);
    sd_normalize *normalize = NULL;
    for (size_t i = 0; i < 4; i++) {
        sd_msg *raw = test_part_build(&spec, s_ga_columns, &parts[i], "r1", "t1", 4, 0);
        sd_period *period = &raw->as.table_raw.period;
        const char *date = strcmp(period->label, "current") == 0 ? "2024-02-29" : "2023-02-28";
        free(period->start);
        free(period->end);
        period->start = strdup(date);
        period->end = strdup(date);
        assert_non_null(period->start);
        assert_non_null(period->end);
        if (!normalize)
            normalize = sd_normalize_new(&raw->as.table_raw);
        assert_non_null(normalize);
        assert_int_equal(sd_normalize_add(normalize, &raw->as.table_raw, NULL, 0),
                         SD_NORMALIZE_ADDED);
        sd_msg_destroy(&raw);
    }
    sd_msg *msg = sd_normalize_finish(normalize);
    assert_non_null(msg);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->period_count, 2);
    assert_string_equal(table->periods[0].label, "current");
    assert_string_equal(table->periods[0].start, "2024-02-29");
    assert_string_equal(table->periods[0].end, "2024-02-29");
    assert_string_equal(table->periods[1].label, "yearly");
    assert_string_equal(table->periods[1].start, "2023-02-28");
    assert_string_equal(table->periods[1].end, "2023-02-28");

    assert_int_equal(table->data.row_count, 2);
    const sd_value *b = test_row(&table->data, 0);
    test_expect_string(&table->data, b, "site", "b");
    test_expect_int(&table->data, b, "yearly_figure_pageviews", 1500);
    test_expect_int(&table->data, b, "yearly_change_pageviews", 500);
    test_expect_bool(&table->data, b, "yearly_new", false);
    const sd_value *a = test_row(&table->data, 1);
    test_expect_string(&table->data, a, "site", "a");
    test_expect_int(&table->data, a, "yearly_figure_pageviews", 500);
    test_expect_float(&table->data, a, "yearly_percentage_pageviews", 100.0);
    test_expect_int(&table->data, table->totals, "yearly_figure_users", 900);
    assert_int_equal(sd_table_data_column(&table->data, "previous_new"), -1);
    s_expect_no_missing(table);
    sd_msg_destroy(&msg);
    sd_normalize_destroy(&normalize);
    sd_table_spec_clear(&spec);
}

static const test_spec s_article_spec = {
    .keys = {"site", "pagePath", NULL},
    .sum = {"screenPageViews", NULL},
    .derived = {{"pageviews", "scale", "screenPageViews", "", 1.0, "count"}},
    .sort_column = "pageviews",
    .descending = true,
    .previous = true,
    .yearly = true,
};
static const test_columns s_article_columns = {"pagePath", "screenPageViews", NULL};

//  Site b sends every period with no rows: it adds no row and is not
//  missing, but each empty part gets a warning.
static void test_site_with_no_rows(void **state)
{
    (void)state;
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 2, {{S("/x"), I(7)}, {S("/y"), I(3)}}},
        {"a", "previous", NULL, NULL, 1, {{S("/x"), I(5)}}},
        {"a", "yearly", NULL, NULL, 1, {{S("/y"), I(1)}}},
        {"b", "current", NULL, NULL, 0, {{S("")}}},
        {"b", "previous", NULL, NULL, 0, {{S("")}}},
        {"b", "yearly", NULL, NULL, 0, {{S("")}}},
    };
    sd_msg *msg = s_normalize(&s_article_spec, s_article_columns, parts, 6, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 2);
    test_expect_string(&table->data, test_row(&table->data, 0), "pagePath", "/x");
    test_expect_string(&table->data, test_row(&table->data, 0), "site", "a");
    test_expect_string(&table->data, test_row(&table->data, 1), "pagePath", "/y");
    test_expect_int(&table->data, table->totals, "pageviews", 10);
    s_expect_no_missing(table);
    assert_int_equal(table->warnings.count, 3);
    assert_string_equal(table->warnings.items[0], "no rows for site b in period current");
    assert_string_equal(table->warnings.items[1], "no rows for site b in period previous");
    assert_string_equal(table->warnings.items[2], "no rows for site b in period yearly");
    sd_msg_destroy(&msg);
}

//  A path seen only last year is not a row of the table, and its
//  pageviews are not in the yearly totals.
static void test_row_only_last_year(void **state)
{
    (void)state;
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 1, {{S("/a"), I(5)}}},
        {"a", "previous", NULL, NULL, 1, {{S("/a"), I(4)}}},
        {"a", "yearly", NULL, NULL, 2, {{S("/a"), I(2)}, {S("/old"), I(9)}}},
    };
    static const expect_cell row[] = {
        ES("pagePath", "/a"),
        EI("pageviews", 5),
        EI("yearly_figure_pageviews", 2),
        EI("yearly_change_pageviews", 3),
        EF("yearly_percentage_pageviews", 150.0),
        EB("yearly_new", false),
        EXPECT_END,
    };
    sd_msg *msg = s_normalize(&s_article_spec, s_article_columns, parts, 3, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 1);
    s_expect_cells(&table->data, test_row(&table->data, 0), row);
    test_expect_int(&table->data, table->totals, "yearly_figure_pageviews", 2);
    test_expect_int(&table->data, table->totals, "yearly_change_pageviews", 3);
    sd_msg_destroy(&msg);
}

//  A zero figure in a period where the row exists is a zero base, not a
//  new row. A period without the row gives figure 0 and new. Both keep
//  integers and give percentage 0.
static void test_zero_base_and_new_row(void **state)
{
    (void)state;
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 1, {{S("/x"), I(4)}}},
        {"a", "previous", NULL, NULL, 1, {{S("/x"), I(0)}}},
        {"a", "yearly", NULL, NULL, 1, {{S("/other"), I(3)}}},
    };
    static const expect_cell row[] = {
        EI("pageviews", 4),
        EI("previous_figure_pageviews", 0),
        EI("previous_change_pageviews", 4),
        EF("previous_percentage_pageviews", 0.0),
        EB("previous_new", false),
        EI("yearly_figure_pageviews", 0),
        EI("yearly_change_pageviews", 4),
        EF("yearly_percentage_pageviews", 0.0),
        EB("yearly_new", true),
        EXPECT_END,
    };
    sd_msg *msg = s_normalize(&s_article_spec, s_article_columns, parts, 3, NULL, 0);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 1);
    s_expect_cells(&table->data, test_row(&table->data, 0), row);
    s_expect_cells(&table->data, table->totals, row);
    sd_msg_destroy(&msg);
}

//  Keys are compared as bytes: precomposed "\u00e9", "e" + U+0301, "\u00c9",
//  "E" and "e" are five rows, and only the decomposed one matches the
//  previous period's decomposed key.
static void test_unicode_keys_distinct(void **state)
{
    (void)state;
    static const test_part parts[] = {
        {"a", "current", NULL, NULL, 5,
         {{S("caf\xc3\xa9"), I(5)}, {S("cafe\xcc\x81"), I(4)}, {S("CAF\xc3\x89"), I(3)},
          {S("CAFE"), I(2)}, {S("cafe"), I(1)}}},
        {"a", "previous", NULL, NULL, 1, {{S("cafe\xcc\x81"), I(7)}}},
    };
    static const char *expected[] = {"caf\xc3\xa9", "cafe\xcc\x81", "CAF\xc3\x89", "CAFE",
                                     "cafe"};
    test_spec description = s_article_spec;
    description.yearly = false;
    sd_msg *msg = s_normalize(&description, s_article_columns, parts, 2, NULL, 0);
    const sd_table_data *data = &msg->as.table_normalized.data;
    assert_int_equal(data->row_count, 5);
    for (size_t r = 0; r < 5; r++) {
        const sd_value *cells = test_row(data, r);
        test_expect_string(data, cells, "pagePath", expected[r]);
        test_expect_int(data, cells, "pageviews", 5 - (int64_t)r);
        test_expect_bool(data, cells, "previous_new", r != 1);
        test_expect_int(data, cells, "previous_figure_pageviews", r == 1 ? 7 : 0);
    }
    sd_msg_destroy(&msg);
}

//  A table large enough for the big allocations: 70,000 paths need a slot
//  table over 2 MiB and several full arena chunks. Path i has i pageviews
//  now and 2i before when i is even.
static void test_large_table(void **state)
{
    (void)state;
    enum { PATHS = 70000 };
    sd_table_spec spec;
    test_spec description = s_article_spec;
    description.yearly = false;
    description.limit = 3;
    test_spec_build(&description, &spec);
    static const sd_column columns[] = {{"pagePath", SD_COLUMN_DIMENSION, ""},
                                        {"screenPageViews", SD_COLUMN_METRIC, ""}};
    sd_normalize *normalize = NULL;
    for (int period = 0; period < 2; period++) {
        static const test_part shape[] = {{"a", "current", NULL, NULL, 0, {{S("")}}},
                                          {"a", "previous", NULL, NULL, 0, {{S("")}}}};
        sd_msg *raw = test_part_build(&spec, s_article_columns, &shape[period], "r1", "t1", 2, 0);
        sd_table_data *data = &raw->as.table_raw.data;
        sd_table_data_clear(data);
        assert_int_equal(sd_table_data_init(data, columns, 2, PATHS), 0);
        for (int64_t i = 0; i < PATHS; i++) {
            if (period == 1 && i % 2 != 0)
                continue;
            char path[32];
            snprintf(path, sizeof path, "/article/%" PRId64, i);
            sd_value *cells = sd_table_data_append_row(data);
            assert_non_null(cells);
            assert_int_equal(sd_value_set_string(&cells[0], path, strlen(path)), 0);
            cells[1] = (sd_value){.kind = SD_VALUE_INT, .as.i = period == 0 ? i : 2 * i};
        }
        if (!normalize)
            normalize = sd_normalize_new(&raw->as.table_raw);
        assert_non_null(normalize);
        assert_int_equal(sd_normalize_add(normalize, &raw->as.table_raw, NULL, 0),
                         SD_NORMALIZE_ADDED);
        sd_msg_destroy(&raw);
    }

    sd_msg *msg = sd_normalize_finish(normalize);
    assert_non_null(msg);
    const sd_table_normalized *table = &msg->as.table_normalized;
    assert_int_equal(table->data.row_count, 3);
    static const char *expected[] = {"/article/69999", "/article/69998", "/article/69997"};
    for (size_t r = 0; r < 3; r++) {
        const sd_value *cells = test_row(&table->data, r);
        test_expect_string(&table->data, cells, "pagePath", expected[r]);
        test_expect_int(&table->data, cells, "pageviews", PATHS - 1 - (int64_t)r);
        test_expect_bool(&table->data, cells, "previous_new", r % 2 == 0);
    }
    test_expect_int(&table->data, test_row(&table->data, 1), "previous_figure_pageviews",
                    2 * 69998);

    //  Sums of 0..69999, and of 2i over the even i (2 x 2 x the sum of
    //  0..34999).
    test_expect_int(&table->data, table->totals, "pageviews", (int64_t)PATHS * (PATHS - 1) / 2);
    test_expect_int(&table->data, table->totals, "previous_figure_pageviews",
                    4 * ((int64_t)35000 * 34999 / 2));
    sd_msg_destroy(&msg);
    sd_normalize_destroy(&normalize);
    sd_table_spec_clear(&spec);
}

//  Shuffles order with a fixed linear congruential generator, so every
//  run tries the same orders.
static void s_shuffle(size_t *order, size_t count, uint32_t seed)
{
    for (size_t i = count - 1; i > 0; i--) {
        seed = seed * 1664525u + 1013904223u;
        size_t j = (seed >> 8) % (i + 1);
        size_t swapped = order[i];
        order[i] = order[j];
        order[j] = swapped;
    }
}

static void test_any_order_same_table(void **state)
{
    (void)state;
    //  The inputs mix floats (whose sums differ in the last bits between
    //  orders), keys new in one comparison, an error part and an empty one.
    static const test_part parts[] = {
        {"a", "current", NULL, "w1", 2, {{S("x"), F(10.25)}, {S("y"), I(3)}}},
        {"a", "previous", NULL, NULL, 1, {{S("x"), I(4)}}},
        {"a", "yearly", NULL, NULL, 1, {{S("y"), F(0.1)}}},
        {"b", "current", NULL, NULL, 2, {{S("x"), F(0.7)}, {S("z"), I(9)}}},
        {"b", "previous", NULL, "w2", 2, {{S("x"), F(1.3)}, {S("z"), I(2)}}},
        {"b", "yearly", "HTTP 500", NULL, 0, {{I(0)}}},
        {"c", "current", NULL, NULL, 1, {{S("y"), F(2.2)}}},
        {"c", "previous", NULL, NULL, 0, {{I(0)}}},
        {"c", "yearly", NULL, NULL, 1, {{S("x"), F(3.3)}}},
    };
    static const test_spec description = {
        .keys = {"page", NULL},
        .sum = {"views", NULL},
        .derived = {{"views", "scale", "views", "", 1.0, "count"},
                    {"view_share", "share", "views", "", 1.0, "percent"}},
        .sort_column = "views",
        .descending = true,
        .previous = true,
        .yearly = true,
    };
    static const test_columns columns = {"page", "views", NULL};
    size_t order[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    sd_msg *reference = s_normalize(&description, columns, parts, 9, order, 0);
    assert_int_equal(reference->as.table_normalized.data.row_count, 3);
    assert_int_equal(reference->as.table_normalized.missing_count, 1);

    for (uint32_t seed = 1; seed <= 40; seed++) {
        s_shuffle(order, 9, seed);
        sd_msg *shuffled = s_normalize(&description, columns, parts, 9, order, 0);
        test_expect_same_table(&reference->as.table_normalized,
                               &shuffled->as.table_normalized);
        sd_msg_destroy(&shuffled);
    }
    sd_msg_destroy(&reference);
}

int main(int argc, char *argv[])
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_three_sites),
        cmocka_unit_test(test_site_summary_by_users),
        cmocka_unit_test(test_site_summary_limit),
        cmocka_unit_test(test_row_only_in_current),
        cmocka_unit_test(test_zero_base),
        cmocka_unit_test(test_share_of_column),
        cmocka_unit_test(test_float_and_overflow_sums),
        cmocka_unit_test(test_site_without_rows),
        cmocka_unit_test(test_error_part),
        cmocka_unit_test(test_missing_at_deadline),
        cmocka_unit_test(test_duplicate_part),
        cmocka_unit_test(test_rejected_parts),
        cmocka_unit_test(test_unknown_rule_ignored),
        cmocka_unit_test(test_ties_broken_by_keys),
        cmocka_unit_test(test_any_order_same_table),
        cmocka_unit_test(test_leap_day_yearly),
        cmocka_unit_test(test_site_with_no_rows),
        cmocka_unit_test(test_row_only_last_year),
        cmocka_unit_test(test_zero_base_and_new_row),
        cmocka_unit_test(test_unicode_keys_distinct),
        cmocka_unit_test(test_large_table),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("aggregator_normalize", tests, NULL, NULL);
}
