/*  sd_yt_availability: views-by-day probes of each channel id for one day.  */
#include "sd_yt_availability.h"

#include "sd_availability.h"
#include "sd_log.h"
#include "sd_period.h"
#include "sd_yt_query.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ERROR_MAX 1024
#define S_TIMEOUT_MS 30000

typedef struct {
    sd_yt_availability *check;
    size_t site;                    //  index into the request's sites
    const sd_config_channel *channel;
    const char *channel_id;         //  borrowed from the config
    bool has_rows;                  //  the probe returned a row for the day
    char *error;                    //  why the probe failed, or NULL
    bool started;
    bool done;
    bool waiting_token;
    bool reauthorized;
    const char *slot_key;           //  the sd_inflight slot held, or NULL
    sd_oauth_user *source;
    int64_t retry_id;               //  0 when none
    char *token;                    //  the access token sent (secret)
} s_probe;

struct sd_yt_availability {
    sd_yt_context context;
    sd_availability_base base;      //  the request, site errors, finish timer, reply
    const sd_availability_request *request;     //  base.request
    s_probe *probes;
    size_t probe_count;
    size_t probes_left;
    sd_yt_availability_done_fn *done;
    void *arg;
};

static void s_probe_request_token(s_probe *probe);

static void s_forget_token(s_probe *probe)
{
    if (probe->token)
        OPENSSL_clear_free(probe->token, strlen(probe->token));
    probe->token = NULL;
}

//  -------------------------------------------------------------------------
//  Reply

//  Appends "; " (unless detail is empty) and then text to detail.
static void s_append(char *detail, size_t size, const char *text)
{
    size_t used = strlen(detail);
    snprintf(detail + used, size - used, "%s%s", used ? "; " : "", text);
}

//  Writes why site s is not complete (sd_availability_detail_fn).
static void s_site_detail(const void *arg, size_t s, char *detail, size_t size)
{
    const sd_yt_availability *check = arg;
    char missing[S_ERROR_MAX] = "";
    if (check->base.site_errors[s])
        s_append(detail, size, check->base.site_errors[s]);
    for (size_t i = 0; i < check->probe_count; i++) {
        const s_probe *probe = &check->probes[i];
        if (probe->site != s || probe->has_rows)
            continue;
        if (probe->error) {
            s_append(detail, size, probe->error);
            continue;
        }
        size_t used = strlen(missing);
        snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "",
                 probe->channel_id);
    }
    if (missing[0]) {
        char text[S_ERROR_MAX + 64];
        snprintf(text, sizeof text, "no rows yet for %s: channel ids %s", check->request->date,
                 missing);
        s_append(detail, size, text);
    }
}

//  Logs the result and hands the reply over (sd_availability_finish_fn).
static void s_finish(void *arg)
{
    sd_yt_availability *check = arg;
    size_t incomplete = 0;
    for (size_t i = 0; i < check->probe_count; i++)
        incomplete += !check->probes[i].has_rows;
    if (!check->base.request_error)
        sd_info("availability checked: %zu of %zu channel ids incomplete date=%s channels=%zu "
                "id=%s", incomplete, check->probe_count, check->request->date,
                check->request->sites.count, check->request->id);
    check->done(check, check->arg);     //  may destroy the check: nothing follows
}

//  -------------------------------------------------------------------------
//  Probes

static void s_probe_end(s_probe *probe, const char *error)
{
    sd_yt_availability *check = probe->check;
    if (probe->done)
        return;
    probe->done = true;
    s_forget_token(probe);
    if (error && !probe->error) {
        probe->error = zsys_sprintf("channel id %s: %s", probe->channel_id, error);
        sd_warning("availability probe failed: %s channel=%s date=%s id=%s", error,
                   probe->channel->name, check->request->date, check->request->id);
    }
    const char *key = probe->slot_key;
    probe->slot_key = NULL;
    if (--check->probes_left == 0)
        sd_availability_schedule_finish(&check->base);
    if (key)
        sd_inflight_release(check->context.inflight, key);
    sd_yt_availability_pump(check);
}

