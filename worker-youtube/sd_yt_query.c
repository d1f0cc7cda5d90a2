/*  sd_yt_query: query checks and reports.query / list URLs.  */
#include "sd_yt_query.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_metrics[] = {
    "views", "estimatedMinutesWatched", "subscribersGained", "subscribersLost",
    "likes", "dislikes", "comments", "shares", NULL};
static const char *const s_dimensions[] = {"day", "country", "video",
                                           "insightTrafficSourceType", NULL};

static bool s_listed(const char *const *names, const char *name)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static bool s_has(const sd_strings *strings, const char *name)
{
    for (size_t i = 0; i < strings->count; i++)
        if (strcmp(strings->items[i], name) == 0)
            return true;
    return false;
}

bool sd_yt_query_is_channels(const sd_query *query)
{
    return strcmp(query->api, SD_YT_API_CHANNELS) == 0;
}

bool sd_yt_query_is_videos(const sd_query *query)
{
    return strcmp(query->api, SD_YT_API_VIDEOS) == 0;
}

int sd_yt_query_video_ids(const sd_query *query, sd_strings *ids, char *error,
                          size_t error_size)
{
    json_t *params = json_loads(query->params_json ? query->params_json : "{}", 0, NULL);
    json_t *list = json_object_get(params, "ids");
    size_t count = json_array_size(list);
    int rc = json_is_object(params) && json_object_size(params) == 1 && json_is_array(list)
                     && count >= 1 && count <= SD_YT_VIDEOS_MAX_IDS
                 ? 0
                 : -1;
    if (rc != 0)
        snprintf(error, error_size, "query %s: params_json must be {\"ids\": [...]} with 1 to "
                 "%d video ids", query->id, SD_YT_VIDEOS_MAX_IDS);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const char *id = json_string_value(json_array_get(list, i));
        if (!id || !*id || strchr(id, ',')) {
            snprintf(error, error_size, "query %s: ids[%zu] is not a video id (a non-empty "
                     "string without commas)", query->id, i);
            rc = -1;
        } else if (!s_has(ids, id) && sd_strings_push(ids, id) != 0) {
            snprintf(error, error_size, "out of memory reading the video ids of query %s",
                     query->id);
            rc = -1;
        }
    }
    json_decref(params);
    return rc;
}

//  Checks a youtube.videos query: dimensions video and title, no metrics,
//  and valid ids.
static int s_check_videos(const sd_query *query, char *error, size_t error_size)
{
    bool shape = query->metrics.count == 0 && query->dimensions.count == 2
                 && strcmp(query->dimensions.items[0], "video") == 0
                 && strcmp(query->dimensions.items[1], "title") == 0;
    if (!shape) {
        snprintf(error, error_size, "query %s: %s takes the dimensions video and title and no "
                 "metrics", query->id, SD_YT_API_VIDEOS);
        return -1;
    }
    sd_strings ids = {0};
    int rc = sd_yt_query_video_ids(query, &ids, error, error_size);
    sd_strings_clear(&ids);
    return rc;
}

//  Checks params_json: an object whose only keys are "sort" and "filters",
//  both strings.
static int s_check_params(const sd_query *query, char *error, size_t error_size)
{
    json_t *params = json_loads(query->params_json ? query->params_json : "{}", 0, NULL);
    const char *key;
    json_t *value;
    int rc = json_is_object(params) ? 0 : -1;
    if (rc != 0)
        snprintf(error, error_size, "query %s: params_json is not a JSON object", query->id);
    json_object_foreach(params, key, value) {
        if (rc == 0 && ((strcmp(key, "sort") != 0 && strcmp(key, "filters") != 0)
                        || !json_is_string(value))) {
            snprintf(error, error_size, "query %s: params_json may only set \"sort\" and "
                     "\"filters\" (strings); \"%s\" is set by the worker or unknown",
                     query->id, key);
            rc = -1;
        }
    }
    json_decref(params);
    return rc;
}

