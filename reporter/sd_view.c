/*  sd_view: the data the HTML and text templates are rendered from.  */
#include "sd_view.h"

#include <stdio.h>
#include <string.h>

#include "sd_format.h"
#include "sd_period.h"
#include "sd_series.h"
#include "sd_utf8.h"
#include "sd_view_matrix.h"

//  The row index of a table's totals line.
#define S_TOTALS SIZE_MAX

json_t *sd_view_string(const char *text, size_t len)
{
    if (sd_utf8_valid(text, len, false, NULL))
        return json_stringn(text, len);
    //  Copy the valid runs; each byte that does not fit becomes U+FFFD.
    char *clean = malloc(len * 3 + 1);
    if (!clean)
        return NULL;
    size_t out = 0;
    size_t at = 0;
    while (at < len) {
        size_t offset = len - at;
        if (!sd_utf8_valid(text + at, len - at, false, &offset)) {
            memcpy(clean + out, text + at, offset);
            out += offset;
            memcpy(clean + out, "\xEF\xBF\xBD", 3);
            out += 3;
            at += offset + 1;
            continue;
        }
        memcpy(clean + out, text + at, len - at);
        out += len - at;
        at = len;
    }
    json_t *string = json_stringn(clean, out);
    free(clean);
    return string;
}

json_t *sd_view_value_string(const char *text, size_t len)
{
    size_t cut = sd_format_text_cut(text, len);
    if (cut == len)
        return sd_view_string(text, len);
    size_t ellipsis = strlen(SD_FORMAT_ELLIPSIS);
    char *shortened = malloc(cut + ellipsis);
    if (!shortened)
        return NULL;
    memcpy(shortened, text, cut);
    memcpy(shortened + cut, SD_FORMAT_ELLIPSIS, ellipsis);
    json_t *string = sd_view_string(shortened, cut + ellipsis);
    free(shortened);
    return string;
}

static json_t *s_text(const char *text)
{
    return sd_view_string(text ? text : "", text ? strlen(text) : 0);
}

static json_t *s_strings(const sd_strings *strings)
{
    json_t *array = json_array();
    for (size_t i = 0; array && strings && i < strings->count; i++)
        json_array_append_new(array, s_text(strings->items[i]));
    return array;
}

//  Describes a period given as "YYYY-MM-DD" ends the way subjects do.
static void s_describe(const char *start, const char *end, char *buffer, size_t size)
{
    sd_date_range range;
    if (!start || !end || sd_date_parse(start, &range.start) != 0 ||
        sd_date_parse(end, &range.end) != 0) {
        snprintf(buffer, size, "%s", "");
        return;
    }
    sd_frequency frequency = SD_FREQUENCY_WEEKLY;
    if (sd_date_compare(range.start, range.end) == 0)
        frequency = SD_FREQUENCY_DAILY;
    else if (range.start.day == 1 && range.start.month == range.end.month &&
             range.start.year == range.end.year &&
             range.end.day == sd_date_days_in_month(range.end.year, range.end.month))
        frequency = SD_FREQUENCY_MONTHLY;
    sd_period_describe(frequency, &range, buffer, size);
}

static void s_describe_range(sd_frequency frequency, const sd_date_range *range, char *buffer,
                             size_t size)
{
    sd_period_describe(frequency, range, buffer, size);
}

//  Returns the dates of a table's period: the table's own when it lists
//  them, else the report's.
static void s_period_dates(const sd_document *document, const sd_document_table *entry,
                           const char *label, char *buffer, size_t size)
{
    for (size_t p = 0; entry->table && p < entry->table->period_count; p++) {
        const sd_period *period = &entry->table->periods[p];
        if (strcmp(period->label, label) == 0) {
            s_describe(period->start, period->end, buffer, size);
            return;
        }
    }
    const sd_report_periods *periods = document->periods;
    const sd_date_range *range = strcmp(label, "yearly") == 0     ? &periods->yearly
                                 : strcmp(label, "previous") == 0 ? &periods->previous
                                                                  : &periods->current;
    s_describe_range(document->frequency, range, buffer, size);
}

//  Returns the label of a table's compared period: its definition's title,
//  else "YoY" or the frequency's ("WoW", "DoD", "MoM").
static const char *s_compare_label(const sd_document *document, const sd_table_def *def,
                                   size_t index)
{
    if (def->compare_titles[index])
        return def->compare_titles[index];
    if (strcmp(def->compare[index], "yearly") == 0)
        return "YoY";
    if (strcmp(def->compare[index], "previous") == 0)
        return sd_frequency_label(document->frequency);
    return def->compare[index];
}

