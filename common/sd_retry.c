/*  sd_retry: retries of sd_http requests with backoff on zloop timers.  */
#include "sd_retry.h"

#include "sd_log.h"
#include "sd_period.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SD_RETRY_MAX_DELAY_MS (5 * 60 * 1000)
#define SD_RETRY_BASE_ENV_MAX 60000
//  A try needs at least this much time before the deadline to be worth
//  starting.
#define SD_RETRY_MIN_TRY_MS 500

typedef struct s_pending s_pending;

//  One request: its copy, its callbacks and its progress.
struct s_pending {
    sd_retry *retry;
    int64_t id;
    char *method;
    char *url;
    char **headers;
    size_t header_count;
    char *body;
    size_t body_size;
    int64_t timeout_ms;
    int64_t deadline_ms;
    char *log_context;
    sd_retry_check_fn *check;
    sd_retry_done_fn *done;
    void *arg;
    int tries;
    int64_t http_id;                //  transfer in flight, 0 when none
    int timer_id;                   //  wait before the next try, -1 when none
    s_pending *next;
};

struct sd_retry {
    zloop_t *loop;
    sd_http *http;
    sd_retry_policy policy;
    uint64_t jitter_state;          //  splitmix64 state for the jitter
    int64_t next_id;
    size_t pending;
    s_pending *requests;            //  singly-linked list of requests not ended
};

static void s_send_try(s_pending *request);

//  -------------------------------------------------------------------------
//  Policy

void sd_retry_policy_default(sd_retry_policy *policy)
{
    policy->max_tries = SD_RETRY_MAX_TRIES;
    policy->base_ms = SD_RETRY_BASE_MS;
    policy->max_delay_ms = SD_RETRY_MAX_DELAY_MS;
    const char *text = getenv(SD_RETRY_BASE_ENV);
    if (!text || !*text)
        return;
    char *end = NULL;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (errno == 0 && *end == '\0' && value >= 1 && value <= SD_RETRY_BASE_ENV_MAX)
        policy->base_ms = value;
    else
        sd_warning("ignoring %s=\"%s\": expected milliseconds from 1 to %d", SD_RETRY_BASE_ENV,
                   text, SD_RETRY_BASE_ENV_MAX);
}

bool sd_retry_transient(const sd_http_response *response)
{
    if (response->error)
        return true;
    return response->status == 429 || response->status == 500 || response->status == 503;
}

int64_t sd_retry_delay_ms(const sd_retry_policy *policy, int next_try, int64_t jitter_ms,
                          int64_t retry_after_ms)
{
    int shift = next_try >= 2 ? next_try - 2 : 0;
    if (shift > 20)
        shift = 20;
    int64_t delay = policy->base_ms * ((int64_t)1 << shift) + jitter_ms;
    if (retry_after_ms > delay)
        delay = retry_after_ms;
    if (policy->max_delay_ms > 0 && delay > policy->max_delay_ms)
        delay = policy->max_delay_ms;
    return delay;
}

//  -------------------------------------------------------------------------
//  Requests

static uint64_t s_next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void s_pending_free(s_pending **request_p)
{
    s_pending *request = *request_p;
    if (!request)
        return;
    //  Headers and bodies carry access tokens: wipe them before freeing.
    for (size_t i = 0; request->headers && i < request->header_count; i++) {
        if (request->headers[i])
            explicit_bzero(request->headers[i], strlen(request->headers[i]));
        free(request->headers[i]);
    }
    free(request->headers);
    if (request->body)
        explicit_bzero(request->body, request->body_size);
    free(request->body);
    free(request->method);
    free(request->url);
    free(request->log_context);
    free(request);
    *request_p = NULL;
}

static void s_unlink(sd_retry *retry, s_pending *request)
{
    for (s_pending **link = &retry->requests; *link; link = &(*link)->next) {
        if (*link == request) {
            *link = request->next;
            retry->pending--;
            return;
        }
    }
}

