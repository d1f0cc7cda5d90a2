/*  sd_render_html: the HTML e-mail form of a report.  */
#include "sd_render_html.h"

#include <stdio.h>
#include <string.h>

#include "sd_format.h"
#include "sd_text.h"

#define S_COLOR_UP "#1a7f37"
#define S_COLOR_DOWN "#cf222e"
#define S_COLOR_FLAT "#57606a"
#define S_CELL_STYLE "padding:6px 10px;border-bottom:1px solid #d0d7de;"
#define S_HEAD_STYLE "padding:6px 10px;border-bottom:2px solid #57606a;background:#f6f8fa;"

//  The cells of one metric in one row, looked up by column name.
typedef struct {
    const sd_value *figure;         //  the period's figure
    const sd_value *change;         //  NULL for the current period
    const sd_value *percentage;     //  NULL for the current period
} s_metric_cells;

static void s_escaped(sd_text *out, const char *text)
{
    sd_text_append_html(out, text, strlen(text));
}

//  Returns the cell of row (or of the totals when row is SIZE_MAX) in the
//  named column, or NULL when the table has no such column.
static const sd_value *s_cell(const sd_table_normalized *table, size_t row, const char *column)
{
    int index = sd_table_data_column(&table->data, column);
    if (index < 0)
        return NULL;
    if (row == SIZE_MAX)
        return table->totals ? &table->totals[index] : NULL;
    return &table->data.cells[row * table->data.column_count + (size_t)index];
}

//  Looks up a metric's cells for a period: "current" or a compare label.
static s_metric_cells s_metric(const sd_table_normalized *table, size_t row, const char *metric,
                               const char *period)
{
    s_metric_cells cells = {0};
    if (strcmp(period, "current") == 0) {
        cells.figure = s_cell(table, row, metric);
        return cells;
    }
    char column[160];
    snprintf(column, sizeof column, "%s_figure_%s", period, metric);
    cells.figure = s_cell(table, row, column);
    snprintf(column, sizeof column, "%s_change_%s", period, metric);
    cells.change = s_cell(table, row, column);
    snprintf(column, sizeof column, "%s_percentage_%s", period, metric);
    cells.percentage = s_cell(table, row, column);
    return cells;
}

//  Returns the label shown for a compared period: "WoW", "YoY", ...
static const char *s_compare_label(const sd_document *document, const char *compare)
{
    if (strcmp(compare, "yearly") == 0)
        return "YoY";
    if (strcmp(compare, "previous") == 0)
        return sd_frequency_label(document->frequency);
    return compare;
}

static const char *s_color(const sd_value *change)
{
    double value = change ? sd_format_to_double(change) : 0.0;
    return value > 0 ? S_COLOR_UP : (value < 0 ? S_COLOR_DOWN : S_COLOR_FLAT);
}

static void s_number(sd_text *out, const sd_value *value, int decimals, bool sign)
{
    char text[SD_FORMAT_SIZE] = "n/a";
    if (value)
        sd_format_value(value, decimals, sign, text, sizeof text);
    s_escaped(out, text);
}

//  Writes "+56 (+4.8%)" in green, red or grey.
static void s_change(sd_text *out, const s_metric_cells *cells, int decimals)
{
    char percent[SD_FORMAT_SIZE] = "n/a";
    if (cells->percentage)
        sd_format_percent(sd_format_to_double(cells->percentage), percent, sizeof percent);
    sd_text_appendf(out, "<span style=\"color:%s;\">", s_color(cells->change));
    s_number(out, cells->change, decimals, true);
    sd_text_append(out, " (");
    s_escaped(out, percent);
    sd_text_append(out, ")</span>");
}

static void s_head_row(sd_text *out, const sd_table_def *def, bool with_keys)
{
    sd_text_append(out, "<tr>");
    size_t keys = sd_table_def_key_count(def);
    for (size_t k = 0; with_keys && k < keys; k++) {
        sd_text_append(out, "<th align=\"left\" style=\"" S_HEAD_STYLE "\">");
        s_escaped(out, def->keys[k].label);
        sd_text_append(out, "</th>");
    }
    if (!with_keys || keys == 0)
        sd_text_append(out, "<th align=\"left\" style=\"" S_HEAD_STYLE "\"></th>");
    for (size_t m = 0; m < sd_table_def_metric_count(def); m++) {
        sd_text_append(out, "<th align=\"right\" style=\"" S_HEAD_STYLE "\">");
        s_escaped(out, def->metrics[m].label);
        sd_text_append(out, "</th>");
    }
    sd_text_append(out, "</tr>\n");
}

