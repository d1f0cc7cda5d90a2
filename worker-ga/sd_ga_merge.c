/*  sd_ga_merge: plans merged requests and builds each group's report from
    their responses.  */
#include "sd_ga_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_ga_filter.h"

//  s_add_row's result for a row that lacks a value the feed needs.
#define S_ROW_INVALID (-2)

//  The traffic source dimensions, in the order a merged request lists
//  those it needs. sessionSourceMedium is made from the first two.
static const char *s_traffic_dimensions[] = {"sessionSource", "sessionMedium",
                                             "sessionDefaultChannelGroup"};

static bool s_is_traffic_dimension(const char *name)
{
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(name, s_traffic_dimensions[i]) == 0)
            return true;
    }
    return strcmp(name, "sessionSourceMedium") == 0;
}

static int s_index_of(const sd_strings *strings, const char *text)
{
    for (size_t i = 0; i < strings->count; i++) {
        if (strcmp(strings->items[i], text) == 0)
            return (int)i;
    }
    return -1;
}

static bool s_periods_equal(const sd_query *a, const sd_query *b)
{
    if (a->period_count != b->period_count)
        return false;
    for (size_t i = 0; i < a->period_count; i++) {
        if (strcmp(a->periods[i].label, b->periods[i].label) != 0 ||
            strcmp(a->periods[i].start, b->periods[i].start) != 0 ||
            strcmp(a->periods[i].end, b->periods[i].end) != 0)
            return false;
    }
    return true;
}

//  Returns the query's params as an object (new reference), or NULL.
static json_t *s_params(const sd_query *query)
{
    json_t *params = json_loads(query->params_json, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(params))
        return params;
    json_decref(params);
    return NULL;
}

//  Returns true when a and b request the same rows apart from their
//  dimensions and metrics (and their dimensionFilter when ignore_filter).
static bool s_same_frame(const sd_query *a, const sd_query *b, bool ignore_filter)
{
    if (strcmp(a->api, b->api) != 0 || !s_periods_equal(a, b))
        return false;
    json_t *x = s_params(a);
    json_t *y = s_params(b);
    if (x && y && ignore_filter) {
        json_object_del(x, "dimensionFilter");
        json_object_del(y, "dimensionFilter");
    }
    bool equal = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return equal;
}

//  -------------------------------------------------------------------------
//  Requests

static void s_request_clear(sd_ga_request *request)
{
    free(request->query.id);
    free(request->query.api);
    free(request->query.params_json);
    sd_strings_clear(&request->query.metrics);
    sd_strings_clear(&request->query.dimensions);
    for (size_t f = 0; f < request->feed_count; f++) {
        free(request->feeds[f].dimensions);
        free(request->feeds[f].metrics);
        json_decref(request->feeds[f].filter);
    }
    free(request->feeds);
    memset(request, 0, sizeof *request);
}

void sd_ga_requests_free(sd_ga_request **requests_p, size_t request_count)
{
    sd_ga_request *requests = *requests_p;
    if (!requests)
        return;
    for (size_t r = 0; r < request_count; r++)
        s_request_clear(&requests[r]);
    free(requests);
    *requests_p = NULL;
}

static int s_add_unique(sd_strings *strings, const char *text)
{
    return s_index_of(strings, text) >= 0 ? 0 : sd_strings_push(strings, text);
}

//  Starts a request with the fields of query, without its dimensions and
//  metrics.
static int s_request_init(sd_ga_request *request, const sd_query *query)
{
    memset(request, 0, sizeof *request);
    request->query.id = strdup(query->id);
    request->query.api = strdup(query->api);
    request->query.params_json = strdup(query->params_json);
    request->query.limit = query->limit;
    request->query.periods = query->periods;
    request->query.period_count = query->period_count;
    return request->query.id && request->query.api && request->query.params_json ? 0 : -1;
}

