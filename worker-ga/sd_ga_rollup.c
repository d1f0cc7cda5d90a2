/*  sd_ga_rollup: per-period sums keyed by dimension values.  */
#include "sd_ga_rollup.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    zhashx_t *index;                //  row key -> row number + 1
    char **dimensions;              //  rows x dimension_count
    sd_value *sums;                 //  rows x metric_count
    size_t rows;
    size_t capacity;
} s_period_rows;

struct sd_ga_rollup {
    size_t period_count;
    sd_strings dimensions;
    sd_strings metrics;
    bool *integer;                  //  per metric: sums are int64
    bool *seconds;                  //  per metric: unit "seconds"
    s_period_rows *periods;
};

//  GA4 metrics in seconds, for the columns of a part no page arrived for.
static bool s_seconds_by_name(const char *metric)
{
    return strcmp(metric, "userEngagementDuration") == 0;
}

static int s_copy_strings(sd_strings *dst, const sd_strings *src)
{
    for (size_t i = 0; i < src->count; i++) {
        if (sd_strings_push(dst, src->items[i]) != 0)
            return -1;
    }
    return 0;
}

sd_ga_rollup *sd_ga_rollup_new(size_t period_count, const sd_strings *dimensions,
                               const sd_strings *metrics)
{
    sd_ga_rollup *rollup = calloc(1, sizeof *rollup);
    if (!rollup)
        return NULL;
    rollup->period_count = period_count;
    rollup->integer = calloc(metrics->count + 1, sizeof *rollup->integer);
    rollup->seconds = calloc(metrics->count + 1, sizeof *rollup->seconds);
    rollup->periods = calloc(period_count + 1, sizeof *rollup->periods);
    if (!rollup->integer || !rollup->seconds || !rollup->periods ||
        s_copy_strings(&rollup->dimensions, dimensions) != 0 ||
        s_copy_strings(&rollup->metrics, metrics) != 0) {
        sd_ga_rollup_destroy(&rollup);
        return NULL;
    }
    for (size_t i = 0; i < metrics->count; i++) {
        rollup->integer[i] = true;
        rollup->seconds[i] = s_seconds_by_name(metrics->items[i]);
    }
    for (size_t p = 0; p < period_count; p++) {
        rollup->periods[p].index = zhashx_new();
        if (!rollup->periods[p].index) {
            sd_ga_rollup_destroy(&rollup);
            return NULL;
        }
    }
    return rollup;
}

//  Builds an unambiguous key from a row's dimension values: "<length>:value"
//  for each. Returns a new string, or NULL when out of memory.
static char *s_row_key(char *const *values, size_t count)
{
    size_t size = 1;
    for (size_t i = 0; i < count; i++)
        size += strlen(values[i]) + 24;
    char *key = malloc(size);
    if (!key)
        return NULL;
    size_t used = 0;
    key[0] = '\0';
    for (size_t i = 0; i < count; i++)
        used += (size_t)snprintf(key + used, size - used, "%zu:%s", strlen(values[i]), values[i]);
    return key;
}

//  Appends a row with zero sums. Returns its number, or -1.
static ssize_t s_append_row(sd_ga_rollup *rollup, s_period_rows *rows, char *const *values)
{
    size_t dimension_count = rollup->dimensions.count;
    size_t metric_count = rollup->metrics.count;
    if (rows->rows == rows->capacity) {
        size_t capacity = rows->capacity ? rows->capacity * 2 : 64;
        char **dimensions = realloc(rows->dimensions,
                                    capacity * (dimension_count + 1) * sizeof *dimensions);
        if (!dimensions)
            return -1;
        rows->dimensions = dimensions;
        sd_value *sums = realloc(rows->sums, capacity * (metric_count + 1) * sizeof *sums);
        if (!sums)
            return -1;
        rows->sums = sums;
        rows->capacity = capacity;
    }
    size_t row = rows->rows;
    for (size_t i = 0; i < dimension_count; i++) {
        rows->dimensions[row * dimension_count + i] = strdup(values[i]);
        if (!rows->dimensions[row * dimension_count + i]) {
            while (i-- > 0)
                free(rows->dimensions[row * dimension_count + i]);
            return -1;
        }
    }
    for (size_t m = 0; m < metric_count; m++) {
        sd_value *sum = &rows->sums[row * metric_count + m];
        sum->kind = rollup->integer[m] ? SD_VALUE_INT : SD_VALUE_FLOAT;
        if (rollup->integer[m])
            sum->as.i = 0;
        else
            sum->as.f = 0;
    }
    rows->rows++;
    return (ssize_t)row;
}

//  Returns the number of the row with these dimension values, appending it
//  when it is new, or -1 when out of memory.
static ssize_t s_find_row(sd_ga_rollup *rollup, s_period_rows *rows, char *const *values)
{
    char *key = s_row_key(values, rollup->dimensions.count);
    if (!key)
        return -1;
    void *found = zhashx_lookup(rows->index, key);
    ssize_t row = found ? (ssize_t)((uintptr_t)found - 1) : s_append_row(rollup, rows, values);
    if (!found && row >= 0 && zhashx_insert(rows->index, key, (void *)(uintptr_t)(row + 1)) != 0)
        row = -1;
    free(key);
    return row;
}

//  Turns the integer sums of metric m into doubles in every period.
static void s_make_decimal(sd_ga_rollup *rollup, size_t m)
{
    size_t metric_count = rollup->metrics.count;
    for (size_t p = 0; p < rollup->period_count; p++) {
        s_period_rows *rows = &rollup->periods[p];
        for (size_t r = 0; r < rows->rows; r++) {
            sd_value *sum = &rows->sums[r * metric_count + m];
            sum->as.f = (double)sum->as.i;
            sum->kind = SD_VALUE_FLOAT;
        }
    }
    rollup->integer[m] = false;
}

