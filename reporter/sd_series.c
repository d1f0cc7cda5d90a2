/*  sd_series: a table read as time series.  */
#include "sd_series.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_format.h"
#include "sd_period.h"

//  Upper bounds that keep a chart and a table readable and the arrays
//  small; a table with more is cut (36 months of 6 networks fit).
#define S_MAX_DATES 400
#define S_MAX_SERIES 12

int sd_series_date_key(const sd_table_def *def)
{
    for (size_t k = 0; k < sd_table_def_key_count(def); k++) {
        if (strcmp(def->keys[k].name, "date") == 0)
            return (int)k;
    }
    return -1;
}

//  Returns the index of text in list, adding it when there is room, or -1.
static int s_intern(char **list, size_t *count, size_t max, const char *text, size_t len)
{
    for (size_t i = 0; i < *count; i++) {
        if (strlen(list[i]) == len && memcmp(list[i], text, len) == 0)
            return (int)i;
    }
    if (*count >= max)
        return -1;
    list[*count] = strndup(text, len);
    return list[*count] ? (int)(*count)++ : -1;
}

static const sd_value *s_cell(const sd_table_normalized *table, size_t row, int column)
{
    return &table->data.cells[row * table->data.column_count + (size_t)column];
}

//  Picks the metric of a series table with a second key.
static const sd_metric_def *s_pick_metric(const sd_table_def *def)
{
    for (size_t m = 0; m < sd_table_def_metric_count(def); m++) {
        if (strcmp(def->metrics[m].unit, "percent") == 0)
            return &def->metrics[m];
    }
    return sd_table_def_metric_count(def) > 0 ? &def->metrics[0] : NULL;
}

static int s_allocate(sd_series *self)
{
    self->dates = calloc(S_MAX_DATES, sizeof *self->dates);
    self->names = calloc(S_MAX_SERIES, sizeof *self->names);
    self->decimals = calloc(S_MAX_SERIES, sizeof *self->decimals);
    self->values = calloc((size_t)S_MAX_DATES * S_MAX_SERIES, sizeof *self->values);
    self->present = calloc((size_t)S_MAX_DATES * S_MAX_SERIES, sizeof *self->present);
    return self->dates && self->names && self->decimals && self->values && self->present ? 0
                                                                                          : -1;
}

//  Stores a figure; nil and strings stay "no data".
static void s_store(sd_series *self, int date, int series, const sd_value *value)
{
    if (date < 0 || series < 0 || !value)
        return;
    if (value->kind != SD_VALUE_INT && value->kind != SD_VALUE_FLOAT)
        return;
    size_t at = (size_t)date * S_MAX_SERIES + (size_t)series;
    self->values[at] = sd_format_to_double(value);
    self->present[at] = true;
}

//  Every metric is a series (tables keyed by the date alone).
static int s_read_metrics(sd_series *self, const sd_table_def *def,
                          const sd_table_normalized *table, int date_column)
{
    size_t metrics = sd_table_def_metric_count(def);
    for (size_t m = 0; m < metrics && m < S_MAX_SERIES; m++) {
        self->names[m] = strdup(def->metrics[m].label);
        self->decimals[m] = def->metrics[m].decimals;
        if (!self->names[m])
            return -1;
        self->series_count++;
    }
    for (size_t r = 0; r < table->data.row_count; r++) {
        const sd_value *key = s_cell(table, r, date_column);
        if (key->kind != SD_VALUE_STRING)
            continue;
        int d = s_intern(self->dates, &self->date_count, S_MAX_DATES, key->as.s.ptr,
                         key->as.s.len);
        for (size_t m = 0; m < self->series_count; m++) {
            int column = sd_table_data_column(&table->data, def->metrics[m].name);
            s_store(self, d, (int)m, column >= 0 ? s_cell(table, r, column) : NULL);
        }
    }
    return 0;
}

