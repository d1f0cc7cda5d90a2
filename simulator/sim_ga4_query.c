/*  sim_ga4_query: RunReportRequest parsing and validation.  */
#include "sim_ga4_query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"

#define SIM_SCHEMA_HINT                                                                           \
    " For a list of valid dimensions and metrics, see "                                          \
    "https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema"

//  GA4 keeps no data before this day (2015-08-14), so it rejects dates before it.
#define SIM_GA4_FIRST_DATE "2015-08-14"

__attribute__((format(printf, 3, 4))) static int s_fail(char *error, size_t error_size,
                                                        const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(error, error_size, format, arguments);
    va_end(arguments);
    return -1;
}

//  Rejects unknown top-level fields as the real API does. Fields the
//  simulator does not implement get a message naming them.
static int s_check_fields(json_t *request, char *error, size_t error_size)
{
    static const char *known[] = {"property", "dimensions", "metrics", "dateRanges",
                                  "dimensionFilter", "offset", "limit", "orderBys",
                                  "currencyCode", "keepEmptyRows", "returnPropertyQuota",
                                  "metricAggregations", NULL};
    static const char *unsupported[] = {"metricFilter", "cohortSpec", "comparisons", NULL};
    const char *key;
    json_t *value;
    json_object_foreach(request, key, value) {
        bool found = false;
        for (size_t i = 0; known[i] && !found; i++)
            found = strcmp(key, known[i]) == 0;
        for (size_t i = 0; unsupported[i] && !found; i++)
            if (strcmp(key, unsupported[i]) == 0)
                return s_fail(error, error_size,
                              "The simulator does not implement %s; leave it out of the request.",
                              key);
        if (!found)
            return s_fail(error, error_size,
                          "Invalid JSON payload received. Unknown name \"%.100s\": Cannot find "
                          "field.", key);
    }
    return 0;
}

//  Parses a date of a date range: YYYY-MM-DD, today, yesterday or NdaysAgo.
static int s_parse_date(const char *text, int32_t today, int32_t *day)
{
    if (!text)
        return -1;
    if (strcmp(text, "today") == 0) {
        *day = today;
        return 0;
    }
    if (strcmp(text, "yesterday") == 0) {
        *day = today - 1;
        return 0;
    }
    size_t length = strlen(text);
    if (length > 7 && length < 14 && strcmp(text + length - 7, "daysAgo") == 0) {
        long count = 0;
        for (size_t i = 0; i < length - 7; i++) {
            if (text[i] < '0' || text[i] > '9')
                return -1;
            count = count * 10 + (text[i] - '0');
        }
        *day = today - (int32_t)count;
        return 0;
    }
    return sim_clock_parse_iso_date(text, day);
}

static int s_parse_range(json_t *object, size_t index, int32_t today, sim_ga4_date_range *range,
                         char *error, size_t error_size)
{
    const char *start = json_string_value(json_object_get(object, "startDate"));
    const char *end = json_string_value(json_object_get(object, "endDate"));
    const char *name = json_string_value(json_object_get(object, "name"));
    int32_t earliest;
    sim_clock_parse_iso_date(SIM_GA4_FIRST_DATE, &earliest);

    if (s_parse_date(start, today, &range->first_day) != 0
        || s_parse_date(end, today, &range->last_day) != 0)
        return s_fail(error, error_size,
                      "Invalid date range at dateRanges[%zu]: startDate \"%.40s\" and endDate "
                      "\"%.40s\" must be YYYY-MM-DD, today, yesterday or NdaysAgo.",
                      index, start ? start : "", end ? end : "");
    if (range->first_day > range->last_day)
        return s_fail(error, error_size,
                      "Invalid date range at dateRanges[%zu]: startDate %s is after endDate %s.",
                      index, start, end);
    if (range->first_day < earliest)
        return s_fail(error, error_size,
                      "Invalid date range at dateRanges[%zu]: dates must be on or after %s.",
                      index, SIM_GA4_FIRST_DATE);
    if (name && (strncmp(name, "date_range_", 11) == 0 || strncmp(name, "RESERVED_", 9) == 0))
        return s_fail(error, error_size,
                      "Invalid date range name \"%.60s\": names may not begin with date_range_ "
                      "or RESERVED_.", name);
    if (name && *name)
        snprintf(range->name, sizeof range->name, "%s", name);
    else
        snprintf(range->name, sizeof range->name, "date_range_%zu", index);
    return 0;
}

