/*  sd_ga_exchange: the HTTP requests of a fetch job. An exchange is one
    runReport (one call) or one batchRunReports (2 to 5 calls of one
    property), sent with an access token through sd_retry.  */
#include "sd_ga_job_internal.h"

#include "sd_log.h"
#include "sd_period.h"
#include "sd_utf8_repair.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sd_ga_exchange {
    sd_ga_job *job;
    size_t property;
    size_t calls[SD_GA_BATCH_MAX];  //  indexes into job->calls
    size_t call_count;
    char *url;
    char *body;
    int64_t retry_id;               //  request in flight or waiting, 0 when none
    bool waiting_token;
    bool auth_retried;
    bool quota_exhausted;           //  the last response was a spent token quota
    char *token;                    //  copy of the token sent, for sd_oauth_invalidate
    sd_ga_exchange *next;
};

static void s_acquire_token(sd_ga_exchange *exchange);

static const char *s_property_id(const sd_ga_exchange *exchange)
{
    return exchange->job->site->properties[exchange->property].property;
}

static bool s_is_batch(const sd_ga_exchange *exchange)
{
    return exchange->call_count > 1;
}

static void s_forget_token(sd_ga_exchange *exchange)
{
    if (exchange->token) {
        explicit_bzero(exchange->token, strlen(exchange->token));
        free(exchange->token);
        exchange->token = NULL;
    }
}

static void s_exchange_free(sd_ga_exchange **exchange_p)
{
    sd_ga_exchange *exchange = *exchange_p;
    s_forget_token(exchange);
    zstr_free(&exchange->url);
    zstr_free(&exchange->body);
    free(exchange);
    *exchange_p = NULL;
}

static void s_unlink(sd_ga_exchange *exchange)
{
    for (sd_ga_exchange **link = &exchange->job->exchanges; *link; link = &(*link)->next) {
        if (*link == exchange) {
            *link = exchange->next;
            return;
        }
    }
}

//  Ends the exchange: frees it, then lets the property start more.
static void s_end(sd_ga_exchange *exchange)
{
    sd_ga_job *job = exchange->job;
    size_t property = exchange->property;
    const char *id = s_property_id(exchange);
    s_unlink(exchange);
    s_exchange_free(&exchange);
    sd_inflight_release(job->context.inflight, id);
    sd_ga_job_pump(job, property);
}

