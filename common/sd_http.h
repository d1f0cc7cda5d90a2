/*  sd_http: an asynchronous HTTP client on libcurl multi, driven by a zloop.

    libcurl's sockets are registered as zloop pollers and its timeouts as
    zloop timers, so no call blocks the loop: a process keeps serving its
    sockets and heartbeats while requests are in flight. Each request ends
    with exactly one call of its completion callback, from the loop and never
    from inside sd_http_send, unless it is cancelled first.

    The client neither follows redirects nor retries. A caller that retries
    (with backoff on a zloop timer) sends the same sd_http_request again;
    response->retry_after and sd_http_retry_after_ms give the server's wish.
    Only http:// and https:// URLs are accepted.
*/
#ifndef SD_HTTP_H
#define SD_HTTP_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

//  Default bound on a response body (after content decoding): 64 MiB.
#define SD_HTTP_MAX_RESPONSE_DEFAULT (64 * 1024 * 1024)

typedef struct sd_http sd_http;

typedef struct {
    size_t max_response_bytes;      //  0 for SD_HTTP_MAX_RESPONSE_DEFAULT
    const char *user_agent;         //  NULL for "statsdash/VERSION"
} sd_http_options;

typedef struct {
    const char *method;             //  "GET", "POST", ..., or NULL for GET
    const char *url;
    const char *const *headers;     //  "Name: value" lines, header_count of them
    size_t header_count;
    const void *body;               //  copied by sd_http_send; NULL for none
    size_t body_size;
    int64_t timeout_ms;             //  whole transfer with the connection, 0 for 60000
} sd_http_request;

//  What a finished request produced. Everything is owned by the client and
//  valid only during the completion callback.
typedef struct {
    int64_t id;                     //  the id sd_http_send returned
    long status;                    //  HTTP status, 0 whenever error is set
    const char *error;              //  NULL, or a transport error (refused, timed
                                    //  out, response too large, ...)
    const char *body;               //  NUL-terminated, but may contain NUL bytes
    size_t body_size;
    const char *content_type;       //  "" when the response had none
    const char *retry_after;        //  Retry-After value, "" when absent
} sd_http_response;

//  Called once per request that was not cancelled. The callback may send
//  new requests and cancel others, but must not destroy the client.
typedef void(sd_http_done_fn)(const sd_http_response *response, void *arg);

//  Creates a client whose transfers run on loop. options may be NULL for the
//  defaults. Returns NULL when libcurl cannot be set up.
sd_http *sd_http_new(zloop_t *loop, const sd_http_options *options);

//  Starts a request. Every field of request is copied, so it may be freed on
//  return. Returns the request's id (above 0). Returns -1 when the request
//  is invalid (no URL, a scheme other than http or https) or memory runs
//  out, and then done is never called.
int64_t sd_http_send(sd_http *http, const sd_http_request *request, sd_http_done_fn *done,
                     void *arg);

//  Stops a request; its callback is not called. Returns 0, or -1 when no
//  request with that id is in flight.
int sd_http_cancel(sd_http *http, int64_t id);

//  Returns the number of requests in flight.
size_t sd_http_pending(const sd_http *http);

//  Converts a Retry-After value (delay in seconds, or an HTTP date) into a
//  delay in milliseconds from now_ms (wall clock). Returns the delay (0 for
//  a date in the past), or -1 when the value is empty or invalid.
int64_t sd_http_retry_after_ms(const char *value, int64_t now_ms);

//  Cancels every request in flight (no callbacks), removes the client's
//  pollers and timer from the loop and frees it; *http is set to NULL. Call
//  it before the loop is destroyed. Safe on NULL.
void sd_http_destroy(sd_http **http);

#endif
