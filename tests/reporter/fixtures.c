/*  fixtures: configs and normalized tables built by hand.  */
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const fixture_metric_names[FIXTURE_METRICS] = {
    "pageviews", "users", "sessions", "pv_per_session", "avg_session_time"};

sd_config *fixture_config(const char *const *sites, size_t count, int render_margin_ms,
                          int table_margin_ms)
{
    char path[] = "/tmp/reporter-test-config-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    FILE *file = fdopen(fd, "w");
    fprintf(file, "{\"reporter\": {\"id\": \"rep1\", \"render_margin_ms\": %d, "
                  "\"table_margin_ms\": %d},\n \"ga\": {\"sites\": {",
            render_margin_ms, table_margin_ms);
    for (size_t i = 0; i < count; i++)
        fprintf(file, "%s\"%s\": [{\"property\": \"3100000%02zu\"}]", i ? ", " : "", sites[i],
                i + 1);
    fprintf(file, "}}}\n");
    fclose(file);
    sd_config_error err;
    sd_config *config = sd_config_load(path, &err);
    if (!config)
        fprintf(stderr, "fixture config rejected: %s: %s\n", err.key, err.text);
    unlink(path);
    return config;
}

static bool s_is_count(size_t metric)
{
    return metric < 3;
}

static void s_set_number(sd_value *cell, double value, bool integer)
{
    if (integer) {
        cell->kind = SD_VALUE_INT;
        cell->as.i = (int64_t)llround(value);
    } else {
        cell->kind = SD_VALUE_FLOAT;
        cell->as.f = value;
    }
}

//  Writes the 1 + 4 x 2 cells of one metric: figure, then per compared
//  period its figure, change and percentage.
static void s_metric_cells(sd_value *cells, size_t metric, double current, double previous,
                           double yearly)
{
    bool integer = s_is_count(metric);
    double compared[2] = {previous, yearly};
    s_set_number(&cells[0], current, integer);
    for (size_t p = 0; p < 2; p++) {
        double change = current - compared[p];
        s_set_number(&cells[1 + p * 3], compared[p], integer);
        s_set_number(&cells[2 + p * 3], change, integer);
        s_set_number(&cells[3 + p * 3], compared[p] != 0 ? change / compared[p] * 100 : 0, false);
    }
}

static sd_column *s_columns(bool with_site, size_t *count)
{
    static const char *const prefixes[] = {"", "previous_figure_", "previous_change_",
                                           "previous_percentage_", "yearly_figure_",
                                           "yearly_change_", "yearly_percentage_"};
    size_t total = (with_site ? 1 : 0) + FIXTURE_METRICS * 7;
    sd_column *columns = calloc(total, sizeof *columns);
    size_t c = 0;
    if (with_site)
        columns[c++] = (sd_column){strdup("site"), SD_COLUMN_DIMENSION, strdup("")};
    for (size_t m = 0; m < FIXTURE_METRICS; m++) {
        for (size_t p = 0; p < 7; p++) {
            char name[96];
            snprintf(name, sizeof name, "%s%s", prefixes[p], fixture_metric_names[m]);
            columns[c++] = (sd_column){strdup(name), SD_COLUMN_METRIC, strdup("count")};
        }
    }
    *count = total;
    return columns;
}

static void s_free_columns(sd_column *columns, size_t count)
{
    for (size_t c = 0; c < count; c++) {
        free(columns[c].name);
        free(columns[c].unit);
    }
    free(columns);
}

//  Fills a row (or the totals) from figures per period.
static void s_fill(sd_value *cells, bool with_site, const char *site, const double *current,
                   const double *previous, const double *yearly)
{
    size_t c = 0;
    if (with_site && site)
        sd_value_set_string(&cells[c], site, strlen(site));
    c += with_site ? 1 : 0;
    for (size_t m = 0; m < FIXTURE_METRICS; m++, c += 7)
        s_metric_cells(&cells[c], m, current[m], previous[m], yearly[m]);
}

sd_msg *fixture_table(const char *request_id, const char *table_id, const fixture_row *rows,
                      size_t count, bool with_site)
{
    sd_msg *msg = sd_msg_new(SD_MSG_TABLE_NORMALIZED);
    sd_table_normalized *table = &msg->as.table_normalized;
    table->request_id = strdup(request_id);
    table->reporter_id = strdup("rep1");
    table->table_id = strdup(table_id);
    size_t column_count = 0;
    sd_column *columns = s_columns(with_site, &column_count);
    sd_table_data_init(&table->data, columns, column_count, count);
    s_free_columns(columns, column_count);

    double sums[3][FIXTURE_METRICS] = {{0}};
    for (size_t r = 0; r < count; r++) {
        sd_value *cells = sd_table_data_append_row(&table->data);
        s_fill(cells, with_site, rows[r].site, rows[r].current, rows[r].previous,
               rows[r].yearly);
        for (size_t m = 0; m < FIXTURE_METRICS; m++) {
            sums[0][m] += s_is_count(m) ? rows[r].current[m] : 0;
            sums[1][m] += s_is_count(m) ? rows[r].previous[m] : 0;
            sums[2][m] += s_is_count(m) ? rows[r].yearly[m] : 0;
        }
    }
    for (size_t p = 0; p < 3 && count > 0; p++) {
        const double *figures = p == 0 ? rows[0].current : p == 1 ? rows[0].previous
                                                                   : rows[0].yearly;
        sums[p][3] = figures[3];
        sums[p][4] = figures[4];
    }
    table->totals = calloc(column_count, sizeof *table->totals);
    s_fill(table->totals, with_site, NULL, sums[0], sums[1], sums[2]);
    return msg;
}

void fixture_add_missing(sd_msg *msg, const char *site, const char *period, const char *error)
{
    sd_table_normalized *table = &msg->as.table_normalized;
    table->missing = realloc(table->missing, (table->missing_count + 1) * sizeof *table->missing);
    sd_missing_part *part = &table->missing[table->missing_count++];
    part->site = strdup(site);
    part->period = strdup(period);
    part->error = strdup(error);
}

const char *fixture_id(const sd_plan *plan, const char *rest)
{
    static char buffers[8][256];
    static size_t next;
    char *buffer = buffers[next++ % 8];
    snprintf(buffer, sizeof buffers[0], "%s.%s", plan->id_prefix, rest);
    return buffer;
}
