/*  sd_view_matrix: the view of a share matrix table.  */
#include "sd_view_matrix.h"

#include <stdio.h>
#include <string.h>

#include "sd_format.h"
#include "sd_view.h"

#define S_RULE "share_matrix"
#define S_SHARE "share_"

static const sd_rule_def *s_rule(const sd_table_def *def)
{
    for (size_t r = 0; r < sd_table_def_rule_count(def); r++) {
        if (strcmp(def->rules[r].name, S_RULE) == 0)
            return &def->rules[r];
    }
    return NULL;
}

bool sd_view_matrix_is(const sd_document_table *entry)
{
    return s_rule(entry->def) != NULL;
}

//  Returns the key of the matrix rows: the rule's ROW key.
static const sd_key_def *s_row_key(const sd_table_def *def)
{
    const sd_rule_def *rule = s_rule(def);
    for (size_t k = 0; rule && rule->args[0] && k < sd_table_def_key_count(def); k++) {
        if (strcmp(def->keys[k].name, rule->args[0]) == 0)
            return &def->keys[k];
    }
    return NULL;
}

static bool s_is_share(const sd_column *column)
{
    return column->kind == SD_COLUMN_METRIC && strncmp(column->name, S_SHARE, strlen(S_SHARE)) == 0;
}

//  The heading of a share column: its source type with spaces for '_'.
static json_t *s_header(const char *name)
{
    char label[160];
    snprintf(label, sizeof label, "%s", name + strlen(S_SHARE));
    for (char *p = label; *p; p++) {
        if (*p == '_')
            *p = ' ';
    }
    return json_pack("{s:o, s:s}", "label", sd_view_string(label, strlen(label)), "align",
                     "right");
}

static json_t *s_share(const sd_value *value)
{
    char text[SD_FORMAT_SIZE] = "no data";
    if (value && (value->kind == SD_VALUE_INT || value->kind == SD_VALUE_FLOAT)) {
        sd_format_double(sd_format_to_double(value), 1, false, text, sizeof text - 1);
        strcat(text, "%");
    }
    return json_string(text);
}

static json_t *s_key_text(const sd_value *value)
{
    if (value && value->kind == SD_VALUE_STRING)
        return sd_view_value_string(value->as.s.ptr ? value->as.s.ptr : "", value->as.s.len);
    char text[SD_FORMAT_SIZE] = "";
    if (value && value->kind != SD_VALUE_NIL)
        sd_format_value(value, 0, false, text, sizeof text);
    return json_string(text);
}

//  One line: the row's key and its shares; row is SIZE_MAX for the totals.
static json_t *s_row(const sd_table_normalized *table, int key_column, json_t *headers,
                     size_t row)
{
    const sd_table_data *data = &table->data;
    const sd_value *cells = row == SIZE_MAX ? table->totals : &data->cells[row * data->column_count];
    json_t *key = row == SIZE_MAX ? json_string("Total") : s_key_text(&cells[key_column]);
    json_t *line = json_pack("{s:b, s:[{s:o}], s:[]}", "total", row == SIZE_MAX, "keys", "text",
                             key, "cells");
    json_t *shares = json_object_get(line, "cells");
    size_t header = 1;
    for (size_t c = 0; shares && c < data->column_count; c++) {
        if (!s_is_share(&data->columns[c]))
            continue;
        json_t *label = json_object_get(json_array_get(headers, header++), "label");
        json_array_append_new(shares, json_pack("{s:O, s:o}", "label", label, "figure",
                                                s_share(&cells[c])));
    }
    return line;
}

int sd_view_matrix_rows(json_t *view, const sd_document_table *entry)
{
    const sd_table_normalized *table = entry->table;
    const sd_key_def *key = s_row_key(entry->def);
    int key_column = key ? sd_table_data_column(&table->data, sd_key_def_column(key)) : -1;
    if (key_column < 0)
        return -1;
    json_t *headers = json_pack("[{s:o, s:s}]", "label", json_string(key->label), "align", "left");
    for (size_t c = 0; headers && c < table->data.column_count; c++) {
        if (s_is_share(&table->data.columns[c]))
            json_array_append_new(headers, s_header(table->data.columns[c].name));
    }
    if (json_array_size(headers) < 2) {
        json_decref(headers);
        return -1;
    }
    json_t *rows = json_array();
    size_t count = table->data.row_count;
    if (entry->def->shown > 0 && (size_t)entry->def->shown < count)
        count = (size_t)entry->def->shown;
    for (size_t r = 0; rows && r < count; r++)
        json_array_append_new(rows, s_row(table, key_column, headers, r));
    if (rows && table->totals)
        json_array_append_new(rows, s_row(table, key_column, headers, SIZE_MAX));
    json_object_set_new(view, "matrix", json_true());
    json_object_set_new(view, "headers", headers);
    json_object_set_new(view, "rows", rows);
    return rows ? 0 : -1;
}
