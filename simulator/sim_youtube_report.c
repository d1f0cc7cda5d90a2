/*  sim_youtube_report: parses a reports.query, sums the matching facts per
    dimension combination, sorts and pages them.  */
#include "sim_youtube_report.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"

#define SIM_YT_FILTER_VALUES_MAX 200

typedef enum { DIM_DAY, DIM_CHANNEL, DIM_COUNTRY, DIM_VIDEO, DIM_SOURCE, DIM_COUNT } s_dimension;

static const char *s_dimension_names[DIM_COUNT] = {
    "day", "channel", "country", "video", "insightTrafficSourceType"};

static const char *s_unsupported =
    "The query is not supported. Check the documentation at "
    "https://developers.google.com/youtube/analytics/v2/available_reports for a list of "
    "supported queries.";

typedef struct {
    bool active;
    int64_t values[SIM_YT_FILTER_VALUES_MAX];   //  channel index or string id; -1 never matches
    size_t count;
} s_filter;

typedef struct {
    bool by_metric;
    size_t index;                   //  into the query's metrics or dimensions
    bool descending;
} s_sort_key;

typedef struct {
    int32_t first_day;
    int32_t last_day;
    s_dimension dimensions[DIM_COUNT];
    size_t dimension_count;
    sim_youtube_metric metrics[SIM_YT_METRIC_COUNT];
    size_t metric_count;
    s_filter filters[DIM_COUNT];
    s_sort_key sort[DIM_COUNT + SIM_YT_METRIC_COUNT];
    size_t sort_count;
    int64_t max_results;            //  0: no limit
    int64_t start_index;            //  1-based
} s_query;

//  One result row: the query's dimension values, then every metric's sum.
typedef struct {
    int64_t key[DIM_COUNT];
    int64_t metrics[SIM_YT_METRIC_COUNT];
} s_cell;

//  Everything a query run needs, handed to the parsing steps and qsort_r.
typedef struct {
    const sim_youtube_data *data;
    const sim_http_request *request;
    const sim_youtube_scope *scope;
    s_query query;
    s_dimension filter_dimension;   //  the filter s_add_filter_value adds to
    int status;
    char *error;
    size_t error_size;
} s_run;

