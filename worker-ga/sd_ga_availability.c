/*  sd_ga_availability: dateHour probes of each property for one day.  */
#include "sd_ga_availability.h"

#include "sd_availability.h"
#include "sd_ga_response.h"
#include "sd_log.h"
#include "sd_period.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_HOURS 24
#define S_ALL_HOURS ((1u << S_HOURS) - 1)
#define S_ERROR_MAX 1024
//  Probes in flight at once, over all properties of the request.
#define S_PARALLEL 16

typedef struct {
    sd_ga_availability *check;
    size_t site;                    //  index into the request's sites
    const char *property;           //  borrowed from the config
    uint32_t hours;                 //  bit h set when hour h has a row
    char *error;                    //  why the probe failed, or NULL
    bool started;
    bool done;
    bool waiting_token;
    bool auth_retried;
    bool quota_exhausted;
    int64_t retry_id;               //  0 when none
    char *token;                    //  copy of the token sent, for sd_oauth_invalidate
} s_probe;

struct sd_ga_availability {
    sd_ga_context context;
    sd_availability_base base;      //  the request, site errors, finish timer, reply
    const sd_availability_request *request;     //  base.request
    char day[9];                    //  the date as GA4 writes it in dateHour, YYYYMMDD
    s_probe *probes;
    size_t probe_count;
    size_t probes_left;
    size_t running;
    sd_ga_availability_done_fn *done;
    void *arg;
};

static void s_probe_acquire_token(s_probe *probe);
static void s_start_more(sd_ga_availability *check);

static void s_forget_token(s_probe *probe)
{
    if (probe->token) {
        explicit_bzero(probe->token, strlen(probe->token));
        free(probe->token);
        probe->token = NULL;
    }
}

//  -------------------------------------------------------------------------
//  Reply

//  Appends the missing hours of a probe as "03, 14-23" to buffer.
static void s_append_hours(uint32_t hours, char *buffer, size_t size)
{
    bool first = true;
    for (int h = 0; h < S_HOURS; h++) {
        if (hours & (1u << h))
            continue;
        int end = h;
        while (end + 1 < S_HOURS && !(hours & (1u << (end + 1))))
            end++;
        size_t used = strlen(buffer);
        if (end > h)
            snprintf(buffer + used, size - used, "%s%02d-%02d", first ? "" : ", ", h, end);
        else
            snprintf(buffer + used, size - used, "%s%02d", first ? "" : ", ", h);
        first = false;
        h = end;
    }
}

//  Writes why site s is not complete (sd_availability_detail_fn).
static void s_site_detail(const void *arg, size_t s, char *detail, size_t size)
{
    const sd_ga_availability *check = arg;
    if (check->base.site_errors[s])
        snprintf(detail, size, "%s", check->base.site_errors[s]);
    for (size_t i = 0; i < check->probe_count; i++) {
        const s_probe *probe = &check->probes[i];
        if (probe->site != s || (!probe->error && probe->hours == S_ALL_HOURS))
            continue;
        size_t used = strlen(detail);
        snprintf(detail + used, size - used, "%sproperty %s: ", used ? "; " : "",
                 probe->property);
        used = strlen(detail);
        if (probe->error)
            snprintf(detail + used, size - used, "%s", probe->error);
        else {
            snprintf(detail + used, size - used, "no data yet for hours ");
            s_append_hours(probe->hours, detail, size);
        }
    }
}

static void s_log_result(const sd_ga_availability *check)
{
    size_t failed = 0;
    for (size_t i = 0; i < check->probe_count; i++)
        failed += check->probes[i].error != NULL || check->probes[i].hours != S_ALL_HOURS;
    sd_info("availability checked: %zu of %zu properties incomplete date=%s sites=%zu id=%s",
            failed, check->probe_count, check->request->date, check->request->sites.count,
            check->request->id);
}

//  Logs the result and hands the reply over (sd_availability_finish_fn).
static void s_finish(void *arg)
{
    sd_ga_availability *check = arg;
    if (!check->base.request_error)
        s_log_result(check);
    check->done(check, check->arg);     //  may destroy the check: nothing follows
}

//  -------------------------------------------------------------------------
//  Probes

static void s_probe_end(s_probe *probe, const char *error)
{
    sd_ga_availability *check = probe->check;
    if (probe->done)
        return;
    probe->done = true;
    s_forget_token(probe);
    if (error && !probe->error) {
        probe->error = strdup(error);
        sd_warning("availability probe failed: %s property=%s date=%s id=%s", error,
                   probe->property, check->request->date, check->request->id);
    }
    check->running--;
    if (--check->probes_left == 0)
        sd_availability_schedule_finish(&check->base);
    else
        s_start_more(check);
}

