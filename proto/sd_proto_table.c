/*  sd_proto_table: helpers that build and release the parts of messages
    (string lists, cells, tables, table specs).
*/
#include "sd_proto_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(SD_VALUE_NIL == 0, "zeroed cells must read as NIL");

int sd_strings_push(sd_strings *strings, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return -1;

    char **items = realloc(strings->items, (strings->count + 1) * sizeof(*items));
    if (!items) {
        free(copy);
        return -1;
    }
    items[strings->count++] = copy;
    strings->items = items;
    return 0;
}

void sd_strings_clear(sd_strings *strings)
{
    for (size_t i = 0; strings->items && i < strings->count; i++)
        free(strings->items[i]);
    free(strings->items);
    strings->items = NULL;
    strings->count = 0;
}

int sd_value_set_string(sd_value *value, const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    if (len > 0)
        memcpy(copy, text, len);
    copy[len] = '\0';

    sd_value_clear(value);
    value->kind = SD_VALUE_STRING;
    value->as.s.ptr = copy;
    value->as.s.len = len;
    return 0;
}

void sd_value_clear(sd_value *value)
{
    if (value->kind == SD_VALUE_STRING)
        free(value->as.s.ptr);
    memset(value, 0, sizeof(*value));
    value->kind = SD_VALUE_NIL;
}

static int s_column_copy(sd_column *dst, const sd_column *src)
{
    dst->kind = src->kind;
    dst->name = strdup(src->name ? src->name : "");
    dst->unit = strdup(src->unit ? src->unit : "");
    return dst->name && dst->unit ? 0 : -1;
}

int sd_table_data_init(sd_table_data *table, const sd_column *columns, size_t column_count,
                       size_t rows_hint)
{
    memset(table, 0, sizeof(*table));
    if (column_count > 0) {
        table->columns = calloc(column_count, sizeof(*table->columns));
        if (!table->columns)
            return -1;
        table->column_count = column_count;
    }
    for (size_t i = 0; i < column_count; i++) {
        if (s_column_copy(&table->columns[i], &columns[i]) != 0)
            goto fail;
    }

    bool fits = rows_hint <= SIZE_MAX / sizeof(sd_value) / (column_count ? column_count : 1);
    if (rows_hint > 0 && column_count > 0 && fits) {
        table->cells = calloc(rows_hint * column_count, sizeof(sd_value));
        if (!table->cells)
            goto fail;
        table->row_capacity = rows_hint;
    }
    return 0;

fail:
    sd_table_data_clear(table);
    return -1;
}

//  Makes room for at least one more row, doubling the capacity. A table
//  filled by hand may have row_capacity 0 with rows present: realloc to a
//  larger size keeps them, so that case needs nothing special.
static int s_table_grow(sd_table_data *table)
{
    size_t width = table->column_count > 0 ? table->column_count : 1;
    size_t capacity = table->row_count < 8 ? 16 : table->row_count * 2;

    if (capacity > SIZE_MAX / sizeof(sd_value) / width)
        return -1;
    sd_value *cells = realloc(table->cells, capacity * width * sizeof(sd_value));
    if (!cells)
        return -1;
    table->cells = cells;
    table->row_capacity = capacity;
    return 0;
}

sd_value *sd_table_data_append_row(sd_table_data *table)
{
    if (table->row_count >= table->row_capacity || !table->cells) {
        if (s_table_grow(table) != 0)
            return NULL;
    }

    //  All-zero bytes are a NIL cell.
    sd_value *row = table->cells + table->row_count * table->column_count;
    memset(row, 0, table->column_count * sizeof(*row));
    table->row_count++;
    return row;
}

