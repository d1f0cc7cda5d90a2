/*  sim_http: the simulator's HTTP server (libmicrohttpd), routing and the
    behaviour shared by every API: latency, injected faults, request counts.

    API modules (OAuth, GA4, later YouTube) register handlers for a method
    and a path prefix before the server starts. Each request runs on its own
    thread, so a handler may block (latency injection does) without
    stalling other clients; handlers must therefore be thread-safe.

    Routes marked as API get the configured latency; those marked as data
    APIs also get injected faults. The server itself serves GET /healthz
    (200) and GET /stats (the sim_stats counters as JSON).
*/
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sim_faults.h"
#include "sim_stats.h"

typedef struct {
    const char *method;
    const char *path;           //  URL path without the query string
    const char *body;           //  NUL-terminated; "" when there is none
    size_t body_size;
    void *connection;           //  libmicrohttpd connection, for the lookups below
    unsigned port;              //  the port the server listens on
} sim_http_request;

typedef struct {
    int status;
    char *body;                 //  heap string the response owns
    const char *content_type;   //  default "application/json; charset=UTF-8"
    int retry_after;            //  seconds for a Retry-After header; 0 sends none
    const char *endpoint;       //  name counted in /stats, e.g. "runReport"
    const char *group;          //  "properties" or "channels"; NULL when none
    char key[64];               //  the property or channel id the request named
    char *location;             //  heap string sent as a Location header; NULL for none
} sim_http_response;

typedef void (*sim_http_handler)(void *context, const sim_http_request *request,
                                 sim_http_response *response);

typedef enum {
    SIM_ROUTE_PLAIN,            //  no latency, no faults
    SIM_ROUTE_API,              //  latency only (the token endpoint)
    SIM_ROUTE_DATA_API,         //  latency and injected faults
} sim_route_kind;

typedef struct sim_server sim_server;

//  Creates a server for "HOST:PORT" (IPv4, or [IPv6]); port 0 picks a free
//  port when the server starts. faults and stats stay owned by the caller
//  and must outlive the server. Returns NULL with a message in error.
sim_server *sim_server_new(const char *listen, int latency_ms, sim_faults *faults,
                           sim_stats *stats, char *error, size_t error_size);

//  Stops the server if it runs, waits for its threads and frees it.
void sim_server_destroy(sim_server **self_p);

//  Registers handler for requests whose method matches and whose path
//  starts with prefix; routes are tried in registration order. Returns 0,
//  or -1 when the route table is full.
int sim_server_route(sim_server *self, const char *method, const char *prefix,
                     sim_route_kind kind, sim_http_handler handler, void *context);

//  Binds and starts serving. Returns 0, or -1 with a message in error.
int sim_server_start(sim_server *self, char *error, size_t error_size);

//  Returns the bound port; valid after sim_server_start.
unsigned sim_server_port(const sim_server *self);

//  Returns a request header (case-insensitive name) or NULL.
const char *sim_http_header(const sim_http_request *request, const char *name);

//  Returns a decoded query string argument or NULL.
const char *sim_http_query(const sim_http_request *request, const char *name);

//  Sets the response to status and body serialized as JSON. Takes the
//  reference to body, also on failure (then the response is a 500).
void sim_http_respond_json(sim_http_response *response, int status, json_t *body);

//  Sets a Google API error: {"error": {"code", "message", "status"}} with
//  the status name Google uses for the code (INVALID_ARGUMENT for 400, ...).
void sim_http_respond_google_error(sim_http_response *response, int code, const char *message);

#endif