json_t *sd_view_report(const sd_document *document)
{
    char current[96], previous[96], yearly[96];
    s_describe_range(document->frequency, &document->periods->current, current, sizeof current);
    s_describe_range(document->frequency, &document->periods->previous, previous,
                     sizeof previous);
    s_describe_range(document->frequency, &document->periods->yearly, yearly, sizeof yearly);
    size_t missing = document->missing ? document->missing->count : 0;
    size_t warnings = document->warnings ? document->warnings->count : 0;
    json_t *view = json_pack("{s:o, s:b}", "quality", s_text(document->quality), "has_quality",
                             document->quality != NULL);
    json_t *fields = json_pack("{s:o, s:o, s:o, s:b, s:{s:o, s:o, s:o}, s:o, s:o, s:b, s:b, s:b, "
                             "s:[]}",
                             "subject", s_text(document->subject), "report",
                             s_text(document->report), "status", s_text(document->status),
                             "partial", missing > 0, "periods", "current", s_text(current),
                             "previous", s_text(previous), "yearly", s_text(yearly), "missing",
                             s_strings(document->missing), "warnings",
                             s_strings(document->warnings), "has_missing", missing > 0,
                             "has_warnings", missing > 0 || warnings > 0, "has_warning_lines",
                             warnings > 0, "tables");
    if (!view || !fields || json_object_update(view, fields) != 0)
        json_decref(view), view = NULL;
    json_decref(fields);
    return view;
}

//  ---------------------------------------------------------------------
//  Cells

static const sd_value *s_cell(const sd_table_normalized *table, size_t row, const char *column)
{
    int index = sd_table_data_column(&table->data, column);
    if (index < 0)
        return NULL;
    if (row == S_TOTALS)
        return table->totals ? &table->totals[index] : NULL;
    return &table->data.cells[row * table->data.column_count + (size_t)index];
}

static const sd_value *s_metric_cell(const sd_table_normalized *table, size_t row,
                                     const char *kind, const char *period, const char *metric)
{
    char column[200];
    snprintf(column, sizeof column, "%s_%s_%s", period, kind, metric);
    return s_cell(table, row, column);
}

static json_t *s_number(const sd_value *value, int decimals, bool sign)
{
    char text[SD_FORMAT_SIZE] = "n/a";
    if (value && value->kind == SD_VALUE_NIL)
        snprintf(text, sizeof text, "no data");
    else if (value)
        sd_format_value(value, decimals, sign, text, sizeof text);
    return s_text(text);
}

//  A figure of a metric: with its significant digits when the definition
//  sets them (the likes:dislikes ratio), else with its decimals.
static json_t *s_metric_number(const sd_value *value, const sd_metric_def *metric, bool sign)
{
    bool numeric = value && (value->kind == SD_VALUE_INT || value->kind == SD_VALUE_FLOAT);
    if (metric->significant <= 0 || !numeric)
        return s_number(value, metric->decimals, sign);
    char text[SD_FORMAT_SIZE];
    sd_format_significant(sd_format_to_double(value), metric->significant, sign, text,
                          sizeof text);
    return s_text(text);
}

static const char *s_color(const sd_value *change)
{
    double value = change ? sd_format_to_double(change) : 0.0;
    return value > 0 ? SD_VIEW_COLOR_UP : (value < 0 ? SD_VIEW_COLOR_DOWN : SD_VIEW_COLOR_FLAT);
}

//  {label, change: "+56", percent: "+4.8%", color} of one compared period.
static json_t *s_change(const sd_table_normalized *table, size_t row, const sd_metric_def *metric,
                        const char *period, const char *label)
{
    const sd_value *change = s_metric_cell(table, row, "change", period, metric->name);
    const sd_value *percentage = s_metric_cell(table, row, "percentage", period, metric->name);
    char percent[SD_FORMAT_SIZE] = "n/a";
    if (percentage && percentage->kind != SD_VALUE_NIL)
        sd_format_percent(sd_format_to_double(percentage), percent, sizeof percent);
    return json_pack("{s:o, s:o, s:o, s:o, s:s}", "label", s_text(label), "figure",
                     s_metric_number(s_metric_cell(table, row, "figure", period, metric->name),
                                     metric, false),
                     "change", s_metric_number(change, metric, true), "percent",
                     s_text(percent), "color", s_color(change));
}

