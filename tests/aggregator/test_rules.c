/*  Tests of the post-processing rules (sd_rules, sd_titles, sd_matrix,
    sd_entities): raw parts in, normalized rows out.

    Each table case lists its parts and the rows expected after merging,
    worked out by hand: the current pageviews, the previous figure and
    whether the row is new in the previous period. Every case is merged
    twice, with the parts in the listed and in the reverse order.

    Usage: test_rules [TEST-NAME]   (runs every test without a name)
*/
#include "sd_entities.h"
#include "sd_normalize.h"
#include "sd_rules.h"

#include "test_parts.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

//  ---------------------------------------------------------------------
//  The table-driven harness

typedef struct {
    const char *keys[2];            //  expected key strings, NULL past the last key
    int64_t pageviews;
    int64_t previous;               //  previous_figure_pageviews
    bool previous_new;
} expect_row;

typedef struct {
    const char *name;
    const char *keys[3];            //  NULL-terminated
    test_rule rules[TEST_MAX_RULES];
    test_columns columns;
    test_part parts[4];
    size_t part_count;
    expect_row rows[8];
    size_t row_count;
    const char *warning;            //  text the only warning contains, or NULL for none
} rule_case;

#define PAGEVIEWS {{"pageviews", "scale", "screenPageViews", "", 1.0, "count"}}

static sd_msg *s_merge(const rule_case *c, bool reverse)
{
    test_spec description = {.sum = {"screenPageViews", NULL},
                             .derived = PAGEVIEWS,
                             .sort_column = "pageviews",
                             .descending = true,
                             .previous = true};
    memcpy(description.keys, c->keys, sizeof description.keys);
    memcpy(description.rules, c->rules, sizeof description.rules);
    sd_table_spec spec;
    test_spec_build(&description, &spec);

    sd_normalize *state = NULL;
    for (size_t i = 0; i < c->part_count; i++) {
        const test_part *part = &c->parts[reverse ? c->part_count - 1 - i : i];
        sd_msg *raw = test_part_build(&spec, c->columns, part, "r1", "t1",
                                      (int64_t)c->part_count, 0);
        if (!state)
            state = sd_normalize_new(&raw->as.table_raw);
        assert_non_null(state);
        assert_int_equal(sd_normalize_add(state, &raw->as.table_raw, NULL, 0),
                         SD_NORMALIZE_ADDED);
        sd_msg_destroy(&raw);
    }
    sd_msg *msg = sd_normalize_finish(state);
    assert_non_null(msg);
    sd_normalize_destroy(&state);
    sd_table_spec_clear(&spec);
    return msg;
}

static void s_expect_rows(const rule_case *c, const sd_table_normalized *table)
{
    const sd_table_data *data = &table->data;
    if (data->row_count != c->row_count)
        fail_msg("case %s: %zu rows, expected %zu", c->name, data->row_count, c->row_count);
    for (size_t r = 0; r < c->row_count; r++) {
        const expect_row *expected = &c->rows[r];
        const sd_value *cells = test_row(data, r);
        for (size_t k = 0; k < 2 && c->keys[k]; k++)
            test_expect_string(data, cells, c->keys[k], expected->keys[k]);
        test_expect_int(data, cells, "pageviews", expected->pageviews);
        test_expect_int(data, cells, "previous_figure_pageviews", expected->previous);
        test_expect_bool(data, cells, "previous_new", expected->previous_new);
    }
}

static void s_expect_warning(const rule_case *c, const sd_table_normalized *table)
{
    if (!c->warning) {
        assert_int_equal(table->warnings.count, 0);
        return;
    }
    assert_int_equal(table->warnings.count, 1);
    if (!strstr(table->warnings.items[0], c->warning))
        fail_msg("case %s: warning \"%s\" lacks \"%s\"", c->name, table->warnings.items[0],
                 c->warning);
}

static void s_run_cases(const rule_case *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        for (int reverse = 0; reverse <= 1; reverse++) {
            sd_msg *msg = s_merge(&cases[i], reverse);
            s_expect_rows(&cases[i], &msg->as.table_normalized);
            s_expect_warning(&cases[i], &msg->as.table_normalized);
            sd_msg_destroy(&msg);
        }
    }
}

