/*  sd_render_json: the JSON form of a report.  */
#include "sd_render_json.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

//  Returns a new JSON value for a cell; nil, non-finite numbers and strings
//  that jansson rejects become null.
static json_t *s_value(const sd_value *value)
{
    json_t *json = NULL;
    switch (value->kind) {
    case SD_VALUE_INT:
        json = json_integer((json_int_t)value->as.i);
        break;
    case SD_VALUE_FLOAT:
        json = isfinite(value->as.f) ? json_real(value->as.f) : NULL;
        break;
    case SD_VALUE_BOOL:
        json = json_boolean(value->as.b);
        break;
    case SD_VALUE_STRING:
        json = json_stringn(value->as.s.ptr ? value->as.s.ptr : "", value->as.s.len);
        break;
    default:
        break;
    }
    return json ? json : json_null();
}

static json_t *s_strings(const sd_strings *strings)
{
    json_t *array = json_array();
    for (size_t i = 0; array && strings && i < strings->count; i++)
        json_array_append_new(array, json_string(strings->items[i]));
    return array;
}

static json_t *s_range(const sd_date_range *range)
{
    char start[11], end[11];
    sd_date_format(range->start, start);
    sd_date_format(range->end, end);
    return json_pack("[ss]", start, end);
}

static json_t *s_row(const sd_table_data *data, size_t row)
{
    json_t *object = json_object();
    for (size_t c = 0; object && c < data->column_count; c++) {
        const sd_value *cell = &data->cells[row * data->column_count + c];
        json_object_set_new(object, data->columns[c].name, s_value(cell));
    }
    return object;
}

static json_t *s_totals(const sd_table_normalized *table)
{
    json_t *object = json_object();
    for (size_t c = 0; object && table->totals && c < table->data.column_count; c++) {
        if (table->totals[c].kind != SD_VALUE_NIL)
            json_object_set_new(object, table->data.columns[c].name, s_value(&table->totals[c]));
    }
    return object;
}

//  The dates each period label of the table stands for; they differ from
//  the report's for some tables (top articles, month to date, series).
static json_t *s_table_periods(const sd_table_normalized *table)
{
    json_t *periods = json_object();
    for (size_t p = 0; periods && table && p < table->period_count; p++) {
        const sd_period *period = &table->periods[p];
        if (period->label && period->start && period->end)
            json_object_set_new(periods, period->label,
                                json_pack("[ss]", period->start, period->end));
    }
    return periods;
}

static json_t *s_table(const sd_document_table *entry)
{
    const sd_table_normalized *table = entry->table;
    json_t *columns = json_array();
    json_t *rows = json_array();
    for (size_t c = 0; table && columns && c < table->data.column_count; c++)
        json_array_append_new(columns, json_string(table->data.columns[c].name));
    for (size_t r = 0; table && rows && r < table->data.row_count; r++)
        json_array_append_new(rows, s_row(&table->data, r));
    json_t *totals = table ? s_totals(table) : json_object();
    return json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "title", entry->def->title, "periods",
                     s_table_periods(table), "columns", columns, "rows", rows, "totals", totals,
                     "warnings", s_strings(table ? &table->warnings : NULL));
}

static json_t *s_tables(const sd_document *document)
{
    json_t *tables = json_object();
    for (size_t i = 0; tables && i < document->table_count; i++) {
        const sd_document_table *entry = &document->tables[i];
        json_object_set_new(tables, entry->def->name, s_table(entry));
    }
    return tables;
}

char *sd_render_json(const sd_document *document, size_t *size)
{
    const sd_report_periods *periods = document->periods;
    json_t *root = json_pack(
        "{s:s, s:s, s:s, s:{s:o, s:o, s:o}, s:s, s:o, s:o, s:o}", "report",
        document->report, "subject", document->subject, "frequency",
        sd_frequency_name(document->frequency), "periods", "current", s_range(&periods->current),
        "previous", s_range(&periods->previous), "yearly", s_range(&periods->yearly), "status",
        document->status, "missing", s_strings(document->missing), "warnings",
        s_strings(document->warnings), "tables", s_tables(document));
    //  Whether GA4 marked figures as sampled or thresholded; null in YouTube reports.
    if (root && json_object_set_new(root, "quality", document->quality
                                                         ? json_string(document->quality)
                                                         : json_null()) != 0)
        json_decref(root), root = NULL;
    if (!root)
        return NULL;
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!text)
        return NULL;

    //  json_dumps output has no final newline; add one for files and pipes.
    size_t len = strlen(text);
    char *out = realloc(text, len + 2);
    if (!out) {
        free(text);
        return NULL;
    }
    out[len] = '\n';
    out[len + 1] = '\0';
    if (size)
        *size = len + 1;
    return out;
}