//  Appends a feed for group g to request, mapping the group's dimensions
//  and metrics onto the request's. Returns the feed, or NULL when out of
//  memory.
static sd_ga_feed *s_add_feed(sd_ga_request *request, size_t g, const sd_query *query,
                              sd_ga_feed_kind kind)
{
    sd_ga_feed *feeds = realloc(request->feeds, (request->feed_count + 1) * sizeof *feeds);
    if (!feeds)
        return NULL;
    request->feeds = feeds;
    sd_ga_feed *feed = &feeds[request->feed_count++];
    *feed = (sd_ga_feed){.group = g, .kind = kind};
    feed->dimensions = calloc(query->dimensions.count + 1, sizeof *feed->dimensions);
    feed->metrics = calloc(query->metrics.count + 1, sizeof *feed->metrics);
    if (!feed->dimensions || !feed->metrics)
        return NULL;
    const sd_strings *dimensions = &request->query.dimensions;
    feed->source = (size_t)s_index_of(dimensions, "sessionSource");
    feed->medium = (size_t)s_index_of(dimensions, "sessionMedium");
    for (size_t i = 0; i < query->dimensions.count; i++) {
        int index = s_index_of(dimensions, query->dimensions.items[i]);
        feed->dimensions[i] = index >= 0 ? (size_t)index : SD_GA_SOURCE_MEDIUM;
    }
    bool identity = kind == SD_GA_FEED_ROWS && query->dimensions.count == dimensions->count;
    for (size_t i = 0; i < query->dimensions.count; i++)
        identity = identity && feed->dimensions[i] == i;
    for (size_t i = 0; i < query->metrics.count; i++) {
        feed->metrics[i] = (size_t)s_index_of(&request->query.metrics, query->metrics.items[i]);
        identity = identity && feed->metrics[i] == i;
    }
    feed->direct = identity && query->metrics.count == request->query.metrics.count;
    return feed;
}

//  Makes group g's own request.
static int s_plan_own(sd_ga_request *request, const sd_ga_group *group, size_t g)
{
    const sd_query *query = group->query;
    if (s_request_init(request, query) != 0)
        return -1;
    for (size_t i = 0; i < query->dimensions.count; i++) {
        if (sd_strings_push(&request->query.dimensions, query->dimensions.items[i]) != 0)
            return -1;
    }
    for (size_t i = 0; i < query->metrics.count; i++) {
        if (sd_strings_push(&request->query.metrics, query->metrics.items[i]) != 0)
            return -1;
    }
    return s_add_feed(request, g, query, SD_GA_FEED_ROWS) ? 0 : -1;
}

//  -------------------------------------------------------------------------
//  Traffic source merge

//  Returns the query's dimensionFilter (borrowed from params), or NULL.
static json_t *s_filter_of(json_t *params)
{
    return params ? json_object_get(params, "dimensionFilter") : NULL;
}

//  Returns true when the group can be made from a merged traffic report.
static bool s_traffic_candidate(const sd_query *query)
{
    static const sd_strings all = {(char **)s_traffic_dimensions, 3};
    if (query->dimensions.count == 0 || query->limit != 0)
        return false;
    for (size_t i = 0; i < query->dimensions.count; i++) {
        if (!s_is_traffic_dimension(query->dimensions.items[i]))
            return false;
    }
    json_t *params = s_params(query);
    json_t *filter = s_filter_of(params);
    bool fits = params && !json_object_get(params, "metricFilter") &&
                !json_object_get(params, "metricAggregations") &&
                (!filter || sd_ga_filter_supported(filter, &all));
    json_decref(params);
    return fits;
}

//  Adds the traffic dimensions query needs, for its dimensions and its
//  filter, to needed (one flag per s_traffic_dimensions entry).
static void s_traffic_needs(const sd_query *query, bool *needed)
{
    json_t *params = s_params(query);
    char *text = params ? json_dumps(s_filter_of(params), JSON_COMPACT) : NULL;
    for (size_t d = 0; d < 3; d++) {
        bool listed = s_index_of(&query->dimensions, s_traffic_dimensions[d]) >= 0;
        bool combined = d < 2 && s_index_of(&query->dimensions, "sessionSourceMedium") >= 0;
        //  A field name appears in the filter text as "\"NAME\"". A value
        //  spelled like a field name only adds a dimension, which is harmless.
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", s_traffic_dimensions[d]);
        bool filtered = text && strstr(text, quoted);
        bool filtered_combined = d < 2 && text && strstr(text, "\"sessionSourceMedium\"");
        needed[d] = needed[d] || listed || combined || filtered || filtered_combined;
    }
    free(text);
    json_decref(params);
}

