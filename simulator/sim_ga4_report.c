/*  sim_ga4_report: grouping, sorting and paging of GA4 report rows.  */
#include "sim_ga4_report.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_KEYS_MAX (SIM_GA4_DIMENSIONS_MAX + 1)

typedef struct {
    uint32_t keys[S_KEYS_MAX];              //  one per query dimension
    int64_t sums[SIM_GA4_METRIC_COUNT];
} s_group;

//  Groups in insertion order plus an open-addressing index over their keys.
typedef struct {
    s_group *groups;
    size_t count;
    size_t capacity;
    uint32_t *slots;                        //  group index + 1; 0 is empty
    size_t slot_count;                      //  a power of two above twice count
    size_t key_count;
    int64_t totals[SIM_GA4_DATE_RANGES_MAX][SIM_GA4_METRIC_COUNT];  //  metric sums per date range
} s_table;

//  What the row comparator needs.
typedef struct {
    const sim_ga4_query *query;
    const sim_strings *strings;
} s_sort_context;

static uint64_t s_hash_keys(const uint32_t *keys, size_t count)
{
    uint64_t hash = 1469598103934665603ULL;
    for (size_t i = 0; i < count; i++) {
        hash ^= keys[i];
        hash *= 1099511628211ULL;
        hash ^= hash >> 29;
    }
    return hash;
}

static size_t s_probe(const s_table *table, const uint32_t *keys)
{
    size_t mask = table->slot_count - 1;
    size_t slot = (size_t)s_hash_keys(keys, table->key_count) & mask;
    while (table->slots[slot]) {
        const s_group *group = &table->groups[table->slots[slot] - 1];
        if (memcmp(group->keys, keys, table->key_count * sizeof *keys) == 0)
            return slot;
        slot = (slot + 1) & mask;
    }
    return slot;
}

static int s_grow(s_table *table)
{
    size_t capacity = table->capacity ? table->capacity * 2 : 1024;
    s_group *groups = realloc(table->groups, capacity * sizeof *groups);
    if (!groups)
        return -1;
    table->groups = groups;
    table->capacity = capacity;

    size_t slot_count = capacity * 2;
    uint32_t *slots = calloc(slot_count, sizeof *slots);
    if (!slots)
        return -1;
    free(table->slots);
    table->slots = slots;
    table->slot_count = slot_count;
    for (size_t i = 0; i < table->count; i++)
        table->slots[s_probe(table, table->groups[i].keys)] = (uint32_t)i + 1;
    return 0;
}

//  Returns the group of keys, adding an empty one when new, or NULL.
static s_group *s_find_group(s_table *table, const uint32_t *keys)
{
    if (table->count == table->capacity && s_grow(table) != 0)
        return NULL;
    size_t slot = s_probe(table, keys);
    if (table->slots[slot])
        return &table->groups[table->slots[slot] - 1];
    s_group *group = &table->groups[table->count];
    memset(group, 0, sizeof *group);
    memcpy(group->keys, keys, table->key_count * sizeof *keys);
    table->slots[slot] = (uint32_t)++table->count;
    return group;
}

static bool s_after_cutoff(const sim_ga4_row *row, sim_ga4_cutoff cutoff)
{
    return row->day > cutoff.day || (row->day == cutoff.day && row->hour > cutoff.hour);
}

//  Sums the matching rows of every date range into groups.
static int s_accumulate(const sim_dataset *dataset, int property, sim_ga4_query *query,
                        sim_ga4_cutoff cutoff, s_table *table)
{
    uint32_t keys[S_KEYS_MAX];
    for (size_t range = 0; range < query->range_count; range++) {
        size_t count;
        const sim_ga4_row *rows = sim_dataset_ga4_rows(
            dataset, property, query->ranges[range].first_day, query->ranges[range].last_day,
            &count);
        for (size_t r = 0; r < count; r++) {
            const sim_ga4_row *row = &rows[r];
            if (s_after_cutoff(row, cutoff) || (query->filter && !sim_ga4_filter_match(query->filter, row)))
                continue;
            for (size_t d = 0; d < query->dimension_count; d++) {
                const sim_ga4_dimension *dimension = query->dimensions[d];
                keys[d] = dimension->kind == SIM_GA4_DIMENSION_DATE_RANGE
                        ? (uint32_t)range : sim_ga4_dimension_key(dimension, row);
            }
            s_group *group = s_find_group(table, keys);
            if (!group)
                return -1;
            for (int m = 0; m < SIM_GA4_METRIC_COUNT; m++) {
                group->sums[m] += row->metrics[m];
                table->totals[range][m] += row->metrics[m];
            }
        }
    }
    return 0;
}