//  Each value of the other key is a series of one metric.
static int s_read_pivot(sd_series *self, const sd_table_def *def,
                        const sd_table_normalized *table, int date_column, int other_column)
{
    const sd_metric_def *metric = s_pick_metric(def);
    int column = metric ? sd_table_data_column(&table->data, metric->name) : -1;
    if (column < 0)
        return 0;
    self->unit = metric->unit;
    self->metric_label = metric->label;
    for (size_t r = 0; r < table->data.row_count; r++) {
        const sd_value *key = s_cell(table, r, date_column);
        const sd_value *name = s_cell(table, r, other_column);
        if (key->kind != SD_VALUE_STRING || name->kind != SD_VALUE_STRING)
            continue;
        int d = s_intern(self->dates, &self->date_count, S_MAX_DATES, key->as.s.ptr,
                         key->as.s.len);
        size_t before = self->series_count;
        int s = s_intern(self->names, &self->series_count, S_MAX_SERIES, name->as.s.ptr,
                         name->as.s.len);
        if (s >= 0 && self->series_count > before)
            self->decimals[s] = metric->decimals;
        s_store(self, d, s, s_cell(table, r, column));
    }
    return 0;
}

//  Moves the values from the S_MAX_SERIES stride to series_count.
static void s_compact(sd_series *self)
{
    for (size_t d = 0; d < self->date_count; d++) {
        for (size_t s = 0; s < self->series_count; s++) {
            self->values[d * self->series_count + s] = self->values[d * S_MAX_SERIES + s];
            self->present[d * self->series_count + s] = self->present[d * S_MAX_SERIES + s];
        }
    }
}

//  Returns the column of the key that is neither the date nor absent, -2
//  when the table has more than two keys, -1 when it has only the date.
static int s_other_column(const sd_table_def *def, const sd_table_normalized *table,
                          int date_key)
{
    size_t keys = sd_table_def_key_count(def);
    if (keys > 2)
        return -2;
    if (keys == 1)
        return -1;
    const sd_key_def *other = &def->keys[date_key == 0 ? 1 : 0];
    int column = sd_table_data_column(&table->data, sd_key_def_column(other));
    return column >= 0 ? column : -2;
}

sd_series *sd_series_new(const sd_document_table *entry)
{
    const sd_table_def *def = entry->def;
    const sd_table_normalized *table = entry->table;
    int date_key = sd_series_date_key(def);
    if (!table || date_key < 0 || table->data.row_count == 0)
        return NULL;
    int date_column = sd_table_data_column(&table->data, sd_key_def_column(&def->keys[date_key]));
    int other_column = s_other_column(def, table, date_key);
    if (date_column < 0 || other_column == -2)
        return NULL;
    sd_series *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->unit = "";
    self->metric_label = "";
    int rc = s_allocate(self);
    if (rc == 0 && other_column < 0)
        rc = s_read_metrics(self, def, table, date_column);
    else if (rc == 0)
        rc = s_read_pivot(self, def, table, date_column, other_column);
    if (rc != 0 || self->date_count == 0 || self->series_count == 0) {
        sd_series_destroy(&self);
        return NULL;
    }
    s_compact(self);
    return self;
}

void sd_series_date_label(const char *date, bool brief, char *buffer, size_t size)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    char iso[11];
    sd_date day;
    size_t len = strlen(date);
    bool digits = strspn(date, "0123456789") == 8;
    if (len == 8 && digits) {
        snprintf(iso, sizeof iso, "%.4s-%.2s-%.2s", date, date + 4, date + 6);
        if (sd_date_parse(iso, &day) == 0) {
            if (brief)
                snprintf(buffer, size, "%02d %s", day.day, months[day.month - 1]);
            else
                snprintf(buffer, size, "%s %02d %s %04d", days[sd_date_weekday(day)], day.day,
                         months[day.month - 1], day.year);
            return;
        }
    }
    snprintf(iso, sizeof iso, "%.7s-01", date);
    if (len == 7 && date[4] == '-' && sd_date_parse(iso, &day) == 0) {
        if (brief)
            snprintf(buffer, size, "%s %02d", months[day.month - 1], day.year % 100);
        else
            snprintf(buffer, size, "%s %04d", months[day.month - 1], day.year);
        return;
    }
    snprintf(buffer, size, "%s", date);
}

static void s_free_list(char **list, size_t count)
{
    for (size_t i = 0; list && i < count; i++)
        free(list[i]);
    free(list);
}

void sd_series_destroy(sd_series **self_p)
{
    sd_series *self = *self_p;
    if (!self)
        return;
    s_free_list(self->dates, self->date_count);
    s_free_list(self->names, self->series_count);
    free(self->decimals);
    free(self->values);
    free(self->present);
    free(self);
    *self_p = NULL;
}
