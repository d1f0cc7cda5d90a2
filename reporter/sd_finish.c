/*  sd_finish: what the reporter does to the normalized tables before
    rendering.  */
#include "sd_finish.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_finish_months.h"
#include "sd_format.h"

//  ---------------------------------------------------------------------
//  Cells and tables

static int s_copy_value(sd_value *dst, const sd_value *src)
{
    if (src->kind == SD_VALUE_STRING)
        return sd_value_set_string(dst, src->as.s.ptr ? src->as.s.ptr : "", src->as.s.len);
    *dst = *src;
    return 0;
}

static bool s_same_string(const sd_value *a, const sd_value *b)
{
    return a->kind == SD_VALUE_STRING && b->kind == SD_VALUE_STRING && a->as.s.len == b->as.s.len &&
           memcmp(a->as.s.ptr, b->as.s.ptr, a->as.s.len) == 0;
}

static const sd_value *s_cell(const sd_table_data *data, size_t row, size_t column)
{
    return &data->cells[row * data->column_count + column];
}

//  Returns the named column of row as a double (row SIZE_MAX: the totals,
//  or row 0 when there are none), or 0 when the column is missing.
static double s_number(const sd_table_normalized *table, size_t row, const char *name)
{
    int column = sd_table_data_column(&table->data, name);
    if (column < 0)
        return 0.0;
    if (row == SIZE_MAX && table->totals)
        return sd_format_to_double(&table->totals[column]);
    if (row == SIZE_MAX)
        row = 0;
    return row < table->data.row_count ? sd_format_to_double(s_cell(&table->data, row,
                                                                      (size_t)column))
                                       : 0.0;
}

static void s_set_int(sd_value *cell, int64_t value)
{
    cell->kind = SD_VALUE_INT;
    cell->as.i = value;
}

static void s_set_float(sd_value *cell, double value)
{
    cell->kind = SD_VALUE_FLOAT;
    cell->as.f = value;
}

//  Replaces the table's data and totals (one cell per column, or NULL).
static void s_install(sd_table_normalized *table, sd_table_data *data, sd_value *totals)
{
    for (size_t i = 0; table->totals && i < table->data.column_count; i++)
        sd_value_clear(&table->totals[i]);
    free(table->totals);
    sd_table_data_clear(&table->data);
    table->data = *data;
    table->totals = totals;
    *data = (sd_table_data){0};
}

static int s_append_copy(sd_table_data *dst, const sd_table_data *src, size_t row)
{
    sd_value *cells = sd_table_data_append_row(dst);
    if (!cells)
        return -1;
    for (size_t c = 0; c < src->column_count; c++) {
        if (s_copy_value(&cells[c], s_cell(src, row, c)) != 0)
            return -1;
    }
    return 0;
}

static void s_free_cells(sd_value *cells, size_t count)
{
    for (size_t i = 0; cells && i < count; i++)
        sd_value_clear(&cells[i]);
    free(cells);
}

//  Returns the old index of column c of a table that got count columns
//  inserted before column at (c outside the inserted ones).
static size_t s_old_column(size_t c, size_t at, size_t count)
{
    return c < at ? c : c - count;
}

//  Inserts columns of one kind and unit with NIL cells before column `at`
//  of the table, and of its totals when it has them. Returns 0 or -1.
static int s_insert_columns(sd_table_normalized *table, size_t at, const char *const *names,
                            size_t count, sd_column_kind kind, const char *unit)
{
    size_t old = table->data.column_count;
    size_t width = old + count;
    sd_column *columns = calloc(width, sizeof *columns);
    sd_value *totals = table->totals ? calloc(width, sizeof *totals) : NULL;
    sd_table_data data = {0};
    int rc = columns && (totals || !table->totals) ? 0 : -1;
    for (size_t c = 0; rc == 0 && c < width; c++) {
        if (c < at || c >= at + count)
            columns[c] = table->data.columns[s_old_column(c, at, count)];
        else
            columns[c] = (sd_column){(char *)names[c - at], kind, (char *)unit};
    }
    if (rc == 0)
        rc = sd_table_data_init(&data, columns, width, table->data.row_count);
    for (size_t r = 0; rc == 0 && r < table->data.row_count; r++) {
        sd_value *cells = sd_table_data_append_row(&data);
        for (size_t c = 0; cells && rc == 0 && c < width; c++) {
            if (c < at || c >= at + count)
                rc = s_copy_value(&cells[c], s_cell(&table->data, r, s_old_column(c, at, count)));
        }
        rc = cells ? rc : -1;
    }
    for (size_t c = 0; rc == 0 && table->totals && c < width; c++) {
        if (c < at || c >= at + count)
            rc = s_copy_value(&totals[c], &table->totals[s_old_column(c, at, count)]);
    }
    free(columns);
    if (rc != 0) {
        sd_table_data_clear(&data);
        s_free_cells(totals, width);
        return -1;
    }
    s_install(table, &data, totals);
    return 0;
}