//  Looks for a row whose first value (the day) is the requested date.
//  Returns 0, or -1 with error filled when the body is not a result table.
static int s_read_rows(s_probe *probe, const char *body, size_t size, char *error,
                       size_t error_size)
{
    json_t *root = json_loadb(body, size, 0, NULL);
    json_t *rows = json_object_get(root, "rows");
    size_t index;
    json_t *row;
    int rc = json_is_object(root) && (!rows || json_is_array(rows)) ? 0 : -1;
    if (rc != 0)
        snprintf(error, error_size, "the reports.query response is not a result table");
    json_array_foreach(rows, index, row) {
        const char *day = json_string_value(json_array_get(row, 0));
        if (day && strcmp(day, probe->check->request->date) == 0)
            probe->has_rows = true;
    }
    json_decref(root);
    return rc;
}

static void s_on_response(const sd_http_response *response, const sd_retry_outcome *outcome,
                          void *arg)
{
    s_probe *probe = arg;
    char error[S_ERROR_MAX];
    probe->retry_id = 0;
    if (!response->error && response->status == 401 && !probe->reauthorized) {
        probe->reauthorized = true;
        sd_oauth_user_invalidate(probe->source, probe->token);
        s_forget_token(probe);
        s_probe_request_token(probe);
        return;
    }
    if (!response->error && response->status == 200) {
        int rc = s_read_rows(probe, response->body, response->body_size, error, sizeof error);
        s_probe_end(probe, rc == 0 ? NULL : error);
        return;
    }
    if (response->error)
        snprintf(error, sizeof error, "reports.query failed: %s%s%s", response->error,
                 outcome->gave_up ? "; gave up " : "", outcome->reason);
    else
        snprintf(error, sizeof error, "reports.query returned HTTP %ld%s%s", response->status,
                 outcome->gave_up ? "; gave up " : "", outcome->reason);
    s_probe_end(probe, error);
}

static void s_probe_send(s_probe *probe, const char *token)
{
    sd_yt_availability *check = probe->check;
    const sd_config_youtube *youtube = &check->context.config->youtube;
    char *url = sd_yt_views_url(youtube->analytics_api_base, check->request->date,
                                probe->channel_id, youtube->content_owner);
    char *authorization = zsys_sprintf("Authorization: Bearer %s", token);
    char *context = zsys_sprintf("channel=%s date=%s id=%s", probe->channel->name,
                                 check->request->date, check->request->id);
    probe->token = strdup(token);
    const char *headers[] = {authorization, "Accept: application/json"};
    sd_http_request request = {.method = "GET", .url = url, .headers = headers,
                               .header_count = 2, .timeout_ms = S_TIMEOUT_MS};
    sd_retry_options options = {.deadline_ms = check->request->deadline_ms,
                                .log_context = context};
    if (url && authorization && context && probe->token)
        probe->retry_id = sd_retry_send(check->context.retry, &request, &options, s_on_response,
                                        probe);
    if (authorization)
        OPENSSL_cleanse(authorization, strlen(authorization));
    zstr_free(&authorization);
    zstr_free(&context);
    free(url);
    if (probe->retry_id <= 0) {
        probe->retry_id = 0;
        s_probe_end(probe, "cannot send the reports.query request (out of memory)");
    }
}

static void s_on_token(const char *token, const char *error, void *arg)
{
    s_probe *probe = arg;
    probe->waiting_token = false;
    if (token)
        s_probe_send(probe, token);
    else
        s_probe_end(probe, error);
}

static void s_probe_request_token(s_probe *probe)
{
    probe->waiting_token = true;
    if (sd_oauth_user_request(probe->source, s_on_token, probe) != 0) {
        probe->waiting_token = false;
        s_probe_end(probe, "cannot request an access token (out of memory)");
    }
}

static void s_probe_start(s_probe *probe, const char *slot_key)
{
    sd_yt_availability *check = probe->check;
    char error[S_ERROR_MAX];
    probe->started = true;
    probe->slot_key = slot_key;
    probe->source = check->context.source(check->context.source_arg, probe->channel->name,
                                          probe->channel_id, error, sizeof error);
    if (probe->source)
        s_probe_request_token(probe);
    else
        s_probe_end(probe, error);
}

