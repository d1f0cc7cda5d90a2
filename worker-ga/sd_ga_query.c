/*  sd_ga_query: query groups and runReport request bodies.  */
#include "sd_ga_query.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Request fields this worker sets itself; params_json must leave them out.
static const char *s_reserved_fields[] = {"dateRanges", "dimensions", "metrics", "offset",
                                          "limit", "property", "returnPropertyQuota"};

static bool s_strings_equal(const sd_strings *a, const sd_strings *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (strcmp(a->items[i], b->items[i]) != 0)
            return false;
    }
    return true;
}

static bool s_periods_equal(const sd_query *a, const sd_query *b)
{
    if (a->period_count != b->period_count)
        return false;
    for (size_t i = 0; i < a->period_count; i++) {
        const sd_period *x = &a->periods[i];
        const sd_period *y = &b->periods[i];
        if (strcmp(x->label, y->label) != 0 || strcmp(x->start, y->start) != 0 ||
            strcmp(x->end, y->end) != 0)
            return false;
    }
    return true;
}

//  Compares params as JSON values, so that spacing and key order do not
//  split a group. Text that is not JSON is compared byte for byte.
static bool s_params_equal(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    json_t *x = json_loads(a, 0, NULL);
    json_t *y = json_loads(b, 0, NULL);
    bool equal = x && y && json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return equal;
}

static bool s_same_request(const sd_query *a, const sd_query *b)
{
    return strcmp(a->api, b->api) == 0 && a->limit == b->limit &&
           s_strings_equal(&a->metrics, &b->metrics) &&
           s_strings_equal(&a->dimensions, &b->dimensions) && s_periods_equal(a, b) &&
           s_params_equal(a->params_json, b->params_json);
}

static int s_group_add(sd_ga_group *group, const sd_query *query)
{
    const sd_query **members =
        realloc(group->members, (group->member_count + 1) * sizeof *group->members);
    if (!members)
        return -1;
    members[group->member_count++] = query;
    group->members = members;
    if (!group->query)
        group->query = query;
    return 0;
}

int sd_ga_group_queries(const sd_query *queries, size_t count, sd_ga_group **groups_p,
                        size_t *group_count_p)
{
    sd_ga_group *groups = calloc(count ? count : 1, sizeof *groups);
    size_t group_count = 0;
    if (!groups)
        return -1;
    for (size_t i = 0; i < count; i++) {
        size_t g = 0;
        while (g < group_count && !s_same_request(groups[g].query, &queries[i]))
            g++;
        if (g == group_count)
            group_count++;
        if (s_group_add(&groups[g], &queries[i]) != 0) {
            sd_ga_groups_free(&groups, group_count);
            return -1;
        }
    }
    *groups_p = groups;
    *group_count_p = group_count;
    return 0;
}

void sd_ga_groups_free(sd_ga_group **groups_p, size_t group_count)
{
    sd_ga_group *groups = *groups_p;
    if (!groups)
        return;
    for (size_t i = 0; i < group_count; i++)
        free(groups[i].members);
    free(groups);
    *groups_p = NULL;
}

static int s_check_periods(const sd_query *query, char *error, size_t error_size)
{
    if (query->period_count == 0) {
        snprintf(error, error_size, "query %s has no periods", query->id);
        return -1;
    }
    for (size_t i = 0; i < query->period_count; i++) {
        const char *label = query->periods[i].label;
        if (!*label) {
            snprintf(error, error_size, "query %s: period %zu has an empty label", query->id, i);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(query->periods[j].label, label) == 0) {
                snprintf(error, error_size, "query %s: period label \"%s\" appears twice",
                         query->id, label);
                return -1;
            }
        }
    }
    return 0;
}

static int s_check_params(const sd_query *query, char *error, size_t error_size)
{
    json_error_t json_error;
    json_t *params = json_loads(query->params_json, JSON_REJECT_DUPLICATES, &json_error);
    int rc = -1;
    if (!json_is_object(params)) {
        snprintf(error, error_size, "query %s: params_json is not a JSON object (%s)", query->id,
                 params ? "another JSON type" : json_error.text);
        goto done;
    }
    for (size_t i = 0; i < sizeof s_reserved_fields / sizeof s_reserved_fields[0]; i++) {
        if (json_object_get(params, s_reserved_fields[i])) {
            snprintf(error, error_size,
                     "query %s: params_json sets \"%s\", which the worker fills in from the "
                     "query; remove it",
                     query->id, s_reserved_fields[i]);
            goto done;
        }
    }
    rc = 0;
done:
    json_decref(params);
    return rc;
}

