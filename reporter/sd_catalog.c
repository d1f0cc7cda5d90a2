/*  sd_catalog: the report types and their tables, as data.  */
#include "sd_catalog.h"

#include <stdio.h>
#include <string.h>

//  GA4 totals over the whole site: the query behind the summary tables.
static const sd_query_def s_ga_totals = {
    .id = "ga-totals",
    .api = "ga4.runReport",
    .metrics = {"screenPageViews", "totalUsers", "sessions", "userEngagementDuration"},
    .params_json = "{}",
};

//  Columns of the summary tables. Ratios are computed after summing over
//  sites, so they are weighted by sessions. Session time is in minutes.
#define SD_GA_CORE_METRICS                                                                         \
    {                                                                                              \
        {"pageviews", "Pageviews", "scale", "screenPageViews", "", 1.0, "count", 0},               \
        {"users", "Users", "scale", "totalUsers", "", 1.0, "count", 0},                            \
        {"sessions", "Sessions", "scale", "sessions", "", 1.0, "count", 0},                        \
        {"pv_per_session", "Pages per session", "ratio", "screenPageViews", "sessions", 1.0,       \
         "ratio", 2},                                                                              \
        {"avg_session_time", "Session time (min)", "ratio", "userEngagementDuration",             \
         "sessions", 1.0 / 60.0, "minutes", 2},                                                    \
    }

#define SD_GA_CORE_SUM {"screenPageViews", "totalUsers", "sessions", "userEngagementDuration"}

static const sd_table_def s_summary = {
    .name = "summary",
    .title = "Overview",
    .layout = SD_LAYOUT_OVERVIEW,
    .query = &s_ga_totals,
    .sum = SD_GA_CORE_SUM,
    .metrics = SD_GA_CORE_METRICS,
    .compare = {"previous", "yearly"},
};

static const sd_table_def s_site_summary = {
    .name = "site_summary",
    .title = "Sites",
    .layout = SD_LAYOUT_RANKED,
    .query = &s_ga_totals,
    .keys = {{"site", "Site"}},
    .sum = SD_GA_CORE_SUM,
    .metrics = SD_GA_CORE_METRICS,
    .sort_column = "users",
    .sort_descending = true,
    .compare = {"previous", "yearly"},
};

//  TODO: the other ga-core tables (country, top articles, traffic sources,
//  referring sites, devices, social networks, month to date) and the other
//  report types are still to be added here.
static const sd_report_def s_reports[] = {
    {.name = "ga-core", .service = "ga", .tables = {&s_summary, &s_site_summary}},
};

static const char *const s_known[] = {"ga-core", "ga-social", "ga-year-social",
                                      "ga-social-export", "youtube"};

const sd_report_def *sd_catalog_find(const char *report)
{
    for (size_t i = 0; report && i < sizeof s_reports / sizeof s_reports[0]; i++) {
        if (strcmp(s_reports[i].name, report) == 0)
            return &s_reports[i];
    }
    return NULL;
}

bool sd_catalog_is_known(const char *report)
{
    for (size_t i = 0; report && i < sizeof s_known / sizeof s_known[0]; i++) {
        if (strcmp(s_known[i], report) == 0)
            return true;
    }
    return false;
}

const char *sd_catalog_list(char *buffer, size_t size)
{
    size_t used = 0;
    buffer[0] = '\0';
    for (size_t i = 0; i < sizeof s_reports / sizeof s_reports[0] && used < size; i++) {
        int written = snprintf(buffer + used, size - used, "%s%s", i ? ", " : "",
                               s_reports[i].name);
        if (written < 0)
            break;
        used += (size_t)written;
    }
    return buffer;
}

size_t sd_table_def_key_count(const sd_table_def *table)
{
    size_t count = 0;
    while (count < sizeof table->keys / sizeof table->keys[0] && table->keys[count].name)
        count++;
    return count;
}

size_t sd_table_def_metric_count(const sd_table_def *table)
{
    size_t count = 0;
    while (count < SD_CATALOG_MAX_ITEMS && table->metrics[count].name)
        count++;
    return count;
}

size_t sd_table_def_compare_count(const sd_table_def *table)
{
    size_t count = 0;
    while (count < sizeof table->compare / sizeof table->compare[0] && table->compare[count])
        count++;
    return count;
}

const sd_metric_def *sd_table_def_metric(const sd_table_def *table, const char *name)
{
    size_t count = sd_table_def_metric_count(table);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(table->metrics[i].name, name) == 0)
            return &table->metrics[i];
    }
    return NULL;
}
