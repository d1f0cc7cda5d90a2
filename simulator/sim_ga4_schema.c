/*  sim_ga4_schema: GA4 dimension and metric tables.  */
#include "sim_ga4_schema.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_clock.h"

static const sim_ga4_dimension s_dimensions[] = {
    {"date", SIM_GA4_DIMENSION_DATE, 0},
    {"hour", SIM_GA4_DIMENSION_HOUR, 0},
    {"dateHour", SIM_GA4_DIMENSION_DATE_HOUR, 0},
    {"hostName", SIM_GA4_DIMENSION_TEXT, SIM_GA4_HOST_NAME},
    {"pagePath", SIM_GA4_DIMENSION_TEXT, SIM_GA4_PAGE_PATH},
    {"pageTitle", SIM_GA4_DIMENSION_TEXT, SIM_GA4_PAGE_TITLE},
    {"country", SIM_GA4_DIMENSION_TEXT, SIM_GA4_COUNTRY},
    {"sessionSource", SIM_GA4_DIMENSION_TEXT, SIM_GA4_SOURCE},
    {"sessionMedium", SIM_GA4_DIMENSION_TEXT, SIM_GA4_MEDIUM},
    {"sessionSourceMedium", SIM_GA4_DIMENSION_TEXT, SIM_GA4_SOURCE_MEDIUM},
    {"sessionDefaultChannelGroup", SIM_GA4_DIMENSION_TEXT, SIM_GA4_CHANNEL_GROUP},
    {"deviceCategory", SIM_GA4_DIMENSION_TEXT, SIM_GA4_DEVICE},
    {"dateRange", SIM_GA4_DIMENSION_DATE_RANGE, 0},
};

//  Types as GA4's metadata gives them: engagement time is TYPE_SECONDS.
static const sim_ga4_metric_info s_metrics[] = {
    {"screenPageViews", "TYPE_INTEGER", SIM_GA4_SCREEN_PAGE_VIEWS, -1},
    {"totalUsers", "TYPE_INTEGER", SIM_GA4_TOTAL_USERS, -1},
    {"sessions", "TYPE_INTEGER", SIM_GA4_SESSIONS, -1},
    {"userEngagementDuration", "TYPE_SECONDS", SIM_GA4_ENGAGEMENT_SECONDS, -1},
    {"screenPageViewsPerSession", "TYPE_FLOAT", SIM_GA4_SCREEN_PAGE_VIEWS, SIM_GA4_SESSIONS},
    {"averageSessionDuration", "TYPE_SECONDS", SIM_GA4_ENGAGEMENT_SECONDS, SIM_GA4_SESSIONS},
};

#define S_COUNT(array) (sizeof(array) / sizeof((array)[0]))

const sim_ga4_dimension *sim_ga4_find_dimension(const char *name)
{
    for (size_t i = 0; name && i < S_COUNT(s_dimensions); i++)
        if (strcmp(s_dimensions[i].name, name) == 0)
            return &s_dimensions[i];
    return NULL;
}

const sim_ga4_metric_info *sim_ga4_find_metric(const char *name)
{
    for (size_t i = 0; name && i < S_COUNT(s_metrics); i++)
        if (strcmp(s_metrics[i].name, name) == 0)
            return &s_metrics[i];
    return NULL;
}

const sim_ga4_dimension *sim_ga4_date_range_dimension(void)
{
    return &s_dimensions[S_COUNT(s_dimensions) - 1];
}

uint32_t sim_ga4_dimension_key(const sim_ga4_dimension *dimension, const sim_ga4_row *row)
{
    switch (dimension->kind) {
    case SIM_GA4_DIMENSION_DATE:
        return (uint32_t)row->day;
    case SIM_GA4_DIMENSION_HOUR:
        return row->hour;
    case SIM_GA4_DIMENSION_DATE_HOUR:
        return (uint32_t)row->day * 24u + row->hour;
    case SIM_GA4_DIMENSION_TEXT:
        return row->text[dimension->text];
    default:
        return 0;
    }
}

const char *sim_ga4_dimension_text(const sim_ga4_dimension *dimension, uint32_t key,
                                   const sim_strings *strings, char *buffer)
{
    switch (dimension->kind) {
    case SIM_GA4_DIMENSION_DATE:
        sim_clock_format_compact_date((int32_t)key, buffer);
        return buffer;
    case SIM_GA4_DIMENSION_HOUR:
        snprintf(buffer, 16, "%02u", key % 100u);
        return buffer;
    case SIM_GA4_DIMENSION_DATE_HOUR:
        sim_clock_format_compact_date((int32_t)(key / 24u), buffer);
        snprintf(buffer + 8, 8, "%02u", key % 24u);
        return buffer;
    case SIM_GA4_DIMENSION_TEXT:
        return sim_strings_get(strings, key);
    default:
        return "";
    }
}

double sim_ga4_metric_value(const sim_ga4_metric_info *metric, const int64_t *sums)
{
    double numerator = (double)sums[metric->numerator];
    if (metric->denominator < 0)
        return numerator;
    int64_t denominator = sums[metric->denominator];
    return denominator == 0 ? 0.0 : numerator / (double)denominator;
}

const char *sim_ga4_metric_text(const sim_ga4_metric_info *metric, const int64_t *sums,
                                char *buffer, size_t size)
{
    if (metric->denominator < 0) {
        snprintf(buffer, size, "%" PRId64, sums[metric->numerator]);
        return buffer;
    }
    double value = sim_ga4_metric_value(metric, sums);
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buffer, size, "%.*g", precision, value);
        if (strtod(buffer, NULL) == value)
            break;
    }
    return buffer;
}
