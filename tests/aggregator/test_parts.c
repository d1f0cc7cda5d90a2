/*  Builders of table.raw parts and checks of normalized cells.  */
#include "test_parts.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *s_copy(const char *text)
{
    char *copy = strdup(text ? text : "");
    assert_non_null(copy);
    return copy;
}

static void s_push(sd_strings *strings, const char *text)
{
    assert_int_equal(sd_strings_push(strings, text), 0);
}

void test_spec_build(const test_spec *description, sd_table_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    for (size_t k = 0; description->keys[k]; k++)
        s_push(&spec->keys, description->keys[k]);
    for (size_t j = 0; description->sum[j]; j++)
        s_push(&spec->sum, description->sum[j]);

    size_t derived_count = 0;
    while (derived_count < TEST_MAX_DERIVED && description->derived[derived_count].name)
        derived_count++;
    spec->derived = calloc(derived_count + 1, sizeof *spec->derived);
    assert_non_null(spec->derived);
    spec->derived_count = derived_count;
    for (size_t d = 0; d < derived_count; d++) {
        const test_derived *source = &description->derived[d];
        spec->derived[d] = (sd_derived){s_copy(source->name), s_copy(source->op),
                                        s_copy(source->a),    s_copy(source->b),
                                        source->scale,        s_copy(source->unit)};
    }

    if (description->sort_column) {
        spec->sort = calloc(1, sizeof *spec->sort);
        assert_non_null(spec->sort);
        spec->sort[0] = (sd_sort_key){s_copy(description->sort_column), description->descending};
        spec->sort_count = 1;
    }
    spec->limit = description->limit;
    if (description->previous)
        s_push(&spec->compare, "previous");
    if (description->yearly)
        s_push(&spec->compare, "yearly");
    size_t rule_count = 0;
    while (rule_count < TEST_MAX_RULES && description->rules[rule_count].name)
        rule_count++;
    spec->rules = calloc(rule_count + 1, sizeof *spec->rules);
    assert_non_null(spec->rules);
    spec->rule_count = rule_count;
    for (size_t i = 0; i < rule_count; i++) {
        const test_rule *rule = &description->rules[i];
        spec->rules[i].name = s_copy(rule->name);
        for (size_t a = 0; rule->args[a]; a++)
            s_push(&spec->rules[i].args, rule->args[a]);
    }
}

static bool s_is_key(const sd_table_spec *spec, const char *name)
{
    for (size_t k = 0; k < spec->keys.count; k++) {
        if (strcmp(spec->keys.items[k], name) == 0)
            return true;
    }
    return false;
}

static void s_fill_period(sd_period *period, const char *label)
{
    static const struct {
        const char *label;
        const char *start;
        const char *end;
    } dates[] = {
        {"current", "2026-11-01", "2026-11-30"},
        {"previous", "2026-10-01", "2026-10-31"},
        {"yearly", "2025-11-01", "2025-11-30"},
    };
    period->label = s_copy(label);
    period->start = s_copy("2026-01-01");
    period->end = s_copy("2026-01-01");
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        if (strcmp(label, dates[i].label) == 0) {
            free(period->start);
            free(period->end);
            period->start = s_copy(dates[i].start);
            period->end = s_copy(dates[i].end);
        }
    }
}

static void s_fill_data(sd_table_data *data, const sd_table_spec *spec,
                        const test_columns columns, const test_part *description)
{
    sd_column list[TEST_MAX_COLUMNS];
    size_t column_count = 0;
    static char unit[] = "";
    for (; columns[column_count]; column_count++) {
        const char *name = columns[column_count];
        list[column_count] = (sd_column){(char *)name,
                                         s_is_key(spec, name) ? SD_COLUMN_DIMENSION
                                                              : SD_COLUMN_METRIC,
                                         unit};
    }
    assert_int_equal(sd_table_data_init(data, list, column_count, description->row_count), 0);
    for (size_t r = 0; r < description->row_count; r++) {
        sd_value *cells = sd_table_data_append_row(data);
        assert_non_null(cells);
        for (size_t c = 0; c < column_count; c++) {
            const test_cell *cell = &description->rows[r][c];
            if (cell->kind == SD_VALUE_STRING)
                assert_int_equal(sd_value_set_string(&cells[c], cell->s, strlen(cell->s)), 0);
            else if (cell->kind == SD_VALUE_INT)
                cells[c] = (sd_value){.kind = SD_VALUE_INT, .as.i = cell->i};
            else if (cell->kind == SD_VALUE_FLOAT)
                cells[c] = (sd_value){.kind = SD_VALUE_FLOAT, .as.f = cell->f};
        }
    }
}

sd_msg *test_part_build(const sd_table_spec *spec, const test_columns columns,
                        const test_part *description, const char *request_id,
                        const char *table_id, int64_t expected_parts, int64_t deadline_ms)
{
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_RAW);
    assert_non_null(msg);
    sd_table_raw *part = &msg->as.table_raw;
    char part_id[128];
    snprintf(part_id, sizeof part_id, "%s/%s", description->site, description->label);
    part->request_id = s_copy(request_id);
    part->reporter_id = s_copy("reporter-1");
    part->job_id = s_copy(description->site);
    part->table_id = s_copy(table_id);
    part->part_id = s_copy(part_id);
    part->site = s_copy(description->site);
    s_fill_period(&part->period, description->label);
    part->expected_parts = expected_parts;
    part->deadline_ms = deadline_ms;
    assert_int_equal(sd_table_spec_copy(&part->spec, spec), 0);
    if (description->error)
        part->error = s_copy(description->error);
    else
        s_fill_data(&part->data, spec, columns, description);
    if (description->warning)
        s_push(&part->warnings, description->warning);
    return msg;
}