static int s_fail(s_run *run, int status, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

//  Sets the response status and message. Returns -1.
static int s_fail(s_run *run, int status, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    run->status = status;
    vsnprintf(run->error, run->error_size, format, arguments);
    va_end(arguments);
    return -1;
}

static int s_find_name(const char *const *names, int count, const char *name)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

static int s_find_metric(const char *name)
{
    for (int i = 0; i < SIM_YT_METRIC_COUNT; i++)
        if (strcmp(sim_youtube_metric_name((sim_youtube_metric)i), name) == 0)
            return i;
    return -1;
}

//  Calls add for each item of a comma-separated list. Returns 0, or the
//  first -1 that add returns.
static int s_each_item(s_run *run, const char *list, char separator,
                       int (*add)(s_run *run, const char *item))
{
    char *copy = strdup(list);
    if (!copy)
        return s_fail(run, 500, "%s", "Internal error encountered.");
    int rc = 0;
    char *item = copy;
    while (rc == 0 && item) {
        char *next = strchr(item, separator);
        if (next)
            *next++ = '\0';
        rc = add(run, item);
        item = next;
    }
    free(copy);
    return rc;
}

static int s_add_metric(s_run *run, const char *name)
{
    s_query *query = &run->query;
    int metric = s_find_metric(name);
    if (metric < 0)
        return s_fail(run, 400, "Unknown identifier (%.200s) given in field parameters.metrics.",
                      name);
    for (size_t i = 0; i < query->metric_count; i++)
        if ((int)query->metrics[i] == metric)
            return s_fail(run, 400, "Duplicate metric %.200s in parameters.metrics.", name);
    query->metrics[query->metric_count++] = (sim_youtube_metric)metric;
    return 0;
}

static int s_add_dimension(s_run *run, const char *name)
{
    s_query *query = &run->query;
    int dimension = s_find_name(s_dimension_names, DIM_COUNT, name);
    if (dimension < 0)
        return s_fail(run, 400,
                      "Unknown identifier (%.200s) given in field parameters.dimensions.", name);
    for (size_t i = 0; i < query->dimension_count; i++)
        if ((int)query->dimensions[i] == dimension)
            return s_fail(run, 400, "Duplicate dimension %.200s in parameters.dimensions.", name);
    query->dimensions[query->dimension_count++] = (s_dimension)dimension;
    return 0;
}

//  Returns whether the channel index lies in the scope the ids picked.
static bool s_in_scope(const sim_youtube_scope *scope, int channel)
{
    for (size_t i = 0; i < scope->channel_count; i++)
        if (scope->channels[i] == channel)
            return true;
    return false;
}

static int s_add_filter_value(s_run *run, const char *value)
{
    s_filter *filter = &run->query.filters[run->filter_dimension];
    if (filter->count == SIM_YT_FILTER_VALUES_MAX)
        return s_fail(run, 400, "A filter may list at most 200 values; %.200s is one too many.",
                      value);
    int64_t id;
    if (run->filter_dimension == DIM_CHANNEL) {
        id = sim_youtube_data_channel(run->data, value);
        if (id < 0 || !s_in_scope(run->scope, (int)id))
            return s_fail(run, 403, "Forbidden: the channel %.200s is not one this request may "
                                    "query.", value);
    } else {
        id = sim_strings_find(sim_youtube_data_strings(run->data), value);
    }
    filter->values[filter->count++] = id;
    return 0;
}

static int s_add_filter(s_run *run, const char *text)
{
    const char *equals = strstr(text, "==");
    char name[64];
    size_t length = equals ? (size_t)(equals - text) : 0;
    if (!equals || length == 0 || length >= sizeof name || !equals[2])
        return s_fail(run, 400, "Invalid filter %.200s: expected dimension==value[,value...].",
                      text);
    memcpy(name, text, length);
    name[length] = '\0';
    int dimension = s_find_name(s_dimension_names, DIM_COUNT, name);
    if (dimension < 0 || dimension == DIM_DAY)
        return s_fail(run, 400, "Unknown identifier (%.200s) given in field parameters.filters.",
                      name);
    if (run->query.filters[dimension].active)
        return s_fail(run, 400, "The filter on %.200s is given twice.", name);
    run->query.filters[dimension].active = true;
    run->filter_dimension = (s_dimension)dimension;
    return s_each_item(run, equals + 2, ',', s_add_filter_value);
}

//  Finds a sort item among the query's metrics and dimensions.
static int s_add_sort(s_run *run, const char *item)
{
    s_query *query = &run->query;
    s_sort_key key = {.descending = item[0] == '-'};
    const char *name = key.descending ? item + 1 : item;
    int metric = s_find_metric(name);
    int dimension = s_find_name(s_dimension_names, DIM_COUNT, name);
    bool found = false;
    for (size_t i = 0; i < query->metric_count && !found; i++)
        if ((int)query->metrics[i] == metric)
            key = (s_sort_key){true, i, key.descending}, found = true;
    for (size_t i = 0; i < query->dimension_count && !found; i++)
        if ((int)query->dimensions[i] == dimension)
            key = (s_sort_key){false, i, key.descending}, found = true;
    if (!found)
        return s_fail(run, 400, "Sort item %.200s is neither a metric nor a dimension of the "
                                "query.", name);
    if (query->sort_count == sizeof query->sort / sizeof query->sort[0])
        return s_fail(run, 400, "Too many sort items at %.200s.", name);
    query->sort[query->sort_count++] = key;
    return 0;
}

//  Parses an optional positive integer parameter into *value.
static int s_parse_positive(s_run *run, const char *name, int64_t *value)
{
    const char *text = sim_http_query(run->request, name);
    if (!text)
        return 0;
    char *end;
    long long parsed = strtoll(text, &end, 10);
    if (end == text || *end || parsed < 1 || parsed > 1000000000)
        return s_fail(run, 400, "Invalid value given in parameters.%s: expected a positive "
                                "integer.", name);
    *value = parsed;
    return 0;
}

static int s_parse_dates(s_run *run)
{
    const char *names[] = {"startDate", "endDate"};
    int32_t *days[] = {&run->query.first_day, &run->query.last_day};
    for (size_t i = 0; i < 2; i++) {
        const char *text = sim_http_query(run->request, names[i]);
        if (!text)
            return s_fail(run, 400, "Required parameter: %s", names[i]);
        if (sim_clock_parse_iso_date(text, days[i]) != 0)
            return s_fail(run, 400, "Invalid value given in parameters.%s: expected YYYY-MM-DD.",
                          names[i]);
    }
    if (run->query.first_day > run->query.last_day)
        return s_fail(run, 400, "%s", "The start date must not be after the end date.");
    return 0;
}

//  A query with the video dimension must sort by a metric, descending,
//  and ask for at most SIM_YT_VIDEO_MAX_RESULTS rows.
static int s_check_video_rules(s_run *run)
{
    s_query *query = &run->query;
    bool has_video = false;
    for (size_t i = 0; i < query->dimension_count; i++)
        has_video |= query->dimensions[i] == DIM_VIDEO;
    if (!has_video)
        return 0;
    if (query->sort_count == 0 || !query->sort[0].by_metric || !query->sort[0].descending
        || query->max_results == 0 || query->max_results > SIM_YT_VIDEO_MAX_RESULTS)
        return s_fail(run, 400, "%s", s_unsupported);
    return 0;
}

static int s_parse(s_run *run)
{
    const sim_http_request *request = run->request;
    const char *metrics = sim_http_query(request, "metrics");
    const char *dimensions = sim_http_query(request, "dimensions");
    const char *filters = sim_http_query(request, "filters");
    const char *sort = sim_http_query(request, "sort");
    run->query.start_index = 1;
    if (s_parse_dates(run) != 0)
        return -1;
    if (!metrics || !*metrics)
        return s_fail(run, 400, "%s", "Required parameter: metrics");
    if (s_each_item(run, metrics, ',', s_add_metric) != 0)
        return -1;
    if (dimensions && *dimensions && s_each_item(run, dimensions, ',', s_add_dimension) != 0)
        return -1;
    if (filters && *filters && s_each_item(run, filters, ';', s_add_filter) != 0)
        return -1;
    if (sort && *sort && s_each_item(run, sort, ',', s_add_sort) != 0)
        return -1;
    if (s_parse_positive(run, "maxResults", &run->query.max_results) != 0
        || s_parse_positive(run, "startIndex", &run->query.start_index) != 0)
        return -1;
    return s_check_video_rules(run);
}

//  -------------------------------------------------------------------------
//  Running

static int64_t s_row_value(const sim_youtube_row *row, s_dimension dimension)
{
    switch (dimension) {
    case DIM_DAY: return row->day;
    case DIM_CHANNEL: return row->channel;
    case DIM_COUNTRY: return row->text[SIM_YT_COUNTRY];
    case DIM_VIDEO: return row->text[SIM_YT_VIDEO];
    default: return row->text[SIM_YT_TRAFFIC_SOURCE];
    }
}

static bool s_row_matches(const s_query *query, const sim_youtube_row *row)
{
    for (int dimension = DIM_CHANNEL; dimension < DIM_COUNT; dimension++) {
        const s_filter *filter = &query->filters[dimension];
        if (!filter->active)
            continue;
        int64_t value = s_row_value(row, (s_dimension)dimension);
        bool listed = false;
        for (size_t i = 0; i < filter->count && !listed; i++)
            listed = filter->values[i] == value;
        if (!listed)
            return false;
    }
    return true;
}

//  Compares one dimension's values: days as numbers, the rest as text.
static int s_compare_value(const s_run *run, s_dimension dimension, int64_t left, int64_t right)
{
    if (left == right)
        return 0;
    if (dimension == DIM_DAY)
        return left < right ? -1 : 1;
    if (dimension == DIM_CHANNEL)
        return strcmp(sim_youtube_data_channel_at(run->data, (size_t)left)->id,
                      sim_youtube_data_channel_at(run->data, (size_t)right)->id);
    const sim_strings *strings = sim_youtube_data_strings(run->data);
    return strcmp(sim_strings_get(strings, (uint32_t)left), sim_strings_get(strings, (uint32_t)right));
}

static int s_compare_keys(const void *a, const void *b, void *context)
{
    const s_run *run = context;
    const s_cell *left = a;
    const s_cell *right = b;
    for (size_t i = 0; i < run->query.dimension_count; i++) {
        int order = s_compare_value(run, run->query.dimensions[i], left->key[i], right->key[i]);
        if (order != 0)
            return order;
    }
    return 0;
}

//  Orders by the sort keys, then by the dimensions ascending.
static int s_compare_sorted(const void *a, const void *b, void *context)
{
    const s_run *run = context;
    const s_cell *left = a;
    const s_cell *right = b;
    for (size_t i = 0; i < run->query.sort_count; i++) {
        const s_sort_key *key = &run->query.sort[i];
        int order;
        if (key->by_metric) {
            int64_t x = left->metrics[run->query.metrics[key->index]];
            int64_t y = right->metrics[run->query.metrics[key->index]];
            order = x < y ? -1 : x > y;
        } else {
            order = s_compare_value(run, run->query.dimensions[key->index],
                                    left->key[key->index], right->key[key->index]);
        }
        if (order != 0)
            return key->descending ? -order : order;
    }
    return s_compare_keys(a, b, context);
}

//  Collects one cell per matching fact row. Returns the cells (the caller
//  frees them), or NULL when out of memory; *count may be 0.
static s_cell *s_collect(const s_run *run, size_t *count)
{
    const s_query *query = &run->query;
    int32_t last_day = query->last_day < run->scope->cutoff_day ? query->last_day
                                                                : run->scope->cutoff_day - 1;
    size_t used = 0;
    size_t capacity = 1024;
    s_cell *cells = malloc(capacity * sizeof *cells);
    for (size_t c = 0; cells && c < run->scope->channel_count; c++) {
        size_t row_count;
        const sim_youtube_row *rows = sim_youtube_data_rows(run->data, run->scope->channels[c],
                                                            query->first_day, last_day,
                                                            &row_count);
        for (size_t r = 0; cells && r < row_count; r++) {
            if (!s_row_matches(query, &rows[r]))
                continue;
            if (used == capacity) {
                capacity *= 2;
                s_cell *grown = realloc(cells, capacity * sizeof *cells);
                if (!grown)
                    free(cells);
                cells = grown;
                if (!cells)
                    break;
            }
            s_cell *cell = &cells[used++];
            for (size_t d = 0; d < query->dimension_count; d++)
                cell->key[d] = s_row_value(&rows[r], query->dimensions[d]);
            memcpy(cell->metrics, rows[r].metrics, sizeof cell->metrics);
        }
    }
    *count = used;
    return cells;
}

//  Sorts cells by key and sums cells of equal keys. Returns the new count.
static size_t s_merge(s_run *run, s_cell *cells, size_t count)
{
    if (count == 0)
        return 0;
    qsort_r(cells, count, sizeof *cells, s_compare_keys, run);
    size_t kept = 0;
    for (size_t i = 1; i < count; i++) {
        if (s_compare_keys(&cells[kept], &cells[i], run) == 0) {
            for (int m = 0; m < SIM_YT_METRIC_COUNT; m++)
                cells[kept].metrics[m] += cells[i].metrics[m];
        } else {
            cells[++kept] = cells[i];
        }
    }
    return kept + 1;
}

static json_t *s_headers(const s_query *query)
{
    json_t *headers = json_array();
    for (size_t i = 0; i < query->dimension_count; i++)
        json_array_append_new(headers, json_pack("{s:s, s:s, s:s}", "name",
                                                 s_dimension_names[query->dimensions[i]],
                                                 "columnType", "DIMENSION", "dataType", "STRING"));
    for (size_t i = 0; i < query->metric_count; i++)
        json_array_append_new(headers, json_pack("{s:s, s:s, s:s}", "name",
                                                 sim_youtube_metric_name(query->metrics[i]),
                                                 "columnType", "METRIC", "dataType", "INTEGER"));
    return headers;
}

static json_t *s_dimension_json(const s_run *run, s_dimension dimension, int64_t value)
{
    if (dimension == DIM_DAY) {
        int year, month, day;
        char text[16];
        sim_clock_civil_from_days((int32_t)value, &year, &month, &day);
        snprintf(text, sizeof text, "%04d-%02d-%02d", year, month, day);
        return json_string(text);
    }
    if (dimension == DIM_CHANNEL)
        return json_string(sim_youtube_data_channel_at(run->data, (size_t)value)->id);
    return json_string(sim_strings_get(sim_youtube_data_strings(run->data), (uint32_t)value));
}

static json_t *s_row_json(const s_run *run, const s_cell *cell)
{
    json_t *row = json_array();
    for (size_t i = 0; i < run->query.dimension_count; i++)
        json_array_append_new(row, s_dimension_json(run, run->query.dimensions[i], cell->key[i]));
    for (size_t i = 0; i < run->query.metric_count; i++)
        json_array_append_new(row, json_integer(cell->metrics[run->query.metrics[i]]));
    return row;
}

static json_t *s_table(s_run *run, s_cell *cells, size_t count)
{
    const s_query *query = &run->query;
    json_t *table = json_pack("{s:s, s:o}", "kind", "youtubeAnalytics#resultTable",
                              "columnHeaders", s_headers(query));
    size_t first = (size_t)(query->start_index - 1);
    size_t end = count;
    if (query->max_results > 0 && first + (size_t)query->max_results < end)
        end = first + (size_t)query->max_results;
    if (!table || first >= end)
        return table;
    json_t *rows = json_array();
    for (size_t i = first; rows && i < end; i++)
        json_array_append_new(rows, s_row_json(run, &cells[i]));
    json_object_set_new(table, "rows", rows);
    return table;
}

json_t *sim_youtube_report_run(const sim_youtube_data *data, const sim_http_request *request,
                               const sim_youtube_scope *scope, int *status, char *error,
                               size_t error_size)
{
    s_run *run = calloc(1, sizeof *run);
    if (!run) {
        *status = 500;
        snprintf(error, error_size, "Internal error encountered.");
        return NULL;
    }
    *run = (s_run){.data = data, .request = request, .scope = scope, .status = 400,
                   .error = error, .error_size = error_size};
    json_t *table = NULL;
    if (s_parse(run) == 0) {
        size_t count = 0;
        s_cell *cells = s_collect(run, &count);
        if (cells) {
            count = s_merge(run, cells, count);
            if (run->query.sort_count > 0 && count > 1)
                qsort_r(cells, count, sizeof *cells, s_compare_sorted, run);
            table = s_table(run, cells, count);
        }
        free(cells);
        if (!table)
            s_fail(run, 500, "%s", "Internal error encountered.");
    }
    *status = run->status;
    free(run);
    return table;
}
