/*  sd_ga_job: runReport calls of one fetch job, roll-up and publishing.  */
#include "sd_ga_job.h"

#include "sd_ga_query.h"
#include "sd_ga_response.h"
#include "sd_ga_rollup.h"
#include "sd_log.h"
#include "sd_period.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SD_GA_ERROR_MAX 1024
#define SD_GA_TIMEOUT_MAX_MS 60000
#define SD_GA_TIMEOUT_MIN_MS 1000

typedef enum {
    S_CALL_QUEUED,
    S_CALL_RUNNING,
    S_CALL_DONE,
} s_call_state;

//  One runReport request (one group, one property, one chunk of periods)
//  and the pages that follow it.
typedef struct {
    sd_ga_job *job;
    size_t group;
    size_t property;                //  index into the site's properties
    size_t first_period;
    size_t period_count;
    s_call_state state;
    int64_t offset;                 //  offset of the next page
    int64_t received;               //  rows received so far
    int64_t http_id;                //  request in flight, 0 when none
    bool waiting_token;
    bool auth_retried;
    char *token;                    //  copy of the token sent, for sd_oauth_invalidate
} s_call;

//  What the calls of one query group produced.
typedef struct {
    sd_ga_rollup *rollup;
    char **errors;                  //  per period of the group's query: first error, or NULL
    sd_strings warnings;
} s_group_result;

struct sd_ga_job {
    sd_ga_context context;
    sd_msg *request_msg;
    const sd_fetch_request *request;
    const sd_config_site *site;
    char *job_error;                //  fails every part: unknown site, deadline passed
    sd_ga_group *groups;
    size_t group_count;
    s_group_result *results;
    s_call *calls;
    size_t call_count;
    size_t calls_left;
    size_t *running;                //  per property: calls running
    int finish_timer;               //  -1 when none is set
    int64_t started_ms;
    sd_msg *reply;
    sd_ga_job_done_fn *done;
    void *arg;
};

static void s_call_acquire_token(s_call *call);
static void s_call_finish(s_call *call);

//  -------------------------------------------------------------------------
//  Helpers

static const char *s_property_id(const s_call *call)
{
    return call->job->site->properties[call->property].property;
}

static const sd_query *s_call_query(const s_call *call)
{
    return call->job->groups[call->group].query;
}

static void s_forget_token(s_call *call)
{
    if (call->token) {
        explicit_bzero(call->token, strlen(call->token));
        free(call->token);
        call->token = NULL;
    }
}

static void s_add_warning(s_group_result *result, const char *property, const char *warning)
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

//  -------------------------------------------------------------------------
//  Finishing the job

