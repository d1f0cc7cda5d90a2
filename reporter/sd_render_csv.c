/*  sd_render_csv: the CSV form of a report.  */
#include "sd_render_csv.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sd_format.h"
#include "sd_text.h"

//  Writes a field, quoted when it contains a comma, quote, CR or LF.
static void s_field(sd_text *out, const char *data, size_t len)
{
    bool quote = false;
    for (size_t i = 0; i < len && !quote; i++)
        quote = data[i] == ',' || data[i] == '"' || data[i] == '\r' || data[i] == '\n';
    if (!quote) {
        sd_text_append_bytes(out, data, len);
        return;
    }
    sd_text_append(out, "\"");
    size_t plain = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '"')
            continue;
        sd_text_append_bytes(out, data + plain, i + 1 - plain);
        sd_text_append(out, "\"");
        plain = i + 1;
    }
    sd_text_append_bytes(out, data + plain, len - plain);
    sd_text_append(out, "\"");
}

//  Writes a text value, cut after SD_FORMAT_TEXT_MAX_CHARS characters
//  with "…" appended.
static void s_text_field(sd_text *out, const char *data, size_t len)
{
    size_t cut = sd_format_text_cut(data, len);
    if (cut == len) {
        s_field(out, data, len);
        return;
    }
    char *shortened = malloc(cut + strlen(SD_FORMAT_ELLIPSIS));
    if (!shortened) {
        s_field(out, data, cut);
        return;
    }
    memcpy(shortened, data, cut);
    memcpy(shortened + cut, SD_FORMAT_ELLIPSIS, strlen(SD_FORMAT_ELLIPSIS));
    s_field(out, shortened, cut + strlen(SD_FORMAT_ELLIPSIS));
    free(shortened);
}

static void s_value(sd_text *out, const sd_value *value)
{
    switch (value->kind) {
    case SD_VALUE_INT:
        sd_text_appendf(out, "%" PRId64, value->as.i);
        break;
    case SD_VALUE_FLOAT:
        if (isfinite(value->as.f))
            sd_text_appendf(out, "%.15g", value->as.f);
        break;
    case SD_VALUE_BOOL:
        sd_text_append(out, value->as.b ? "true" : "false");
        break;
    case SD_VALUE_STRING:
        s_text_field(out, value->as.s.ptr ? value->as.s.ptr : "", value->as.s.len);
        break;
    default:
        break;
    }
}

static void s_line(sd_text *out, const char *name, const sd_value *cells, size_t count)
{
    s_field(out, name, strlen(name));
    for (size_t c = 0; c < count; c++) {
        sd_text_append(out, ",");
        s_value(out, &cells[c]);
    }
    sd_text_append(out, "\r\n");
}

static void s_block(sd_text *out, const sd_document_table *entry)
{
    const sd_table_normalized *table = entry->table;
    const char *name = entry->def->name;
    sd_text_append(out, "table");
    for (size_t c = 0; table && c < table->data.column_count; c++) {
        sd_text_append(out, ",");
        s_field(out, table->data.columns[c].name, strlen(table->data.columns[c].name));
    }
    sd_text_append(out, "\r\n");
    if (!table) {
        s_line(out, name, NULL, 0);
        return;
    }
    size_t columns = table->data.column_count;
    for (size_t r = 0; r < table->data.row_count; r++)
        s_line(out, name, &table->data.cells[r * columns], columns);
    if (table->totals) {
        char label[128];
        snprintf(label, sizeof label, "%s totals", name);
        s_line(out, label, table->totals, columns);
    }
}

//  Writes a table as a plain CSV file: a header of its column names, then
//  one line per row, without totals.
static void s_single(sd_text *out, const sd_document_table *entry)
{
    const sd_table_data *data = entry->table ? &entry->table->data : NULL;
    for (size_t c = 0; data && c < data->column_count; c++) {
        if (c > 0)
            sd_text_append(out, ",");
        s_field(out, data->columns[c].name, strlen(data->columns[c].name));
    }
    sd_text_append(out, "\r\n");
    for (size_t r = 0; data && r < data->row_count; r++) {
        for (size_t c = 0; c < data->column_count; c++) {
            if (c > 0)
                sd_text_append(out, ",");
            s_value(out, &data->cells[r * data->column_count + c]);
        }
        sd_text_append(out, "\r\n");
    }
}

char *sd_render_csv(const sd_document *document, size_t *size)
{
    sd_text out = {0};
    if (document->csv_single_table && document->table_count > 0) {
        s_single(&out, &document->tables[0]);
        return sd_text_take(&out, size);
    }
    for (size_t i = 0; i < document->table_count; i++) {
        if (i > 0)
            sd_text_append(&out, "\r\n");
        s_block(&out, &document->tables[i]);
    }
    return sd_text_take(&out, size);
}