//  Copies the parts of the request. Returns 0 or -1 when out of memory.
static int s_copy_request(s_pending *copy, const sd_http_request *request)
{
    copy->method = strdup(request->method ? request->method : "GET");
    copy->url = strdup(request->url);
    copy->headers = calloc(request->header_count + 1, sizeof *copy->headers);
    if (!copy->method || !copy->url || !copy->headers)
        return -1;
    copy->header_count = request->header_count;
    for (size_t i = 0; i < request->header_count; i++) {
        if (!(copy->headers[i] = strdup(request->headers[i])))
            return -1;
    }
    if (request->body) {
        copy->body = malloc(request->body_size + 1);
        if (!copy->body)
            return -1;
        memcpy(copy->body, request->body, request->body_size);
        copy->body[request->body_size] = '\0';
        copy->body_size = request->body_size;
    }
    copy->timeout_ms = request->timeout_ms;
    return 0;
}

static const char *s_context(const s_pending *request)
{
    return request->log_context ? request->log_context : "";
}

//  Ends the request: unlinks it, then calls done. The request is freed
//  before done runs, so done may cancel others or send new ones.
static void s_end(s_pending *request, const sd_http_response *response,
                  const sd_retry_outcome *outcome)
{
    sd_retry_done_fn *done = request->done;
    void *arg = request->arg;
    s_unlink(request->retry, request);
    s_pending_free(&request);
    done(response, outcome, arg);
}

static int s_on_wait_over(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    s_pending *request = arg;
    request->timer_id = -1;         //  one-shot: zloop drops the timer after this call
    s_send_try(request);
    return 0;
}

//  Describes a transient response for the log: "HTTP 503" or the error.
static const char *s_describe(const sd_http_response *response, char *buffer, size_t size)
{
    if (response->error)
        snprintf(buffer, size, "%s", response->error);
    else
        snprintf(buffer, size, "HTTP %ld", response->status);
    return buffer;
}

//  Starts the wait before the next try. Returns 0, or -1 when the deadline
//  or the loop prevents it (reason filled).
static int s_schedule_retry(s_pending *request, const sd_http_response *response,
                            const char **reason)
{
    sd_retry *retry = request->retry;
    int64_t now_ms = sd_clock_ms();
    int64_t jitter = (int64_t)(s_next_random(&retry->jitter_state) % (uint64_t)retry->policy.base_ms);
    int64_t retry_after = sd_http_retry_after_ms(response->retry_after, now_ms);
    int64_t delay = sd_retry_delay_ms(&retry->policy, request->tries + 1, jitter, retry_after);
    if (request->deadline_ms > 0 && now_ms + delay + SD_RETRY_MIN_TRY_MS > request->deadline_ms) {
        *reason = "the next try would pass the deadline";
        return -1;
    }
    request->timer_id = zloop_timer(retry->loop, (size_t)delay, 1, s_on_wait_over, request);
    if (request->timer_id < 0) {
        *reason = "the event loop refused a timer";
        return -1;
    }
    char what[256];
    sd_warning("request failed (%s), try %d of %d in %" PRId64 " ms url=%s %s",
               s_describe(response, what, sizeof what), request->tries + 1,
               retry->policy.max_tries, delay, request->url, s_context(request));
    return 0;
}

static void s_on_response(const sd_http_response *response, void *arg)
{
    s_pending *request = arg;
    request->http_id = 0;
    sd_retry_verdict verdict = request->check ? request->check(response, request->arg)
                                              : SD_RETRY_DEFAULT;
    bool again = verdict == SD_RETRY_AGAIN ||
                 (verdict == SD_RETRY_DEFAULT && sd_retry_transient(response));
    sd_retry_outcome outcome = {.tries = request->tries, .gave_up = false, .reason = ""};
    if (!again) {
        s_end(request, response, &outcome);
        return;
    }
    char reason[64] = "";
    const char *why = NULL;
    if (request->tries >= request->retry->policy.max_tries) {
        snprintf(reason, sizeof reason, "after %d tries", request->tries);
        why = reason;
    }
    else if (s_schedule_retry(request, response, &why) == 0)
        return;
    outcome.gave_up = true;
    outcome.reason = why;
    sd_warning("request failed, giving up %s url=%s %s", why, request->url, s_context(request));
    s_end(request, response, &outcome);
}

