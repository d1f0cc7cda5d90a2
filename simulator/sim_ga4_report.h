/*  sim_ga4_report: runs a parsed GA4 query over the dataset and builds the
    RunReportResponse JSON.

    The report takes the rows of the property whose date lies in a date
    range, that are not after the data cut-off and that pass the filter. It
    groups them by the requested dimensions (dateRange groups by range),
    sums the metrics per group and computes ratios from the sums. Groups whose requested metrics are all zero are dropped
    unless keepEmptyRows is set. rowCount counts the groups before offset
    and limit. With metricAggregations TOTAL the response also has
    "totals", one row per date range over all the matching rows, on every
    page. Like the real API's JSON, empty lists and a zero rowCount are
    left out of the response.
*/
#ifndef SIM_GA4_REPORT_H
#define SIM_GA4_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "sim_dataset.h"
#include "sim_ga4_query.h"

typedef struct {
    int32_t day;        //  the last day with data (day number)
    int hour;           //  the last hour of that day with data, 0-23
} sim_ga4_cutoff;

//  Returns the response object (the caller owns it) without propertyQuota,
//  or NULL when out of memory. The query's filter caches match results, so
//  the query is not const.
json_t *sim_ga4_report_run(const sim_dataset *dataset, int property, sim_ga4_query *query,
                           sim_ga4_cutoff cutoff);

#endif