static void s_label_cell(sd_text *out, const char *label, const char *detail)
{
    sd_text_append(out, "<td style=\"" S_CELL_STYLE "\"><strong>");
    s_escaped(out, label);
    sd_text_append(out, "</strong>");
    if (detail && *detail) {
        sd_text_append(out, "<br><span style=\"font-size:12px;color:" S_COLOR_FLAT ";\">");
        s_escaped(out, detail);
        sd_text_append(out, "</span>");
    }
    sd_text_append(out, "</td>");
}

//  Writes one overview line: a period's figures, with changes when the
//  period is a compared one.
static void s_overview_row(sd_text *out, const sd_document *document, const sd_table_def *def,
                           const sd_table_normalized *table, size_t row, const char *period)
{
    const sd_date_range *range = strcmp(period, "yearly") == 0     ? &document->periods->yearly
                                 : strcmp(period, "previous") == 0 ? &document->periods->previous
                                                                   : &document->periods->current;
    char dates[96];
    sd_period_describe(document->frequency, range, dates, sizeof dates);
    bool current = strcmp(period, "current") == 0;
    sd_text_append(out, "<tr>");
    s_label_cell(out, current ? dates : s_compare_label(document, period), current ? "" : dates);
    for (size_t m = 0; m < sd_table_def_metric_count(def); m++) {
        const sd_metric_def *metric = &def->metrics[m];
        s_metric_cells cells = s_metric(table, row, metric->name, period);
        sd_text_append(out, "<td align=\"right\" style=\"" S_CELL_STYLE "\">");
        s_number(out, cells.figure, metric->decimals, false);
        if (!current) {
            sd_text_append(out, "<br>");
            s_change(out, &cells, metric->decimals);
        }
        sd_text_append(out, "</td>");
    }
    sd_text_append(out, "</tr>\n");
}

static void s_overview(sd_text *out, const sd_document *document, const sd_table_def *def,
                       const sd_table_normalized *table)
{
    //  A table without keys has one row; its totals are the same figures.
    size_t row = table->data.row_count > 0 ? 0 : SIZE_MAX;
    s_head_row(out, def, false);
    s_overview_row(out, document, def, table, row, "current");
    for (size_t c = 0; c < sd_table_def_compare_count(def); c++)
        s_overview_row(out, document, def, table, row, def->compare[c]);
}

//  Writes a metric cell of a ranked row: the figure, then one line per
//  compared period with its label and percentage.
static void s_ranked_cell(sd_text *out, const sd_document *document, const sd_table_def *def,
                          const sd_table_normalized *table, size_t row, const sd_metric_def *metric)
{
    sd_text_append(out, "<td align=\"right\" style=\"" S_CELL_STYLE "\">");
    s_number(out, s_metric(table, row, metric->name, "current").figure, metric->decimals, false);
    for (size_t c = 0; c < sd_table_def_compare_count(def); c++) {
        s_metric_cells cells = s_metric(table, row, metric->name, def->compare[c]);
        sd_text_append(out, "<br><span style=\"font-size:12px;\">");
        s_escaped(out, s_compare_label(document, def->compare[c]));
        sd_text_append(out, " ");
        s_change(out, &cells, metric->decimals);
        sd_text_append(out, "</span>");
    }
    sd_text_append(out, "</td>");
}

static void s_key_cell(sd_text *out, const sd_value *value)
{
    sd_text_append(out, "<td style=\"" S_CELL_STYLE "\">");
    if (value && value->kind == SD_VALUE_STRING) {
        sd_text_append_html(out, value->as.s.ptr, value->as.s.len);
    } else if (value) {
        char text[SD_FORMAT_SIZE];
        sd_format_value(value, 0, false, text, sizeof text);
        s_escaped(out, text);
    }
    sd_text_append(out, "</td>");
}

