/*  sim_ga4_schema: the GA4 dimensions and metrics the simulator serves, and
    how each is read from a dataset row and written in a response.

    Dimensions: date, hour, dateHour, hostName, pagePath, pageTitle, country,
    sessionSource, sessionMedium, sessionSourceMedium,
    sessionDefaultChannelGroup, deviceCategory, plus dateRange, which a
    response gains when a request has several date ranges. Metrics:
    screenPageViews, totalUsers, sessions (TYPE_INTEGER),
    userEngagementDuration (TYPE_SECONDS), and the ratios
    screenPageViewsPerSession (TYPE_FLOAT) and averageSessionDuration
    (TYPE_SECONDS), computed from sums over the matching rows.
*/
#ifndef SIM_GA4_SCHEMA_H
#define SIM_GA4_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_dataset.h"

typedef enum {
    SIM_GA4_DIMENSION_DATE,         //  key: day number, text YYYYMMDD
    SIM_GA4_DIMENSION_HOUR,         //  key: 0-23, text HH
    SIM_GA4_DIMENSION_DATE_HOUR,    //  key: day * 24 + hour, text YYYYMMDDHH
    SIM_GA4_DIMENSION_TEXT,         //  key: string id of the row's text column
    SIM_GA4_DIMENSION_DATE_RANGE,   //  key: date range index; not read from rows
} sim_ga4_dimension_kind;

typedef struct {
    const char *name;
    sim_ga4_dimension_kind kind;
    sim_ga4_text text;              //  the column, for SIM_GA4_DIMENSION_TEXT
} sim_ga4_dimension;

typedef struct {
    const char *name;
    const char *type;               //  metricHeaders type, e.g. "TYPE_INTEGER"
    sim_ga4_metric numerator;       //  the summed column
    int denominator;                //  a sim_ga4_metric divided by, or -1
} sim_ga4_metric_info;

//  Returns the dimension or metric named name, or NULL when GA4 (as
//  simulated) has none. The tables are static.
const sim_ga4_dimension *sim_ga4_find_dimension(const char *name);
const sim_ga4_metric_info *sim_ga4_find_metric(const char *name);

//  Returns the dateRange dimension that multi-range responses gain.
const sim_ga4_dimension *sim_ga4_date_range_dimension(void);

//  Returns a row's grouping key for a dimension other than dateRange.
uint32_t sim_ga4_dimension_key(const sim_ga4_dimension *dimension, const sim_ga4_row *row);

//  Returns the text of a key: a string in strings, or one written into
//  buffer (at least 16 bytes) for dates and hours. dateRange keys are not
//  handled here because their text depends on the request.
const char *sim_ga4_dimension_text(const sim_ga4_dimension *dimension, uint32_t key,
                                   const sim_strings *strings, char *buffer);

//  Returns a metric's value over summed row metrics; ratios of a zero
//  denominator are 0.
double sim_ga4_metric_value(const sim_ga4_metric_info *metric, const int64_t *sums);

//  Writes a metric value as GA4 does: integers as digits, ratios with the
//  fewest digits that read back to the same double. Returns buffer.
const char *sim_ga4_metric_text(const sim_ga4_metric_info *metric, const int64_t *sums,
                                char *buffer, size_t size);

#endif