int sd_table_data_column(const sd_table_data *table, const char *name)
{
    for (size_t i = 0; i < table->column_count; i++) {
        if (table->columns[i].name && strcmp(table->columns[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

void sd_table_data_clear(sd_table_data *table)
{
    size_t cell_count = table->row_count * table->column_count;

    for (size_t i = 0; table->cells && i < cell_count; i++) {
        if (table->cells[i].kind == SD_VALUE_STRING)
            free(table->cells[i].as.s.ptr);
    }
    free(table->cells);
    for (size_t i = 0; table->columns && i < table->column_count; i++) {
        free(table->columns[i].name);
        free(table->columns[i].unit);
    }
    free(table->columns);
    memset(table, 0, sizeof(*table));
}

static char *s_copy_text(const char *text)
{
    return strdup(text ? text : "");
}

static int s_strings_copy(sd_strings *dst, const sd_strings *src)
{
    memset(dst, 0, sizeof(*dst));
    for (size_t i = 0; i < src->count; i++) {
        if (sd_strings_push(dst, src->items[i] ? src->items[i] : "") != 0)
            return -1;
    }
    return 0;
}

static int s_derived_copy(sd_derived *dst, const sd_derived *src)
{
    dst->name = s_copy_text(src->name);
    dst->op = s_copy_text(src->op);
    dst->a = s_copy_text(src->a);
    dst->b = s_copy_text(src->b);
    dst->unit = s_copy_text(src->unit);
    dst->scale = src->scale;
    return dst->name && dst->op && dst->a && dst->b && dst->unit ? 0 : -1;
}

static int s_spec_copy_lists(sd_table_spec *dst, const sd_table_spec *src)
{
    if (src->derived_count > 0) {
        dst->derived = calloc(src->derived_count, sizeof(*dst->derived));
        if (!dst->derived)
            return -1;
        dst->derived_count = src->derived_count;
    }
    for (size_t i = 0; i < src->derived_count; i++) {
        if (s_derived_copy(&dst->derived[i], &src->derived[i]) != 0)
            return -1;
    }

    if (src->sort_count > 0) {
        dst->sort = calloc(src->sort_count, sizeof(*dst->sort));
        if (!dst->sort)
            return -1;
        dst->sort_count = src->sort_count;
    }
    for (size_t i = 0; i < src->sort_count; i++) {
        dst->sort[i].descending = src->sort[i].descending;
        dst->sort[i].column = s_copy_text(src->sort[i].column);
        if (!dst->sort[i].column)
            return -1;
    }

    if (src->rule_count > 0) {
        dst->rules = calloc(src->rule_count, sizeof(*dst->rules));
        if (!dst->rules)
            return -1;
        dst->rule_count = src->rule_count;
    }
    for (size_t i = 0; i < src->rule_count; i++) {
        dst->rules[i].name = s_copy_text(src->rules[i].name);
        if (!dst->rules[i].name || s_strings_copy(&dst->rules[i].args, &src->rules[i].args) != 0)
            return -1;
    }
    return 0;
}

int sd_table_spec_copy(sd_table_spec *dst, const sd_table_spec *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->limit = src->limit;
    if (s_strings_copy(&dst->keys, &src->keys) != 0 || s_strings_copy(&dst->sum, &src->sum) != 0 ||
        s_strings_copy(&dst->compare, &src->compare) != 0 || s_spec_copy_lists(dst, src) != 0) {
        sd_table_spec_clear(dst);
        return -1;
    }
    return 0;
}

void sd_table_spec_clear(sd_table_spec *spec)
{
    sd_strings_clear(&spec->keys);
    sd_strings_clear(&spec->sum);
    for (size_t i = 0; spec->derived && i < spec->derived_count; i++) {
        free(spec->derived[i].name);
        free(spec->derived[i].op);
        free(spec->derived[i].a);
        free(spec->derived[i].b);
        free(spec->derived[i].unit);
    }
    free(spec->derived);
    for (size_t i = 0; spec->sort && i < spec->sort_count; i++)
        free(spec->sort[i].column);
    free(spec->sort);
    sd_strings_clear(&spec->compare);
    for (size_t i = 0; spec->rules && i < spec->rule_count; i++) {
        free(spec->rules[i].name);
        sd_strings_clear(&spec->rules[i].args);
    }
    free(spec->rules);
    memset(spec, 0, sizeof(*spec));
}