//  Writes the key cells of a row; the totals line (row SIZE_MAX) gets
//  "Total" in the first one.
static void s_key_cells(sd_text *out, const sd_table_def *def, const sd_table_normalized *table,
                        size_t row)
{
    size_t keys = sd_table_def_key_count(def);
    if (row == SIZE_MAX || keys == 0) {
        s_label_cell(out, row == SIZE_MAX ? "Total" : "", "");
        for (size_t k = 1; k < keys; k++)
            s_key_cell(out, NULL);
        return;
    }
    for (size_t k = 0; k < keys; k++)
        s_key_cell(out, s_cell(table, row, def->keys[k].name));
}

static void s_ranked(sd_text *out, const sd_document *document, const sd_table_def *def,
                     const sd_table_normalized *table)
{
    s_head_row(out, def, true);
    size_t rows = table->data.row_count;
    for (size_t r = 0; r <= rows; r++) {
        //  The last line is the totals, when the table has them.
        size_t row = r < rows ? r : SIZE_MAX;
        if (row == SIZE_MAX && !table->totals)
            break;
        sd_text_append(out, row == SIZE_MAX ? "<tr style=\"font-weight:bold;\">" : "<tr>");
        s_key_cells(out, def, table, row);
        for (size_t m = 0; m < sd_table_def_metric_count(def); m++)
            s_ranked_cell(out, document, def, table, row, &def->metrics[m]);
        sd_text_append(out, "</tr>\n");
    }
}

static void s_table(sd_text *out, const sd_document *document, const sd_document_table *entry)
{
    sd_text_append(out, "<h2 style=\"font-size:16px;margin:24px 0 8px 0;\">");
    s_escaped(out, entry->def->title);
    sd_text_append(out, "</h2>\n");
    if (!entry->table) {
        sd_text_append(out, "<p style=\"color:" S_COLOR_DOWN ";\">No data arrived for this "
                            "table.</p>\n");
        return;
    }
    sd_text_append(out, "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" "
                        "cellspacing=\"0\" style=\"border-collapse:collapse;font-size:14px;\">\n");
    if (entry->def->layout == SD_LAYOUT_OVERVIEW)
        s_overview(out, document, entry->def, entry->table);
    else
        s_ranked(out, document, entry->def, entry->table);
    sd_text_append(out, "</table>\n");
}

static void s_list(sd_text *out, const sd_strings *strings, const char *separator)
{
    for (size_t i = 0; strings && i < strings->count; i++) {
        if (i > 0)
            sd_text_append(out, separator);
        s_escaped(out, strings->items[i]);
    }
}

static void s_warning_box(sd_text *out, const sd_document *document)
{
    size_t missing = document->missing ? document->missing->count : 0;
    size_t warnings = document->warnings ? document->warnings->count : 0;
    if (missing == 0 && warnings == 0)
        return;
    sd_text_append(out, "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" "
                        "cellspacing=\"0\" style=\"margin:12px 0;border:1px solid #d4a72c;"
                        "background:#fff8c5;\"><tr><td style=\"padding:8px 12px;\">\n");
    if (missing > 0) {
        sd_text_append(out, "<p style=\"margin:0 0 6px 0;\"><strong>Missing data:</strong> ");
        s_list(out, document->missing, ", ");
        sd_text_append(out, "</p>\n");
    }
    if (warnings > 0) {
        sd_text_append(out, "<ul style=\"margin:0;padding-left:20px;\"><li>");
        s_list(out, document->warnings, "</li><li>");
        sd_text_append(out, "</li></ul>\n");
    }
    sd_text_append(out, "</td></tr></table>\n");
}

static void s_header(sd_text *out, const sd_document *document)
{
    sd_text_append(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                        "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    s_escaped(out, document->subject);
    sd_text_append(out, "</title></head>\n<body style=\"margin:0;padding:16px;background:#ffffff;"
                        "color:#24292f;font-family:Arial,Helvetica,sans-serif;\">\n"
                        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" "
                        "cellspacing=\"0\" style=\"max-width:960px;\"><tr><td>\n"
                        "<h1 style=\"font-size:20px;margin:0 0 8px 0;\">");
    s_escaped(out, document->subject);
    sd_text_append(out, "</h1>\n");
}

char *sd_render_html(const sd_document *document, size_t *size)
{
    sd_text out = {0};
    s_header(&out, document);
    s_warning_box(&out, document);
    for (size_t i = 0; i < document->table_count; i++)
        s_table(&out, document, &document->tables[i]);
    sd_text_append(&out, "</td></tr></table>\n</body></html>\n");
    return sd_text_take(&out, size);
}