//  Returns the response text of dimension index d of a group.
static const char *s_dimension_text(const s_sort_context *context, const s_group *group,
                                    size_t d, char *buffer)
{
    const sim_ga4_dimension *dimension = context->query->dimensions[d];
    if (dimension->kind == SIM_GA4_DIMENSION_DATE_RANGE)
        return context->query->ranges[group->keys[d]].name;
    return sim_ga4_dimension_text(dimension, group->keys[d], context->strings, buffer);
}

static int s_compare_numbers(double left, double right)
{
    if (left < right)
        return -1;
    return left > right ? 1 : 0;
}

static int s_compare_dimension(const s_sort_context *context, const s_group *left,
                               const s_group *right, size_t d, sim_ga4_order_type type)
{
    char left_buffer[16];
    char right_buffer[16];
    const char *left_text = s_dimension_text(context, left, d, left_buffer);
    const char *right_text = s_dimension_text(context, right, d, right_buffer);
    if (type == SIM_GA4_ORDER_NUMERIC)
        return s_compare_numbers(strtod(left_text, NULL), strtod(right_text, NULL));
    if (type == SIM_GA4_ORDER_CASE_INSENSITIVE)
        return strcasecmp(left_text, right_text);
    //  strcmp on UTF-8 orders by Unicode code point, as ALPHANUMERIC does.
    return strcmp(left_text, right_text);
}

static int s_compare_metric(const s_sort_context *context, const s_group *left,
                            const s_group *right, size_t m)
{
    const sim_ga4_metric_info *metric = context->query->metrics[m];
    return s_compare_numbers(sim_ga4_metric_value(metric, left->sums),
                             sim_ga4_metric_value(metric, right->sums));
}

//  Orders by the request's orderBys; without them by the first metric,
//  largest first. Ties fall back to the dimension values in order.
//  NOTE: the real API documents no default order; tests and clients must
//  not rely on this one.
static int s_compare_groups(const void *a, const void *b, void *cls)
{
    const s_sort_context *context = cls;
    const s_group *left = *(const s_group *const *)a;
    const s_group *right = *(const s_group *const *)b;
    const sim_ga4_query *query = context->query;
    for (size_t i = 0; i < query->order_count; i++) {
        const sim_ga4_order *order = &query->orders[i];
        int result = order->by_metric
                   ? s_compare_metric(context, left, right, order->index)
                   : s_compare_dimension(context, left, right, order->index, order->type);
        if (result != 0)
            return order->descending ? -result : result;
    }
    if (query->order_count == 0 && query->metric_count > 0) {
        int result = s_compare_metric(context, left, right, 0);
        if (result != 0)
            return -result;
    }
    for (size_t d = 0; d < query->dimension_count; d++) {
        int result = s_compare_dimension(context, left, right, d, SIM_GA4_ORDER_ALPHANUMERIC);
        if (result != 0)
            return result;
    }
    return 0;
}

static bool s_is_empty(const sim_ga4_query *query, const s_group *group)
{
    if (query->metric_count == 0)
        return false;
    for (size_t m = 0; m < query->metric_count; m++)
        if (group->sums[query->metrics[m]->numerator] != 0)
            return false;
    return true;
}

static json_t *s_headers(const sim_ga4_query *query, bool metrics)
{
    json_t *headers = json_array();
    size_t count = metrics ? query->metric_count : query->dimension_count;
    for (size_t i = 0; i < count; i++) {
        json_t *header = metrics
                       ? json_pack("{s:s, s:s}", "name", query->metrics[i]->name, "type",
                                   query->metrics[i]->type)
                       : json_pack("{s:s}", "name", query->dimensions[i]->name);
        json_array_append_new(headers, header);
    }
    return headers;
}

static json_t *s_row(const s_sort_context *context, const s_group *group)
{
    const sim_ga4_query *query = context->query;
    json_t *row = json_object();
    json_t *dimension_values = json_array();
    json_t *metric_values = json_array();
    char buffer[40];
    for (size_t d = 0; d < query->dimension_count; d++)
        json_array_append_new(dimension_values,
                              json_pack("{s:s}", "value",
                                        s_dimension_text(context, group, d, buffer)));
    for (size_t m = 0; m < query->metric_count; m++)
        json_array_append_new(metric_values,
                              json_pack("{s:s}", "value",
                                        sim_ga4_metric_text(query->metrics[m], group->sums,
                                                            buffer, sizeof buffer)));
    if (query->dimension_count > 0)
        json_object_set_new(row, "dimensionValues", dimension_values);
    else
        json_decref(dimension_values);
    if (query->metric_count > 0)
        json_object_set_new(row, "metricValues", metric_values);
    else
        json_decref(metric_values);
    return row;
}