//  Marks the hours of the day that the page has rows for. Returns 0, or -1
//  with error filled when a row is not an hour of the day.
static int s_read_hours(s_probe *probe, const sd_ga_page *page, char *error, size_t size)
{
    for (size_t r = 0; r < page->rows; r++) {
        const char *value = page->dimension_values[r * page->dimension_count];
        int hour = -1;
        if (strlen(value) == 10 && strncmp(value, probe->check->day, 8) == 0 &&
            value[8] >= '0' && value[8] <= '2' && value[9] >= '0' && value[9] <= '9')
            hour = (value[8] - '0') * 10 + (value[9] - '0');
        if (hour < 0 || hour >= S_HOURS) {
            snprintf(error, size, "row %zu: dateHour \"%.32s\" is not an hour of %s", r, value,
                     probe->check->day);
            return -1;
        }
        probe->hours |= 1u << hour;
    }
    return 0;
}

static void s_probe_take(s_probe *probe, const sd_http_response *response)
{
    char error[S_ERROR_MAX + 128];
    char detail[S_ERROR_MAX];
    sd_strings dimensions = {.items = (char *[]){"dateHour"}, .count = 1};
    sd_strings metrics = {.items = (char *[]){"screenPageViews"}, .count = 1};
    sd_period period = {.label = "day", .start = probe->check->request->date,
                        .end = probe->check->request->date};
    sd_ga_expect expect = {&dimensions, &metrics, &period, 1};
    sd_ga_page page;
    if (sd_ga_page_parse(response->body, response->body_size, &expect, &page, detail,
                         sizeof detail) != 0 ||
        s_read_hours(probe, &page, detail, sizeof detail) != 0) {
        snprintf(error, sizeof error, "invalid runReport response (content type \"%.64s\"): %s",
                 response->content_type, detail);
        sd_ga_page_clear(&page);
        s_probe_end(probe, error);
        return;
    }
    sd_ga_page_clear(&page);
    json_t *root = json_loadb(response->body, response->body_size, 0, NULL);
    sd_ga_quota_record(probe->check->context.quota, probe->property,
                       json_object_get(root, "propertyQuota"), sd_now_ms());
    json_decref(root);
    s_probe_end(probe, NULL);
}

static sd_retry_verdict s_check(const sd_http_response *response, void *arg)
{
    s_probe *probe = arg;
    probe->quota_exhausted =
        !response->error &&
        sd_ga_quota_check_exhausted(probe->check->context.quota, probe->property,
                                    response->status, response->body, response->body_size,
                                    sd_now_ms());
    return probe->quota_exhausted ? SD_RETRY_STOP : SD_RETRY_DEFAULT;
}

static void s_on_done(const sd_http_response *response, const sd_retry_outcome *outcome,
                      void *arg)
{
    s_probe *probe = arg;
    char error[S_ERROR_MAX + 128];
    char text[S_ERROR_MAX];
    probe->retry_id = 0;
    if (!response->error && response->status == 401 && !probe->auth_retried) {
        probe->auth_retried = true;
        sd_oauth_invalidate(probe->check->context.oauth, probe->token);
        s_probe_acquire_token(probe);
        return;
    }
    if (response->error || response->status != 200) {
        if (response->error)
            snprintf(text, sizeof text, "runReport request failed: %s", response->error);
        else
            sd_ga_error_text(response->status, response->body, response->body_size,
                             response->content_type, text, sizeof text);
        snprintf(error, sizeof error, "%s%s%s", text, outcome->gave_up ? "; gave up " : "",
                 outcome->reason);
        s_probe_end(probe, error);
        return;
    }
    s_probe_take(probe, response);
}

static char *s_probe_body(const s_probe *probe)
{
    const char *date = probe->check->request->date;
    json_t *body = json_pack("{s:[{s:s, s:s}], s:[{s:s}], s:[{s:s}], s:b, s:i, s:b}",
                             "dateRanges", "startDate", date, "endDate", date, "dimensions",
                             "name", "dateHour", "metrics", "name", "screenPageViews",
                             "keepEmptyRows", 1, "limit", 100, "returnPropertyQuota", 1);
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(body);
    return text;
}

static void s_probe_send(s_probe *probe, const char *token)
{
    sd_ga_availability *check = probe->check;
    const sd_config_ga *ga = &check->context.config->ga;
    char *body = s_probe_body(probe);
    char *url = zsys_sprintf("%s/v1beta/properties/%s:runReport", ga->api_base, probe->property);
    char *authorization = zsys_sprintf("Authorization: Bearer %s", token);
    char *context = zsys_sprintf("property=%s date=%s id=%s", probe->property,
                                 check->request->date, check->request->id);
    s_forget_token(probe);
    probe->token = strdup(token);
    const char *headers[] = {authorization, "Content-Type: application/json",
                             "Accept: application/json"};
    sd_http_request request = {"POST", url, headers, 3, body, body ? strlen(body) : 0, 30000};
    sd_retry_options options = {check->request->deadline_ms, context, s_check};
    if (body && url && authorization && context && probe->token)
        probe->retry_id = sd_retry_send(check->context.retry, &request, &options, s_on_done,
                                        probe);
    if (authorization)
        explicit_bzero(authorization, strlen(authorization));
    zstr_free(&authorization);
    zstr_free(&context);
    zstr_free(&url);
    free(body);
    if (probe->retry_id <= 0) {
        probe->retry_id = 0;
        s_probe_end(probe, "cannot send the runReport request (out of memory)");
    }
}

