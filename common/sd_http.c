/*  sd_http: libcurl multi on a zloop (socket and timer callbacks).  */
#include "sd_http.h"

#include "sd_log.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SD_HTTP_TIMEOUT_DEFAULT_MS 60000
#define SD_HTTP_HEADER_VALUE_MAX 256

typedef struct s_transfer s_transfer;

struct s_transfer {
    sd_http *http;
    int64_t id;
    CURL *easy;
    struct curl_slist *headers;
    sd_http_done_fn *done;
    void *arg;
    char *data;                     //  response body, NUL-terminated
    size_t size;
    size_t capacity;
    bool too_large;
    char content_type[SD_HTTP_HEADER_VALUE_MAX];
    char retry_after[SD_HTTP_HEADER_VALUE_MAX];
    char curl_error[CURL_ERROR_SIZE];
    s_transfer *prev;
    s_transfer *next;
};

//  A socket that libcurl watches through the loop. libcurl passes its
//  address back as socketp.
typedef struct {
    curl_socket_t fd;
    bool registered;
} s_watch;

struct sd_http {
    zloop_t *loop;
    CURLM *multi;
    int timer_id;                   //  -1 when no timer is set
    size_t max_response_bytes;
    char *user_agent;
    int64_t next_id;
    size_t pending;
    s_transfer *transfers;          //  doubly-linked list of requests in flight
};

static void s_transfer_destroy(s_transfer **transfer_p)
{
    s_transfer *transfer = *transfer_p;
    if (!transfer)
        return;
    if (transfer->easy)
        curl_easy_cleanup(transfer->easy);
    curl_slist_free_all(transfer->headers);
    free(transfer->data);
    free(transfer);
    *transfer_p = NULL;
}

static void s_link(sd_http *http, s_transfer *transfer)
{
    transfer->next = http->transfers;
    if (http->transfers)
        http->transfers->prev = transfer;
    http->transfers = transfer;
    http->pending++;
}

static void s_unlink(sd_http *http, s_transfer *transfer)
{
    if (transfer->prev)
        transfer->prev->next = transfer->next;
    else
        http->transfers = transfer->next;
    if (transfer->next)
        transfer->next->prev = transfer->prev;
    transfer->prev = transfer->next = NULL;
    http->pending--;
}

//  Removes the transfer from the multi handle and the list, then frees it.
static void s_transfer_finish(sd_http *http, s_transfer **transfer_p)
{
    s_transfer *transfer = *transfer_p;
    curl_multi_remove_handle(http->multi, transfer->easy);
    s_unlink(http, transfer);
    s_transfer_destroy(transfer_p);
}

//  -------------------------------------------------------------------------
//  Response callbacks (called by libcurl while it reads)

static size_t s_on_body(char *data, size_t size, size_t count, void *userp)
{
    s_transfer *transfer = userp;
    size_t bytes = size * count;
    size_t limit = transfer->http->max_response_bytes;
    if (bytes > limit - transfer->size) {
        transfer->too_large = true;
        return 0;                   //  a short count makes libcurl stop
    }
    if (transfer->size + bytes + 1 > transfer->capacity) {
        size_t capacity = transfer->capacity ? transfer->capacity : 16384;
        while (capacity < transfer->size + bytes + 1)
            capacity *= 2;
        char *grown = realloc(transfer->data, capacity);
        if (!grown)
            return 0;
        transfer->data = grown;
        transfer->capacity = capacity;
    }
    memcpy(transfer->data + transfer->size, data, bytes);
    transfer->size += bytes;
    transfer->data[transfer->size] = '\0';
    return bytes;
}

