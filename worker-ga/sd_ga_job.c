/*  sd_ga_job: the calls of one fetch job, their pages, roll-up and
    publishing. The HTTP side is in sd_ga_exchange.c and the response
    cache side in sd_ga_job_cache.c.  */
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

//  -------------------------------------------------------------------------
//  Helpers

const char *sd_ga_call_property(const sd_ga_call *call)
{
    return call->job->site->properties[call->property].property;
}

const sd_query *sd_ga_call_query(const sd_ga_call *call)
{
    return &call->job->requests[call->request].query;
}

static const sd_ga_request *s_call_request(const sd_ga_call *call)
{
    return &call->job->requests[call->request];
}

static bool s_feed_needed(const sd_ga_call *call, size_t f)
{
    for (size_t i = 0; i < call->period_count; i++) {
        if (call->feeds[f].needed[i])
            return true;
    }
    return false;
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

void sd_ga_job_add_warnings(sd_ga_job *job, size_t group, size_t property,
                            const sd_ga_page *page)
{
    for (size_t i = 0; i < page->warnings.count; i++)
        s_add_warning(&job->results[group], job->site->properties[property].property,
                      page->warnings.items[i]);
}

int64_t sd_ga_job_row_limit(const sd_ga_job *job, const sd_query *query)
{
    return job->site->property_count == 1 ? query->limit : 0;
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

//  Fills table with the roll-up's rows of period p, or with its columns
//  only when the part failed. A NULL roll-up (the job failed before the
//  group was prepared) gives the query's columns. Returns 0, or -1 when
//  out of memory.
static int s_part_table(const sd_query *query, const sd_ga_rollup *rollup, size_t p,
                        bool failed, sd_table_data *table)
{
    sd_ga_rollup *empty = NULL;
    if (!rollup) {
        empty = sd_ga_rollup_new(query->period_count, &query->dimensions, &query->metrics);
        if (!empty)
            return -1;
        rollup = empty;
    }
    int rc = sd_ga_rollup_table(rollup, p, failed, table);
    sd_ga_rollup_destroy(&empty);
    return rc;
}

static void s_publish_part(sd_ga_job *job, size_t g, const sd_query *query, size_t p)
{
    sd_ga_group_result *result = &job->results[g];
    const char *error = job->job_error ? job->job_error : result->errors[p];
    sd_table_data table = {0};
    if (s_part_table(query, result->rollup, p, error != NULL, &table) != 0 && !error) {
        error = "out of memory building the part";
        sd_warning("%s table=%s period=%s request=%s job=%s site=%s", error, query->table_id,
                   query->periods[p].label, job->request->request_id, job->request->job_id,
                   job->request->site);
    }
    sd_part_publish(&job->context.bus, job->request, query, p, &table, &result->warnings, error,
                    &job->base.reply->as.fetch_reply);
}

static void s_publish_group(sd_ga_job *job, size_t g)
{
    const sd_ga_group *group = &job->groups[g];
    for (size_t q = 0; q < group->member_count; q++) {
        const sd_query *query = group->members[q];
        for (size_t p = 0; p < query->period_count; p++)
            s_publish_part(job, g, query, p);
    }
}

static void s_log_finish(sd_ga_job *job, const sd_fetch_reply *reply)
{
    sd_info("job finished: %zu parts published, %zu failed, %zu API requests, %zu periods "
            "from the cache, %" PRId64 " ms request=%s job=%s site=%s",
            reply->part_count, sd_fetch_job_failed_parts(reply), job->http_requests,
            job->cache_hits, sd_clock_ms() - job->started_ms, job->request->request_id,
            job->request->job_id, job->request->site);
}

//  Publishes the parts when the reply could be built (sd_fetch_job_finish_fn).
static void s_finish(void *arg, sd_fetch_reply *reply)
{
    sd_ga_job *job = arg;
    if (reply) {
        for (size_t g = 0; g < job->group_count; g++)
            s_publish_group(job, g);
        s_log_finish(job, reply);
    }
    job->done(job, job->arg);       //  may destroy the job: nothing follows
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
    for (size_t f = 0; f < s_call_request(call)->feed_count; f++)
        sd_ga_period_rows_clear(&call->feeds[f].kept);
    job->calls_left--;
    if (job->calls_left == 0)
        sd_fetch_job_schedule_finish(&job->base);
}

void sd_ga_call_fail(sd_ga_call *call, const char *error)
{
    sd_ga_job *job = call->job;
    const sd_ga_request *request = s_call_request(call);
    if (call->state == SD_GA_CALL_DONE)
        return;
    sd_error("%s query=%s request=%s job=%s site=%s", error, sd_ga_call_query(call)->id,
             job->request->request_id, job->request->job_id, job->request->site);
    for (size_t f = 0; f < request->feed_count; f++) {
        sd_ga_group_result *result = &job->results[request->feeds[f].group];
        for (size_t i = 0; i < call->period_count; i++) {
            size_t p = call->periods[i];
            if (call->feeds[f].needed[i] && !result->errors[p])
                result->errors[p] = strdup(error);
        }
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

//  Returns the rows the call should fetch in all, 0 for all there are.
static int64_t s_row_limit(const sd_ga_call *call)
{
    return sd_ga_job_row_limit(call->job, sd_ga_call_query(call));
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

//  Builds the body of the call's next page and queues the call for an
//  exchange, or fails it.
static void s_call_queue_page(sd_ga_call *call)
{
    char error[SD_GA_ERROR_MAX];
    zstr_free(&call->body);
    call->body = sd_ga_request_body_of(sd_ga_call_query(call), call->periods,
                                       call->period_count, call->offset, s_page_limit(call),
                                       error, sizeof error);
    if (!call->body) {
        sd_ga_call_failf(call, "cannot build the request: %s", error);
        return;
    }
    call->state = SD_GA_CALL_QUEUED;
}

//  Saves a page's rows of the closed periods of a feed for the cache. When
//  out of memory, the call only skips storing the feed's periods.
static void s_feed_keep(sd_ga_call *call, size_t f, json_t *report, const sd_ga_page *page)
{
    sd_ga_period_rows *cache_rows = &call->feeds[f].kept;
    if (sd_ga_period_rows_add(cache_rows, report, page) == 0)
        return;
    sd_warning("out of memory keeping rows for the response cache; the periods are not "
               "cached property=%s job=%s",
               sd_ga_call_property(call), call->job->request->job_id);
    sd_ga_period_rows_clear(cache_rows);
}

//  Adds the rows that feed f of the call's request builds from a page to
//  its group's roll-up. Fails the call on an invalid report.
static void s_feed_absorb(sd_ga_call *call, size_t f, json_t *report, bool first_page,
                          const char *source)
{
    char error[SD_GA_ERROR_MAX];
    const sd_ga_request *request = s_call_request(call);
    const sd_ga_feed *feed = &request->feeds[f];
    const sd_query *query = call->job->groups[feed->group].query;
    if (!s_feed_needed(call, f))
        return;
    json_t *derived = sd_ga_feed_report(request, feed, query, report, call->ranges,
                                        call->feeds[f].needed, call->period_count, first_page,
                                        error, sizeof error);
    if (!derived) {
        sd_ga_call_failf(call, "query %s: %s: %s", query->id, source, error);
        return;
    }
    sd_ga_expect expect = {
        .dimensions = &query->dimensions,
        .metrics = &query->metrics,
        .periods = call->ranges,
        .period_count = call->period_count,
    };
    sd_ga_page page;
    if (sd_ga_page_parse_json(derived, &expect, &page, error, sizeof error) != 0) {
        json_decref(derived);
        sd_ga_call_failf(call, "query %s: invalid %s: %s", query->id, source, error);
        return;
    }
    s_feed_keep(call, f, derived, &page);
    json_decref(derived);

    //  The page tags rows by dateRange; the roll-up wants the query's periods.
    for (size_t r = 0; r < page.rows; r++)
        page.periods[r] = call->periods[page.periods[r]];
    int rc = sd_ga_rollup_add(call->job->results[feed->group].rollup, &page, 0, error,
                              sizeof error);
    if (rc == 0)
        sd_ga_job_add_warnings(call->job, feed->group, call->property, &page);
    sd_ga_page_clear(&page);
    if (rc != 0)
        sd_ga_call_failf(call, "query %s: %s", query->id, error);
}

//  Adds a page to the roll-ups of the groups the call feeds. Returns true
//  when the call needs another page, and false when it has ended or failed.
static bool s_call_absorb(sd_ga_call *call, json_t *report, const char *source)
{
    char error[SD_GA_ERROR_MAX];
    const sd_query *query = sd_ga_call_query(call);
    sd_ga_expect expect = {
        .dimensions = &query->dimensions,
        .metrics = &query->metrics,
        .periods = call->ranges,
        .period_count = call->period_count,
    };
    sd_ga_page page;
    if (sd_ga_page_parse_json(report, &expect, &page, error, sizeof error) != 0) {
        sd_ga_call_failf(call, "query %s: invalid %s: %s", query->id, source, error);
        return false;
    }
    bool first_page = call->offset == 0;
    int64_t row_limit = s_row_limit(call);
    call->received += (int64_t)page.rows;
    call->offset += (int64_t)page.rows;
    bool more = page.rows > 0 && call->offset < page.row_count &&
                (row_limit == 0 || call->received < row_limit);
    if (more)
        sd_debug("next page at offset %" PRId64 " of %" PRId64 " property=%s job=%s",
                 call->offset, page.row_count, sd_ga_call_property(call),
                 call->job->request->job_id);
    int64_t row_count = page.row_count;
    sd_ga_page_clear(&page);

    const sd_ga_request *request = s_call_request(call);
    for (size_t f = 0; f < request->feed_count && call->state != SD_GA_CALL_DONE; f++)
        s_feed_absorb(call, f, report, first_page, source);
    if (call->state == SD_GA_CALL_DONE)
        return false;
    if (!more) {
        sd_ga_call_store(call, row_count);
        s_call_done(call);
    }
    return more;
}

void sd_ga_call_take_report(sd_ga_call *call, json_t *report, const char *source)
{
    if (s_call_absorb(call, report, source))
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
    size_t picked[SD_GA_BATCH_MAX];
    size_t count;
    while ((count = s_pick_calls(job, property, picked)) > 0
           && sd_inflight_take(job->context.inflight, id))
        sd_ga_exchange_start(job, picked, count);
}

void sd_ga_job_pump_all(sd_ga_job *job)
{
    if (job->calls_left == 0)
        return;                     //  nothing queued, and no site when the job failed
    for (size_t property = 0; property < job->site->property_count; property++)
        sd_ga_job_pump(job, property);
}

//  -------------------------------------------------------------------------
//  Setting up

//  Adds a call of periods[0 .. count-1] of request r for a property.
//  needed[f * P + p] is true when feed f uses period p (P periods). When a
//  feed's group is cached, the call saves the closed periods the feed uses
//  for the cache.
static int s_add_call(sd_ga_job *job, size_t r, size_t property, const size_t *periods,
                      size_t count, const bool *needed, int64_t now_ms)
{
    const sd_ga_request *request = &job->requests[r];
    const sd_query *query = &request->query;
    sd_ga_call *calls = realloc(job->calls, (job->call_count + 1) * sizeof *calls);
    if (!calls)
        return -1;
    job->calls = calls;
    sd_ga_call *call = &calls[job->call_count];
    *call = (sd_ga_call){.job = job, .request = r, .property = property, .period_count = count};
    call->feeds = calloc(request->feed_count + 1, sizeof *call->feeds);
    if (!call->feeds)
        return -1;
    job->call_count++;
    for (size_t i = 0; i < count; i++) {
        call->periods[i] = periods[i];
        call->ranges[i] = query->periods[periods[i]];
    }
    for (size_t f = 0; f < request->feed_count; f++) {
        bool keep[SD_GA_MAX_DATE_RANGES];
        const char *identity = job->results[request->feeds[f].group].identity;
        for (size_t i = 0; i < count; i++) {
            call->feeds[f].needed[i] = needed[f * query->period_count + periods[i]];
            keep[i] = call->feeds[f].needed[i] && identity &&
                      sd_cache_period_closed(query->periods[periods[i]].end, now_ms);
        }
        if (sd_ga_period_rows_init(&call->feeds[f].kept, keep, count) != 0)
            return -1;
    }
    return 0;
}

//  Reads the closed periods of the request's groups from the cache,
//  property by property, and adds calls for the periods that some group
//  still needs, up to 4 periods per call in order.
static int s_add_calls(sd_ga_job *job, size_t r, int64_t now_ms)
{
    const sd_ga_request *request = &job->requests[r];
    size_t period_count = request->query.period_count;
    size_t *missing = calloc(period_count + 1, sizeof *missing);
    bool *needed = calloc(request->feed_count * period_count + 1, sizeof *needed);
    int rc = missing && needed ? 0 : -1;
    for (size_t property = 0; rc == 0 && property < job->site->property_count; property++) {
        size_t count = 0;
        for (size_t p = 0; p < period_count; p++) {
            bool any = false;
            for (size_t f = 0; f < request->feed_count; f++) {
                bool need = !sd_ga_job_take_cached(job, request->feeds[f].group, property, p,
                                                   now_ms);
                needed[f * period_count + p] = need;
                any = any || need;
            }
            if (any)
                missing[count++] = p;
        }
        for (size_t first = 0; rc == 0 && first < count; first += SD_GA_MAX_DATE_RANGES) {
            size_t left = count - first;
            rc = s_add_call(job, r, property, &missing[first],
                            left < SD_GA_MAX_DATE_RANGES ? left : SD_GA_MAX_DATE_RANGES, needed,
                            now_ms);
        }
    }
    free(missing);
    free(needed);
    return rc;
}

//  Creates the group's roll-up and checks its query. Sets *valid when the
//  query can run. Otherwise it records the reason on every period.
static int s_prepare_group(sd_ga_job *job, size_t g, bool *valid)
{
    char error[SD_GA_ERROR_MAX];
    const sd_query *query = job->groups[g].query;
    sd_ga_group_result *result = &job->results[g];
    result->errors = calloc(query->period_count + 1, sizeof *result->errors);
    result->rollup = sd_ga_rollup_new(query->period_count, &query->dimensions, &query->metrics);
    if (!result->errors || !result->rollup)
        return -1;
    *valid = sd_ga_query_check(query, error, sizeof error) == 0;
    if (*valid) {
        if (sd_cache_usable(job->context.cache))
            result->identity = sd_ga_query_identity(query, sd_ga_job_row_limit(job, query));
        return 0;
    }
    char *text = zsys_sprintf("site %s: %s", job->request->site, error);
    sd_warning("%s request=%s job=%s site=%s", text ? text : error, job->request->request_id,
               job->request->job_id, job->request->site);
    for (size_t p = 0; p < query->period_count; p++)
        result->errors[p] = strdup(text ? text : error);
    zstr_free(&text);
    return 0;
}

//  Prepares every group, plans the requests of the valid ones and adds
//  their calls.
static int s_prepare_requests(sd_ga_job *job)
{
    bool *valid = calloc(job->group_count + 1, sizeof *valid);
    int rc = valid ? 0 : -1;
    for (size_t g = 0; rc == 0 && g < job->group_count; g++)
        rc = s_prepare_group(job, g, &valid[g]);
    if (rc == 0)
        rc = sd_ga_plan_requests(job->groups, job->group_count, valid, &job->requests,
                                 &job->request_count);
    free(valid);
    int64_t now_ms = sd_now_ms();
    for (size_t r = 0; rc == 0 && r < job->request_count; r++)
        rc = s_add_calls(job, r, now_ms);
    return rc;
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
    if (s_prepare_requests(job) != 0)
        return -1;
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
    if (!context->inflight) {
        job->own_inflight = sd_inflight_new(context->config->ga.max_in_flight);
        job->context.inflight = job->own_inflight;
    }
    sd_fetch_job_init(&job->base, context->loop, request, "site", s_finish, job);
    job->request = job->base.request;
    job->done = done;
    job->arg = arg;
    if (!job->context.inflight)
        sd_ga_job_destroy(&job);
    return job;
}

//  Returns the reports the job would take with one request per property,
//  period and query: without grouping, dateRanges, batches or the cache.
static size_t s_unbatched_reports(const sd_ga_job *job)
{
    size_t reports = 0;
    for (size_t q = 0; job->site && q < job->request->query_count; q++)
        reports += job->request->queries[q].period_count * job->site->property_count;
    return reports;
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
    sd_info("job started: %zu queries in %zu groups, %zu (property, period, query) reports "
            "unbatched, %zu periods from the cache, %zu requests per property, %zu reports to "
            "request before paging request=%s job=%s site=%s",
            job->request->query_count, job->group_count, s_unbatched_reports(job),
            job->cache_hits, job->request_count, job->call_count, job->request->request_id,
            job->request->job_id, job->request->site);
    if (job->calls_left == 0)
        return sd_fetch_job_schedule_finish(&job->base);

    for (size_t i = 0; i < job->call_count; i++)
        s_call_queue_page(&job->calls[i]);
    for (size_t property = 0; property < job->site->property_count; property++)
        sd_ga_job_pump(job, property);
    return job->calls_left > 0 || job->base.finish_timer >= 0 ? 0 : -1;
}

zmsg_t *sd_ga_job_take_reply(sd_ga_job *job)
{
    return sd_fetch_job_take_reply(&job->base);
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
    for (size_t g = 0; job->results && g < job->group_count; g++) {
        sd_ga_group_result *result = &job->results[g];
        sd_ga_rollup_destroy(&result->rollup);
        for (size_t p = 0; result->errors && p < job->groups[g].query->period_count; p++)
            free(result->errors[p]);
        free(result->errors);
        zstr_free(&result->identity);
        sd_strings_clear(&result->warnings);
    }
    free(job->results);
    sd_ga_groups_free(&job->groups, job->group_count);
    for (size_t i = 0; job->calls && i < job->call_count; i++) {
        sd_ga_call *call = &job->calls[i];
        zstr_free(&call->body);
        for (size_t f = 0; call->feeds && f < job->requests[call->request].feed_count; f++)
            sd_ga_period_rows_clear(&call->feeds[f].kept);
        free(call->feeds);
    }
    free(job->calls);
    sd_ga_requests_free(&job->requests, job->request_count);
    zstr_free(&job->job_error);
    sd_inflight_destroy(&job->own_inflight);
    sd_fetch_job_clear(&job->base);
    free(job);
    *job_p = NULL;
}
