/*  sim_http: libmicrohttpd server with routing, latency, faults and counts.  */
#include "sim_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sd_log.h"

#define SIM_ROUTES_MAX 32
#define SIM_BODY_MAX (8 * 1024 * 1024)
#define SIM_JSON_TYPE "application/json; charset=UTF-8"

typedef struct {
    const char *method;
    const char *prefix;
    sim_route_kind kind;
    sim_http_handler handler;
    void *context;
} s_route;

struct sim_server {
    struct MHD_Daemon *daemon;
    struct sockaddr_storage address;    //  where to listen
    bool ipv6;
    unsigned port;                      //  bound port, after start
    int latency_ms;
    sim_faults *faults;
    sim_stats *stats;
    s_route routes[SIM_ROUTES_MAX];
    size_t route_count;
};

//  One request's upload, kept between libmicrohttpd's calls.
typedef struct {
    char *body;
    size_t size;
    bool too_large;
} s_upload;

//  The body of a response that a fault cuts short: libmicrohttpd announces
//  the full length but the reader stops at half and ends with an error.
typedef struct {
    char *body;
    size_t sent_limit;
} s_truncated;

static int s_parse_listen(sim_server *self, const char *listen, char *error, size_t error_size)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    size_t host_length = colon ? (size_t)(colon - listen) : 0;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || host_length == 0 || host_length >= sizeof host || end == colon + 1 || *end
        || port < 0 || port > 65535) {
        snprintf(error, error_size, "invalid --listen \"%s\": expected HOST:PORT, e.g. 127.0.0.1:8080",
                 listen);
        return -1;
    }
    memcpy(host, listen, host_length);
    host[host_length] = '\0';

    struct sockaddr_in *v4 = (struct sockaddr_in *)&self->address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&self->address;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (host_length > 2 && host[0] == '[' && host[host_length - 1] == ']') {
        host[host_length - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)port);
            self->ipv6 = true;
            return 0;
        }
    }
    snprintf(error, error_size, "invalid --listen host in \"%s\": expected an IP address such as "
             "127.0.0.1 or [::1]", listen);
    return -1;
}

sim_server *sim_server_new(const char *listen, int latency_ms, sim_faults *faults,
                           sim_stats *stats, char *error, size_t error_size)
{
    sim_server *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    self->latency_ms = latency_ms;
    self->faults = faults;
    self->stats = stats;
    if (s_parse_listen(self, listen, error, error_size) != 0)
        sim_server_destroy(&self);
    return self;
}

void sim_server_destroy(sim_server **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->daemon)
        MHD_stop_daemon((*self_p)->daemon);
    free(*self_p);
    *self_p = NULL;
}

int sim_server_route(sim_server *self, const char *method, const char *prefix,
                     sim_route_kind kind, sim_http_handler handler, void *context)
{
    if (self->route_count == SIM_ROUTES_MAX)
        return -1;
    self->routes[self->route_count++] = (s_route){method, prefix, kind, handler, context};
    return 0;
}

unsigned sim_server_port(const sim_server *self)
{
    return self->port;
}

const char *sim_http_header(const sim_http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, name);
}