static int s_parse_ranges(json_t *ranges, int32_t today, sim_ga4_query *query, char *error,
                          size_t error_size)
{
    if (!json_is_array(ranges) || json_array_size(ranges) == 0)
        return s_fail(error, error_size,
                      "A request must specify at least one date range in dateRanges.");
    if (json_array_size(ranges) > SIM_GA4_DATE_RANGES_MAX)
        return s_fail(error, error_size,
                      "Requests can have at most %d dateRanges; this request has %zu.",
                      SIM_GA4_DATE_RANGES_MAX, json_array_size(ranges));
    size_t index;
    json_t *range;
    json_array_foreach(ranges, index, range) {
        if (s_parse_range(range, index, today, &query->ranges[index], error, error_size) != 0)
            return -1;
        query->range_count++;
    }
    return 0;
}

//  Returns the "name" of a {"name": ...} object, or NULL.
static const char *s_item_name(json_t *item)
{
    return json_string_value(json_object_get(item, "name"));
}

static int s_parse_dimensions(json_t *list, sim_ga4_query *query, char *error, size_t error_size)
{
    if (!list)
        return 0;
    if (!json_is_array(list))
        return s_fail(error, error_size, "Invalid value at 'dimensions': expected a list of "
                                         "{\"name\": ...} objects.");
    if (json_array_size(list) > SIM_GA4_DIMENSIONS_MAX)
        return s_fail(error, error_size, "Requests can have at most %d dimensions.",
                      SIM_GA4_DIMENSIONS_MAX);
    size_t index;
    json_t *item;
    json_array_foreach(list, index, item) {
        const char *name = s_item_name(item);
        const sim_ga4_dimension *dimension = sim_ga4_find_dimension(name);
        if (json_object_get(item, "dimensionExpression"))
            return s_fail(error, error_size, "The simulator does not implement "
                                             "dimensionExpression.");
        if (!dimension)
            return s_fail(error, error_size, "Field %.100s is not a valid dimension." SIM_SCHEMA_HINT,
                          name ? name : "(missing name)");
        for (size_t i = 0; i < query->dimension_count; i++)
            if (query->dimensions[i] == dimension)
                return s_fail(error, error_size, "Duplicate dimension %s in the request.", name);
        query->dimensions[query->dimension_count++] = dimension;
    }
    return 0;
}

static int s_parse_metrics(json_t *list, sim_ga4_query *query, char *error, size_t error_size)
{
    if (!list)
        return 0;
    if (!json_is_array(list))
        return s_fail(error, error_size, "Invalid value at 'metrics': expected a list of "
                                         "{\"name\": ...} objects.");
    if (json_array_size(list) > SIM_GA4_METRICS_MAX)
        return s_fail(error, error_size, "Requests can have at most %d metrics.",
                      SIM_GA4_METRICS_MAX);
    size_t index;
    json_t *item;
    json_array_foreach(list, index, item) {
        const char *name = s_item_name(item);
        const sim_ga4_metric_info *metric = sim_ga4_find_metric(name);
        if (json_object_get(item, "expression"))
            return s_fail(error, error_size, "The simulator does not implement metric "
                                             "expressions.");
        if (!metric)
            return s_fail(error, error_size, "Field %.100s is not a valid metric." SIM_SCHEMA_HINT,
                          name ? name : "(missing name)");
        for (size_t i = 0; i < query->metric_count; i++)
            if (query->metrics[i] == metric)
                return s_fail(error, error_size, "Duplicate metric %s in the request.", name);
        query->metrics[query->metric_count++] = metric;
    }
    return 0;
}

