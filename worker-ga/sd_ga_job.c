/*  sd_ga_job: the calls of one fetch job, their pages, the response
    cache, roll-up and publishing. The HTTP side is in sd_ga_exchange.c.  */
#include "sd_ga_job_internal.h"

#include "sd_log.h"
#include "sd_period.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SD_GA_TIMEOUT_MAX_MS 60000
#define SD_GA_TIMEOUT_MIN_MS 1000

static void s_schedule_finish(sd_ga_job *job);

//  -------------------------------------------------------------------------
//  Helpers

const char *sd_ga_call_property(const sd_ga_call *call)
{
    return call->job->site->properties[call->property].property;
}

const sd_query *sd_ga_call_query(const sd_ga_call *call)
{
    return call->job->groups[call->group].query;
}

static void s_add_warning(sd_ga_group_result *result, const char *property, const char *warning)
{
    char text[512];
    snprintf(text, sizeof text, "property %s: %s", property, warning);
    for (size_t i = 0; i < result->warnings.count; i++) {
        if (strcmp(result->warnings.items[i], text) == 0)
            return;
    }
    if (sd_strings_push(&result->warnings, text) != 0)
        sd_warning("out of memory recording a warning: %s", text);
}

int64_t sd_ga_job_timeout_ms(const sd_ga_job *job)
{
    if (job->request->deadline_ms <= 0)
        return SD_GA_TIMEOUT_MAX_MS;
    int64_t left = job->request->deadline_ms - sd_clock_ms();
    if (left > SD_GA_TIMEOUT_MAX_MS)
        return SD_GA_TIMEOUT_MAX_MS;
    return left < SD_GA_TIMEOUT_MIN_MS ? SD_GA_TIMEOUT_MIN_MS : left;
}

//  -------------------------------------------------------------------------
//  Finishing the job

static void s_publish_group(sd_ga_job *job, size_t g)
{
    const sd_ga_group *group = &job->groups[g];
    sd_ga_group_result *result = &job->results[g];
    for (size_t q = 0; q < group->member_count; q++) {
        const sd_query *query = group->members[q];
        for (size_t p = 0; p < query->period_count; p++) {
            const char *error = job->job_error ? job->job_error : result->errors[p];
            sd_ga_publish_part(&job->context.bus, job->request, query, p, result->rollup,
                               &result->warnings, error, &job->reply->as.fetch_reply);
        }
    }
}

static void s_log_finish(sd_ga_job *job)
{
    const sd_fetch_reply *reply = &job->reply->as.fetch_reply;
    size_t failed = 0;
    for (size_t i = 0; i < reply->part_count; i++)
        failed += reply->parts[i].error != NULL;
    sd_info("job finished: %zu parts published, %zu failed, %zu API requests, %zu pages from "
            "the cache, %" PRId64 " ms request=%s job=%s site=%s",
            reply->part_count, failed, job->http_requests, job->cache_hits,
            sd_clock_ms() - job->started_ms, job->request->request_id, job->request->job_id,
            job->request->site);
}

static int s_on_finish_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_ga_job *job = arg;
    job->finish_timer = -1;
    job->reply = sd_ga_reply_new(job->request);
    if (job->reply) {
        for (size_t g = 0; g < job->group_count; g++)
            s_publish_group(job, g);
        s_log_finish(job);
    }
    else
        sd_error("out of memory building the fetch reply request=%s job=%s site=%s",
                 job->request->request_id, job->request->job_id, job->request->site);
    job->done(job, job->arg);       //  may destroy the job: nothing follows
    return 0;
}

//  Publishing waits for a zero-delay timer, so that it never runs inside a
//  call's callback chain (the done callback may destroy the job).
static void s_schedule_finish(sd_ga_job *job)
{
    if (job->finish_timer >= 0)
        return;
    job->finish_timer = zloop_timer(job->context.loop, 0, 1, s_on_finish_timer, job);
    if (job->finish_timer < 0)
        sd_error("cannot set a timer to finish the job request=%s job=%s site=%s",
                 job->request->request_id, job->request->job_id, job->request->site);
}

