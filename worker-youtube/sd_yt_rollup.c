/*  sd_yt_rollup: rows keyed by their dimension values, metrics summed.  */
#include "sd_yt_rollup.h"

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **values;                  //  one per dimension
    int64_t *integers;              //  per metric
    double *reals;                  //  per metric, used once the metric is real
} s_row;

struct sd_yt_rollup {
    const sd_query *query;
    size_t api_count;               //  the query's dimensions
    bool *real;                     //  per metric: a value was not an integer
    s_row *rows;
    size_t row_count;
    size_t row_capacity;
    zhashx_t *index;                //  key -> row index + 1
    size_t added;                   //  rows of the last body added
};

sd_yt_rollup *sd_yt_rollup_new(const sd_query *query)
{
    sd_yt_rollup *rollup = calloc(1, sizeof *rollup);
    if (!rollup)
        return NULL;
    rollup->query = query;
    rollup->api_count = query->dimensions.count;
    rollup->real = calloc(query->metrics.count + 1, sizeof *rollup->real);
    rollup->index = zhashx_new();
    if (!rollup->real || !rollup->index)
        sd_yt_rollup_destroy(&rollup);
    return rollup;
}

static void s_row_clear(s_row *row, size_t api_count)
{
    for (size_t i = 0; row->values && i < api_count; i++)
        free(row->values[i]);
    free(row->values);
    free(row->integers);
    free(row->reals);
}

void sd_yt_rollup_destroy(sd_yt_rollup **rollup_p)
{
    sd_yt_rollup *rollup = *rollup_p;
    if (!rollup)
        return;
    for (size_t i = 0; i < rollup->row_count; i++)
        s_row_clear(&rollup->rows[i], rollup->api_count);
    free(rollup->rows);
    free(rollup->real);
    zhashx_destroy(&rollup->index);
    free(rollup);
    *rollup_p = NULL;
}

//  Checks that headers name the API dimensions, then the metrics.
static int s_check_headers(const sd_yt_rollup *rollup, json_t *headers, char *error,
                           size_t error_size)
{
    const sd_query *query = rollup->query;
    size_t expected = rollup->api_count + query->metrics.count;
    if (!json_is_array(headers) || json_array_size(headers) != expected) {
        snprintf(error, error_size, "columnHeaders has %zu columns; expected %zu",
                 json_array_size(headers), expected);
        return -1;
    }
    size_t column = 0;
    for (size_t i = 0; i < query->dimensions.count + query->metrics.count; i++) {
        bool dimension = i < query->dimensions.count;
        const char *name = dimension ? query->dimensions.items[i]
                                     : query->metrics.items[i - query->dimensions.count];
        const char *found = json_string_value(json_object_get(json_array_get(headers, column),
                                                              "name"));
        if (!found || strcmp(found, name) != 0) {
            snprintf(error, error_size, "columnHeaders[%zu] is \"%.64s\"; expected \"%s\"",
                     column, found ? found : "(no name)", name);
            return -1;
        }
        column++;
    }
    return 0;
}

//  Returns the row of the dimension values, adding it when new, or NULL
//  when out of memory.
static s_row *s_find_row(sd_yt_rollup *rollup, json_t *cells, const char *key)
{
    uintptr_t found = (uintptr_t)zhashx_lookup(rollup->index, key);
    if (found)
        return &rollup->rows[found - 1];
    if (rollup->row_count == rollup->row_capacity) {
        size_t capacity = rollup->row_capacity ? rollup->row_capacity * 2 : 64;
        s_row *rows = realloc(rollup->rows, capacity * sizeof *rows);
        if (!rows)
            return NULL;
        rollup->rows = rows;
        rollup->row_capacity = capacity;
    }
    s_row *row = &rollup->rows[rollup->row_count];
    memset(row, 0, sizeof *row);
    size_t metrics = rollup->query->metrics.count + 1;
    row->values = calloc(rollup->api_count + 1, sizeof *row->values);
    row->integers = calloc(metrics, sizeof *row->integers);
    row->reals = calloc(metrics, sizeof *row->reals);
    bool ok = row->values && row->integers && row->reals;
    for (size_t i = 0; ok && i < rollup->api_count; i++)
        ok = (row->values[i] = strdup(json_string_value(json_array_get(cells, i)))) != NULL;
    if (!ok || zhashx_insert(rollup->index, key, (void *)(uintptr_t)(rollup->row_count + 1))) {
        s_row_clear(row, rollup->api_count);
        return NULL;
    }
    rollup->row_count++;
    return row;
}

//  Builds the row key: the dimension values joined by the unit separator.
//  Returns a new string, or NULL when a value is not a string.
static char *s_row_key(const sd_yt_rollup *rollup, json_t *cells)
{
    size_t size = 1;
    for (size_t i = 0; i < rollup->api_count; i++) {
        json_t *cell = json_array_get(cells, i);
        if (!json_is_string(cell))
            return NULL;
        size += json_string_length(cell) + 1;
    }
    char *key = calloc(1, size);
    for (size_t i = 0; key && i < rollup->api_count; i++) {
        if (i > 0)
            strcat(key, "\x1f");
        strcat(key, json_string_value(json_array_get(cells, i)));
    }
    return key;
}

