/*  Property test of sd_normalize: for random raw tables, merging the parts
    in any order gives the same normalized table, byte for byte once
    encoded.

    Each case draws a spec (one of a few key sets, with and without the
    article rules, a random limit) and a grid of sites x periods whose
    parts may be absent, failed, empty or carry up to TEST_MAX_ROWS rows.
    Keys come from small alphabets so rows collide across parts, and
    metrics are integers so that every order adds up to the same sums.
    The generator is a fixed xorshift, so every run draws the same cases.

    Usage: test_merge_order [TEST-NAME]
*/
#include "sd_normalize.h"

#include "test_parts.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CASE_COUNT 300
#define ORDERS_PER_CASE 4
#define MAX_SITES 4
#define MAX_PARTS (MAX_SITES * 3)

static uint64_t s_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

static size_t s_below(uint64_t *state, size_t bound)
{
    return (size_t)(s_next(state) % bound);
}

static const char *const s_paths[] = {"/", "/a", "/a?utm=1", "/b", "/b/amp/", "/c?x",
                                      "/page/2", "/caf\xc3\xa9", "/cafe\xcc\x81"};
static const char *const s_titles[] = {"T", "T &amp; U", "T & U", "\xc3\xa9", "e\xcc\x81", ""};
static const char *const s_sites[] = {"alpha", "beta", "gamma", "delta"};
static const char *const s_labels[] = {"current", "previous", "yearly"};

static const test_columns s_columns = {"pagePath", "pageTitle", "screenPageViews", "sessions",
                                       NULL};

//  Draws the spec: keys, rules and limit vary; the metrics do not.
static void s_draw_spec(uint64_t *random, test_spec *spec)
{
    static const test_spec base = {
        .sum = {"screenPageViews", "sessions", NULL},
        .derived = {{"pageviews", "scale", "screenPageViews", "", 1.0, "count"},
                    {"pv_per_session", "ratio", "screenPageViews", "sessions", 1.0, "ratio"},
                    {"pageview_share", "share", "screenPageViews", "", 1.0, "percent"}},
        .sort_column = "pageviews",
        .descending = true,
        .previous = true,
        .yearly = true,
    };
    static const test_rule article_rules[] = {
        {"top_title", {"pagePath", "pageTitle", "screenPageViews", NULL}},
        {"path_blacklist", {"pagePath", "^/$", "^/page/[0-9]+/?$", NULL}},
        {"decode_entities", {"pageTitle", NULL}},
        {"amp_title", {"pagePath", "pageTitle", NULL}},
    };
    *spec = base;
    size_t shape = s_below(random, 4);
    const char *const key_sets[4][3] = {{"site", "pagePath", NULL},
                                        {"pagePath", "pageTitle", NULL},
                                        {"site", NULL, NULL},
                                        {NULL, NULL, NULL}};
    memcpy(spec->keys, key_sets[shape], sizeof spec->keys);
    if (shape == 1) {
        memcpy(spec->rules, article_rules, sizeof article_rules);
        if (s_below(random, 2) == 0)
            spec->rules[3] = (test_rule){"strip_query", {"pagePath", NULL}};
    }
    spec->limit = (int64_t)s_below(random, 6);
}

//  Draws one part's rows: sometimes none, sometimes zero metrics.
static void s_draw_rows(uint64_t *random, test_part *part)
{
    part->row_count = s_below(random, TEST_MAX_ROWS + 1);
    for (size_t r = 0; r < part->row_count; r++) {
        test_cell *cells = part->rows[r];
        cells[0] = (test_cell){SD_VALUE_STRING, s_paths[s_below(random, 9)], 0, 0.0};
        cells[1] = (test_cell){SD_VALUE_STRING, s_titles[s_below(random, 6)], 0, 0.0};
        cells[2] = (test_cell){SD_VALUE_INT, NULL, (int64_t)s_below(random, 4) * 25, 0.0};
        cells[3] = (test_cell){SD_VALUE_INT, NULL, (int64_t)s_below(random, 3) * 10, 0.0};
    }
}