//  Appends metric columns (NIL cells) to the table, and to its totals when
//  it has them. Returns 0 or -1.
static int s_widen(sd_table_normalized *table, const char *const *names, size_t count,
                   const char *unit)
{
    return s_insert_columns(table, table->data.column_count, names, count, SD_COLUMN_METRIC,
                            unit);
}

//  Returns the cell of the named column in row (SIZE_MAX: the totals).
static sd_value *s_target(sd_table_normalized *table, size_t row, const char *name)
{
    int column = sd_table_data_column(&table->data, name);
    if (column < 0)
        return NULL;
    if (row == SIZE_MAX)
        return &table->totals[column];
    return &table->data.cells[row * table->data.column_count + (size_t)column];
}

//  ---------------------------------------------------------------------
//  Rows per parent value

static int s_per_parent(const sd_plan *plan, size_t index, sd_msg **tables)
{
    const sd_plan_table *planned = &plan->tables[index];
    const sd_table_def *def = planned->def;
    sd_table_normalized *table = &tables[index]->as.table_normalized;
    int group = sd_table_data_column(&table->data, def->group_key);
    if (group < 0 || planned->parent < 0 || !tables[planned->parent])
        return 0;
    const sd_table_normalized *parent = &tables[planned->parent]->as.table_normalized;
    int parent_column = sd_table_data_column(&parent->data, def->parent_key);
    if (parent_column < 0)
        return 0;
    size_t parents = parent->data.row_count;
    if (def->parent_rows > 0 && (size_t)def->parent_rows < parents)
        parents = (size_t)def->parent_rows;
    int64_t limit = def->group_limit;
    if (plan->frequency == SD_FREQUENCY_MONTHLY && def->group_limit_monthly > 0)
        limit = def->group_limit_monthly;

    sd_table_data data;
    if (sd_table_data_init(&data, table->data.columns, table->data.column_count, 0) != 0)
        return -1;
    int rc = 0;
    for (size_t p = 0; rc == 0 && p < parents; p++) {
        const sd_value *value = s_cell(&parent->data, p, (size_t)parent_column);
        int64_t kept = 0;
        for (size_t r = 0; rc == 0 && kept < limit && r < table->data.row_count; r++) {
            if (!s_same_string(s_cell(&table->data, r, (size_t)group), value))
                continue;
            rc = s_append_copy(&data, &table->data, r);
            kept++;
        }
    }
    if (rc != 0) {
        sd_table_data_clear(&data);
        return -1;
    }
    //  The totals still cover every row the aggregator merged.
    sd_value *totals = table->totals;
    table->totals = NULL;
    s_install(table, &data, totals);
    return 0;
}

//  ---------------------------------------------------------------------
//  Month to date target and share of all users

static void s_month_target_row(sd_table_normalized *table, size_t row, int64_t days_left)
{
    double current = s_number(table, row, "pageviews");
    double last_year = s_number(table, row, "previous_figure_pageviews");
    int64_t needed = last_year > current ? (int64_t)llround(last_year - current) : 0;
    int64_t per_day = days_left > 0 ? (needed + days_left - 1) / days_left : 0;
    s_set_int(s_target(table, row, "days_left"), days_left);
    s_set_int(s_target(table, row, "pageviews_needed"), needed);
    s_set_int(s_target(table, row, "pageviews_needed_per_day"), per_day);
}

static int s_month_target(const sd_plan *plan, size_t index, sd_table_normalized *table)
{
    static const char *const names[] = {"days_left", "pageviews_needed",
                                        "pageviews_needed_per_day"};
    if (sd_table_data_column(&table->data, "pageviews") < 0)
        return 0;
    if (s_widen(table, names, 3, "count") != 0)
        return -1;
    sd_date end = plan->tables[index].periods.current.end;
    int64_t days_left = sd_date_days_in_month(end.year, end.month) - end.day;
    for (size_t r = 0; r < table->data.row_count; r++)
        s_month_target_row(table, r, days_left);
    if (table->totals)
        s_month_target_row(table, SIZE_MAX, days_left);
    return 0;
}

static double s_summary_users(const sd_plan *plan, sd_msg *const *tables)
{
    for (size_t t = 0; t < plan->table_count; t++) {
        if (tables[t] && strcmp(plan->tables[t].def->name, "summary") == 0)
            return s_number(&tables[t]->as.table_normalized, SIZE_MAX, "users");
    }
    return 0.0;
}

