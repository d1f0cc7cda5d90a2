/*  sd_finish_months: daily rows summed into calendar months.  */
#include "sd_finish_months.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_finish.h"
#include "sd_format.h"

//  One value of the key that is not the date, with its figures.
typedef struct {
    char *name;
    double total;                   //  the first summed metric over every month
} s_group;

typedef struct {
    const sd_table_def *def;
    const sd_table_normalized *table;
    int first_month;                //  year * 12 + month - 1 of the period's first month
    size_t month_count;
    size_t first_data;              //  first month with a row; month_count when none
    int date_column;
    int other_column;               //  -1 when the date is the only key
    const char *other_key;
    s_group *groups;
    size_t group_count;
    size_t *order;                  //  groups shown, in order
    size_t order_count;
    size_t metric_count;            //  the def's non-local metrics
    int *columns;                   //  their columns in the table, -1 when missing
    double *sums;                   //  group x month x metric
    bool *integer;                  //  per metric: every summed cell was an integer
} s_months;

//  Replaces the table's data and drops its totals.
static void s_install_months(sd_table_normalized *table, sd_table_data *data)
{
    for (size_t i = 0; table->totals && i < table->data.column_count; i++)
        sd_value_clear(&table->totals[i]);
    free(table->totals);
    table->totals = NULL;
    sd_table_data_clear(&table->data);
    table->data = *data;
    *data = (sd_table_data){0};
}

static void s_months_clear(s_months *self)
{
    for (size_t g = 0; g < self->group_count; g++)
        free(self->groups[g].name);
    free(self->groups);
    free(self->order);
    free(self->columns);
    free(self->sums);
    free(self->integer);
}

static double *s_sum(s_months *self, size_t group, size_t month, size_t metric)
{
    return &self->sums[(group * self->month_count + month) * self->metric_count + metric];
}

//  Returns the month index of a YYYYMMDD cell in the period, or -1.
static long s_month_of(const s_months *self, const sd_value *cell)
{
    long ymd = -1;
    if (cell->kind == SD_VALUE_STRING && cell->as.s.len == 8)
        ymd = strtol(cell->as.s.ptr, NULL, 10);
    else if (cell->kind == SD_VALUE_INT)
        ymd = (long)cell->as.i;
    if (ymd < 0)
        return -1;
    long index = (ymd / 10000) * 12 + (ymd / 100) % 100 - 1 - self->first_month;
    return index >= 0 && (size_t)index < self->month_count ? index : -1;
}

//  Returns the group of a key cell, adding it when new; SIZE_MAX when out
//  of memory.
static size_t s_group_of(s_months *self, const char *name, size_t len)
{
    for (size_t g = 0; g < self->group_count; g++) {
        if (strlen(self->groups[g].name) == len && memcmp(self->groups[g].name, name, len) == 0)
            return g;
    }
    s_group *groups = realloc(self->groups, (self->group_count + 1) * sizeof *groups);
    if (!groups)
        return SIZE_MAX;
    self->groups = groups;
    char *copy = strndup(name, len);
    if (!copy)
        return SIZE_MAX;
    groups[self->group_count] = (s_group){copy, 0.0};
    return self->group_count++;
}

static int s_setup(s_months *self, const sd_plan *plan, size_t index)
{
    const sd_date_range *range = &plan->tables[index].periods.current;
    self->first_month = range->start.year * 12 + range->start.month - 1;
    int last = range->end.year * 12 + range->end.month - 1;
    self->month_count = last >= self->first_month ? (size_t)(last - self->first_month + 1) : 0;
    self->first_data = self->month_count;
    self->metric_count = 0;
    for (size_t m = 0; m < sd_table_def_metric_count(self->def); m++)
        self->metric_count += self->def->metrics[m].local ? 0 : 1;
    self->columns = calloc(self->metric_count + 1, sizeof *self->columns);
    self->integer = calloc(self->metric_count + 1, sizeof *self->integer);
    if (!self->columns || !self->integer)
        return -1;
    for (size_t m = 0; m < self->metric_count; m++) {
        self->columns[m] = sd_table_data_column(&self->table->data, self->def->metrics[m].name);
        self->integer[m] = true;
    }
    return 0;
}

//  Returns the group of row r, or SIZE_MAX when the row is outside the
//  period or its key is not a string. With add, a new key becomes a group,
//  and *failed is set when out of memory.
static size_t s_row_group(s_months *self, size_t r, long *month, bool add, bool *failed)
{
    const sd_table_data *data = &self->table->data;
    const sd_value *cells = &data->cells[r * data->column_count];
    *month = s_month_of(self, &cells[self->date_column]);
    const sd_value *key = self->other_column >= 0 ? &cells[self->other_column] : NULL;
    if (*month < 0 || (key && key->kind != SD_VALUE_STRING))
        return SIZE_MAX;
    const char *name = key ? key->as.s.ptr : "";
    size_t len = key ? key->as.s.len : 0;
    for (size_t g = 0; g < self->group_count; g++) {
        if (strlen(self->groups[g].name) == len && memcmp(self->groups[g].name, name, len) == 0)
            return g;
    }
    size_t group = add ? s_group_of(self, name, len) : SIZE_MAX;
    *failed = add && group == SIZE_MAX;
    return group;
}