//  Draws the parts of the grid; returns how many were drawn. Absent parts
//  are still expected, so the table lists them as missing.
static size_t s_draw_parts(uint64_t *random, test_part *parts, size_t *expected)
{
    size_t site_count = 1 + s_below(random, MAX_SITES);
    size_t count = 0;
    *expected = site_count * 3;
    for (size_t s = 0; s < site_count; s++) {
        for (size_t p = 0; p < 3; p++) {
            size_t fate = s_below(random, 10);
            if (fate == 0)
                continue;
            test_part *part = &parts[count++];
            memset(part, 0, sizeof *part);
            part->site = s_sites[s];
            part->label = s_labels[p];
            if (fate == 1)
                part->error = "HTTP 500";
            else
                s_draw_rows(random, part);
        }
    }
    return count;
}

//  Merges the parts in order and returns the encoded table, with the
//  number of its rows in *rows.
static uint8_t *s_merge_encoded(const sd_table_spec *spec, const test_part *parts,
                                const size_t *order, size_t count, size_t expected,
                                size_t *size, size_t *rows)
{
    sd_normalize *state = NULL;
    for (size_t i = 0; i < count; i++) {
        sd_msg *raw = test_part_build(spec, s_columns, &parts[order[i]], "r1", "articles",
                                      (int64_t)expected, 0);
        if (!state)
            state = sd_normalize_new(&raw->as.table_raw);
        assert_non_null(state);
        assert_int_equal(sd_normalize_add(state, &raw->as.table_raw, NULL, 0),
                         SD_NORMALIZE_ADDED);
        sd_msg_destroy(&raw);
    }
    sd_msg *msg = sd_normalize_finish(state);
    assert_non_null(msg);
    *rows = msg->as.table_normalized.data.row_count;
    uint8_t *data = NULL;
    sd_proto_error err;
    if (sd_msg_encode(msg, &data, size, &err) != 0)
        fail_msg("encoding failed: %s: %s", err.field, err.text);
    sd_msg_destroy(&msg);
    sd_normalize_destroy(&state);
    return data;
}

static void s_shuffle(uint64_t *random, size_t *order, size_t count)
{
    for (size_t i = count; i > 1; i--) {
        size_t j = s_below(random, i);
        size_t swapped = order[i - 1];
        order[i - 1] = order[j];
        order[j] = swapped;
    }
}

static void test_any_order_same_bytes(void **state)
{
    (void)state;
    uint64_t random = 0x9e3779b97f4a7c15ull;
    static test_part parts[MAX_PARTS];
    size_t cases_with_rows = 0;
    for (size_t c = 0; c < CASE_COUNT; c++) {
        test_spec description;
        s_draw_spec(&random, &description);
        size_t expected = 0;
        size_t count = s_draw_parts(&random, parts, &expected);
        if (count == 0)
            continue;
        sd_table_spec spec;
        test_spec_build(&description, &spec);

        size_t order[MAX_PARTS];
        for (size_t i = 0; i < count; i++)
            order[i] = i;
        size_t reference_size = 0;
        size_t rows = 0;
        uint8_t *reference = s_merge_encoded(&spec, parts, order, count, expected,
                                             &reference_size, &rows);
        for (size_t o = 0; o < ORDERS_PER_CASE; o++) {
            s_shuffle(&random, order, count);
            size_t size = 0;
            size_t shuffled_rows = 0;
            uint8_t *encoded = s_merge_encoded(&spec, parts, order, count, expected, &size,
                                               &shuffled_rows);
            if (size != reference_size || memcmp(encoded, reference, size) != 0)
                fail_msg("case %zu: order %zu gives other bytes (%zu, expected %zu)", c, o,
                         size, reference_size);
            free(encoded);
        }
        cases_with_rows += rows > 1 ? 1 : 0;
        free(reference);
        sd_table_spec_clear(&spec);
    }

    //  The generator must produce real tables, not only empty ones.
    print_message("cases with 2 or more rows: %zu of %d\n", cases_with_rows, CASE_COUNT);
    assert_true(cases_with_rows > CASE_COUNT / 4);
}

int main(int argc, char *argv[])
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_order_same_bytes),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("aggregator_merge_order", tests, NULL, NULL);
}
