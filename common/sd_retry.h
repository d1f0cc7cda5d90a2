/*  sd_retry: sends an HTTP request through sd_http and retries it on
    transient failures, with exponential backoff on zloop timers.

    A response is transient when it is a transport error (refused, reset,
    timed out, truncated) or has status 429, 500 or 503. A transient
    response is retried up to policy.max_tries tries in all. Before try
    n + 1 the request waits base_ms * 2^(n-1) plus a random jitter in
    [0, base_ms), and at least the delay of the response's Retry-After.
    A retry that would start after the request's deadline is not made.
    Any other response ends the request at once. The caller may override
    that choice per response with a check function (for example to stop
    on a 429 that reports a daily quota as spent).

    Nothing blocks: waits are one-shot zloop timers and transfers run on
    the sd_http client. Each request ends with exactly one call of its done
    callback, from the loop, unless it is cancelled first.
*/
#ifndef SD_RETRY_H
#define SD_RETRY_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "sd_http.h"

//  GA4 and YouTube documentation ask clients to retry 429 and 5xx with
//  exponential backoff. These are the defaults of sd_retry_policy_default.
#define SD_RETRY_MAX_TRIES 5
#define SD_RETRY_BASE_MS 1000

//  Environment variable that overrides base_ms in sd_retry_policy_default,
//  so that tests of retries do not wait seconds. Milliseconds, 1 to 60000.
#define SD_RETRY_BASE_ENV "STATSDASH_RETRY_BASE_MS"

typedef struct {
    int max_tries;                  //  tries in all, first included; at least 1
    int64_t base_ms;                //  wait before the second try, before jitter
    int64_t max_delay_ms;           //  cap on one wait (Retry-After included); 0: none
} sd_retry_policy;

//  What the check function decides about a finished try.
typedef enum {
    SD_RETRY_DEFAULT,               //  transient (see above) is retried, the rest ends
    SD_RETRY_STOP,                  //  end the request with this response
    SD_RETRY_AGAIN,                 //  retry, as for a transient response
} sd_retry_verdict;

//  How the request ended, passed to the done callback.
typedef struct {
    int tries;                      //  tries made, at least 1
    bool gave_up;                   //  true when the last response was transient but
                                    //  no try was left or the deadline stopped it
    const char *reason;             //  when gave_up: "after 5 tries" or "the next
                                    //  try would pass the deadline"; else ""
} sd_retry_outcome;

//  Decides about one response. Called on the loop; must not cancel the
//  request or destroy the sd_retry.
typedef sd_retry_verdict(sd_retry_check_fn)(const sd_http_response *response, void *arg);

//  Receives the last response (valid during the call only, as for sd_http)
//  and how the request ended. May send and cancel other requests.
typedef void(sd_retry_done_fn)(const sd_http_response *response, const sd_retry_outcome *outcome,
                               void *arg);

typedef struct {
    int64_t deadline_ms;            //  sd_clock_ms time after which no try starts; 0: none
    const char *log_context;        //  "key=value ..." appended to retry log lines; may be NULL
    sd_retry_check_fn *check;       //  NULL for SD_RETRY_DEFAULT on every response
} sd_retry_options;

typedef struct sd_retry sd_retry;

//  Fills policy with SD_RETRY_MAX_TRIES tries and SD_RETRY_BASE_MS, or the
//  base of SD_RETRY_BASE_ENV when that is a valid number, and a cap of one
//  wait at 5 minutes.
void sd_retry_policy_default(sd_retry_policy *policy);

//  Returns true when a response is transient: a transport error, or status
//  429, 500 or 503.
bool sd_retry_transient(const sd_http_response *response);

//  Returns the wait in milliseconds before try number next_try (2 or more):
//  base_ms * 2^(next_try - 2) plus jitter (a value in [0, base_ms) that the
//  caller draws), raised to retry_after_ms when that is larger (-1: none),
//  capped at max_delay_ms.
int64_t sd_retry_delay_ms(const sd_retry_policy *policy, int next_try, int64_t jitter_ms,
                          int64_t retry_after_ms);

//  Creates a retrying sender on loop over http (which must run on the same
//  loop and outlive it). policy NULL takes sd_retry_policy_default. Returns
//  NULL when out of memory.
sd_retry *sd_retry_new(zloop_t *loop, sd_http *http, const sd_retry_policy *policy);

//  Sends request (copied whole, so it may be freed on return), retrying as
//  described above. options may be NULL. When a deadline is set, each try's
//  timeout is cut to the time left. Returns an id above 0, or -1 when the
//  request cannot be started (invalid URL, out of memory), and then done is
//  never called.
int64_t sd_retry_send(sd_retry *retry, const sd_http_request *request,
                      const sd_retry_options *options, sd_retry_done_fn *done, void *arg);

//  Stops a request, in flight or waiting for its next try; done is not
//  called. Returns 0, or -1 when no request has that id.
int sd_retry_cancel(sd_retry *retry, int64_t id);

//  Returns the number of requests not yet ended (in flight or waiting).
size_t sd_retry_pending(const sd_retry *retry);

//  Cancels every request (no callbacks) and frees the sender; *retry is set
//  to NULL. Call it before destroying the http client. Safe on NULL.
void sd_retry_destroy(sd_retry **retry);

#endif