//  Finds the groups, then sums the rows per group, month and "scale"
//  metric.
static int s_collect(s_months *self)
{
    const sd_table_data *data = &self->table->data;
    bool failed = false;
    long month;
    for (size_t r = 0; r < data->row_count && !failed; r++)
        s_row_group(self, r, &month, true, &failed);
    if (failed)
        return -1;
    self->sums = calloc(self->group_count * self->month_count * self->metric_count + 1,
                        sizeof *self->sums);
    if (!self->sums)
        return -1;
    for (size_t r = 0; r < data->row_count; r++) {
        size_t group = s_row_group(self, r, &month, false, &failed);
        if (group == SIZE_MAX)
            continue;
        if ((size_t)month < self->first_data)
            self->first_data = (size_t)month;
        const sd_value *cells = &data->cells[r * data->column_count];
        for (size_t m = 0; m < self->metric_count; m++) {
            if (self->columns[m] < 0 || strcmp(self->def->metrics[m].op, "scale") != 0)
                continue;
            const sd_value *cell = &cells[self->columns[m]];
            *s_sum(self, group, (size_t)month, m) += sd_format_to_double(cell);
            self->integer[m] = self->integer[m] && cell->kind == SD_VALUE_INT;
            if (m == 0)
                self->groups[group].total += sd_format_to_double(cell);
        }
    }
    return 0;
}

static int s_by_total(const s_months *self, size_t a, size_t b)
{
    const s_group *x = &self->groups[a];
    const s_group *y = &self->groups[b];
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return strcmp(x->name, y->name);
}

