/*  sim_ga4_query: a GA4 Data API v1beta RunReportRequest, parsed and
    checked.

    sim_ga4_query_parse turns the request JSON into dimensions, metrics,
    date ranges (YYYY-MM-DD, "today", "yesterday" or "NdaysAgo" relative to
    a given day), a dimension filter, orderBys, limit, offset,
    keepEmptyRows, returnPropertyQuota and metricAggregations (TOTAL only).
    Invalid requests get a message in the words of the real API, for a 400
    INVALID_ARGUMENT response. With two or more date ranges the query gains
    the dateRange dimension at the end, as the real API adds it.
*/
#ifndef SIM_GA4_QUERY_H
#define SIM_GA4_QUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_ga4_filter.h"
#include "sim_ga4_schema.h"

#define SIM_GA4_DATE_RANGES_MAX 4
#define SIM_GA4_DIMENSIONS_MAX 9
#define SIM_GA4_METRICS_MAX 10
#define SIM_GA4_ORDER_BYS_MAX 20
#define SIM_GA4_LIMIT_DEFAULT 10000
#define SIM_GA4_LIMIT_MAX 250000

typedef struct {
    int32_t first_day;
    int32_t last_day;
    char name[64];                  //  the dateRange value: its name or "date_range_N"
} sim_ga4_date_range;

typedef enum {
    SIM_GA4_ORDER_ALPHANUMERIC,
    SIM_GA4_ORDER_CASE_INSENSITIVE,
    SIM_GA4_ORDER_NUMERIC,
} sim_ga4_order_type;

typedef struct {
    bool by_metric;                 //  false: by dimension
    size_t index;                   //  into the query's metrics or dimensions
    bool descending;
    sim_ga4_order_type type;        //  dimensions only
} sim_ga4_order;

typedef struct {
    sim_ga4_date_range ranges[SIM_GA4_DATE_RANGES_MAX];
    size_t range_count;
    //  One more slot than GA4 allows, for the dateRange dimension.
    const sim_ga4_dimension *dimensions[SIM_GA4_DIMENSIONS_MAX + 1];
    size_t dimension_count;
    const sim_ga4_metric_info *metrics[SIM_GA4_METRICS_MAX];
    size_t metric_count;
    sim_ga4_filter *filter;         //  NULL when the request has none
    sim_ga4_order orders[SIM_GA4_ORDER_BYS_MAX];
    size_t order_count;
    int64_t limit;
    int64_t offset;
    bool keep_empty_rows;
    bool return_property_quota;
    bool totals;                    //  metricAggregations lists TOTAL
} sim_ga4_query;

//  Parses request into query, resolving relative dates against today (a
//  day number). Returns 0, or -1 with the client's message in error; either
//  way the caller releases the query with sim_ga4_query_clear.
int sim_ga4_query_parse(json_t *request, const sim_strings *strings, int32_t today,
                        sim_ga4_query *query, char *error, size_t error_size);

//  Frees what the query owns (its filter). Safe on a cleared query.
void sim_ga4_query_clear(sim_ga4_query *query);

#endif