static json_t *s_headers(const sd_table_def *def, bool with_keys)
{
    json_t *headers = json_array();
    size_t keys = sd_table_def_key_count(def);
    for (size_t k = 0; with_keys && k < keys; k++)
        json_array_append_new(headers, json_pack("{s:o, s:s}", "label",
                                                 s_text(def->keys[k].label), "align", "left"));
    if (!with_keys || keys == 0)
        json_array_append_new(headers, json_pack("{s:s, s:s}", "label", "", "align", "left"));
    for (size_t m = 0; m < sd_table_def_metric_count(def); m++)
        json_array_append_new(headers, json_pack("{s:o, s:s}", "label",
                                                 s_text(def->metrics[m].label), "align", "right"));
    return headers;
}

//  ---------------------------------------------------------------------
//  Layouts

//  One line per period: the current figures, then each compared period's
//  figures with their change.
static json_t *s_overview_rows(const sd_document *document, const sd_document_table *entry)
{
    const sd_table_def *def = entry->def;
    const sd_table_normalized *table = entry->table;
    size_t row = table->data.row_count > 0 ? 0 : S_TOTALS;
    json_t *rows = json_array();
    char dates[96];
    s_period_dates(document, entry, "current", dates, sizeof dates);
    json_t *current = json_pack("{s:o, s:b, s:[]}", "label", s_text(dates), "current", true,
                                "cells");
    for (size_t m = 0; current && m < sd_table_def_metric_count(def); m++)
        json_array_append_new(json_object_get(current, "cells"),
                              json_pack("{s:o}", "figure",
                                        s_metric_number(s_cell(table, row, def->metrics[m].name),
                                                        &def->metrics[m], false)));
    json_array_append_new(rows, current);
    for (size_t c = 0; c < sd_table_def_compare_count(def); c++) {
        s_period_dates(document, entry, def->compare[c], dates, sizeof dates);
        const char *label = s_compare_label(document, def, c);
        json_t *line = json_pack("{s:o, s:o, s:b, s:[]}", "label", s_text(label), "detail",
                                 s_text(dates), "current", false, "cells");
        for (size_t m = 0; line && m < sd_table_def_metric_count(def); m++)
            json_array_append_new(json_object_get(line, "cells"),
                                  s_change(table, row, &def->metrics[m], def->compare[c], label));
        json_array_append_new(rows, line);
    }
    return rows;
}

static json_t *s_key_text(const sd_value *value)
{
    if (value && value->kind == SD_VALUE_STRING)
        return sd_view_value_string(value->as.s.ptr ? value->as.s.ptr : "", value->as.s.len);
    char text[SD_FORMAT_SIZE] = "";
    if (value && value->kind != SD_VALUE_NIL)
        sd_format_value(value, 0, false, text, sizeof text);
    return s_text(text);
}

static json_t *s_ranked_row(const sd_document *document, const sd_document_table *entry,
                            size_t row)
{
    const sd_table_def *def = entry->def;
    const sd_table_normalized *table = entry->table;
    json_t *line = json_pack("{s:b, s:[], s:[]}", "total", row == S_TOTALS, "keys", "cells");
    json_t *keys = json_object_get(line, "keys");
    json_t *cells = json_object_get(line, "cells");
    size_t key_count = sd_table_def_key_count(def);
    for (size_t k = 0; k < (key_count ? key_count : 1); k++) {
        json_t *text = row == S_TOTALS ? s_text(k == 0 ? "Total" : "")
                       : key_count     ? s_key_text(s_cell(table, row, sd_key_def_column(&def->keys[k])))
                                       : s_text("");
        json_array_append_new(keys, json_pack("{s:o}", "text", text));
    }
    for (size_t m = 0; m < sd_table_def_metric_count(def); m++) {
        const sd_metric_def *metric = &def->metrics[m];
        json_t *cell = json_pack("{s:o, s:o, s:[]}", "metric", s_text(metric->label), "figure",
                                 s_metric_number(s_cell(table, row, metric->name), metric, false),
                                 "changes");
        for (size_t c = 0; cell && c < sd_table_def_compare_count(def); c++)
            json_array_append_new(json_object_get(cell, "changes"),
                                  s_change(table, row, metric, def->compare[c],
                                           s_compare_label(document, def, c)));
        json_array_append_new(cells, cell);
    }
    return line;
}