int sd_ga_query_check(const sd_query *query, char *error, size_t error_size)
{
    if (strcmp(query->api, SD_GA_API_RUN_REPORT) != 0) {
        snprintf(error, error_size, "query %s: api \"%s\" is not served by the GA worker (expected "
                 "\"%s\")",
                 query->id, query->api, SD_GA_API_RUN_REPORT);
        return -1;
    }
    if (query->metrics.count == 0) {
        snprintf(error, error_size, "query %s has no metrics", query->id);
        return -1;
    }
    for (size_t i = 0; i < query->dimensions.count; i++) {
        if (strcmp(query->dimensions.items[i], "dateRange") == 0) {
            snprintf(error, error_size, "query %s: remove \"dateRange\" from the dimensions; "
                     "the worker tags rows with their period itself",
                     query->id);
            return -1;
        }
    }
    if (query->limit < 0) {
        snprintf(error, error_size, "query %s: limit %lld is negative", query->id,
                 (long long)query->limit);
        return -1;
    }
    if (s_check_periods(query, error, error_size) != 0)
        return -1;
    return s_check_params(query, error, error_size);
}

size_t sd_ga_chunk_count(const sd_query *query)
{
    return (query->period_count + SD_GA_MAX_DATE_RANGES - 1) / SD_GA_MAX_DATE_RANGES;
}

//  Returns [{"name": NAME}, ...] for a list of dimension or metric names.
static json_t *s_name_list(const sd_strings *names)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < names->count; i++) {
        if (json_array_append_new(list, json_pack("{s:s}", "name", names->items[i])) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *s_date_ranges(const sd_query *query, const size_t *periods, size_t count)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < count; i++) {
        const sd_period *period = &query->periods[periods[i]];
        json_t *range = json_pack("{s:s, s:s, s:s}", "startDate", period->start, "endDate",
                                  period->end, "name", period->label);
        if (json_array_append_new(list, range) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

//  Builds the request object: dateRanges only when periods is not NULL,
//  offset and limit only when positive. Returns NULL when params_json is
//  not an object, a period index is out of range or memory runs out.
static json_t *s_request_object(const sd_query *query, const size_t *periods,
                                size_t period_count, int64_t offset, int64_t limit)
{
    json_t *body = json_loads(query->params_json, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body))
        goto failed;
    for (size_t i = 0; periods && i < period_count; i++) {
        if (periods[i] >= query->period_count)
            goto failed;
    }
    int rc = 0;
    if (periods)
        rc = json_object_set_new(body, "dateRanges", s_date_ranges(query, periods, period_count));
    if (rc == 0 && query->dimensions.count > 0)
        rc = json_object_set_new(body, "dimensions", s_name_list(&query->dimensions));
    if (rc == 0)
        rc = json_object_set_new(body, "metrics", s_name_list(&query->metrics));
    if (rc == 0 && offset > 0)
        rc = json_object_set_new(body, "offset", json_integer((json_int_t)offset));
    if (rc == 0 && limit > 0)
        rc = json_object_set_new(body, "limit", json_integer((json_int_t)limit));
    if (rc == 0)
        rc = json_object_set_new(body, "returnPropertyQuota", json_true());
    if (rc == 0)
        return body;
failed:
    json_decref(body);
    return NULL;
}

char *sd_ga_request_body_of(const sd_query *query, const size_t *periods, size_t period_count,
                            int64_t offset, int64_t limit, char *error, size_t error_size)
{
    json_t *body = s_request_object(query, periods, period_count, offset, limit);
    if (!body) {
        snprintf(error, error_size, "query %s: invalid params_json or period index, or out of "
                 "memory", query->id);
        return NULL;
    }
    //  Sorted keys make the text canonical: equal requests give equal text.
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    if (!text)
        snprintf(error, error_size, "query %s: out of memory building the request", query->id);
    return text;
}

char *sd_ga_request_body(const sd_query *query, size_t first_period, size_t period_count,
                         int64_t offset, int64_t limit, char *error, size_t error_size)
{
    size_t periods[SD_GA_MAX_DATE_RANGES];
    if (period_count > SD_GA_MAX_DATE_RANGES || first_period + period_count > query->period_count) {
        snprintf(error, error_size, "query %s: invalid period range", query->id);
        return NULL;
    }
    for (size_t i = 0; i < period_count; i++)
        periods[i] = first_period + i;
    return sd_ga_request_body_of(query, periods, period_count, offset, limit, error, error_size);
}

char *sd_ga_query_identity(const sd_query *query, int64_t row_limit)
{
    json_t *body = s_request_object(query, NULL, 0, 0, row_limit);
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(body);
    return text;
}
