/*  ga_test_server: a small HTTP server on 127.0.0.1 (libmicrohttpd, one
    thread per connection) whose responses a test chooses per request.  */
#ifndef GA_TEST_SERVER_H
#define GA_TEST_SERVER_H

#include <stddef.h>

typedef struct {
    int status;                     //  default 200
    char *body;                     //  malloc'd by the route, freed by the server; NULL for ""
    size_t repeat;                  //  send the body this many times (0 counts as 1)
    const char *content_type;       //  default "application/json"
    const char *retry_after;        //  NULL for none
    int delay_ms;                   //  wait before responding
} ga_test_reply;

//  Chooses the reply to one request. Runs on a server thread.
typedef void(ga_test_route_fn)(const char *method, const char *url, const char *authorization,
                               const char *body, size_t body_size, ga_test_reply *reply,
                               void *arg);

typedef struct ga_test_server ga_test_server;

//  Starts the server on a free port. Returns NULL on failure.
ga_test_server *ga_test_server_start(ga_test_route_fn *route, void *arg);

//  Returns the base URL, "http://127.0.0.1:PORT".
const char *ga_test_server_url(const ga_test_server *server);

//  Returns the number of requests served so far.
size_t ga_test_server_requests(ga_test_server *server);

void ga_test_server_stop(ga_test_server **server);

#endif