static int s_add_value(sd_value *sum, const sd_value *value)
{
    if (sum->kind == SD_VALUE_FLOAT) {
        sum->as.f += value->kind == SD_VALUE_INT ? (double)value->as.i : value->as.f;
        return 0;
    }
    return __builtin_add_overflow(sum->as.i, value->as.i, &sum->as.i) ? -1 : 0;
}

static int s_add_row(sd_ga_rollup *rollup, const sd_ga_page *page, size_t row,
                     s_period_rows *rows, char *error, size_t error_size)
{
    size_t metric_count = rollup->metrics.count;
    ssize_t target = s_find_row(rollup, rows, &page->dimension_values[row * page->dimension_count]);
    if (target < 0) {
        snprintf(error, error_size, "out of memory rolling up rows");
        return -1;
    }
    for (size_t m = 0; m < metric_count; m++) {
        sd_value *sum = &rows->sums[(size_t)target * metric_count + m];
        if (s_add_value(sum, &page->metric_values[row * metric_count + m]) != 0) {
            snprintf(error, error_size, "the sum of metric %s overflows a 64-bit integer",
                     rollup->metrics.items[m]);
            return -1;
        }
    }
    return 0;
}

int sd_ga_rollup_add(sd_ga_rollup *rollup, const sd_ga_page *page, size_t first_period,
                     char *error, size_t error_size)
{
    if (page->dimension_count != rollup->dimensions.count ||
        page->metric_count != rollup->metrics.count) {
        snprintf(error, error_size, "page has %zu dimensions and %zu metrics, expected %zu and %zu",
                 page->dimension_count, page->metric_count, rollup->dimensions.count,
                 rollup->metrics.count);
        return -1;
    }
    for (size_t m = 0; m < page->metric_count; m++) {
        if (!page->metric_integer[m] && rollup->integer[m])
            s_make_decimal(rollup, m);
        rollup->seconds[m] = page->metric_seconds[m];
    }
    for (size_t row = 0; row < page->rows; row++) {
        size_t period = first_period + page->periods[row];
        if (period >= rollup->period_count) {
            snprintf(error, error_size, "row %zu: period %zu out of range", row, period);
            return -1;
        }
        if (s_add_row(rollup, page, row, &rollup->periods[period], error, error_size) != 0)
            return -1;
    }
    return 0;
}

size_t sd_ga_rollup_rows(const sd_ga_rollup *rollup, size_t period)
{
    return period < rollup->period_count ? rollup->periods[period].rows : 0;
}

static int s_table_columns(const sd_ga_rollup *rollup, sd_table_data *table)
{
    size_t count = rollup->dimensions.count + rollup->metrics.count;
    sd_column *columns = calloc(count + 1, sizeof *columns);
    if (!columns)
        return -1;
    for (size_t i = 0; i < rollup->dimensions.count; i++)
        columns[i] = (sd_column){rollup->dimensions.items[i], SD_COLUMN_DIMENSION, ""};
    for (size_t m = 0; m < rollup->metrics.count; m++)
        columns[rollup->dimensions.count + m] = (sd_column){
            rollup->metrics.items[m], SD_COLUMN_METRIC, rollup->seconds[m] ? "seconds" : "count"};
    int rc = sd_table_data_init(table, columns, count, 0);
    free(columns);
    return rc;
}

static int s_table_row(const sd_ga_rollup *rollup, const s_period_rows *rows, size_t row,
                       sd_table_data *table)
{
    size_t dimension_count = rollup->dimensions.count;
    size_t metric_count = rollup->metrics.count;
    sd_value *cells = sd_table_data_append_row(table);
    if (!cells)
        return -1;
    for (size_t i = 0; i < dimension_count; i++) {
        const char *value = rows->dimensions[row * dimension_count + i];
        if (sd_value_set_string(&cells[i], value, strlen(value)) != 0)
            return -1;
    }
    for (size_t m = 0; m < metric_count; m++)
        cells[dimension_count + m] = rows->sums[row * metric_count + m];
    return 0;
}

int sd_ga_rollup_table(const sd_ga_rollup *rollup, size_t period, bool columns_only,
                       sd_table_data *table)
{
    if (s_table_columns(rollup, table) != 0)
        return -1;
    if (columns_only || period >= rollup->period_count)
        return 0;
    const s_period_rows *rows = &rollup->periods[period];
    for (size_t row = 0; row < rows->rows; row++) {
        if (s_table_row(rollup, rows, row, table) != 0)
            return -1;
    }
    return 0;
}

void sd_ga_rollup_destroy(sd_ga_rollup **rollup_p)
{
    sd_ga_rollup *rollup = *rollup_p;
    if (!rollup)
        return;
    for (size_t p = 0; rollup->periods && p < rollup->period_count; p++) {
        s_period_rows *rows = &rollup->periods[p];
        zhashx_destroy(&rows->index);
        for (size_t i = 0; i < rows->rows * rollup->dimensions.count; i++)
            free(rows->dimensions[i]);
        free(rows->dimensions);
        free(rows->sums);
    }
    free(rollup->periods);
    free(rollup->integer);
    free(rollup->seconds);
    sd_strings_clear(&rollup->dimensions);
    sd_strings_clear(&rollup->metrics);
    free(rollup);
    *rollup_p = NULL;
}