void sd_yt_availability_pump(sd_yt_availability *check)
{
    for (size_t i = 0; i < check->probe_count; i++) {
        s_probe *probe = &check->probes[i];
        if (!probe->started && sd_inflight_take(check->context.inflight, probe->channel_id))
            s_probe_start(probe, probe->channel_id);
    }
}

//  -------------------------------------------------------------------------
//  Setting up

//  Adds the probes of site s, one per channel id. Returns 0 or -1 when out
//  of memory.
static int s_add_site(sd_yt_availability *check, size_t s)
{
    const char *name = check->request->sites.items[s];
    const sd_config_channel *channel = sd_config_find_channel(check->context.config, name);
    if (!channel) {
        check->base.site_errors[s] = zsys_sprintf("channel %s is not in youtube.channels of "
                                                  "the worker's config", name);
        return check->base.site_errors[s] ? 0 : -1;
    }
    s_probe *probes = realloc(check->probes,
                              (check->probe_count + channel->id_count) * sizeof *probes);
    if (!probes)
        return -1;
    check->probes = probes;
    for (size_t i = 0; i < channel->id_count; i++)
        probes[check->probe_count++] = (s_probe){
            .check = check,
            .site = s,
            .channel = channel,
            .channel_id = channel->ids[i].id,
        };
    return 0;
}

//  Checks the request. Returns 0, or -1 with request_error set.
static int s_check_request(sd_yt_availability *check)
{
    sd_date date;
    check->base.request_error = sd_availability_check_request(check->request, "youtube",
                                                              "YouTube", &date);
    return check->base.request_error ? -1 : 0;
}

sd_yt_availability *sd_yt_availability_new(const sd_yt_context *context, sd_msg **request,
                                           sd_yt_availability_done_fn *done, void *arg)
{
    sd_yt_availability *check = calloc(1, sizeof *check);
    if (!check) {
        sd_msg_destroy(request);
        return NULL;
    }
    check->context = *context;
    check->done = done;
    check->arg = arg;
    int rc = sd_availability_base_init(&check->base, context->loop, request, s_site_detail,
                                       s_finish, check);
    check->request = check->base.request;
    if (rc != 0)
        sd_yt_availability_destroy(&check);
    return check;
}

int sd_yt_availability_start(sd_yt_availability *check)
{
    const sd_strings *sites = &check->request->sites;
    int rc = 0;
    if (s_check_request(check) == 0) {
        for (size_t s = 0; rc == 0 && s < sites->count; s++)
            rc = s_add_site(check, s);
    }
    if (rc != 0) {
        check->base.request_error = strdup("the YouTube worker ran out of memory preparing "
                                           "the check");
        check->probe_count = 0;
    }
    check->probes_left = check->base.request_error ? 0 : check->probe_count;
    sd_info("availability check started: %zu channels, %zu channel ids date=%s id=%s",
            sites->count, check->probes_left, check->request->date, check->request->id);
    if (check->probes_left == 0)
        return sd_availability_schedule_finish(&check->base);
    sd_yt_availability_pump(check);
    return 0;
}

zmsg_t *sd_yt_availability_take_reply(sd_yt_availability *check)
{
    return sd_availability_take_reply(&check->base);
}

void sd_yt_availability_destroy(sd_yt_availability **check_p)
{
    sd_yt_availability *check = *check_p;
    if (!check)
        return;
    for (size_t i = 0; i < check->probe_count; i++) {
        s_probe *probe = &check->probes[i];
        if (probe->retry_id > 0)
            sd_retry_cancel(check->context.retry, probe->retry_id);
        if (probe->waiting_token && probe->source)
            sd_oauth_user_cancel(probe->source, probe);
        if (probe->slot_key)
            sd_inflight_release(check->context.inflight, probe->slot_key);
        s_forget_token(probe);
        zstr_free(&probe->error);
    }
    free(check->probes);
    sd_availability_base_clear(&check->base);
    free(check);
    *check_p = NULL;
}