//  Fails every call of the exchange that has not ended, naming its query.
static void s_fail_all(sd_ga_exchange *exchange, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void s_fail_all(sd_ga_exchange *exchange, const char *format, ...)
{
    char detail[SD_GA_ERROR_MAX];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    for (size_t i = 0; i < exchange->call_count; i++) {
        sd_ga_call *call = &exchange->job->calls[exchange->calls[i]];
        sd_ga_call_failf(call, "query %s: %s", sd_ga_call_query(call)->id, detail);
    }
}

//  -------------------------------------------------------------------------
//  Responses

//  Takes one report for a call: records its quota, then hands it to the
//  call without propertyQuota, which the cache must not keep.
static void s_take(sd_ga_exchange *exchange, sd_ga_call *call, json_t *report,
                   const char *source)
{
    sd_ga_job *job = exchange->job;
    if (json_is_object(report)) {
        sd_ga_quota_record(job->context.quota, s_property_id(exchange),
                           json_object_get(report, "propertyQuota"), sd_now_ms());
        json_object_del(report, "propertyQuota");
    }
    sd_ga_call_take_report(call, report, source);
}

static void s_take_batch(sd_ga_exchange *exchange, const sd_http_response *response)
{
    char error[SD_GA_ERROR_MAX];
    json_t *reports = sd_ga_batch_parse(response->body, response->body_size,
                                        exchange->call_count, error, sizeof error);
    if (!reports) {
        s_fail_all(exchange, "invalid batchRunReports response (content type \"%.64s\"): %s",
                   response->content_type, error);
        return;
    }
    for (size_t i = 0; i < exchange->call_count; i++) {
        char source[64];
        snprintf(source, sizeof source, "batchRunReports report %zu", i);
        s_take(exchange, &exchange->job->calls[exchange->calls[i]], json_array_get(reports, i),
               source);
    }
    json_decref(reports);
}

static void s_take_single(sd_ga_exchange *exchange, const sd_http_response *response)
{
    json_error_t json_error;
    json_t *report = json_loadb(response->body, response->body_size, JSON_REJECT_DUPLICATES,
                                &json_error);
    if (!json_is_object(report)) {
        s_fail_all(exchange, "invalid runReport response (content type \"%.64s\"): response "
                   "body is not a JSON object (%s at byte %d)",
                   response->content_type, report ? "another JSON type" : json_error.text,
                   report ? 0 : json_error.position);
        json_decref(report);
        return;
    }
    s_take(exchange, &exchange->job->calls[exchange->calls[0]], report, "runReport response");
    json_decref(report);
}

//  Logs one warning naming the property and the queries of the calls.
static void s_warn_repaired(sd_ga_exchange *exchange, int count)
{
    char queries[256] = "";
    for (size_t i = 0; i < exchange->call_count; i++) {
        const sd_query *query = sd_ga_call_query(&exchange->job->calls[exchange->calls[i]]);
        size_t used = strlen(queries);
        snprintf(queries + used, sizeof queries - used, "%s%s", i ? "," : "", query->id);
    }
    sd_warning("%s response has invalid UTF-8 or escapes, replaced %d with U+FFFD "
               "property=%s query=%s job=%s", s_is_batch(exchange) ? "batchRunReports"
               : "runReport", count, s_property_id(exchange), queries,
               exchange->job->request->job_id);
}

//  Takes a 200 response after replacing its invalid UTF-8 with U+FFFD, so
//  that one bad title costs one title and not the whole response.
static void s_take_repaired(sd_ga_exchange *exchange, const sd_http_response *response)
{
    sd_http_response copy = *response;
    char *repaired = NULL;
    int count = sd_utf8_repair_json(response->body, response->body_size, &repaired,
                                    &copy.body_size);
    if (count < 0) {
        s_fail_all(exchange, "out of memory repairing a GA4 response");
        return;
    }
    if (count > 0) {
        s_warn_repaired(exchange, count);
        copy.body = repaired;
    } else {
        copy.body_size = response->body_size;
    }
    if (s_is_batch(exchange))
        s_take_batch(exchange, &copy);
    else
        s_take_single(exchange, &copy);
    free(repaired);
}

//  Stops retries on a 429 that reports a spent daily or hourly token
//  quota, because a retry would only be rejected again until it resets.
static sd_retry_verdict s_check(const sd_http_response *response, void *arg)
{
    sd_ga_exchange *exchange = arg;
    exchange->quota_exhausted =
        !response->error &&
        sd_ga_quota_check_exhausted(exchange->job->context.quota, s_property_id(exchange),
                                    response->status, response->body, response->body_size,
                                    sd_now_ms());
    return exchange->quota_exhausted ? SD_RETRY_STOP : SD_RETRY_DEFAULT;
}

static void s_fail_status(sd_ga_exchange *exchange, const sd_http_response *response,
                          const sd_retry_outcome *outcome)
{
    char text[SD_GA_ERROR_MAX];
    const char *method = s_is_batch(exchange) ? "batchRunReports" : "runReport";
    if (exchange->quota_exhausted) {
        const char *blocked = sd_ga_quota_blocked(exchange->job->context.quota,
                                                  s_property_id(exchange), sd_now_ms());
        s_fail_all(exchange, "%s", blocked ? blocked : "GA4 token quota exhausted");
        return;
    }
    if (response->error) {
        s_fail_all(exchange, "%s request failed: %s%s%s", method, response->error,
                   outcome->gave_up ? "; gave up " : "", outcome->reason);
        return;
    }
    sd_ga_error_text(response->status, response->body, response->body_size,
                     response->content_type, text, sizeof text);
    s_fail_all(exchange, "GA4 %s returned %s%s%s", method, text,
               outcome->gave_up ? "; gave up " : "", outcome->reason);
}

static void s_on_done(const sd_http_response *response, const sd_retry_outcome *outcome,
                      void *arg)
{
    sd_ga_exchange *exchange = arg;
    exchange->retry_id = 0;
    if (!response->error && response->status == 401 && !exchange->auth_retried) {
        sd_warning("GA4 rejected the access token (401), fetching a new one property=%s job=%s",
                   s_property_id(exchange), exchange->job->request->job_id);
        exchange->auth_retried = true;
        sd_oauth_invalidate(exchange->job->context.oauth, exchange->token);
        s_acquire_token(exchange);
        return;
    }
    if (response->error || response->status != 200)
        s_fail_status(exchange, response, outcome);
    else
        s_take_repaired(exchange, response);
    s_end(exchange);
}

//  -------------------------------------------------------------------------
//  Sending

static void s_send(sd_ga_exchange *exchange, const char *token)
{
    sd_ga_job *job = exchange->job;
    char *authorization = zsys_sprintf("Authorization: Bearer %s", token);
    char *context = zsys_sprintf("property=%s job=%s site=%s", s_property_id(exchange),
                                 job->request->job_id, job->request->site);
    s_forget_token(exchange);
    exchange->token = strdup(token);
    const char *headers[] = {authorization, "Content-Type: application/json",
                             "Accept: application/json"};
    sd_http_request request = {
        .method = "POST",
        .url = exchange->url,
        .headers = headers,
        .header_count = 3,
        .body = exchange->body,
        .body_size = strlen(exchange->body),
        .timeout_ms = sd_ga_job_timeout_ms(job),
    };
    sd_retry_options options = {
        .deadline_ms = job->request->deadline_ms,
        .log_context = context,
        .check = s_check,
    };
    if (authorization && context && exchange->token)
        exchange->retry_id = sd_retry_send(job->context.retry, &request, &options, s_on_done,
                                           exchange);
    if (authorization)
        explicit_bzero(authorization, strlen(authorization));
    zstr_free(&authorization);
    zstr_free(&context);
    if (exchange->retry_id <= 0) {
        exchange->retry_id = 0;
        s_fail_all(exchange, "cannot send the request (out of memory)");
        s_end(exchange);
        return;
    }
    job->http_requests++;
}

static void s_on_token(const char *token, const char *error, void *arg)
{
    sd_ga_exchange *exchange = arg;
    exchange->waiting_token = false;
    if (token) {
        s_send(exchange, token);
        return;
    }
    s_fail_all(exchange, "cannot get an access token: %s", error);
    s_end(exchange);
}

//  Sends with the cached token, or waits for one. A token is asked for on
//  every send, so a refresh before expiry is picked up.
static void s_acquire_token(sd_ga_exchange *exchange)
{
    sd_oauth *oauth = exchange->job->context.oauth;
    const char *token = sd_oauth_token(oauth);
    if (token) {
        s_send(exchange, token);
        return;
    }
    exchange->waiting_token = true;
    if (sd_oauth_request(oauth, s_on_token, exchange) != 0) {
        exchange->waiting_token = false;
        s_fail_all(exchange, "cannot request an access token");
        s_end(exchange);
    }
}

//  Builds the URL and the body: the call's RunReportRequest, or
//  {"requests": [...]} of all of them. Returns 0 or -1.
static int s_build(sd_ga_exchange *exchange)
{
    sd_ga_job *job = exchange->job;
    const char *method = s_is_batch(exchange) ? "batchRunReports" : "runReport";
    exchange->url = zsys_sprintf("%s/v1beta/properties/%s:%s", job->context.config->ga.api_base,
                                 s_property_id(exchange), method);
    if (!s_is_batch(exchange)) {
        exchange->body = strdup(job->calls[exchange->calls[0]].body);
        return exchange->url && exchange->body ? 0 : -1;
    }
    size_t size = sizeof "{\"requests\":[]}";
    for (size_t i = 0; i < exchange->call_count; i++)
        size += strlen(job->calls[exchange->calls[i]].body) + 1;
    exchange->body = malloc(size);
    if (!exchange->url || !exchange->body)
        return -1;
    strcpy(exchange->body, "{\"requests\":[");
    for (size_t i = 0; i < exchange->call_count; i++) {
        if (i > 0)
            strcat(exchange->body, ",");
        strcat(exchange->body, job->calls[exchange->calls[i]].body);
    }
    strcat(exchange->body, "]}");
    return 0;
}

void sd_ga_exchange_start(sd_ga_job *job, const size_t *calls, size_t count)
{
    sd_ga_exchange *exchange = calloc(1, sizeof *exchange);
    if (!exchange) {
        for (size_t i = 0; i < count; i++)
            sd_ga_call_failf(&job->calls[calls[i]], "out of memory starting a request");
        sd_inflight_release(job->context.inflight, sd_ga_call_property(&job->calls[calls[0]]));
        return;
    }
    exchange->job = job;
    exchange->property = job->calls[calls[0]].property;
    exchange->call_count = count;
    for (size_t i = 0; i < count; i++) {
        exchange->calls[i] = calls[i];
        job->calls[calls[i]].state = SD_GA_CALL_RUNNING;
    }
    exchange->next = job->exchanges;
    job->exchanges = exchange;
    if (s_build(exchange) != 0) {
        s_fail_all(exchange, "out of memory building the request");
        s_end(exchange);
        return;
    }
    s_acquire_token(exchange);
}

void sd_ga_exchanges_cancel(sd_ga_job *job)
{
    while (job->exchanges) {
        sd_ga_exchange *exchange = job->exchanges;
        job->exchanges = exchange->next;
        if (exchange->retry_id > 0)
            sd_retry_cancel(job->context.retry, exchange->retry_id);
        if (exchange->waiting_token)
            sd_oauth_cancel(job->context.oauth, exchange);
        sd_inflight_release(job->context.inflight, s_property_id(exchange));
        s_exchange_free(&exchange);
    }
}