//  -------------------------------------------------------------------------
//  Calls

static void s_call_done(sd_ga_call *call)
{
    sd_ga_job *job = call->job;
    if (call->state == SD_GA_CALL_DONE)
        return;
    call->state = SD_GA_CALL_DONE;
    zstr_free(&call->body);
    job->calls_left--;
    if (job->calls_left == 0)
        s_schedule_finish(job);
}

void sd_ga_call_fail(sd_ga_call *call, const char *error)
{
    sd_ga_job *job = call->job;
    sd_ga_group_result *result = &job->results[call->group];
    if (call->state == SD_GA_CALL_DONE)
        return;
    sd_error("%s query=%s request=%s job=%s site=%s", error, sd_ga_call_query(call)->id,
             job->request->request_id, job->request->job_id, job->request->site);
    for (size_t p = call->first_period; p < call->first_period + call->period_count; p++) {
        if (!result->errors[p])
            result->errors[p] = strdup(error);
    }
    s_call_done(call);
}

void sd_ga_call_failf(sd_ga_call *call, const char *format, ...)
{
    char detail[SD_GA_ERROR_MAX];
    char error[SD_GA_ERROR_MAX + 128];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    snprintf(error, sizeof error, "site %s property %s: %s", call->job->request->site,
             sd_ga_call_property(call), detail);
    sd_ga_call_fail(call, error);
}

//  Returns the rows the call should fetch in all, 0 for all there are. The
//  query's limit applies only to a site of one property. The top rows of
//  each property do not add up to the top rows of their sum, so a roll-up
//  needs every row, and the aggregator sorts and limits the table anyway.
static int64_t s_row_limit(const sd_ga_call *call)
{
    return call->job->site->property_count == 1 ? sd_ga_call_query(call)->limit : 0;
}

//  Returns the page size of the next request of the call.
static int64_t s_page_limit(const sd_ga_call *call)
{
    int64_t page = call->job->context.config->ga.page_size;
    int64_t row_limit = s_row_limit(call);
    if (row_limit > 0 && row_limit - call->received < page)
        page = row_limit - call->received;
    return page;
}

//  Returns true when every period of the call ended more than 3 days ago,
//  so that GA4 no longer changes its figures.
//  NOTE: one recent period in a chunk keeps its closed periods uncached.
static bool s_call_cacheable(const sd_ga_call *call, int64_t now_ms)
{
    if (!sd_cache_usable(call->job->context.cache))
        return false;
    const sd_query *query = sd_ga_call_query(call);
    for (size_t p = call->first_period; p < call->first_period + call->period_count; p++) {
        if (!sd_cache_period_closed(query->periods[p].end, now_ms))
            return false;
    }
    return true;
}

//  Builds the body (and cache key) of the call's next page. Returns 0, or
//  -1 after failing the call.
static int s_call_build(sd_ga_call *call)
{
    char error[SD_GA_ERROR_MAX];
    zstr_free(&call->body);
    call->key[0] = '\0';
    call->body = sd_ga_request_body(sd_ga_call_query(call), call->first_period,
                                    call->period_count, call->offset, s_page_limit(call), error,
                                    sizeof error);
    if (!call->body) {
        sd_ga_call_failf(call, "cannot build the request: %s", error);
        return -1;
    }
    if (!call->cacheable)
        return 0;
    char scope[64];
    snprintf(scope, sizeof scope, "ga4:%s:runReport", sd_ga_call_property(call));
    if (sd_cache_key(scope, call->body, strlen(call->body), call->key) != 0)
        call->key[0] = '\0';
    return 0;
}