//  Orders the groups by total, largest first (insertion sort: a handful
//  of groups).
static void s_sort_groups(s_months *self, size_t *order, size_t count)
{
    for (size_t i = 1; i < count; i++) {
        size_t item = order[i];
        size_t j = i;
        while (j > 0 && s_by_total(self, order[j - 1], item) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = item;
    }
}

//  Chooses the groups shown: all of them by total, or the leading
//  networks (added when absent) then the largest others.
static int s_choose(s_months *self, bool top)
{
    static const char *const leading[] = SD_FINISH_LEADING_NETWORKS;
    size_t leading_count = top ? sizeof leading / sizeof leading[0] : 0;
    self->order = calloc(self->group_count + 1, sizeof *self->order);
    if (!self->order)
        return -1;
    size_t rest = 0;
    for (size_t g = 0; g < self->group_count; g++) {
        bool lead = false;
        for (size_t i = 0; i < leading_count; i++)
            lead = lead || strcmp(self->groups[g].name, leading[i]) == 0;
        if (!lead)
            self->order[leading_count + rest++] = g;
    }
    s_sort_groups(self, self->order + leading_count, rest);
    for (size_t i = 0; i < leading_count; i++)
        self->order[i] = s_group_of(self, leading[i], strlen(leading[i]));
    self->order_count = leading_count + rest;
    if (top && self->order_count > SD_FINISH_NETWORK_COUNT)
        self->order_count = SD_FINISH_NETWORK_COUNT;
    return 0;
}

//  Adds the networks shown first, so that they have a row even without
//  data.
static int s_add_leading(s_months *self)
{
    static const char *const leading[] = SD_FINISH_LEADING_NETWORKS;
    for (size_t i = 0; i < sizeof leading / sizeof leading[0]; i++) {
        if (s_group_of(self, leading[i], strlen(leading[i])) == SIZE_MAX)
            return -1;
    }
    return 0;
}

//  Returns the index of the "scale" metric a "share" metric divides.
static size_t s_share_base(const s_months *self, size_t metric)
{
    const sd_metric_def *share = &self->def->metrics[metric];
    for (size_t m = 0; m < self->metric_count; m++) {
        const sd_metric_def *def = &self->def->metrics[m];
        if (strcmp(def->op, "scale") == 0 && strcmp(def->a, share->a) == 0)
            return m;
    }
    return SIZE_MAX;
}

//  Writes the cell of a metric for (group, month): NIL before the data
//  starts, a share of the month's total, or the sum.
static void s_metric_cell(const s_months *self, sd_value *cell, size_t group, size_t month,
                          size_t metric)
{
    if (month < self->first_data)
        return;
    const sd_metric_def *def = &self->def->metrics[metric];
    if (strcmp(def->op, "share") == 0) {
        size_t base = s_share_base(self, metric);
        double all = 0.0;
        for (size_t g = 0; base != SIZE_MAX && g < self->group_count; g++)
            all += *s_sum((s_months *)self, g, month, base);
        double part = base != SIZE_MAX ? *s_sum((s_months *)self, group, month, base) : 0.0;
        cell->kind = SD_VALUE_FLOAT;
        cell->as.f = all > 0 ? part / all * 100 : 0.0;
        return;
    }
    double value = *s_sum((s_months *)self, group, month, metric);
    if (self->integer[metric]) {
        cell->kind = SD_VALUE_INT;
        cell->as.i = (int64_t)llround(value);
    } else {
        cell->kind = SD_VALUE_FLOAT;
        cell->as.f = value;
    }
}

//  The columns of the rebuilt table: the keys in definition order, then
//  the metrics. Names are borrowed.
static sd_column *s_columns(const s_months *self, size_t *count)
{
    size_t keys = sd_table_def_key_count(self->def);
    sd_column *columns = calloc(keys + self->metric_count, sizeof *columns);
    if (!columns)
        return NULL;
    for (size_t k = 0; k < keys; k++)
        columns[k] = (sd_column){(char *)self->def->keys[k].name, SD_COLUMN_DIMENSION, ""};
    for (size_t m = 0; m < self->metric_count; m++) {
        const sd_metric_def *def = &self->def->metrics[m];
        columns[keys + m] = (sd_column){(char *)def->name, SD_COLUMN_METRIC, (char *)def->unit};
    }
    *count = keys + self->metric_count;
    return columns;
}

static int s_fill_row(const s_months *self, sd_value *cells, size_t group, size_t month)
{
    size_t keys = sd_table_def_key_count(self->def);
    for (size_t k = 0; k < keys; k++) {
        if (strcmp(self->def->keys[k].name, "date") == 0) {
            int index = self->first_month + (int)month;
            char text[16];
            snprintf(text, sizeof text, "%04d-%02d", index / 12, index % 12 + 1);
            if (sd_value_set_string(&cells[k], text, strlen(text)) != 0)
                return -1;
        } else {
            const char *name = self->groups[group].name;
            if (sd_value_set_string(&cells[k], name, strlen(name)) != 0)
                return -1;
        }
    }
    for (size_t m = 0; m < self->metric_count; m++)
        s_metric_cell(self, &cells[keys + m], group, month, m);
    return 0;
}

static int s_build(const s_months *self, sd_table_data *data)
{
    size_t count = 0;
    sd_column *columns = s_columns(self, &count);
    int rc = columns ? sd_table_data_init(data, columns, count, 0) : -1;
    free(columns);
    bool month_first = strcmp(self->def->keys[0].name, "date") == 0;
    size_t outer = month_first ? self->month_count : self->order_count;
    size_t inner = month_first ? self->order_count : self->month_count;
    for (size_t i = 0; rc == 0 && i < outer; i++) {
        for (size_t j = 0; rc == 0 && j < inner; j++) {
            size_t group = self->order[month_first ? j : i];
            size_t month = month_first ? i : j;
            sd_value *cells = sd_table_data_append_row(data);
            rc = cells ? s_fill_row(self, cells, group, month) : -1;
        }
    }
    return rc;
}

//  Finds the date column and the other key. Returns false when the table
//  does not have the shape this step handles.
static bool s_find_keys(s_months *self)
{
    size_t keys = sd_table_def_key_count(self->def);
    self->date_column = sd_table_data_column(&self->table->data, "date");
    self->other_column = -1;
    if (self->date_column < 0 || keys > 2)
        return false;
    for (size_t k = 0; k < keys; k++) {
        if (strcmp(self->def->keys[k].name, "date") == 0)
            continue;
        self->other_key = self->def->keys[k].name;
        self->other_column = sd_table_data_column(&self->table->data, self->other_key);
        if (self->other_column < 0)
            return false;
    }
    return true;
}

int sd_finish_months(const sd_plan *plan, size_t index, sd_table_normalized *table, bool top)
{
    s_months self = {.def = plan->tables[index].def, .table = table};
    if (!s_find_keys(&self))
        return 0;
    sd_table_data data = {0};
    int rc = s_setup(&self, plan, index);
    if (rc == 0 && top && self.other_column >= 0)
        rc = s_add_leading(&self);
    if (rc == 0)
        rc = s_collect(&self);
    if (rc == 0 && self.group_count == 0 && self.other_column < 0)
        rc = s_group_of(&self, "", 0) == SIZE_MAX ? -1 : 0;
    if (rc == 0)
        rc = s_choose(&self, top && self.other_column >= 0);
    if (rc == 0)
        rc = s_build(&self, &data);
    if (rc == 0)
        s_install_months(table, &data);
    sd_table_data_clear(&data);
    s_months_clear(&self);
    return rc;
}