#define CASE_COUNT(cases) (sizeof(cases) / sizeof((cases)[0]))

//  ---------------------------------------------------------------------
//  One test per rule

static void test_strip_query(void **state)
{
    (void)state;
    static const rule_case cases[] = {
        {"query strings merge", {"pagePath", NULL}, {{"strip_query", {"pagePath", NULL}}},
         {"pagePath", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 4,
           {{S("/a?x=1"), I(5)}, {S("/a?y=2"), I(3)}, {S("/b"), I(4)}, {S("/a"), I(1)}}},
          {"a", "previous", NULL, NULL, 1, {{S("/a?z"), I(2)}}}},
         2,
         //  /a: 5 + 3 + 1 now, 2 before; /b only now.
         {{{"/a"}, 9, 2, false}, {{"/b"}, 4, 0, true}},
         2,
         NULL},
        {"a lone question mark and an empty path", {"pagePath", NULL},
         {{"strip_query", {"pagePath", NULL}}},
         {"pagePath", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 3, {{S("?q"), I(2)}, {S(""), I(1)}, {S("/c??d"), I(6)}}}},
         1,
         {{{"/c"}, 6, 0, true}, {{""}, 3, 0, true}},
         2,
         NULL},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

static void test_path_blacklist(void **state)
{
    (void)state;
    //  The configuration's defaults, plus an unanchored pattern and one
    //  whose last literal is optional ("^/tags?/" also matches "/tag/").
    static const rule_case cases[] = {
        {"default patterns", {"pagePath", NULL},
         {{"path_blacklist",
           {"pagePath", "^/$", "^/page/[0-9]+/?$", "^/\\?", "^/forum", "^/login\\.php",
            "^/cookies\\.php", "\\.xml$", "^/tags?/", NULL}}},
         {"pagePath", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 6,
           {{S("/"), I(50)}, {S("/page/2"), I(40)}, {S("/page/2/"), I(30)}, {S("/?s=x"), I(20)},
            {S("/forum/thread"), I(10)}, {S("/login.php?next=/"), I(9)}}},
          {"b", "current", NULL, NULL, 7,
           {{S("/cookies.php"), I(8)}, {S("/news/forum"), I(7)}, {S("/page/two"), I(6)},
            {S("/article"), I(5)}, {S("/feed.xml"), I(4)}, {S("/tag/x"), I(3)},
            {S("/tags/y"), I(2)}}}},
         2,
         {{{"/news/forum"}, 7, 0, true}, {{"/page/two"}, 6, 0, true}, {{"/article"}, 5, 0, true}},
         3,
         NULL},
        //  The blacklist matches the query string even when strip_query is
        //  listed first, so "/?s=x" is dropped and "/a?b" becomes "/a".
        {"runs before strip_query", {"pagePath", NULL},
         {{"strip_query", {"pagePath", NULL}}, {"path_blacklist", {"pagePath", "^/\\?", NULL}}},
         {"pagePath", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 2, {{S("/?s=x"), I(5)}, {S("/a?b"), I(3)}}}},
         1,
         {{{"/a"}, 3, 0, true}},
         1,
         NULL},
        {"invalid pattern keeps every row", {"pagePath", NULL},
         {{"path_blacklist", {"pagePath", "^/$", "(", NULL}}},
         {"pagePath", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 2, {{S("/"), I(5)}, {S("/a"), I(3)}}}},
         1,
         {{{"/"}, 5, 0, true}, {{"/a"}, 3, 0, true}},
         2,
         "rule path_blacklist ignored: \"(\" is not a valid POSIX extended regular expression"},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