//  Adds a page to the roll-up. Returns true when the call needs another
//  page; false when it has ended or failed.
static bool s_call_absorb(sd_ga_call *call, json_t *report, const char *text, size_t size,
                          const char *source)
{
    char error[SD_GA_ERROR_MAX];
    const sd_query *query = sd_ga_call_query(call);
    sd_ga_group_result *result = &call->job->results[call->group];
    sd_ga_expect expect = {
        .dimensions = &query->dimensions,
        .metrics = &query->metrics,
        .periods = &query->periods[call->first_period],
        .period_count = call->period_count,
    };
    sd_ga_page page;
    if (sd_ga_page_parse_json(report, &expect, &page, error, sizeof error) != 0) {
        sd_ga_call_failf(call, "query %s: invalid %s: %s", query->id, source, error);
        return false;
    }
    int rc = sd_ga_rollup_add(result->rollup, &page, call->first_period, error, sizeof error);
    for (size_t i = 0; rc == 0 && i < page.warnings.count; i++)
        s_add_warning(result, sd_ga_call_property(call), page.warnings.items[i]);
    if (rc == 0 && text && call->key[0])
        sd_cache_put(call->job->context.cache, call->key, text, size);

    int64_t row_limit = s_row_limit(call);
    call->received += (int64_t)page.rows;
    call->offset += (int64_t)page.rows;
    bool more = page.rows > 0 && call->offset < page.row_count &&
                (row_limit == 0 || call->received < row_limit);
    if (more)
        sd_debug("next page at offset %" PRId64 " of %" PRId64 " property=%s job=%s",
                 call->offset, page.row_count, sd_ga_call_property(call),
                 call->job->request->job_id);
    sd_ga_page_clear(&page);
    if (rc != 0) {
        sd_ga_call_failf(call, "query %s: %s", query->id, error);
        return false;
    }
    if (!more)
        s_call_done(call);
    return more;
}

//  Looks the call's next page up in the cache. Returns the report, or NULL
//  on a miss or a cached value that is not JSON.
static json_t *s_call_cached(sd_ga_call *call)
{
    char *text = NULL;
    size_t size = 0;
    if (!call->key[0] || sd_cache_get(call->job->context.cache, call->key, &text, &size) != 1)
        return NULL;
    json_t *report = json_loadb(text, size, 0, NULL);
    free(text);
    if (!json_is_object(report)) {
        sd_warning("ignoring a cached response that is not a JSON object key=%s property=%s",
                   call->key, sd_ga_call_property(call));
        json_decref(report);
        return NULL;
    }
    call->job->cache_hits++;
    return report;
}

//  Prepares the call's next page: takes it (and those after it) from the
//  cache while they are there, else queues the call for an exchange.
static void s_call_queue_page(sd_ga_call *call)
{
    for (;;) {
        if (s_call_build(call) != 0)
            return;
        json_t *report = s_call_cached(call);
        if (!report) {
            call->state = SD_GA_CALL_QUEUED;
            return;
        }
        bool more = s_call_absorb(call, report, NULL, 0, "cached response");
        json_decref(report);
        if (!more)
            return;
    }
}

void sd_ga_call_take_report(sd_ga_call *call, json_t *report, const char *text, size_t size,
                            const char *source)
{
    if (s_call_absorb(call, report, text, size, source))
        s_call_queue_page(call);
}

//  -------------------------------------------------------------------------
//  Starting exchanges

//  Fails every queued call of the property with error.
static void s_fail_queued(sd_ga_job *job, size_t property, const char *error)
{
    for (size_t i = 0; i < job->call_count; i++) {
        sd_ga_call *call = &job->calls[i];
        if (call->state == SD_GA_CALL_QUEUED && call->property == property)
            sd_ga_call_failf(call, "%s", error);
    }
}

//  Picks the calls of the next exchange of a property: up to 5 first
//  pages for a batch, else one later page. Returns the count.
static size_t s_pick_calls(const sd_ga_job *job, size_t property, size_t *picked)
{
    size_t count = 0;
    for (size_t i = 0; i < job->call_count && count < SD_GA_BATCH_MAX; i++) {
        const sd_ga_call *call = &job->calls[i];
        if (call->state == SD_GA_CALL_QUEUED && call->property == property && call->offset == 0)
            picked[count++] = i;
    }
    for (size_t i = 0; i < job->call_count && count == 0; i++) {
        const sd_ga_call *call = &job->calls[i];
        if (call->state == SD_GA_CALL_QUEUED && call->property == property)
            picked[count++] = i;
    }
    return count;
}