//  Builds the merged request of the groups whose merged[g] is set.
static int s_plan_traffic(sd_ga_request *request, const sd_ga_group *groups, size_t group_count,
                          const bool *merged)
{
    bool needed[3] = {false, false, false};
    size_t first = group_count;
    for (size_t g = 0; g < group_count; g++) {
        if (!merged[g])
            continue;
        first = first < g ? first : g;
        s_traffic_needs(groups[g].query, needed);
    }
    if (s_request_init(request, groups[first].query) != 0)
        return -1;
    json_t *params = s_params(groups[first].query);
    json_object_del(params, "dimensionFilter");
    free(request->query.params_json);
    request->query.params_json = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(params);
    if (!request->query.params_json)
        return -1;
    for (size_t d = 0; d < 3; d++) {
        if (needed[d] && sd_strings_push(&request->query.dimensions, s_traffic_dimensions[d]) != 0)
            return -1;
    }
    for (size_t g = 0; g < group_count; g++) {
        for (size_t i = 0; merged[g] && i < groups[g].query->metrics.count; i++) {
            if (s_add_unique(&request->query.metrics, groups[g].query->metrics.items[i]) != 0)
                return -1;
        }
    }
    for (size_t g = 0; g < group_count; g++) {
        if (!merged[g])
            continue;
        sd_ga_feed *feed = s_add_feed(request, g, groups[g].query, SD_GA_FEED_ROWS);
        if (!feed)
            return -1;
        json_t *own = s_params(groups[g].query);
        feed->filter = json_incref(s_filter_of(own));
        json_decref(own);
        feed->direct = feed->direct && !feed->filter;
    }
    return 0;
}

//  Sets merged[h] for group g and each traffic group that merges with it,
//  and clears the rest.
//  Returns the number of groups set (1 when g merges with none).
static size_t s_pick_traffic(const sd_ga_group *groups, size_t group_count, const bool *valid,
                             const bool *assigned, size_t g, bool *merged)
{
    size_t count = 1;
    sd_strings metrics = {0};
    int rc = 0;
    memset(merged, 0, group_count * sizeof *merged);
    merged[g] = true;
    for (size_t i = 0; i < groups[g].query->metrics.count; i++)
        rc |= s_add_unique(&metrics, groups[g].query->metrics.items[i]);
    for (size_t h = g + 1; rc == 0 && h < group_count; h++) {
        const sd_query *query = groups[h].query;
        if (!valid[h] || assigned[h] || !s_traffic_candidate(query) ||
            !s_same_frame(groups[g].query, query, true))
            continue;
        size_t before = metrics.count;
        for (size_t i = 0; i < query->metrics.count; i++)
            rc |= s_add_unique(&metrics, query->metrics.items[i]);
        if (rc != 0 || metrics.count > SD_GA_MAX_METRICS) {
            while (metrics.count > before)
                free(metrics.items[--metrics.count]);
            continue;
        }
        merged[h] = true;
        count++;
    }
    sd_strings_clear(&metrics);
    //  When out of memory, the groups picked so far still merge.
    return count;
}

//  -------------------------------------------------------------------------
//  Totals riders

//  Returns the request that a query without dimensions can ride on, or NULL.
static sd_ga_request *s_find_host(sd_ga_request *requests, size_t request_count,
                                  const sd_query *query)
{
    for (size_t r = 0; r < request_count; r++) {
        sd_ga_request *host = &requests[r];
        bool has_totals = false;
        for (size_t f = 0; f < host->feed_count; f++)
            has_totals |= host->feeds[f].kind == SD_GA_FEED_TOTALS;
        if (has_totals || host->query.dimensions.count == 0 ||
            !s_same_frame(&host->query, query, false))
            continue;
        size_t metrics = host->query.metrics.count;
        for (size_t i = 0; i < query->metrics.count; i++)
            metrics += s_index_of(&host->query.metrics, query->metrics.items[i]) < 0 ? 1 : 0;
        if (metrics <= SD_GA_MAX_METRICS)
            return host;
    }
    return NULL;
}