//  Copies the value of "Name: value" into buffer when the line has that name.
static void s_header_value(const char *line, size_t length, const char *name, char *buffer)
{
    size_t name_length = strlen(name);
    if (length <= name_length || line[name_length] != ':' ||
        strncasecmp(line, name, name_length) != 0)
        return;
    const char *value = line + name_length + 1;
    const char *end = line + length;
    while (value < end && (*value == ' ' || *value == '\t'))
        value++;
    while (end > value && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t value_length = (size_t)(end - value);
    if (value_length >= SD_HTTP_HEADER_VALUE_MAX)
        value_length = SD_HTTP_HEADER_VALUE_MAX - 1;
    memcpy(buffer, value, value_length);
    buffer[value_length] = '\0';
}

static size_t s_on_header(char *line, size_t size, size_t count, void *userp)
{
    s_transfer *transfer = userp;
    size_t length = size * count;

    //  A status line starts a new response (after "100 Continue", for
    //  example), so only the last response's headers are kept.
    if (length >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        transfer->content_type[0] = '\0';
        transfer->retry_after[0] = '\0';
        return length;
    }
    s_header_value(line, length, "Content-Type", transfer->content_type);
    s_header_value(line, length, "Retry-After", transfer->retry_after);
    return length;
}

//  -------------------------------------------------------------------------
//  Completion

static const char *s_transport_error(s_transfer *transfer, CURLcode code, char *buffer,
                                     size_t size)
{
    if (transfer->too_large || code == CURLE_FILESIZE_EXCEEDED) {
        snprintf(buffer, size, "response larger than %zu bytes", transfer->http->max_response_bytes);
        return buffer;
    }
    if (code == CURLE_OK)
        return NULL;
    snprintf(buffer, size, "%s", transfer->curl_error[0] ? transfer->curl_error
                                                          : curl_easy_strerror(code));
    return buffer;
}

static void s_complete(sd_http *http, s_transfer *transfer, CURLcode code)
{
    char error[CURL_ERROR_SIZE + 64];
    sd_http_response response = {
        .id = transfer->id,
        .body = transfer->data ? transfer->data : "",
        .body_size = transfer->size,
        .content_type = transfer->content_type,
        .retry_after = transfer->retry_after,
    };
    response.error = s_transport_error(transfer, code, error, sizeof error);
    curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &response.status);
    if (response.error)
        response.status = 0;

    //  The transfer leaves the list before the callback runs, so the
    //  callback may cancel any other request or start new ones.
    curl_multi_remove_handle(http->multi, transfer->easy);
    s_unlink(http, transfer);
    transfer->done(&response, transfer->arg);
    s_transfer_destroy(&transfer);
}

static void s_check_done(sd_http *http)
{
    CURLMsg *message;
    int queued;
    while ((message = curl_multi_info_read(http->multi, &queued))) {
        if (message->msg != CURLMSG_DONE)
            continue;
        s_transfer *transfer = NULL;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&transfer);
        s_complete(http, transfer, message->data.result);
    }
}

//  -------------------------------------------------------------------------
//  Loop integration

static int s_on_socket_ready(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void)loop;
    sd_http *http = arg;
    int flags = 0;
    if (item->revents & ZMQ_POLLIN)
        flags |= CURL_CSELECT_IN;
    if (item->revents & ZMQ_POLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (item->revents & ZMQ_POLLERR)
        flags |= CURL_CSELECT_ERR;
    int running = 0;
    curl_multi_socket_action(http->multi, item->fd, flags, &running);
    s_check_done(http);
    return 0;
}

static int s_on_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    sd_http *http = arg;
    http->timer_id = -1;            //  one-shot: zloop drops it after this call
    int running = 0;
    curl_multi_socket_action(http->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_check_done(http);
    return 0;
}

static void s_watch_end(sd_http *http, s_watch *watch)
{
    if (!watch->registered)
        return;
    zmq_pollitem_t item = {.socket = NULL, .fd = watch->fd};
    zloop_poller_end(http->loop, &item);
    watch->registered = false;
}

static int s_watch_start(sd_http *http, s_watch *watch, int what)
{
    zmq_pollitem_t item = {.socket = NULL, .fd = watch->fd};
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        item.events |= ZMQ_POLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        item.events |= ZMQ_POLLOUT;
    if (zloop_poller(http->loop, &item, s_on_socket_ready, http) != 0)
        return -1;
    //  libcurl handles hang-ups and errors. A poller that is not tolerant
    //  would be dropped by zloop silently instead.
    zloop_poller_set_tolerant(http->loop, &item);
    watch->registered = true;
    return 0;
}

static int s_on_socket_change(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    sd_http *http = userp;
    s_watch *watch = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (watch) {
            s_watch_end(http, watch);
            curl_multi_assign(http->multi, fd, NULL);
            free(watch);
        }
        return 0;
    }
    if (!watch) {
        watch = calloc(1, sizeof *watch);
        if (!watch)
            return -1;
        watch->fd = fd;
        curl_multi_assign(http->multi, fd, watch);
    }
    //  zloop cannot change a poller's events, so it is replaced.
    s_watch_end(http, watch);
    if (s_watch_start(http, watch, what) != 0) {
        sd_error("http: cannot watch socket %d on the loop", (int)fd);
        return -1;
    }
    return 0;
}

static int s_on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    sd_http *http = userp;
    if (http->timer_id >= 0) {
        zloop_timer_end(http->loop, http->timer_id);
        http->timer_id = -1;
    }
    if (timeout_ms < 0)
        return 0;
    http->timer_id = zloop_timer(http->loop, (size_t)timeout_ms, 1, s_on_timer, http);
    return http->timer_id >= 0 ? 0 : -1;
}

//  -------------------------------------------------------------------------
//  Public interface