static int s_share_of_all(const sd_plan *plan, sd_msg *const *tables, sd_table_normalized *table)
{
    static const char *const names[] = {"share_of_all_users"};
    if (sd_table_data_column(&table->data, "users") < 0)
        return 0;
    if (s_widen(table, names, 1, "percent") != 0)
        return -1;
    double all = s_summary_users(plan, tables);
    size_t lines = table->data.row_count + (table->totals ? 1 : 0);
    for (size_t r = 0; r < lines; r++) {
        size_t row = r < table->data.row_count ? r : SIZE_MAX;
        double users = s_number(table, row, "users");
        s_set_float(s_target(table, row, "share_of_all_users"), all > 0 ? users / all * 100 : 0);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Columns looked up in another table

static int s_table_named(const sd_plan *plan, const char *name)
{
    for (size_t t = 0; name && t < plan->table_count; t++) {
        if (strcmp(plan->tables[t].def->name, name) == 0)
            return (int)t;
    }
    return -1;
}

//  Returns the row of source whose key cell equals value, or SIZE_MAX.
static size_t s_find_row(const sd_table_data *source, size_t key, const sd_value *value)
{
    for (size_t r = 0; r < source->row_count; r++) {
        if (s_same_string(s_cell(source, r, key), value))
            return r;
    }
    return SIZE_MAX;
}

//  Adds lookup_column after lookup_key when the table lacks it, then
//  copies its value from the lookup table's row with the same key. Cells
//  stay NIL where the lookup table or its row is missing: the outcome
//  already warns about a lookup table that failed.
static int s_lookup(const sd_plan *plan, size_t index, sd_msg **tables)
{
    const sd_table_def *def = plan->tables[index].def;
    sd_table_normalized *table = &tables[index]->as.table_normalized;
    int key = sd_table_data_column(&table->data, def->lookup_key);
    if (key < 0)
        return 0;
    int column = sd_table_data_column(&table->data, def->lookup_column);
    if (column < 0) {
        const char *names[] = {def->lookup_column};
        column = key + 1;
        if (s_insert_columns(table, (size_t)column, names, 1, SD_COLUMN_DIMENSION, "") != 0)
            return -1;
    }
    int from = s_table_named(plan, def->lookup_table);
    if (from < 0 || !tables[from])
        return 0;
    const sd_table_data *source = &tables[from]->as.table_normalized.data;
    int source_key = sd_table_data_column(source, def->lookup_key);
    int source_column = sd_table_data_column(source, def->lookup_column);
    for (size_t r = 0; source_key >= 0 && source_column >= 0 && r < table->data.row_count; r++) {
        size_t found = s_find_row(source, (size_t)source_key,
                                  s_cell(&table->data, r, (size_t)key));
        sd_value *cell = &table->data.cells[r * table->data.column_count + (size_t)column];
        if (found == SIZE_MAX)
            continue;
        sd_value_clear(cell);
        if (s_copy_value(cell, s_cell(source, found, (size_t)source_column)) != 0)
            return -1;
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Renaming

static int s_rename_keys(const sd_table_def *def, sd_table_normalized *table)
{
    for (size_t k = 0; k < sd_table_def_key_count(def); k++) {
        const sd_key_def *key = &def->keys[k];
        int column = sd_table_data_column(&table->data, key->name);
        if (!key->output || column < 0)
            continue;
        char *name = strdup(key->output);
        if (!name)
            return -1;
        free(table->data.columns[column].name);
        table->data.columns[column].name = name;
    }
    return 0;
}

static int s_finish_one(const sd_plan *plan, size_t index, sd_msg **tables)
{
    const sd_table_def *def = plan->tables[index].def;
    sd_table_normalized *table = &tables[index]->as.table_normalized;
    int rc = 0;
    switch (def->finish) {
    case SD_FINISH_PER_PARENT:
        rc = s_per_parent(plan, index, tables);
        break;
    case SD_FINISH_MONTH_TARGET:
        rc = s_month_target(plan, index, table);
        break;
    case SD_FINISH_SHARE_OF_ALL:
        rc = s_share_of_all(plan, tables, table);
        break;
    case SD_FINISH_LOOKUP:
        rc = s_lookup(plan, index, tables);
        break;
    case SD_FINISH_MONTHS:
    case SD_FINISH_TOP_NETWORK_MONTHS:
        rc = sd_finish_months(plan, index, table, def->finish == SD_FINISH_TOP_NETWORK_MONTHS);
        break;
    default:
        break;
    }
    return rc;
}

int sd_finish_tables(const sd_plan *plan, sd_msg **tables)
{
    //  Every step reads the API's key names, so renaming comes last.
    for (size_t t = 0; t < plan->table_count; t++) {
        if (tables[t] && s_finish_one(plan, t, tables) != 0)
            return -1;
    }
    for (size_t t = 0; t < plan->table_count; t++) {
        if (tables[t] && s_rename_keys(plan->tables[t].def, &tables[t]->as.table_normalized) != 0)
            return -1;
    }
    return 0;
}