static int s_check_reports(const sd_query *query, char *error, size_t error_size)
{
    if (query->metrics.count == 0) {
        snprintf(error, error_size, "query %s: no metrics; name at least one, e.g. views",
                 query->id);
        return -1;
    }
    for (size_t i = 0; i < query->metrics.count; i++) {
        if (!s_listed(s_metrics, query->metrics.items[i])) {
            snprintf(error, error_size, "query %s: metric \"%s\" is not one the YouTube worker "
                     "sums (views, estimatedMinutesWatched, subscribersGained, subscribersLost, "
                     "likes, dislikes, comments, shares)", query->id, query->metrics.items[i]);
            return -1;
        }
    }
    for (size_t i = 0; i < query->dimensions.count; i++) {
        if (strcmp(query->dimensions.items[i], "title") == 0) {
            snprintf(error, error_size, "query %s: reports.query has no title dimension; ask "
                     "for the titles with a %s query", query->id, SD_YT_API_VIDEOS);
            return -1;
        }
        if (!s_listed(s_dimensions, query->dimensions.items[i])) {
            snprintf(error, error_size, "query %s: dimension \"%s\" is not supported (day, "
                     "country, video, insightTrafficSourceType)", query->id,
                     query->dimensions.items[i]);
            return -1;
        }
    }
    if (s_has(&query->dimensions, "video")
        && (query->limit < 1 || query->limit > SD_YT_VIDEO_MAX_RESULTS)) {
        snprintf(error, error_size, "query %s: a query by video needs a limit of 1 to %d",
                 query->id, SD_YT_VIDEO_MAX_RESULTS);
        return -1;
    }
    return s_check_params(query, error, error_size);
}

int sd_yt_query_check(const sd_query *query, char *error, size_t error_size)
{
    if (query->period_count == 0) {
        snprintf(error, error_size, "query %s has no periods", query->id);
        return -1;
    }
    if (strcmp(query->api, SD_YT_API_REPORTS) == 0)
        return s_check_reports(query, error, error_size);
    if (sd_yt_query_is_videos(query))
        return s_check_videos(query, error, error_size);
    if (!sd_yt_query_is_channels(query)) {
        snprintf(error, error_size, "query %s: api \"%s\" is not served by the YouTube worker "
                 "(%s, %s or %s)", query->id, query->api, SD_YT_API_REPORTS,
                 SD_YT_API_CHANNELS, SD_YT_API_VIDEOS);
        return -1;
    }
    if (query->metrics.count != 1 || strcmp(query->metrics.items[0], "subscriberCount") != 0
        || query->dimensions.count != 0) {
        snprintf(error, error_size, "query %s: %s takes the metric subscriberCount and no "
                 "dimensions", query->id, SD_YT_API_CHANNELS);
        return -1;
    }
    return 0;
}

//  Appends "&name=value" (value percent-encoded) to url. Returns 0 or -1;
//  on failure the url is freed.
static int s_append(char **url, const char *name, const char *value)
{
    char *escaped = curl_easy_escape(NULL, value, 0);
    size_t size = strlen(*url) + strlen(name) + (escaped ? strlen(escaped) : 0) + 3;
    char *grown = escaped ? realloc(*url, size) : NULL;
    if (!grown) {
        curl_free(escaped);
        free(*url);
        *url = NULL;
        return -1;
    }
    char separator = strchr(grown, '?') ? '&' : '?';
    size_t used = strlen(grown);
    snprintf(grown + used, size - used, "%c%s=%s", separator, name, escaped);
    curl_free(escaped);
    *url = grown;
    return 0;
}

//  Joins the query's dimensions with commas into buffer.
static void s_api_dimensions(const sd_query *query, char *buffer, size_t size)
{
    buffer[0] = '\0';
    for (size_t i = 0; i < query->dimensions.count; i++) {
        if (buffer[0])
            strncat(buffer, ",", size - strlen(buffer) - 1);
        strncat(buffer, query->dimensions.items[i], size - strlen(buffer) - 1);
    }
}

static void s_join(const sd_strings *strings, char *buffer, size_t size)
{
    buffer[0] = '\0';
    for (size_t i = 0; i < strings->count; i++) {
        if (i > 0)
            strncat(buffer, ",", size - strlen(buffer) - 1);
        strncat(buffer, strings->items[i], size - strlen(buffer) - 1);
    }
}

//  Adds filters and sort of params_json (checked already) after the
//  channel filter.
static int s_append_params(char **url, const sd_query *query, const char *channel_filter)
{
    json_t *params = json_loads(query->params_json ? query->params_json : "{}", 0, NULL);
    const char *extra = json_string_value(json_object_get(params, "filters"));
    const char *sort = json_string_value(json_object_get(params, "sort"));
    char filters[1024] = "";
    if (channel_filter)
        snprintf(filters, sizeof filters, "%s", channel_filter);
    if (extra && *extra)
        snprintf(filters + strlen(filters), sizeof filters - strlen(filters), "%s%s",
                 filters[0] ? ";" : "", extra);
    int rc = 0;
    if (filters[0])
        rc = s_append(url, "filters", filters);
    if (rc == 0 && sort && *sort)
        rc = s_append(url, "sort", sort);
    json_decref(params);
    return rc;
}