//  The overview's figures by metric, each with its changes: what the
//  plain-text part lists.
static json_t *s_overview_metrics(const sd_document *document, const sd_document_table *entry)
{
    const sd_table_def *def = entry->def;
    const sd_table_normalized *table = entry->table;
    size_t row = table->data.row_count > 0 ? 0 : S_TOTALS;
    json_t *metrics = json_array();
    for (size_t m = 0; m < sd_table_def_metric_count(def); m++) {
        const sd_metric_def *metric = &def->metrics[m];
        json_t *item = json_pack("{s:o, s:o, s:[]}", "metric", s_text(metric->label), "figure",
                                 s_metric_number(s_cell(table, row, metric->name), metric, false),
                                 "changes");
        for (size_t c = 0; item && c < sd_table_def_compare_count(def); c++)
            json_array_append_new(json_object_get(item, "changes"),
                                  s_change(table, row, metric, def->compare[c],
                                           s_compare_label(document, def, c)));
        json_array_append_new(metrics, item);
    }
    return metrics;
}

//  One line per key, limited to the definition's shown rows, then the
//  totals line when the table has totals.
static json_t *s_ranked_rows(const sd_document *document, const sd_document_table *entry)
{
    const sd_table_normalized *table = entry->table;
    size_t count = table->data.row_count;
    if (entry->def->shown > 0 && (size_t)entry->def->shown < count)
        count = (size_t)entry->def->shown;
    json_t *rows = json_array();
    for (size_t r = 0; r < count; r++)
        json_array_append_new(rows, s_ranked_row(document, entry, r));
    if (table->totals && sd_table_def_key_count(entry->def) > 0)
        json_array_append_new(rows, s_ranked_row(document, entry, S_TOTALS));
    return rows;
}

//  A series table as one line per date and one column per series.
static int s_series_rows(json_t *view, const sd_document_table *entry)
{
    sd_series *series = sd_series_new(entry);
    if (!series)
        return -1;
    json_t *headers = json_pack("[{s:o, s:s}]", "label",
                                s_text(entry->def->keys[sd_series_date_key(entry->def)].label),
                                "align", "left");
    for (size_t s = 0; s < series->series_count; s++)
        json_array_append_new(headers, json_pack("{s:o, s:s}", "label", s_text(series->names[s]),
                                                 "align", "right"));
    json_t *rows = json_array();
    for (size_t d = 0; d < series->date_count; d++) {
        char label[64];
        sd_series_date_label(series->dates[d], false, label, sizeof label);
        json_t *cells = json_array();
        for (size_t s = 0; s < series->series_count; s++) {
            size_t at = d * series->series_count + s;
            char text[SD_FORMAT_SIZE] = "no data";
            if (series->present[at])
                sd_format_double(series->values[at], series->decimals[s], false, text,
                                 sizeof text);
            json_array_append_new(cells, json_pack("{s:s}", "figure", text));
        }
        json_array_append_new(rows, json_pack("{s:o, s:o}", "label", s_text(label), "cells",
                                              cells));
    }
    json_object_set_new(view, "headers", headers);
    json_object_set_new(view, "rows", rows);
    json_object_set_new(view, "metric", s_text(series->metric_label));
    sd_series_destroy(&series);
    return 0;
}

bool sd_view_is_series(const sd_document_table *entry)
{
    return sd_series_date_key(entry->def) >= 0;
}

json_t *sd_view_table(const sd_document *document, const sd_document_table *entry,
                      const char *chart_src)
{
    const sd_table_def *def = entry->def;
    json_t *view = json_pack("{s:o, s:o, s:b}", "name", s_text(def->name), "title",
                             s_text(def->title), "arrived", entry->table != NULL);
    if (!view || !entry->table)
        return view;
    if (chart_src)
        json_object_set_new(view, "chart",
                            json_pack("{s:s, s:o}", "src", chart_src, "alt", s_text(def->title)));
    bool overview = def->layout == SD_LAYOUT_OVERVIEW;
    if (sd_view_is_series(entry) && s_series_rows(view, entry) == 0) {
        json_object_set_new(view, "series", json_true());
    } else if (sd_view_matrix_is(entry) && sd_view_matrix_rows(view, entry) == 0) {
        //  sd_view_matrix_rows set the layout.
    } else if (overview) {
        json_object_set_new(view, "overview", json_true());
        json_object_set_new(view, "headers", s_headers(def, false));
        json_object_set_new(view, "rows", s_overview_rows(document, entry));
        json_object_set_new(view, "metrics", s_overview_metrics(document, entry));
    } else {
        json_object_set_new(view, "ranked", json_true());
        json_object_set_new(view, "headers", s_headers(def, true));
        json_object_set_new(view, "rows", s_ranked_rows(document, entry));
    }
    json_object_set_new(view, "empty",
                        json_boolean(json_array_size(json_object_get(view, "rows")) == 0));
    return view;
}
