/*  sd_yt_call: one API call of a YouTube job: cache lookup, access token,
    the retried HTTP request, and what its response adds to the results.  */
#include "sd_yt_job_internal.h"

#include "sd_log.h"
#include "sd_period.h"
#include "sd_utf8_repair.h"
#include "sd_yt_data.h"
#include "sd_yt_query.h"

#include <stdarg.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SD_YT_TIMEOUT_MS 60000

static const char *s_channel_id(const sd_yt_call *call)
{
    return call->job->channel->ids[call->id].id;
}

static const char *s_kind_name(const sd_yt_call *call)
{
    switch (call->kind) {
    case SD_YT_CALL_REPORT: return "reports.query";
    case SD_YT_CALL_CHANGE: return "reports.query (subscriber change)";
    case SD_YT_CALL_CHANNELS: return "channels.list";
    default: return "videos.list";
    }
}

static void s_forget_token(sd_yt_call *call)
{
    if (call->token)
        OPENSSL_clear_free(call->token, strlen(call->token));
    call->token = NULL;
}

static void s_release_slot(sd_yt_call *call)
{
    const char *key = call->slot_key;
    call->slot_key = NULL;
    if (key)
        sd_inflight_release(call->job->context.inflight, key);
}

//  Ends the call (once) and reports the end to the job.
static void s_call_end(sd_yt_call *call)
{
    if (call->state == SD_YT_CALL_DONE)
        return;
    bool was_running = call->state == SD_YT_CALL_RUNNING;
    call->state = SD_YT_CALL_DONE;
    call->retry_id = 0;
    s_forget_token(call);
    sd_yt_job *job = call->job;
    if (was_running)
        job->running--;
    job->calls_left--;
    s_release_slot(call);
    sd_yt_job_call_ended(job);
}

const char *sd_yt_call_slot_key(const sd_yt_call *call)
{
    const sd_config_channel *channel = call->job->channel;
    switch (call->kind) {
    case SD_YT_CALL_REPORT:
    case SD_YT_CALL_CHANGE:
    case SD_YT_CALL_CHANNELS: return channel->ids[call->id].id;
    default: return channel->ids[0].id;
    }
}

//  Returns the URL of the call's next request, a new string, or NULL.
static char *s_request_url(const sd_yt_call *call)
{
    if (call->start_index > 0)
        return sd_yt_page_url(call->url, call->start_index,
                              call->job->context.config->youtube.page_size);
    return strdup(call->url);
}

void sd_yt_call_fail(sd_yt_call *call, const char *error)
{
    sd_yt_job *job = call->job;
    sd_yt_result *result = &job->results[call->query];
    const sd_query *query = &job->request->queries[call->query];
    if (call->state == SD_YT_CALL_DONE)
        return;
    sd_error("%s failed: %s query=%s request=%s job=%s channel=%s", s_kind_name(call), error,
             query->id, job->request->request_id, job->request->job_id, job->request->site);
    bool one_period = call->kind == SD_YT_CALL_REPORT || call->kind == SD_YT_CALL_CHANGE;
    for (size_t p = 0; p < query->period_count; p++) {
        if ((!one_period || p == call->period) && !result->errors[p])
            result->errors[p] = strdup(error);
    }
    s_call_end(call);
}