static int s_parse_order_type(const char *text, sim_ga4_order_type *type)
{
    if (!text || strcmp(text, "ALPHANUMERIC") == 0 || strcmp(text, "ORDER_TYPE_UNSPECIFIED") == 0)
        *type = SIM_GA4_ORDER_ALPHANUMERIC;
    else if (strcmp(text, "CASE_INSENSITIVE_ALPHANUMERIC") == 0)
        *type = SIM_GA4_ORDER_CASE_INSENSITIVE;
    else if (strcmp(text, "NUMERIC") == 0)
        *type = SIM_GA4_ORDER_NUMERIC;
    else
        return -1;
    return 0;
}

//  Parses one OrderBy: {"metric": {"metricName"}} or {"dimension":
//  {"dimensionName", "orderType"}}, with "desc". The field must also be
//  among the request's dimensions or metrics.
static int s_parse_order(json_t *item, size_t position, sim_ga4_query *query,
                         sim_ga4_order *order, char *error, size_t error_size)
{
    json_t *metric = json_object_get(item, "metric");
    json_t *dimension = json_object_get(item, "dimension");
    order->descending = json_is_true(json_object_get(item, "desc"));
    if (json_is_object(metric)) {
        const char *name = json_string_value(json_object_get(metric, "metricName"));
        order->by_metric = true;
        for (size_t i = 0; name && i < query->metric_count; i++)
            if (strcmp(query->metrics[i]->name, name) == 0) {
                order->index = i;
                return 0;
            }
        return s_fail(error, error_size, "orderBys[%zu] names metric %.100s, which is not in the "
                      "request's metrics.", position, name ? name : "(missing metricName)");
    }
    if (json_is_object(dimension)) {
        const char *name = json_string_value(json_object_get(dimension, "dimensionName"));
        const char *type = json_string_value(json_object_get(dimension, "orderType"));
        if (s_parse_order_type(type, &order->type) != 0)
            return s_fail(error, error_size, "orderBys[%zu] has an invalid orderType \"%.60s\".",
                          position, type);
        for (size_t i = 0; name && i < query->dimension_count; i++)
            if (strcmp(query->dimensions[i]->name, name) == 0) {
                order->index = i;
                return 0;
            }
        return s_fail(error, error_size, "orderBys[%zu] names dimension %.100s, which is not in "
                      "the request's dimensions.", position, name ? name : "(missing dimensionName)");
    }
    return s_fail(error, error_size, "orderBys[%zu] must set metric or dimension.", position);
}

static int s_parse_orders(json_t *list, sim_ga4_query *query, char *error, size_t error_size)
{
    if (!list)
        return 0;
    if (!json_is_array(list) || json_array_size(list) > SIM_GA4_ORDER_BYS_MAX)
        return s_fail(error, error_size, "Invalid value at 'orderBys': expected a list of at most "
                      "%d OrderBy objects.", SIM_GA4_ORDER_BYS_MAX);
    size_t index;
    json_t *item;
    json_array_foreach(list, index, item) {
        if (s_parse_order(item, index, query, &query->orders[index], error, error_size) != 0)
            return -1;
        query->order_count++;
    }
    return 0;
}

//  Reads an int64 field, given as a JSON number or (as proto3 JSON writes
//  int64) a decimal string. Missing fields keep *value.
static int s_parse_int64(json_t *request, const char *name, int64_t *value, char *error,
                         size_t error_size)
{
    json_t *field = json_object_get(request, name);
    if (!field)
        return 0;
    if (json_is_integer(field)) {
        *value = json_integer_value(field);
    } else {
        const char *text = json_string_value(field);
        char *end = NULL;
        long long parsed = text ? strtoll(text, &end, 10) : 0;
        if (!text || !*text || *end)
            return s_fail(error, error_size, "Invalid value at '%s': expected an integer.", name);
        *value = parsed;
    }
    if (*value < 0)
        return s_fail(error, error_size, "%s must not be negative; it is %lld.", name,
                      (long long)*value);
    return 0;
}