sd_http *sd_http_new(zloop_t *loop, const sd_http_options *options)
{
    static bool curl_ready = false;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl_ready = true;
    }
    sd_http *http = calloc(1, sizeof *http);
    if (!http)
        return NULL;
    http->loop = loop;
    http->timer_id = -1;
    http->max_response_bytes = SD_HTTP_MAX_RESPONSE_DEFAULT;
    if (options && options->max_response_bytes > 0)
        http->max_response_bytes = options->max_response_bytes;
    const char *agent = options && options->user_agent ? options->user_agent
                                                       : "statsdash/" STATSDASH_VERSION;
    http->user_agent = strdup(agent);
    http->multi = curl_multi_init();
    if (!http->user_agent || !http->multi) {
        sd_http_destroy(&http);
        return NULL;
    }
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETFUNCTION, s_on_socket_change);
    curl_multi_setopt(http->multi, CURLMOPT_SOCKETDATA, http);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERFUNCTION, s_on_timer_change);
    curl_multi_setopt(http->multi, CURLMOPT_TIMERDATA, http);
    return http;
}

static int s_set_headers(s_transfer *transfer, const sd_http_request *request)
{
    for (size_t i = 0; i < request->header_count; i++) {
        struct curl_slist *list = curl_slist_append(transfer->headers, request->headers[i]);
        if (!list)
            return -1;
        transfer->headers = list;
    }
    //  No "Expect: 100-continue" round trip before a large body.
    struct curl_slist *list = curl_slist_append(transfer->headers, "Expect:");
    if (!list)
        return -1;
    transfer->headers = list;
    return curl_easy_setopt(transfer->easy, CURLOPT_HTTPHEADER, transfer->headers) == CURLE_OK
               ? 0
               : -1;
}

static int s_set_method(CURL *easy, const sd_http_request *request)
{
    const char *method = request->method ? request->method : "GET";
    CURLcode code = CURLE_OK;
    if (request->body) {
        code = curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_size);
        if (code == CURLE_OK)
            code = curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, request->body);
    }
    if (code == CURLE_OK && strcmp(method, "GET") == 0 && !request->body)
        code = curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    else if (code == CURLE_OK && strcmp(method, "POST") != 0)
        code = curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    return code == CURLE_OK ? 0 : -1;
}

static int s_set_options(sd_http *http, s_transfer *transfer, const sd_http_request *request)
{
    CURL *easy = transfer->easy;
    int64_t timeout_ms = request->timeout_ms > 0 ? request->timeout_ms : SD_HTTP_TIMEOUT_DEFAULT_MS;
    CURLcode code = curl_easy_setopt(easy, CURLOPT_URL, request->url);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)transfer);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->curl_error);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_USERAGENT, http->user_agent);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                                (curl_off_t)http->max_response_bytes);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, s_on_body);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, s_on_header);
    if (code == CURLE_OK)
        code = curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer);
    if (code != CURLE_OK)
        return -1;
    if (s_set_method(easy, request) != 0)
        return -1;
    return s_set_headers(transfer, request);
}

static bool s_scheme_allowed(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

int64_t sd_http_send(sd_http *http, const sd_http_request *request, sd_http_done_fn *done,
                     void *arg)
{
    assert(http);
    assert(request);
    assert(done);
    if (!request->url || !s_scheme_allowed(request->url))
        return -1;
    s_transfer *transfer = calloc(1, sizeof *transfer);
    if (!transfer)
        return -1;
    transfer->http = http;
    transfer->done = done;
    transfer->arg = arg;
    transfer->easy = curl_easy_init();
    if (!transfer->easy || s_set_options(http, transfer, request) != 0 ||
        curl_multi_add_handle(http->multi, transfer->easy) != CURLM_OK) {
        s_transfer_destroy(&transfer);
        return -1;
    }
    transfer->id = ++http->next_id;
    s_link(http, transfer);
    return transfer->id;
}

int sd_http_cancel(sd_http *http, int64_t id)
{
    for (s_transfer *transfer = http->transfers; transfer; transfer = transfer->next) {
        if (transfer->id == id) {
            s_transfer_finish(http, &transfer);
            return 0;
        }
    }
    return -1;
}

size_t sd_http_pending(const sd_http *http)
{
    return http->pending;
}

int64_t sd_http_retry_after_ms(const char *value, int64_t now_ms)
{
    if (!value || !*value)
        return -1;
    char *end = NULL;
    errno = 0;
    long long seconds = strtoll(value, &end, 10);
    if (value[0] >= '0' && value[0] <= '9' && *end == '\0' && errno == 0)
        return seconds > INT64_MAX / 1000 ? INT64_MAX : (int64_t)seconds * 1000;
    time_t when = curl_getdate(value, NULL);
    if (when < 0)
        return -1;
    int64_t delay = (int64_t)when * 1000 - now_ms;
    return delay > 0 ? delay : 0;
}

void sd_http_destroy(sd_http **http_p)
{
    sd_http *http = *http_p;
    if (!http)
        return;
    while (http->transfers) {
        s_transfer *transfer = http->transfers;
        s_transfer_finish(http, &transfer);
    }
    if (http->multi)
        curl_multi_cleanup(http->multi);
    if (http->timer_id >= 0)
        zloop_timer_end(http->loop, http->timer_id);
    free(http->user_agent);
    free(http);
    *http_p = NULL;
}