//  Adds group g as the totals feed of host. The host then requests the
//  union of both metric lists and metricAggregations TOTAL.
static int s_add_rider(sd_ga_request *host, const sd_ga_group *group, size_t g)
{
    const sd_query *query = group->query;
    for (size_t i = 0; i < query->metrics.count; i++) {
        if (s_add_unique(&host->query.metrics, query->metrics.items[i]) != 0)
            return -1;
    }
    json_t *params = s_params(&host->query);
    int rc = params ? json_object_set_new(params, "metricAggregations",
                                          json_pack("[s]", "TOTAL"))
                    : -1;
    char *text = rc == 0 ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(params);
    if (!text)
        return -1;
    free(host->query.params_json);
    host->query.params_json = text;
    //  The host's own feeds now see more metrics than their queries.
    for (size_t f = 0; f < host->feed_count; f++)
        host->feeds[f].direct = false;
    return s_add_feed(host, g, query, SD_GA_FEED_TOTALS) ? 0 : -1;
}

//  -------------------------------------------------------------------------
//  Planning

int sd_ga_plan_requests(const sd_ga_group *groups, size_t group_count, const bool *valid,
                        sd_ga_request **requests_p, size_t *request_count_p)
{
    sd_ga_request *requests = calloc(group_count + 1, sizeof *requests);
    bool *assigned = calloc(group_count + 1, sizeof *assigned);
    bool *merged = calloc(group_count + 1, sizeof *merged);
    size_t count = 0;
    int rc = requests && assigned && merged ? 0 : -1;

    //  Groups with dimensions: merged traffic requests or their own.
    for (size_t g = 0; rc == 0 && g < group_count; g++) {
        const sd_query *query = groups[g].query;
        if (!valid[g] || assigned[g] || query->dimensions.count == 0)
            continue;
        if (s_traffic_candidate(query) &&
            s_pick_traffic(groups, group_count, valid, assigned, g, merged) > 1) {
            rc = s_plan_traffic(&requests[count++], groups, group_count, merged);
            for (size_t h = 0; h < group_count; h++)
                assigned[h] = assigned[h] || merged[h];
            continue;
        }
        rc = s_plan_own(&requests[count++], &groups[g], g);
        assigned[g] = true;
    }
    //  Groups without dimensions ride on a request of the same frame.
    size_t hosts = count;
    for (size_t g = 0; rc == 0 && g < group_count; g++) {
        if (!valid[g] || assigned[g])
            continue;
        sd_ga_request *host = s_find_host(requests, hosts, groups[g].query);
        rc = host ? s_add_rider(host, &groups[g], g) : s_plan_own(&requests[count++], &groups[g], g);
        assigned[g] = true;
    }
    free(assigned);
    free(merged);
    if (rc != 0) {
        sd_ga_requests_free(&requests, count);
        return -1;
    }
    *requests_p = requests;
    *request_count_p = count;
    return 0;
}

//  -------------------------------------------------------------------------
//  Feed reports

//  Returns the dateRange index of a row (its tag after the request's
//  dimensions when there are several ranges), or range_count.
static size_t s_row_range(json_t *values, size_t tag, const sd_period *ranges, size_t range_count)
{
    if (range_count == 1)
        return 0;
    const char *name = json_string_value(json_object_get(json_array_get(values, tag), "value"));
    for (size_t i = 0; name && i < range_count; i++) {
        if (strcmp(ranges[i].label, name) == 0)
            return i;
    }
    return range_count;
}

static bool s_zero(json_t *value)
{
    const char *text = json_string_value(json_object_get(value, "value"));
    return text && strtod(text, NULL) == 0.0;
}