char *sd_yt_reports_url(const char *api_base, const sd_query *query, const char *start,
                        const char *end, const char *channel_id, const char *content_owner,
                        const char *metrics_override)
{
    size_t size = strlen(api_base) + sizeof "/v2/reports";
    char *url = malloc(size);
    if (!url)
        return NULL;
    snprintf(url, size, "%s/v2/reports", api_base);
    char ids[256], channel_filter[128], metrics[1024], dimensions[512];
    if (content_owner)
        snprintf(ids, sizeof ids, "contentOwner==%s", content_owner);
    else
        snprintf(ids, sizeof ids, "channel==MINE");
    snprintf(channel_filter, sizeof channel_filter, "channel==%s", channel_id);
    if (metrics_override)
        snprintf(metrics, sizeof metrics, "%s", metrics_override);
    else
        s_join(&query->metrics, metrics, sizeof metrics);
    s_api_dimensions(query, dimensions, sizeof dimensions);
    if (metrics_override)
        dimensions[0] = '\0';

    if (s_append(&url, "ids", ids) != 0 || s_append(&url, "startDate", start) != 0
        || s_append(&url, "endDate", end) != 0 || s_append(&url, "metrics", metrics) != 0
        || (dimensions[0] && s_append(&url, "dimensions", dimensions) != 0))
        return NULL;
    if (metrics_override) {
        if (content_owner && s_append(&url, "filters", channel_filter) != 0)
            return NULL;
        return url;
    }
    if (s_append_params(&url, query, content_owner ? channel_filter : NULL) != 0)
        return NULL;
    if (s_has(&query->dimensions, "video") && query->limit > 0) {
        char limit[32];
        snprintf(limit, sizeof limit, "%lld", (long long)query->limit);
        if (s_append(&url, "maxResults", limit) != 0)
            return NULL;
    }
    return url;
}

char *sd_yt_list_url(const char *data_api_base, const char *resource, const char *part,
                     const char *const *ids, size_t count)
{
    size_t size = strlen(data_api_base) + strlen(resource) + 2;
    char *url = malloc(size);
    if (!url)
        return NULL;
    snprintf(url, size, "%s/%s", data_api_base, resource);
    size_t joined_size = 1;
    for (size_t i = 0; i < count; i++)
        joined_size += strlen(ids[i]) + 1;
    char *joined = calloc(1, joined_size);
    for (size_t i = 0; joined && i < count; i++) {
        if (i > 0)
            strcat(joined, ",");
        strcat(joined, ids[i]);
    }
    if (!joined || s_append(&url, "part", part) != 0 || s_append(&url, "id", joined) != 0) {
        free(joined);
        free(url);
        return NULL;
    }
    free(joined);
    return url;
}

bool sd_yt_query_paged(const sd_query *query)
{
    return !s_has(&query->dimensions, "video");
}

char *sd_yt_page_url(const char *url, int64_t start_index, int64_t max_results)
{
    char start[32], max[32];
    snprintf(start, sizeof start, "%lld", (long long)start_index);
    snprintf(max, sizeof max, "%lld", (long long)max_results);
    char *paged = strdup(url);
    if (!paged || s_append(&paged, "startIndex", start) != 0
        || s_append(&paged, "maxResults", max) != 0)
        return NULL;                //  s_append freed paged
    return paged;
}

char *sd_yt_views_url(const char *api_base, const char *date, const char *channel_id,
                      const char *content_owner)
{
    char *metric = "views";
    char *dimension = "day";
    sd_period period = {"day", (char *)date, (char *)date};
    sd_query query = {
        .id = "availability",
        .api = SD_YT_API_REPORTS,
        .metrics = {&metric, 1},
        .dimensions = {&dimension, 1},
        .params_json = "{}",
        .periods = &period,
        .period_count = 1,
    };
    return sd_yt_reports_url(api_base, &query, date, date, channel_id, content_owner, NULL);
}

static bool s_same_strings(const sd_strings *a, const sd_strings *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->items[i], b->items[i]) != 0)
            return false;
    return true;
}

bool sd_yt_query_same_calls(const sd_query *a, const sd_query *b)
{
    const char *a_params = a->params_json ? a->params_json : "{}";
    const char *b_params = b->params_json ? b->params_json : "{}";
    if (strcmp(a->api, b->api) != 0 || !s_same_strings(&a->metrics, &b->metrics)
        || !s_same_strings(&a->dimensions, &b->dimensions) || strcmp(a_params, b_params) != 0
        || a->limit != b->limit || a->period_count != b->period_count)
        return false;
    for (size_t p = 0; p < a->period_count; p++)
        if (strcmp(a->periods[p].start, b->periods[p].start) != 0
            || strcmp(a->periods[p].end, b->periods[p].end) != 0)
            return false;
    return true;
}