static void s_publish_group(sd_ga_job *job, size_t g)
{
    const sd_ga_group *group = &job->groups[g];
    s_group_result *result = &job->results[g];
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
    sd_info("job finished: %zu parts published, %zu failed, %" PRId64 " ms request=%s job=%s "
            "site=%s",
            reply->part_count, failed, sd_clock_ms() - job->started_ms, job->request->request_id,
            job->request->job_id, job->request->site);
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

//  Records error for every period the call covers and ends the call.
static void s_call_fail(s_call *call, const char *error)
{
    sd_ga_job *job = call->job;
    s_group_result *result = &job->results[call->group];
    sd_error("%s query=%s request=%s job=%s site=%s", error, s_call_query(call)->id,
             job->request->request_id, job->request->job_id, job->request->site);
    for (size_t p = call->first_period; p < call->first_period + call->period_count; p++) {
        if (!result->errors[p])
            result->errors[p] = strdup(error);
    }
    s_call_finish(call);
}

static void s_call_failf(s_call *call, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void s_call_failf(s_call *call, const char *format, ...)
{
    char detail[SD_GA_ERROR_MAX];
    char error[SD_GA_ERROR_MAX + 128];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    snprintf(error, sizeof error, "site %s property %s: %s", call->job->request->site,
             s_property_id(call), detail);
    s_call_fail(call, error);
}

static void s_call_start(s_call *call)
{
    call->state = S_CALL_RUNNING;
    call->job->running[call->property]++;
    s_call_acquire_token(call);
}

//  Starts queued calls of a property while it has room.
static void s_pump_property(sd_ga_job *job, size_t property)
{
    size_t limit = job->context.config->ga.max_in_flight > 0
                       ? (size_t)job->context.config->ga.max_in_flight
                       : 1;
    for (size_t i = 0; i < job->call_count && job->running[property] < limit; i++) {
        s_call *call = &job->calls[i];
        if (call->state == S_CALL_QUEUED && call->property == property)
            s_call_start(call);
    }
}

static void s_call_finish(s_call *call)
{
    sd_ga_job *job = call->job;
    if (call->state == S_CALL_DONE)
        return;
    call->state = S_CALL_DONE;
    s_forget_token(call);
    job->running[call->property]--;
    job->calls_left--;
    if (job->calls_left == 0)
        s_schedule_finish(job);
    else
        s_pump_property(job, call->property);
}

static int64_t s_timeout_ms(const sd_ga_job *job)
{
    if (job->request->deadline_ms <= 0)
        return SD_GA_TIMEOUT_MAX_MS;
    int64_t left = job->request->deadline_ms - sd_clock_ms();
    if (left > SD_GA_TIMEOUT_MAX_MS)
        return SD_GA_TIMEOUT_MAX_MS;
    return left < SD_GA_TIMEOUT_MIN_MS ? SD_GA_TIMEOUT_MIN_MS : left;
}

//  Returns the rows the call should fetch in all, 0 for all there are. The
//  query's limit applies only to a site of one property. The top rows of
//  each property do not add up to the top rows of their sum, so a roll-up
//  needs every row, and the aggregator sorts and limits the table anyway.
static int64_t s_row_limit(const s_call *call)
{
    return call->job->site->property_count == 1 ? s_call_query(call)->limit : 0;
}

//  Returns the page size of the next request of the call.
static int64_t s_page_limit(const s_call *call)
{
    int64_t page = call->job->context.config->ga.page_size;
    int64_t row_limit = s_row_limit(call);
    if (row_limit > 0 && row_limit - call->received < page)
        page = row_limit - call->received;
    return page;
}

static void s_on_response(const sd_http_response *response, void *arg);

static void s_call_send(s_call *call, const char *token)
{
    char error[SD_GA_ERROR_MAX];
    const sd_config_ga *ga = &call->job->context.config->ga;
    char *body = sd_ga_request_body(s_call_query(call), call->first_period, call->period_count,
                                    call->offset, s_page_limit(call), error, sizeof error);
    char *url = zsys_sprintf("%s/v1beta/properties/%s:runReport", ga->api_base,
                             s_property_id(call));
    char *authorization = zsys_sprintf("Authorization: Bearer %s", token);
    s_forget_token(call);
    call->token = strdup(token);
    const char *headers[] = {authorization, "Content-Type: application/json",
                             "Accept: application/json"};
    sd_http_request request = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .header_count = 3,
        .body = body,
        .body_size = body ? strlen(body) : 0,
        .timeout_ms = s_timeout_ms(call->job),
    };
    if (body && url && authorization && call->token)
        call->http_id = sd_http_send(call->job->context.http, &request, s_on_response, call);
    if (authorization)
        explicit_bzero(authorization, strlen(authorization));
    zstr_free(&authorization);
    zstr_free(&url);
    free(body);
    if (call->http_id <= 0) {
        call->http_id = 0;
        s_call_failf(call, "cannot send the runReport request: %s",
                     body ? "invalid URL or out of memory" : error);
    }
}

static void s_on_token(const char *token, const char *error, void *arg)
{
    s_call *call = arg;
    call->waiting_token = false;
    if (token)
        s_call_send(call, token);
    else
        s_call_failf(call, "%s", error);
}

static void s_call_acquire_token(s_call *call)
{
    const char *token = sd_oauth_token(call->job->context.oauth);
    if (token) {
        s_call_send(call, token);
        return;
    }
    call->waiting_token = true;
    if (sd_oauth_request(call->job->context.oauth, s_on_token, call) != 0) {
        call->waiting_token = false;
        s_call_failf(call, "cannot request an access token");
    }
}

//  Parses and rolls up one page. Returns 0, or -1 after failing the call.
static int s_call_take_page(s_call *call, const sd_http_response *response, sd_ga_page *page)
{
    char error[SD_GA_ERROR_MAX];
    const sd_query *query = s_call_query(call);
    s_group_result *result = &call->job->results[call->group];
    sd_ga_expect expect = {
        .dimensions = &query->dimensions,
        .metrics = &query->metrics,
        .periods = &query->periods[call->first_period],
        .period_count = call->period_count,
    };
    if (sd_ga_page_parse(response->body, response->body_size, &expect, page, error,
                         sizeof error) != 0) {
        s_call_failf(call, "query %s: invalid runReport response (content type \"%.64s\"): %s",
                     query->id, response->content_type, error);
        return -1;
    }
    if (sd_ga_rollup_add(result->rollup, page, call->first_period, error, sizeof error) != 0) {
        s_call_failf(call, "query %s: %s", query->id, error);
        return -1;
    }
    for (size_t i = 0; i < page->warnings.count; i++)
        s_add_warning(result, s_property_id(call), page->warnings.items[i]);
    return 0;
}

static void s_call_next_page(s_call *call, const sd_ga_page *page)
{
    int64_t row_limit = s_row_limit(call);
    call->received += (int64_t)page->rows;
    call->offset += (int64_t)page->rows;
    bool more = page->rows > 0 && call->offset < page->row_count &&
                (row_limit == 0 || call->received < row_limit);
    if (more) {
        sd_debug("next page at offset %" PRId64 " of %" PRId64 " property=%s job=%s",
                 call->offset, page->row_count, s_property_id(call), call->job->request->job_id);
        s_call_acquire_token(call);
    }
    else
        s_call_finish(call);
}

static void s_on_response(const sd_http_response *response, void *arg)
{
    char text[SD_GA_ERROR_MAX];
    s_call *call = arg;
    call->http_id = 0;
    if (response->error) {
        s_call_failf(call, "runReport request failed: %s", response->error);
        return;
    }
    if (response->status == 401 && !call->auth_retried) {
        sd_warning("GA4 rejected the access token (401), fetching a new one property=%s job=%s",
                   s_property_id(call), call->job->request->job_id);
        call->auth_retried = true;
        sd_oauth_invalidate(call->job->context.oauth, call->token);
        s_call_acquire_token(call);
        return;
    }
    if (response->status != 200) {
        sd_ga_error_text(response->status, response->body, response->body_size,
                         response->content_type, text, sizeof text);
        s_call_failf(call, "GA4 returned %s", text);
        return;
    }
    sd_ga_page page;
    if (s_call_take_page(call, response, &page) != 0)
        return;
    s_call_next_page(call, &page);
    sd_ga_page_clear(&page);
}

//  -------------------------------------------------------------------------
//  Setting up

static int s_add_calls(sd_ga_job *job, size_t g)
{
    const sd_query *query = job->groups[g].query;
    size_t chunks = sd_ga_chunk_count(query);
    for (size_t property = 0; property < job->site->property_count; property++) {
        for (size_t c = 0; c < chunks; c++) {
            s_call *calls = realloc(job->calls, (job->call_count + 1) * sizeof *calls);
            if (!calls)
                return -1;
            job->calls = calls;
            size_t first = c * SD_GA_MAX_DATE_RANGES;
            size_t left = query->period_count - first;
            calls[job->call_count++] = (s_call){
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
    s_group_result *result = &job->results[g];
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
    sd_info("job started: %zu queries in %zu groups, %zu requests before paging request=%s "
            "job=%s site=%s",
            job->request->query_count, job->group_count, job->call_count,
            job->request->request_id, job->request->job_id, job->request->site);
    if (job->calls_left == 0) {
        s_schedule_finish(job);
        return job->finish_timer >= 0 ? 0 : -1;
    }
    for (size_t property = 0; property < job->site->property_count; property++)
        s_pump_property(job, property);
    return 0;
}

zmsg_t *sd_ga_job_take_reply(sd_ga_job *job)
{
    return job->reply ? sd_ga_encode(job->reply) : NULL;
}

const sd_fetch_request *sd_ga_job_request(const sd_ga_job *job)
{
    return job->request;
}

static void s_cancel_calls(sd_ga_job *job)
{
    for (size_t i = 0; i < job->call_count; i++) {
        s_call *call = &job->calls[i];
        if (call->http_id > 0)
            sd_http_cancel(job->context.http, call->http_id);
        if (call->waiting_token)
            sd_oauth_cancel(job->context.oauth, call);
        s_forget_token(call);
    }
}

void sd_ga_job_destroy(sd_ga_job **job_p)
{
    sd_ga_job *job = *job_p;
    if (!job)
        return;
    s_cancel_calls(job);
    if (job->finish_timer >= 0)
        zloop_timer_end(job->context.loop, job->finish_timer);
    for (size_t g = 0; job->results && g < job->group_count; g++) {
        s_group_result *result = &job->results[g];
        sd_ga_rollup_destroy(&result->rollup);
        for (size_t p = 0; result->errors && p < job->groups[g].query->period_count; p++)
            free(result->errors[p]);
        free(result->errors);
        sd_strings_clear(&result->warnings);
    }
    free(job->results);
    sd_ga_groups_free(&job->groups, job->group_count);
    free(job->calls);
    free(job->running);
    zstr_free(&job->job_error);
    sd_msg_destroy(&job->reply);
    sd_msg_destroy(&job->request_msg);
    free(job);
    *job_p = NULL;
}
