/*  sd_ga_period_cache: keys and values of the per-period cache entries.  */
#include "sd_ga_period_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Metadata fields that sd_ga_page_parse_json turns into warnings.
static const char *s_warning_fields[] = {"samplingMetadatas", "subjectToThresholding",
                                         "dataLossFromOtherRow"};

//  Hashes the JSON text of description (which it takes) into key, scoped
//  by the property. Returns 0 or -1.
static int s_key(const char *property, json_t *description, char key[SD_CACHE_KEY_SIZE])
{
    char scope[128];
    snprintf(scope, sizeof scope, "ga4:%s:period", property);
    char *text = description ? json_dumps(description, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = text ? sd_cache_key(scope, text, strlen(text), key) : -1;
    free(text);
    json_decref(description);
    return rc;
}

int sd_ga_period_key(const char *property, const char *identity, const sd_period *period,
                     char key[SD_CACHE_KEY_SIZE])
{
    return s_key(property,
                 json_pack("{s:s, s:s, s:s}", "query", identity, "startDate", period->start,
                           "endDate", period->end),
                 key);
}

int sd_ga_period_key_in_request(const char *property, const char *identity,
                                const sd_period *ranges, size_t range_count, size_t index,
                                char key[SD_CACHE_KEY_SIZE])
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < range_count; i++) {
        if (json_array_append_new(list, json_pack("[s, s, s]", ranges[i].start, ranges[i].end,
                                                  ranges[i].label)) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (!list)
        return -1;
    return s_key(property,
                 json_pack("{s:s, s:o, s:I}", "query", identity, "dateRanges", list, "index",
                           (json_int_t)index),
                 key);
}

int sd_ga_period_rows_init(sd_ga_period_rows *rows, const bool *keep, size_t range_count)
{
    memset(rows, 0, sizeof *rows);
    rows->range_count = range_count < SD_GA_MAX_DATE_RANGES ? range_count
                                                             : SD_GA_MAX_DATE_RANGES;
    for (size_t i = 0; i < rows->range_count; i++) {
        if (keep[i] && !(rows->rows[i] = json_array())) {
            sd_ga_period_rows_clear(rows);
            return -1;
        }
    }
    return 0;
}

bool sd_ga_period_rows_keeps_any(const sd_ga_period_rows *rows)
{
    for (size_t i = 0; i < rows->range_count; i++) {
        if (rows->rows[i])
            return true;
    }
    return false;
}

//  Returns the first count items of array (references), or NULL.
static json_t *s_head(json_t *array, size_t count)
{
    json_t *head = json_array();
    for (size_t i = 0; head && i < count; i++) {
        if (json_array_append(head, json_array_get(array, i)) != 0) {
            json_decref(head);
            return NULL;
        }
    }
    return head;
}

//  Takes the headers of the first page, without the "dateRange" dimension
//  that GA4 adds when a request has several dateRanges.
static int s_take_headers(sd_ga_period_rows *rows, json_t *report, const sd_ga_page *page)
{
    if (rows->metric_headers)
        return 0;
    rows->dimension_headers = s_head(json_object_get(report, "dimensionHeaders"),
                                     page->dimension_count);
    rows->metric_headers = json_incref(json_object_get(report, "metricHeaders"));
    rows->metadata = json_object();
    return rows->dimension_headers && rows->metric_headers && rows->metadata ? 0 : -1;
}

//  Sets the warning fields of the page's metadata that are not set yet.
static int s_merge_metadata(sd_ga_period_rows *rows, json_t *report)
{
    json_t *metadata = json_object_get(report, "metadata");
    for (size_t i = 0; i < sizeof s_warning_fields / sizeof s_warning_fields[0]; i++) {
        json_t *value = json_object_get(metadata, s_warning_fields[i]);
        if (value && !json_object_get(rows->metadata, s_warning_fields[i]) &&
            json_object_set(rows->metadata, s_warning_fields[i], value) != 0)
            return -1;
    }
    return 0;
}

int sd_ga_period_rows_add(sd_ga_period_rows *rows, json_t *report, const sd_ga_page *page)
{
    if (!sd_ga_period_rows_keeps_any(rows))
        return 0;
    if (s_take_headers(rows, report, page) != 0 || s_merge_metadata(rows, report) != 0)
        return -1;
    json_t *list = json_object_get(report, "rows");
    for (size_t r = 0; r < page->rows; r++) {
        size_t range = page->periods[r];
        if (range >= rows->range_count || !rows->rows[range])
            continue;
        json_t *row = json_array_get(list, r);
        json_t *dimensions = s_head(json_object_get(row, "dimensionValues"),
                                    page->dimension_count);
        if (!dimensions)
            return -1;
        json_t *copy = json_pack("{s:o, s:O}", "dimensionValues", dimensions, "metricValues",
                                 json_object_get(row, "metricValues"));
        if (!copy || json_array_append_new(rows->rows[range], copy) != 0)
            return -1;
    }
    return 0;
}

char *sd_ga_period_rows_report(const sd_ga_period_rows *rows, size_t index)
{
    if (index >= rows->range_count || !rows->rows[index] || !rows->metric_headers)
        return NULL;
    json_t *report = json_pack("{s:O, s:O, s:O, s:I, s:O}", "dimensionHeaders",
                               rows->dimension_headers, "metricHeaders", rows->metric_headers,
                               "rows", rows->rows[index], "rowCount",
                               (json_int_t)json_array_size(rows->rows[index]), "metadata",
                               rows->metadata);
    char *text = report ? json_dumps(report, JSON_COMPACT) : NULL;
    json_decref(report);
    return text;
}

void sd_ga_period_rows_clear(sd_ga_period_rows *rows)
{
    for (size_t i = 0; i < SD_GA_MAX_DATE_RANGES; i++)
        json_decref(rows->rows[i]);
    json_decref(rows->dimension_headers);
    json_decref(rows->metric_headers);
    json_decref(rows->metadata);
    memset(rows, 0, sizeof *rows);
}
