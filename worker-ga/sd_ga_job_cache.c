/*  sd_ga_job_cache: the response cache side of a fetch job. At the start
    every closed period of every (query group, property) is looked up and
    a hit goes straight into the roll-up; when a call ends, the rows of its
    closed periods are stored, one entry per period (see
    sd_ga_period_cache.h for the keys and the value).  */
#include "sd_ga_job_internal.h"

#include "sd_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_property_id(const sd_ga_job *job, size_t property)
{
    return job->site->properties[property].property;
}

//  Stores the saved rows of feed f of a call in the cache. The call's
//  request got every row of its result (whole) or as many as its limit
//  allows (cut).
static void s_store_feed(sd_ga_call *call, size_t f, bool whole, bool cut)
{
    sd_ga_job *job = call->job;
    const sd_ga_feed *feed = &job->requests[call->request].feeds[f];
    const sd_ga_period_rows *cache_rows = &call->feeds[f].kept;
    const char *identity = job->results[feed->group].identity;
    //  Totals cover every row whatever the limit.
    whole = whole || feed->kind == SD_GA_FEED_TOTALS;
    if (!identity || !sd_ga_period_rows_keeps_any(cache_rows) || (!whole && !cut))
        return;
    const char *property = sd_ga_call_property(call);
    for (size_t i = 0; i < call->period_count; i++) {
        char *text = sd_ga_period_rows_report(cache_rows, i);
        char key[SD_CACHE_KEY_SIZE];
        int rc = -1;
        if (text && whole)
            rc = sd_ga_period_key(property, identity, &call->ranges[i], key);
        else if (text)
            rc = sd_ga_period_key_in_request(property, identity, call->ranges,
                                             call->period_count, i, key);
        if (rc == 0)
            sd_cache_put(job->context.cache, key, text, strlen(text));
        free(text);
    }
}

void sd_ga_call_store(sd_ga_call *call, int64_t row_count)
{
    int64_t row_limit = sd_ga_job_row_limit(call->job, sd_ga_call_query(call));
    bool whole = call->offset >= row_count;
    bool cut = !whole && row_limit > 0 && call->received >= row_limit;
    for (size_t f = 0; f < call->job->requests[call->request].feed_count; f++)
        s_store_feed(call, f, whole, cut);
}

//  Reads the entry of key. Returns the report, or NULL on a miss or a
//  value that is not a JSON object.
static json_t *s_read(sd_ga_job *job, size_t property, const char *key)
{
    char *text = NULL;
    size_t size = 0;
    if (sd_cache_get(job->context.cache, key, &text, &size) != 1)
        return NULL;
    json_t *report = json_loadb(text, size, 0, NULL);
    free(text);
    if (json_is_object(report))
        return report;
    sd_warning("ignoring a cached period that is not a JSON object key=%s property=%s job=%s",
               key, s_property_id(job, property), job->request->job_id);
    json_decref(report);
    return NULL;
}

//  Looks period p up: first as fetched whole, then, when the query has a
//  row limit, as cut by it in the request of the first run, which held
//  the query's periods in chunks of SD_GA_MAX_DATE_RANGES.
//  NOTE: a period cut by the limit in a request of other dateRanges (some
//  of its chunk came from the cache) is stored under a key that this
//  lookup does not make, so it is requested again.
static json_t *s_lookup(sd_ga_job *job, size_t g, size_t property, size_t p)
{
    const sd_query *query = job->groups[g].query;
    const char *identity = job->results[g].identity;
    const char *id = s_property_id(job, property);
    char key[SD_CACHE_KEY_SIZE];
    json_t *report = NULL;
    if (sd_ga_period_key(id, identity, &query->periods[p], key) == 0)
        report = s_read(job, property, key);
    if (report || sd_ga_job_row_limit(job, query) == 0)
        return report;
    size_t first = p - p % SD_GA_MAX_DATE_RANGES;
    size_t left = query->period_count - first;
    size_t count = left < SD_GA_MAX_DATE_RANGES ? left : SD_GA_MAX_DATE_RANGES;
    if (sd_ga_period_key_in_request(id, identity, &query->periods[first], count, p - first,
                                    key) == 0)
        report = s_read(job, property, key);
    return report;
}

//  Adds a cached report of period p to the roll-up. Returns false when it
//  does not parse, so the period is requested.
static bool s_absorb(sd_ga_job *job, size_t g, size_t property, size_t p, json_t *report)
{
    char error[SD_GA_ERROR_MAX];
    const sd_query *query = job->groups[g].query;
    sd_ga_group_result *result = &job->results[g];
    sd_ga_expect expect = {
        .dimensions = &query->dimensions,
        .metrics = &query->metrics,
        .periods = &query->periods[p],
        .period_count = 1,
    };
    sd_ga_page page;
    if (sd_ga_page_parse_json(report, &expect, &page, error, sizeof error) != 0) {
        sd_warning("ignoring a cached period that does not parse: %s query=%s period=%s "
                   "property=%s job=%s",
                   error, query->id, query->periods[p].label, s_property_id(job, property),
                   job->request->job_id);
        return false;
    }
    if (sd_ga_rollup_add(result->rollup, &page, p, error, sizeof error) == 0)
        sd_ga_job_add_warnings(job, g, property, &page);
    else if (!result->errors[p]) {
        result->errors[p] = zsys_sprintf("site %s property %s: query %s: %s",
                                         job->request->site, s_property_id(job, property),
                                         query->id, error);
        sd_error("%s request=%s job=%s", result->errors[p] ? result->errors[p] : error,
                 job->request->request_id, job->request->job_id);
    }
    sd_ga_page_clear(&page);
    job->cache_hits++;
    return true;
}

bool sd_ga_job_take_cached(sd_ga_job *job, size_t g, size_t property, size_t p, int64_t now_ms)
{
    const sd_query *query = job->groups[g].query;
    if (!job->results[g].identity || !sd_cache_period_closed(query->periods[p].end, now_ms))
        return false;
    json_t *report = s_lookup(job, g, property, p);
    bool taken = report && s_absorb(job, g, property, p, report);
    json_decref(report);
    return taken;
}