//  Parses metricAggregations, a list of MetricAggregation names. TOTAL
//  sets query->totals. MINIMUM, MAXIMUM and COUNT are valid in GA4 but not
//  implemented here.
static int s_parse_aggregations(json_t *list, sim_ga4_query *query, char *error,
                                size_t error_size)
{
    if (!list)
        return 0;
    if (!json_is_array(list))
        return s_fail(error, error_size, "Invalid value at 'metricAggregations': expected a list "
                                         "of MetricAggregation names.");
    size_t index;
    json_t *item;
    json_array_foreach(list, index, item) {
        const char *name = json_string_value(item);
        if (name && strcmp(name, "TOTAL") == 0) {
            query->totals = true;
        } else if (name && (strcmp(name, "MINIMUM") == 0 || strcmp(name, "MAXIMUM") == 0
                            || strcmp(name, "COUNT") == 0)) {
            return s_fail(error, error_size, "The simulator does not implement metricAggregations "
                          "%s; request TOTAL or leave it out.", name);
        } else {
            return s_fail(error, error_size, "Invalid value at 'metricAggregations[%zu]' "
                          "(type.googleapis.com/google.analytics.data.v1beta.MetricAggregation), "
                          "\"%.60s\"", index, name ? name : "(not a string)");
        }
    }
    return 0;
}

static int s_parse_paging(json_t *request, sim_ga4_query *query, char *error, size_t error_size)
{
    query->limit = 0;
    query->offset = 0;
    if (s_parse_int64(request, "limit", &query->limit, error, error_size) != 0
        || s_parse_int64(request, "offset", &query->offset, error, error_size) != 0)
        return -1;
    //  An unset or zero limit means the default; larger ones are capped.
    if (query->limit == 0)
        query->limit = SIM_GA4_LIMIT_DEFAULT;
    if (query->limit > SIM_GA4_LIMIT_MAX)
        query->limit = SIM_GA4_LIMIT_MAX;
    return 0;
}

int sim_ga4_query_parse(json_t *request, const sim_strings *strings, int32_t today,
                        sim_ga4_query *query, char *error, size_t error_size)
{
    memset(query, 0, sizeof *query);
    if (!json_is_object(request))
        return s_fail(error, error_size, "Invalid JSON payload received: the body must be a "
                                         "RunReportRequest object.");
    if (s_check_fields(request, error, error_size) != 0
        || s_parse_dimensions(json_object_get(request, "dimensions"), query, error, error_size)
        || s_parse_metrics(json_object_get(request, "metrics"), query, error, error_size)
        || s_parse_ranges(json_object_get(request, "dateRanges"), today, query, error, error_size))
        return -1;
    if (query->dimension_count == 0 && query->metric_count == 0)
        return s_fail(error, error_size, "A request must have at least one dimension or metric.");

    //  The real API tags rows with a dateRange dimension once there are two
    //  or more ranges, unless the request already lists it.
    bool has_range_dimension = false;
    for (size_t i = 0; i < query->dimension_count; i++)
        has_range_dimension |= query->dimensions[i] == sim_ga4_date_range_dimension();
    if (query->range_count > 1 && !has_range_dimension)
        query->dimensions[query->dimension_count++] = sim_ga4_date_range_dimension();

    json_t *filter = json_object_get(request, "dimensionFilter");
    if (filter && !(query->filter = sim_ga4_filter_parse(filter, strings, error, error_size)))
        return -1;
    if (s_parse_orders(json_object_get(request, "orderBys"), query, error, error_size) != 0
        || s_parse_aggregations(json_object_get(request, "metricAggregations"), query, error,
                                error_size) != 0
        || s_parse_paging(request, query, error, error_size) != 0)
        return -1;
    query->keep_empty_rows = json_is_true(json_object_get(request, "keepEmptyRows"));
    query->return_property_quota = json_is_true(json_object_get(request, "returnPropertyQuota"));
    return 0;
}

void sim_ga4_query_clear(sim_ga4_query *query)
{
    sim_ga4_filter_destroy(&query->filter);
}