static void s_on_token(const char *token, const char *error, void *arg)
{
    s_probe *probe = arg;
    char text[S_ERROR_MAX + 64];
    probe->waiting_token = false;
    if (token) {
        s_probe_send(probe, token);
        return;
    }
    snprintf(text, sizeof text, "cannot get an access token: %s", error);
    s_probe_end(probe, text);
}

static void s_probe_acquire_token(s_probe *probe)
{
    sd_oauth *oauth = probe->check->context.oauth;
    const char *token = sd_oauth_token(oauth);
    if (token) {
        s_probe_send(probe, token);
        return;
    }
    probe->waiting_token = true;
    if (sd_oauth_request(oauth, s_on_token, probe) != 0) {
        probe->waiting_token = false;
        s_probe_end(probe, "cannot request an access token");
    }
}

static void s_probe_start(s_probe *probe)
{
    sd_ga_availability *check = probe->check;
    probe->started = true;
    check->running++;
    const char *blocked = sd_ga_quota_blocked(check->context.quota, probe->property, sd_now_ms());
    if (blocked)
        s_probe_end(probe, blocked);
    else
        s_probe_acquire_token(probe);
}

static void s_start_more(sd_ga_availability *check)
{
    for (size_t i = 0; i < check->probe_count && check->running < S_PARALLEL; i++) {
        if (!check->probes[i].started)
            s_probe_start(&check->probes[i]);
    }
}

//  -------------------------------------------------------------------------
//  Setting up

//  Adds the probes of site s. Returns 0 or -1 when out of memory.
static int s_add_site(sd_ga_availability *check, size_t s, bool multi)
{
    const char *name = check->request->sites.items[s];
    const sd_config_site *site = sd_config_find_site(check->context.config, name);
    if (!site) {
        check->base.site_errors[s] = zsys_sprintf("site %s is not in ga.sites of the worker's "
                                                  "config", name);
        return check->base.site_errors[s] ? 0 : -1;
    }
    for (size_t p = 0; p < site->property_count; p++) {
        if (multi && !site->properties[p].wait_for_data)
            continue;
        s_probe *probes = realloc(check->probes, (check->probe_count + 1) * sizeof *probes);
        if (!probes)
            return -1;
        check->probes = probes;
        probes[check->probe_count++] = (s_probe){
            .check = check,
            .site = s,
            .property = site->properties[p].property,
        };
    }
    return 0;
}

//  Checks the request. Returns 0, or -1 with request_error set.
static int s_check_request(sd_ga_availability *check)
{
    sd_date date;
    check->base.request_error = sd_availability_check_request(check->request, "ga", "GA",
                                                              &date);
    if (!check->base.request_error)
        snprintf(check->day, sizeof check->day, "%04d%02d%02d", date.year, date.month,
                 date.day);
    return check->base.request_error ? -1 : 0;
}

sd_ga_availability *sd_ga_availability_new(const sd_ga_context *context, sd_msg **request,
                                           sd_ga_availability_done_fn *done, void *arg)
{
    sd_ga_availability *check = calloc(1, sizeof *check);
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
        sd_ga_availability_destroy(&check);
    return check;
}

int sd_ga_availability_start(sd_ga_availability *check)
{
    const sd_strings *sites = &check->request->sites;
    bool multi = sites->count > 1;
    int rc = 0;
    if (s_check_request(check) == 0) {
        for (size_t s = 0; rc == 0 && s < sites->count; s++)
            rc = s_add_site(check, s, multi);
    }
    if (rc != 0) {
        check->base.request_error = strdup("the GA worker ran out of memory preparing the "
                                           "check");
        check->probe_count = 0;
    }
    check->probes_left = check->base.request_error ? 0 : check->probe_count;
    sd_info("availability check started: %zu sites, %zu properties date=%s id=%s", sites->count,
            check->probes_left, check->request->date, check->request->id);
    if (check->probes_left == 0)
        return sd_availability_schedule_finish(&check->base);
    s_start_more(check);
    return 0;
}

zmsg_t *sd_ga_availability_take_reply(sd_ga_availability *check)
{
    return sd_availability_take_reply(&check->base);
}

void sd_ga_availability_destroy(sd_ga_availability **check_p)
{
    sd_ga_availability *check = *check_p;
    if (!check)
        return;
    for (size_t i = 0; i < check->probe_count; i++) {
        s_probe *probe = &check->probes[i];
        if (probe->retry_id > 0)
            sd_retry_cancel(check->context.retry, probe->retry_id);
        if (probe->waiting_token)
            sd_oauth_cancel(check->context.oauth, probe);
        s_forget_token(probe);
        free(probe->error);
    }
    free(check->probes);
    sd_availability_base_clear(&check->base);
    free(check);
    *check_p = NULL;
}