//  Fails the call with "channel NAME: format...".
static void s_failf(sd_yt_call *call, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void s_failf(sd_yt_call *call, const char *format, ...)
{
    char detail[SD_YT_ERROR_MAX];
    char error[SD_YT_ERROR_MAX + 128];
    va_list args;
    va_start(args, format);
    vsnprintf(detail, sizeof detail, format, args);
    va_end(args);
    snprintf(error, sizeof error, "channel %s: %s", call->job->request->site, detail);
    sd_yt_call_fail(call, error);
}

//  -------------------------------------------------------------------------
//  Responses

//  Writes the text of a failed response ("HTTP 403: The caller does not
//  have permission", or the transport error) into buffer.
static const char *s_api_error(const sd_http_response *response, char *buffer, size_t size)
{
    if (response->error) {
        snprintf(buffer, size, "%s", response->error);
        return buffer;
    }
    return sd_yt_data_error(response->status, response->body, response->body_size, buffer, size);
}

static int s_absorb_report(sd_yt_call *call, const char *body, size_t size, char *error,
                           size_t error_size)
{
    sd_yt_result *result = &call->job->results[call->query];
    if (sd_yt_rollup_add(result->rollups[call->period], body, size, error, error_size) != 0)
        return -1;
    if (call->key[0])
        sd_cache_put(call->job->context.cache, call->key, body, size);
    return 0;
}

//  Stores the change of the call's period and id.
static int s_absorb_change(sd_yt_call *call, const char *body, size_t size, char *error,
                           size_t error_size)
{
    sd_yt_job *job = call->job;
    int64_t change = 0;
    int rc = sd_yt_data_change(body, size, &change, error, error_size);
    job->results[call->query].changes[call->period * job->channel->id_count + call->id] = change;
    return rc;
}

//  Stores the subscriber counts of the call's ids.
static int s_absorb_channels(sd_yt_call *call, const char *body, size_t size, char *error,
                             size_t error_size)
{
    sd_yt_job *job = call->job;
    sd_yt_channel_count *items = NULL;
    size_t count = 0;
    if (sd_yt_data_channels(body, size, &items, &count, error, error_size) != 0)
        return -1;
    for (size_t n = 0; n < count; n++) {
        for (size_t i = call->id; i < call->id + call->id_count; i++)
            if (strcmp(job->channel->ids[i].id, items[n].id) == 0)
                job->results[call->query].counts[i] = items[n].subscribers;
    }
    sd_yt_channel_counts_free(&items, count);
    return 0;
}

//  Stores the titles of the returned videos.
static int s_absorb_videos(sd_yt_call *call, const char *body, size_t size, char *error,
                           size_t error_size)
{
    zhashx_t *titles = call->job->results[call->query].titles;
    sd_yt_video_title *items = NULL;
    size_t count = 0;
    if (sd_yt_data_videos(body, size, &items, &count, error, error_size) != 0)
        return -1;
    int rc = 0;
    for (size_t n = 0; rc == 0 && n < count; n++) {
        char *title = strdup(items[n].title);
        if (title)
            zhashx_update(titles, items[n].id, title);
        else
            rc = -1;
    }
    if (rc != 0)
        snprintf(error, error_size, "out of memory storing the titles");
    sd_yt_video_titles_free(&items, count);
    return rc;
}

static void s_fetch(sd_yt_call *call);

//  Returns true when the page just taken was full, so that the next one
//  may hold more rows; moves start_index to it.
static bool s_next_page(sd_yt_call *call)
{
    int64_t page_size = call->job->context.config->youtube.page_size;
    if (call->kind != SD_YT_CALL_REPORT || call->start_index <= 0)
        return false;
    sd_yt_rollup *rollup = call->job->results[call->query].rollups[call->period];
    if ((int64_t)sd_yt_rollup_added(rollup) < page_size)
        return false;
    call->start_index += page_size;
    call->reauthorized = false;
    return true;
}

static void s_absorb(sd_yt_call *call, const char *body, size_t size, const char *source)
{
    char error[SD_YT_ERROR_MAX];
    int rc;
    switch (call->kind) {
    case SD_YT_CALL_REPORT: rc = s_absorb_report(call, body, size, error, sizeof error); break;
    case SD_YT_CALL_CHANGE: rc = s_absorb_change(call, body, size, error, sizeof error); break;
    case SD_YT_CALL_CHANNELS:
        rc = s_absorb_channels(call, body, size, error, sizeof error);
        break;
    default: rc = s_absorb_videos(call, body, size, error, sizeof error); break;
    }
    if (rc != 0)
        s_failf(call, "invalid %s of %s: %s", source, s_kind_name(call), error);
    else if (s_next_page(call))
        s_fetch(call);
    else
        s_call_end(call);
}

//  Absorbs a response after replacing its invalid UTF-8 with U+FFFD, so
//  that one bad title costs one title and not the whole response.
static void s_absorb_repaired(sd_yt_call *call, const char *body, size_t size)
{
    char *repaired = NULL;
    size_t repaired_size = 0;
    int count = sd_utf8_repair_json(body, size, &repaired, &repaired_size);
    if (count > 0) {
        sd_warning("%s response has invalid UTF-8 or escapes, replaced %d with U+FFFD "
                   "query=%s job=%s channel=%s", s_kind_name(call), count,
                   call->job->request->queries[call->query].id, call->job->request->job_id,
                   call->job->request->site);
        s_absorb(call, repaired, repaired_size, "response");
    } else if (count == 0) {
        s_absorb(call, body, size, "response");
    } else {
        s_failf(call, "out of memory repairing a %s response", s_kind_name(call));
    }
    free(repaired);
}

//  -------------------------------------------------------------------------
//  Sending

static void s_request_token(sd_yt_call *call);

static void s_on_response(const sd_http_response *response, const sd_retry_outcome *outcome,
                          void *arg)
{
    sd_yt_call *call = arg;
    char text[SD_YT_ERROR_MAX];
    call->retry_id = 0;
    if (!response->error && response->status == 401 && !call->reauthorized) {
        sd_warning("%s got HTTP 401, retrying once with a new access token job=%s channel=%s",
                   s_kind_name(call), call->job->request->job_id, call->job->request->site);
        sd_oauth_user_invalidate(call->source, call->token);
        s_forget_token(call);
        call->reauthorized = true;
        s_request_token(call);
        return;
    }
    s_forget_token(call);
    if (!response->error && response->status == 200) {
        s_absorb_repaired(call, response->body, response->body_size);
        return;
    }
    s_api_error(response, text, sizeof text);
    if (outcome->gave_up)
        s_failf(call, "%s: %s (gave up %s)", s_kind_name(call), text, outcome->reason);
    else
        s_failf(call, "%s: %s", s_kind_name(call), text);
}

static void s_send(sd_yt_call *call, const char *token)
{
    sd_yt_job *job = call->job;
    char authorization[2048];
    char context[512];
    char *url = s_request_url(call);
    snprintf(authorization, sizeof authorization, "Authorization: Bearer %s", token);
    snprintf(context, sizeof context, "request=%s job=%s channel=%s", job->request->request_id,
             job->request->job_id, job->request->site);
    const char *headers[] = {authorization, "Accept: application/json"};
    sd_http_request request = {.method = "GET", .url = url, .headers = headers,
                               .header_count = 2, .timeout_ms = SD_YT_TIMEOUT_MS};
    sd_retry_options options = {.deadline_ms = job->request->deadline_ms,
                                .log_context = context};
    call->token = strdup(token);
    call->retry_id = call->token && url ? sd_retry_send(job->context.retry, &request, &options,
                                                        s_on_response, call)
                                        : -1;
    OPENSSL_cleanse(authorization, sizeof authorization);
    free(url);
    if (call->retry_id < 0) {
        call->retry_id = 0;
        s_forget_token(call);
        s_failf(call, "cannot send the %s request to %s", s_kind_name(call), call->url);
        return;
    }
    job->api_calls++;
}

static void s_on_token(const char *token, const char *error, void *arg)
{
    sd_yt_call *call = arg;
    call->waiting_token = false;
    if (!token)
        s_failf(call, "%s", error);
    else
        s_send(call, token);
}

static void s_request_token(sd_yt_call *call)
{
    call->waiting_token = true;
    if (sd_oauth_user_request(call->source, s_on_token, call) != 0) {
        call->waiting_token = false;
        s_failf(call, "cannot request an access token (out of memory)");
    }
}

//  Takes the response from the cache when the call is cacheable and it is
//  there. Returns true when the call's page was taken that way.
static bool s_from_cache(sd_yt_call *call)
{
    sd_yt_job *job = call->job;
    const sd_query *query = &job->request->queries[call->query];
    call->key[0] = '\0';
    if (call->kind != SD_YT_CALL_REPORT || !job->context.cache
        || !sd_cache_usable(job->context.cache)
        || !sd_cache_period_closed(query->periods[call->period].end, sd_now_ms()))
        return false;
    char scope[96];
    char *url = s_request_url(call);
    snprintf(scope, sizeof scope, "youtube:reports:%s", s_channel_id(call));
    if (!url || sd_cache_key(scope, url, strlen(url), call->key) != 0) {
        free(url);
        call->key[0] = '\0';
        return false;
    }
    free(url);
    char *body = NULL;
    size_t size = 0;
    if (sd_cache_get(job->context.cache, call->key, &body, &size) != 1)
        return false;
    job->cache_hits++;
    call->key[0] = '\0';            //  already stored
    s_absorb(call, body, size, "cached response");
    free(body);
    return true;
}

//  Runs the call's next request: from the cache, or with an access token
//  from the API.
static void s_fetch(sd_yt_call *call)
{
    sd_yt_job *job = call->job;
    char error[SD_YT_ERROR_MAX];
    if (s_from_cache(call))
        return;
    if (!call->source) {
        size_t id = call->kind == SD_YT_CALL_REPORT || call->kind == SD_YT_CALL_CHANGE ? call->id
                                                                                     : 0;
        call->source = job->context.source(job->context.source_arg, job->channel->name,
                                           job->channel->ids[id].id, error, sizeof error);
    }
    if (!call->source) {
        s_failf(call, "%s", error);
        return;
    }
    s_request_token(call);
}

void sd_yt_call_start(sd_yt_call *call, const char *slot_key)
{
    sd_yt_job *job = call->job;
    call->state = SD_YT_CALL_RUNNING;
    call->slot_key = slot_key;
    job->running++;
    if (job->request->deadline_ms > 0 && sd_clock_ms() >= job->request->deadline_ms) {
        s_failf(call, "the job's deadline passed before the %s request was sent",
                s_kind_name(call));
        return;
    }
    s_fetch(call);
}

void sd_yt_call_destroy(sd_yt_call **call_p)
{
    sd_yt_call *call = *call_p;
    if (!call)
        return;
    if (call->waiting_token && call->source)
        sd_oauth_user_cancel(call->source, call);
    if (call->retry_id > 0)
        sd_retry_cancel(call->job->context.retry, call->retry_id);
    s_release_slot(call);
    s_forget_token(call);
    free(call->url);
    free(call);
    *call_p = NULL;
}