const char *sim_http_query(const sim_http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

void sim_http_respond_json(sim_http_response *response, int status, json_t *body)
{
    free(response->body);
    response->body = body ? json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(body);
    response->status = status;
    response->content_type = SIM_JSON_TYPE;
    if (!response->body) {
        response->status = 500;
        response->body = strdup("{\"error\": {\"code\": 500, \"message\": \"Internal error "
                                "encountered.\", \"status\": \"INTERNAL\"}}");
    }
}

static const char *s_google_status(int code)
{
    switch (code) {
    case 400: return "INVALID_ARGUMENT";
    case 401: return "UNAUTHENTICATED";
    case 403: return "PERMISSION_DENIED";
    case 404: return "NOT_FOUND";
    case 409: return "ABORTED";
    case 413: return "INVALID_ARGUMENT";
    case 429: return "RESOURCE_EXHAUSTED";
    case 499: return "CANCELLED";
    case 500: return "INTERNAL";
    case 501: return "UNIMPLEMENTED";
    case 503: return "UNAVAILABLE";
    case 504: return "DEADLINE_EXCEEDED";
    default: return code >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
    }
}

void sim_http_respond_google_error(sim_http_response *response, int code, const char *message)
{
    json_t *body = json_pack("{s:{s:i, s:s, s:s}}", "error", "code", code, "message", message,
                             "status", s_google_status(code));
    sim_http_respond_json(response, code, body);
}

//  The message Google's front end sends with an error of this status.
static const char *s_fault_message(int code)
{
    switch (code) {
    case 429: return "Resource has been exhausted (e.g. check quota).";
    case 500: return "Internal error encountered.";
    case 503: return "The service is currently unavailable.";
    case 504: return "The request timed out. Please try again.";
    default: return "The simulator injected this error (--fail).";
    }
}

static const s_route *s_find_route(const sim_server *self, const char *method, const char *path)
{
    for (size_t i = 0; i < self->route_count; i++) {
        const s_route *route = &self->routes[i];
        if (strcmp(route->method, method) == 0
            && strncmp(path, route->prefix, strlen(route->prefix)) == 0)
            return route;
    }
    return NULL;
}

//  Serves the paths the server owns: /healthz, /stats, and 404 otherwise.
static void s_serve_builtin(sim_server *self, const sim_http_request *request,
                            sim_http_response *response)
{
    bool get = strcmp(request->method, "GET") == 0;
    if (get && strcmp(request->path, "/healthz") == 0) {
        sim_http_respond_json(response, 200, json_pack("{s:s}", "status", "ok"));
    } else if (get && strcmp(request->path, "/stats") == 0) {
        sim_http_respond_json(response, 200, sim_stats_snapshot(self->stats));
    } else {
        char message[512];
        snprintf(message, sizeof message, "The requested URL %.400s was not found on this server.",
                 request->path);
        sim_http_respond_google_error(response, 404, message);
    }
}

static void s_sleep_ms(int milliseconds)
{
    struct timespec delay = {milliseconds / 1000, (long)(milliseconds % 1000) * 1000000L};
    while (nanosleep(&delay, &delay) != 0)
        ;
}

//  Replaces the response with a 200 whose body is an HTML page.
static void s_respond_html(sim_http_response *response)
{
    free(response->body);
    response->body = strdup("<!DOCTYPE html><html><head><title>Gateway</title></head>"
                            "<body><p>The service is being updated.</p></body></html>");
    response->status = response->body ? 200 : 500;
    response->content_type = "text/html; charset=UTF-8";
}

//  Runs the route's handler, then applies latency and any injected fault.
//  Returns the fault drawn (SIM_FAULT_NONE when none).
static int s_serve_route(sim_server *self, const s_route *route, const sim_http_request *request,
                         sim_http_response *response)
{
    //  The handler runs first because it names the property or channel
    //  that burst faults count by.
    //  NOTE: so a request that a fault replaces has still been charged to
    //  the API's quota, which the real APIs do not do.
    route->handler(route->context, request, response);
    int fault = SIM_FAULT_NONE;
    if (route->kind == SIM_ROUTE_DATA_API)
        fault = sim_faults_draw(self->faults, response->key);
    if (fault > 0) {
        sim_http_respond_google_error(response, fault, s_fault_message(fault));
        response->retry_after = fault == 429 ? 1 : 0;
    }
    if (fault == SIM_FAULT_HTML)
        s_respond_html(response);
    //  The latency is the time a request stays in flight at the server, so
    //  requests that overlap in the client overlap here.
    const char *endpoint = response->endpoint ? response->endpoint : "other";
    if (route->kind != SIM_ROUTE_PLAIN && self->latency_ms > 0) {
        sim_stats_enter(self->stats, endpoint, response->key);
        s_sleep_ms(self->latency_ms);
        sim_stats_leave(self->stats, endpoint, response->key);
    }

    char fault_name[16] = "";
    if (fault != SIM_FAULT_NONE)
        snprintf(fault_name, sizeof fault_name, "%d", fault);
    if (fault == SIM_FAULT_TRUNCATED)
        snprintf(fault_name, sizeof fault_name, "truncated");
    if (fault == SIM_FAULT_HTML)
        snprintf(fault_name, sizeof fault_name, "html");
    sim_stats_count(self->stats, endpoint, response->group, response->key, response->status,
                    fault != SIM_FAULT_NONE ? fault_name : NULL);
    return fault;
}

static ssize_t s_read_truncated(void *cls, uint64_t position, char *buffer, size_t max)
{
    s_truncated *truncated = cls;
    if (position >= truncated->sent_limit)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t count = truncated->sent_limit - (size_t)position;
    if (count > max)
        count = max;
    memcpy(buffer, truncated->body + position, count);
    return (ssize_t)count;
}

static void s_free_truncated(void *cls)
{
    s_truncated *truncated = cls;
    free(truncated->body);
    free(truncated);
}

//  Builds the libmicrohttpd response, taking the body. Returns NULL when
//  out of memory.
static struct MHD_Response *s_build_response(sim_http_response *response, bool truncate)
{
    size_t size = strlen(response->body);
    if (!truncate) {
        struct MHD_Response *built =
            MHD_create_response_from_buffer(size, response->body, MHD_RESPMEM_MUST_FREE);
        if (built)
            response->body = NULL;
        return built;
    }
    s_truncated *truncated = malloc(sizeof *truncated);
    if (!truncated)
        return NULL;
    truncated->body = response->body;
    truncated->sent_limit = size / 2;
    struct MHD_Response *built = MHD_create_response_from_callback(
        size, 4096, s_read_truncated, truncated, s_free_truncated);
    if (built)
        response->body = NULL;
    else
        free(truncated);
    return built;
}

static enum MHD_Result s_queue(struct MHD_Connection *connection, sim_http_response *response,
                               bool truncate)
{
    struct MHD_Response *built = s_build_response(response, truncate);
    free(response->body);
    if (!built) {
        free(response->location);
        return MHD_NO;
    }
    if (response->location)
        MHD_add_response_header(built, MHD_HTTP_HEADER_LOCATION, response->location);
    free(response->location);
    MHD_add_response_header(built, MHD_HTTP_HEADER_CONTENT_TYPE,
                            response->content_type ? response->content_type : SIM_JSON_TYPE);
    if (response->retry_after > 0) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", response->retry_after);
        MHD_add_response_header(built, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
    }
    enum MHD_Result result = MHD_queue_response(connection, (unsigned)response->status, built);
    MHD_destroy_response(built);
    return result;
}

static enum MHD_Result s_serve(sim_server *self, struct MHD_Connection *connection,
                               const char *url, const char *method, s_upload *upload)
{
    sim_http_request request = {method, url, upload->body ? upload->body : "", upload->size,
                                connection, self->port};
    sim_http_response response = {.status = 500};
    const s_route *route = s_find_route(self, method, url);
    int fault = SIM_FAULT_NONE;

    if (upload->too_large) {
        char message[128];
        snprintf(message, sizeof message, "The request body is larger than %d bytes.",
                 SIM_BODY_MAX);
        sim_http_respond_google_error(&response, 413, message);
        sd_warning("request body too large method=%s path=%s", method, url);
    } else if (route) {
        fault = s_serve_route(self, route, &request, &response);
    } else {
        s_serve_builtin(self, &request, &response);
    }
    if (!response.body)
        sim_http_respond_google_error(&response, 500, "Internal error encountered.");
    sd_debug("request served method=%s path=%s status=%d fault=%d", method, url, response.status,
             fault);
    return s_queue(connection, &response, fault == SIM_FAULT_TRUNCATED);
}

//  Appends a chunk of the request body, up to SIM_BODY_MAX.
static void s_append_upload(s_upload *upload, const char *data, size_t size)
{
    if (upload->too_large || upload->size + size > SIM_BODY_MAX) {
        upload->too_large = true;
        return;
    }
    char *body = realloc(upload->body, upload->size + size + 1);
    if (!body) {
        upload->too_large = true;
        return;
    }
    memcpy(body + upload->size, data, size);
    upload->size += size;
    body[upload->size] = '\0';
    upload->body = body;
}

//  libmicrohttpd calls this once when headers arrive, once per body chunk,
//  and once more when the body is complete; only the last call responds.
static enum MHD_Result s_access(void *cls, struct MHD_Connection *connection, const char *url,
                                const char *method, const char *version,
                                const char *upload_data, size_t *upload_data_size,
                                void **con_cls)
{
    (void)version;
    if (!*con_cls) {
        *con_cls = calloc(1, sizeof(s_upload));
        return *con_cls ? MHD_YES : MHD_NO;
    }
    s_upload *upload = *con_cls;
    if (*upload_data_size > 0) {
        s_append_upload(upload, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return s_serve(cls, connection, url, method, upload);
}

static void s_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                        enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)connection;
    (void)code;
    s_upload *upload = *con_cls;
    if (upload) {
        free(upload->body);
        free(upload);
        *con_cls = NULL;
    }
}

int sim_server_start(sim_server *self, char *error, size_t error_size)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION
                   | MHD_USE_AUTO | MHD_USE_ERROR_LOG | (self->ipv6 ? MHD_USE_IPv6 : 0);
    self->daemon = MHD_start_daemon(flags, 0, NULL, NULL, s_access, self,
                                    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&self->address,
                                    MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
                                    MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (!self->daemon) {
        snprintf(error, error_size, "cannot listen: libmicrohttpd failed to start (is the port "
                 "in use?)");
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon,
                                                           MHD_DAEMON_INFO_BIND_PORT);
    self->port = info ? info->port : 0;
    return 0;
}