//  Builds the "totals" of metricAggregations TOTAL: one row per date range,
//  in request order, over every matching row whatever the offset and
//  limit. As in GA4, the dateRange dimension contains the range's name and
//  every other dimension contains "RESERVED_TOTAL".
//  NOTE: the metrics are sums over the dataset's rows, so totalUsers is a
//  sum too, whereas GA4 counts each user once in a total.
static json_t *s_totals(const sim_ga4_query *query, const s_table *table)
{
    json_t *totals = json_array();
    char buffer[40];
    for (size_t range = 0; range < query->range_count; range++) {
        json_t *dimension_values = json_array();
        json_t *metric_values = json_array();
        for (size_t d = 0; d < query->dimension_count; d++) {
            const char *value = query->dimensions[d]->kind == SIM_GA4_DIMENSION_DATE_RANGE
                              ? query->ranges[range].name : "RESERVED_TOTAL";
            json_array_append_new(dimension_values, json_pack("{s:s}", "value", value));
        }
        for (size_t m = 0; m < query->metric_count; m++)
            json_array_append_new(metric_values,
                                  json_pack("{s:s}", "value",
                                            sim_ga4_metric_text(query->metrics[m],
                                                                table->totals[range], buffer,
                                                                sizeof buffer)));
        json_t *row = json_object();
        if (query->dimension_count > 0)
            json_object_set_new(row, "dimensionValues", dimension_values);
        else
            json_decref(dimension_values);
        json_object_set_new(row, "metricValues", metric_values);
        json_array_append_new(totals, row);
    }
    return totals;
}

//  Builds the response from the sorted, non-empty groups.
static json_t *s_response(const s_sort_context *context, const s_table *table, s_group **groups,
                          size_t count)
{
    const sim_ga4_query *query = context->query;
    json_t *response = json_object();
    if (query->dimension_count > 0)
        json_object_set_new(response, "dimensionHeaders", s_headers(query, false));
    if (query->metric_count > 0)
        json_object_set_new(response, "metricHeaders", s_headers(query, true));

    //  offset and limit are non-negative; the page is [first, end).
    size_t first = (uint64_t)query->offset < count ? (size_t)query->offset : count;
    size_t end = count - first > (uint64_t)query->limit ? first + (size_t)query->limit : count;
    json_t *rows = json_array();
    for (size_t i = first; i < end; i++)
        json_array_append_new(rows, s_row(context, groups[i]));
    if (json_array_size(rows) > 0)
        json_object_set_new(response, "rows", rows);
    else
        json_decref(rows);
    if (query->totals)
        json_object_set_new(response, "totals", s_totals(query, table));
    if (count > 0)
        json_object_set_new(response, "rowCount", json_integer((json_int_t)count));
    json_object_set_new(response, "metadata",
                        json_pack("{s:s, s:s}", "currencyCode", "USD", "timeZone", "Etc/UTC"));
    json_object_set_new(response, "kind", json_string("analyticsData#runReport"));
    return response;
}

json_t *sim_ga4_report_run(const sim_dataset *dataset, int property, sim_ga4_query *query,
                           sim_ga4_cutoff cutoff)
{
    s_table table = {.key_count = query->dimension_count};
    s_group **sorted = NULL;
    json_t *response = NULL;
    if (s_accumulate(dataset, property, query, cutoff, &table) != 0)
        goto done;

    sorted = malloc((table.count + 1) * sizeof *sorted);
    if (!sorted)
        goto done;
    size_t count = 0;
    for (size_t i = 0; i < table.count; i++)
        if (query->keep_empty_rows || !s_is_empty(query, &table.groups[i]))
            sorted[count++] = &table.groups[i];
    s_sort_context context = {query, sim_dataset_strings(dataset)};
    qsort_r(sorted, count, sizeof *sorted, s_compare_groups, &context);
    response = s_response(&context, &table, sorted, count);
done:
    free(sorted);
    free(table.groups);
    free(table.slots);
    return response;
}