void sd_ga_job_pump(sd_ga_job *job, size_t property)
{
    const char *id = job->site->properties[property].property;
    const char *blocked = sd_ga_quota_blocked(job->context.quota, id, sd_now_ms());
    if (blocked) {
        s_fail_queued(job, property, blocked);
        return;
    }
    if (job->request->deadline_ms > 0 && sd_clock_ms() >= job->request->deadline_ms) {
        s_fail_queued(job, property, "the job's deadline passed before the request was sent");
        return;
    }
    size_t limit = job->context.config->ga.max_in_flight > 0
                       ? (size_t)job->context.config->ga.max_in_flight
                       : 1;
    size_t picked[SD_GA_BATCH_MAX];
    size_t count;
    while (job->running[property] < limit && (count = s_pick_calls(job, property, picked)) > 0)
        sd_ga_exchange_start(job, picked, count);
}

//  -------------------------------------------------------------------------
//  Setting up

static int s_add_calls(sd_ga_job *job, size_t g)
{
    const sd_query *query = job->groups[g].query;
    size_t chunks = sd_ga_chunk_count(query);
    for (size_t property = 0; property < job->site->property_count; property++) {
        for (size_t c = 0; c < chunks; c++) {
            sd_ga_call *calls = realloc(job->calls, (job->call_count + 1) * sizeof *calls);
            if (!calls)
                return -1;
            job->calls = calls;
            size_t first = c * SD_GA_MAX_DATE_RANGES;
            size_t left = query->period_count - first;
            calls[job->call_count++] = (sd_ga_call){
                .job = job,
                .group = g,
                .property = property,
                .first_period = first,
                .period_count = left < SD_GA_MAX_DATE_RANGES ? left : SD_GA_MAX_DATE_RANGES,
            };
        }
    }
    return 0;
}

//  Creates the group's roll-up and calls, or records why it cannot run.
static int s_prepare_group(sd_ga_job *job, size_t g)
{
    char error[SD_GA_ERROR_MAX];
    const sd_query *query = job->groups[g].query;
    sd_ga_group_result *result = &job->results[g];
    result->errors = calloc(query->period_count + 1, sizeof *result->errors);
    result->rollup = sd_ga_rollup_new(query->period_count, &query->dimensions, &query->metrics);
    if (!result->errors || !result->rollup)
        return -1;
    if (sd_ga_query_check(query, error, sizeof error) == 0)
        return s_add_calls(job, g);
    char *text = zsys_sprintf("site %s: %s", job->request->site, error);
    sd_warning("%s request=%s job=%s site=%s", text ? text : error, job->request->request_id,
               job->request->job_id, job->request->site);
    for (size_t p = 0; p < query->period_count; p++)
        result->errors[p] = strdup(text ? text : error);
    zstr_free(&text);
    return 0;
}

static int s_prepare(sd_ga_job *job)
{
    const sd_fetch_request *request = job->request;
    if (sd_ga_group_queries(request->queries, request->query_count, &job->groups,
                            &job->group_count) != 0)
        return -1;
    job->results = calloc(job->group_count + 1, sizeof *job->results);
    if (!job->results)
        return -1;
    if (job->job_error)
        return 0;
    job->running = calloc(job->site->property_count + 1, sizeof *job->running);
    if (!job->running)
        return -1;
    for (size_t g = 0; g < job->group_count; g++) {
        if (s_prepare_group(job, g) != 0)
            return -1;
    }
    job->calls_left = job->call_count;
    return 0;
}