//  Copies the feed's metric values of a row into *picked, which stays NULL
//  when they are all zero because GA4 leaves such rows out. Returns 0, -1
//  when out of memory, or S_ROW_INVALID when the row lacks one of the
//  values. Only "totals" rows can lack one, because sd_ga_page_parse_json
//  does not check them.
static int s_pick_metrics(const sd_ga_feed *feed, size_t metric_count, json_t *values,
                          json_t **picked)
{
    *picked = NULL;
    for (size_t i = 0; i < metric_count; i++) {
        if (!json_array_get(values, feed->metrics[i]))
            return S_ROW_INVALID;
    }
    json_t *metrics = json_array();
    bool zero = true;
    for (size_t i = 0; metrics && i < metric_count; i++) {
        json_t *value = json_array_get(values, feed->metrics[i]);
        zero = zero && s_zero(value);
        if (json_array_append(metrics, value) != 0) {
            json_decref(metrics);
            metrics = NULL;
        }
    }
    if (!metrics)
        return -1;
    if (zero)
        json_decref(metrics);
    else
        *picked = metrics;
    return 0;
}

//  Returns the feed's dimension values of a request row, or NULL.
static json_t *s_pick_dimensions(const sd_ga_feed *feed, size_t dimension_count, json_t *values)
{
    json_t *picked = json_array();
    for (size_t i = 0; picked && i < dimension_count; i++) {
        json_t *value;
        if (feed->dimensions[i] == SD_GA_SOURCE_MEDIUM) {
            char *text = NULL;
            const char *source = json_string_value(
                json_object_get(json_array_get(values, feed->source), "value"));
            const char *medium = json_string_value(
                json_object_get(json_array_get(values, feed->medium), "value"));
            if (source && medium && asprintf(&text, "%s / %s", source, medium) < 0)
                text = NULL;
            value = text ? json_pack("{s:s}", "value", text) : NULL;
            free(text);
        } else {
            value = json_incref(json_array_get(values, feed->dimensions[i]));
        }
        if (!value || json_array_append_new(picked, value) != 0) {
            json_decref(picked);
            picked = NULL;
        }
    }
    return picked;
}

//  Returns true when the row passes the feed's filter.
static bool s_row_passes(const sd_ga_request *request, const sd_ga_feed *feed, json_t *values)
{
    const char *texts[SD_GA_MAX_DIMENSIONS + 1];
    size_t count = request->query.dimensions.count;
    if (!feed->filter)
        return true;
    for (size_t i = 0; i < count && i <= SD_GA_MAX_DIMENSIONS; i++) {
        texts[i] = json_string_value(json_object_get(json_array_get(values, i), "value"));
        if (!texts[i])
            return false;
    }
    return sd_ga_filter_match(feed->filter, &request->query.dimensions, texts);
}

typedef struct {
    const sd_ga_request *request;
    const sd_ga_feed *feed;
    size_t dimension_count;         //  dimension count of the feed's query
    size_t metric_count;
    const sd_period *ranges;
    const bool *needed;
    size_t range_count;
} s_shape;

//  Appends the feed row made of a request row to rows. Returns 0, -1 when
//  out of memory, or S_ROW_INVALID.
static int s_add_row(const s_shape *shape, json_t *row, bool totals, json_t *rows)
{
    size_t tag = shape->request->query.dimensions.count;
    json_t *values = json_object_get(row, "dimensionValues");
    size_t range = s_row_range(values, tag, shape->ranges, shape->range_count);
    if (range >= shape->range_count || !shape->needed[range])
        return 0;
    if (!totals && !s_row_passes(shape->request, shape->feed, values))
        return 0;
    json_t *metrics;
    int rc = s_pick_metrics(shape->feed, shape->metric_count,
                            json_object_get(row, "metricValues"), &metrics);
    if (!metrics)
        return rc;
    json_t *dimensions = totals ? json_array()
                                : s_pick_dimensions(shape->feed, shape->dimension_count, values);
    if (dimensions && shape->range_count > 1 &&
        json_array_append(dimensions, json_array_get(values, tag)) != 0) {
        json_decref(dimensions);
        dimensions = NULL;
    }
    json_t *copy = dimensions ? json_pack("{s:o, s:o}", "dimensionValues", dimensions,
                                          "metricValues", metrics)
                              : NULL;
    if (!dimensions)
        json_decref(metrics);
    return copy && json_array_append_new(rows, copy) == 0 ? 0 : -1;
}