static void test_value_blacklist(void **state)
{
    (void)state;
    //  Byte comparison: "Google" and "google " are other sources.
    static const rule_case cases[] = {
        {"sources", {"sessionSource", NULL},
         {{"value_blacklist", {"sessionSource", "google", "(direct)", NULL}}},
         {"sessionSource", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 5,
           {{S("google"), I(10)}, {S("(direct)"), I(9)}, {S("bing"), I(8)}, {S("Google"), I(7)},
            {S("google "), I(6)}}},
          {"a", "previous", NULL, NULL, 2, {{S("google"), I(99)}, {S("bing"), I(4)}}}},
         2,
         {{{"bing"}, 8, 4, false}, {{"Google"}, 7, 0, true}, {{"google "}, 6, 0, true}},
         3,
         NULL},
        {"column that is not a key", {"sessionSource", NULL},
         {{"value_blacklist", {"sessionMedium", "google", NULL}}},
         {"sessionSource", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 1, {{S("google"), I(10)}}}},
         1,
         {{{"google"}, 10, 0, true}},
         1,
         "rule value_blacklist ignored: argument 1 \"sessionMedium\" is not a key of the table"},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

static void test_map_values(void **state)
{
    (void)state;
    static const rule_case cases[] = {
        {"sources to networks", {"sessionSource", NULL},
         {{"map_values",
           {"sessionSource", "facebook.com", "Facebook", "m.facebook.com", "Facebook", "t.co",
            "Twitter", NULL}}},
         {"sessionSource", "screenPageViews", NULL},
         //  bing and "Facebook" have no pair, so they are dropped.
         {{"a", "current", NULL, NULL, 5,
           {{S("facebook.com"), I(10)}, {S("m.facebook.com"), I(5)}, {S("t.co"), I(4)},
            {S("bing"), I(100)}, {S("Facebook"), I(1)}}},
          {"b", "previous", NULL, NULL, 1, {{S("t.co"), I(8)}}}},
         2,
         {{{"Facebook"}, 15, 0, true}, {{"Twitter"}, 4, 8, false}},
         2,
         NULL},
        {"a FROM without TO", {"sessionSource", NULL},
         {{"map_values", {"sessionSource", "t.co", "Twitter", "x.com", NULL}}},
         {"sessionSource", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 1, {{S("bing"), I(3)}}}},
         1,
         {{{"bing"}, 3, 0, true}},
         1,
         "the last FROM value \"x.com\" has no TO value"},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

static void test_rest_of_world(void **state)
{
    (void)state;
    //  Rest of World: France 3 + (not set) 2 + Germany 1 + "united states"
    //  4 = 10 now, 6 before. It ties with United States and comes first
    //  by its key ("R" < "U").
    static const rule_case cases[] = {
        {"countries", {"country", NULL},
         {{"rest_of_world", {"country", "United States", "United Kingdom", NULL}}},
         {"country", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 6,
           {{S("United States"), I(10)}, {S("United Kingdom"), I(5)}, {S("France"), I(3)},
            {S("(not set)"), I(2)}, {S("Germany"), I(1)}, {S("united states"), I(4)}}},
          {"a", "previous", NULL, NULL, 2, {{S("Spain"), I(6)}, {S("United Kingdom"), I(5)}}}},
         2,
         {{{"Rest of World"}, 10, 6, false},
          {{"United States"}, 10, 0, true},
          {{"United Kingdom"}, 5, 5, false}},
         3,
         NULL},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

static void test_decode_entities(void **state)
{
    (void)state;
    static const rule_case cases[] = {
        {"titles", {"pageTitle", NULL}, {{"decode_entities", {"pageTitle", NULL}}},
         {"pageTitle", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 8,
           {{S("Tom &amp; Jerry"), I(3)},
            {S("Tom & Jerry"), I(2)},
            {S("It&#39;s"), I(4)},
            {S("It&#x27;s"), I(1)},
            {S("&lt;b&gt; &quot;q&quot;"), I(1)},
            {S("caf&#233;"), I(2)},
            {S("&amp;amp;"), I(1)},
            {S("&unknown; &#0; &#xD800; &#1114112; & ;"), I(1)}}}},
         1,
         {{{"It's"}, 5, 0, true},
          {{"Tom & Jerry"}, 5, 0, true},
          {{"caf\xc3\xa9"}, 2, 0, true},
          {{"&amp;"}, 1, 0, true},
          {{"&unknown; &#0; &#xD800; &#1114112; & ;"}, 1, 0, true},
          {{"<b> \"q\""}, 1, 0, true}},
         6,
         NULL},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

static void test_amp_title(void **state)
{
    (void)state;
    static const rule_case cases[] = {
        {"amp pages marked", {"pagePath", "pageTitle", NULL},
         {{"amp_title", {"pagePath", "pageTitle", NULL}}},
         {"pagePath", "pageTitle", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 4,
           {{S("/story/amp/"), S("Story"), I(5)}, {S("/story/"), S("Story"), I(7)},
            {S("/amp/other"), S("Other"), I(2)}, {S("/ampere/"), S("Ampere"), I(1)}}}},
         1,
         {{{"/story/", "Story"}, 7, 0, true},
          {{"/story/amp/", "Story (AMP)"}, 5, 0, true},
          {{"/amp/other", "Other (AMP)"}, 2, 0, true},
          {{"/ampere/", "Ampere"}, 1, 0, true}},
         4,
         NULL},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

static void test_top_title(void **state)
{
    (void)state;
    //  /a: "Old" 3 + 4 = 7 beats "New" 5; previous titles do not count.
    //  /b: "Alpha" and "Beta" tie on 2, the lower title wins.
    //  /d: "Alpha", the row's own title (seen first), ties with "Beta"
    //  and wins; /e: its own "Low" 1 loses to "High" 3.
    static const rule_case cases[] = {
        {"most pageviews", {"pagePath", "pageTitle", NULL},
         {{"top_title", {"pagePath", "pageTitle", "screenPageViews", NULL}}},
         {"pagePath", "pageTitle", "screenPageViews", NULL},
         {{"a", "previous", NULL, NULL, 2, {{S("/a"), S("Prev"), I(100)}, {S("/c"), S("X"), I(9)}}},
          {"a", "current", NULL, NULL, 6,
           {{S("/a"), S("Old"), I(3)}, {S("/a"), S("New"), I(5)}, {S("/a"), S("Old"), I(4)},
            {S("/b"), S("Beta"), I(2)}, {S("/b"), S("Alpha"), I(2)}, {S("/c"), S("C"), I(1)}}},
          {"b", "current", NULL, NULL, 4,
           {{S("/d"), S("Alpha"), I(2)}, {S("/d"), S("Beta"), I(2)}, {S("/e"), S("Low"), I(1)},
            {S("/e"), S("High"), I(3)}}}},
         3,
         {{{"/a", "Old"}, 12, 100, false}, {{"/b", "Alpha"}, 4, 0, true},
          {{"/d", "Alpha"}, 4, 0, true}, {{"/e", "High"}, 4, 0, true},
          {{"/c", "C"}, 1, 9, false}},
         5,
         NULL},
        {"metric that is not summed", {"pagePath", "pageTitle", NULL},
         {{"top_title", {"pagePath", "pageTitle", "views", NULL}}},
         {"pagePath", "pageTitle", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 1, {{S("/a"), S("A"), I(3)}}}},
         1,
         {{{"/a", "A"}, 3, 0, true}},
         1,
         "rule top_title ignored: argument 3 \"views\" is not a summed metric of the table"},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

//  The article table's rules together: the blacklist matches the raw path,
//  then the query string goes, entities are decoded, the AMP page is
//  marked, and each path shows its best title.
static void test_article_rules_together(void **state)
{
    (void)state;
    static const rule_case cases[] = {
        {"articles", {"pagePath", "pageTitle", NULL},
         {{"top_title", {"pagePath", "pageTitle", "screenPageViews", NULL}},
          {"amp_title", {"pagePath", "pageTitle", NULL}},
          {"decode_entities", {"pageTitle", NULL}},
          {"strip_query", {"pagePath", NULL}}},
         {"pagePath", "pageTitle", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 5,
           {{S("/x?utm=1"), S("A &amp; B"), I(4)}, {S("/x"), S("A & B"), I(3)},
            {S("/x"), S("Draft"), I(6)}, {S("/x/amp/?utm=2"), S("A &amp; B"), I(2)},
            {S("/x/amp/"), S("A & B"), I(1)}}}},
         1,
         //  /x: "A & B" 4 + 3 = 7 beats "Draft" 6.
         {{{"/x", "A & B"}, 13, 0, true}, {{"/x/amp/", "A & B (AMP)"}, 3, 0, true}},
         2,
         NULL},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

static void test_rejected_rules(void **state)
{
    (void)state;
    static const rule_case cases[] = {
        {"unknown name", {"pagePath", NULL}, {{"strip_queries", {"pagePath", NULL}}},
         {"pagePath", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 1, {{S("/a?b"), I(1)}}}},
         1,
         {{{"/a?b"}, 1, 0, true}},
         1,
         "unknown rule \"strip_queries\" ignored"},
        {"wrong argument count", {"pagePath", NULL},
         {{"strip_query", {"pagePath", "pageTitle", NULL}}},
         {"pagePath", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 1, {{S("/a?b"), I(1)}}}},
         1,
         {{{"/a?b"}, 1, 0, true}},
         1,
         "rule strip_query ignored: expected 1 argument, got 2"},
        {"same column twice", {"pagePath", NULL},
         {{"amp_title", {"pagePath", "pagePath", NULL}}},
         {"pagePath", "screenPageViews", NULL},
         {{"a", "current", NULL, NULL, 1, {{S("/amp/a"), I(1)}}}},
         1,
         {{{"/amp/a"}, 1, 0, true}},
         1,
         "its two columns are both \"pagePath\""},
    };
    s_run_cases(cases, CASE_COUNT(cases));
}

//  ---------------------------------------------------------------------
//  share_matrix

static void test_share_matrix(void **state)
{
    (void)state;
    static const test_spec description = {
        .keys = {"site", "insightTrafficSourceType", NULL},
        .sum = {"estimatedMinutesWatched", NULL},
        .derived = {{"watch_time", "scale", "estimatedMinutesWatched", "", 1.0, "minutes"}},
        .sort_column = "watch_time",
        .descending = true,
        .previous = true,
        .rules = {{"share_matrix", {"site", "insightTrafficSourceType", "estimatedMinutesWatched",
                                    NULL}}},
    };
    static const test_columns columns = {"insightTrafficSourceType", "estimatedMinutesWatched",
                                         NULL};
    //  Current: ch1 100 (YT_SEARCH 60, SUBSCRIBER 30, EXT_URL 10), ch2 200
    //  (YT_SEARCH 50, SUBSCRIBER 150). Sources by total: SUBSCRIBER 180,
    //  YT_SEARCH 110, EXT_URL 10. Previous: ch1 80 (40 and 40).
    static const test_part parts[] = {
        {"ch1", "current", NULL, NULL, 3,
         {{S("YT_SEARCH"), I(60)}, {S("SUBSCRIBER"), I(30)}, {S("EXT_URL"), I(10)}}},
        {"ch2", "current", NULL, NULL, 2, {{S("YT_SEARCH"), I(50)}, {S("SUBSCRIBER"), I(150)}}},
        {"ch1", "previous", NULL, NULL, 2, {{S("YT_SEARCH"), I(40)}, {S("SUBSCRIBER"), I(40)}}},
        {"ch2", "previous", NULL, NULL, 0, {{S("")}}},
    };
    sd_table_spec spec;
    test_spec_build(&description, &spec);
    sd_normalize *normalize = NULL;
    for (size_t i = 0; i < 4; i++) {
        sd_msg *raw = test_part_build(&spec, columns, &parts[i], "r1", "traffic", 4, 0);
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
    const sd_table_data *data = &table->data;

    //  site, then 4 metrics x (value + 3 previous columns), then previous_new.
    assert_int_equal(data->column_count, 1 + 4 * 4 + 1);
    static const char *names[] = {"site", "watch_time", "share_SUBSCRIBER", "share_YT_SEARCH",
                                  "share_EXT_URL"};
    static const size_t positions[] = {0, 1, 5, 9, 13};
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(data->columns[positions[i]].name, names[i]);
    assert_string_equal(data->columns[5].unit, "percent");
    assert_int_equal(data->columns[5].kind, SD_COLUMN_METRIC);

    assert_int_equal(data->row_count, 2);
    const sd_value *ch2 = test_row(data, 0);
    test_expect_string(data, ch2, "site", "ch2");
    test_expect_int(data, ch2, "watch_time", 200);
    test_expect_float(data, ch2, "share_SUBSCRIBER", 75.0);
    test_expect_float(data, ch2, "share_YT_SEARCH", 25.0);
    test_expect_float(data, ch2, "share_EXT_URL", 0.0);
    test_expect_bool(data, ch2, "previous_new", true);

    const sd_value *ch1 = test_row(data, 1);
    test_expect_string(data, ch1, "site", "ch1");
    test_expect_int(data, ch1, "watch_time", 100);
    test_expect_int(data, ch1, "previous_figure_watch_time", 80);
    test_expect_float(data, ch1, "share_SUBSCRIBER", 30.0);
    test_expect_float(data, ch1, "previous_figure_share_SUBSCRIBER", 50.0);
    test_expect_float(data, ch1, "previous_change_share_SUBSCRIBER", -20.0);
    test_expect_float(data, ch1, "previous_percentage_share_SUBSCRIBER", -40.0);
    test_expect_float(data, ch1, "share_YT_SEARCH", 60.0);
    test_expect_float(data, ch1, "previous_percentage_share_YT_SEARCH", 20.0);
    test_expect_float(data, ch1, "share_EXT_URL", 10.0);
    test_expect_float(data, ch1, "previous_figure_share_EXT_URL", 0.0);
    test_expect_float(data, ch1, "previous_percentage_share_EXT_URL", 0.0);
    test_expect_bool(data, ch1, "previous_new", false);

    //  Network-wide shares of the 300 minutes.
    test_expect_int(data, table->totals, "watch_time", 300);
    test_expect_float(data, table->totals, "share_SUBSCRIBER", 60.0);
    test_expect_float(data, table->totals, "share_YT_SEARCH", 110.0 / 300.0 * 100.0);
    test_expect_float(data, table->totals, "share_EXT_URL", 10.0 / 300.0 * 100.0);
    test_expect_float(data, table->totals, "previous_figure_share_SUBSCRIBER", 50.0);
    assert_int_equal(table->warnings.count, 1);
    assert_string_equal(table->warnings.items[0], "no rows for site ch2 in period previous");

    sd_msg_destroy(&msg);
    sd_normalize_destroy(&normalize);
    sd_table_spec_clear(&spec);
}

//  ---------------------------------------------------------------------
//  HTML character references

static void test_entities_decode(void **state)
{
    (void)state;
    static const struct {
        const char *input;
        const char *expected;
    } cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"&amp;&lt;&gt;&quot;&apos;", "&<>\"'"},
        {"a&nbsp;b", "a\xc2\xa0" "b"},
        {"&ndash;&mdash;&hellip;", "\xe2\x80\x93\xe2\x80\x94\xe2\x80\xa6"},
        {"&lsquo;x&rsquo; &ldquo;y&rdquo;", "\xe2\x80\x98x\xe2\x80\x99 \xe2\x80\x9cy\xe2\x80\x9d"},
        {"&laquo;&raquo;&copy;&reg;&trade;&euro;&pound;",
         "\xc2\xab\xc2\xbb\xc2\xa9\xc2\xae\xe2\x84\xa2\xe2\x82\xac\xc2\xa3"},
        {"&#65;&#x42;&#X43;", "ABC"},
        {"&#8217;", "\xe2\x80\x99"},
        {"&#x1F600;", "\xf0\x9f\x98\x80"},
        {"&#x10FFFF;", "\xf4\x8f\xbf\xbf"},
        {"&#x110000;", "&#x110000;"},
        {"&#xDFFF;", "&#xDFFF;"},
        {"&#0;", "&#0;"},
        {"&#;&#x;&#12a;", "&#;&#x;&#12a;"},
        {"&AMP; &amp", "&AMP; &amp"},
        {"&&amp;;", "&&;"},
        {"&verylongname;", "&verylongname;"},
        {"&amp;amp;", "&amp;"},
        {"tail &", "tail &"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].input);
        char *out = malloc(len + 1);
        assert_non_null(out);
        size_t written = sd_entities_decode(cases[i].input, len, out);
        assert_int_equal(written, strlen(cases[i].expected));
        assert_string_equal(out, cases[i].expected);
        assert_true(written <= len);
        free(out);
    }
}

//  Rows staged one by one may point into a message body with no NUL after
//  a value. The path blacklist's regex must read the value only (the
//  sanitizer build would catch a read past it), and the rewritten values
//  must outlive the next row.
static void test_unterminated_values(void **state)
{
    (void)state;
    test_spec description = {.keys = {"pagePath", "pageTitle", NULL},
                             .sum = {"screenPageViews", NULL},
                             .derived = PAGEVIEWS,
                             .sort_column = "pageviews",
                             .descending = true,
                             .rules = {{"path_blacklist", {"pagePath", "^/page/[0-9]+/?$", NULL}},
                                       {"decode_entities", {"pageTitle", NULL}}}};
    static const test_columns columns = {"pagePath", "pageTitle", "screenPageViews", NULL};
    static const test_part empty = {"a", "current", NULL, NULL, 0, {{S("")}}};
    static const char *const rows[][2] = {
        {"/page/12", "Index"}, {"/page/x", "A &amp; B"}, {"/b", "C &lt; D"}};
    sd_table_spec spec;
    test_spec_build(&description, &spec);
    sd_msg *header = test_part_build(&spec, columns, &empty, "r1", "t1", 1, 0);
    sd_normalize *merge = sd_normalize_new(&header->as.table_raw);
    assert_non_null(merge);
    assert_int_equal(sd_normalize_begin(merge, &header->as.table_raw, 3), SD_NORMALIZE_ADDED);

    char *texts[3][2];
    for (size_t r = 0; r < 3; r++) {
        sd_value cells[3] = {{.kind = SD_VALUE_STRING}, {.kind = SD_VALUE_STRING},
                             {.kind = SD_VALUE_INT, .as.i = 10 + (int64_t)r}};
        for (size_t c = 0; c < 2; c++) {
            size_t len = strlen(rows[r][c]);
            texts[r][c] = malloc(len);
            assert_non_null(texts[r][c]);
            memcpy(texts[r][c], rows[r][c], len);
            cells[c].as.s.ptr = texts[r][c];
            cells[c].as.s.len = len;
        }
        assert_int_equal(sd_normalize_stage_row(merge, cells), 0);
    }
    assert_int_equal(sd_normalize_commit(merge, NULL, 0), SD_NORMALIZE_ADDED);
    for (size_t r = 0; r < 3; r++) {
        free(texts[r][0]);
        free(texts[r][1]);
    }

    sd_msg *msg = sd_normalize_finish(merge);
    assert_non_null(msg);
    const sd_table_data *table = &msg->as.table_normalized.data;
    assert_int_equal(table->row_count, 2);
    test_expect_string(table, test_row(table, 0), "pagePath", "/b");
    test_expect_string(table, test_row(table, 0), "pageTitle", "C < D");
    test_expect_string(table, test_row(table, 1), "pagePath", "/page/x");
    test_expect_string(table, test_row(table, 1), "pageTitle", "A & B");
    sd_msg_destroy(&msg);
    sd_msg_destroy(&header);
    sd_normalize_destroy(&merge);
    sd_table_spec_clear(&spec);
}

int main(int argc, char *argv[])
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strip_query),
        cmocka_unit_test(test_path_blacklist),
        cmocka_unit_test(test_value_blacklist),
        cmocka_unit_test(test_map_values),
        cmocka_unit_test(test_rest_of_world),
        cmocka_unit_test(test_decode_entities),
        cmocka_unit_test(test_amp_title),
        cmocka_unit_test(test_top_title),
        cmocka_unit_test(test_article_rules_together),
        cmocka_unit_test(test_rejected_rules),
        cmocka_unit_test(test_share_matrix),
        cmocka_unit_test(test_entities_decode),
        cmocka_unit_test(test_unterminated_values),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("aggregator_rules", tests, NULL, NULL);
}