//  Returns the timeout of the next try: the request's, cut to the time
//  left before the deadline.
static int64_t s_try_timeout(const s_pending *request)
{
    int64_t timeout = request->timeout_ms > 0 ? request->timeout_ms : 60000;
    if (request->deadline_ms > 0) {
        int64_t left = request->deadline_ms - sd_clock_ms();
        if (left < timeout)
            timeout = left > SD_RETRY_MIN_TRY_MS ? left : SD_RETRY_MIN_TRY_MS;
    }
    return timeout;
}

//  Sends the next try. A try that cannot be sent ends the request with a
//  transport error.
static void s_send_try(s_pending *request)
{
    sd_http_request try = {
        .method = request->method,
        .url = request->url,
        .headers = (const char *const *)request->headers,
        .header_count = request->header_count,
        .body = request->body,
        .body_size = request->body_size,
        .timeout_ms = s_try_timeout(request),
    };
    request->tries++;
    int64_t id = sd_http_send(request->retry->http, &try, s_on_response, request);
    if (id > 0) {
        request->http_id = id;
        return;
    }
    sd_http_response response = {.id = 0, .error = "cannot start the HTTP request (out of memory)",
                                 .body = "", .content_type = "", .retry_after = ""};
    sd_retry_outcome outcome = {.tries = request->tries, .gave_up = false, .reason = ""};
    s_end(request, &response, &outcome);
}

//  -------------------------------------------------------------------------
//  Public interface

sd_retry *sd_retry_new(zloop_t *loop, sd_http *http, const sd_retry_policy *policy)
{
    sd_retry *retry = calloc(1, sizeof *retry);
    if (!retry)
        return NULL;
    retry->loop = loop;
    retry->http = http;
    if (policy)
        retry->policy = *policy;
    else
        sd_retry_policy_default(&retry->policy);
    if (retry->policy.max_tries < 1)
        retry->policy.max_tries = 1;
    if (retry->policy.base_ms < 1)
        retry->policy.base_ms = 1;
    retry->jitter_state = (uint64_t)sd_clock_ms() ^ ((uint64_t)getpid() << 32);
    return retry;
}

int64_t sd_retry_send(sd_retry *retry, const sd_http_request *request,
                      const sd_retry_options *options, sd_retry_done_fn *done, void *arg)
{
    assert(retry);
    assert(request);
    assert(done);
    if (!request->url)
        return -1;
    s_pending *copy = calloc(1, sizeof *copy);
    if (!copy)
        return -1;
    copy->retry = retry;
    copy->done = done;
    copy->arg = arg;
    copy->timer_id = -1;
    if (options) {
        copy->deadline_ms = options->deadline_ms;
        copy->check = options->check;
        copy->log_context = options->log_context ? strdup(options->log_context) : NULL;
    }
    if (s_copy_request(copy, request) != 0 || (options && options->log_context && !copy->log_context)) {
        s_pending_free(&copy);
        return -1;
    }
    sd_http_request first = *request;
    first.timeout_ms = s_try_timeout(copy);
    copy->tries = 1;
    copy->http_id = sd_http_send(retry->http, &first, s_on_response, copy);
    if (copy->http_id <= 0) {
        s_pending_free(&copy);
        return -1;
    }
    copy->id = ++retry->next_id;
    copy->next = retry->requests;
    retry->requests = copy;
    retry->pending++;
    return copy->id;
}

//  Stops the transfer or the timer of a request and frees it.
static void s_stop(sd_retry *retry, s_pending *request)
{
    if (request->http_id > 0)
        sd_http_cancel(retry->http, request->http_id);
    if (request->timer_id >= 0)
        zloop_timer_end(retry->loop, request->timer_id);
    s_unlink(retry, request);
    s_pending_free(&request);
}

int sd_retry_cancel(sd_retry *retry, int64_t id)
{
    for (s_pending *request = retry->requests; request; request = request->next) {
        if (request->id == id) {
            s_stop(retry, request);
            return 0;
        }
    }
    return -1;
}

size_t sd_retry_pending(const sd_retry *retry)
{
    return retry->pending;
}

void sd_retry_destroy(sd_retry **retry_p)
{
    sd_retry *retry = *retry_p;
    if (!retry)
        return;
    while (retry->requests)
        s_stop(retry, retry->requests);
    free(retry);
    *retry_p = NULL;
}