//  Returns [{"name": NAME}, ...] of names, then dateRange when tagged, or
//  NULL.
static json_t *s_headers(const sd_strings *names, bool tagged)
{
    json_t *headers = json_array();
    int rc = headers ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < names->count; i++)
        rc = json_array_append_new(headers, json_pack("{s:s}", "name", names->items[i]));
    if (rc == 0 && tagged)
        rc = json_array_append_new(headers, json_pack("{s:s}", "name", "dateRange"));
    if (rc == 0)
        return headers;
    json_decref(headers);
    return NULL;
}

static json_t *s_metric_headers(const s_shape *shape, json_t *report)
{
    json_t *all = json_object_get(report, "metricHeaders");
    json_t *headers = json_array();
    int rc = headers ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < shape->metric_count; i++)
        rc = json_array_append(headers, json_array_get(all, shape->feed->metrics[i]));
    if (rc == 0)
        return headers;
    json_decref(headers);
    return NULL;
}

//  Assembles a runReport-shaped report of the feed's rows. Consumes the
//  reference to rows.
static json_t *s_assemble(const s_shape *shape, const sd_strings *dimensions, json_t *report,
                          json_t *rows)
{
    json_t *derived = json_object();
    json_t *metadata = json_object_get(report, "metadata");
    int rc = derived ? 0 : -1;
    if (rc == 0)
        rc = json_object_set_new(derived, "dimensionHeaders",
                                 s_headers(dimensions, shape->range_count > 1));
    if (rc == 0)
        rc = json_object_set_new(derived, "metricHeaders", s_metric_headers(shape, report));
    if (rc == 0)
        rc = json_object_set_new(derived, "rowCount", json_integer((json_int_t)json_array_size(rows)));
    if (rc == 0)
        rc = json_object_set(derived, "rows", rows);
    if (rc == 0 && metadata)
        rc = json_object_set(derived, "metadata", metadata);
    json_decref(rows);
    if (rc == 0)
        return derived;
    json_decref(derived);
    return NULL;
}

json_t *sd_ga_feed_report(const sd_ga_request *request, const sd_ga_feed *feed,
                          const sd_query *feed_query, json_t *report, const sd_period *ranges,
                          const bool *needed, size_t range_count, bool first_page, char *error,
                          size_t error_size)
{
    bool all_needed = true;
    for (size_t i = 0; i < range_count; i++)
        all_needed = all_needed && needed[i];
    if (feed->direct && all_needed)
        return json_incref(report);

    s_shape shape = {request,  feed,   feed_query->dimensions.count, feed_query->metrics.count,
                     ranges,   needed, range_count};
    bool totals = feed->kind == SD_GA_FEED_TOTALS;
    json_t *source = json_object_get(report, totals ? "totals" : "rows");
    if (totals && first_page && !source && json_array_size(json_object_get(report, "rows")) > 0) {
        snprintf(error, error_size, "the report has rows but no \"totals\", although the "
                 "request set metricAggregations TOTAL");
        return NULL;
    }
    if (totals && !first_page)
        source = NULL;
    json_t *rows = json_array();
    int rc = rows ? 0 : -1;
    size_t i;
    json_t *row;
    json_array_foreach(source, i, row) {
        if (rc == 0)
            rc = s_add_row(&shape, row, totals, rows);
    }
    if (rc == S_ROW_INVALID) {
        json_decref(rows);
        snprintf(error, error_size, "a \"totals\" row has fewer metric values than the "
                 "request's %zu metrics", request->query.metrics.count);
        return NULL;
    }
    json_t *derived = NULL;
    if (rc == 0)
        derived = s_assemble(&shape, &feed_query->dimensions, report, rows);
    else
        json_decref(rows);
    if (!derived)
        snprintf(error, error_size, "out of memory building the rows of a merged request");
    return derived;
}