static int s_add_metrics(sd_yt_rollup *rollup, s_row *row, json_t *cells, size_t number,
                         char *error, size_t error_size)
{
    for (size_t m = 0; m < rollup->query->metrics.count; m++) {
        json_t *cell = json_array_get(cells, rollup->api_count + m);
        if (!json_is_number(cell)) {
            snprintf(error, error_size, "row %zu: metric %s is not a number", number,
                     rollup->query->metrics.items[m]);
            return -1;
        }
        row->reals[m] += json_number_value(cell);
        if (!json_is_integer(cell)) {
            rollup->real[m] = true;
            continue;
        }
        if (__builtin_add_overflow(row->integers[m], (int64_t)json_integer_value(cell),
                                   &row->integers[m])) {
            snprintf(error, error_size, "row %zu: the sum of %s overflows", number,
                     rollup->query->metrics.items[m]);
            return -1;
        }
    }
    return 0;
}

static int s_add_rows(sd_yt_rollup *rollup, json_t *rows, char *error, size_t error_size)
{
    size_t width = rollup->api_count + rollup->query->metrics.count;
    size_t number;
    json_t *cells;
    json_array_foreach(rows, number, cells) {
        if (!json_is_array(cells) || json_array_size(cells) != width) {
            snprintf(error, error_size, "row %zu is not an array of %zu values", number, width);
            return -1;
        }
        char *key = s_row_key(rollup, cells);
        s_row *row = key ? s_find_row(rollup, cells, key) : NULL;
        free(key);
        if (!row) {
            snprintf(error, error_size, "row %zu: a dimension value is not a string (or out of "
                     "memory)", number);
            return -1;
        }
        if (s_add_metrics(rollup, row, cells, number, error, error_size) != 0)
            return -1;
    }
    return 0;
}

int sd_yt_rollup_add(sd_yt_rollup *rollup, const char *body, size_t size, char *error,
                     size_t error_size)
{
    json_error_t json_error;
    json_t *root = json_loadb(body, size, 0, &json_error);
    int rc = -1;
    if (!json_is_object(root)) {
        snprintf(error, error_size, "the response is not a JSON object (%s)",
                 root ? "another JSON value" : json_error.text);
    } else if (s_check_headers(rollup, json_object_get(root, "columnHeaders"), error,
                               error_size) == 0) {
        json_t *rows = json_object_get(root, "rows");
        rollup->added = json_array_size(rows);
        if (rows && !json_is_array(rows))
            snprintf(error, error_size, "rows is not an array");
        else
            rc = rows ? s_add_rows(rollup, rows, error, error_size) : 0;
    }
    json_decref(root);
    return rc;
}

size_t sd_yt_rollup_added(const sd_yt_rollup *rollup)
{
    return rollup->added;
}

size_t sd_yt_rollup_rows(const sd_yt_rollup *rollup)
{
    return rollup->row_count;
}

static int s_columns(const sd_yt_rollup *rollup, sd_table_data *table)
{
    const sd_query *query = rollup->query;
    size_t count = query->dimensions.count + query->metrics.count;
    sd_column *columns = calloc(count + 1, sizeof *columns);
    if (!columns)
        return -1;
    for (size_t i = 0; i < count; i++) {
        bool dimension = i < query->dimensions.count;
        const char *name = dimension ? query->dimensions.items[i]
                                     : query->metrics.items[i - query->dimensions.count];
        columns[i].name = (char *)name;
        columns[i].kind = dimension ? SD_COLUMN_DIMENSION : SD_COLUMN_METRIC;
        columns[i].unit = dimension ? ""
                        : strcmp(name, "estimatedMinutesWatched") == 0 ? "minutes" : "count";
    }
    int rc = sd_table_data_init(table, columns, count, rollup->row_count);
    free(columns);
    return rc;
}

//  Fills the cells of one output row.
static int s_fill_row(const sd_yt_rollup *rollup, const s_row *row, sd_value *cells)
{
    const sd_query *query = rollup->query;
    for (size_t i = 0; i < query->dimensions.count; i++) {
        if (sd_value_set_string(&cells[i], row->values[i], strlen(row->values[i])) != 0)
            return -1;
    }
    for (size_t m = 0; m < query->metrics.count; m++) {
        sd_value *cell = &cells[query->dimensions.count + m];
        if (rollup->real[m]) {
            cell->kind = SD_VALUE_FLOAT;
            cell->as.f = row->reals[m];
        } else {
            cell->kind = SD_VALUE_INT;
            cell->as.i = row->integers[m];
        }
    }
    return 0;
}

int sd_yt_rollup_table(const sd_yt_rollup *rollup, sd_table_data *table)
{
    if (s_columns(rollup, table) != 0)
        return -1;
    for (size_t r = 0; r < rollup->row_count; r++) {
        sd_value *cells = sd_table_data_append_row(table);
        if (!cells || s_fill_row(rollup, &rollup->rows[r], cells) != 0)
            return -1;
    }
    return 0;
}