//  Sets job_error when the job cannot run at all.
static void s_check_job(sd_ga_job *job)
{
    const sd_fetch_request *request = job->request;
    job->site = sd_config_find_site(job->context.config, request->site);
    if (!job->site)
        job->job_error = zsys_sprintf("site %s is not in ga.sites of the worker's config %s",
                                      request->site, job->context.config->path);
    else if (job->site->property_count == 0)
        job->job_error = zsys_sprintf("site %s has no GA4 properties in the worker's config",
                                      request->site);
    else if (request->deadline_ms > 0 && request->deadline_ms <= sd_clock_ms())
        job->job_error = zsys_sprintf("site %s: the job's deadline passed before it started",
                                      request->site);
    if (job->job_error)
        sd_error("%s request=%s job=%s site=%s", job->job_error, request->request_id,
                 request->job_id, request->site);
}

sd_ga_job *sd_ga_job_new(const sd_ga_context *context, sd_msg **request, sd_ga_job_done_fn *done,
                         void *arg)
{
    sd_ga_job *job = calloc(1, sizeof *job);
    if (!job) {
        sd_msg_destroy(request);
        return NULL;
    }
    job->context = *context;
    job->request_msg = *request;
    *request = NULL;
    job->request = &job->request_msg->as.fetch_request;
    job->finish_timer = -1;
    job->done = done;
    job->arg = arg;
    return job;
}

int sd_ga_job_start(sd_ga_job *job)
{
    job->started_ms = sd_clock_ms();
    s_check_job(job);
    if (s_prepare(job) != 0) {
        sd_error("out of memory preparing the job request=%s job=%s site=%s",
                 job->request->request_id, job->request->job_id, job->request->site);
        free(job->job_error);
        job->job_error = strdup("the GA worker ran out of memory preparing the job");
        job->call_count = job->calls_left = 0;
    }
    sd_info("job started: %zu queries in %zu groups, %zu reports before paging request=%s "
            "job=%s site=%s",
            job->request->query_count, job->group_count, job->call_count,
            job->request->request_id, job->request->job_id, job->request->site);
    if (job->calls_left == 0) {
        s_schedule_finish(job);
        return job->finish_timer >= 0 ? 0 : -1;
    }

    //  Pages in the cache are taken now; the rest wait for exchanges.
    int64_t now_ms = sd_now_ms();
    for (size_t i = 0; i < job->call_count; i++) {
        sd_ga_call *call = &job->calls[i];
        call->cacheable = s_call_cacheable(call, now_ms);
        s_call_queue_page(call);
    }
    for (size_t property = 0; property < job->site->property_count; property++)
        sd_ga_job_pump(job, property);
    return job->calls_left > 0 || job->finish_timer >= 0 ? 0 : -1;
}

zmsg_t *sd_ga_job_take_reply(sd_ga_job *job)
{
    return job->reply ? sd_ga_encode(job->reply) : NULL;
}

const sd_fetch_request *sd_ga_job_request(const sd_ga_job *job)
{
    return job->request;
}

void sd_ga_job_destroy(sd_ga_job **job_p)
{
    sd_ga_job *job = *job_p;
    if (!job)
        return;
    sd_ga_exchanges_cancel(job);
    if (job->finish_timer >= 0)
        zloop_timer_end(job->context.loop, job->finish_timer);
    for (size_t g = 0; job->results && g < job->group_count; g++) {
        sd_ga_group_result *result = &job->results[g];
        sd_ga_rollup_destroy(&result->rollup);
        for (size_t p = 0; result->errors && p < job->groups[g].query->period_count; p++)
            free(result->errors[p]);
        free(result->errors);
        sd_strings_clear(&result->warnings);
    }
    free(job->results);
    sd_ga_groups_free(&job->groups, job->group_count);
    for (size_t i = 0; job->calls && i < job->call_count; i++)
        zstr_free(&job->calls[i].body);
    free(job->calls);
    free(job->running);
    zstr_free(&job->job_error);
    sd_msg_destroy(&job->reply);
    sd_msg_destroy(&job->request_msg);
    free(job);
    *job_p = NULL;
}