size_t test_column(const sd_table_data *table, const char *name)
{
    int column = sd_table_data_column(table, name);
    if (column < 0)
        fail_msg("column %s is missing from the table", name);
    return (size_t)column;
}

const sd_value *test_row(const sd_table_data *table, size_t r)
{
    assert_true(r < table->row_count);
    return &table->cells[r * table->column_count];
}

void test_expect_int(const sd_table_data *table, const sd_value *cells, const char *name,
                     int64_t expected)
{
    const sd_value *cell = &cells[test_column(table, name)];
    if (cell->kind != SD_VALUE_INT)
        fail_msg("column %s: kind %d, expected an integer", name, (int)cell->kind);
    if (cell->as.i != expected)
        fail_msg("column %s: %lld, expected %lld", name, (long long)cell->as.i,
                 (long long)expected);
}

static bool s_near(double actual, double expected)
{
    if (expected == 0.0)
        return actual == 0.0;
    return fabs(actual - expected) <= 1e-9 * fabs(expected);
}

void test_expect_float(const sd_table_data *table, const sd_value *cells, const char *name,
                       double expected)
{
    const sd_value *cell = &cells[test_column(table, name)];
    if (cell->kind != SD_VALUE_FLOAT)
        fail_msg("column %s: kind %d, expected a float", name, (int)cell->kind);
    if (!s_near(cell->as.f, expected))
        fail_msg("column %s: %.17g, expected %.17g", name, cell->as.f, expected);
}

void test_expect_bool(const sd_table_data *table, const sd_value *cells, const char *name,
                      bool expected)
{
    const sd_value *cell = &cells[test_column(table, name)];
    if (cell->kind != SD_VALUE_BOOL)
        fail_msg("column %s: kind %d, expected a bool", name, (int)cell->kind);
    if (cell->as.b != expected)
        fail_msg("column %s: %d, expected %d", name, (int)cell->as.b, (int)expected);
}

void test_expect_string(const sd_table_data *table, const sd_value *cells, const char *name,
                        const char *expected)
{
    const sd_value *cell = &cells[test_column(table, name)];
    if (cell->kind != SD_VALUE_STRING)
        fail_msg("column %s: kind %d, expected a string", name, (int)cell->kind);
    assert_string_equal(cell->as.s.ptr, expected);
}

void test_expect_nil(const sd_table_data *table, const sd_value *cells, const char *name)
{
    const sd_value *cell = &cells[test_column(table, name)];
    if (cell->kind != SD_VALUE_NIL)
        fail_msg("column %s: kind %d, expected nil", name, (int)cell->kind);
}

static void s_expect_same_cell(const sd_value *a, const sd_value *b, const char *column)
{
    if (a->kind != b->kind)
        fail_msg("column %s: kinds %d and %d differ", column, (int)a->kind, (int)b->kind);
    if (a->kind == SD_VALUE_INT && a->as.i != b->as.i)
        fail_msg("column %s: %lld and %lld differ", column, (long long)a->as.i,
                 (long long)b->as.i);
    if (a->kind == SD_VALUE_FLOAT && !s_near(a->as.f, b->as.f))
        fail_msg("column %s: %.17g and %.17g differ", column, a->as.f, b->as.f);
    if (a->kind == SD_VALUE_BOOL)
        assert_int_equal(a->as.b, b->as.b);
    if (a->kind == SD_VALUE_STRING)
        assert_string_equal(a->as.s.ptr, b->as.s.ptr);
}

static void s_expect_same_strings(const sd_strings *a, const sd_strings *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++)
        assert_string_equal(a->items[i], b->items[i]);
}

void test_expect_same_table(const sd_table_normalized *a, const sd_table_normalized *b)
{
    assert_int_equal(a->data.column_count, b->data.column_count);
    for (size_t c = 0; c < a->data.column_count; c++)
        assert_string_equal(a->data.columns[c].name, b->data.columns[c].name);
    assert_int_equal(a->data.row_count, b->data.row_count);
    for (size_t i = 0; i < a->data.row_count * a->data.column_count; i++)
        s_expect_same_cell(&a->data.cells[i], &b->data.cells[i],
                           a->data.columns[i % a->data.column_count].name);
    for (size_t c = 0; c < a->data.column_count; c++)
        s_expect_same_cell(&a->totals[c], &b->totals[c], a->data.columns[c].name);

    assert_int_equal(a->missing_count, b->missing_count);
    for (size_t i = 0; i < a->missing_count; i++) {
        assert_string_equal(a->missing[i].site, b->missing[i].site);
        assert_string_equal(a->missing[i].period, b->missing[i].period);
        assert_string_equal(a->missing[i].error, b->missing[i].error);
    }
    s_expect_same_strings(&a->warnings, &b->warnings);
}
